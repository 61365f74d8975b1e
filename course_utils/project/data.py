"""Data for the sentiment project: one loader for IMDB and the offline reviews, cleaning,
duplicate removal, length statistics and stratified splits.

The chapter's rule: every later choice is made on *validation*; *test* is read once, at
the end. ``prepare_corpus`` keeps the dataset's own test split and carves a stratified
validation split out of the rest; ``stratified_split`` is the three-way split for data
that comes without a test split.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from course_utils.validation import check_choice, check_float, check_int

__all__ = ["SOURCES", "clean_text", "near_duplicate_key", "deduplicate", "load_corpus",
           "stratified_split", "length_stats", "Corpus", "prepare_corpus", "write_splits",
           "read_split"]

#: ``reviews`` = the course corpus (offline); ``stanfordnlp/imdb`` = the real IMDB (Hub)
SOURCES = ("reviews", "stanfordnlp/imdb")
_TAG = re.compile(r"<[^>]{0,200}>")
_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def clean_text(text: str) -> str:
    """HTML line breaks and tags -> spaces, entities decoded, unicode NFC, whitespace collapsed.

    IMDB reviews contain ``<br /><br />`` between paragraphs and entities such as ``&amp;``;
    the same character can arrive composed (``é``) or decomposed (``e`` + accent), which a
    tokenizer would split differently: NFC makes them one form.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = _BR.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", text).strip()


def near_duplicate_key(text: str) -> str:
    """A fingerprint that ignores case, accents, punctuation and spacing.

    Two reviews with the same key differ only in those (``"Great film!!"`` and ``"great
    film."``): near duplicates that would leak between train and test if kept.
    """
    folded = text.casefold()
    if not folded.isascii():  # strip accents: decompose, then drop the combining marks
        folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return _NOT_WORD.sub(" ", folded).strip()


def deduplicate(texts: Sequence[str], labels: Sequence[int]) -> tuple[np.ndarray, dict[str, int]]:
    """Indices to keep (first occurrence of each near-duplicate key) and what was dropped.

    ``report``: ``exact`` (identical text seen before), ``near`` (same key, different text),
    ``conflicting`` (duplicates whose labels disagree with the kept copy).
    """
    if len(texts) != len(labels):
        raise ValueError(f"texts and labels differ in length: {len(texts)} vs {len(labels)}")
    seen_text: set[str] = set()
    first_label: dict[str, int] = {}
    keep, report = [], {"exact": 0, "near": 0, "conflicting": 0}
    for i, (text, label) in enumerate(zip(texts, labels)):
        key = near_duplicate_key(text)
        if key in first_label:
            report["exact" if text in seen_text else "near"] += 1
            report["conflicting"] += int(first_label[key] != int(label))
            continue
        seen_text.add(text)
        first_label[key] = int(label)
        keep.append(i)
    return np.asarray(keep, dtype=np.int64), report


def load_corpus(source: str, seed: int = 0) -> pd.DataFrame:
    """Every labelled example of ``source`` in one table: ``text``, ``label``, ``hard``.

    ``"stanfordnlp/imdb"``: the Hub dataset's 25k train + 25k test reviews (the 50k
    unlabelled ones are left out); ``hard`` is unknown there (all False). ``"reviews"``:
    the course corpus, all three of its splits pooled -- we re-split it ourselves, exactly
    as we do IMDB. Both go through ``datasets``; only the name differs.
    """
    check_choice("source", source, SOURCES)
    if source == "reviews":
        from course_utils.data import load_reviews

        parts = load_reviews(seed=seed)
    else:
        from course_utils.assets import load_text_dataset

        parts = load_text_dataset(source).value
        parts = {k: v for k, v in parts.items() if k in ("train", "test")}
    frames = []
    for split, ds in parts.items():
        frame = ds.to_pandas()
        frame["hard"] = frame["hard"].astype(bool) if "hard" in frame else False
        frame["origin"] = split
        frames.append(frame[["text", "label", "hard", "origin"]])
    table = pd.concat(frames, ignore_index=True)
    table["label"] = table["label"].astype(np.int64)
    return table


