"""Small stand-ins for the chapter 9-13 files, written in their exact formats (import from tests).

- `book_store_sales.csv`: the Census layout (`Period,Value`, `Jan-92,790`, LF), a learnable series
  (trend plus a December peak plus noise), optionally ending with `NA` months like a fresh download.
- `frankenstein.txt`: UTF-8 with BOM and CRLF line endings like the Gutenberg file, with a header,
  `*** START OF` / `*** END OF` markers, a licence, curly quotes, an em dash, apostrophes and double
  spaces, so every text rule of the text utilities (docs/book-conventions.md) and of chapter 11 has something to act on.
- GloVe text files: `word v1 ... vd` lines whose vectors are built so that analogies work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def book_sales_values(months: int = 348, seed: int = 0) -> np.ndarray:
    """Monthly sales from Jan 1992: a slow rise and fall, a December peak, noise; whole numbers."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    level = 1000 + 600 * np.sin(np.pi * t / months) + 300 * (t % 12 == 11) + 150 * (t % 12 == 0)
    return np.rint(level + rng.normal(0, 25, size=months)).astype(int)


def write_book_sales_csv(
    directory: Path, months: int = 348, seed: int = 0, trailing_na: int = 0
) -> np.ndarray:
    """Write `book_store_sales.csv` from Jan-92 on (348 months = to Dec-20, like the real file)."""
    values = book_sales_values(months, seed)
    lines = ["Period,Value"]
    for index in range(months + trailing_na):
        year = 92 + index // 12
        period = f"{MONTH_NAMES[index % 12]}-{year % 100:02d}"
        lines.append(f"{period},{values[index] if index < months else 'NA'}")
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / "book_store_sales.csv").write_text("\n".join(lines) + "\n")
    return values


_WORDS = (
    "the", "monster", "i", "saw", "creature", "and", "of", "my", "was", "night", "cold", "father",
    "dear", "elizabeth", "we", "were", "in", "a", "dark", "room", "he", "said", "it", "is", "body",
)  # fmt: skip


def frankenstein_body(sentences: int = 120, seed: int = 0) -> str:
    """Body text with LF line breaks (CRLF is added when writing)."""
    rng = np.random.default_rng(seed)
    lines = []
    for index in range(sentences):
        words = [_WORDS[i] for i in rng.integers(0, len(_WORDS), size=rng.integers(4, 10))]
        sentence = " ".join(words).capitalize()
        if index % 7 == 0:
            sentence = f"“{sentence},” said he—don't  stop."
        else:
            sentence += "."
        lines.append(sentence)
    return "\n".join(lines)


def gutenberg_text(sentences: int = 120, seed: int = 0) -> str:
    return (
        "The Project Gutenberg EBook of Frankenstein, by Mary Shelley\n\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\n\n"
        + frankenstein_body(sentences, seed)
        + "\n\n*** END OF THIS PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\n\n"
        "Updated editions will replace the previous one.\n"
    )


def write_frankenstein(directory: Path, sentences: int = 120, seed: int = 0) -> str:
    """Write `frankenstein.txt` (BOM, CRLF); returns the text as the book reads it (LF, no BOM)."""
    text = gutenberg_text(sentences, seed)
    Path(directory).mkdir(parents=True, exist_ok=True)
    raw = "\ufeff" + text.replace("\n", "\r\n")
    (Path(directory) / "frankenstein.txt").write_bytes(raw.encode("utf-8"))
    return text


# Axes of the hand-built GloVe space: royalty, maleness, animal, country, capital, noise dims follow.
_GLOVE_BASE = {
    "king": [1.0, 1.0, 0.0, 0.0, 0.0],
    "queen": [1.0, -1.0, 0.0, 0.0, 0.0],
    "prince": [0.8, 1.0, 0.0, 0.1, 0.0],
    "man": [0.0, 1.0, 0.0, 0.0, 0.0],
    "woman": [0.0, -1.0, 0.0, 0.0, 0.0],
    "dog": [0.0, 0.1, 1.0, 0.0, 0.0],
    "cat": [0.0, 0.0, 1.0, 0.0, 0.1],
    "sweden": [0.0, 0.0, 0.0, 1.0, 0.2],
    "stockholm": [0.0, 0.0, 0.0, 0.6, 1.0],
    "spain": [0.0, 0.0, 0.0, 1.0, -0.2],
    "madrid": [0.0, 0.0, 0.0, 0.6, 0.6],
    "e-mail": [0.1, 0.0, 0.0, 0.0, 0.0],
    # The rest of c13e1's query and answer words, near their partners.
    "monarch": [0.9, 0.2, 0.0, 0.0, 0.0],
    "dogs": [0.0, 0.1, 0.9, 0.0, 0.0],
    "hello": [0.0, 0.0, 0.0, 0.0, -1.0],
    "goodbye": [0.0, 0.0, 0.0, 0.1, -0.9],
    "hey": [0.1, 0.0, 0.0, 0.0, -0.8],
    "precisely": [0.0, 0.0, -1.0, 0.0, 0.0],
    "exactly": [0.0, 0.1, -0.9, 0.0, 0.0],
    "accurately": [0.1, 0.0, -0.8, 0.0, 0.0],
    "denmark": [0.0, 0.0, 0.0, 0.9, 0.3],
    "norway": [0.0, 0.0, 0.0, 0.9, 0.1],
    "copenhagen": [0.0, 0.0, 0.0, 0.5, 0.9],
    "barcelona": [0.0, 0.0, 0.0, 0.6, 0.5],
    "valencia": [0.0, 0.0, 0.0, 0.5, 0.5],
}


def write_glove(directory: Path, name: str = "glove.6B.100d.txt", dimension: int = 8) -> dict:
    """Write a GloVe-format text file; returns {word: float32 vector} as written (6 decimals)."""
    rng = np.random.default_rng(0)
    vectors = {}
    for word, base in _GLOVE_BASE.items():
        vector = np.zeros(dimension)
        vector[: len(base)] = base
        vector[len(base) :] = rng.normal(0, 0.05, size=dimension - len(base))
        vectors[word] = np.round(vector, 6).astype(np.float32)
    lines = [f"{word} " + " ".join(f"{v:.6f}" for v in vector) for word, vector in vectors.items()]
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vectors
