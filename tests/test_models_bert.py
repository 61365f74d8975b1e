"""Chapter 03: the BERT encoder, MLM head and classifier -- shapes, masks, parity with transformers."""

import pytest
import torch

from course_utils.models.bert import (PRESETS, POOLINGS, Bert, BertClassifier, BertConfig,
                                      BertForMaskedLM, from_hf_bert, mean_pool, to_hf_bert)
from transformers import BertConfig as HFBertConfig  # noqa: E402  (after course_utils)
from transformers import BertForMaskedLM as HFBertForMaskedLM  # noqa: E402
from transformers import BertModel as HFBertModel  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=48, max_position_embeddings=24)


def _hf_config(**kw):
    return HFBertConfig(**{**SMALL, **kw})


def _inputs(seed=0, batch=3, t=13, vocab=97):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (batch, t), generator=g)
    types = torch.randint(0, 2, (batch, t), generator=g)
    mask = torch.ones(batch, t, dtype=torch.long)
    mask[1, t - 4:] = 0  # padded rows of different lengths
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    return ids, types, mask


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads, got d_model=30"):
        BertConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(ValueError, match="vocab_size must be >= 1"):
        BertConfig(vocab_size=0)
    with pytest.raises(ValueError, match="pad_token_id must be <= 9"):
        BertConfig(vocab_size=10, pad_token_id=10)
    with pytest.raises(ValueError, match="unknown preset 'bert-huge'"):
        BertConfig.from_preset("bert-huge")


def test_published_sizes_match_transformers_without_allocating():
    """bert-base 110M and bert-large 340M: our formula = our module = HF's module (meta device)."""
    for name in ("bert-base", "bert-large"):
        cfg = PRESETS[name]
        with torch.device("meta"):
            hf = HFBertModel(HFBertConfig(hidden_size=cfg.hidden_size,
                                          num_hidden_layers=cfg.num_hidden_layers,
                                          num_attention_heads=cfg.num_attention_heads,
                                          intermediate_size=4 * cfg.hidden_size))
            ours = Bert(cfg)
        hf_count = sum(p.numel() for p in hf.parameters())
        ours_count = sum(p.numel() for p in ours.parameters())
        assert cfg.num_parameters() == hf_count  # with the pooler, as published
        assert ours_count == cfg.num_parameters(pooler=False)  # our encoder has no pooler
    assert round(PRESETS["bert-base"].num_parameters() / 1e6) == 109
    assert round(PRESETS["bert-large"].num_parameters() / 1e6) == 335


def test_mlm_parameter_count_counts_the_tied_decoder_once():
    model = BertForMaskedLM(BertConfig(**SMALL))
    assert model.head.decoder.weight is model.bert.embeddings.word_embeddings.weight
    assert sum(p.numel() for p in model.parameters()) == \
        model.config.num_parameters(pooler=False, mlm_head=True)


