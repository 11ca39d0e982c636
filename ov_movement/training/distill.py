"""Knowledge distillation from a dense teacher (optimum-intel's OVTrainer loss).

loss = (1 - w) * task loss + w * KL(softmax(t / T) || softmax(s / T)) * T^2 (batch mean), with s, t the
student's and teacher's logits. The T^2 keeps the soft-target gradients on the scale of the task
loss's (Hinton et al.). Question answering's logits [B, S, 2] are two distributions over the
sequence (start, end): each is distilled over the sequence axis and the two are averaged, as the
task loss averages the start and end cross-entropies.

The teacher is the baseline stage's dense fine-tuned model (`distillation.teacher: baseline`) or a
model directory; it is put in eval mode, its parameters stop requiring gradients, and every forward
runs under `torch.no_grad`, so it is never updated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ov_movement.errors import ConfigError, ConfigIssue, StageError

BASELINE_MODEL_FILE = "model.pt"  # written by stages/baseline.py: the dense model's state_dict
BASELINE_META_FILE = "model.json"  # num_labels and label names of that model


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) on temperature-softened distributions, times T^2, batch mean.

    [B, C] logits: over the classes. [B, S, 2] (question answering): over the sequence, for start and
    end separately, averaged."""
    if student.shape != teacher.shape:
        raise StageError(
            f"teacher logits {list(teacher.shape)} do not match the student's {list(student.shape)}: "
            "was the teacher fine-tuned for the same task and labels?"
        )
    if student.dim() == 3:  # [B, S, 2] -> [B * 2, S]: one distribution over positions per start/end
        student = student.transpose(1, 2).reshape(-1, student.shape[1])
        teacher = teacher.transpose(1, 2).reshape(-1, teacher.shape[1])
    t = float(temperature)
    return F.kl_div(
        F.log_softmax(student.float() / t, dim=-1),
        F.softmax(teacher.float() / t, dim=-1),
        reduction="batchmean",
    ) * (t * t)


@dataclass
class Distiller:
    """A frozen teacher and the mixing weights; `mix` turns the task loss into the training loss."""

    teacher: torch.nn.Module
    temperature: float
    weight: float

    def __post_init__(self) -> None:
        self.teacher.eval()
        for param in self.teacher.parameters():
            param.requires_grad_(False)

    @torch.no_grad()
    def teacher_logits(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        self.teacher.eval()  # stays in eval mode whatever the caller did to the student
        return self.teacher(**{k: v for k, v in batch.items() if k != "labels"}).logits

    def mix(
        self, task_loss: torch.Tensor, student_logits: torch.Tensor, batch: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(training loss without the compression loss, distillation loss)."""
        distill = distillation_loss(student_logits, self.teacher_logits(batch), self.temperature)
        return (1.0 - self.weight) * task_loss + self.weight * distill, distill


def save_teacher(model: torch.nn.Module, out_dir: Path, *, num_labels: int, label_names: Any) -> None:
    """What the baseline stage leaves for distillation: the dense model's weights and its labels."""
    torch.save(model.state_dict(), Path(out_dir) / BASELINE_MODEL_FILE)
    meta = {"num_labels": int(num_labels), "label_names": list(label_names) if label_names else None}
    (Path(out_dir) / BASELINE_META_FILE).write_text(json.dumps(meta, indent=1) + "\n")


def load_teacher(
    config: Any,
    config_dir: Path,
    baseline_dir: Path | None,
    *,
    num_labels: int,
    label_names: Any,
    processor: Any,
) -> torch.nn.Module:
    """The teacher named by `distillation.teacher`, on CPU, float32, eval mode."""
    from ov_movement.models import build_model

    teacher = config.distillation.teacher
    if teacher == "baseline":
        if baseline_dir is None:
            raise RuntimeError("distillation from the baseline, but baseline is not upstream")  # registry bug
        weights = Path(baseline_dir) / BASELINE_MODEL_FILE
        if not weights.is_file():
            raise StageError(
                f"the cached baseline ({baseline_dir}) has no {BASELINE_MODEL_FILE} (it was built by an older "
                "ov-movement): rerun it with `ov-movement run CONFIG --only baseline --force`"
            )
        meta = json.loads((Path(baseline_dir) / BASELINE_META_FILE).read_text())
        if int(meta["num_labels"]) != num_labels:
            raise StageError(f"the baseline model has {meta['num_labels']} labels, the data {num_labels}")
        model = build_model(
            config.model,
            config_dir,
            num_labels=num_labels,
            label_names=label_names,
            processor=processor,
            load_weights=False,
        )
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        return model.float().eval()
    model_config = config.model.model_copy(update={"name_or_path": teacher, "config": None})
    try:
        model = build_model(
            model_config, config_dir, num_labels=num_labels, label_names=label_names, processor=processor
        )
    except ConfigError as error:  # the teacher's directory, not model.name_or_path, is at fault
        raise ConfigError(
            [ConfigIssue("distillation.teacher", issue.msg) for issue in error.issues]
        ) from error
    return model.float().eval()


__all__ = [
    "BASELINE_META_FILE",
    "BASELINE_MODEL_FILE",
    "Distiller",
    "distillation_loss",
    "load_teacher",
    "save_teacher",
]
