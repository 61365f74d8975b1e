"""The final evaluation of chapter 11: confusion matrix, precision/recall/F1, calibration
(reliability bins and the expected calibration error) and the worst mistakes.

Everything takes plain arrays (labels, predicted positive-class probabilities), so the
same functions score the TF-IDF baseline, the Transformers and their compressed versions.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from course_utils.validation import check_int

__all__ = ["confusion", "prf_from_confusion", "reliability_bins", "expected_calibration_error",
           "worst_mistakes", "mcnemar_exact", "predict_proba"]


def _labels(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must be a 1-D array of 0/1 labels, got shape {arr.shape} "
                         f"with values {np.unique(arr)[:5]}")
    return arr.astype(np.int64)


def _probs(values: Any, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and len(arr) != n):
        raise ValueError(f"probabilities must be 1-D with {n} entries, got shape {arr.shape}")
    if ((arr < 0) | (arr > 1) | ~np.isfinite(arr)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return arr


def confusion(labels: Sequence[int], predictions: Sequence[int]) -> np.ndarray:
    """2x2 counts: rows = true class (0 negative, 1 positive), columns = predicted class.

    The same layout as ``sklearn.metrics.confusion_matrix``: ``[[TN, FP], [FN, TP]]``.
    """
    y, p = _labels("labels", labels), _labels("predictions", predictions)
    if len(y) != len(p):
        raise ValueError(f"labels and predictions differ in length: {len(y)} vs {len(p)}")
    return np.array([[np.sum((y == t) & (p == q)) for q in (0, 1)] for t in (0, 1)])


def prf_from_confusion(matrix: Any) -> dict[str, float]:
    """Precision, recall and F1 of the positive class, their macro averages and accuracy."""
    cm = np.asarray(matrix, dtype=np.float64)
    if cm.shape != (2, 2):
        raise ValueError(f"matrix must be 2x2 (rows true, columns predicted), got {cm.shape}")

    def scores(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    (tn, fp), (fn, tp) = cm
    pos, neg = scores(tp, fp, fn), scores(tn, fn, fp)
    return {"accuracy": (tp + tn) / cm.sum(), "precision": pos[0], "recall": pos[1], "f1": pos[2],
            "macro_f1": (pos[2] + neg[2]) / 2}


def reliability_bins(labels: Sequence[int], prob_positive: Sequence[float], n_bins: int = 10
                     ) -> dict[str, np.ndarray]:
    """Confidence (max class probability) in ``n_bins`` equal-width bins over [0.5, 1].

    Per bin: ``count``, mean ``confidence`` and ``accuracy`` (share of those predictions
    that are right). A calibrated model has accuracy == confidence in every bin.
    """
    check_int("n_bins", n_bins, min_value=1)
    y = _labels("labels", labels)
    p = _probs(prob_positive, len(y))
    confidence = np.maximum(p, 1 - p)
    correct = ((p >= 0.5).astype(np.int64) == y)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(which, weights=correct, minlength=n_bins) / count
    return {"edges": edges, "count": count, "confidence": conf, "accuracy": acc}


def expected_calibration_error(labels: Sequence[int], prob_positive: Sequence[float],
                               n_bins: int = 10) -> float:
    """ECE = sum over bins of (bin share) x |accuracy - confidence|."""
    bins = reliability_bins(labels, prob_positive, n_bins)
    used = bins["count"] > 0
    weights = bins["count"][used] / bins["count"].sum()
    return float(np.sum(weights * np.abs(bins["accuracy"][used] - bins["confidence"][used])))


def worst_mistakes(labels: Sequence[int], prob_positive: Sequence[float], k: int = 5) -> np.ndarray:
    """Indices of the ``k`` wrong predictions made with the highest confidence, worst first."""
    check_int("k", k, min_value=0)
    y = _labels("labels", labels)
    p = _probs(prob_positive, len(y))
    wrong = np.flatnonzero((p >= 0.5).astype(np.int64) != y)
    confidence = np.maximum(p, 1 - p)[wrong]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:k]]


def mcnemar_exact(a_right: Sequence[bool], b_right: Sequence[bool]) -> dict[str, float]:
    """Exact (binomial) McNemar test of two classifiers scored on the same examples.

    Only the discordant pairs carry information: ``a_only`` examples that A got right and B
    wrong, ``b_only`` the reverse. Under "equally accurate" each discordant pair is a fair coin,
    so the two-sided p-value is ``P(Binomial(a_only + b_only, 1/2) <= min(a_only, b_only))``
    doubled (capped at 1) -- what ``scipy.stats.binomtest(a_only, a_only + b_only).pvalue`` gives.
    """
    a, b = np.asarray(a_right, dtype=bool), np.asarray(b_right, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"a_right and b_right must have the same shape, got {a.shape} and {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    n = a_only + b_only
    tail = sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1)) / 2.0 ** n if n else 0.5
    return {"a_only": a_only, "b_only": b_only, "p_value": min(1.0, 2.0 * tail)}


@torch.no_grad()
def predict_proba(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  batch_size: int = 256) -> np.ndarray:
    """P(positive) for every row, in eval mode, batch by batch (padding trimmed per batch)."""
    if isinstance(model, torch.nn.Module):
        model.eval()
    out = []
    for start in range(0, len(input_ids), batch_size):
        ids, mask = input_ids[start:start + batch_size], attention_mask[start:start + batch_size]
        width = max(int(mask.sum(1).max()), 1)
        logits = model(ids[:, :width], mask[:, :width]).float()
        out.append(torch.softmax(logits, -1)[:, 1])
    return torch.cat(out).numpy().astype(np.float64)
