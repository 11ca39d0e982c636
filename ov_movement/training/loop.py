"""The training loop, wired the way NNCF's movement sparsity expects it.

Per epoch: `ctrl.scheduler.epoch_step()`; per optimizer step: `ctrl.scheduler.step()` *before* the
forward pass (it sets the importance threshold and regularization factor for this step and, at the
first step after warm-up, resolves structured masks and freezes them), loss = task loss +
`ctrl.loss()`, backward, gradient clipping, AdamW, LR scheduler. Batches come in a seeded order per
epoch, so an epoch's data does not depend on what ran before it (resume = uninterrupted).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ov_movement.pause_points import pause_point
from ov_movement.training import stats

EpochCallback = Callable[[int, dict[str, Any]], None]


def steps_per_epoch(num_examples: int, batch_size: int, cap: int | None) -> int:
    steps = math.ceil(num_examples / batch_size)
    return min(steps, cap) if cap else steps


def epoch_batches(num_examples: int, batch_size: int, seed: int, epoch: int, limit: int) -> list[list[int]]:
    """Shuffled index batches of one epoch, a function of (seed, epoch) only."""
    generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    order = torch.randperm(num_examples, generator=generator).tolist()
    batches = [order[i : i + batch_size] for i in range(0, num_examples, batch_size)]
    return batches[:limit]


def lr_multiplier(
    warmup_steps: int, decay_start: int | None, decay_end: int | None
) -> Callable[[int], float]:
    """Linear warm-up, constant through the movement warm-up, then linear decay to 0 during mask.

    The decay begins only where the sparsify stage ends, so sparsify's schedule (and thus its output)
    does not depend on `training.epochs`: changing fine-tuning epochs reruns only mask.
    """

    def factor(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return step / warmup_steps
        if decay_start is None or decay_end is None or step < decay_start:
            return 1.0
        return max(0.0, (decay_end - step) / max(1, decay_end - decay_start))

    return factor


def make_optimizer(
    model: torch.nn.Module, learning_rate: float, weight_decay: float
) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases, norms, NNCF's importance scores and quantizer ranges (decay
    would shrink a per-channel weight scale [out, 1] towards 0 and clip the weights it quantizes)."""
    quantizer_params = _quantizer_parameters(model)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim < 2 or "importance" in name or "norm" in name.lower() or id(param) in quantizer_params:
            no_decay.append(param)
        else:
            decay.append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=learning_rate)


