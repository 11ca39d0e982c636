"""Configuration models (the single source of truth; JSON Schemas in schemas/ are generated)."""
