"""Data-parallel training stages on torch.distributed, started by torchrun's elastic launcher.

The runner stays one process: it plans, holds the workdir lock and commits the cache. When
`training.distributed` asks for more than one process, a training stage does not train in the
runner: `launch()` starts the workers with `torch.distributed.launcher.api.elastic_launch` (the
engine behind `torchrun`, c10d rendezvous), each worker rebuilds the stage from its pickled
`StageContext` and runs the same training loop inside a process group; rank 0 writes outputs,
checkpoints and logs; the stage's result comes back to the runner as rank 0's return value, and the
runner commits it as before. With several machines, node 0 runs the pipeline and the other nodes
`join()` each training stage's rendezvous (their workers receive the stage from rank 0).

Data parallelism keeps the configured global batch: every optimizer step takes the same global batch
as one process would (`loop.epoch_batches`), each rank a strided share of it (`Group.shard`),
and the rank's loss is weighted by its share of the batch, so DistributedDataParallel's gradient
average is the gradient of the global batch mean. Evaluation splits the eval set over the ranks and
gathers every prediction back in dataset order, so metrics are computed once on the whole split.

Interruption: workers die with the runner (PR_SET_PDEATHSIG), the elastic agent stops all workers
when one fails or the runner is interrupted, and nothing is committed unless every rank finished.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ov_movement.errors import ConfigError, ConfigIssue, StageError

# Set in the workers: there, a training stage trains instead of launching workers.
WORKER_ENV = "OV_MOVEMENT_DISTRIBUTED_WORKER"
_LOC = "training.distributed"


@dataclass(frozen=True)
class Settings:
    """`training.distributed` with `auto` resolved."""

    nproc_per_node: int
    nnodes: int
    node_rank: int
    rdzv_endpoint: str | None
    backend: str

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def settings(config: Any) -> Settings | None:
    """The process layout a config asks for; None for one process (the plain, in-process path)."""
    section = config.training.distributed
    if section is None:
        return None
    nproc = section.nproc_per_node
    cuda = config.training.device != "cpu" and _cuda_count() > 0
    if nproc == "auto":
        nproc = _cuda_count() if cuda else 1
    backend = section.backend
    if backend == "auto":
        backend = "nccl" if cuda else "gloo"
    result = Settings(int(nproc), int(section.nnodes), int(section.node_rank), section.rdzv_endpoint, backend)
    return result if result.world_size > 1 else None


def check(config: Any) -> None:
    """User errors of `training.distributed`, before anything runs (ConfigError with the location)."""
    section = config.training.distributed
    if section is None:
        return
    issues = []
    if section.node_rank >= section.nnodes:
        issues.append(
            ConfigIssue(f"{_LOC}.node_rank", f"{section.node_rank} is not below nnodes ({section.nnodes})")
        )
    if section.nnodes > 1 and not section.rdzv_endpoint:
        issues.append(
            ConfigIssue(
                f"{_LOC}.rdzv_endpoint", "needed with nnodes > 1: HOST:PORT of node 0 (--rdzv-endpoint)"
            )
        )
    if section.rdzv_endpoint and not _parse_endpoint(section.rdzv_endpoint):
        issues.append(ConfigIssue(f"{_LOC}.rdzv_endpoint", f"{section.rdzv_endpoint!r} is not HOST:PORT"))
    if section.backend == "nccl" and config.training.device == "cpu":
        issues.append(ConfigIssue(f"{_LOC}.backend", "nccl needs CUDA; training.device is cpu (use gloo)"))
    if issues:
        raise ConfigError(issues)
    layout = settings(config)
    if layout is not None and config.training.batch_size % layout.world_size:
        raise ConfigError(
            [
                ConfigIssue(
                    "training.batch_size",
                    f"{config.training.batch_size} is the global batch; it must divide evenly over "
                    f"{layout.world_size} processes ({layout.nproc_per_node} per node x {layout.nnodes} nodes)",
                )
            ]
        )


def _parse_endpoint(endpoint: str) -> tuple[str, int] | None:
    host, _, port = endpoint.rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() and 0 < int(port) < 65536 else None


def with_options(config: Any, **options: Any) -> Any:
    """The config with command-line options (`--nproc-per-node` ...) applied to `training.distributed`.

    A layout of exactly one process on one node drops the section: that is today's in-process path,
    with the same fingerprints."""
    from pydantic import ValidationError

    from ov_movement.config.pipeline import DistributedConfig

    given = {key: value for key, value in options.items() if value is not None}
    section = config.training.distributed
    if given:
        raw = {**(section.model_dump(exclude_none=True) if section is not None else {}), **given}
        try:
            section = DistributedConfig.model_validate(raw)
        except ValidationError as error:
            issues = [ConfigIssue(".".join([_LOC, *map(str, e["loc"])]), e["msg"]) for e in error.errors()]
            raise ConfigError(issues, source="command line") from None
    if section is not None and section.nproc_per_node == 1 and section.nnodes == 1:
        section = None
    training = config.training.model_copy(update={"distributed": section})
    config = config.model_copy(update={"training": training})
    check(config)
    return config


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1"


def needs_launch(config: Any) -> bool:
    """Whether a training stage must start workers (it runs in the runner, and asks for several)."""
    return not in_worker() and settings(config) is not None


def run_id(stage: str, output_dir: Path | str) -> str:
    """The rendezvous id of one stage attempt: the same on every node (the fingerprint's prefix)."""
    digest = Path(output_dir).name.removesuffix(".partial")
    return f"ov-movement-{stage}-{digest[:16]}"


# ---------------------------------------------------------------------------------------------
# The launching side (the runner on node 0, `join` on the other nodes).


def launch(ctx: Any) -> Any:
    """Run the stage of `ctx` in workers; rank 0's StageResult (node 0), else None (other nodes)."""
    from ov_movement.stages.base import StageResult

    layout = settings(ctx.config)
    assert layout is not None
    returned = _elastic(
        layout, run_id(ctx.stage, ctx.output_dir), ctx.stage, ctx if layout.node_rank == 0 else None
    )
    if layout.node_rank != 0:
        return None
    result = returned.get(0)
    if not isinstance(result, dict):  # a wiring bug: rank 0 always returns its result
        raise RuntimeError(f"{ctx.stage}: rank 0 returned {result!r}")
    return StageResult(metrics=result["metrics"], summary=result["summary"])


def join(config: Any, stage: str, digest: str) -> None:
    """On a node other than 0: take part in node 0's attempt at `stage` (fingerprint `digest`)."""
    layout = settings(config)
    if layout is None or layout.node_rank == 0:
        raise RuntimeError("join() is for nodes other than 0 of a multi-node run")
    _elastic(layout, run_id(stage, f"{digest}.partial"), stage, None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _elastic(layout: Settings, rdzv_id: str, stage: str, ctx: Any) -> dict[int, Any]:
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    endpoint = layout.rdzv_endpoint or f"127.0.0.1:{_free_port()}"
    # The agent installs its own signal handlers in this (the runner's) process: put ours back after.
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    }
    with tempfile.TemporaryDirectory(prefix="ov-movement-launch-") as logs:
        config = LaunchConfig(
            min_nodes=layout.nnodes,
            max_nodes=layout.nnodes,
            nproc_per_node=layout.nproc_per_node,
            run_id=rdzv_id,
            rdzv_backend="c10d",
            rdzv_endpoint=endpoint,
            # Node 0 hosts the rendezvous store; on one machine with two nodes both would claim it.
            # read_timeout: how long the other nodes try to reach node 0's store, which node 0 opens
            # only after it committed the stage before (hashing a large checkpoint takes a while).
            rdzv_configs={"is_host": layout.node_rank == 0, "read_timeout": 600},
            max_restarts=0,  # a failed rank fails the stage; the next `run` resumes from the checkpoint
            start_method="spawn",
            logs_specs=DefaultLogsSpecs(log_dir=logs),
        )
        try:
            return elastic_launch(config, _worker)(stage, ctx, layout.backend, os.getpid())
        except ChildFailedError as error:
            raise _failure(stage, error) from None
        except SignalException as error:
            if error.sigval == signal.SIGINT:
                raise KeyboardInterrupt from None
            raise StageError(f"{stage}: the launcher received {error.sigval.name}; workers stopped") from None
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)