def _quantizer_parameters(model: torch.nn.Module) -> set[int]:
    """ids of the parameters of NNCF quantizer modules (scales, input_low/input_range)."""
    import sys

    if "nncf.torch" not in sys.modules:  # plain training (baseline): never import NNCF for it
        return set()
    from nncf.torch.quantization.layers import BaseQuantizer

    return {
        id(param)
        for module in model.modules()
        if isinstance(module, BaseQuantizer)
        for param in module.parameters(recurse=False)
    }


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class JsonlLog:
    """Append-only JSON Lines log; on resume, cut back to the records before a step."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def keep_before(self, step: int) -> None:
        """Drop records of steps >= step (they will be written again by the resumed attempt)."""
        if not self.path.exists():
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill
                continue
            if int(record.get("step", 0)) < step:
                kept.append(json.dumps(record))
        self.path.write_text("".join(line + "\n" for line in kept))

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(record, allow_nan=False) + "\n")


@dataclass
class LoopState:
    """Progress of a phase; stored in every checkpoint's meta so that resuming restores it exactly.

    `global_step` counts the optimizer steps done; the next step's 0-based index (the `step` of its
    log record, NNCF's `scheduler.current_step`) equals it. epoch = step // steps_per_epoch, batch
    within it = step % steps_per_epoch (a fractional warmup_end_epoch ends sparsify mid-epoch)."""

    global_step: int
    eval_history: list[dict[str, Any]] = field(default_factory=list)
    structured_masking_step: int | None = None
    masks_frozen_step: int | None = None
    train_seconds: float = 0.0
    train_steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        return {
            "global_step": self.global_step,
            "eval_history": self.eval_history,
            "structured_masking_step": self.structured_masking_step,
            "masks_frozen_step": self.masks_frozen_step,
            "train_seconds": self.train_seconds,
            "train_steps": self.train_steps,
            "extra": self.extra,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> LoopState:
        return cls(
            global_step=int(meta["global_step"]),
            eval_history=list(meta.get("eval_history", [])),
            structured_masking_step=meta.get("structured_masking_step"),
            masks_frozen_step=meta.get("masks_frozen_step"),
            train_seconds=float(meta.get("train_seconds", 0.0)),
            train_steps=int(meta.get("train_steps", 0)),
            extra=dict(meta.get("extra", {})),
        )


@dataclass
class Loop:
    phase: str
    model: torch.nn.Module
    ctrl: Any
    optimizer: torch.optim.Optimizer
    lr_scheduler: Any
    task: Any
    train_features: Sequence[dict[str, Any]]
    eval_features: Sequence[dict[str, Any]]
    input_names: Sequence[str]
    pad_id: int
    device: torch.device
    batch_size: int
    eval_batch_size: int
    steps_per_epoch: int
    seed: int
    max_grad_norm: float | None
    log: JsonlLog
    structured_masking: bool
    progress: bool = False
    total_params: int = 0
    # The controller that steps, adds its loss and is checkpointed: movement + quantization's composite
    # in JPQD (None: `ctrl`). `ctrl` stays the movement controller (masks, statistics, freezing).
    composite: Any = None
    distiller: Any = None  # training.distill.Distiller, or None
    # Data parallel (training.distributed): the process group, and the unwrapped model to evaluate.
    group: Any = None  # training.distributed.Group, or None in one process
    eval_model: torch.nn.Module | None = None
    precision: str | None = None  # training.precision (None = fp32)
    scaler: Any = None  # torch.amp.GradScaler for fp16
    _last: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        # The step sparsify and mask take, and baseline too (stages/baseline.py).
        self._optimizer_step = OptimizerStep(
            model=self.model,
            optimizer=self.optimizer,
            lr_scheduler=self.lr_scheduler,
            device=self.device,
            precision=self.precision,
            scaler=self.scaler,
            max_grad_norm=self.max_grad_norm,
            group=self.group,
        )

    def _batch(self, indices: Sequence[int], features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.task.collate([features[i] for i in indices], self.input_names, self.pad_id)
        return {k: v.to(self.device) for k, v in batch.items()}

    def _operands_frozen(self) -> bool:
        return all(info.operand.frozen for info in self.ctrl.sparsified_module_info)

    @property
    def training_ctrl(self) -> Any:
        return self.ctrl if self.composite is None else self.composite

    def train_epoch(self, epoch: int, state: LoopState, start: int = 0, stop: int | None = None) -> None:
        """Batches [start, stop) of `epoch`; NNCF's epoch_step() only when the epoch begins here."""
        scheduler = self.training_ctrl.scheduler
        if start == 0:
            scheduler.epoch_step()
        self.model.train()
        batches = epoch_batches(
            len(self.train_features), self.batch_size, self.seed, epoch, self.steps_per_epoch
        )
        batches = batches[start:stop]
        bar = progress_bar(len(batches), f"{self.phase} epoch {epoch + 1}", self.progress)
        try:
            for indices in batches:
                self._train_step(epoch, indices, state)
                if bar is not None:
                    bar.set_postfix(
                        loss=f"{self._last['loss']:.3f}", sparsity=f"{self._last['linear_sparsity']:.3f}"
                    )
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()

    def _train_step(self, epoch: int, indices: Sequence[int], state: LoopState) -> None:
        started = time.perf_counter()
        was_frozen = self._operands_frozen()
        self.training_ctrl.scheduler.step()  # before the forward: threshold/factor; masking after warm-up
        step = state.global_step  # 0-based index, = NNCF's scheduler.current_step
        if not was_frozen and self._operands_frozen():
            self._note_frozen(state, step, epoch)
        taken = self._optimizer_step(indices, self._forward, extra_loss=self.training_ctrl.loss)
        state.global_step = step + 1
        state.train_steps += 1
        losses = self._logged_losses(taken)
        elapsed = time.perf_counter() - started
        state.train_seconds += elapsed
        scheduler = self.ctrl.scheduler
        record = {
            "stage": self.phase,
            "epoch": epoch,
            "step": step,
            **losses,
            "importance_regularization_factor": _finite(scheduler.current_importance_regularization_factor),
            "importance_threshold": _finite(scheduler.current_importance_threshold),
            "linear_sparsity": stats.linear_sparsity(self.ctrl),
            "model_sparsity": stats.masked_elements(self.ctrl) / self.total_params
            if self.total_params
            else None,
            "lr": taken.lr,
            "seconds": elapsed,
        }
        self.log.write(record)
        self._last = record
        pause_point(self.phase, "step")

    def _forward(self, indices: Sequence[int]) -> tuple[torch.Tensor, tuple[torch.Tensor, Any]]:
        """The loss to minimise (the task's, mixed with distillation's when distilling), and the task
        and distillation losses apart (None without distillation)."""
        batch = self._batch(indices, self.train_features)
        outputs = self.model(**batch)
        task_loss = outputs.loss
        distill_loss = None
        main_loss = task_loss
        if self.distiller is not None:
            main_loss, distill_loss = self.distiller.mix(task_loss, outputs.logits, batch)
        return main_loss, (task_loss, distill_loss)

    def _logged_losses(self, taken: TakenStep) -> dict[str, float]:
        """The step's losses for train_log.jsonl: the global batch's under data parallelism."""
        task_loss, distill_loss = taken.outputs
        compression_value = float(torch.as_tensor(taken.extra_loss).detach())
        losses = [float(taken.loss.detach()), float(task_loss.detach())]
        if distill_loss is not None:
            losses.append(float(distill_loss.detach()))
        if self.group is not None:  # the global batch's mean losses, as one process logs them
            losses[0] = float(taken.main_loss.detach())
            losses = self.group.mean([value * taken.share for value in losses])
            losses[0] += compression_value
        return {
            "loss": losses[0],
            "task_loss": losses[1],
            "compression_loss": compression_value,
            **({"distillation_loss": losses[2]} if distill_loss is not None else {}),
        }

    def _note_frozen(self, state: LoopState, step: int, epoch: int) -> None:
        if state.masks_frozen_step is not None:  # a resumed attempt re-freezing: NNCF's freeze is idempotent
            return
        state.masks_frozen_step = step
        if self.structured_masking:
            state.structured_masking_step = step
            self.log.write({"event": "structured_masking", "step": step, "epoch": epoch})
        self.log.write({"event": "masks_frozen", "step": step, "epoch": epoch})

    def freeze_without_step(self, state: LoopState) -> None:
        """What NNCF does at the first step after warm-up, for a mask phase with no step to take."""
        if self._operands_frozen():
            return
        if self.structured_masking:
            self.ctrl.reset_independent_structured_mask()
            self.ctrl.resolve_structured_mask()
            self.ctrl.populate_structured_mask()
        self.ctrl.freeze()
        if hasattr(self.ctrl.scheduler, "_is_controller_frozen"):
            self.ctrl.scheduler._is_controller_frozen = True
        self._note_frozen(state, state.global_step, state.global_step // self.steps_per_epoch)

    def evaluate(self) -> dict[str, float]:
        model = self.eval_model if self.eval_model is not None else self.model
        with autocast(self.device, self.precision):
            return evaluate(
                model, self.eval_features, self.eval_batch_size, self._batch, self.task, group=self.group
            )


@dataclass(frozen=True)
class TakenStep:
    """What one OptimizerStep computed."""

    loss: torch.Tensor  # what was minimised on this rank: main_loss * share + extra_loss
    main_loss: torch.Tensor  # the forward's loss, before the share
    extra_loss: Any  # extra_loss() (NNCF's compression loss), None without one
    share: float  # this rank's weight in the global batch (1.0 in one process)
    lr: float  # the learning rate the step was taken with
    outputs: Any  # what the forward returned besides the loss


@dataclass
class OptimizerStep:
    """One optimizer step on a batch of example indices, as every training stage takes it (sparsify
    and mask through Loop, baseline directly).

    In order: this rank's part of the global batch (data parallel); `forward(indices)` under
    training.precision's autocast, returning (loss, outputs); `extra_loss()` outside it (NNCF's
    compression loss); the loss weighted by the rank's share -- DDP averages the ranks' gradients,
    weighted so they are the global batch mean's -- plus the extra loss; backward (fp16: scaled, then
    unscaled for clipping); gradient clipping; the optimizer; the LR schedule; gradients cleared."""

    model: torch.nn.Module  # what runs forward and backward: the DDP wrapper when distributed
    optimizer: torch.optim.Optimizer
    lr_scheduler: Any
    device: torch.device
    precision: str | None = None  # training.precision (None = fp32)
    scaler: Any = None  # torch.amp.GradScaler for fp16 (grad_scaler)
    max_grad_norm: float | None = None
    group: Any = None  # training.distributed.Group, or None in one process

    def __call__(
        self,
        indices: Sequence[int],
        forward: Callable[[Sequence[int]], tuple[torch.Tensor, Any]],
        extra_loss: Callable[[], Any] | None = None,
    ) -> TakenStep:
        share = 1.0
        if self.group is not None:  # this rank's part of the global batch
            indices, share = self.group.shard(list(indices))
        with autocast(self.device, self.precision):
            main_loss, outputs = forward(indices)
        extra = extra_loss() if extra_loss is not None else None
        loss = main_loss * share if self.group is not None else main_loss
        if extra is not None:
            loss = loss + extra
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return TakenStep(loss, main_loss, extra, share, lr, outputs)


def autocast(device: torch.device, precision: str | None) -> Any:
    """torch.autocast for training.precision bf16/fp16 (a no-op context for fp32).

    Only the model's forward runs in it: parameters, NNCF's importance scores and binary masks stay
    fp32 (autocast casts the inputs of matmuls, not the tensors they are computed from)."""
    import contextlib

    if precision in (None, "fp32"):
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, precision: str | None) -> Any:
    """fp16 needs loss scaling against gradient underflow; bf16 has fp32's range and does not."""
    return torch.amp.GradScaler(device.type) if precision == "fp16" else None


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    features: Sequence[dict[str, Any]],
    batch_size: int,
    make_batch: Callable[[Sequence[int], Sequence[dict[str, Any]]], dict[str, torch.Tensor]],
    task: Any,
    *,
    group: Any = None,
) -> dict[str, float]:
    """The task's metrics and the mean loss over `features`, in batches (model left in eval mode).

    With a process group every rank evaluates every world_size-th example and the predictions are
    gathered back in dataset order: the metrics are those of the whole split, computed once."""
    model.eval()
    logits, labels, losses = [], [], []
    indices = list(range(len(features)))
    if group is not None:
        indices = indices[group.rank :: group.world_size]
    for start in range(0, len(indices), batch_size):
        batch = make_batch(indices[start : start + batch_size], features)
        outputs = model(**batch)
        losses.append(float(outputs.loss) * len(batch["labels"]))
        logits.append(outputs.logits.float().cpu().numpy())
        labels.append(batch["labels"].cpu().numpy())
    if group is not None:
        logits, labels, losses = _gathered(group, indices, logits, labels, losses)
    all_logits = np.concatenate(logits)
    all_labels = np.concatenate(labels)
    metrics = task.metrics(all_logits, all_labels)
    metrics["loss"] = sum(losses) / max(1, len(all_labels))
    return metrics


def _gathered(group: Any, indices: list[int], logits: list, labels: list, losses: list) -> tuple:
    """Every rank's (index, logits, labels) rows, in dataset order; the summed losses of all."""
    parts = group.gather(
        (
            indices,
            np.concatenate(logits) if logits else None,
            np.concatenate(labels) if labels else None,
            losses,
        )
    )
    rows = sorted(
        (index, part[1][i], part[2][i])
        for part in parts
        if part[1] is not None
        for i, index in enumerate(part[0])
    )
    return (
        [np.stack([row[1] for row in rows])],
        [np.stack([row[2] for row in rows])],
        [value for part in parts for value in part[3]],
    )


def progress_bar(total: int, description: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, leave=False, unit="step")


__all__ = [
    "EpochCallback",
    "autocast",
    "grad_scaler",
    "JsonlLog",
    "Loop",
    "LoopState",
    "OptimizerStep",
    "TakenStep",
    "epoch_batches",
    "evaluate",
    "lr_multiplier",
    "make_optimizer",
    "progress_bar",
    "steps_per_epoch",
]
