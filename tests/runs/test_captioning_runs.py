"""Chapter 16 through `ldl train` and `ldl caption`: the generated shapes task and a COCO-layout fixture."""

from __future__ import annotations

import json

import pytest
from captioning_fixtures import write_coco_fixture
from helpers import assert_clean_error, run_ldl

from ldl.cli.main import main
from ldl.errors import DataError
from ldl.training.train import train

# A few seconds per run: 48 generated scenes, a narrow decoder, and captions of at most 16 words (the
# scenes' captions have 14 at most, so none is cut; an untrained decoder's captions, and so the panels of
# the attention figures drawn after each epoch, stop at 16 words instead of 60).
SMALL = (
    "experiment=captioning_shapes",
    "data.images=48",
    "data.max_length=16",
    "data.test_fraction=0.25",
    "data.sample_size=2",
    "data.report.figures=1",
    "model.lstm_units=16",
    "model.embedding_dim=8",
    "trainer.batch_size=8",
    "trainer.epochs=3",
    "trainer.seed=4",
)


@pytest.fixture(scope="module")
def shapes_data(tmp_path_factory):
    return tmp_path_factory.mktemp("shapes_data")


def _comparable(metrics: dict) -> dict:
    return {
        key: value
        for key, value in metrics.items()
        if key not in ("train_seconds", "data_statistics") and not key.startswith("extraction")
    }


def test_missing_coco_stops_with_one_paragraph(make_config, tmp_path):
    with pytest.raises(DataError) as error:
        train(make_config("experiment=c16e1", f"data_dir={tmp_path / 'empty'}"))
    message = str(error.value)
    assert "captions_train2014.json" in message and "train2014.zip" in message
    assert "\n" not in message


@pytest.mark.slow
def test_crashed_captioning_run_resumes_to_the_uninterrupted_result(
    make_config, shapes_data, tmp_path
):
    # A checkpoint after every epoch, so the crash after epoch 2 has one to resume from.
    overrides = (*SMALL, f"data_dir={shapes_data}", "trainer.checkpoint_seconds=0")
    whole = train(make_config(*overrides, run_dir=tmp_path / "whole"))
    crash = "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2}"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    resumed = train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    assert resumed["epochs_completed"] == 3
    assert _comparable(resumed) == _comparable(whole)
    for key in ("test/bleu", "test/exact_match", "test/attention_words"):
        assert key in whole


@pytest.mark.slow
def test_shapes_run_writes_sample_captions_figures_and_tensorboard(
    make_config, shapes_data, tmp_path, capsys
):
    import tensorflow as tf

    run = tmp_path / "run"
    metrics = train(make_config(*SMALL, f"data_dir={shapes_data}", "trainer.epochs=1", run_dir=run))
    assert metrics["status"] == "completed" and metrics["parameters"] > 0
    text = (run / "captions.txt").read_text()
    assert "Sample captions after epoch 1" in text and "Test captions after training" in text
    assert len(list((run / "captions").glob("epoch_001_*.png"))) == 2
    assert metrics["attention_figures"] == [
        str(p.relative_to(run)) for p in sorted((run / "captions").glob("test_*.png"))
    ]
    tags = set()
    for events in (run / "tensorboard").glob("events.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            tags |= {value.tag for value in event.summary.value}
    assert {"captions/samples", "captions/samples/attention_0", "captions/test"} <= tags
    data = json.loads((run / "data.json").read_text())
    assert data["extractor"]["network"] == "shapes_grid" and data["feature_shape"] == [14, 14, 128]

    # ldl caption: new photos (here two generated scenes), greedy and beam width 1 (= greedy).
    photos = sorted((shapes_data / "shapes_captions" / "train2014").glob("*.jpg"))[:2]
    images = ",".join(str(p) for p in photos)
    figures = tmp_path / "figures"
    capsys.readouterr()
    assert main(["caption", f"run={run}", f"images={images}", f"figures={figures}"]) == 0
    assert len(list(figures.glob("caption_*.png"))) == 2
    greedy = capsys.readouterr().out.splitlines()
    arguments = [f"run={run}", f"images={images}", "decoding=beam", "beam_width=1"]
    assert main(["caption", *arguments, f"figures={figures}"]) == 0
    beam = capsys.readouterr().out.splitlines()
    assert "greedy" in greedy[0] and "beam search, width 1" in beam[0]
    assert beam[1:] == greedy[1:]  # beam width 1 is greedy decoding


@pytest.mark.slow
def test_c16e1_and_c16e2_run_on_a_coco_layout_fixture(make_config, tmp_path, capsys):
    data_dir = tmp_path / "data"
    write_coco_fixture(data_dir / "coco")
    offline = (
        "data.extractor.weights=null",
    )  # no ImageNet weights here: same VGG19, random weights
    extraction = train(
        make_config(
            "experiment=c16e1", f"data_dir={data_dir}", *offline, run_dir=tmp_path / "c16e1"
        )
    )
    assert (extraction["extraction/images"], extraction["extraction/extracted"]) == (4, 4)
    assert extraction["peak_rss_mb"] > 0
    cache = data_dir / "coco_features" / "vgg19_block5_conv4"
    assert len(list(cache.glob("*.pickle.gzip"))) == 4
    metrics = train(
        make_config(
            "experiment=c16e2",
            f"data_dir={data_dir}",
            *offline,
            "data.test_fraction=0.25",
            "data.max_words=40",
            "trainer.epochs=1",
            "trainer.seed=0",
            run_dir=tmp_path / "c16e2",
        )
    )
    assert metrics["data_statistics"]["extraction/skipped"] == 4  # c16e1's cache is reused
    assert metrics["test/captioned_images"] == 1 and "test/attention_on_target" not in metrics
    # The book's setting: no held-out images, no validation, no test report.
    book = train(
        make_config(
            "experiment=c16e2",
            f"data_dir={data_dir}",
            *offline,
            "data.test_fraction=0",
            "trainer.validation=none",
            "data.max_words=40",
            "trainer.epochs=1",
            "trainer.seed=0",
            run_dir=tmp_path / "book",
        )
    )
    assert book["status"] == "completed" and "test/bleu" not in book


@pytest.mark.slow
def test_ldl_train_c16e1_without_coco_exits_with_one_paragraph(tmp_path):
    (tmp_path / "data").mkdir()  # a data_dir without COCO
    result = run_ldl(
        "train",
        "experiment=c16e1",
        f"data_dir={tmp_path / 'data'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert_clean_error(
        result,
        "annotations/captions_train2014.json",
        "http://images.cocodataset.org/zips/train2014.zip",
        "http://images.cocodataset.org/annotations/annotations_trainval2014.zip",
    )
