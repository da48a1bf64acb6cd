"""Two options of the book that ldl offers as config keys: the multimodal network's fusion point
(chapter 17, `model.fusion`) and a test set held out before the k-fold split (chapter 5,
`cv.test_fraction`). Each is checked by what it does, not only by how it parses."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from fixtures import write_mnist_idx
from helpers import compose_config
from omegaconf import OmegaConf

from ldl.config import validate_config
from ldl.data.datasets import prepare_data
from ldl.data.kfold import check_test_held_out
from ldl.errors import ConfigError
from ldl.models import build_model
from ldl.runs.saved_model import load_run_model
from ldl.training.train import train

QUICK = ("trainer.epochs=2", "trainer.seed=0", "trainer.verbose=0")
SHAPES = ((28, 28), (2,))


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("fusion_data")
    write_mnist_idx(directory / "mnist", n_train=300, n_test=60, gzip=True)
    return directory


# --- model.fusion ---------------------------------------------------------------------------------


def _layer_names(model: keras.Model) -> set[str]:
    return {layer.name for layer in model.layers}


def test_late_fusion_gives_each_modality_its_own_dense_layer_before_the_join():
    book = compose_config("experiment=c17e2")
    early = build_model(book.model, book.initializer, SHAPES, 10)
    cfg = compose_config("experiment=c17e2", "model.fusion=late")
    late = build_model(cfg.model, cfg.initializer, SHAPES, 10)
    assert {"text_dense", "image_dense"} <= _layer_names(late)
    assert "dense" in _layer_names(early) and "text_dense" not in _layer_names(early)
    # Late: the join takes two 25-wide branches; early: the LSTM's 8 and the 784 pixels.
    assert late.get_layer("fusion").output.shape[-1] == 50
    assert early.get_layer("fusion").output.shape[-1] == 792
    # 32 + 416 (text) + 8*25+25 (text dense) + 784*25+25 (image dense) + 50*10+10 (head).
    assert late.count_params() == 32 + 416 + 225 + 19_625 + 510


def test_late_fusion_trains_and_the_saved_model_keeps_its_graph(mnist_dir, tmp_path):
    run = tmp_path / "late"
    cfg = compose_config(
        *QUICK, "experiment=c17e2", "model.fusion=late", f"data_dir={mnist_dir}",
        f"run_dir={run}", f"output_root={tmp_path}",
    )  # fmt: skip
    metrics = train(cfg)
    assert 0.0 <= metrics["test/accuracy"] <= 1.0
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header and two epochs
    loaded = load_run_model(run)
    assert {"text_dense", "image_dense"} <= _layer_names(loaded.model)


@pytest.mark.parametrize("value", ["middle", "Early", 1])
def test_an_unknown_fusion_point_is_refused_before_any_work(value):
    cfg = compose_config("experiment=c17e2")
    OmegaConf.update(cfg, "model.fusion", value)
    with pytest.raises(ConfigError, match=r"model\.fusion=.* takes one of: early, late"):
        validate_config(cfg)


# --- cv.test_fraction -----------------------------------------------------------------------------


def _rows(array: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.asarray(array)}


def _boston(boston_dir: Path, **cv: object):
    # Raw features (no standardization, whose statistics differ per fold) identify the examples.
    cfg = compose_config(
        "experiment=c6e1",
        "data.standardize=none",
        *(f"cv.{key}={value}" for key, value in cv.items()),
    )
    validate_config(cfg)
    return prepare_data(cfg.data, boston_dir, cfg.trainer.validation, cv=cfg.cv)


def test_the_held_out_test_set_is_in_no_fold(boston_dir):
    whole = _boston(boston_dir)  # the dataset's own split: 96 training, 24 test examples
    folds = [_boston(boston_dir, k=3, fold=fold, test_fraction=0.25, seed=0) for fold in range(3)]
    test = _rows(folds[0].x_test)
    assert len(test) == round(96 * 0.25) == 24
    assert not test & _rows(whole.x_test)  # the dataset's own test set is not used
    for data in folds:
        assert _rows(data.x_test) == test  # the same test set for every fold
        assert not test & _rows(data.x_train) and not test & _rows(data.x_val)
        assert len(data.x_train) + len(data.x_val) == 72
    # The folds' validation parts cover exactly the examples that were not held out.
    validated = set().union(*(_rows(data.x_val) for data in folds))
    assert len(validated) == 72 and not validated & test


def test_the_held_out_test_set_follows_cv_seed_and_a_retrain_uses_it(boston_dir):
    retrain = _boston(boston_dir, test_fraction=0.25, seed=0)  # no fold: train on all folds
    fold = _boston(boston_dir, fold=1, test_fraction=0.25, seed=0)
    other_seed = _boston(boston_dir, test_fraction=0.25, seed=1)
    assert _rows(retrain.x_test) == _rows(fold.x_test) != _rows(other_seed.x_test)
    assert len(retrain.x_train) == 72 and retrain.x_val is None
    assert retrain.metadata["test_held_out_of_training"] == 24


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.2, "a fifth"])
def test_a_test_fraction_outside_0_1_is_refused(value):
    cfg = compose_config("experiment=c6e1")
    OmegaConf.update(cfg, "cv.test_fraction", value)
    with pytest.raises(ConfigError, match=r"cv\.test_fraction must be a fraction in \(0, 1\)"):
        validate_config(cfg)


def test_a_test_fraction_that_leaves_a_fold_empty_is_refused(boston_dir):
    with pytest.raises(ConfigError, match=r"cv\.test_fraction=0\.99 .* at least one test example"):
        _boston(boston_dir, k=5, fold=0, test_fraction=0.99)


def test_a_dataset_that_cannot_hold_out_a_test_set_is_refused():
    with pytest.raises(ConfigError, match=r"leave cv\.test_fraction null"):
        check_test_held_out({}, {"k": 5, "test_fraction": 0.2}, "shapes_captions")
    check_test_held_out({}, {"k": 5, "test_fraction": None}, "shapes_captions")  # not set: fine


def test_a_dataset_of_named_inputs_holds_out_the_same_rows_of_each(mnist_dir):
    """c17e3 carves its splits from prepared examples (two inputs, two heads): the held-out rows
    leave every input and every head together, and no fold trains on them."""
    cfg = compose_config("experiment=c17e3", "cv.k=3", "cv.test_fraction=0.2")
    folds = [
        prepare_data(cfg.data, mnist_dir, cv={**cfg.cv, "fold": fold}, validation="kfold")
        for fold in range(3)
    ]
    test = _rows(folds[0].x_test["image"])
    assert len(test) == 60 == len(folds[0].y_test["answer"]) == len(folds[0].x_test["text"])
    for data in folds:
        assert _rows(data.x_test["image"]) == test
        assert not test & _rows(data.x_train["image"]) and not test & _rows(data.x_val["image"])
        assert len(data.x_train["text"]) == len(data.y_train["digit"]) == len(data.x_train["image"])


def test_a_forecast_refuses_a_randomly_held_out_test_set(tmp_path):
    (tmp_path / "book_store_sales.csv").write_text(
        "Period,Value\n" + "".join(f"{m}-{y:02d},{100 + i}\n" for i, (y, m) in enumerate(
            (y, m) for y in range(92, 100) for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
        ))
    )  # fmt: skip
    cfg = compose_config("experiment=c9e1", "cv.test_fraction=0.2", "data.end_date=null")
    with pytest.raises(ConfigError, match=r"months after its training months"):
        prepare_data(cfg.data, tmp_path, cv=cfg.cv)
