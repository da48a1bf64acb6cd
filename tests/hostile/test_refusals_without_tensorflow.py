"""Every bad value of a plain `ldl train` is refused before TensorFlow is imported: the schema's check
(ldl.config.validate) needs no TensorFlow, so a bad value costs what a key typo costs.

The refusals run in a fresh process with Python's import log on (PYTHONPROFILEIMPORTTIME, as
`python -X importtime`), which names every module the process imported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import run_ldl

REFUSALS = [
    (("trainer.batch_size=abc",), "trainer.batch_size must be an integer >= 1"),
    (("optimizer.learning_rate=fast",), "optimizer.learning_rate must be a number > 0"),
    (("experiment=c14e1", "model.attention=bogus"), "model.attention='bogus'"),
    (("experiment=c3e1", "model.hidden_activation=sign"), "model.hidden_activation='sign'"),
    (("trainer.epochs=-1",), "trainer.epochs must be an integer >= 0"),
    (("trainer.loop=fast",), "trainer.loop='fast'"),
    (("+optimizer.lr=0.1",), "optimizer.lr is not an option of optimizer=adam"),
    (("loss=crossentropy",), "loss='crossentropy' is not a Keras loss"),
    (("trainer.epoch=5",), "trainer.epoch is not a key"),
]


def imported_modules(import_log: str) -> set[str]:
    """The top-level packages named in a `-X importtime` log."""
    names = re.findall(r"^import time:.*\|\s*(\S+)\s*$", import_log, flags=re.MULTILINE)
    return {name.strip().split(".")[0] for name in names}


@pytest.mark.slow
def test_a_refused_command_never_imports_tensorflow(tmp_path: Path) -> None:
    for arguments, fragment in REFUSALS:
        result = run_ldl("train", *arguments, cwd=tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert result.returncode == 2, (arguments, result.stderr[-2000:])
        assert fragment in result.stderr, (arguments, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
        modules = imported_modules(result.stderr)
        assert "omegaconf" in modules, "the import log was not read"  # the test can fail
        assert not modules & {"tensorflow", "keras"}, (arguments, sorted(modules))
    assert list(tmp_path.iterdir()) == []
