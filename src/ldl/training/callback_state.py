"""The state callbacks keep between epochs, saved with every checkpoint and restored on resume.

Early stopping counts epochs without improvement and remembers the best value and weights;
ReduceLROnPlateau counts too; the book's checkpoint-and-reload remembers the best value. A run resumed
without that state would stop at another epoch than the uninterrupted run (a kill -9 after 25 of 28
epochs once ran 55). So every checkpoint holds, next to the model, the state of each callback:

- Keras's stateful callbacks (`EarlyStopping`, `ReduceLROnPlateau`, `ModelCheckpoint`) by their public
  attributes, listed here;
- any other callback that defines `checkpoint_state() -> dict` and `restore_checkpoint_state(dict)`
  (ldl's own do; so can a user's callback);
- callbacks known to keep nothing between epochs are skipped; any other callback is named in a note at
  resume, since whatever it keeps starts afresh.

Keras resets these attributes in `on_train_begin`, so the recorder, the last callback of a run, puts the
saved state back in its own `on_train_begin`, after the others have reset themselves.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np

# The attributes of Keras's stateful callbacks that change from epoch to epoch.
KERAS_ATTRIBUTES: dict[type, tuple[str, ...]] = {
    keras.callbacks.EarlyStopping: ("wait", "stopped_epoch", "best", "best_epoch", "best_weights"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "cooldown_counter", "best"),
    keras.callbacks.ModelCheckpoint: ("best",),
}
# Callbacks that keep nothing between epochs that a resume needs.
STATELESS = (
    keras.callbacks.TerminateOnNaN,
    keras.callbacks.History,
    keras.callbacks.ProgbarLogger,
    keras.callbacks.TensorBoard,
    keras.callbacks.CSVLogger,
    keras.callbacks.LearningRateScheduler,
)

States = dict[str, dict[str, Any]]


def _keyed(callbacks: list[keras.callbacks.Callback]) -> dict[str, keras.callbacks.Callback]:
    """Callbacks by a key that is the same in the resumed process: position and class name."""
    return {f"{index}:{type(c).__name__}": c for index, c in enumerate(callbacks)}


def _attributes(callback: keras.callbacks.Callback) -> tuple[str, ...] | None:
    return next((a for kind, a in KERAS_ATTRIBUTES.items() if isinstance(callback, kind)), None)


def keeps_state(callback: keras.callbacks.Callback) -> bool:
    return _attributes(callback) is not None or hasattr(callback, "checkpoint_state")


def unsaved(callbacks: list[keras.callbacks.Callback]) -> list[str]:
    """The callbacks whose state (if any) ldl cannot save: named in a note at resume."""
    return [
        type(c).__name__
        for c in callbacks
        if not keeps_state(c)
        and not isinstance(c, STATELESS)
        and not getattr(c, "stateless", False)
    ]


def capture(callbacks: list[keras.callbacks.Callback]) -> States:
    """A copy of every stateful callback's state now (arrays copied, so later epochs cannot change it)."""
    states: States = {}
    for key, callback in _keyed(callbacks).items():
        attributes = _attributes(callback)
        if attributes is not None:
            states[key] = {
                name: copy.deepcopy(getattr(callback, name, None)) for name in attributes
            }
        elif hasattr(callback, "checkpoint_state"):
            states[key] = copy.deepcopy(callback.checkpoint_state())
    return states


def restore(callbacks: list[keras.callbacks.Callback], states: States) -> None:
    for key, callback in _keyed(callbacks).items():
        if key not in states:
            continue
        if _attributes(callback) is not None:
            for name, value in states[key].items():
                setattr(callback, name, value)
        elif hasattr(callback, "restore_checkpoint_state"):
            callback.restore_checkpoint_state(states[key])


def save(path: Path, states: States) -> None:
    """Write `states` as one .npz: arrays (best weights) as arrays, everything else as JSON."""
    arrays: dict[str, np.ndarray] = {}
    plain: dict[str, Any] = {}
    for key, state in states.items():
        plain[key] = {}
        for name, value in state.items():
            if _is_array_list(value):
                plain[key][name] = {"arrays": len(value)}
                for index, array in enumerate(value):
                    arrays[f"{key}/{name}/{index}"] = np.asarray(array)
            else:
                plain[key][name] = {"value": _to_json(value)}
    arrays["__state__"] = np.array(json.dumps(plain))
    with open(path, "wb") as stream:
        np.savez(stream, allow_pickle=False, **arrays)


def load(path: Path) -> States:
    with np.load(path) as saved:
        plain = json.loads(str(saved["__state__"]))
        states: States = {}
        for key, state in plain.items():
            states[key] = {}
            for name, stored in state.items():
                if "arrays" in stored:
                    count = stored["arrays"]
                    states[key][name] = [saved[f"{key}/{name}/{i}"] for i in range(count)]
                else:
                    states[key][name] = stored["value"]
    return states


def _is_array_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, np.ndarray) for v in value)


def _to_json(value: Any) -> Any:
    """Numbers as Python numbers (NumPy scalars too); floats keep every bit through JSON's repr."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot save callback state of type {type(value).__name__}")
