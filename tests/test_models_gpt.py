"""Chapter 02: the GPT model -- config, shapes, causality, KV cache, parity with transformers' GPT-2."""

import pytest
import torch

from course_utils import generation as gen  # course_utils first: it sets the HF offline flags
from course_utils.models import count_parameters
from course_utils.models.gpt import PRESETS, GPT, GPTConfig, from_hf_gpt2, to_hf_gpt2
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(vocab_size=97, n_positions=24, n_embd=32, n_layer=2, n_head=4)


def _hf(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = GPT2Config(**{"vocab_size": 97, "n_positions": 24, "n_embd": 32, "n_layer": 2,
                        "n_head": 4, "bos_token_id": 0, "eos_token_id": 0, **kw})
    return GPT2LMHeadModel(cfg).eval()


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="n_embd must be divisible by n_head, got n_embd=30"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="vocab_size must be >= 1"):
        GPTConfig(vocab_size=0)
    with pytest.raises(ValueError, match="dropout must be <= 1.0"):
        GPTConfig(dropout=1.5)
    with pytest.raises(ValueError, match="unknown preset 'gpt5'"):
        GPTConfig.from_preset("gpt5")


def test_presets_and_parameter_formula():
    sizes = {name: PRESETS[name].num_parameters() for name in ("gpt2", "gpt2-medium",
                                                                "gpt2-large", "gpt2-xl")}
    assert sizes == {"gpt2": 124_439_808, "gpt2-medium": 354_823_168,
                     "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200}
    cfg = GPTConfig.from_preset("course-nano", vocab_size=50, n_positions=16)
    assert (cfg.n_embd, cfg.vocab_size, cfg.n_positions) == (64, 50, 16)
    for config in (GPTConfig(**SMALL), GPTConfig(**SMALL, n_inner=48),
                   GPTConfig(**SMALL, tie_weights=False)):
        assert count_parameters(GPT(config)) == config.num_parameters()


def test_forward_shapes_loss_and_tied_head():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL))
    assert model.lm_head.weight is model.wte.weight
    idx = torch.randint(0, 97, (3, 10))
    logits, loss = model(idx)
    assert logits.shape == (3, 10, 97) and loss is None
    targets = torch.randint(0, 97, (3, 10))
    targets[0, :4] = -100
    _, loss = model(idx, targets)
    keep = targets != -100
    manual = torch.nn.functional.cross_entropy(logits[keep], targets[keep])
    assert torch.allclose(loss, manual, atol=1e-6)
    # an untrained GPT-2-initialised model is close to uniform: loss ~ ln(vocab)
    assert abs(loss.item() - torch.log(torch.tensor(97.0)).item()) < 0.3


def test_changing_future_tokens_never_changes_earlier_logits():
    torch.manual_seed(1)
    model = GPT(GPTConfig(**SMALL)).eval()
    idx = torch.randint(0, 97, (2, 16))
    changed = idx.clone()
    changed[:, 9:] = torch.randint(0, 97, (2, 7))
    with torch.no_grad():
        a, b = model(idx)[0], model(changed)[0]
    assert torch.equal(a[:, :9], b[:, :9])
    assert not torch.allclose(a[:, 9:], b[:, 9:])


def test_kv_cache_forward_matches_full_forward():
    torch.manual_seed(2)
    model = GPT(GPTConfig(**SMALL)).eval()
    idx = torch.randint(0, 97, (2, 12))
    with torch.no_grad():
        full = model(idx)[0]
        cache = model.new_kv_cache()
        parts = [model(idx[:, :5], kv_cache=cache)[0]]
        for t in range(5, 12):
            parts.append(model(idx[:, t:t + 1], kv_cache=cache)[0])
    assert len(cache[0]) == 12
    assert torch.allclose(torch.cat(parts, dim=1), full, atol=1e-5)


def test_attention_weights_are_causal_and_normalised():
    model = GPT(GPTConfig(**SMALL)).eval()
    maps = model.attention_weights(torch.randint(0, 97, (1, 9)))
    assert len(maps) == 2 and maps[0].shape == (1, 4, 9, 9)
    assert torch.allclose(maps[1].sum(-1), torch.ones(1, 4, 9), atol=1e-5)
    assert torch.all(maps[0].triu(diagonal=1) == 0)


