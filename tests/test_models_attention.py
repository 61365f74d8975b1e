"""Chapter 01: scaled dot-product attention, masks and multi-head attention (parity tests)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.models.attention import (KVCache, MultiHeadAttention, causal_mask,
                                           combine_masks, lengths_to_mask, padding_mask,
                                           scaled_dot_product_attention)

pytestmark = pytest.mark.usefixtures("one_thread")


TOL = 1e-5


def _qkv(b=2, h=3, tq=4, tk=6, d=8, dv=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, h, tq, d, generator=g), torch.randn(b, h, tk, d, generator=g),
            torch.randn(b, h, tk, dv, generator=g))


def test_sdpa_matches_torch_without_and_with_masks():
    q, k, v = _qkv()
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 4, 5) and w.shape == (2, 3, 4, 6)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3, 4))
    assert (out - F.scaled_dot_product_attention(q, k, v)).abs().max() <= TOL
    keep = lengths_to_mask(torch.tensor([6, 3]))[:, None, None, :]  # (B, 1, 1, T_k)
    out, w = scaled_dot_product_attention(q, k, v, keep)
    assert w[1, :, :, 3:].abs().max() == 0
    assert (out - F.scaled_dot_product_attention(q, k, v, attn_mask=keep)).abs().max() <= TOL
    additive = torch.zeros(4, 6).masked_fill(~causal_mask(4, 6), float("-inf"))
    out, _ = scaled_dot_product_attention(q, k, v, additive)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(4, 6))
    assert (out - ref).abs().max() <= TOL


def test_sdpa_fully_masked_row_is_uniform_not_nan():
    q, k, v = _qkv(b=1, h=1, tq=2, tk=3)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert torch.isfinite(out).all()
    assert torch.allclose(w[0, 0, 1], torch.full((3,), 1 / 3))


def test_sdpa_bad_inputs():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="q and k must share the last dimension d_k"):
        scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="k and v must have the same number of keys T_k"):
        scaled_dot_product_attention(q, k, v[:, :, :2])
    with pytest.raises(ValueError, match=r"mask of shape \(5, 5\) cannot be broadcast"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="q must be Tensor"):
        scaled_dot_product_attention([1.0], k, v)


def test_masks():
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]).bool())
    # two new queries after three cached keys: aligned bottom-right
    assert torch.equal(causal_mask(2, 5), torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]).bool())
    ids = torch.tensor([[5, 6, 0], [7, 0, 0]])
    assert torch.equal(padding_mask(ids, 0), torch.tensor([[1, 1, 0], [1, 0, 0]]).bool())
    assert torch.equal(lengths_to_mask(torch.tensor([2, 1]), 3), padding_mask(ids, 0))
    both = combine_masks(padding_mask(ids, 0), causal=True)
    assert both.shape == (2, 1, 3, 3)
    assert torch.equal(both[1, 0], torch.tensor([[1, 0, 0], [1, 0, 0], [1, 0, 0]]).bool())
    assert combine_masks() is None
    assert torch.equal(combine_masks(causal=True, t_q=2), causal_mask(2))


def test_mask_errors():
    with pytest.raises(ValueError, match="t_k must be >= 4, got 2"):
        causal_mask(4, 2)
    with pytest.raises(ValueError, match="t_q must be >= 1, got 0"):
        causal_mask(0)
    with pytest.raises(ValueError, match="token_ids must be 2-dimensional"):
        padding_mask(torch.tensor([1, 2]), 0)
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        lengths_to_mask(torch.tensor([2, -1]))
    with pytest.raises(ValueError, match="max_len must be >= 3, got 2"):
        lengths_to_mask(torch.tensor([3]), 2)
    with pytest.raises(TypeError, match="key_padding must be a bool tensor"):
        combine_masks(torch.ones(2, 3))
    with pytest.raises(ValueError, match="needs t_q"):
        combine_masks(causal=True)


def _copy_into_torch_mha(ours: MultiHeadAttention, ref: nn.MultiheadAttention) -> None:
    with torch.no_grad():
        if ref._qkv_same_embed_dim:
            ref.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight,
                                                ours.v_proj.weight]))
        else:
            ref.q_proj_weight.copy_(ours.q_proj.weight)
            ref.k_proj_weight.copy_(ours.k_proj.weight)
            ref.v_proj_weight.copy_(ours.v_proj.weight)
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.load_state_dict(ours.out_proj.state_dict())


@pytest.mark.parametrize("causal", [False, True])
def test_mha_self_attention_matches_nn_multiheadattention(causal):
    torch.manual_seed(0)
    ours = MultiHeadAttention(32, 4, is_causal=causal)
    ref = nn.MultiheadAttention(32, 4, batch_first=True)
    _copy_into_torch_mha(ours, ref)
    x = torch.randn(3, 7, 32)
    keep = lengths_to_mask(torch.tensor([7, 5, 2]), 7)
    out, w = ours(x, key_padding_mask=keep)
    ref_out, ref_w = ref(x, x, x, key_padding_mask=~keep,
                         attn_mask=~causal_mask(7) if causal else None,
                         average_attn_weights=False)
    assert (out - ref_out).abs().max() <= TOL
    assert (w - ref_w).abs().max() <= TOL
    fast, none = ours(x, key_padding_mask=keep, need_weights=False)
    assert none is None and (fast - out).abs().max() <= TOL


def test_mha_cross_attention_with_other_width_matches_torch():
    torch.manual_seed(1)
    ours = MultiHeadAttention(16, 2, kv_dim=24)
    ref = nn.MultiheadAttention(16, 2, batch_first=True, kdim=24, vdim=24)
    _copy_into_torch_mha(ours, ref)
    x, ctx = torch.randn(2, 3, 16), torch.randn(2, 9, 24)
    keep = lengths_to_mask(torch.tensor([9, 4]), 9)
    out, w = ours(x, ctx, key_padding_mask=keep)
    ref_out, ref_w = ref(x, ctx, ctx, key_padding_mask=~keep, average_attn_weights=False)
    assert out.shape == (2, 3, 16) and w.shape == (2, 2, 3, 9)
    assert (out - ref_out).abs().max() <= TOL and (w - ref_w).abs().max() <= TOL


def test_mha_kv_cache_equals_full_causal_pass():
    torch.manual_seed(2)
    mha = MultiHeadAttention(16, 4, is_causal=True).eval()
    x = torch.randn(2, 6, 16)
    full, _ = mha(x)
    cache = KVCache()
    steps = [mha(x[:, t:t + 1], kv_cache=cache)[0] for t in range(6)]
    assert len(cache) == 6
    assert (torch.cat(steps, 1) - full).abs().max() <= TOL
    cache2 = KVCache()
    first, _ = mha(x[:, :4], kv_cache=cache2)
    rest, _ = mha(x[:, 4:], kv_cache=cache2)  # two queries after four cached keys
    assert (torch.cat([first, rest], 1) - full).abs().max() <= TOL


def test_mha_split_merge_roundtrip_and_errors():
    mha = MultiHeadAttention(12, 3)
    x = torch.randn(2, 5, 12)
    heads = mha.split_heads(x)
    assert heads.shape == (2, 3, 5, 4)
    assert torch.equal(heads[:, 1], x[..., 4:8])
    assert torch.equal(mha.merge_heads(heads), x)
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads, got d_model=10"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"x must have last dimension d_model=12, got \(2, 5, 8\)"):
        mha(torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match="key_padding_mask must be a bool tensor of shape"):
        mha(x, key_padding_mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="context must have last dimension 12"):
        mha(x, torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="kv_cache is for self-attention"):
        mha(x, x, kv_cache=KVCache())
    with pytest.raises(ValueError, match="dropout must be <= 1.0"):
        MultiHeadAttention(12, 3, dropout=1.5)
