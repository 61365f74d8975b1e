"""course_utils.finetune: the initialisations chapter 03 compares and the fine-tuning recipe."""

from __future__ import annotations

import pytest
import torch

from course_utils.finetune import (INITS, FinetuneConfig, finetune_classifier, initial_encoder,
                                   predict_classes)
from course_utils.models.bert import Bert, BertConfig


def tiny_state() -> tuple[BertConfig, dict[str, torch.Tensor]]:
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, max_position_embeddings=12)
    torch.manual_seed(123)  # "pretrained": any weights that are not the seeded random ones,
    state = {k: v.detach().clone() for k, v in Bert(config).state_dict().items()}
    state["embeddings.word_embeddings.weight"] *= 3  # with a larger table, as pretraining leaves it
    return config, state


def test_grid_initialisations_change_one_factor():
    config, state = tiny_state()
    pretrained = initial_encoder("pretrained", 4, config, state).state_dict()
    random_init = initial_encoder("random init", 4, config, state).state_dict()
    fresh = initial_encoder("pretrained, fresh word embeddings", 4, config, state).state_dict()
    table = "embeddings.word_embeddings.weight"
    assert all(torch.equal(pretrained[k], state[k]) for k in state)
    assert not torch.equal(random_init[table], state[table])
    # the fresh-table arm: the random arm's table (same seed), every other tensor pretrained
    assert torch.equal(fresh[table], random_init[table])
    assert all(torch.equal(fresh[k], state[k]) for k in state if k != table)
    # seeded: the random arm is reproducible and differs between seeds
    again = initial_encoder("random init", 4, config, state).state_dict()
    other = initial_encoder("random init", 5, config, state).state_dict()
    assert all(torch.equal(again[k], random_init[k]) for k in state)
    assert not torch.equal(other[table], random_init[table])


def test_grid_table_swaps_and_rescaling():
    config, state = tiny_state()
    table = "embeddings.word_embeddings.weight"
    random_init = initial_encoder("random init", 4, config, state).state_dict()
    reverse = initial_encoder("random layers, pretrained word embeddings", 4, config,
                                   state).state_dict()
    # the reverse swap: the pretrained table in the random arm's layers
    assert torch.equal(reverse[table], state[table])
    assert all(torch.equal(reverse[k], random_init[k]) for k in state if k != table)
    rescaled = initial_encoder("pretrained, word table rescaled to random norm", 4, config,
                                    state).state_dict()
    assert all(torch.equal(rescaled[k], state[k]) for k in state if k != table)
    # same directions as the pretrained rows, the random table's mean row norm
    cos = torch.nn.functional.cosine_similarity(rescaled[table], state[table], dim=1)
    nonzero = state[table].norm(dim=1) > 0
    assert torch.allclose(cos[nonzero], torch.ones(int(nonzero.sum())), atol=1e-5)
    assert torch.isclose(rescaled[table].norm(dim=1).mean(), random_init[table].norm(dim=1).mean())
    assert not torch.isclose(state[table].norm(dim=1).mean(), random_init[table].norm(dim=1).mean())


def test_grid_rejects_an_unknown_initialisation():
    config, state = tiny_state()
    with pytest.raises(ValueError, match="init must be one of"):
        initial_encoder("pretrained, frozen", 0, config, state)


def toy_task(n: int = 64, seed: int = 0) -> tuple[list[list[int]], torch.Tensor]:
    """Label 1 iff token 5 occurs; sequences of 3-8 tokens from ids 3..9, some padded shorter."""
    gen = torch.Generator().manual_seed(seed)
    ids, labels = [], []
    for i in range(n):
        length = int(torch.randint(3, 9, (1,), generator=gen))
        seq = torch.randint(6, 10, (length,), generator=gen).tolist()
        if i % 2:
            seq[int(torch.randint(length, (1,), generator=gen))] = 5
        ids.append(seq)
        labels.append(i % 2)
    return ids, torch.tensor(labels)


