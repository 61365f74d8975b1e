"""Chapter 05 lesson code: LoRA, adapters, BitFit, prompts and prefixes on our BERT; peft parity."""

import copy

import pytest
import torch
from torch import nn

from course_utils import peft_methods as pm
from course_utils.models import count_parameters
from course_utils.models.bert import Bert, BertConfig, to_hf_bert

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_bert(seed: int = 0) -> Bert:
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, hidden_dropout=0.0,
                     attention_dropout=0.0)
    return Bert(cfg).eval()


def inputs(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 60, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    ids[1, 6:] = 0
    return ids, mask


def test_lora_linear_init_shapes_and_frozen_base():
    base = nn.Linear(6, 4)
    layer = pm.LoRALinear(copy.deepcopy(base), r=2, alpha=8)
    assert layer.lora_A.shape == (2, 6) and layer.lora_B.shape == (4, 2)  # A (r, k), B (d, r)
    assert layer.scaling == 4.0
    assert layer.lora_A.abs().sum() > 0 and torch.count_nonzero(layer.lora_B) == 0
    assert torch.count_nonzero(layer.delta_weight()) == 0
    assert not layer.base.weight.requires_grad and not layer.base.bias.requires_grad
    x = torch.randn(5, 6)
    assert torch.equal(layer(x), base(x))
    with pytest.raises(ValueError):
        pm.LoRALinear(nn.Linear(3, 3), r=0, alpha=1)


def test_lora_merge_and_functional_forms_agree():
    layer = pm.LoRALinear(nn.Linear(6, 4), r=3, alpha=6)
    with torch.no_grad():
        layer.lora_B.normal_()
    x = torch.randn(2, 5, 6)
    merged = layer.merged()
    assert isinstance(merged, nn.Linear)
    assert torch.allclose(merged(x), layer(x), atol=1e-5)
    w, b = layer.base.weight, layer.base.bias
    assert torch.allclose(pm.lora_forward(x, w, b, layer.lora_A, layer.lora_B, 6), layer(x),
                          atol=1e-6)
    assert torch.allclose(pm.merge_lora_weight(w, layer.lora_A, layer.lora_B, 6), merged.weight)


def test_inject_merge_count_on_bert():
    bert = tiny_bert()
    ids, mask = inputs()
    pm.freeze(bert)
    names = pm.inject_lora(bert, r=2, alpha=4)
    assert len(names) == 4 and all(n.endswith(("q_proj", "v_proj")) for n in names)
    trainable = count_parameters(bert, trainable_only=True)
    assert trainable == pm.bert_lora_parameters(16, 32, 2, 2) == 2 * 2 * 2 * (16 + 16)
    assert pm.bert_lora_parameters(16, 32, 2, 2, ("c_fc", "c_proj")) == 2 * 2 * 2 * (16 + 32)
    with torch.no_grad():
        for m in bert.modules():
            if isinstance(m, pm.LoRALinear):
                m.lora_B.normal_()
        before = pm.encode(bert, ids, mask)
        assert pm.merge_lora(bert) == 4
        after = pm.encode(bert, ids, mask)
    assert not any(isinstance(m, pm.LoRALinear) for m in bert.modules())
    assert torch.allclose(before, after, atol=1e-5)
    with pytest.raises(ValueError):
        pm.inject_lora(tiny_bert(), r=2, alpha=4, targets=("nonexistent",))
    with pytest.raises(ValueError):
        pm.bert_lora_parameters(16, 32, 2, 2, ("query",))


def test_encode_without_extras_equals_bert_and_prompt_positions():
    bert = tiny_bert()
    ids, mask = inputs()
    assert torch.equal(pm.encode(bert, ids, mask), bert(ids, None, mask).last_hidden_state)
    prompt = pm.SoftPrompt(4, 16)
    h = pm.encode(bert, ids, mask, prompt=prompt(3))
    assert h.shape == (3, 13, 16)
    too_long = pm.SoftPrompt(30, 16)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        pm.encode(bert, ids, mask, prompt=too_long(3))


def test_extend_attention_mask_keeps_dtype():
    m = torch.tensor([[1, 0], [1, 1]])
    out = pm.extend_attention_mask(m, 3)
    assert out.dtype == m.dtype and out.tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
    assert pm.extend_attention_mask(m.bool(), 1).dtype == torch.bool


def test_prefix_is_attended_and_gets_gradients():
    bert = tiny_bert()
    ids, mask = inputs()
    for projection in (None, 8):
        prefix = pm.Prefix(2, 2, 8, n_tokens=3, projection_hidden=projection)
        kv = prefix(3)
        assert len(kv) == 2 and kv[0][0].shape == (3, 2, 3, 8)
        out = pm.encode(bert, ids, mask, prefix=kv)
        assert out.shape == (3, 9, 16)
        assert not torch.allclose(out, bert(ids, None, mask).last_hidden_state)
        out.sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in prefix.parameters())
    with pytest.raises(ValueError):
        pm.encode(bert, ids, mask, prefix=pm.Prefix(1, 2, 8, 3)(3))


