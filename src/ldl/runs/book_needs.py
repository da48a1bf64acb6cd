"""What a book experiment needs beyond the datasets the project's records were made with, and how long
it is expected to take: the reproduction report's "not run here" reasons.

The times are estimates for planning, not results: the CPU figures come from parts of the run measured
on 2 cores (docs/captioning.md, docs/architecture_search.md), the GPU figures are not measured (no GPU
run of these experiments has been recorded yet) and say so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    # What is missing, e.g. "COCO 2014 training images (13 GB)".
    missing: str
    # The command that runs it once the data is there.
    command: str
    cpu_time: str
    gpu_time: str


_GPU_UNMEASURED = _UNMEASURED = "not measured"

NEEDS: dict[str, Need] = {
    "c8e1": Need(
        missing="ResNet-50's ImageNet weights (Keras downloads 98 MB on first use; the records' "
        "machine is offline) and the book's dog.jpg",
        command="ldl train experiment=c8e1 data_dir=<datasets>",
        cpu_time="under a minute (one image through ResNet-50)",
        gpu_time=f"under a minute ({_GPU_UNMEASURED})",
    ),
    "c12_bow": Need(
        missing="the IMDB reviews, aclImdb_v1.tar.gz unpacked into data_dir/aclImdb (84 MB)",
        command="ldl train experiment=c12_bow data_dir=<folder with aclImdb/>",
        cpu_time=f"minutes: 5 epochs of a 160,322-parameter dense network ({_UNMEASURED})",
        gpu_time=f"about a minute ({_UNMEASURED})",
    ),
    "c13e1": Need(
        missing="GloVe vectors, glove.6B.100d.txt from glove.6B.zip (822 MB)",
        command="ldl train experiment=c13e1 data_dir=<folder with glove.6B.100d.txt>",
        cpu_time="a minute or two (reading 400,000 vectors; no training)",
        gpu_time="the same (no training)",
    ),
    "c16e1": Need(
        missing="COCO 2014 training images and captions (13 GB) and VGG19's ImageNet weights",
        command="ldl train experiment=c16e1 data_dir=<folder with coco/>",
        cpu_time="about 6 hours: VGG19 extracts about 4 images/s on 2 cores (640 in 2 min 57 s), "
        "82,783 images",
        gpu_time=f"well under an hour; reading the JPEGs dominates ({_GPU_UNMEASURED})",
    ),
    "c16e2": Need(
        missing="c16e1's COCO features (COCO 2014, 13 GB)",
        command="ldl train experiment=c16e2 data_dir=<folder with coco/>",
        cpu_time="about 10 hours: one batch of 128 takes 3 s on 2 cores, about 30 minutes per "
        "epoch, 20 epochs",
        gpu_time=f"about an hour ({_GPU_UNMEASURED})",
    ),
    "c17e1": Need(
        missing="Fashion-MNIST's test images (t10k-images-idx3-ubyte.gz, 4.4 MB), the outlier set; "
        "data.outliers=cifar10_gray runs it on grey CIFAR-10 instead",
        command="ldl train experiment=c17e1 data_dir=<folder with fashion-mnist/>",
        cpu_time="about a minute (10 epochs of a 784-64-784 autoencoder)",
        gpu_time=f"under a minute ({_GPU_UNMEASURED})",
    ),
    "c17e4": Need(
        missing="time: the book's budget, 1,000 three-epoch CIFAR-10 candidates",
        command="ldl train -m hparams_search=c17e4 data_dir=<datasets> hydra/launcher=parallel",
        cpu_time="days on 2 cores (508 one-epoch evaluations on 5 % of the data per hour)",
        gpu_time=f"about a day on one GPU, less over several launcher workers ({_GPU_UNMEASURED})",
    ),
    "c17e5": Need(
        missing="time: the book's budget, 500 three-epoch CIFAR-10 candidates",
        command="ldl train -m hparams_search=c17e5 data_dir=<datasets> hydra/launcher=parallel",
        cpu_time="days on 2 cores (508 one-epoch evaluations on 5 % of the data per hour)",
        gpu_time=f"about half a day on one GPU ({_GPU_UNMEASURED})",
    ),
}
