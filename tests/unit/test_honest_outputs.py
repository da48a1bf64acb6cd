"""Small outputs tell the truth: a translation or a generated text that is empty says so in words."""

from __future__ import annotations

from ldl.tasks.text.generation import Completion, Vocabulary, format_completions
from ldl.tasks.translation.command import EMPTY_TRANSLATION, shown_translation


def test_an_empty_translation_says_so() -> None:
    assert shown_translation("i am tired .") == "i am tired ."
    assert shown_translation("") == EMPTY_TRANSLATION
    assert shown_translation("  ") == EMPTY_TRANSLATION
    assert "has not learned to translate" in EMPTY_TRANSLATION


def test_a_generation_that_adds_nothing_says_so() -> None:
    chars = Vocabulary(list(" abcdeht"), "characters", "one_hot")
    lines = format_completions(
        chars,
        "the ",
        [Completion((3, 4), -0.5), Completion((0, 0), -0.9), Completion((), -1.0)],
    )
    assert "nothing generated" not in lines[0]
    # only spaces, or no token at all: the model added no text
    assert all("(nothing generated: the model added no text" in line for line in lines[1:])
