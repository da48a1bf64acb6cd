"""The reconstruction report of chapter 17's outlier detector.

An autoencoder trained on digits reconstructs digits well and everything else badly, so its per-image
reconstruction error is an outlier score. The report measures it for the MNIST test set and for an
outlier set, summarizes both distributions (mean, median, fraction above the threshold), and draws what
the book draws: a 50-bin two-series histogram, test image 0 of each set beside its reconstruction, and
the MNIST test digits with the largest error. Everything also goes to TensorBoard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

# The book's legends and axis labels.
SET_LABELS = {"mnist": "mnist", "fashion_mnist": "fashion mnist", "cifar10_gray": "cifar-10 grey"}


def reconstruction_errors(model: Any, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Per-image mean absolute pixel difference between images (in [0, 1]) and their reconstructions."""
    reconstructed = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    reconstructed = reconstructed.reshape(images.shape)
    return np.abs(images - reconstructed).reshape(len(images), -1).mean(axis=1)


def error_statistics(errors: np.ndarray, threshold: float) -> dict[str, float]:
    return {
        "mean": float(errors.mean()),
        "median": float(np.median(errors)),
        "above_threshold": float((errors > threshold).mean()),
    }


@dataclass
class ReconstructionReport:
    """Called with (model, run folder) after training; returns `test/...` metrics."""

    mnist_images: np.ndarray  # test images in [0, 1]
    outlier_images: np.ndarray  # the outlier set in [0, 1]
    outlier_set: str
    threshold: float = 0.02
    top_k_outliers: int = 2
    bins: int = 50

    def __call__(self, model: Any, run_dir: Path) -> dict[str, Any]:
        mnist = reconstruction_errors(model, self.mnist_images)
        outliers = reconstruction_errors(model, self.outlier_images)
        metrics: dict[str, Any] = {"test/threshold": self.threshold}
        for name, errors in (("mnist", mnist), ("outliers", outliers)):
            for key, value in error_statistics(errors, self.threshold).items():
                metrics[f"test/{name}_error_{key}"] = value
        worst = np.argsort(mnist, kind="stable")[::-1][: self.top_k_outliers]
        metrics["test/top_outliers"] = [int(i) for i in worst]
        np.savez_compressed(run_dir / "reconstruction_errors.npz", mnist=mnist, outliers=outliers)
        self._plot_histogram(mnist, outliers, run_dir / "reconstruction_errors.png")
        first = [self.mnist_images[0], self.outlier_images[0]]
        self._plot_pairs(model, first, ["mnist test 0", f"{self._label} test 0"],
                         run_dir / "reconstructions.png")  # fmt: skip
        self._plot_pairs(model, [self.mnist_images[i] for i in worst],
                         [f"mnist test {i}: error {mnist[i]:.3f}" for i in worst],
                         run_dir / "top_outliers.png")  # fmt: skip
        self._write_tensorboard(model, mnist, outliers, worst, run_dir / "tensorboard")
        return metrics

    @property
    def _label(self) -> str:
        return SET_LABELS.get(self.outlier_set, self.outlier_set)

    def _plot_histogram(self, mnist: np.ndarray, outliers: np.ndarray, path: Path) -> None:
        figure, axes = plt.subplots(figsize=(6.4, 4.0))
        edges = np.histogram_bin_edges(np.concatenate([mnist, outliers]), bins=self.bins).tolist()
        axes.hist(mnist, bins=edges, alpha=0.6, label="mnist")
        axes.hist(outliers, bins=edges, alpha=0.6, label=self._label)
        axes.axvline(
            self.threshold, color="black", linestyle=":", label=f"threshold {self.threshold:g}"
        )
        axes.set_xlabel("mean absolute error")
        axes.set_ylabel("examples")
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)

    def _plot_pairs(
        self, model: Any, images: list[np.ndarray], titles: list[str], path: Path
    ) -> None:
        """Each image (left) beside its reconstruction (right)."""
        if not images:
            return
        stacked = np.stack(images)
        reconstructed = np.asarray(model.predict(stacked, verbose=0)).reshape(stacked.shape)
        figure, axes = plt.subplots(len(images), 2, figsize=(4.0, 2.0 * len(images)), squeeze=False)
        for row, (image, copy, title) in enumerate(
            zip(stacked, reconstructed, titles, strict=True)
        ):
            for column, (picture, what) in enumerate(((image, "input"), (copy, "reconstruction"))):
                axes[row, column].imshow(picture, cmap="gray", vmin=0.0, vmax=1.0)
                axes[row, column].set_title(f"{title}\n{what}" if column == 0 else what, fontsize=8)
                axes[row, column].axis("off")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)

    def _write_tensorboard(
        self, model: Any, mnist: np.ndarray, outliers: np.ndarray, worst: np.ndarray, log_dir: Path
    ) -> None:
        if not log_dir.is_dir():  # TensorBoard logging is off for this run
            return
        from ldl.tf_setup import import_tensorflow

        tf = import_tensorflow()
        images = np.stack([self.mnist_images[0], self.outlier_images[0], *self.mnist_images[worst]])
        reconstructed = np.asarray(model.predict(images, verbose=0)).reshape(images.shape)
        pairs = np.concatenate([images, reconstructed], axis=2)[..., None]  # input | reconstruction
        with tf.summary.create_file_writer(str(log_dir / "reconstruction")).as_default():
            tf.summary.histogram("reconstruction_error/mnist", mnist, step=0, buckets=self.bins)
            tf.summary.histogram(
                f"reconstruction_error/{self.outlier_set}", outliers, step=0, buckets=self.bins
            )
            tf.summary.image("inputs_and_reconstructions", pairs, step=0, max_outputs=len(pairs))