def test_embeddings_are_the_sum_of_token_segment_position():
    cfg = BertConfig(**SMALL, hidden_dropout=0.0)
    emb = Bert(cfg).embeddings.eval()
    ids, types, _ = _inputs()
    with torch.no_grad():
        raw = (emb.word_embeddings.weight[ids] + emb.token_type_embeddings.weight[types]
               + emb.position_embeddings.weight[:ids.shape[1]])
        expected = torch.nn.functional.layer_norm(raw, (cfg.hidden_size,), emb.norm.weight,
                                                  emb.norm.bias, eps=cfg.layer_norm_eps)
        assert torch.allclose(emb(ids, types), expected, atol=1e-6)
        # token_type_ids default to segment 0
        assert torch.allclose(emb(ids), emb(ids, torch.zeros_like(ids)))
    with pytest.raises(ValueError, match="longer than max_position_embeddings=24"):
        emb(torch.zeros(1, 25, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids must be in 0..96"):
        emb(torch.full((1, 3), 97))
    with pytest.raises(ValueError, match="token_type_ids must have the shape"):
        emb(ids, types[:, :4])


@pytest.mark.parametrize("with_head", [False, True], ids=["BertModel", "BertForMaskedLM"])
def test_parity_with_transformers(with_head):
    torch.manual_seed(0)
    hf = (HFBertForMaskedLM if with_head else HFBertModel)(_hf_config()).eval()
    ours = from_hf_bert(hf)
    assert isinstance(ours, BertForMaskedLM if with_head else Bert)
    ids, types, mask = _inputs()
    real = mask.bool()
    with torch.no_grad():
        base = hf.bert if with_head else hf
        theirs = base(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        encoder = ours.bert if with_head else ours
        mine = encoder(ids, types, mask).last_hidden_state
        assert (theirs - mine)[real].abs().max() < 1e-4
        # the explicit-weights path (output_attentions) gives the same states
        assert (encoder(ids, types, mask, output_attentions=True).last_hidden_state
                - theirs)[real].abs().max() < 1e-4
        if with_head:
            logits, _ = ours(ids, types, mask)
            assert (hf(input_ids=ids, token_type_ids=types,
                       attention_mask=mask).logits - logits)[real].abs().max() < 1e-4


def test_parity_breaks_if_a_weight_is_wrong():
    """The parity check is sensitive: one perturbed bias in the last block shows up."""
    torch.manual_seed(0)
    hf = HFBertModel(_hf_config()).eval()
    ours = from_hf_bert(hf)
    with torch.no_grad():
        ours.layers[1].mlp.c_fc.bias[0] += 0.05
    ids, types, mask = _inputs()
    with torch.no_grad():
        diff = (hf(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
                - ours(ids, types, mask).last_hidden_state)
    assert diff.abs().max() > 1e-3


def test_to_hf_round_trip_and_loss_matches():
    torch.manual_seed(1)
    ours = BertForMaskedLM(BertConfig(**SMALL)).eval()
    hf = to_hf_bert(ours)
    assert hf.cls.predictions.decoder.weight.data_ptr() == \
        hf.bert.embeddings.word_embeddings.weight.data_ptr()
    ids, types, mask = _inputs(seed=3)
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[1, 5], labels[2, 1] = ids[0, 2], ids[1, 5], ids[2, 1]
    with torch.no_grad():
        out = hf(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
        logits, loss = ours(ids, types, mask, labels)
    assert (out.logits - logits)[mask.bool()].abs().max() < 1e-4
    assert abs(out.loss.item() - loss.item()) < 1e-5
    back = from_hf_bert(hf)
    for (name, a), b in zip(ours.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), name
    bare = to_hf_bert(ours.bert)
    assert isinstance(bare, HFBertModel) and bare.pooler is None


def test_from_hf_rejects_what_it_cannot_represent():
    with pytest.raises(TypeError, match="expected a transformers BertModel or BertForMaskedLM"):
        from_hf_bert(torch.nn.Linear(2, 2))
    hf = HFBertModel(_hf_config(hidden_act="relu"))
    with pytest.raises(ValueError, match="only BERT's exact GELU"):
        from_hf_bert(hf)


def test_attention_weights_ignore_padding_and_sum_to_one():
    torch.manual_seed(0)
    model = Bert(BertConfig(**SMALL)).eval()
    ids, types, mask = _inputs()
    with torch.no_grad():
        out = model(ids, types, mask, output_attentions=True)
    assert len(out.attentions) == 2
    for weights in out.attentions:
        assert weights.shape == (3, 4, 13, 13)
        assert torch.allclose(weights.sum(-1), torch.ones(3, 4, 13), atol=1e-5)
        assert weights[2, :, :, 3:].abs().max() == 0  # padded keys get no attention
    # changing a padded token does not change the real tokens' states
    ids2 = ids.clone()
    ids2[2, 5] = 42
    with torch.no_grad():
        again = model(ids2, types, mask).last_hidden_state
    assert torch.allclose(again[2, :3], out.last_hidden_state[2, :3], atol=1e-6)
    # ... but without the mask it does
    with torch.no_grad():
        a, b = model(ids, types).last_hidden_state, model(ids2, types).last_hidden_state
    assert not torch.allclose(a[2, :3], b[2, :3], atol=1e-4)


def test_bidirectional_every_token_sees_the_future():
    torch.manual_seed(0)
    model = Bert(BertConfig(**SMALL)).eval()
    ids = torch.randint(5, 97, (1, 8))
    changed = ids.clone()
    changed[0, -1] = (ids[0, -1] + 1 - 5) % 92 + 5
    with torch.no_grad():
        a, b = model(ids).last_hidden_state, model(changed).last_hidden_state
    assert not torch.allclose(a[0, 0], b[0, 0], atol=1e-5)  # unlike a causal GPT


def test_mean_pool_ignores_padding():
    hidden = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    assert torch.allclose(pooled[0], hidden[0, :3].mean(0))
    assert torch.allclose(pooled[1], hidden[1].mean(0))
    hidden2 = hidden.clone()
    hidden2[0, 3:] = 1e6
    assert torch.allclose(mean_pool(hidden2, mask)[0], pooled[0])
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        mean_pool(hidden, mask[:, :4])


@pytest.mark.parametrize("pooling", POOLINGS)
def test_classifier_pooling_and_training_step(pooling):
    torch.manual_seed(0)
    bert = Bert(BertConfig(**SMALL))
    model = BertClassifier(bert, 2, pooling=pooling)
    ids, types, mask = _inputs()
    labels = torch.tensor([0, 1, 1])
    logits, loss = model(ids, types, mask, labels)
    assert logits.shape == (3, 2) and loss.ndim == 0
    loss.backward()
    assert bert.embeddings.word_embeddings.weight.grad is not None
    model.eval()
    with torch.no_grad():
        hidden = bert(ids, types, mask).last_hidden_state
        pooled = model.pool(hidden, mask)
    expected = hidden[:, 0] if pooling == "cls" else mean_pool(hidden, mask)
    assert torch.allclose(pooled, expected)
    with pytest.raises(ValueError, match="pooling must be one of"):
        BertClassifier(bert, 2, pooling="max")


def test_mlm_loss_ignores_unlabelled_positions():
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(**SMALL)).eval()
    ids, types, mask = _inputs()
    labels = torch.full_like(ids, -100)
    labels[0, 1] = 7
    labels[1, 4] = 9
    with torch.no_grad():
        logits, loss = model(ids, types, mask, labels)
        expected = torch.nn.functional.cross_entropy(
            torch.stack([logits[0, 1], logits[1, 4]]), torch.tensor([7, 9]))
    assert torch.allclose(loss, expected, atol=1e-6)
