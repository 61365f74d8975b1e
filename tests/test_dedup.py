"""course_utils.dedup: exact duplicates, shingles, MinHash estimates Jaccard, LSH banding."""

import random

import numpy as np
import pytest

from course_utils import dedup


def test_exact_duplicates_after_normalisation():
    texts = ["A great film!", "a great   film", "Another one.", "A GREAT FILM?", "x"]
    assert dedup.exact_duplicates(texts) == [[0, 1, 3]]


def test_shingles_and_jaccard():
    assert dedup.shingles("the film is good", 2) == {"the film", "film is", "is good"}
    assert dedup.shingles("short", 3) == {"short"}
    assert dedup.jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(0.5)
    assert dedup.jaccard(set(), set()) == 1.0


def test_minhash_agreement_estimates_jaccard():
    rng = random.Random(0)
    base = [f"w{rng.randrange(10_000)}" for _ in range(300)]
    other = base[:200] + [f"x{i}" for i in range(100)]
    a, b = dedup.shingles(" ".join(base), 1), dedup.shingles(" ".join(other), 1)
    sigs = dedup.minhash_signatures([a, b], num_perm=512, seed=0)
    estimate = float(np.mean(sigs[0] == sigs[1]))
    assert abs(estimate - dedup.jaccard(a, b)) < 0.06
    assert np.array_equal(dedup.minhash_signatures([a], 16, seed=3), dedup.minhash_signatures([a], 16, seed=3))


def test_lsh_finds_near_duplicates_and_not_strangers():
    rng = random.Random(1)
    docs = [" ".join(f"w{rng.randrange(50_000)}" for _ in range(60)) for _ in range(40)]
    docs.append(docs[0].replace(docs[0].split()[5], "changed", 1))  # a near-copy of doc 0
    sigs = dedup.minhash_signatures([dedup.shingles(d, 3) for d in docs], num_perm=128, seed=0)
    pairs = dedup.lsh_pairs(sigs, bands=16, rows=8)
    assert (0, 40) in pairs
    assert len(pairs) <= 2
    with pytest.raises(ValueError, match="exceeds"):
        dedup.lsh_pairs(sigs, bands=32, rows=8)