def _failure(stage: str, error: Any) -> StageError:
    """The first failed rank, named, with its own error (a user error's message, else its exit)."""
    rank, failure = min(error.failures.items())
    if failure.signal_name() != "<N/A>" and failure.exitcode < 0:
        cause = f"killed by {failure.signal_name()}"
    else:
        message = str(failure.message).strip()
        cause = (
            message.splitlines()[0]
            if message and "pytorch.org" not in message
            else f"exit code {failure.exitcode}"
        )
    others = sorted(r for r in error.failures if r != rank)
    also = f" (ranks {', '.join(map(str, others))} failed too)" if others else ""
    return StageError(
        f"{stage}: training rank {rank} (pid {failure.pid}) failed: {cause}{also}; the other ranks were "
        "stopped and nothing was cached. Run the same command again to resume from the last epoch checkpoint"
    )


# ---------------------------------------------------------------------------------------------
# The worker side.


def _die_with_parent(parent: int) -> None:
    """SIGKILL this worker when the process that started it dies (SIGKILL of the runner included)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _worker(stage: str, ctx: Any, backend: str, parent: int) -> dict[str, Any] | None:
    """One rank: join the process group, get the stage from rank 0, run it; rank 0 returns the result."""
    _die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the runner stops the workers; a rank just goes.
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    os.environ[WORKER_ENV] = "1"
    import torch.distributed as dist

    from ov_movement.errors import OvMovementError
    from ov_movement.stages import STAGES

    if backend == "nccl":
        import torch

        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend)
    try:
        box = [ctx]
        dist.broadcast_object_list(box, src=0)
        ctx = box[0]
        if dist.get_rank() != 0:
            ctx = _quiet(ctx)
        _share_cores(ctx.config, backend)
        result = STAGES[stage].for_config(ctx.config).load()(ctx)
        dist.barrier()
        return {"metrics": result.metrics, "summary": result.summary} if dist.get_rank() == 0 else None
    except OvMovementError as error:  # a user error: its message, no traceback (read by _failure)
        from torch.distributed.elastic.multiprocessing.errors import ErrorHandler

        print(f"error (rank {dist.get_rank()}): {error}", file=sys.stderr, flush=True)
        ErrorHandler().record_exception(error)
        raise SystemExit(2) from None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _share_cores(config: Any, backend: str) -> None:
    """On CPU (gloo) without training.num_threads, the processes of a node share its cores (torchrun
    sets OMP_NUM_THREADS=1 for the same reason): torch's default, all cores each, oversubscribes them."""
    if backend != "gloo" or config.training.num_threads is not None:
        return
    import torch

    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))


