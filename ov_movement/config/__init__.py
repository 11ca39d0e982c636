"""Configuration models (the single source of truth; JSON Schemas in schemas/ are generated).

Cheap to import: pydantic only (YAML and JSON5 readers load when a file needs them); never torch,
nncf, openvino or transformers.
"""

from ov_movement.config.compression import (
    NNCF_ALGORITHMS,
    CompressionSection,
    MovementSparsityConfig,
    MovementSparsityParams,
    OtherAlgorithmSection,
    SparseStructureEntry,
)
from ov_movement.config.issues import format_loc, issues_from_validation_error
from ov_movement.config.load import LoadedPipeline, load_pipeline, read_document, validate_pipeline
from ov_movement.config.pipeline import (
    NNCF_IGNORED_KEYS,
    BenchmarkConfig,
    ConvertConfig,
    DataConfig,
    ExportConfig,
    InputInfo,
    ModelConfig,
    PackageConfig,
    PipelineConfig,
    ReportConfig,
    TrainingConfig,
)
from ov_movement.config.scopes import matches, matches_any
from ov_movement.config.summary import render_summary, warnings

__all__ = [
    "NNCF_ALGORITHMS",
    "NNCF_IGNORED_KEYS",
    "BenchmarkConfig",
    "CompressionSection",
    "ConvertConfig",
    "DataConfig",
    "ExportConfig",
    "InputInfo",
    "LoadedPipeline",
    "ModelConfig",
    "MovementSparsityConfig",
    "MovementSparsityParams",
    "OtherAlgorithmSection",
    "PipelineConfig",
    "PackageConfig",
    "ReportConfig",
    "SparseStructureEntry",
    "TrainingConfig",
    "format_loc",
    "issues_from_validation_error",
    "load_pipeline",
    "matches",
    "matches_any",
    "read_document",
    "render_summary",
    "validate_pipeline",
    "warnings",
]
