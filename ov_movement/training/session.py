"""One training phase (sparsify or mask) from config to files, resumable at epoch boundaries.

sparsify: epochs [0, warmup_end_epoch) from the (pre)trained model -> `checkpoint/`.
mask:     epochs [warmup_end_epoch, training.epochs) from sparsify's checkpoint; structured masks are
          resolved by NNCF at the first step -> `checkpoint/`, `sparsity_table.json`.

Positions are global optimizer steps, so a fractional warmup_end_epoch (NNCF allows it) ends
sparsify mid-epoch and mask continues that epoch with the same batches. Both phases write
`train_log.jsonl` (one record per optimizer step, global step numbering across phases) and
`eval.json` (after every epoch, and where a phase ends). Each of those points also writes a full
checkpoint to `epochs/step-NNNNNNN`; a new attempt with the same config resumes from the latest
one; `epochs/` is removed when the phase ends and only `checkpoint/` remains.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ov_movement.errors import ConfigError, ConfigIssue, StageError
from ov_movement.pause_points import pause_point
from ov_movement.stages.base import StageContext, StageResult

log = logging.getLogger("ov_movement.training")

SPARSIFY = "sparsify"
MASK = "mask"
CHECKPOINT_DIR = "checkpoint"
EPOCHS_DIR = "epochs"
TRAIN_LOG = "train_log.jsonl"
EVAL_FILE = "eval.json"
SPARSITY_TABLE = "sparsity_table.json"
NNCF_LOG_DIR = "nncf"


@dataclass(frozen=True)
class PhasePlan:
    """A phase as a range of global optimizer steps [start_step, end_step)."""

    phase: str
    steps_per_epoch: int
    start_step: int
    end_step: int
    warmup_end_step: int

    @property
    def epochs(self) -> float:
        return (self.end_step - self.start_step) / self.steps_per_epoch


def plan_phase(config: Any, phase: str, steps_per_epoch: int) -> PhasePlan:
    """sparsify: steps [0, int(warmup_end_epoch * spe)) -- NNCF's own end-of-warm-up step;
    mask: from there to training.epochs * spe (possibly zero steps: masks are then resolved at once)."""
    from ov_movement.training.nncf_setup import movement_loc

    end = float(config.movement.params.warmup_end_epoch)
    warmup_end_step = int(end * steps_per_epoch)
    if warmup_end_step < 1:
        raise ConfigError(
            [
                ConfigIssue(
                    f"{movement_loc(config)}.params.warmup_end_epoch",
                    f"{end} epochs of {steps_per_epoch} steps is less than one optimizer step",
                )
            ]
        )
    if phase == SPARSIFY:
        return PhasePlan(phase, steps_per_epoch, 0, warmup_end_step, warmup_end_step)
    if config.training.epochs < end:
        raise ConfigError(
            [
                ConfigIssue(
                    "training.epochs",
                    f"{config.training.epochs} is less than warmup_end_epoch {end}: the mask stage fine-tunes "
                    "for training.epochs - warmup_end_epoch epochs",
                )
            ]
        )
    end_step = max(warmup_end_step, int(config.training.epochs) * steps_per_epoch)
    return PhasePlan(phase, steps_per_epoch, warmup_end_step, end_step, warmup_end_step)


def resume_key(config: Any, phase: str, upstream: str | None = None) -> str:
    """Hash of what a phase's training depends on; checkpoints with another key are not resumed."""
    training = config.training.model_dump(mode="json")
    if phase == SPARSIFY:
        training.pop("epochs", None)
    for volatile in ("device", "num_threads"):
        training.pop(volatile, None)
    # Unset, these keys leave the key as it was before they existed (checkpoints of then still resume).
    for optional in ("precision", "distributed"):
        if training.get(optional) is None:
            training.pop(optional, None)
    for place in ("node_rank", "rdzv_endpoint"):  # where the nodes meet, not what they compute
        (training.get("distributed") or {}).pop(place, None)
    payload = {
        "phase": phase,
        "model": config.model.model_dump(mode="json"),
        "data": config.data.model_dump(mode="json"),
        "training": training,
        "compression": config.movement.model_dump(mode="json"),
        "upstream": upstream,
    }
    if config.quantization is not None:  # JPQD
        payload["quantization"] = config.quantization
    if config.distillation is not None:
        payload["distillation"] = config.distillation.model_dump(mode="json")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _latest_own_checkpoint(output_dir: Path, key: str) -> Path | None:
    """The most advanced checkpoint of an earlier attempt (an epoch's, or a finished `checkpoint/`)."""
    from ov_movement.training.checkpoint import CorruptCheckpointError, is_checkpoint, read_meta

    folder = output_dir / EPOCHS_DIR
    paths = sorted(folder.iterdir()) if folder.is_dir() else []
    paths.append(output_dir / CHECKPOINT_DIR)
    candidates = []
    for path in paths:
        if path.name.startswith(".") or not path.is_dir() or not is_checkpoint(path):
            continue
        try:
            meta = read_meta(path)
        except CorruptCheckpointError as error:
            raise _unreadable(error, path, own=True) from error
        if meta.get("resume_key") == key:
            candidates.append((int(meta["global_step"]), str(path)))
        else:
            log.warning("ignoring %s: written for a different configuration", path)
    return Path(max(candidates)[1]) if candidates else None


