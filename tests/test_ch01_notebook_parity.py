"""Teach, then import: the components written in the chapter-01 notebook give the same
outputs as their ``course_utils`` versions (same weights, same inputs)."""

import pytest
import torch

from course_utils._maintain.testing import solution_notebook
from course_utils.models import attention as cu_attention
from course_utils.models import positional as cu_positional
from course_utils.models.blocks import BlockConfig, TransformerBlock

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("01_seq2seq_attention.ipynb")
NAMES = ["AdditiveAttention", "LuongAttention", "scaled_dot_product_attention",
         "MultiHeadAttention", "causal_mask", "padding_mask", "MLP", "TransformerBlock",
         "sinusoidal_table", "SinusoidalPositionalEncoding"]
TOL = 1e-6


def test_sdpa_and_masks(nb):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    ids = torch.tensor([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11]])
    for mask in (None, nb.causal_mask(5), nb.padding_mask(ids, 0)[:, None, None, :]):
        ours_out, ours_w = nb.scaled_dot_product_attention(q, k, v, mask)
        ref_out, ref_w = cu_attention.scaled_dot_product_attention(q, k, v, mask)
        assert (ours_out - ref_out).abs().max() <= TOL and (ours_w - ref_w).abs().max() <= TOL
    for t_q, t_k in ((4, 4), (2, 6)):
        assert torch.equal(nb.causal_mask(t_q, t_k), cu_attention.causal_mask(t_q, t_k))
    assert torch.equal(nb.padding_mask(ids, 0), cu_attention.padding_mask(ids, 0))


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention(nb, causal):
    torch.manual_seed(0)
    ref = cu_attention.MultiHeadAttention(16, 4, is_causal=causal)
    ours = nb.MultiHeadAttention(16, 4, is_causal=causal)
    ours.load_state_dict(ref.state_dict())
    x, ctx = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    keep = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    for args, kwargs in (((x,), {"key_padding_mask": keep}), ((x,), {})):
        a, wa = ours(*args, **kwargs)
        b, wb = ref(*args, **kwargs)
        assert (a - b).abs().max() <= TOL and (wa - wb).abs().max() <= TOL
    if not causal:
        ctx_keep = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
        a, wa = ours(x, ctx, key_padding_mask=ctx_keep)
        b, wb = ref(x, ctx, key_padding_mask=ctx_keep)
        assert (a - b).abs().max() <= TOL and (wa - wb).abs().max() <= TOL


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("decoder", [False, True])
def test_transformer_block(nb, norm_first, decoder):
    torch.manual_seed(1)
    ref = TransformerBlock(BlockConfig(16, 4, d_ff=32, activation="relu", norm_first=norm_first,
                                       causal=decoder, cross_attention=decoder)).eval()
    ours = nb.TransformerBlock(16, 4, 32, norm_first=norm_first, causal=decoder,
                               cross_attention=decoder)
    ours.load_state_dict(ref.state_dict())  # strict: the parameter names are the same
    x, ctx = torch.randn(2, 5, 16), torch.randn(2, 6, 16)
    keep = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    ctx_keep = torch.tensor([[True] * 6, [True] * 2 + [False] * 4])
    kwargs = {"context": ctx, "context_padding_mask": ctx_keep} if decoder else {}
    a = ours(x, key_padding_mask=keep, **kwargs)
    b, _, _ = ref(x, key_padding_mask=keep, **kwargs)
    assert (a - b).abs().max() <= 1e-5


def test_positional_encoding(nb):
    for max_len, d in ((10, 8), (50, 7), (128, 64)):
        assert (nb.sinusoidal_table(max_len, d)
                - cu_positional.sinusoidal_table(max_len, d)).abs().max() <= TOL
    x = torch.randn(2, 9, 16)
    a = nb.SinusoidalPositionalEncoding(16, max_len=20)(x)
    b = cu_positional.SinusoidalPositionalEncoding(16, max_len=20)(x)
    assert (a - b).abs().max() <= TOL


@pytest.mark.parametrize("kind", ["additive", "luong"])
def test_rnn_attention(nb, kind):
    torch.manual_seed(2)
    if kind == "additive":
        ref, ours = cu_attention.AdditiveAttention(6, 8, 5), nb.AdditiveAttention(6, 8, 5)
    else:
        ref, ours = cu_attention.LuongAttention(6, 8, "general"), nb.LuongAttention(6, 8)
    ours.load_state_dict(ref.state_dict())
    query, keys = torch.randn(3, 6), torch.randn(3, 4, 8)
    mask = torch.tensor([[True] * 4, [True] * 2 + [False] * 2, [True] + [False] * 3])
    (c1, w1), (c2, w2) = ours(query, keys, mask), ref(query, keys, mask)
    assert (c1 - c2).abs().max() <= TOL and (w1 - w2).abs().max() <= TOL
