"""Deduplication for training corpora (chapter 06 sidebar): exact and MinHash near-duplicates.

* ``normalize`` + ``exact_duplicates``: hash of the normalised text, groups of equal hashes.
* ``shingles``: the set of word k-grams of a text.
* ``minhash_signatures``: for each of ``num_perm`` hash functions h_j(x) = (a_j x + b_j) mod p
  (p = 2^31 - 1, a_j and b_j random below p) over the shingles' hashes, the minimum;
  P(two signatures agree at j) = Jaccard. All products stay below 2^62: exact in uint64.
* ``lsh_pairs``: band the signatures (``bands`` x ``rows``); texts that agree on all rows of
  any band become candidate pairs, P = 1 - (1 - J^rows)^bands.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from course_utils.validation import check_int

__all__ = ["normalize", "exact_duplicates", "shingles", "jaccard", "minhash_signatures",
           "lsh_pairs", "PRIME"]

PRIME = (1 << 31) - 1  # the prime p of the hash family (a Mersenne prime)


def normalize(text: str) -> str:
    """Lower case, punctuation removed, runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def exact_duplicates(texts: Sequence[str]) -> list[list[int]]:
    """Groups (of 2 or more indices) of texts whose normalised forms are identical."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        groups[hashlib.sha1(normalize(text).encode()).hexdigest()].append(i)
    return [g for g in groups.values() if len(g) > 1]


def shingles(text: str, k: int = 3) -> set[str]:
    """Word k-grams of the normalised text (the whole text if it has fewer than k words)."""
    check_int("k", k, min_value=1)
    words = normalize(text).split()
    if len(words) <= k:
        return {" ".join(words)}
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    return len(a & b) / len(a | b) if a | b else 1.0


def _hash(items: set[str]) -> np.ndarray:
    """A stable hash of each shingle in [0, p) (Python's hash() changes between runs)."""
    return np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                     % PRIME for s in items], dtype=np.uint64)


def minhash_signatures(shingle_sets: Sequence[set[str]], num_perm: int = 64, seed: int = 0
                       ) -> np.ndarray:
    """(n_texts, num_perm) MinHash signatures, uint64."""
    check_int("num_perm", num_perm, min_value=1)
    rng = np.random.default_rng(seed)
    a = rng.integers(1, PRIME, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, PRIME, size=num_perm, dtype=np.uint64)
    out = np.empty((len(shingle_sets), num_perm), dtype=np.uint64)
    for i, items in enumerate(shingle_sets):
        x = _hash(items)
        out[i] = ((a[:, None] * x[None, :] + b[:, None]) % PRIME).min(axis=1)
    return out


def lsh_pairs(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    """Pairs (i < j) whose signatures agree on every row of at least one band."""
    check_int("bands", bands, min_value=1)
    check_int("rows", rows, min_value=1)
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"bands * rows = {bands * rows} exceeds the {signatures.shape[1]} "
                         "hash functions of the signatures")
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        chunk = signatures[:, band * rows:(band + 1) * rows]
        for i, row in enumerate(chunk):
            buckets[row.tobytes()].append(i)
        for members in buckets.values():
            pairs.update((members[x], members[y]) for x in range(len(members))
                         for y in range(x + 1, len(members)))
    return pairs