def test_finetune_learns_a_token_rule_and_is_reproducible():
    config, state = tiny_state()
    ids, labels = toy_task()
    cfg = FinetuneConfig(steps=60, lr=3e-3, batch_size=16)
    clf = finetune_classifier(initial_encoder("random init", 0, config, state), ids, labels, 0, cfg, 0)
    acc = (predict_classes(clf, ids, 0) == labels).float().mean().item()
    assert acc >= 0.9, acc
    again = finetune_classifier(initial_encoder("random init", 0, config, state), ids, labels, 0, cfg, 0)
    for (name, p), q in zip(clf.named_parameters(), again.parameters()):
        assert torch.equal(p, q), name
    other = finetune_classifier(initial_encoder("random init", 0, config, state), ids, labels, 0, cfg, 1)
    assert not all(torch.equal(p, q) for p, q in zip(clf.parameters(), other.parameters()))


def test_finetune_trains_every_weight_of_encoder_and_head():
    config, state = tiny_state()
    ids, labels = toy_task()
    bert = initial_encoder("pretrained", 0, config, state)
    before = {k: v.detach().clone() for k, v in bert.named_parameters()}
    clf = finetune_classifier(bert, ids, labels, 0, FinetuneConfig(steps=5, lr=1e-3, batch_size=8), 0)
    assert clf.bert is bert
    frozen = [k for k, v in bert.named_parameters() if torch.equal(v, before[k])]
    assert frozen == [], frozen
    assert all(p.requires_grad for p in clf.parameters())


def test_predict_classes_batches_do_not_change_predictions():
    config, state = tiny_state()
    ids, _ = toy_task(30)
    clf = finetune_classifier(initial_encoder("random init", 3, config, state), ids[:8],
                              torch.tensor([0, 1] * 4), 0, FinetuneConfig(steps=2, lr=1e-3, batch_size=4), 3)
    clf.train()  # predict_classes must switch dropout off itself
    whole = predict_classes(clf, ids, 0, batch_size=30)
    assert torch.equal(whole, predict_classes(clf, ids, 0, batch_size=7))
    assert whole.shape == (30,) and not clf.training


def test_finetune_rejects_bad_input():
    config, state = tiny_state()
    ids, labels = toy_task(10)
    with pytest.raises(ValueError, match="one label per sequence"):
        finetune_classifier(Bert(config), ids, labels[:9], 0, FinetuneConfig(steps=1, lr=1e-3), 0)
    with pytest.raises(ValueError, match="pooling must be one of"):
        FinetuneConfig(steps=1, lr=1e-3, pooling="max")
    with pytest.raises(ValueError):
        FinetuneConfig(steps=0, lr=1e-3)
    assert len(INITS) == len(set(INITS)) == 5


def test_finetune_recipe_warmup_cosine_and_decay_groups(monkeypatch):
    """The recipe the grid and the notebook share: warmup over the first tenth, cosine to 0,
    weight decay on matrices only, dropout before the head from the config."""
    import course_utils.finetune as ft

    seen = {}

    def fake_train(model, opt, batches, loss, config, *, scheduler, device):
        lrs = []
        for _ in range(config.max_steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        seen.update(lrs=lrs, groups=opt.param_groups, model=model, batch=batches(0))

    monkeypatch.setattr(ft, "train", fake_train)
    config, state = tiny_state()
    ids, labels = toy_task()
    cfg = FinetuneConfig(steps=20, lr=1e-3, batch_size=8, weight_decay=0.05, dropout=0.3)
    finetune_classifier(initial_encoder("random init", 0, config, state), ids, labels, 0, cfg, 0)
    lrs = seen["lrs"]
    assert lrs[0] == pytest.approx(0.0) and lrs[2] == pytest.approx(1e-3)  # 2 warmup steps
    assert lrs[1] == pytest.approx(5e-4) and lrs[-1] < 1e-4 and max(lrs) == pytest.approx(1e-3)
    decayed = {id(p) for g in seen["groups"] if g["weight_decay"] == 0.05 for p in g["params"]}
    named = dict(seen["model"].named_parameters())
    assert id(named["classifier.weight"]) in decayed and id(named["classifier.bias"]) not in decayed
    assert all(p.ndim >= 2 for g in seen["groups"] if g["weight_decay"] > 0 for p in g["params"])
    assert seen["model"].dropout.p == 0.3
    assert seen["batch"]["input_ids"].shape[0] == 8
