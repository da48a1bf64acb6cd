"""Chapter 16 captioning: COCO reader, resize/crop, feature cache, model, decoding, figures, runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from captioning_fixtures import CAPTIONS, IMAGES, write_coco_fixture

from ldl.errors import DataError
from ldl.tasks.captioning import cache as cache_module
from ldl.tasks.captioning.coco import read_captions
from ldl.tasks.captioning.decoding import greedy_captions
from ldl.tasks.captioning.extractors import ExtractorSpec
from ldl.tasks.captioning.figures import attention_figure, highlight
from ldl.tasks.captioning.images import crop_box, load_cropped, resized_size
from ldl.tasks.captioning.model import build_captioning_model
from ldl.tasks.captioning.vocabulary import CaptionVocabulary

TINY_VGG = ExtractorSpec(network="VGG19", layer="block5_conv4", weights=None)
SHAPES_GRID = ExtractorSpec(
    network="shapes_grid", layer="regions", weights=None, preprocessing="tf"
)


# --- Reading COCO -----------------------------------------------------------------------------------


def test_reader_keeps_the_images_order_and_their_captions_file_order(tmp_path):
    folder = write_coco_fixture(tmp_path / "coco", without_caption=7)
    entries = read_captions(folder)
    # Images-list order (not id order, not caption order); the image without a caption is left out.
    assert [e.image_id for e in entries] == [image_id for image_id, _, _ in IMAGES]
    by_id = {e.image_id: e for e in entries}
    assert by_id[522418].captions == (CAPTIONS[0][1], CAPTIONS[2][1])
    # The first caption is the first annotation of the image in file order.
    assert by_id[391895].first_caption == "A man with a red helmet on a small moped on a dirt road."
    assert by_id[184613].file_name == "COCO_train2014_000000184613.jpg"
    assert [e.image_id for e in read_captions(folder, limit=2)] == [391895, 522418]


def test_missing_coco_names_files_folders_and_urls(tmp_path):
    with pytest.raises(DataError) as error:
        read_captions(tmp_path / "nowhere")
    message = str(error.value)
    for part in (
        "annotations/captions_train2014.json",
        "train2014/COCO_train2014_<id>.jpg",
        "http://images.cocodataset.org/annotations/annotations_trainval2014.zip",
        "http://images.cocodataset.org/zips/train2014.zip",
        str(tmp_path / "nowhere"),
    ):
        assert part in message


# --- Resize and crop ----------------------------------------------------------------------------------


def test_resize_and_crop_arithmetic_follows_the_book():
    # Shorter side 256; the other int(long / short * 256); crop offsets int((side - 224) / 2).
    assert resized_size(640, 480) == (341, 256)
    assert resized_size(480, 640) == (256, 341)
    assert resized_size(500, 336) == (int(500 / 336 * 256), 256) == (380, 256)
    assert resized_size(300, 300) == (256, 256)
    assert crop_box(341, 256) == (58, 16, 282, 240)
    assert crop_box(256, 341) == (16, 58, 240, 282)
    assert crop_box(380, 256) == (78, 16, 302, 240)


def test_load_cropped_takes_the_central_crop(tmp_path):
    from PIL import Image

    # 512 x 384 -> 341 x 256 -> crop x 58 .. 282: a vertical boundary at the image centre lands at 112.
    pixels = np.zeros((384, 512, 3), dtype=np.uint8)
    pixels[:, 256:] = 255
    Image.fromarray(pixels).save(tmp_path / "half.png")
    crop = load_cropped(tmp_path / "half.png")
    assert crop.shape == (224, 224, 3) and crop.dtype == np.float32
    assert crop[:, :110].max() < 10 and crop[:, 114:].min() > 245


# --- Vocabulary and decoder arrays ------------------------------------------------------------------


def test_decoder_input_and_target_are_shifted_and_post_padded():
    captions = [["a", "cat", "on", "a", "desk"], ["a", "dog"]]
    vocabulary = CaptionVocabulary.fit(captions, max_words=10_000)
    assert (vocabulary.start, vocabulary.stop, vocabulary.size) == (9_998, 9_999, 10_000)
    assert vocabulary.tokens[:5] == ["PAD", "UNK", "a", "cat", "on"]
    decoder_input, decoder_target = vocabulary.decoder_arrays(captions)
    a, cat, on, desk, dog = 2, 3, 4, 5, 6
    assert decoder_input.tolist() == [
        [9_998, a, cat, on, a, desk, 9_999],
        [9_998, a, dog, 9_999, 0, 0, 0],
    ]
    assert decoder_target.tolist() == [
        [a, cat, on, a, desk, 9_999, 0],
        [a, dog, 9_999, 0, 0, 0, 0],
    ]
    # Words outside the vocabulary become UNK (1).
    assert vocabulary.ids(["a", "yak"]) == [a, 1]


# --- Model and decoding ------------------------------------------------------------------------------


def test_the_book_model_has_9_758_480_trainable_parameters():
    model = build_captioning_model(10_000)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 9_758_480


def _tiny_model(vocabulary_size: int = 12, seed: int = 1):
    import keras

    keras.utils.set_random_seed(seed)
    return build_captioning_model(
        vocabulary_size, input_shape=((4, 4, 8), (None,)), embedding_dim=4, lstm_units=6
    )


def test_greedy_decoding_stops_at_stop_and_runs_to_the_limit_otherwise():
    model = _tiny_model()
    output = model.get_layer("output")
    kernel, bias = output.get_weights()
    features = np.random.default_rng(0).normal(size=(3, 4, 4, 8)).astype("float32")
    start, stop = 10, 11
    bias = np.zeros_like(bias)
    bias[stop] = 50.0  # STOP always wins: empty captions
    output.set_weights([np.zeros_like(kernel), bias])
    assert [c.ids for c in greedy_captions(model, features, start, stop, max_steps=9)] == [[]] * 3
    bias[stop], bias[5] = 0.0, 50.0  # token 5 always wins: max_steps tokens, no STOP
    output.set_weights([np.zeros_like(kernel), bias])
    captions = greedy_captions(model, features, start, stop, max_steps=9)
    assert [c.ids for c in captions] == [[5] * 9] * 3
    assert captions[0].attention.shape == (9, 16)
    np.testing.assert_allclose(captions[0].attention.sum(axis=1), 1.0, rtol=1e-5)


def test_greedy_decoding_matches_the_teacher_forced_model():
    # State passing one token at a time gives the same distributions as the whole-sequence model.
    model = _tiny_model()
    features = np.random.default_rng(1).normal(size=(2, 4, 4, 8)).astype("float32")
    caption = greedy_captions(model, features, 10, 11, max_steps=5)
    for row in range(2):
        prefix = np.asarray([[10, *caption[row].ids[:-1]]], dtype="int32")
        if prefix.shape[1] < 2:
            continue
        probabilities = np.asarray(model([features[row : row + 1], prefix]))
        assert np.argmax(probabilities[0], axis=-1).tolist() == caption[row].ids[: prefix.shape[1]]


def test_saved_and_reloaded_model_gives_identical_captions(tmp_path):
    import keras

    model = _tiny_model()
    features = np.random.default_rng(2).normal(size=(3, 4, 4, 8)).astype("float32")
    before = greedy_captions(model, features, 10, 11, max_steps=6)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    after = greedy_captions(reloaded, features, 10, 11, max_steps=6)
    assert [c.ids for c in after] == [c.ids for c in before]
    for a, b in zip(after, before, strict=True):
        np.testing.assert_array_equal(a.attention, b.attention)


# --- Feature cache -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_vgg19_features_are_cached_per_image_in_the_books_format(tmp_path):
    import gzip
    import pickle

    folder = write_coco_fixture(tmp_path / "coco")
    entries = read_captions(folder)[:2]
    statistics = cache_module.extract_features(
        entries, folder, tmp_path / "cache", TINY_VGG, batch_size=2, progress=False
    )
    assert statistics["extracted"] == 2 and statistics["skipped"] == 0
    path = tmp_path / "cache" / "COCO_train2014_000000391895.pickle.gzip"
    with gzip.open(path, "rb") as stream:
        features = pickle.load(stream)
    assert features.shape == (14, 14, 512) and features.dtype == np.float32
    dictionary = json.loads((tmp_path / "cache" / "captions.json").read_text())
    assert dictionary["522418"] == [
        "COCO_train2014_000000522418.jpg",
        CAPTIONS[0][1],
        CAPTIONS[2][1],
    ]


def test_interrupted_extraction_resumes_without_recomputing_finished_files(tmp_path):
    folder = write_coco_fixture(tmp_path / "coco")
    entries = read_captions(folder)

    def crash(done: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        cache_module.extract_features(
            entries, folder, cache, SHAPES_GRID, batch_size=2, progress=False, after_batch=crash
        )
    finished = sorted(p.name for p in cache.glob("*.pickle.gzip"))
    assert len(finished) == 2 and not list(cache.glob("*.partial"))
    stamps = {name: os.stat(cache / name).st_mtime_ns for name in finished}

    statistics = cache_module.extract_features(entries, folder, cache, SHAPES_GRID, 2, False)
    assert (statistics["extracted"], statistics["skipped"]) == (2, 2)
    assert {name: os.stat(cache / name).st_mtime_ns for name in finished} == stamps

    # The same command uninterrupted, at the same batch size: on some CPUs oneDNN sums a convolution
    # in another order for another batch size (seen: 256 of 25,088 values 1e-8 apart).
    whole = tmp_path / "whole"
    cache_module.extract_features(entries, folder, whole, SHAPES_GRID, 2, False)
    for entry in entries:
        np.testing.assert_array_equal(
            cache_module.load_features(cache_module.feature_path(cache, entry)),
            cache_module.load_features(cache_module.feature_path(whole, entry)),
        )


def test_a_cache_refuses_features_of_another_extractor(tmp_path):
    from ldl.errors import ConfigError

    folder = write_coco_fixture(tmp_path / "coco")
    entries = read_captions(folder)[:1]
    cache_module.extract_features(entries, folder, tmp_path / "cache", SHAPES_GRID, 1, False)
    other = ExtractorSpec(network="shapes_grid", layer="regions", weights=None, seed=5)
    with pytest.raises(ConfigError, match=r"another data\.cache_dir"):
        cache_module.extract_features(entries, folder, tmp_path / "cache", other, 1, False)


def test_batches_load_features_lazily_in_an_order_fixed_by_seed_and_epoch(tmp_path):
    from ldl.tasks.captioning.batches import CaptionBatches

    files = []
    for index in range(5):
        path = tmp_path / f"{index}.pickle.gzip"
        cache_module.save_features(path, np.full((2, 2, 3), index, dtype=np.float32))
        files.append(path)
    inputs = np.arange(10).reshape(5, 2)
    targets = inputs + 100
    batches = CaptionBatches(files, inputs, targets, batch_size=2, seed=3, shuffle=True)
    assert len(batches) == 3

    def epoch_rows(epoch: int) -> list[int]:
        batches.set_epoch(epoch)
        rows = []
        for index in range(len(batches)):
            (features, decoder_input), target = batches[index]
            assert (features[:, 0, 0, 0] == decoder_input[:, 0] / 2).all()
            assert (target == decoder_input + 100).all()
            rows += decoder_input[:, 0].tolist()
        return rows

    first, second = epoch_rows(0), epoch_rows(1)
    assert sorted(first) == sorted(second) == [0, 2, 4, 6, 8] and first != second
    assert epoch_rows(0) == first


# --- Attention figure ---------------------------------------------------------------------------------


def test_attention_figure_highlights_the_top_regions_and_is_written(tmp_path):
    image = np.full((224, 224, 3), 200.0, dtype=np.float32)
    weights = np.zeros(196)
    weights[[0, 15, 195]] = [0.5, 0.3, 0.2]
    shown = highlight(image, weights, (14, 14), k=3)
    assert shown[0, 0, 0] == 200 and shown[16, 16, 0] == 200 and shown[223, 223, 0] == 200
    assert shown[0, 16, 0] == 50  # not among the top 3: dimmed to a quarter
    attention = np.stack([weights, weights[::-1]])
    path = attention_figure(image, ["red", "circle"], attention, tmp_path / "figure.png", top_k=3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stretch_policy_keeps_the_whole_image(tmp_path):
    from PIL import Image

    pixels = np.zeros((384, 512, 3), dtype=np.uint8)
    pixels[:, :8] = 255  # a white stripe at the left border, cut off by the book's crop
    Image.fromarray(pixels).save(tmp_path / "stripe.png")
    assert load_cropped(tmp_path / "stripe.png")[:, 0].max() < 10
    stretched = load_cropped(tmp_path / "stripe.png", resize="stretch")
    assert stretched.shape == (224, 224, 3) and stretched[:, 0].min() > 245


def test_the_shapes_extractor_is_rebuilt_identically_from_its_spec():
    # ldl caption rebuilds the extractor from data.json: its fixed random weights come from the seed.
    from ldl.tasks.captioning.extractors import POSITION_CHANNELS, build_extractor

    images = np.random.default_rng(3).uniform(-1, 1, size=(2, 224, 224, 3)).astype("float32")
    first = build_extractor(SHAPES_GRID)(images)
    second = build_extractor(ExtractorSpec.from_mapping(SHAPES_GRID.as_dict()))(images)
    assert first.shape == (2, 14, 14, SHAPES_GRID.channels + POSITION_CHANNELS)
    np.testing.assert_array_equal(first, second)
    other_seed = ExtractorSpec(network="shapes_grid", weights=None, preprocessing="tf", seed=1)
    assert not np.array_equal(first, build_extractor(other_seed)(images))


def test_captioning_data_refuses_a_carved_validation_split(tmp_path):
    from ldl.data.datasets import ValidationSplit
    from ldl.errors import ConfigError
    from ldl.tasks.captioning.data import prepare_coco_captions

    with pytest.raises(ConfigError, match=r"trainer\.validation=holdout"):
        prepare_coco_captions({"name": "coco_captions"}, tmp_path, ValidationSplit("holdout"))