def _unreadable(error: Exception, checkpoint: Path, *, own: bool) -> StageError:
    """A checkpoint that cannot be read back, with the way out."""
    if own:  # the progress of an interrupted attempt, in the stage's .partial directory
        hint = (
            f"delete {checkpoint} and run the same command again (training then restarts from an "
            "earlier checkpoint if there is one, else from the start of the stage)"
        )
    else:  # sparsify's cached result
        hint = "rerun sparsify: `ov-movement run CONFIG --from sparsify --force`"
    return StageError(f"cannot resume training: {error}; {hint}")


def run_phase(ctx: StageContext, phase: str, callbacks: Sequence[Any] = ()) -> StageResult:
    from ov_movement.training import distributed

    if distributed.needs_launch(ctx.config):  # training.distributed: the workers run this function
        return distributed.launch(ctx)
    import torch

    threads = torch.get_num_threads()
    try:
        return _run_phase(ctx, phase, callbacks)
    finally:
        torch.set_num_threads(threads)  # training.num_threads applies to this stage only


def _run_phase(ctx: StageContext, phase: str, callbacks: Sequence[Any]) -> StageResult:
    import torch

    from ov_movement.training.distributed import current_group, device_for
    from ov_movement.training.nncf_setup import ensure_nncf

    training = ctx.config.training
    output_dir = Path(ctx.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if training.num_threads:
        torch.set_num_threads(training.num_threads)
    group = current_group()  # None in one process
    writes = group is None or group.writes  # rank 0 writes every file
    if not writes:  # what NNCF writes on the other ranks goes here, and goes at the end
        scratch = Path(tempfile.mkdtemp(prefix="ov-movement-nncf-"))
    device = device_for(training.device, group)
    ensure_nncf()  # before any model is constructed

    inputs = _phase_inputs(ctx, phase)
    start = _starting_point(ctx, phase, inputs, device)
    compressed = _compressed_model(
        ctx,
        inputs,
        start.checkpoint,
        device,
        # NNCF writes structured_sparsity.csv there from every rank: only rank 0's goes to the output.
        log_dir=output_dir / NNCF_LOG_DIR if writes else scratch,
    )
    attempt = _Attempt(ctx, phase, inputs, start, compressed, group=group, device=device, callbacks=callbacks)
    attempt.train()
    attempt.keep_last_checkpoint()
    metrics = attempt.metrics()
    summary = attempt.summary(metrics)
    if not writes:
        shutil.rmtree(scratch, ignore_errors=True)
    return StageResult(metrics=metrics, summary=summary)


@dataclass(frozen=True)
class _PhaseInputs:
    """What a phase trains on: the task, the model's processor and input names, the data, the plan."""

    task: Any
    processor: Any
    input_names: Any
    data: Any
    plan: PhasePlan


def _phase_inputs(ctx: StageContext, phase: str) -> _PhaseInputs:
    from ov_movement.model_inputs import prepare_data
    from ov_movement.models import load_processor, model_input_names
    from ov_movement.tasks import get_task
    from ov_movement.training.loop import steps_per_epoch

    config = ctx.config
    task = get_task(config.model.task)
    processor = load_processor(config.model, ctx.config_dir)
    input_names = model_input_names(config.model, ctx.config_dir, processor)
    data = prepare_data(config, ctx.config_dir, processor, input_names)
    spe = steps_per_epoch(len(data.train), config.training.batch_size, config.training.max_steps_per_epoch)
    return _PhaseInputs(task, processor, input_names, data, plan_phase(config, phase, spe))


@dataclass(frozen=True)
class _StartingPoint:
    """Where an attempt starts from: its own latest checkpoint, else (mask) sparsify's, else nothing."""

    key: str  # the phase's resume_key
    own: Path | None  # the checkpoint of an earlier attempt this one resumes, if any
    checkpoint: Any  # the loaded checkpoint (own or sparsify's), None: the model's own weights

    @property
    def resumed_from_step(self) -> int | None:
        """The step this attempt resumes an interrupted one at (None: it starts from the beginning)."""
        return int(self.checkpoint.meta["global_step"]) if self.own is not None else None


def _starting_point(ctx: StageContext, phase: str, inputs: _PhaseInputs, device: Any) -> _StartingPoint:
    from ov_movement.training.checkpoint import CorruptCheckpointError, load_checkpoint, read_meta

    upstream_dir = Path(ctx.input(SPARSIFY)) / CHECKPOINT_DIR if phase == MASK else None
    try:
        upstream_key = read_meta(upstream_dir).get("resume_key") if upstream_dir is not None else None
    except CorruptCheckpointError as error:
        raise _unreadable(error, upstream_dir, own=False) from error
    key = resume_key(ctx.config, phase, upstream_key)
    own = _latest_own_checkpoint(Path(ctx.output_dir), key)
    start_from = own or upstream_dir
    try:
        checkpoint = load_checkpoint(start_from, map_location=device) if start_from is not None else None
    except CorruptCheckpointError as error:
        raise _unreadable(error, start_from, own=own is not None) from error
    if checkpoint is not None:
        _check_continues(checkpoint, start_from, ctx.config, inputs, own=own is not None)
    return _StartingPoint(key, own, checkpoint)


def _check_continues(checkpoint: Any, path: Path, config: Any, inputs: _PhaseInputs, *, own: bool) -> None:
    """The checkpoint was trained on these batches and labels; sparsify's ends where mask begins."""
    plan = inputs.plan
    expected = {
        "steps_per_epoch": plan.steps_per_epoch,
        "num_labels": config.model.num_labels or inputs.data.num_labels,
    }
    for name, value in expected.items():
        if int(checkpoint.meta[name]) != value:
            raise StageError(
                f"{path}: trained with {name} {checkpoint.meta[name]}, this config gives {value}"
            )
    if not own and int(checkpoint.meta["global_step"]) != plan.start_step:
        raise StageError(
            f"{path}: ends at step {checkpoint.meta['global_step']}, mask expects {plan.start_step}"
        )


def _compressed_model(
    ctx: StageContext, inputs: _PhaseInputs, checkpoint: Any, device: Any, log_dir: Path
) -> Any:
    """The model under NNCF's compression (nncf_setup.CompressedModel) on `device`, with the
    checkpoint's weights and compression state when there is one."""
    import torch

    from ov_movement.models import build_model
    from ov_movement.training.nncf_setup import compress, nncf_config_dict

    config, training = ctx.config, ctx.config.training
    torch.manual_seed(training.seed)
    model = build_model(
        config.model,
        ctx.config_dir,
        num_labels=inputs.data.num_labels,
        label_names=inputs.data.label_names,
        processor=inputs.processor,
        load_weights=checkpoint is None,  # every weight comes from the checkpoint otherwise
    )
    _check_sequence_length(config, model)
    model.to(device)
    spe = inputs.plan.steps_per_epoch
    nncf_config = nncf_config_dict(
        config,
        input_info=inputs.task.nncf_input_info(
            inputs.input_names, config.data.max_seq_length, processor=inputs.processor
        ),
        steps_per_epoch=spe,
        log_dir=log_dir,
    )
    compressed = compress(
        model,
        config,
        nncf_config,
        compression_state=checkpoint.compression_state if checkpoint else None,
        init_data=_range_init_data(
            inputs.data, inputs.task, inputs.input_names, training.batch_size, device, spe
        ),
    )
    if checkpoint is not None:
        compressed.model.load_state_dict(checkpoint.model_state)
    return compressed


def _check_sequence_length(config: Any, model: Any) -> None:
    """data.max_seq_length fits the model's position embeddings (else a shape error deep inside the
    embeddings at the first step)."""
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and config.data.max_seq_length > positions:
        raise ConfigError(
            [
                ConfigIssue(
                    "data.max_seq_length",
                    f"{config.data.max_seq_length} is longer than the model's max_position_embeddings ({positions})",
                )
            ]
        )


def _optimizer_and_schedule(model: Any, training: Any, plan: PhasePlan) -> tuple[Any, Any]:
    """AdamW and its learning-rate schedule over the phase's global steps (decaying only in mask)."""
    import torch

    from ov_movement.training.loop import lr_multiplier, make_optimizer

    optimizer = make_optimizer(model, training.learning_rate, training.weight_decay)
    warmup_steps = round(training.lr_warmup_ratio * plan.warmup_end_step)
    decay_end = plan.end_step if plan.phase == MASK else None
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_multiplier(warmup_steps, plan.warmup_end_step, decay_end)
    )
    return optimizer, lr_scheduler


