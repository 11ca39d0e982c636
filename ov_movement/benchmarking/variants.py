"""Every deployable model variant the pipeline can produce: one table, read by the benchmark, the
report and the quantization stage.

A variant is a file written by a stage. The benchmark times every variant whose file exists, so a
stage that is off (quantize.enabled: false) or a mode that is not used (QAT outside JPQD configs)
simply leaves its variants out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variant:
    name: str
    stage: str  # the stage whose output directory holds the file
    file: str
    label: str  # how reports name it (the ONNX file runs on OpenVINO's ONNX frontend in benchmark_app)
    # Written whenever its stage runs; a missing file is then that stage's bug, not an absent option.
    always: bool = False

    @property
    def is_ir(self) -> bool:
        """An OpenVINO IR (its accuracy is evaluated with OpenVINO); else ONNX, timed only."""
        return self.file.endswith(".xml")

    def path(self, stage_dirs: Mapping[str, Path]) -> Path | None:
        directory = stage_dirs.get(self.stage)
        return directory / self.file if directory is not None else None


DENSE = "dense"
PRUNED = "pruned"
DENSE_INT8 = "dense_int8"
PRUNED_INT8 = "pruned_int8"
PRUNED_QAT = "pruned_qat"
ONNX = "onnx"

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(DENSE, "convert", "dense.xml", "dense FP32", always=True),
        Variant(PRUNED, "convert", "pruned.xml", "pruned FP32", always=True),
        Variant(DENSE_INT8, "quantize", "dense_int8.xml", "dense INT8 (PTQ)"),
        Variant(PRUNED_INT8, "quantize", "pruned_int8.xml", "pruned INT8 (PTQ)"),
        Variant(PRUNED_QAT, "convert", "pruned_qat.xml", "pruned INT8 (QAT)"),
        Variant(ONNX, "export", "model.onnx", "sparse ONNX (OpenVINO)", always=True),
    )
}

# What post-training quantization turns into what: source variant -> quantized variant.
QUANTIZED_FROM: dict[str, str] = {DENSE: DENSE_INT8, PRUNED: PRUNED_INT8}

# Speedups are relative to this one (the model a user has before any optimisation).
REFERENCE = DENSE
# The convert stage's statistics of the IRs it writes (sizes, FLOPs, the MatMul table, the
# verification): named here, next to the IR files, so readers need not import that stage (numpy).
IR_STATS_FILE = "stats.json"


def label(name: str) -> str:
    """The report's name of a variant; unknown names (older benchmark.json files) stay as they are."""
    variant = VARIANTS.get(name)
    return variant.label if variant else name


def existing(stage_dirs: Mapping[str, Path], names: list[str] | None = None) -> dict[str, Path]:
    """The variants among `names` (default: all, in table order) whose file exists, name -> path."""
    found = {}
    for name in names or list(VARIANTS):
        path = VARIANTS[name].path(stage_dirs)
        if path is not None and path.is_file():
            found[name] = path
    return found


__all__ = [
    "DENSE",
    "DENSE_INT8",
    "ONNX",
    "PRUNED",
    "PRUNED_INT8",
    "PRUNED_QAT",
    "QUANTIZED_FROM",
    "REFERENCE",
    "VARIANTS",
    "Variant",
    "existing",
    "label",
]
