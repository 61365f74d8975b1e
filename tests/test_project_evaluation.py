"""Chapter 11 evaluation helpers vs scikit-learn and by hand."""

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

from course_utils.project import evaluation as ev


def test_confusion_and_prf_equal_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    cm = ev.confusion(y, p)
    assert np.array_equal(cm, confusion_matrix(y, p))
    scores = ev.prf_from_confusion(cm)
    assert scores["precision"] == pytest.approx(precision_score(y, p))
    assert scores["recall"] == pytest.approx(recall_score(y, p))
    assert scores["f1"] == pytest.approx(f1_score(y, p))
    assert scores["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert ev.prf_from_confusion([[5, 0], [3, 0]])["precision"] == 0.0
    with pytest.raises(ValueError):
        ev.confusion([0, 2], [0, 1])


def test_ece_by_hand():
    labels = np.array([1, 1, 0, 0])
    probs = np.array([0.9, 0.8, 0.3, 0.6])  # confidences 0.9, 0.8, 0.7, 0.6; last one wrong
    # 4 bins over [0.5, 1]: one prediction each; |acc - conf| = 0.1, 0.2, 0.3, 0.6
    assert ev.expected_calibration_error(labels, probs, n_bins=4) == pytest.approx((0.1 + 0.2 + 0.3 + 0.6) / 4)
    assert ev.expected_calibration_error([1, 0], [1.0, 0.0], n_bins=10) == pytest.approx(0.0)


def test_worst_mistakes():
    labels = np.array([1, 0, 1, 0, 1])
    probs = np.array([0.2, 0.9, 0.45, 0.05, 0.99])
    assert ev.worst_mistakes(labels, probs, 2).tolist() == [1, 0]
    assert ev.worst_mistakes(labels, probs, 10).tolist() == [1, 0, 2]


def test_predict_proba_trims_padding_without_changing_results():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 2)

    def model(ids, mask):
        return (emb(ids) * mask[..., None]).sum(1)

    ids = torch.randint(1, 10, (5, 6))
    mask = torch.ones(5, 6, dtype=torch.long)
    mask[:, 4:] = 0
    full = torch.softmax(model(ids, mask), -1)[:, 1].detach().numpy()
    with torch.no_grad():
        assert np.allclose(ev.predict_proba(lambda i, m: model(i, m), ids, mask, batch_size=2), full)


def test_mcnemar_exact_matches_scipy_binomtest():
    from scipy.stats import binomtest

    from course_utils.project.evaluation import mcnemar_exact

    rng = np.random.default_rng(0)
    for n, pa, pb in ((50, 0.8, 0.7), (300, 0.9, 0.88), (7, 0.5, 0.5)):
        a, b = rng.random(n) < pa, rng.random(n) < pb
        got = mcnemar_exact(a, b)
        k, m = int((a & ~b).sum()), int((a ^ b).sum())
        assert (got["a_only"], got["b_only"]) == (k, m - k)
        assert got["p_value"] == pytest.approx(binomtest(k, m).pvalue if m else 1.0, abs=1e-12)
    assert mcnemar_exact([True, False], [True, False])["p_value"] == 1.0   # no discordant pair
    with pytest.raises(ValueError):
        mcnemar_exact([True], [True, False])
