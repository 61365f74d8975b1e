"""Train and freeze the WordPiece vocabularies of chapter 03 (``data/reviews/wordpiece-<V>.txt``).

``tokenizers``' trainer breaks ties between equally scored merges in hash-map order, so
two trainings on the same corpus can differ in a few entries -- and every number
downstream (ids, trained models) with them. Chapter 03 trains a tokenizer live to teach
it, then uses the frozen vocabulary written here so its results are reproducible.

    .venv/bin/python tools/freeze_wordpiece.py          # writes 2000 and 4000
"""

from __future__ import annotations

import sys

import course_utils  # noqa: F401  (sets the offline flags before HF imports)
from course_utils.data import data_dir, load_reviews
from course_utils.tokenization import save_wordpiece_vocab, train_wordpiece


def main(sizes: list[int]) -> None:
    """Train one vocabulary per size on the training reviews and write it."""
    texts = list(load_reviews()["train"]["text"])
    for size in sizes:
        path = save_wordpiece_vocab(train_wordpiece(texts, size),
                                    data_dir() / "reviews" / f"wordpiece-{size}.txt")
        print(f"wrote {path} ({size} entries)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2000, 4000])
