"""A small stand-in for the Anki `fra.txt` (English<TAB>French[<TAB>attribution], sorted by length),
built from a tiny grammar so a model can learn it: subject + verb + adjective/object, with the
French file's narrow no-break spaces before `!` and `?` and apostrophes (`j'ai`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SUBJECTS = (("i am", "je suis"), ("you are", "tu es"), ("he is", "il est"), ("she is", "elle est"),
            ("we are", "nous sommes"), ("they are", "ils sont"))  # fmt: skip
STATES = (("tired", "fatigué"), ("happy", "content"), ("here", "ici"), ("late", "en retard"),
          ("ready", "prêt"), ("sick", "malade"), ("at home", "à la maison"))  # fmt: skip
HAVE = (("i have", "j'ai"), ("you have", "tu as"), ("we have", "nous avons"))
THINGS = (
    ("a cat", "un chat"),
    ("a dog", "un chien"),
    ("a car", "une voiture"),
    ("time", "le temps"),
)


def fra_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` (English, French) sentence pairs, sorted by length like the Anki file."""
    rng = np.random.default_rng(seed)
    pairs = []
    for index in range(count):
        if index % 3 == 2:
            (english, french), (thing, chose) = (HAVE[rng.integers(len(HAVE))],
                                                 THINGS[rng.integers(len(THINGS))])  # fmt: skip
            english, french = f"{english} {thing}", f"{french} {chose}"
        else:
            (english, french), (state, etat) = (SUBJECTS[rng.integers(len(SUBJECTS))],
                                                STATES[rng.integers(len(STATES))])  # fmt: skip
            english, french = f"{english} {state}", f"{french} {etat}"
        ending = rng.integers(3)
        english += (".", "!", "?")[ending]
        french += (".", "\u202f!", "\u202f?")[ending]
        pairs.append((english[0].upper() + english[1:], french[0].upper() + french[1:]))
    return sorted(pairs, key=lambda pair: len(pair[0]))


def write_fra_txt(
    directory: Path, count: int = 200, seed: int = 0, attribution: bool = True
) -> list[tuple[str, str]]:
    """Write `fra.txt`; with `attribution`, a third CC-BY column as in recent releases."""
    pairs = fra_pairs(count, seed)
    lines = []
    for number, (english, french) in enumerate(pairs):
        extra = (
            f"\tCC-BY 2.0 (France) Attribution: tatoeba.org #{number} (x)" if attribution else ""
        )
        lines.append(f"{english}\t{french}{extra}")
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pairs