def _quiet(ctx: Any) -> Any:
    from dataclasses import replace

    return replace(ctx, progress=False)  # one progress bar: rank 0's


# ---------------------------------------------------------------------------------------------
# Inside the workers: the process group as the training loop uses it.


@dataclass(frozen=True)
class Group:
    rank: int
    world_size: int
    local_rank: int

    @property
    def writes(self) -> bool:
        """Rank 0 writes every file of the stage."""
        return self.rank == 0

    def shard(self, indices: list[int]) -> tuple[list[int], float]:
        """This rank's share of a global batch, and the weight of its mean loss in the global mean.

        A rank left without examples (a last batch smaller than the world) takes one with weight 0,
        so that every rank still runs the forward and backward DistributedDataParallel waits for."""
        mine = indices[self.rank :: self.world_size]
        if not mine:
            return indices[:1], 0.0
        return mine, len(mine) * self.world_size / len(indices)

    def mean(self, values: list[float]) -> list[float]:
        """The average over ranks (each value already weighted by the rank's share)."""
        import torch
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            tensor = tensor.cuda()
        dist.all_reduce(tensor)
        return [float(v) / self.world_size for v in tensor.cpu()]

    def gather(self, value: Any) -> list[Any]:
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def barrier(self) -> None:
        import torch.distributed as dist

        dist.barrier()


def current_group() -> Group | None:
    """The process group of this worker; None in one process."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def device_for(name: str, group: Group | None) -> Any:
    """The training device: `auto` = CUDA when present; under DDP the rank's own GPU."""

    device = pick_device(name)
    if device.type == "cuda" and group is not None:
        import torch

        return torch.device("cuda", group.local_rank)
    return device


def wrap(model: Any, device: Any) -> Any:
    """DistributedDataParallel around the NNCF model, as NNCF's examples do (then ctrl.distributed()).

    find_unused_parameters: NNCF freezes the importance scores (requires_grad False) at the end of the
    warm-up, mid-stage; DDP then must not wait for their gradients."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)


def pick_device(name: str) -> Any:
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise StageError("training.device is 'cuda' but no CUDA device is available (use 'auto' or 'cpu')")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


__all__ = [
    "WORKER_ENV",
    "Group",
    "Settings",
    "check",
    "current_group",
    "device_for",
    "in_worker",
    "join",
    "launch",
    "needs_launch",
    "run_id",
    "settings",
    "with_options",
    "wrap",
]