class _Attempt:
    """One attempt at a phase, from its starting point to `checkpoint/`: the epochs left, each ended by
    an evaluation and a checkpoint in `epochs/`; the last one becomes `checkpoint/`."""

    def __init__(
        self,
        ctx: StageContext,
        phase: str,
        inputs: _PhaseInputs,
        start: _StartingPoint,
        compressed: Any,
        *,
        group: Any,
        device: Any,
        callbacks: Sequence[Any],
    ) -> None:
        import torch

        from ov_movement.training.checkpoint import restore_rng
        from ov_movement.training.distributed import wrap
        from ov_movement.training.loop import JsonlLog

        self.config, self.phase, self.plan, self.callbacks = ctx.config, phase, inputs.plan, callbacks
        self.group = group
        self.writes = group is None or group.writes  # rank 0 writes every file
        self.output_dir = Path(ctx.output_dir)
        self.epochs_dir = self.output_dir / EPOCHS_DIR
        self.compressed = compressed
        self.model, self.ctrl, self.composite = compressed.model, compressed.ctrl, compressed.composite
        trained = self.model
        if group is not None:
            trained = wrap(self.model, device)
            self.composite.distributed()  # NNCF: after the DDP wrapper (composite is ctrl without JPQD)
        self.optimizer, self.lr_scheduler = _optimizer_and_schedule(
            self.model, self.config.training, self.plan
        )
        train_log = JsonlLog(self.output_dir / TRAIN_LOG) if self.writes else _NoLog()
        self.state = self._restore_progress(start, train_log)
        # Before the RNG is set: building the teacher draws random initial weights, and a resumed run must
        # continue with exactly the generator state an uninterrupted one had.
        self.distiller = _distiller(ctx, inputs.data, inputs.processor, device)
        if start.checkpoint is not None:
            restore_rng(start.checkpoint.rng_state)
        else:
            torch.manual_seed(self.config.training.seed)
        self.loop = self._loop(ctx, inputs, trained, train_log, device)
        self.base_meta = _checkpoint_meta(self.config, inputs, start, self.model)
        self.last_saved: Path | None = start.own

    def _restore_progress(self, start: _StartingPoint, train_log: Any) -> Any:
        """The optimizer's, LR schedule's and NNCF scheduler's state from the checkpoint; the loop's
        progress from an earlier attempt's (train_log.jsonl cut back to it), else a fresh start."""
        from ov_movement.training.loop import LoopState

        checkpoint = start.checkpoint
        if checkpoint is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
            self.lr_scheduler.load_state_dict(checkpoint.lr_scheduler_state)
            self.composite.scheduler.load_state(checkpoint.meta["scheduler_state"])
        if start.own is not None:
            state = LoopState.from_meta(checkpoint.meta)
            train_log.keep_before(state.global_step)
            log.info("%s: resuming at step %d from %s", self.phase, state.global_step, start.own)
        else:
            train_log.reset()
            state = LoopState(global_step=self.plan.start_step)
            if self.phase == MASK:
                state.extra["sparsity_before"] = _sparsity_snapshot(self.ctrl)
        return state

    def _loop(
        self, ctx: StageContext, inputs: _PhaseInputs, trained: Any, train_log: Any, device: Any
    ) -> Any:
        from ov_movement.training import stats
        from ov_movement.training.loop import Loop, grad_scaler

        training = self.config.training
        return Loop(
            phase=self.phase,
            model=trained,
            eval_model=self.model,
            group=self.group,
            precision=training.precision,
            scaler=grad_scaler(device, training.precision),
            ctrl=self.ctrl,
            composite=self.composite,
            distiller=self.distiller,
            optimizer=self.optimizer,
            lr_scheduler=self.lr_scheduler,
            task=inputs.task,
            train_features=inputs.data.train.features,
            eval_features=inputs.data.eval.features,
            input_names=inputs.input_names,
            pad_id=inputs.data.pad_id,
            device=device,
            batch_size=training.batch_size,
            eval_batch_size=training.eval_batch_size,
            steps_per_epoch=self.plan.steps_per_epoch,
            seed=training.seed,
            max_grad_norm=training.max_grad_norm,
            log=train_log,
            structured_masking=self.config.movement.params.enable_structured_masking,
            progress=ctx.progress,
            total_params=stats.model_parameter_count(self.model),
        )

    def train(self) -> None:
        """The steps left of the plan, epoch by epoch (the first and last possibly partial)."""
        state, plan, spe = self.state, self.plan, self.plan.steps_per_epoch
        if state.global_step == plan.end_step and self.last_saved is None:
            # mask with training.epochs == warmup_end_epoch: resolve (and freeze) the masks, no fine-tuning.
            self.loop.freeze_without_step(state)
            self.finish_epoch(max(0, (state.global_step - 1) // spe))
        while state.global_step < plan.end_step:
            epoch, offset = divmod(state.global_step, spe)
            stop = min(spe, offset + plan.end_step - state.global_step)
            self.loop.train_epoch(epoch, state, start=offset, stop=stop)
            self.finish_epoch(epoch)

    def finish_epoch(self, epoch: int) -> None:
        """Evaluate, write eval.json and a checkpoint (rank 0), then the callbacks."""
        from ov_movement.training import stats

        state, spe = self.state, self.plan.steps_per_epoch
        metrics = self.loop.evaluate()
        record = {
            "epoch": epoch,
            "epoch_position": state.global_step / spe,
            "step": state.global_step,
            **metrics,
            "linear_sparsity": stats.linear_sparsity(self.ctrl),
        }
        state.eval_history.append(record)
        self.last_saved = self.epochs_dir / f"step-{state.global_step:07d}"
        if self.writes:
            _write_json(self.output_dir / EVAL_FILE, state.eval_history)
            self._save_checkpoint(self.last_saved)
        if self.group is not None:
            _check_replicas(self.group, self.model, self.last_saved)
            self.group.barrier()  # no rank runs ahead of a checkpoint it might have to resume from
        pause_point(self.phase, "epoch-checkpoint")
        log.info(
            "%s: %s", self.phase, {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
        )
        for callback in self.callbacks:
            callback(epoch, record)

    def _save_checkpoint(self, path: Path) -> None:
        """A full checkpoint at `path`; the older ones in epochs/ go."""
        from ov_movement.training.checkpoint import save_checkpoint

        state = self.state
        meta = {
            **self.base_meta,
            **state.to_meta(),
            "completed_epochs": state.global_step // self.plan.steps_per_epoch,
        }
        save_checkpoint(
            path,
            model=self.model,
            ctrl=self.composite,
            optimizer=self.optimizer,
            lr_scheduler=self.lr_scheduler,
            meta=meta,
        )
        for old in self.epochs_dir.iterdir():
            if old != path:
                shutil.rmtree(old, ignore_errors=True)

    def keep_last_checkpoint(self) -> None:
        """The last checkpoint becomes `checkpoint/`; the per-epoch ones go."""
        final = self.output_dir / CHECKPOINT_DIR
        if self.last_saved is None:
            raise StageError(
                f"{self.phase}: nothing was trained (steps {self.plan.start_step}..{self.plan.end_step})"
            )
        if self.group is not None:
            self.group.barrier()  # every rank has read what it needed from epochs/
        if self.writes:
            if self.last_saved != final:
                if final.exists():
                    shutil.rmtree(final)
                self.last_saved.rename(final)
            shutil.rmtree(self.epochs_dir, ignore_errors=True)
            _write_json(self.output_dir / EVAL_FILE, self.state.eval_history)
            nncf_dir = self.output_dir / NNCF_LOG_DIR
            if nncf_dir.is_dir() and not any(nncf_dir.iterdir()):
                nncf_dir.rmdir()  # NNCF writes structured_sparsity.csv here only when it resolves masks

    def metrics(self) -> dict[str, Any]:
        """The stage's metrics: the last evaluation, sparsity, steps and timing, how it was trained."""
        from ov_movement.training import stats

        state, training, quantization = self.state, self.config.training, self.compressed.quantization
        last_eval = state.eval_history[-1] if state.eval_history else {}
        metrics: dict[str, Any] = {
            "eval_accuracy": last_eval.get("accuracy"),
            "eval_loss": last_eval.get("loss"),
            "linear_sparsity": stats.linear_sparsity(self.ctrl),
            "steps": state.train_steps,
            "global_step": state.global_step,
            "seconds_per_step": state.train_seconds / state.train_steps if state.train_steps else None,
            "epochs": self.plan.epochs,
            "resumed_from_step": self.base_meta["resumed_from_step"],
        }
        if quantization is not None:
            metrics["weight_quantizers"] = len(quantization.weight_quantizers)
            metrics["activation_quantizers"] = len(quantization.non_weight_quantizers)
        if self.group is not None:
            metrics["processes"] = self.group.world_size
        if training.precision not in (None, "fp32"):
            metrics["precision"] = training.precision
        if self.distiller is not None:
            metrics["distillation_teacher"] = self.config.distillation.teacher
        for key in ("f1", "exact_match"):  # exact_match: question answering (its `accuracy` too)
            if key in last_eval:
                metrics[f"eval_{key}"] = last_eval[key]
        if self.phase == MASK:
            metrics.update(self._masking_metrics())
        return metrics

    def _masking_metrics(self) -> dict[str, Any]:
        """mask: sparsity_table.json (rank 0) and what structured masking kept of heads and neurons."""
        before = self.state.extra.get("sparsity_before") or {}
        table = _sparsity_table(before, _sparsity_snapshot(self.ctrl), self.config, self.state)
        if self.writes:
            _write_json(self.output_dir / SPARSITY_TABLE, table)
        metrics = {
            "linear_sparsity_before_masking": before.get("linear_sparsity"),
            "structured_masking_step": self.state.structured_masking_step,
        }
        for kind in ("attention_heads", "ffn_neurons"):
            units = [b[kind] for b in table["blocks"] if kind in b]
            if units:
                metrics[f"{kind}_kept"] = sum(u["kept_after"] for u in units)
                metrics[f"{kind}_total"] = sum(u["total"] for u in units)
        return metrics

    def summary(self, metrics: dict[str, Any]) -> str:
        accuracy = metrics["eval_accuracy"]
        summary = (
            f"{self.phase}: {self.plan.epochs:g} epoch(s), linear sparsity {metrics['linear_sparsity']:.1%}"
            + (
                f", QAT ({metrics['weight_quantizers']} weight quantizers)"
                if self.compressed.quantization is not None
                else ""
            )
            + (f", eval accuracy {accuracy:.4f}" if accuracy is not None else "")
        )
        if metrics["resumed_from_step"] is not None:
            summary += f" (resumed at step {metrics['resumed_from_step']})"
        return summary


def _checkpoint_meta(config: Any, inputs: _PhaseInputs, start: _StartingPoint, model: Any) -> dict[str, Any]:
    """What every checkpoint of the attempt records besides the loop's progress."""
    plan = inputs.plan
    return {
        "phase": plan.phase,
        "resume_key": start.key,
        "steps_per_epoch": plan.steps_per_epoch,
        "num_labels": int(model.config.num_labels),
        "label_names": inputs.data.label_names,
        "input_names": list(inputs.input_names),
        "max_seq_length": config.data.max_seq_length,
        "model_class": type(model).__name__,
        "warmup_end_step": plan.warmup_end_step,
        "end_step": plan.end_step,
        # The step this attempt resumed an interrupted one at (None: it started from the beginning).
        "resumed_from_step": start.resumed_from_step,
    }


def _range_init_data(data: Any, task: Any, input_names: Any, batch_size: int, device: Any, limit: int):
    """The train split in order, as keyword batches on `device`: quantizer range initialisation data."""
    features = data.train.features
    count = min(limit, -(-len(features) // batch_size))

    def batches():
        for start in range(0, count * batch_size, batch_size):
            batch = task.collate(features[start : start + batch_size], input_names, data.pad_id)
            yield {k: v.to(device) for k, v in batch.items()}

    return batches, batch_size, count


def _distiller(ctx: StageContext, data: Any, processor: Any, device: Any) -> Any:
    """The frozen teacher of `distillation` (None without that section)."""
    distillation = ctx.config.distillation
    if distillation is None:
        return None
    from ov_movement.training.distill import Distiller, load_teacher

    baseline = ctx.input("baseline") if distillation.teacher == "baseline" else None
    teacher = load_teacher(
        ctx.config,
        ctx.config_dir,
        baseline,
        num_labels=data.num_labels,
        label_names=data.label_names,
        processor=processor,
    )
    return Distiller(teacher.to(device), float(distillation.temperature), float(distillation.weight))


def _sparsity_snapshot(ctrl: Any) -> dict[str, Any]:
    """Per-layer and per-block sparsity from the current masks."""
    from ov_movement.training import stats
    from ov_movement.training.nncf_setup import structured_groups

    groups = structured_groups(ctrl) or _analysis_groups(ctrl)
    blocks = stats.block_table(groups, ctrl)
    return {
        "linear_sparsity": stats.linear_sparsity(ctrl),
        "layers": stats.layer_table(ctrl),
        "blocks": blocks,
    }


def _analysis_groups(ctrl: Any) -> list[Any]:
    """Structured groups for reporting when NNCF's masking is off (only for families it supports)."""
    from ov_movement.training.nncf_setup import capture_nncf_warnings, structured_family

    if structured_family(ctrl.model) is None:
        return []
    from nncf.experimental.torch.sparsity.movement.structured_mask_handler import StructuredMaskHandler

    with capture_nncf_warnings():
        try:
            handler = StructuredMaskHandler(ctrl.model, ctrl.sparsified_module_info)
        except Exception as error:  # reporting only: never fail training for it
            log.warning("could not group layers for the per-block table: %s", error)
            return []
    return list(handler._structured_mask_ctx_groups)


def _sparsity_table(before: dict[str, Any], after: dict[str, Any], config: Any, state: Any) -> dict[str, Any]:
    before_layers = {row["nncf_name"]: row for row in before.get("layers", [])}
    layers = []
    for row in after["layers"]:
        prior = before_layers.get(row["nncf_name"], {})
        entry = {k: row[k] for k in ("nncf_name", "module", "weight_shape", "structure", "sparse_factors")}
        entry["before"] = {k: prior.get(k) for k in ("weight_sparsity", "bias_sparsity") if k in prior}
        entry["after"] = {k: row[k] for k in ("weight_sparsity", "bias_sparsity") if k in row}
        layers.append(entry)
    before_blocks = {b["block"]: b for b in before.get("blocks", [])}
    blocks = []
    for block in after["blocks"]:
        entry: dict[str, Any] = {"block": block["block"]}
        for kind in ("attention_heads", "ffn_neurons"):
            if kind in block:
                prior = before_blocks.get(block["block"], {}).get(kind, {})
                entry[kind] = {
                    "kept_before": prior.get("kept"),
                    "kept_after": block[kind]["kept"],
                    "total": block[kind]["total"],
                    "unit_size": block[kind]["unit_size"],
                    "layers": block[kind]["layers"],
                }
        blocks.append(entry)
    return {
        "structured_masking": bool(config.movement.params.enable_structured_masking),
        "structured_masking_step": state.structured_masking_step,
        "linear_sparsity_before": before.get("linear_sparsity"),
        "linear_sparsity_after": after["linear_sparsity"],
        "layers": layers,
        "blocks": blocks,
    }


class _NoLog:
    """train_log.jsonl on ranks other than 0: rank 0 logs the global batch's values."""

    def keep_before(self, step: int) -> None: ...

    def reset(self) -> None: ...

    def write(self, record: dict[str, Any]) -> None: ...


# Set by the distributed tests to a directory: at every epoch checkpoint each rank appends a hash of
# its weights, importance scores and masks to `<dir>/replicas-rank<rank>.txt`, and the stage fails
# unless all ranks hold the same.
CHECK_REPLICAS_ENV = "OV_MOVEMENT_CHECK_REPLICAS"


def _check_replicas(group: Any, model: Any, checkpoint: Path) -> None:
    import os

    folder = os.environ.get(CHECK_REPLICAS_ENV)
    if not folder:
        return
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    mine = digest.hexdigest()
    with open(Path(folder) / f"replicas-rank{group.rank}.txt", "a") as handle:
        handle.write(f"{checkpoint.name} {mine}\n")
    digests = group.gather(mine)
    if len(set(digests)) != 1:
        raise StageError(f"ranks hold different weights or masks at {checkpoint.name}: {digests}")


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1, allow_nan=False))
    tmp.replace(path)


__all__ = ["MASK", "SPARSIFY", "PhasePlan", "plan_phase", "resume_key", "run_phase"]
