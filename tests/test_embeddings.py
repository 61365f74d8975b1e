"""course_utils.embeddings: sub-sampling, pairs, noise distribution, SGNS loss and training."""

import math
import random

import pytest
import torch
import torch.nn.functional as F

from course_utils import embeddings as emb

pytestmark = pytest.mark.usefixtures("one_thread")


def test_keep_probability_formula():
    counts = torch.tensor([1000.0, 100.0, 10.0, 1.0])
    keep = emb.keep_probabilities(counts, t=1e-2)
    freq = counts / counts.sum()
    assert torch.allclose(keep, torch.clamp(torch.sqrt(1e-2 / freq), max=1.0))
    assert keep[0] < keep[1] < 1.0 and keep[-1] == 1.0  # frequent words are dropped more


def test_skipgram_pairs_dynamic_window():
    ids = list(range(10))
    pairs = emb.skipgram_pairs(ids, 1, random.Random(0))
    assert len(pairs) == 2 * 10 - 2 and all(abs(c - o) == 1 for c, o in pairs)
    wide = emb.skipgram_pairs(ids, 4, random.Random(0))
    assert all(1 <= abs(c - o) <= 4 for c, o in wide)
    # near neighbours are drawn more often than far ones
    many = emb.skipgram_pairs(list(range(2000)), 4, random.Random(1))
    d1 = sum(abs(c - o) == 1 for c, o in many)
    d4 = sum(abs(c - o) == 4 for c, o in many)
    assert d1 > 3 * d4


def test_noise_distribution_is_the_three_quarter_power():
    counts = torch.tensor([81.0, 1.0])
    p = emb.noise_distribution(counts)
    assert torch.allclose(p, torch.tensor([27.0, 1.0]) / 28.0)


def test_sgns_loss_matches_the_formula():
    torch.manual_seed(0)
    model = emb.SkipGramNS(20, 6)
    with torch.no_grad():
        model.u.weight.normal_()
    c, o, n = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6, 7], [8, 9, 10]])
    v, u = model.v.weight, model.u.weight
    expected = 0.0
    for i in range(2):
        expected += -F.logsigmoid(u[o[i]] @ v[c[i]]) - F.logsigmoid(-(u[n[i]] @ v[c[i]])).sum()
    assert torch.allclose(model(c, o, n), expected / 2, atol=1e-6)
    # with u = 0 at initialisation the loss is (1 + K) log 2
    fresh = emb.SkipGramNS(20, 6)
    assert fresh(c, o, n).item() == pytest.approx(4 * math.log(2), abs=1e-6)


def test_training_brings_co_occurring_words_together():
    # two "topics": words 0-4 always co-occur, words 5-9 always co-occur
    rng = random.Random(0)
    sentences = [[rng.randrange(5) for _ in range(8)] if k % 2 else [5 + rng.randrange(5) for _ in range(8)]
                 for k in range(400)]
    counts = torch.bincount(torch.tensor([i for s in sentences for i in s]), minlength=10).float()
    model, losses = emb.train_skipgram(sentences, counts, dim=8, window=2, epochs=3, batch_size=256,
                                       lr=0.05, t=1.0, seed=0)
    assert losses[-1] < losses[0]
    vectors = model.v.weight.detach()
    words = [str(i) for i in range(10)]
    assert all(int(w) < 5 for w, _ in emb.nearest(vectors, words, "0", 3))
    index = {w: i for i, w in enumerate(words)}
    assert emb.semantic_drift(vectors, index, ["0", "1"], ["0", "1"]) == pytest.approx(0.0, abs=1e-6)
    assert emb.semantic_drift(vectors, index, ["0", "1"], ["6", "7"]) > 0.5
    with pytest.raises(KeyError, match="not in the vocabulary"):
        emb.nearest(vectors, words, "zzz")


def test_build_vocab():
    words, counts = emb.build_vocab([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert words == ["a", "b"] and counts.tolist() == [3.0, 2.0]
