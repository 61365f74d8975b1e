"""Chapter 01 -- Seq2Seq & attention: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch01Sizes:
    """Chapter 01: GRU and Transformer encoder-decoders on dates, plus a digit-reversal toy."""

    n_train: int  # training dates used (of the 40,000 in data/dates)
    n_test: int  # held-out test dates evaluated (of 2,000)
    n_val: int  # validation dates for the learning curves (teacher-forced loss)
    eval_every: int  # steps between validation-loss points
    gru_batch: int  # sentences per optimizer step of the GRU models
    gru_emb: int  # character-embedding width of the GRU models
    gru_hidden: int  # decoder state width (the bidirectional encoder: half per direction)
    gru_steps: int  # optimizer steps of each GRU model on dates
    gru_lr: float  # peak learning rate (one-cycle schedule) of the GRU models
    tf_ratio: float  # teacher-forcing ratio of the exposure-bias run (1.0 = always gold)
    timing_steps: int  # training steps timed per attention kind (Bahdanau vs Luong cost)
    date_attention: tuple[str, ...]  # attention variants trained on dates ("luong", "bahdanau")
    tf_d_model: int  # width of the Transformer encoder-decoder
    tf_heads: int
    tf_enc_layers: int
    tf_dec_layers: int
    tf_d_ff: int  # MLP width inside each Transformer block
    tf_batch: int  # sentences per step (smaller than the GRUs': more updates, same compute)
    tf_steps: int
    tf_lr: float
    toy_max_len: int  # longest digit string of the reversal task (shortest: 3)
    toy_hidden: int  # GRU width of the toy models
    toy_wide: int  # width of the wide no-attention toy model (Exercise 6)
    toy_steps: int
    toy_batch: int
    toy_n_test: int  # test strings per toy evaluation


CHAPTER = ChapterSpec(
    number="01",
    stem="01_seq2seq_attention",
    title="Seq2Seq & attention",
    sizes=dict(
        quick=Ch01Sizes(n_train=40000, n_test=2000, n_val=1000, eval_every=50, gru_batch=64,
                        gru_emb=32, gru_hidden=64, gru_steps=500, gru_lr=1e-2, tf_ratio=0.5,
                        timing_steps=10, date_attention=("luong",), tf_d_model=64, tf_heads=4,
                        tf_enc_layers=1, tf_dec_layers=1, tf_d_ff=128,
                        tf_batch=32, tf_steps=1200, tf_lr=5e-3, toy_max_len=20,
                        toy_hidden=64, toy_wide=128, toy_steps=200, toy_batch=64,
                        toy_n_test=1000),
        full=Ch01Sizes(n_train=40000, n_test=2000, n_val=2000, eval_every=250, gru_batch=64,
                       gru_emb=64, gru_hidden=128, gru_steps=4000, gru_lr=5e-3, tf_ratio=0.5,
                       timing_steps=20, date_attention=("bahdanau", "luong"),
                       tf_d_model=128, tf_heads=4, tf_enc_layers=3, tf_dec_layers=3,
                       tf_d_ff=512, tf_batch=64, tf_steps=8000, tf_lr=1e-3, toy_max_len=40,
                       toy_hidden=128, toy_wide=512, toy_steps=3000, toy_batch=128,
                       toy_n_test=4000),
    ),
    targets=(
        Target("gru_attention_exact_match", ">=", 0.90, "attention GRU solves held-out dates"),
        Target("mha_parity_max_abs_diff", "<=", 1e-5, "our MHA == nn.MultiheadAttention"),
        Target("sdpa_parity_max_abs_diff", "<=", 1e-5, "our attention == F.sdpa"),
        Target("pe_relative_shift_max_err", "<=", 1e-4, "PE(p+k) is a linear map of PE(p)"),
        # the bottleneck: on long inputs attention beats the single-vector encoder widely
        Target("toy_reversal_long_gap", ">=", 0.5, "attention - no attention on long inputs"),
    ),
    checkers="course_utils.exercises.ch01",
    smoke=dict(n_test=200, n_val=100, eval_every=10, timing_steps=2, gru_emb=16, gru_hidden=32,
               gru_steps=20, tf_d_model=32, tf_heads=2, tf_enc_layers=1, tf_dec_layers=1,
               tf_d_ff=64, tf_steps=20, toy_hidden=32, toy_wide=64, toy_steps=20, toy_n_test=200),
)
