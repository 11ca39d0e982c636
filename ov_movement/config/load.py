"""Reading pipeline files (first version; the config issue extends it).

`load_pipeline(path)` -> `LoadedPipeline` is the entry point every command uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ov_movement.config.pipeline import PipelineConfig
from ov_movement.errors import ConfigError, ConfigIssue


@dataclass(frozen=True)
class LoadedPipeline:
    config: PipelineConfig
    path: Path  # absolute path of the file
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return self.config.name or self.path.stem

    @property
    def config_dir(self) -> Path:
        return self.path.parent


def read_document(path: Path) -> dict[str, Any]:
    import yaml  # YAML's flow syntax also reads JSON, trailing commas included

    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"syntax error: {error}", source=str(path)) from error
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", source=str(path))
    return data


def load_pipeline(path: str | Path) -> LoadedPipeline:
    path = Path(path).expanduser().resolve()
    raw = read_document(path)
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as error:
        issues = [ConfigIssue(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
        raise ConfigError(issues, source=str(path)) from error
    return LoadedPipeline(config=config, path=path, raw=raw)


__all__ = ["LoadedPipeline", "load_pipeline", "read_document"]
