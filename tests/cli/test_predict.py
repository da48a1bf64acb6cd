"""`ldl predict` / c8e1: image loading as the book does it, caffe preprocessing, a ResNet-50 forward pass
with random weights on a generated photo, top-k decoding, and clear errors when downloads are missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import run_ldl
from PIL import Image

from ldl.errors import ConfigError, DataError
from ldl.tasks.vision.predict import (
    CLASS_INDEX_FILE,
    classify,
    format_predictions,
    keras_cache_dir,
    load_images,
    load_pretrained,
    preprocess,
    top_k,
)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 300x400 RGB photo stand-in, saved as PNG (lossless, so pixel values can be checked)."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(300, 400, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    return path


def fake_class_index() -> dict[str, list[str]]:
    return {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}


def test_images_are_resized_directly_with_nearest_neighbour(photo: Path):
    batch = load_images([photo, photo], size=224)
    assert batch.shape == (2, 224, 224, 3) and batch.dtype == np.float32
    source = np.asarray(Image.open(photo)).reshape(-1, 3)
    # Nearest neighbour only copies pixels: every output pixel is one of the source's.
    source_pixels = {tuple(p) for p in source}
    sample = batch[0].reshape(-1, 3)[::997].astype(np.uint8)
    assert all(tuple(p) in source_pixels for p in sample)


def test_missing_image_and_bad_interpolation(tmp_path: Path, photo: Path):
    with pytest.raises(DataError, match="does not exist"):
        load_images([tmp_path / "absent.jpg"])
    with pytest.raises(ConfigError, match="interpolation"):
        load_images([photo], interpolation="fancy")


def test_caffe_preprocessing_is_bgr_minus_imagenet_means():
    image = np.array([[[[10.0, 20.0, 30.0]]]], dtype=np.float32)  # R, G, B
    out = preprocess(image, "caffe")
    np.testing.assert_allclose(out[0, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)
    np.testing.assert_array_equal(image[0, 0, 0], [10, 20, 30])  # input left alone


def test_top_k_orders_by_probability():
    probabilities = np.zeros((1, 1000), np.float32)
    probabilities[0, [7, 3, 999, 42, 5, 6]] = [0.4, 0.1, 0.2, 0.15, 0.05, 0.1]
    rows = top_k(probabilities, fake_class_index(), k=5)[0]
    assert [label for _, label, _ in rows][:4] == ["class_7", "class_999", "class_42", "class_6"]
    assert [p for *_, p in rows] == sorted((p for *_, p in rows), reverse=True)
    assert rows[0] == ("n00000007", "class_7", pytest.approx(0.4))


@pytest.mark.slow
def test_resnet50_with_random_weights_classifies_a_generated_photo(photo: Path):
    index = fake_class_index()
    probabilities, results = classify(
        [photo], "ResNet50", weights=None, decoder=lambda p, k: top_k(p, index, k)
    )
    assert probabilities.shape == (1, 1000)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert len(results[0]) == 5
    assert results[0][0][2] == pytest.approx(float(probabilities.max()))
    lines = format_predictions([photo], results)
    assert lines[0] == "photo.png:" and lines[1].startswith("  1. n")


@pytest.mark.skipif(
    (keras_cache_dir() / "resnet50_weights_tf_dim_ordering_tf_kernels.h5").exists(),
    reason="the ImageNet weights are cached here",
)
def test_missing_imagenet_weights_name_the_file_and_the_cache():
    with pytest.raises(DataError) as info:
        load_pretrained("ResNet50", "imagenet")
    message = str(info.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert str(keras_cache_dir()) in message and "weights=null" in message


@pytest.mark.slow
def test_cli_offline_without_class_index_names_file_and_folder(tmp_path: Path, photo: Path):
    completed = run_ldl(
        "predict",
        f"images={photo}",
        "weights=null",
        env={"KERAS_HOME": str(tmp_path / "keras_home")},
    )
    assert completed.returncode == 2
    assert CLASS_INDEX_FILE in completed.stderr
    assert str(tmp_path / "keras_home" / "models") in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_rejects_unknown_options():
    from ldl.tasks.vision.command import parse

    with pytest.raises(ConfigError, match="unexpected argument"):
        parse(["images=a.jpg", "colour=red"])
    with pytest.raises(ConfigError, match="which images"):
        parse(["top=3"])
    assert parse(["images=a.jpg,b.jpg", "weights=null", "top=3"]) == {
        "images": ["a.jpg", "b.jpg"],
        "weights": None,
        "top": 3,
    }
