"""baseline: the same model fine-tuned densely on the same data, the yardstick for accuracy.

Movement sparsity is only worth it if the pruned model stays close to what plain fine-tuning
reaches; this stage measures that number with the same data split, optimiser, learning rate and
batch size as the sparse run, and no NNCF at all. Disabled by default (it costs a training run);
when disabled it records that and returns at once, so the report simply leaves the row out.
The fine-tuned model is kept (`training.distill.BASELINE_MODEL_FILE`): it is the default teacher
of knowledge distillation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ov_movement.stages.base import StageContext, StageResult

EVAL_FILE = "eval.json"


def run(ctx: StageContext) -> StageResult:
    config = ctx.config
    output_dir = Path(ctx.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not config.baseline.enabled:
        (output_dir / EVAL_FILE).write_text("[]\n")
        return StageResult(metrics={"enabled": False}, summary="disabled (baseline.enabled: false)")

    from ov_movement.training import distributed

    if distributed.needs_launch(config):  # training.distributed: the workers run this function
        return distributed.launch(ctx)
    import torch

    group = distributed.current_group()  # None in one process; else rank 0 writes the files
    epochs = config.baseline.epochs or config.training.epochs
    threads = torch.get_num_threads()
    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    try:
        dense = _DenseTraining.prepare(ctx, epochs, group)
        for epoch in range(epochs):
            dense.epoch(epoch)
    finally:
        torch.set_num_threads(threads)

    from ov_movement.training.distill import save_teacher

    data = dense.data
    if group is None or group.writes:
        save_teacher(dense.model.cpu(), output_dir, num_labels=data.num_labels, label_names=data.label_names)
    final = dense.history[-1]
    steps, seconds = dense.steps, dense.seconds
    metrics = {"enabled": True, "epochs": epochs, "steps": steps, "seconds_per_step": seconds / max(1, steps)}
    if group is not None:
        metrics["processes"] = group.world_size
    metrics.update({k: v for k, v in final.items() if k not in ("epoch", "step")})
    return StageResult(
        metrics=metrics,
        summary=f"dense fine-tuning, {epochs} epoch(s): eval accuracy {final['accuracy']:.4f}",
    )


@dataclass
class _DenseTraining:
    """The dense model and its optimizer step (training.loop.OptimizerStep, the sparse run's), epoch
    by epoch; eval.json rewritten after each (rank 0)."""

    ctx: StageContext
    model: Any  # unwrapped; `step.model` is the DDP wrapper when distributed
    step: Any  # training.loop.OptimizerStep
    data: Any
    task: Any
    input_names: Any
    device: Any
    steps_per_epoch: int
    group: Any
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0

    @classmethod
    def prepare(cls, ctx: StageContext, epochs: int, group: Any) -> _DenseTraining:
        import torch

        from ov_movement.model_inputs import prepare_data
        from ov_movement.models import build_model, load_processor, model_input_names
        from ov_movement.tasks import get_task
        from ov_movement.training import distributed
        from ov_movement.training.loop import (
            OptimizerStep,
            grad_scaler,
            lr_multiplier,
            make_optimizer,
            steps_per_epoch,
        )

        config, training = ctx.config, ctx.config.training
        device = distributed.device_for(training.device, group)
        task = get_task(config.model.task)
        processor = load_processor(config.model, ctx.config_dir)
        input_names = model_input_names(config.model, ctx.config_dir, processor)
        data = prepare_data(config, ctx.config_dir, processor, input_names)
        torch.manual_seed(training.seed)
        model = build_model(
            config.model,
            ctx.config_dir,
            num_labels=data.num_labels,
            label_names=data.label_names,
            processor=processor,
        ).to(device)
        trained = distributed.wrap(model, device) if group is not None else model
        scaler = grad_scaler(device, training.precision)
        spe = steps_per_epoch(len(data.train), training.batch_size, training.max_steps_per_epoch)
        total = spe * epochs
        optimizer = make_optimizer(model, training.learning_rate, training.weight_decay)
        warmup = round(training.lr_warmup_ratio * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_multiplier(warmup, warmup, total))
        step = OptimizerStep(
            model=trained,
            optimizer=optimizer,
            lr_scheduler=scheduler,
            device=device,
            precision=training.precision,
            scaler=scaler,
            max_grad_norm=training.max_grad_norm,
            group=group,
        )
        return cls(ctx, model, step, data, task, input_names, device, spe, group)

    def collate(self, indices, features):
        batch = self.task.collate([features[i] for i in indices], self.input_names, self.data.pad_id)
        return {k: v.to(self.device) for k, v in batch.items()}

    def forward(self, indices) -> tuple[Any, None]:
        return self.step.model(**self.collate(indices, self.data.train.features)).loss, None

    def epoch(self, epoch: int) -> None:
        """Train one epoch, evaluate, write eval.json."""
        from ov_movement.training.loop import epoch_batches, progress_bar

        training = self.ctx.config.training
        self.step.model.train()
        batches = epoch_batches(
            len(self.data.train), training.batch_size, training.seed, epoch, self.steps_per_epoch
        )
        bar = progress_bar(len(batches), f"baseline epoch {epoch + 1}", self.ctx.progress)
        for indices in batches:
            started = time.perf_counter()
            taken = self.step(indices, self.forward)
            self.seconds += time.perf_counter() - started
            self.steps += 1
            if bar is not None:
                bar.set_postfix(loss=f"{float(taken.main_loss):.3f}")
                bar.update(1)
        if bar is not None:
            bar.close()
        self.history.append({"epoch": epoch, "step": self.steps, **self.evaluate()})
        if self.group is None or self.group.writes:
            (Path(self.ctx.output_dir) / EVAL_FILE).write_text(json.dumps(self.history, indent=1) + "\n")

    def evaluate(self) -> dict[str, float]:
        from ov_movement.training.loop import autocast, evaluate

        training = self.ctx.config.training
        with autocast(self.device, training.precision):
            return evaluate(
                self.model,
                self.data.eval.features,
                training.eval_batch_size,
                self.collate,
                self.task,
                group=self.group,
            )


def join(config, stage: str, digest: str) -> None:
    """A node other than 0 of a multi-node run: train with node 0's workers (nothing when disabled)."""
    if config.baseline.enabled:
        from ov_movement.training.distributed import join as join_training

        join_training(config, stage, digest)