def test_prefix_equals_extra_key_value_tokens():
    """A prefix holding a layer's own keys/values of some tokens == those tokens as extra keys."""
    bert = tiny_bert()
    ids, mask = inputs()
    layer = bert.layers[0]
    x = torch.randn(3, 9, 16)
    extra = torch.randn(3, 2, 16)
    attn = layer.attn
    k = attn.split_heads(attn.k_proj(extra))
    v = attn.split_heads(attn.v_proj(extra))
    from course_utils.models.attention import KVCache

    out_prefix, _ = attn(x, key_padding_mask=None, need_weights=False, kv_cache=KVCache(k, v))
    # the same as attending over [extra; x] as keys/values with queries from x
    q = attn.split_heads(attn.q_proj(x))
    kk = torch.cat([k, attn.split_heads(attn.k_proj(x))], dim=2)
    vv = torch.cat([v, attn.split_heads(attn.v_proj(x))], dim=2)
    ref = torch.nn.functional.scaled_dot_product_attention(q, kk, vv)
    assert torch.allclose(out_prefix, attn.out_proj(attn.merge_heads(ref)), atol=1e-5)


def test_adapters_start_as_identity_and_bitfit_trains_biases_only():
    bert = tiny_bert()
    ids, mask = inputs()
    ref = bert(ids, None, mask).last_hidden_state
    pm.freeze(bert)
    adapters = pm.add_adapters(bert, 4)
    assert len(adapters) == 2
    assert torch.equal(pm.encode(bert, ids, mask), ref)
    assert count_parameters(bert, trainable_only=True) == 2 * (16 * 4 + 4 + 4 * 16 + 16)
    other = tiny_bert()
    n = pm.bitfit(other)
    trainable = [name for name, p in other.named_parameters() if p.requires_grad]
    assert trainable and all(name.endswith("bias") for name in trainable)
    assert n == sum(p.numel() for name, p in other.named_parameters() if name.endswith("bias"))


@pytest.mark.parametrize("method", ["head", "bitfit", "adapter", "lora", "prompt", "prefix",
                                    "ptuning"])
