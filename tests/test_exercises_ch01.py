"""Chapter 01 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import math

import pytest
import torch

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import FAILED, NOT_ATTEMPTED, ExerciseNotSolved
from course_utils.exercises import ch01

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("01_seq2seq_attention.ipynb")  # the nb fixture imports NAMES
NAMES = ["additive_score", "decoder_mask", "split_heads", "merge_heads", "sinusoidal_pe",
         "masked_attention", "layer_norm"]
SOLUTIONS = {"check_additive_score": "additive_score", "check_decoder_mask": "decoder_mask",
             "check_split_merge": ("split_heads", "merge_heads"),
             "check_sinusoidal_pe": "sinusoidal_pe", "check_masked_attention": "masked_attention",
             "check_layer_norm": "layer_norm"}


def _additive(s, H, Wq, Wk, v, squash=torch.tanh, after=False):
    z = (s @ Wq.T)[:, None] + H @ Wk.T
    return torch.tanh(z @ v) if after else squash(z) @ v


def _decoder_mask(t, pad_id=0, axis="key"):
    causal = torch.ones(t.shape[1], t.shape[1], dtype=torch.bool).tril()[None]
    real = t != pad_id
    return causal & (real[:, None, :] if axis == "key" else real[:, :, None])


def _attention(q, k, v, mask, where="before", scale=True):
    scores = q @ k.transpose(-2, -1) / (math.sqrt(q.shape[-1]) if scale else 1.0)
    if where == "before":
        w = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
    elif where == "zero":
        w = torch.softmax(scores.masked_fill(~mask, 0.0), -1)
    else:
        w = torch.softmax(scores, -1) * mask
    return w @ v, w


def _layer_norm(x, g, b, eps=1e-5, unbiased=False, eps_outside=False):
    mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True, unbiased=unbiased)
    scale = var.sqrt() + eps if eps_outside else torch.sqrt(var + eps)
    return (x - mean) / scale * g + b


def _split(x, h):
    return x.view(*x.shape[:2], h, -1).transpose(1, 2)


def _merge(x):
    return x.transpose(1, 2).flatten(2)


def _sin_cos(m, d, angle_exponent="2i"):
    pos = torch.arange(m, dtype=torch.float64)[:, None]
    cols = torch.arange(d)
    i = cols // 2 * 2 if angle_exponent == "2i" else cols
    angle = pos / 10000 ** (i / d)
    return torch.where(cols % 2 == 0, angle.sin(), angle.cos()).float()


WRONG = {
    "check_additive_score": {
        "no-tanh": lambda *a: _additive(*a, squash=lambda z: z),
        "tanh-after-v": lambda *a: _additive(*a, after=True),
        "softmax-weights-not-scores": lambda *a: torch.softmax(_additive(*a), -1),
    },
    "check_decoder_mask": {
        "no-padding": lambda t, pad_id=0: _decoder_mask(torch.ones_like(t), pad_id=0),
        "padding-on-query-axis": lambda t, pad_id=0: _decoder_mask(t, pad_id, axis="query"),
        "ignores-pad-id": lambda t, pad_id=0: _decoder_mask(t, 0),
        "float-mask": lambda t, pad_id=0: _decoder_mask(t, pad_id).float(),
    },
    "check_split_merge": {
        "split-reshape-straight": (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), _merge),
        "merge-without-transpose": (_split, lambda x: x.reshape(x.shape[0], x.shape[2], -1)),
        "split-without-transpose": (lambda x, h: x.view(*x.shape[:2], h, -1), _merge),
    },
    "check_sinusoidal_pe": {
        "sin-cos-swapped": lambda m, d: _sin_cos(m, d).flip(-1) if d % 2 == 0 else
        _sin_cos(m, d)[:, [1, 0] * (d // 2) + [d - 1]],
        "exponent-i-not-2i": lambda m, d: _sin_cos(m, d, angle_exponent="i"),
        "even-d-only": lambda m, d: torch.stack([_sin_cos(m, d)[:, 0::2],
                                                 _sin_cos(m, d)[:, 1::2]], -1).flatten(1),
    },
    "check_masked_attention": {
        "mask-after-softmax": lambda q, k, v, m: _attention(q, k, v, m, where="after"),
        "mask-with-zero": lambda q, k, v, m: _attention(q, k, v, m, where="zero"),
        "no-scaling": lambda q, k, v, m: _attention(q, k, v, m, scale=False),
    },
    "check_layer_norm": {
        "unbiased-variance": lambda x, g, b, eps=1e-5: _layer_norm(x, g, b, eps, unbiased=True),
        "eps-outside-sqrt": lambda x, g, b, eps=1e-5: _layer_norm(x, g, b, eps, eps_outside=True),
        "gamma-beta-swapped": lambda x, g, b, eps=1e-5: _layer_norm(x, b, g, eps),
    },
}


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch01, checker)
    answer = solution(nb, SOLUTIONS[checker])
    assert_passes(check, answer)
    assert_not_attempted(check, n_functions=len(answer) if isinstance(answer, tuple) else 1)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch01, checker), answer)


def test_split_merge_gives_partial_credit(nb):
    """A finished split_heads is checked while merge_heads is still the stub."""
    result = ch01.check_split_merge(nb.split_heads, stub)
    assert result.status == NOT_ATTEMPTED
    assert "✅ split_heads: all 5 hidden cases pass" in result.message
    assert "⏳ merge_heads: not attempted yet" in result.message
    wrong = ch01.check_split_merge(WRONG["check_split_merge"]["split-reshape-straight"][0], stub)
    assert wrong.status == FAILED and "❌ split_heads" in wrong.message


def test_checker_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch01.check_layer_norm(stub)
    with pytest.raises(ExerciseNotSolved):
        ch01.check_split_merge(_split, stub)  # partly done is not solved
