"""Chapter 01: positional encodings and the configurable Transformer block."""

import math

import pytest
import torch
from torch import nn

from course_utils.models.blocks import MLP, BlockConfig, TransformerBlock, make_activation
from course_utils.models.positional import (LearnedPositionalEmbedding,
                                            SinusoidalPositionalEncoding, sinusoidal_table)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sinusoidal_table_values_and_shape():
    pe = sinusoidal_table(50, 16)
    assert pe.shape == (50, 16) and pe.abs().max() <= 1.0
    assert torch.equal(pe[0, 0::2], torch.zeros(8)) and torch.equal(pe[0, 1::2], torch.ones(8))
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert math.isclose(pe[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
    assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)
    odd = sinusoidal_table(5, 7)
    assert odd.shape == (5, 7) and torch.allclose(odd[:, :6], sinusoidal_table(5, 7)[:, :6])
    assert torch.allclose(odd[:, 6], torch.sin(torch.arange(5.0) * 10000 ** (-6 / 7)))


def test_sinusoidal_relative_shift_is_a_rotation():
    d, k = 8, 5
    pe = sinusoidal_table(64, d).double()
    m = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        w = 10000 ** (-2 * i / d)
        c, s = math.cos(w * k), math.sin(w * k)
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[c, s], [-s, c]])
    assert (pe[:-k] @ m.T - pe[k:]).abs().max() < 1e-5


def test_positional_modules_add_and_validate():
    x = torch.zeros(2, 6, 8)
    sin = SinusoidalPositionalEncoding(8, max_len=10)
    assert torch.allclose(sin(x)[0], sinusoidal_table(10, 8)[:6])
    assert torch.allclose(sin(x, offset=3)[1], sinusoidal_table(10, 8)[3:9])
    assert "pe" not in sin.state_dict()  # a non-persistent buffer: rebuilt, never trained
    learned = LearnedPositionalEmbedding(8, max_len=10)
    assert torch.allclose(learned(x)[0], learned.pe[:6])
    assert learned.wpe.weight.requires_grad
    with pytest.raises(ValueError, match="positions 8..13 exceed max_len=10"):
        sin(x, offset=8)
    with pytest.raises(ValueError, match=r"x must have last dimension d_model=8, got \(2, 6, 4\)"):
        learned(torch.zeros(2, 6, 4))
    with pytest.raises(ValueError, match="max_len must be >= 1, got 0"):
        sinusoidal_table(0, 4)


def test_block_config_validation():
    assert BlockConfig(16, 4).d_ff == 64
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        BlockConfig(10, 4)
    with pytest.raises(ValueError, match=r"activation must be one of \['gelu', 'gelu_tanh', "):
        BlockConfig(16, 4, activation="swish")
    with pytest.raises(ValueError, match="layer_norm_eps must be > 0.0"):
        BlockConfig(16, 4, layer_norm_eps=0.0)
    assert isinstance(make_activation("gelu_tanh"), nn.GELU)
    assert make_activation("gelu_tanh").approximate == "tanh"


def test_block_names_follow_gpt2():
    names = {n for n, _ in TransformerBlock(BlockConfig(16, 2, cross_attention=True))
             .named_parameters()}
    for expected in ("ln_1.weight", "attn.q_proj.weight", "attn.out_proj.bias", "ln_2.bias",
                     "mlp.c_fc.weight", "mlp.c_proj.weight", "ln_cross.weight",
                     "cross_attn.k_proj.weight"):
        assert expected in names


def _reference_block(block: TransformerBlock, x, context=None, pad=None, ctx_pad=None):
    """The two residual/LayerNorm orders written out with torch's own attention."""
    c = block.config

    def mha(m, q_in, kv_in, key_keep, causal):
        ref = nn.MultiheadAttention(c.d_model, c.n_heads, batch_first=True,
                                    kdim=kv_in.shape[-1], vdim=kv_in.shape[-1])
        with torch.no_grad():
            if ref._qkv_same_embed_dim:
                ref.in_proj_weight.copy_(torch.cat([m.q_proj.weight, m.k_proj.weight,
                                                    m.v_proj.weight]))
            ref.in_proj_bias.copy_(torch.cat([m.q_proj.bias, m.k_proj.bias, m.v_proj.bias]))
            ref.out_proj.load_state_dict(m.out_proj.state_dict())
        t = q_in.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1) if causal else None
        return ref(q_in, kv_in, kv_in, key_padding_mask=None if key_keep is None else ~key_keep,
                   attn_mask=mask, need_weights=False)[0]

    def mlp(h):
        return block.mlp.c_proj(block.mlp.act(block.mlp.c_fc(h)))

    if c.norm_first:
        h = block.ln_1(x)
        x = x + mha(block.attn, h, h, pad, c.causal)
        if c.cross_attention:
            x = x + mha(block.cross_attn, block.ln_cross(x), context, ctx_pad, False)
        return x + mlp(block.ln_2(x))
    x = block.ln_1(x + mha(block.attn, x, x, pad, c.causal))
    if c.cross_attention:
        x = block.ln_cross(x + mha(block.cross_attn, x, context, ctx_pad, False))
    return block.ln_2(x + mlp(x))


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("decoder", [False, True])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_block_matches_reference_composition(norm_first, decoder, activation):
    torch.manual_seed(0)
    block = TransformerBlock(BlockConfig(16, 4, d_ff=24, norm_first=norm_first, causal=decoder,
                                         cross_attention=decoder, activation=activation,
                                         layer_norm_eps=1e-12)).eval()
    x, ctx = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    pad = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    ctx_pad = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    kwargs = {"context": ctx, "context_padding_mask": ctx_pad} if decoder else {}
    out, self_w, cross_w = block(x, key_padding_mask=pad, need_weights=True, **kwargs)
    ref = _reference_block(block, x, ctx if decoder else None, pad, ctx_pad)
    assert (out - ref).abs().max() <= 1e-5
    assert self_w.shape == (2, 4, 5, 5)
    assert (cross_w is not None) == decoder
    if decoder:
        assert self_w[..., 0, 1:].abs().max() == 0  # causal
        assert cross_w[1, ..., 4:].abs().max() == 0  # padded source keys


def test_block_context_errors():
    enc = TransformerBlock(BlockConfig(8, 2))
    dec = TransformerBlock(BlockConfig(8, 2, causal=True, cross_attention=True))
    x = torch.randn(1, 3, 8)
    with pytest.raises(ValueError, match="built with cross_attention=False"):
        enc(x, context=x)
    with pytest.raises(ValueError, match="pass context=encoder output"):
        dec(x)
    assert MLP(8, 16)(x).shape == x.shape
