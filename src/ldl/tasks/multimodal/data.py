"""Chapter 17's multimodal (c17e2) and multitask (c17e3) data: an MNIST image with two words of text.

The text of example i (its position in its split) is made from its label:
- c17e2, `text: informative`: even i -> `lower half` (label < 5) or `upper half`; odd i -> `even number`
  (even label) or `odd number`. `text: constant` gives every example `lower half` (the control run,
  c17e2_const_text: same network, text that carries no information).
- c17e3 asks a question instead, chosen by i mod 4 (`lower half`, `upper half`, `even number`, `odd
  number`), and a second head answers it: 1.0 when the question is true of the digit, else 0.0.
The words are numbered by a Keras-compatible tokenizer with num_words=8 and no OOV token fitted on
`lower upper half even odd number`: lower 1, upper 2, half 3, even 4, odd 5, number 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit, prepare_arrays
from ldl.data.mnist import load_mnist
from ldl.data.text import Tokenizer
from ldl.errors import ConfigError
from ldl.tasks.multimodal.probe import PROBE_TEXTS, TextProbe

TextMode = Literal["informative", "constant"]
WORDS = ["lower", "upper", "half", "even", "odd", "number"]
QUESTIONS = ("lower half", "upper half", "even number", "odd number")
TOKENIZER_WORDS = 8


def word_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(num_words=TOKENIZER_WORDS)
    tokenizer.fit_on_texts(WORDS)
    return tokenizer


def descriptions(labels: np.ndarray, mode: TextMode = "informative") -> list[str]:
    """c17e2's text for every example, by its position and label."""
    if mode == "constant":
        return ["lower half"] * len(labels)
    texts = []
    for index, label in enumerate(int(value) for value in labels):
        if index % 2 == 0:
            texts.append("lower half" if label < 5 else "upper half")
        else:
            texts.append("even number" if label % 2 == 0 else "odd number")
    return texts


def questions_and_answers(labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """c17e3's question for every example (by position mod 4) and its 0/1 answer."""
    truths = {
        "lower half": lambda label: label < 5,
        "upper half": lambda label: label >= 5,
        "even number": lambda label: label % 2 == 0,
        "odd number": lambda label: label % 2 == 1,
    }
    questions = [QUESTIONS[index % 4] for index in range(len(labels))]
    answers = [
        float(truths[question](int(label)))
        for question, label in zip(questions, labels, strict=True)
    ]
    return questions, np.asarray(answers, dtype="float32")


def encode(texts: list[str]) -> np.ndarray:
    """Two word ids per text, int32 (N, 2)."""
    sequences = word_tokenizer().texts_to_sequences(texts)
    return np.asarray(sequences, dtype="int32").reshape(len(texts), 2)


def _images(data_config: Mapping[str, Any], data_dir: str | Path) -> PreparedData:
    """Standardized MNIST images (global, training statistics) with integer labels."""
    raw = load_mnist(data_dir, download=bool(data_config["download"]))
    return prepare_arrays(raw, {**data_config, "task": "classification"}, TEST_AS_VALIDATION)


def prepare_mnist_multimodal(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c17e2: inputs {image, text}, target the digit (sparse labels)."""
    mode = data_config["text"]
    if mode not in ("informative", "constant"):
        raise ConfigError(f"data.text={mode!r} is not known; use informative or constant.")
    images = _images(data_config, data_dir)
    x_train = {"image": images.x_train, "text": encode(descriptions(images.y_train, mode))}
    x_test = {"image": images.x_test, "text": encode(descriptions(images.y_test, mode))}
    return split.carve(
        PreparedData(
            x_train=x_train,
            y_train=images.y_train,
            x_val=None,
            y_val=None,
            x_test=x_test,
            y_test=images.y_test,
            task="classification",
            num_outputs=int(data_config["num_classes"]),
            statistics=images.statistics,
            model_input_shape=(tuple(images.x_train.shape[1:]), (2,)),
            metadata={"dataset": "mnist_multimodal", "text": mode, "words": WORDS},
            test_report=TextProbe(
                image=images.x_test[0],
                label=int(images.y_test[0]),
                encoded_texts=dict(zip(PROBE_TEXTS, encode(list(PROBE_TEXTS)), strict=True)),
            ),
        )
    )


def prepare_mnist_multitask(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c17e3: inputs {image, question}, targets {digit: label, answer: 0/1}."""
    images = _images(data_config, data_dir)
    train_questions, train_answers = questions_and_answers(images.y_train)
    test_questions, test_answers = questions_and_answers(images.y_test)
    return split.carve(
        PreparedData(
            x_train={"image": images.x_train, "text": encode(train_questions)},
            y_train={"digit": images.y_train, "answer": train_answers},
            x_val=None,
            y_val=None,
            x_test={"image": images.x_test, "text": encode(test_questions)},
            y_test={"digit": images.y_test, "answer": test_answers},
            task="classification",
            num_outputs=int(data_config["num_classes"]),
            statistics=images.statistics,
            model_input_shape=(tuple(images.x_train.shape[1:]), (2,)),
            metadata={"dataset": "mnist_multitask", "questions": list(QUESTIONS), "words": WORDS},
        )
    )
