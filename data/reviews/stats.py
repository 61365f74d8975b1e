#!/usr/bin/env python
"""Statistics for the generated review corpus (the numbers pasted into README.md).

Usage: ``python data/reviews/stats.py [--data DIR] [--write-readme]``

Prints a markdown block: split sizes, labels, lengths, vocabulary, hard-subset share,
phenomena, the TF-IDF + logistic-regression baseline (overall / hard / non-hard), the
train-test n-gram overlap against a random train split, the generation time and samples.
With ``--write-readme`` the block replaces the one between the markers in README.md.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "validation", "test")
WORD_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
SENT_RE = re.compile(r"(?<=[.!?])\s+")


def load_generator():
    """The generator module (``generate.py`` next to this file)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_reviews_generate", HERE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def heldout_summary() -> list:
    """Markdown lines describing what only validation / test may use."""
    gen = load_generator()
    g = gen.Grammar(gen.DEFAULT_SEED)
    rep = g.heldout_report()
    lines = ["| held-out material | validation only | test only | pool size |", "|---|---|---|---|"]
    groups = [
        ("film titles", ["titles"]),
        ("first and last names", ["first_f", "first_m", "last"]),
        ("genres", ["genres"]),
        ("occasions, companions, festivals", ["occasions", "companions", "festival_places"]),
        (
            "protagonists, goals, settings, encounters",
            ["protagonists", "goals", "settings", "encounters"],
        ),
        ("opening families", ["opening_families"]),
        ("verdict (closing) families", ["verdict_families"]),
    ]
    covered = {n for _, names in groups for n in names}
    templ = [n for n in g.pools if n not in covered]
    groups.append(("sentence templates (all other pools)", templ))
    for label, names in groups:
        v = sum(len(rep["validation"].get(n, [])) for n in names)
        t = sum(len(rep["test"].get(n, [])) for n in names)
        size = sum(len(g.pools[n].items) for n in names)
        lines.append(f"| {label} | {v} | {t} | {size} |")
    n_combos = sum(
        len(a["nouns"]) * (len(a["pos"]) + len(a["neg"])) for a in gen.LEX.ASPECTS.values()
    )
    lines.append(
        f"| aspect-noun x adjective combinations | {len(rep['validation']['aspect_combos'])} | "
        f"{len(rep['test']['aspect_combos'])} | {n_combos} |"
    )
    lines.append("")
    lines.append(
        "Held-out families: openings "
        + ", ".join(
            f"`{f}` ({s})"
            for s in ("validation", "test")
            for f in rep[s].get("opening_families", [])
        )
        + "; closings "
        + ", ".join(
            f"`{f}` ({s})"
            for s in ("validation", "test")
            for f in rep[s].get("verdict_families", [])
        )
        + "."
    )
    return lines


def load_splits(folder: Path = HERE) -> dict:
    """{split: pandas.DataFrame} read from ``folder``/<split>.parquet."""
    import pandas as pd

    return {s: pd.read_parquet(Path(folder) / f"{s}.parquet") for s in SPLITS}


def words(text: str) -> list:
    """Lower-cased word tokens."""
    return WORD_RE.findall(text.lower())


def sentences(text: str) -> list:
    """Sentences of a review (split after . ! ?)."""
    return [s for s in SENT_RE.split(text.strip()) if s]


