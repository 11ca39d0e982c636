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

    from ov_movement.model_inputs import prepare_data
    from ov_movement.models import build_model, get_task, load_processor, model_input_names
    from ov_movement.training import stats
    from ov_movement.training.checkpoint import (
        CorruptCheckpointError,
        load_checkpoint,
        read_meta,
        restore_rng,
        save_checkpoint,
    )
    from ov_movement.training.distributed import current_group, device_for, wrap
    from ov_movement.training.loop import (
        JsonlLog,
        Loop,
        LoopState,
        grad_scaler,
        lr_multiplier,
        make_optimizer,
        steps_per_epoch,
    )
    from ov_movement.training.nncf_setup import compress, ensure_nncf, nncf_config_dict

    config = ctx.config
    training = config.training
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

    task = get_task(config.model.task)
    processor = load_processor(config.model, ctx.config_dir)
    input_names = model_input_names(config.model, ctx.config_dir, processor)
    data = prepare_data(config, ctx.config_dir, processor, input_names)
    spe = steps_per_epoch(len(data.train), training.batch_size, training.max_steps_per_epoch)
    plan = plan_phase(config, phase, spe)

    # Where this attempt starts from: its own latest checkpoint, else (mask) sparsify's.
    upstream_dir = Path(ctx.input(SPARSIFY)) / CHECKPOINT_DIR if phase == MASK else None
    try:
        upstream_key = read_meta(upstream_dir).get("resume_key") if upstream_dir is not None else None
    except CorruptCheckpointError as error:
        raise _unreadable(error, upstream_dir, own=False) from error
    key = resume_key(config, phase, upstream_key)
    own = _latest_own_checkpoint(output_dir, key)
    start_from = own or upstream_dir
    try:
        checkpoint = load_checkpoint(start_from, map_location=device) if start_from is not None else None
    except CorruptCheckpointError as error:
        raise _unreadable(error, start_from, own=own is not None) from error
    if checkpoint is not None:
        expected = {"steps_per_epoch": spe, "num_labels": config.model.num_labels or data.num_labels}
        for name, value in expected.items():
            if int(checkpoint.meta[name]) != value:
                raise StageError(
                    f"{start_from}: trained with {name} {checkpoint.meta[name]}, this config gives {value}"
                )
        if own is None and int(checkpoint.meta["global_step"]) != plan.start_step:
            raise StageError(
                f"{start_from}: ends at step {checkpoint.meta['global_step']}, mask expects {plan.start_step}"
            )

    torch.manual_seed(training.seed)
    model = build_model(
        config.model,
        ctx.config_dir,
        num_labels=data.num_labels,
        label_names=data.label_names,
        processor=processor,
        load_weights=checkpoint is None,  # every weight comes from the checkpoint otherwise
    )
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and config.data.max_seq_length > positions:
        raise ConfigError(  # else a shape error deep inside the embeddings at the first step
            [
                ConfigIssue(
                    "data.max_seq_length",
                    f"{config.data.max_seq_length} is longer than the model's max_position_embeddings ({positions})",
                )
            ]
        )
    model.to(device)
    nncf_config = nncf_config_dict(
        config,
        input_info=task.nncf_input_info(input_names, config.data.max_seq_length, processor=processor),
        steps_per_epoch=spe,
        # NNCF writes structured_sparsity.csv there from every rank: only rank 0's goes to the output.
        log_dir=output_dir / NNCF_LOG_DIR if writes else scratch,
    )
    compressed = compress(
        model,
        config,
        nncf_config,
        compression_state=checkpoint.compression_state if checkpoint else None,
        init_data=_range_init_data(data, task, input_names, training.batch_size, device, spe),
    )
    model, ctrl, composite = compressed.model, compressed.ctrl, compressed.composite
    if checkpoint is not None:
        model.load_state_dict(checkpoint.model_state)
    trained = model
    if group is not None:
        trained = wrap(model, device)
        (composite if composite is not None else ctrl).distributed()  # NNCF: after the DDP wrapper

    optimizer = make_optimizer(model, training.learning_rate, training.weight_decay)
    warmup_steps = round(training.lr_warmup_ratio * plan.warmup_end_step)
    decay_end = plan.end_step if phase == MASK else None
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_multiplier(warmup_steps, plan.warmup_end_step, decay_end)
    )

    train_log = JsonlLog(output_dir / TRAIN_LOG) if writes else _NoLog()
    if checkpoint is not None:
        optimizer.load_state_dict(checkpoint.optimizer_state)
        lr_scheduler.load_state_dict(checkpoint.lr_scheduler_state)
        composite.scheduler.load_state(checkpoint.meta["scheduler_state"])
    if own is not None:
        state = LoopState.from_meta(checkpoint.meta)
        train_log.keep_before(state.global_step)
        log.info("%s: resuming at step %d from %s", phase, state.global_step, own)
    else:
        train_log.reset()
        state = LoopState(global_step=plan.start_step)
        if phase == MASK:
            state.extra["sparsity_before"] = _sparsity_snapshot(ctrl)
    # Before the RNG is set: building the teacher draws random initial weights, and a resumed run must
    # continue with exactly the generator state an uninterrupted one had.
    distiller = _distiller(ctx, data, processor, device)
    if checkpoint is not None:
        restore_rng(checkpoint.rng_state)
    else:
        torch.manual_seed(training.seed)

    loop = Loop(
        phase=phase,
        model=trained,
        eval_model=model,
        group=group,
        precision=training.precision,
        scaler=grad_scaler(device, training.precision),
        ctrl=ctrl,
        composite=composite,
        distiller=distiller,
        optimizer=optimizer,
        lr_scheduler=lr_scheduler,
        task=task,
        train_features=data.train.features,
        eval_features=data.eval.features,
        input_names=input_names,
        pad_id=data.pad_id,
        device=device,
        batch_size=training.batch_size,
        eval_batch_size=training.eval_batch_size,
        steps_per_epoch=spe,
        seed=training.seed,
        max_grad_norm=training.max_grad_norm,
        log=train_log,
        structured_masking=config.movement.params.enable_structured_masking,
        progress=ctx.progress,
        total_params=stats.model_parameter_count(model),
    )
    base_meta = {
        "phase": phase,
        "resume_key": key,
        "steps_per_epoch": spe,
        "num_labels": int(model.config.num_labels),
        "label_names": data.label_names,
        "input_names": list(input_names),
        "max_seq_length": config.data.max_seq_length,
        "model_class": type(model).__name__,
        "warmup_end_step": plan.warmup_end_step,
        "end_step": plan.end_step,
        # The step this attempt resumed an interrupted one at (None: it started from the beginning).
        "resumed_from_step": int(checkpoint.meta["global_step"]) if own is not None else None,
    }
    epochs_dir = output_dir / EPOCHS_DIR
    last_saved: Path | None = own

    def finish_epoch(epoch: int) -> None:
        nonlocal last_saved
        metrics = loop.evaluate()
        record = {
            "epoch": epoch,
            "epoch_position": state.global_step / spe,
            "step": state.global_step,
            **metrics,
            "linear_sparsity": stats.linear_sparsity(ctrl),
        }
        state.eval_history.append(record)
        meta = {**base_meta, **state.to_meta(), "completed_epochs": state.global_step // spe}
        last_saved = epochs_dir / f"step-{state.global_step:07d}"
        if writes:
            _write_json(output_dir / EVAL_FILE, state.eval_history)
            save_checkpoint(
                last_saved,
                model=model,
                ctrl=composite,
                optimizer=optimizer,
                lr_scheduler=lr_scheduler,
                meta=meta,
            )
            for old in epochs_dir.iterdir():
                if old != last_saved:
                    shutil.rmtree(old, ignore_errors=True)
        if group is not None:
            _check_replicas(group, model, last_saved)
            group.barrier()  # no rank runs ahead of a checkpoint it might have to resume from
        pause_point(phase, "epoch-checkpoint")
        log.info("%s: %s", phase, {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()})
        for callback in callbacks:
            callback(epoch, record)

    if state.global_step == plan.end_step and last_saved is None:
        # mask with training.epochs == warmup_end_epoch: resolve (and freeze) the masks, no fine-tuning.
        loop.freeze_without_step(state)
        finish_epoch(max(0, (state.global_step - 1) // spe))
    while state.global_step < plan.end_step:
        epoch, offset = divmod(state.global_step, spe)
        stop = min(spe, offset + plan.end_step - state.global_step)
        loop.train_epoch(epoch, state, start=offset, stop=stop)
        finish_epoch(epoch)

    # Finish: the last checkpoint becomes `checkpoint/`; the per-epoch ones go.
    final = output_dir / CHECKPOINT_DIR
    if last_saved is None:
        raise StageError(f"{phase}: nothing was trained (steps {plan.start_step}..{plan.end_step})")
    if group is not None:
        group.barrier()  # every rank has read what it needed from epochs/
    if writes:
        if last_saved != final:
            if final.exists():
                shutil.rmtree(final)
            last_saved.rename(final)
        shutil.rmtree(epochs_dir, ignore_errors=True)
        _write_json(output_dir / EVAL_FILE, state.eval_history)
        nncf_dir = output_dir / NNCF_LOG_DIR
        if nncf_dir.is_dir() and not any(nncf_dir.iterdir()):
            nncf_dir.rmdir()  # NNCF writes structured_sparsity.csv here only when it resolves masks

    final_linear = stats.linear_sparsity(ctrl)
    last_eval = state.eval_history[-1] if state.eval_history else {}
    metrics: dict[str, Any] = {
        "eval_accuracy": last_eval.get("accuracy"),
        "eval_loss": last_eval.get("loss"),
        "linear_sparsity": final_linear,
        "steps": state.train_steps,
        "global_step": state.global_step,
        "seconds_per_step": state.train_seconds / state.train_steps if state.train_steps else None,
        "epochs": plan.epochs,
        "resumed_from_step": base_meta["resumed_from_step"],
    }
    if compressed.quantization is not None:
        metrics["weight_quantizers"] = len(compressed.quantization.weight_quantizers)
        metrics["activation_quantizers"] = len(compressed.quantization.non_weight_quantizers)
    if group is not None:
        metrics["processes"] = group.world_size
    if training.precision not in (None, "fp32"):
        metrics["precision"] = training.precision
    if distiller is not None:
        metrics["distillation_teacher"] = config.distillation.teacher
    for key in ("f1", "exact_match"):  # exact_match: question answering (its `accuracy` too)
        if key in last_eval:
            metrics[f"eval_{key}"] = last_eval[key]
    if phase == MASK:
        before = state.extra.get("sparsity_before") or {}
        table = _sparsity_table(before, _sparsity_snapshot(ctrl), config, state)
        if writes:
            _write_json(output_dir / SPARSITY_TABLE, table)
        metrics["linear_sparsity_before_masking"] = before.get("linear_sparsity")
        metrics["structured_masking_step"] = state.structured_masking_step
        for kind in ("attention_heads", "ffn_neurons"):
            units = [b[kind] for b in table["blocks"] if kind in b]
            if units:
                metrics[f"{kind}_kept"] = sum(u["kept_after"] for u in units)
                metrics[f"{kind}_total"] = sum(u["total"] for u in units)
    accuracy = metrics["eval_accuracy"]
    summary = (
        f"{phase}: {plan.epochs:g} epoch(s), linear sparsity {final_linear:.1%}"
        + (
            f", QAT ({metrics['weight_quantizers']} weight quantizers)"
            if compressed.quantization is not None
            else ""
        )
        + (f", eval accuracy {accuracy:.4f}" if accuracy is not None else "")
    )
    if metrics["resumed_from_step"] is not None:
        summary += f" (resumed at step {metrics['resumed_from_step']})"
    if not writes:
        shutil.rmtree(scratch, ignore_errors=True)
    return StageResult(metrics=metrics, summary=summary)


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
