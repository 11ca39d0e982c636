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
from pathlib import Path

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

    from ov_movement.model_inputs import prepare_data
    from ov_movement.models import build_model, get_task, load_processor, model_input_names
    from ov_movement.training.loop import (
        autocast,
        epoch_batches,
        grad_scaler,
        lr_multiplier,
        make_optimizer,
        progress_bar,
        steps_per_epoch,
    )

    group = distributed.current_group()  # None in one process; else rank 0 writes the files

    training = config.training
    epochs = config.baseline.epochs or training.epochs
    threads = torch.get_num_threads()
    if training.num_threads:
        torch.set_num_threads(training.num_threads)
    try:
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

        def collate(indices, features):
            batch = task.collate([features[i] for i in indices], input_names, data.pad_id)
            return {k: v.to(device) for k, v in batch.items()}

        history, seconds, steps = [], 0.0, 0
        for epoch in range(epochs):
            trained.train()
            batches = epoch_batches(len(data.train), training.batch_size, training.seed, epoch, spe)
            bar = progress_bar(len(batches), f"baseline epoch {epoch + 1}", ctx.progress)
            for indices in batches:
                started = time.perf_counter()
                share = 1.0
                if group is not None:  # this rank's part of the global batch, weighted to its mean
                    indices, share = group.shard(indices)
                with autocast(device, training.precision):
                    loss = trained(**collate(indices, data.train.features)).loss
                if scaler is not None:
                    scaler.scale(loss * share).backward()
                    scaler.unscale_(optimizer)
                else:
                    (loss * share if group is not None else loss).backward()
                if training.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), training.max_grad_norm)
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                seconds += time.perf_counter() - started
                steps += 1
                if bar is not None:
                    bar.set_postfix(loss=f"{float(loss):.3f}")
                    bar.update(1)
            if bar is not None:
                bar.close()
            history.append(
                {
                    "epoch": epoch,
                    "step": steps,
                    **_evaluate(model, data, training, collate, task, device, group),
                }
            )
            if group is None or group.writes:
                (output_dir / EVAL_FILE).write_text(json.dumps(history, indent=1) + "\n")
    finally:
        torch.set_num_threads(threads)

    from ov_movement.training.distill import save_teacher

    if group is None or group.writes:
        save_teacher(model.cpu(), output_dir, num_labels=data.num_labels, label_names=data.label_names)
    final = history[-1]
    metrics = {"enabled": True, "epochs": epochs, "steps": steps, "seconds_per_step": seconds / max(1, steps)}
    if group is not None:
        metrics["processes"] = group.world_size
    metrics.update({k: v for k, v in final.items() if k not in ("epoch", "step")})
    return StageResult(
        metrics=metrics,
        summary=f"dense fine-tuning, {epochs} epoch(s): eval accuracy {final['accuracy']:.4f}",
    )


def _evaluate(model, data, training, collate, task, device, group):
    from ov_movement.training.loop import autocast, evaluate

    with autocast(device, training.precision):
        return evaluate(model, data.eval.features, training.eval_batch_size, collate, task, group=group)


def join(config, stage: str, digest: str) -> None:
    """A node other than 0 of a multi-node run: train with node 0's workers (nothing when disabled)."""
    if config.baseline.enabled:
        from ov_movement.training.distributed import join as join_training

        join_training(config, stage, digest)