def tfidf_baseline(train, test) -> dict:
    """Fit TF-IDF (word 1-2 grams) + logistic regression on ``train``; accuracies on ``test``."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X = vec.fit_transform(train["text"])
    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit(X, train["label"])
    pred = clf.predict(vec.transform(test["text"]))
    ok = pred == test["label"].to_numpy()
    hard = test["hard"].to_numpy()
    out = {
        "overall": float(ok.mean()),
        "hard": float(ok[hard].mean()),
        "non_hard": float(ok[~hard].mean()),
        "n_features": int(X.shape[1]),
    }
    tags = test["phenomena"].str.split(",")
    for tag in sorted({t for ts in tags for t in ts if t}):
        m = np.array([tag in ts for ts in tags])
        out[f"tag:{tag}"] = (float(ok[m].mean()), int(m.sum()))
    return out


def _ngrams(text: str, n: int):
    for sent in sentences(text):
        toks = words(sent)
        for i in range(len(toks) - n + 1):
            yield tuple(toks[i : i + n])


def ngram_overlap(reference_texts, query_texts, n: int = 8) -> dict:
    """Share of the query's sentence-level n-grams (and whole sentences) seen in the reference.

    n-grams never cross a sentence boundary; sentences are compared lower-cased.
    """
    ref_grams, ref_sents = set(), set()
    for t in reference_texts:
        ref_grams.update(_ngrams(t, n))
        ref_sents.update(" ".join(words(s)) for s in sentences(t))
    hit = total = s_hit = s_total = 0
    for t in query_texts:
        for g in _ngrams(t, n):
            total += 1
            hit += g in ref_grams
        for s in sentences(t):
            s_total += 1
            s_hit += " ".join(words(s)) in ref_sents
    return {
        "ngram": hit / max(total, 1),
        "sentence": s_hit / max(s_total, 1),
        "n_ngrams": total,
        "n_sentences": s_total,
    }


def overlap_report(train, test, n: int = 8, seed: int = 0) -> dict:
    """Test vs train overlap next to the same figure for a random split of train.

    A random ``len(test)`` reviews of train are held out as a pseudo-test set; both it and
    the real test set are compared with the remaining train reviews (same reference).
    """
    idx = list(range(len(train)))
    random.Random(seed).shuffle(idx)
    k = len(test)
    texts = train["text"].tolist()
    pseudo = [texts[i] for i in idx[:k]]
    reference = [texts[i] for i in idx[k:]]
    return {
        "test": ngram_overlap(reference, test["text"].tolist(), n),
        "random_train_split": ngram_overlap(reference, pseudo, n),
        "n": n,
        "reference_size": len(reference),
    }


def time_generator(seed=None) -> float:
    """Wall-clock seconds of ``python generate.py --out <tmp>`` (interpreter start included)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(HERE / "generate.py"), "--out", tmp]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t0


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def report(folder: Path = HERE, gen_time: float | None = None) -> str:
    """The markdown statistics block."""
    d = load_splits(folder)
    lines = []
    add = lines.append
    add("| split | reviews | negative | positive | hard | hard share |")
    add("|---|---|---|---|---|---|")
    for s in SPLITS:
        df = d[s]
        add(
            f"| {s} | {len(df)} | {(df.label == 0).sum()} | {(df.label == 1).sum()} | "
            f"{df.hard.sum()} | {_pct(df.hard.mean())} |"
        )
    allt = [t for s in SPLITS for t in d[s]["text"]]
    n_sent = [len(sentences(t)) for t in allt]
    n_words = sorted(len(words(t)) for t in allt)
    vocab_all = Counter(w for t in allt for w in words(t))
    vocab_train = {w for t in d["train"]["text"] for w in words(t)}
    vocab_test = {w for t in d["test"]["text"] for w in words(t)}
    add("")
    add(
        "- Sentences per review (all splits): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(Counter(n_sent).items()))
    )
    q = lambda p: n_words[min(len(n_words) - 1, int(p * len(n_words)))]
    add(
        f"- Words per review: min {n_words[0]}, 10th pct {q(0.1)}, median {q(0.5)}, "
        f"mean {sum(n_words) / len(n_words):.1f}, 90th pct {q(0.9)}, max {n_words[-1]}; "
        f"{sum(n_words)} words in all"
    )
    add(
        f"- Vocabulary (lower-cased word types): {len(vocab_all)} in all splits, "
        f"{len(vocab_train)} in train; {len(vocab_test - vocab_train)} test word types never "
        f"occur in train; {sum(1 for c in vocab_all.values() if c >= 5)} types occur "
        "at least 5 times"
    )
    add(
        f"- Characters per review: mean {sum(map(len, allt)) / len(allt):.0f}, "
        f"max {max(map(len, allt))}"
    )
    add(
        "- Ratings (train): "
        + ", ".join(f"{r}: {c}" for r, c in sorted(Counter(d["train"]["rating"]).items()))
    )
    add("")
    add("Phenomena (reviews carrying each tag):")
    add("")
    add("| tag | " + " | ".join(SPLITS) + " |")
    add("|---|" + "---|" * len(SPLITS))
    tags = sorted({t for s in SPLITS for ts in d[s]["phenomena"] for t in ts.split(",") if t})
    for tag in tags:
        cells = []
        for s in SPLITS:
            c = sum(tag in ts.split(",") for ts in d[s]["phenomena"])
            cells.append(f"{c} ({_pct(c / len(d[s]))})")
        add(f"| {tag} | " + " | ".join(cells) + " |")
    add("")
    t0 = time.perf_counter()
    base = tfidf_baseline(d["train"], d["test"])
    base_val = tfidf_baseline(d["train"], d["validation"])
    dt = time.perf_counter() - t0
    add(
        "TF-IDF (word 1-2 grams, min_df 2, sublinear tf) + logistic regression (C=1), "
        f"trained on train ({base['n_features']} features, both fits {dt:.1f} s):"
    )
    add("")
    add("| evaluated on | overall | hard | non-hard | gap (non-hard - hard) |")
    add("|---|---|---|---|---|")
    for name, b in (("validation", base_val), ("test", base)):
        add(
            f"| {name} | {b['overall']:.3f} | {b['hard']:.3f} | {b['non_hard']:.3f} | "
            f"{100 * (b['non_hard'] - b['hard']):.1f} points |"
        )
    add("")
    add(
        "Baseline accuracy on test by phenomenon: "
        + ", ".join(
            f"{k[4:]} {v[0]:.3f} (n={v[1]})" for k, v in base.items() if k.startswith("tag:")
        )
    )
    add("")
    ov = overlap_report(d["train"], d["test"])
    add(
        f"Overlap with train (reference: {ov['reference_size']} train reviews; sentence-level "
        f"{ov['n']}-grams, lower-cased words):"
    )
    add("")
    add(
        f"| query set | share of {ov['n']}-grams also in train | share of sentences also in train |"
    )
    add("|---|---|---|")
    for name, key in (("test", "test"), ("random 3000 held out from train", "random_train_split")):
        o = ov[key]
        add(f"| {name} | {_pct(o['ngram'])} | {_pct(o['sentence'])} |")
    add("")
    lines += heldout_summary()
    add("")
    if gen_time is not None:
        add(
            f"Generation time: {gen_time:.1f} s wall clock for `python data/reviews/generate.py` "
            "(2-core CPU, interpreter start and parquet writing included)."
        )
        add("")
    add("Samples (test split; `hard` marked):")
    add("")
    test = d["test"]
    rng = random.Random(7)
    hard_idx = [i for i in range(len(test)) if test.hard.iloc[i]]
    easy_idx = [i for i in range(len(test)) if not test.hard.iloc[i]]
    picks = rng.sample(hard_idx, 4) + rng.sample(easy_idx, 6)
    for i in sorted(picks):
        r = test.iloc[i]
        lab = "positive" if r.label else "negative"
        add(
            f"- id {r.id}, {lab}, rating {r.rating}, hard={bool(r.hard)}, "
            f"phenomena=[{r.phenomena}]: {r.text}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE)
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--no-timing", action="store_true", help="skip timing the generator")
    args = ap.parse_args(argv)
    gen_time = None if args.no_timing else time_generator()
    block = report(args.data, gen_time)
    print(block)
    if args.write_readme:
        from course_utils._maintain.readme import replace_section

        replace_section(HERE / "README.md", "stats", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
