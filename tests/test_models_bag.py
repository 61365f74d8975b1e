"""course_utils.models.bag: n-gram features and the bag classifier."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.models.bag import NgramBag, NgramBagConfig, NgramFeaturizer, pack_bags


def test_featurizer_ids():
    texts = [["not", "bad", "at", "all"], ["not", "bad"], ["bad", "film"]]
    f = NgramFeaturizer.build(texts, min_unigram=1, min_bigram=2)
    assert list(f.bigrams) == [("not", "bad")]
    ids = f(["not", "bad", "zzz"])
    assert ids[:3] == [f.unigrams["not"], f.unigrams["bad"], 0]
    assert ids[3:] == [f.bigrams[("not", "bad")]]
    assert f([]) == [0] and len(f) == 1 + len(f.unigrams) + 1
    assert f(["bad", "not"]) == [f.unigrams["bad"], f.unigrams["not"]]  # order matters for pairs


def test_pack_bags_and_the_model_equal_a_manual_mean():
    flat, offsets = pack_bags([[1, 2], [3], [4, 5, 6]])
    assert flat.tolist() == [1, 2, 3, 4, 5, 6] and offsets.tolist() == [0, 2, 3]
    torch.manual_seed(0)
    model = NgramBag(NgramBagConfig(n_features=8, d_embed=4)).eval()
    vectors = model.sentence_vectors(flat, offsets)
    table = model.embed.weight
    expected = torch.stack([table[[1, 2]].mean(0), table[[3]].mean(0), table[[4, 5, 6]].mean(0)])
    assert torch.allclose(vectors, expected, atol=1e-6)
    assert torch.allclose(model(flat, offsets), F.linear(expected, model.head.weight, model.head.bias),
                          atol=1e-6)


def test_config_validation():
    with pytest.raises(ValueError):
        NgramBagConfig(n_features=0)
    with pytest.raises(ValueError):
        NgramBagConfig(n_features=5, dropout=1.0)