def test_input_errors_say_what_is_wrong():
    model = GPT(GPTConfig(**SMALL))
    with pytest.raises(ValueError, match="longer than n_positions=24"):
        model(torch.zeros(1, 25, dtype=torch.long))
    with pytest.raises(ValueError, match=r"token ids must be in 0..96, got min 0, max 97"):
        model(torch.tensor([[0, 97]]))
    with pytest.raises(TypeError, match="integer token ids"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"idx must be 2-dimensional, got 1 dimensions"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="targets must have the shape of idx"):
        model(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="one KVCache per block"):
        model(torch.zeros(1, 3, dtype=torch.long), kv_cache=model.new_kv_cache()[:1])
    cache = model.new_kv_cache()
    model(torch.zeros(1, 20, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError, match=r"sequence of 25 tokens \(20 cached \+ 5 new\)"):
        model(torch.zeros(1, 5, dtype=torch.long), kv_cache=cache)


def test_hf_parity_logits_within_1e_4():
    hf = _hf()
    ours = from_hf_gpt2(hf)
    idx = torch.randint(0, 97, (3, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = (hf(idx).logits - ours(idx)[0]).abs().max().item()
    assert diff <= 1e-4
    assert ours.lm_head.weight is ours.wte.weight


def test_hf_parity_with_custom_mlp_width_and_eps():
    hf = _hf(seed=3, n_inner=40, layer_norm_epsilon=1e-6, n_layer=3)
    ours = from_hf_gpt2(hf)
    assert (ours.config.n_inner, ours.config.layer_norm_eps, ours.config.n_layer) == (40, 1e-6, 3)
    idx = torch.randint(0, 97, (2, 11))
    with torch.no_grad():
        assert torch.allclose(hf(idx).logits, ours(idx)[0], atol=1e-4)


def test_to_hf_round_trip_and_greedy_generation_identical():
    torch.manual_seed(4)
    ours = GPT(GPTConfig(**SMALL)).eval()
    with torch.no_grad():
        for p in ours.parameters():  # peaked distributions: no near-ties in argmax
            if p.ndim > 1:
                p.mul_(5)
    hf = to_hf_gpt2(ours)
    back = from_hf_gpt2(hf)
    idx = torch.randint(0, 97, (2, 6))
    with torch.no_grad():
        assert torch.allclose(hf(idx).logits, ours(idx)[0], atol=1e-5)
        assert torch.allclose(back(idx)[0], ours(idx)[0], atol=1e-6)
    hf_ids = hf.generate(idx, attention_mask=torch.ones_like(idx), max_new_tokens=12,
                         do_sample=False, pad_token_id=0)
    assert torch.equal(hf_ids, gen.greedy_search(ours, idx, 12))


def test_conversion_rejects_what_it_cannot_represent():
    with pytest.raises(TypeError, match="expected a transformers GPT2LMHeadModel"):
        from_hf_gpt2(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="only GPT-2's tanh-GELU"):
        from_hf_gpt2(_hf(activation_function="relu"))
    with pytest.raises(ValueError, match="scale_attn_by_inverse_layer_idx=True is not supported"):
        from_hf_gpt2(_hf(scale_attn_by_inverse_layer_idx=True))
    with pytest.raises(TypeError, match="model must be a GPT"):
        to_hf_gpt2(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="tied embeddings"):
        to_hf_gpt2(GPT(GPTConfig(**SMALL, tie_weights=False)))


def test_pretrained_loading_path_on_a_local_checkpoint(tmp_path):
    """Section 8's code path (from_pretrained -> from_hf_gpt2 -> generate), offline."""
    from course_utils.assets import load_pretrained

    _hf(seed=5).save_pretrained(tmp_path)
    loaded = load_pretrained(tmp_path, GPT2LMHeadModel.from_pretrained)
    assert loaded.source == "local"
    ours = from_hf_gpt2(loaded.value)
    idx = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        assert torch.allclose(ours(idx)[0], loaded.value(idx).logits, atol=1e-4)
    out = gen.sample(ours, idx, 5, top_p=0.9, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 9)
