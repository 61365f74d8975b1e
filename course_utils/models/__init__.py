"""Reusable model parts, written first in a chapter notebook and imported by later ones.

One responsibility per module: ``attention`` (scaled dot-product and multi-head attention,
masks), ``positional`` (sinusoidal and learned position encodings), ``blocks`` (the
Transformer block shared by the GPT, BERT and ViT chapters), ``seq2seq`` (the GRU and
Transformer encoder-decoders of chapter 01), ``gpt`` (the GPT-2-style decoder-only LM of
chapter 02, with weight conversion from/to ``transformers``). Names follow GPT-2/Hugging Face
(``ln_1, attn, ln_2, mlp, c_fc, c_proj``; ``q_proj, k_proj, v_proj, out_proj``).
"""
