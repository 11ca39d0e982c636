"""Distributed training (training.distributed) on CPU with gloo, through the command line.

One module-scoped chain on the tiny pipeline without dropout (with dropout, a run on two processes
draws other dropout masks than one process does and the two compare like two seeds):

    reference   one process, sparsify + mask, in this process
    killed      `ov-movement run --nproc-per-node 2 --until mask`, rank 1 held at its first step of
                mask's second epoch and SIGKILLed there: the run fails naming rank 1, no process of
                it is left, sparsify is cached and mask left its first epoch checkpoint
    resumed     the same command again: resumes mask from that checkpoint and finishes
    ctrl_c      Ctrl-C (SIGINT to the process group) while rank 0 trains sparsify: exit 130, no process left
    runner_kill SIGKILL of the runner alone (the launcher): its workers die with it
    two_nodes   `--nnodes 2` on localhost: two `ov-movement run` processes (node ranks 0 and 1)
                meeting at a c10d rendezvous on 127.0.0.1, through sparsify and mask

Every epoch checkpoint of the distributed runs is hash-compared across ranks
(OV_MOVEMENT_CHECK_REPLICAS): the stage fails if the ranks' weights or masks differ, and the hashes
are kept for the test to compare too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from ov_movement.pause_points import RANK_ENV as PAUSE_RANK_ENV
from ov_movement.training.session import CHECK_REPLICAS_ENV
from tests.reliability.processes import INTERRUPTED, Run, entries
from tests.stages.in_process import run_stage
from tests.tiny import tiny_pipeline_dict

pytestmark = pytest.mark.slow

# Tolerances of the two-process run against one process with the same global batch: the gradients
# are the same means, summed in another order (float32), so the runs drift apart by rounding only.
LOSS_TOLERANCE = 0.02
ACCURACY_TOLERANCE = 0.05
UNITS_AGREEMENT = 0.95
PROMPT_S = 30  # for SIGKILLed workers to be gone; about 0.1 s here


def _raw() -> dict:
    raw = tiny_pipeline_dict(
        training={"epochs": 4, "max_steps_per_epoch": 2},
        params={"warmup_start_epoch": 1, "warmup_end_epoch": 2},
    )
    raw["model"]["config"].update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    raw["name"] = "tiny-ddp"
    return raw


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_processes(session: int) -> list[int]:
    """Live processes of a session (the run's process group leader started it): orphans, if any."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:  # state, ppid, pgrp, session
            found.append(int(entry.name))
    return found


def _gone(session: int, timeout: float = PROMPT_S) -> list[int]:
    """The session's processes still alive after `timeout` s (a SIGKILLed parent's children get their
    PR_SET_PDEATHSIG at once, but their exit takes a moment)."""
    deadline = time.monotonic() + timeout
    while (left := _session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _held(workdir: Path, config: Path, rank: int, pause_at: str) -> Run:
    os.environ[PAUSE_RANK_ENV] = str(rank)  # only that rank holds; the others wait for it in a collective
    try:
        run = Run(workdir, "--nproc-per-node", "2", "--until", "mask", config=config, pause_at=pause_at)
    finally:
        os.environ.pop(PAUSE_RANK_ENV, None)
    run.wait_paused()
    return run


def _replicas(folder: Path) -> dict[int, list[str]]:
    return {
        int(path.stem.removeprefix("replicas-rank")): path.read_text().splitlines()
        for path in sorted(folder.glob("replicas-rank*.txt"))
    }


def _units(checkpoint: Path) -> dict[str, list[bool]]:
    """Kept attention heads and FFN neurons, per layer, from a checkpoint's binary masks."""
    from ov_movement.training.checkpoint import read_masks
    from tests.tiny import HEAD_DIM

    units = {}
    for module, masks in read_masks(checkpoint).items():
        weight = masks["weight"]
        if module.endswith("attention.self.query"):
            rows = weight.reshape(-1, HEAD_DIM, weight.shape[1])
            units[module] = [bool(head.any()) for head in rows]
        elif module.endswith("intermediate.dense"):
            units[module] = [bool(row.any()) for row in weight]
    return units


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    config = root / "tiny-ddp.json"
    config.write_text(json.dumps(_raw()))
    from ov_movement.config.pipeline import PipelineConfig

    reference = PipelineConfig.model_validate(_raw())
    results = {"root": root, "config": config}
    results["reference"] = {name: run_stage(name, reference, root / "one") for name in ("sparsify", "mask")}

    hashes = root / "hashes"
    hashes.mkdir()
    os.environ[CHECK_REPLICAS_ENV] = str(hashes)
    try:
        interrupted = _held(root / "launcher", config, 0, "sparsify:step:1")
        interrupted.send(signal.SIGINT)
        results["ctrl_c"] = (interrupted, interrupted.finish(), _gone(interrupted.pid))
        runner = _held(root / "launcher", config, 0, "sparsify:step:1")
        os.kill(runner.pid, signal.SIGKILL)  # the runner alone, not its process group
        results["runner_kill"] = (runner, runner.finish(), _gone(runner.pid))

        args = ("--nproc-per-node", "2", "--until", "mask")
        killed = _held(root / "work", config, 1, "mask:step:3")
        results["killed"] = killed
        paused = next(line for line in killed.lines if "paused at" in line)
        os.kill(int(paused.rsplit("pid ", 1)[1].rstrip(")\n")), signal.SIGKILL)
        results["killed_code"] = killed.finish()
        results["orphans"] = _gone(killed.pid)
        results["after_kill_entries"] = {s: entries(root / "work", s) for s in ("sparsify", "mask")}
        results["after_kill_hashes"] = _replicas(hashes)
        resumed = Run(root / "work", *args, config=config)
        results["resumed_code"] = resumed.finish()
        results["resumed"] = resumed
        results["hashes"] = _replicas(hashes)

        port = _free_port()
        nodes = [
            Run(
                root / "nodes",
                "--nnodes", "2", "--node-rank", str(rank), "--rdzv-endpoint", f"127.0.0.1:{port}",
                "--nproc-per-node", "1", "--until", "mask",
                config=config,
            )
            for rank in (0, 1)
        ]  # fmt: skip
        results["nodes"] = [(node, node.finish()) for node in nodes]
    finally:
        os.environ.pop(CHECK_REPLICAS_ENV, None)
    for name, value in results.items():
        run = value[0] if isinstance(value, tuple) else value
        if isinstance(run, Run):
            print(f"---- {name}\n{run.output}")
    return results


def test_ctrl_c_stops_every_rank_and_says_how_to_resume(chain):
    run, code, left = chain["ctrl_c"]
    assert code == 130, run.output
    assert run.output.rstrip().splitlines()[-1] == INTERRUPTED
    assert left == [], f"processes of the interrupted run still alive: {left}"


def test_sigkill_of_the_runner_takes_its_workers_with_it(chain):
    run, code, left = chain["runner_kill"]
    assert code == -signal.SIGKILL, run.output
    assert left == [], f"workers outlived the killed runner: {left}"


def test_killing_one_rank_fails_the_run_naming_it_and_leaves_no_process(chain):
    killed = chain["killed"]
    assert chain["killed_code"] == 2, killed.output
    assert "training rank 1" in killed.output and "killed by SIGKILL" in killed.output, killed.output
    assert chain["orphans"] == [], f"processes of the killed run still alive: {chain['orphans']}"
    # sparsify was committed before; mask was not (its .partial keeps the epoch checkpoint)
    assert len(chain["after_kill_entries"]["sparsify"]) == 1
    assert chain["after_kill_entries"]["mask"] == []


def test_the_same_command_resumes_from_the_last_epoch_checkpoint(chain):
    resumed = chain["resumed"]
    assert chain["resumed_code"] == 0, resumed.output
    assert "sparsify" in resumed.output and "resumed at step" in resumed.output, resumed.output
    workdir = chain["root"] / "work"
    manifest = json.loads((entries(workdir, "mask")[0] / "manifest.json").read_text())
    assert manifest["metrics"]["processes"] == 2
    assert manifest["metrics"]["resumed_from_step"] == 6  # 2 steps per epoch: mask's first epoch ends at 6


def test_all_ranks_hold_identical_weights_and_masks_at_every_epoch_checkpoint(chain):
    hashes = chain["hashes"]
    assert sorted(hashes) == [0, 1]
    assert hashes[0] == hashes[1]
    # sparsify's 2 epochs and mask's first in the killed run, then mask's second after resuming
    steps = [line.split()[0] for line in hashes[0]]
    assert steps == ["step-0000002", "step-0000004", "step-0000006", "step-0000008"]
    assert chain["after_kill_hashes"][0] == hashes[0][:3]


def test_two_processes_match_one_process_with_the_same_global_batch(chain):
    workdir = chain["root"] / "work"
    entry = entries(workdir, "mask")[0]
    two = json.loads((entry / "eval.json").read_text())[-1]
    one = json.loads((chain["root"] / "one" / "mask" / "eval.json").read_text())[-1]
    assert abs(two["loss"] - one["loss"]) < LOSS_TOLERANCE, (one, two)
    assert abs(two["accuracy"] - one["accuracy"]) <= ACCURACY_TOLERANCE, (one, two)
    units_two = _units(entry / "checkpoint")
    units_one = _units(chain["root"] / "one" / "mask" / "checkpoint")
    assert units_one.keys() == units_two.keys() and units_one
    pairs = [(a, b) for layer in units_one for a, b in zip(units_one[layer], units_two[layer], strict=True)]
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    assert agreement >= UNITS_AGREEMENT, f"{agreement:.1%} of heads and FFN neurons agree"


def test_two_nodes_on_localhost_train_like_two_processes_on_one(chain):
    for node, code in chain["nodes"]:
        assert code == 0, node.output
    node1 = chain["nodes"][1][0]
    assert "joined sparsify, mask" in node1.output  # one rendezvous per stage, node 0 committing between
    for stage in ("sparsify", "mask"):
        nodes_entry = entries(chain["root"] / "nodes", stage)
        assert len(nodes_entry) == 1  # node 0 committed it; node 1 wrote nothing
        processes_entry = entries(chain["root"] / "work", stage)[0]
        two_nodes = json.loads((nodes_entry[0] / "eval.json").read_text())
        two_processes = json.loads((processes_entry / "eval.json").read_text())
        assert [round(r["loss"], 5) for r in two_nodes] == [round(r["loss"], 5) for r in two_processes]
