"""Sweeps through real clusters: a local Ray head and a one-node SLURM cluster, each started and
stopped by the test, give the same job folders and the same numbers as the basic launcher."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO, run_ldl

# A grid of two configurations x 2 folds; one TensorFlow thread everywhere, so that every launcher
# computes exactly the same numbers.
SWEEP = (
    "train",
    "-m",
    "experiment=c6_conf1,c6e1",
    "cv.k=2",
    "cv.fold=0,1",
    "trainer.epochs=3",
    "trainer.seed=0",
    "trainer.threads=1",
    "trainer.verbose=0",
)


def run_sweep(work: Path, boston_dir: Path, *launcher: str) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    result = run_ldl(*SWEEP, f"data_dir={boston_dir}", *launcher, cwd=work, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (folder,) = list((work / "outputs" / "multirun").iterdir())
    return folder


def comparable(folder: Path) -> dict:
    """What must not depend on the launcher: job folders, their files, statuses and numbers."""
    summary = pd.read_csv(folder / "summary.csv").drop(columns=["seconds"]).fillna("")
    jobs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    ranking = (folder / "summary.md").read_text().split("\n\n")[2]  # the configurations table
    return {
        "summary": summary.to_dict("records"),
        "ranking": ranking,
        "files": {
            job.name: sorted(p.name for p in job.iterdir() if p.name != ".hydra") for job in jobs
        },
    }


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory, boston_dir) -> dict:
    return comparable(run_sweep(tmp_path_factory.mktemp("basic"), boston_dir))


# --- Ray ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def local_ray(tmp_path_factory):
    """`ray start --head` on 127.0.0.1 with 2 CPUs, in its own process group; stopped right after its
    test, so that it holds no cores while the SLURM test runs."""
    pytest.importorskip("ray", reason="the [ray] extra is not installed (pip install -e '.[ray]')")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="hydra-ray-launcher is missing")
    become_subreaper()
    port = free_port()
    log = tmp_path_factory.mktemp("ray") / "head.log"
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RAY_USAGE_STATS_ENABLED": "0"}
    ray = str(Path(sys.executable).with_name("ray"))
    with log.open("w") as output:
        head = subprocess.Popen(
            [
                ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
                "--num-cpus=2", "--num-gpus=0", "--include-dashboard=false",
                "--object-store-memory=100000000", "--disable-usage-stats",
            ],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
            start_new_session=True,  # the head and everything it starts form one process group
        )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            status = subprocess.run(
                [ray, "status", f"--address={address}"],
                capture_output=True,
                text=True,
                env=environment,
            )
            if status.returncode == 0 and "CPU" in status.stdout:  # the node has registered
                break
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield address, status.stdout
    finally:
        stop_process_group(head)
        reap_orphans()


def become_subreaper() -> None:
    """Ray's daemons outlive the head process for a moment; make them this process's children, not
    init's, so that they can be reaped here (PR_SET_CHILD_SUBREAPER, Linux)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)


def reap_orphans() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the group, SIGKILL what is left after 10 s; nothing of it survives the test."""
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


@pytest.mark.slow
@pytest.mark.ray
def test_a_sweep_on_a_local_ray_cluster_matches_the_basic_launcher(
    local_ray, basic_sweep, tmp_path, boston_dir
):
    address, status = local_ray
    assert "2.0 CPU" in status
    # Started from another directory than the head: relative paths still mean the sweep's own.
    folder = run_sweep(
        tmp_path,
        boston_dir,
        "hydra/launcher=ray_cluster",
        f"hydra.launcher.ray.init.address={address}",
    )
    assert comparable(folder) == basic_sweep


# --- SLURM --------------------------------------------------------------------------------------

LOCAL_SLURM = REPO / "scripts" / "local_slurm.sh"


def slurm_is_up() -> bool:
    if shutil.which("scontrol") is None:
        return False
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True)
    return ping.returncode == 0 and "UP" in ping.stdout


@pytest.fixture(scope="module")
def local_slurm():
    """The one-node cluster of scripts/local_slurm.sh; started (and stopped) here unless already up."""
    if slurm_is_up():
        yield
        return
    if os.geteuid() != 0:
        pytest.skip("starting the local SLURM cluster needs root (scripts/local_slurm.sh start)")
    if shutil.which("slurmctld") is None or shutil.which("munged") is None:
        pytest.skip("slurm-wlm and munge are not installed (scripts/local_slurm.sh install)")
    start = subprocess.run(["bash", str(LOCAL_SLURM), "start"], capture_output=True, text=True)
    if start.returncode != 0:
        pytest.fail(f"scripts/local_slurm.sh start failed:\n{start.stdout}{start.stderr}")
    try:
        yield
    finally:
        stop = subprocess.run(["bash", str(LOCAL_SLURM), "stop"], capture_output=True, text=True)
        reap_orphans()  # the daemons' exited parents, adopted by this process when it is a subreaper
        assert not slurm_is_up(), f"scripts/local_slurm.sh stop left slurmctld up:\n{stop.stderr}"


@pytest.mark.slow
@pytest.mark.slurm
def test_a_sweep_on_a_local_slurm_cluster_matches_the_basic_launcher(
    local_slurm, basic_sweep, tmp_path, boston_dir
):
    folder = run_sweep(tmp_path, boston_dir, "hydra/launcher=slurm_local")
    assert comparable(folder) == basic_sweep
    # Every job ran as a SLURM job: submitit kept each one's SLURM log and job id.
    logs = list((folder / ".submitit").rglob("*_log.out"))
    assert len(logs) == 4
    finished = subprocess.run(["scontrol", "show", "job"], capture_output=True, text=True).stdout
    assert finished.count("JobState=COMPLETED") >= 4