def test_training_moves_only_the_trainable_parameters(method):
    torch.manual_seed(0)
    bert = tiny_bert()
    pm.freeze(bert)
    prompt = prefix = None
    if method == "bitfit":
        pm.bitfit(bert)
    elif method == "adapter":
        pm.add_adapters(bert, 4)
    elif method == "lora":
        pm.inject_lora(bert, r=2, alpha=4)
    elif method == "prompt":
        prompt = pm.SoftPrompt(3, 16)
    elif method == "ptuning":
        prompt = pm.PromptEncoder(3, 16, 8)
    elif method == "prefix":
        prefix = pm.Prefix(2, 2, 8, 3)
    model = pm.PeftClassifier(bert, 2, pooling="mean", prompt=prompt, prefix=prefix)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    before = pm.snapshot(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    ids, mask = inputs()
    for _ in range(3):
        loss = model(ids, None, mask, torch.tensor([0, 1, 1]))[1]
        opt.zero_grad()
        loss.backward()
        opt.step()
    moved = set(pm.changed_parameters(model, before))
    assert moved and not (moved & frozen)
    if method == "lora":  # B moved away from zero, so A got gradients too
        assert any("lora_B" in n for n in moved) and any("lora_A" in n for n in moved)


def test_peft_classifier_pools_real_tokens():
    bert = tiny_bert()
    ids, mask = inputs()
    model = pm.PeftClassifier(bert, 2, pooling="cls", prompt=pm.SoftPrompt(2, 16)).eval()
    logits, loss = model(ids, None, mask)
    assert logits.shape == (3, 2) and loss is None


def test_lora_and_prompt_tuning_match_peft():
    peft = pytest.importorskip("peft")
    bert = tiny_bert()
    ids, mask = inputs()
    ours = copy.deepcopy(bert)
    pm.inject_lora(ours, r=2, alpha=6)
    theirs = peft.get_peft_model(to_hf_bert(bert), peft.LoraConfig(
        r=2, lora_alpha=6, lora_dropout=0.0, target_modules=["query", "value"])).eval()
    pairs = []
    with torch.no_grad():
        for mine, hf_layer in zip(ours.layers, theirs.base_model.model.encoder.layer):
            for a, b in ((mine.attn.q_proj, hf_layer.attention.self.query),
                         (mine.attn.v_proj, hf_layer.attention.self.value)):
                a.lora_B.normal_()
                b.lora_A["default"].weight.copy_(a.lora_A)
                b.lora_B["default"].weight.copy_(a.lora_B)
                pairs.append((a, b))
    out_ours = pm.encode(ours, ids, mask)
    out_theirs = theirs(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert (out_ours - out_theirs)[real].abs().max() <= 1e-5
    assert (out_ours - pm.encode(bert, ids, mask)).abs().max() > 1e-3  # LoRA did something
    w = torch.randn_like(out_ours)
    (out_ours * w * real[..., None]).sum().backward()
    (out_theirs * w * real[..., None]).sum().backward()
    for a, b in pairs:
        assert torch.allclose(a.lora_A.grad, b.lora_A["default"].weight.grad, atol=1e-5)
        assert torch.allclose(a.lora_B.grad, b.lora_B["default"].weight.grad, atol=1e-5)
    prompt = pm.SoftPrompt(3, 16)
    pt = peft.get_peft_model(to_hf_bert(bert), peft.PromptTuningConfig(
        task_type=peft.TaskType.FEATURE_EXTRACTION, num_virtual_tokens=3)).eval()
    with torch.no_grad():
        pt.prompt_encoder["default"].embedding.weight.copy_(prompt.prompt)
        h_ours = pm.encode(bert, ids, mask, prompt=prompt(3))
        h_theirs = pt(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = torch.cat([torch.ones(3, 3, dtype=torch.bool), real], dim=1)
    assert (h_ours - h_theirs)[keep].abs().max() <= 1e-5


def test_verbalizer_scores_and_numerical_rank():
    logits = torch.randn(4, 20)
    s = pm.verbalizer_scores(logits, [[1, 2], [3]])
    assert s.shape == (4, 2)
    assert torch.allclose(s, pm.verbalizer_scores(logits + 7.0, [[1, 2], [3]]), atol=1e-5)
    p = logits.softmax(-1)
    assert torch.allclose(s[:, 0].exp(), p[:, 1] + p[:, 2], atol=1e-6)
    a, b = torch.randn(5, 3), torch.randn(3, 7)
    assert pm.numerical_rank(a @ b) == 3
    assert pm.numerical_rank(torch.zeros(4, 4)) == 0


def test_cloze_inputs_keep_the_template():
    from course_utils.tokenization import load_wordpiece
    from course_utils.data import data_dir

    tok = load_wordpiece(data_dir() / "reviews" / "wordpiece-4000.txt")
    texts = ["the plot is thin " * 30, "great fun."]
    ids, mask, where = pm.cloze_inputs(tok, texts, "{text} It was [MASK].", max_len=20)
    assert ids.shape[1] <= 20
    assert (ids[torch.arange(2), where] == tok.mask_token_id).all()
    first = tok.decode(ids[0][mask[0].bool()])
    assert first.endswith("it was [MASK]. [SEP]") and first.startswith("[CLS]")
    ids2, _, where2 = pm.cloze_inputs(tok, texts, "It was [MASK]. {text}", max_len=20)
    assert (where2 == 3).all()  # [CLS] it was [MASK]
    with pytest.raises(ValueError):
        pm.cloze_inputs(tok, texts, "no blank {text}", max_len=20)


def test_lora_embedding_init_merge_and_frozen_table():
    table = nn.Embedding(12, 5, padding_idx=0)
    layer = pm.LoRAEmbedding(copy.deepcopy(table), r=3, alpha=6)
    assert layer.lora_A.shape == (3, 12) and layer.lora_B.shape == (5, 3)  # peft's layout
    assert torch.count_nonzero(layer.lora_A) == 0 and layer.lora_B.abs().sum() > 0
    assert torch.count_nonzero(layer.delta_weight()) == 0
    assert not layer.base.weight.requires_grad
    ids = torch.tensor([[0, 3, 7], [11, 3, 0]])
    assert torch.equal(layer(ids), table(ids))
    with torch.no_grad():
        layer.lora_A.normal_()
    assert layer.delta_weight().shape == (12, 5)
    assert layer.scaling == 2.0  # alpha / r
    assert torch.allclose(layer.delta_weight(), 2.0 * (layer.lora_B @ layer.lora_A).T)
    assert torch.allclose(layer(ids), table(ids) + layer.delta_weight()[ids], atol=1e-6)
    assert (layer(ids) - table(ids)).abs().max() > 1e-3
    merged = layer.merged()
    assert isinstance(merged, nn.Embedding) and torch.allclose(merged(ids), layer(ids), atol=1e-6)
    layer(ids).sum().backward()
    assert torch.count_nonzero(layer.lora_A.grad[:, 0]) == 0  # the padding row gets no update
    assert torch.count_nonzero(layer.lora_A.grad[:, 3]) == 3
    bert = tiny_bert()
    bert.embeddings.word_embeddings = pm.LoRAEmbedding(bert.embeddings.word_embeddings, 2, 4)
    pm.inject_lora(bert, r=2, alpha=4)
    assert pm.merge_lora(bert) == 5 and isinstance(bert.embeddings.word_embeddings, nn.Embedding)
    with pytest.raises(TypeError):
        pm.LoRAEmbedding(nn.Linear(3, 3), r=1, alpha=1)


def test_lora_on_the_embedding_table_matches_peft():
    peft = pytest.importorskip("peft")
    bert = tiny_bert()
    ids, mask = inputs()
    ours = copy.deepcopy(bert)
    table = ours.embeddings.word_embeddings
    ours.embeddings.word_embeddings = pm.LoRAEmbedding(table, r=2, alpha=6)
    theirs = peft.get_peft_model(to_hf_bert(bert), peft.LoraConfig(
        r=2, lora_alpha=6, lora_dropout=0.0, target_modules=["word_embeddings"])).eval()
    mine, hf = ours.embeddings.word_embeddings, theirs.base_model.model.embeddings.word_embeddings
    assert torch.count_nonzero(hf.lora_embedding_A["default"]) == 0  # peft: A zero, B normal too
    with torch.no_grad():
        mine.lora_A.normal_()
        hf.lora_embedding_A["default"].copy_(mine.lora_A)
        hf.lora_embedding_B["default"].copy_(mine.lora_B)
    out_ours = pm.encode(ours, ids, mask)
    out_theirs = theirs(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert (out_ours - out_theirs)[real].abs().max() <= 1e-5
    assert (out_ours - pm.encode(bert, ids, mask)).abs().max() > 1e-3
    w = torch.randn_like(out_ours)
    (out_ours * w * real[..., None]).sum().backward()
    (out_theirs * w * real[..., None]).sum().backward()
    assert torch.allclose(mine.lora_A.grad, hf.lora_embedding_A["default"].grad, atol=1e-5)
    assert torch.allclose(mine.lora_B.grad, hf.lora_embedding_B["default"].grad, atol=1e-5)