def stratified_split(strata: Sequence[Any], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint sorted index arrays ``train/validation/test`` with the strata's proportions.

    Two calls of scikit-learn's ``train_test_split(..., stratify=...)`` as in the source:
    first hold out validation + test, then cut that part in two.
    """
    from sklearn.model_selection import train_test_split

    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    check_int("seed", seed, min_value=0)
    strata = np.asarray([str(s) for s in strata])
    index = np.arange(len(strata))
    train, rest = train_test_split(index, test_size=fractions[1] + fractions[2],
                                   random_state=seed, stratify=strata)
    val, test = train_test_split(rest, test_size=fractions[2] / (fractions[1] + fractions[2]),
                                 random_state=seed, stratify=strata[rest])
    return {"train": np.sort(train), "validation": np.sort(val), "test": np.sort(test)}


def length_stats(texts: Sequence[str]) -> dict[str, float]:
    """Words per text: mean and percentiles (whitespace words; tokens come later)."""
    words = np.array([len(t.split()) for t in texts])
    return {"n": int(len(words)), "mean": float(words.mean()), "p5": float(np.percentile(words, 5)),
            "median": float(np.median(words)), "p95": float(np.percentile(words, 95)),
            "max": int(words.max())}


@dataclass
class Corpus:
    """A cleaned, de-duplicated corpus and its split."""

    source: str
    table: pd.DataFrame  # text, label, hard, origin, split (after cleaning and dedup)
    report: dict[str, Any] = field(default_factory=dict)  # what each step changed

    def split(self, name: str) -> pd.DataFrame:
        """The rows of one split (``train``, ``validation`` or ``test``)."""
        check_choice("split", name, ("train", "validation", "test"))
        return self.table[self.table["split"] == name].reset_index(drop=True)


def prepare_corpus(source: str, n_examples: int = 0, seed: int = 0, val_fraction: float = 0.15
                   ) -> Corpus:
    """load -> clean -> de-duplicate -> stratified train/validation split; test kept apart.

    The dataset's own **test** split stays the test set: for IMDB it is the benchmark
    everybody reports (25k reviews), for the course reviews it is written with held-out
    templates, titles and names (new material, like reviews of films released later).
    Every other labelled example forms the development pool, which is split stratified
    (by label and, where known, ``hard``) into train and validation. Duplicates are removed
    within the pool, within test, and *across* them (a test review whose near-duplicate is
    in the pool is dropped from test). ``n_examples`` > 0 keeps a stratified sample of that
    many pool examples (quick and smoke profiles); test is never subsampled.
    """
    check_int("n_examples", n_examples, min_value=0)
    check_float("val_fraction", val_fraction, min_value=0.0, max_value=0.9, min_inclusive=False)
    raw = load_corpus(source, seed=seed)
    cleaned = raw["text"].map(clean_text)
    report: dict[str, Any] = {"loaded": len(raw), "changed_by_cleaning": int((cleaned != raw["text"]).sum()),
                              "with_html": int(raw["text"].str.contains("<br", regex=False).sum())}
    # pool first, then test: the first copy is kept, so test loses its duplicates of the pool
    order = np.argsort((raw["origin"] == "test").to_numpy(), kind="stable")
    table = raw.assign(text=cleaned).iloc[order].reset_index(drop=True)
    keep, dups = deduplicate(table["text"].tolist(), table["label"].tolist())
    report.update({f"duplicates_{k}": v for k, v in dups.items()})
    table = table.iloc[keep].reset_index(drop=True)
    report["after_dedup"] = len(table)
    is_test = (table["origin"] == "test").to_numpy()
    test, pool = table[is_test], table[~is_test].reset_index(drop=True)
    strata = (pool["label"].astype(str) + "/" + pool["hard"].astype(str)).to_numpy()
    from sklearn.model_selection import train_test_split

    if 0 < n_examples < len(pool):
        chosen, _ = train_test_split(np.arange(len(pool)), train_size=n_examples,
                                     random_state=seed, stratify=strata)
        chosen = np.sort(chosen)
        pool, strata = pool.iloc[chosen].reset_index(drop=True), strata[chosen]
    train_idx, val_idx = train_test_split(np.arange(len(pool)), test_size=val_fraction,
                                          random_state=seed, stratify=strata)
    pool["split"] = "train"
    pool.loc[val_idx, "split"] = "validation"
    table = pd.concat([pool, test.assign(split="test")], ignore_index=True)
    report["used"] = len(table)
    return Corpus(source, table, report)


def write_splits(corpus: Corpus, folder: str | Path, splits: Sequence[str] = ("train", "validation")
                 ) -> Path:
    """Write the given splits as parquet files for the training script (not test: the script
    never sees it)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in splits:
        corpus.split(name)[["text", "label", "hard"]].to_parquet(folder / f"{name}.parquet")
    return folder


def read_split(folder: str | Path, name: str) -> pd.DataFrame:
    """One split written by ``write_splits``."""
    path = Path(folder) / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"no {name} split at {path} (write it with write_splits)")
    return pd.read_parquet(path)
