"""The GPU code paths, run on the CPU: mirrored training over two logical CPU devices gives the
single-device numbers, and mixed float16 (with loss scaling) trains c5e2 as float32 does.

Each check runs tests/support/gpu_paths_check.py in a fresh process, because the logical devices must be
configured before TensorFlow starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import SUPPORT, ldl_environment

# Mirrored over 2 replicas: each global batch is split in two and the gradients summed across
# replicas, so only the order of floating-point additions differs from one device.
LOSS_TOLERANCE = 1e-3  # relative
ACCURACY_TOLERANCE = 0.01  # absolute


def run_check(mode: str, work) -> dict:
    result = subprocess.run(
        [sys.executable, str(SUPPORT / "gpu_paths_check.py"), mode, str(work)],
        capture_output=True,
        text=True,
        timeout=600,
        env=ldl_environment({"PATH": "/usr/bin:/bin"}, inherit=False),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


def assert_close(first: dict, second: dict) -> None:
    for key, value in first.items():
        if key.endswith("/loss"):
            assert second[key] == pytest.approx(value, rel=LOSS_TOLERANCE), key
        elif key.endswith(("/accuracy", "/token_accuracy")):
            assert second[key] == pytest.approx(value, abs=ACCURACY_TOLERANCE), key


@pytest.mark.slow
def test_mirrored_over_two_logical_cpus_matches_one_device(tmp_path):
    results = run_check("mirrored", tmp_path)
    assert set(results) == {"mlp", "cnn", "transformer"}
    for name, runs in results.items():
        assert runs["single"]["device"] == "CPU", name
        assert runs["mirrored"]["device"] == "CPU (2 replicas, MirroredStrategy)", name
        assert_close(runs["single"], runs["mirrored"])


@pytest.mark.slow
def test_mixed_float16_with_loss_scaling_trains_c5e2_like_float32(tmp_path):
    results = run_check("mixed", tmp_path)
    assert results["float32"]["optimizer"] == "Adam"
    assert results["float32"]["policies"] == ["float32"]
    # Hidden layers compute in float16 (the softmax output stays float32), and Keras compiles a
    # mixed_float16 model with dynamic loss scaling.
    assert results["mixed_float16"]["policies"] == ["float32", "mixed_float16"]
    assert results["mixed_float16"]["optimizer"] == "LossScaleOptimizer"
    assert results["mixed_float16"]["test/accuracy"] == pytest.approx(
        results["float32"]["test/accuracy"], abs=0.02
    )
