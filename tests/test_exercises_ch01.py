"""Chapter 01 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import pytest
import torch

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import FAILED, PASSED, ExerciseNotSolved
from course_utils.exercises import ch01

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("01_seq2seq_attention.ipynb")  # the nb fixture imports NAMES
NAMES = ["luong_step", "prefix_lm_mask", "lstm_cell", "masked_softmax", "layer_norm"]
SOLUTIONS = {"check_luong_step": "luong_step", "check_prefix_lm_mask": "prefix_lm_mask",
             "check_lstm_cell": "lstm_cell", "check_masked_softmax": "masked_softmax",
             "check_layer_norm": "layer_norm"}


def _luong(s, H, mask, W_c, use_mask=True, order="cs", dim=-1, squash=torch.tanh):
    scores = torch.einsum("bd,bsd->bs", s, H)
    if use_mask:
        scores = scores.masked_fill(~mask, float("-inf"))
    alpha = torch.softmax(scores, dim=dim)
    context = torch.einsum("bs,bsd->bd", alpha, H)
    pair = [context, s] if order == "cs" else [s, context]
    return squash(torch.cat(pair, -1) @ W_c.T), alpha


def _prefix_mask(t, prefix_len, pad_id=0, axis="key", prefix_queries_see_all=False,
                 one_prefix=False, off_by_one=0, padding=True):
    pos = torch.arange(t.shape[1])
    causal = (pos[None, :] <= pos[:, None])[None]
    plen = prefix_len[:1].expand_as(prefix_len) if one_prefix else prefix_len
    key_in = pos[None, None, :] < plen[:, None, None] + off_by_one
    allowed = causal | key_in
    if prefix_queries_see_all:
        allowed = allowed | (pos[None, :, None] < plen[:, None, None])
    real = t != pad_id
    if padding:
        allowed = allowed & (real[:, None, :] if axis == "key" else real[:, :, None])
    return allowed


def _lstm(x, h, c, cell, order="ifgo", tanh_cell_out=True, input_gate=True):
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    parts = dict(zip(order, gates.chunk(4, dim=-1)))
    i, f, g, o = (parts[k] for k in "ifgo")
    write = torch.tanh(g) * (torch.sigmoid(i) if input_gate else 1.0)
    c_new = torch.sigmoid(f) * c + write
    return torch.sigmoid(o) * (torch.tanh(c_new) if tanh_cell_out else c_new), c_new


def _softmax_masked(scores, mask, how="-inf"):
    mask = mask.expand_as(scores)
    if how == "after":
        return torch.softmax(scores, -1) * mask
    fill = float("-inf") if how == "-inf" else torch.finfo(scores.dtype).min
    return torch.softmax(scores.masked_fill(~mask, fill), -1)


def _layer_norm(x, g, b, eps=1e-5, unbiased=False, eps_outside=False):
    mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True, unbiased=unbiased)
    scale = var.sqrt() + eps if eps_outside else torch.sqrt(var + eps)
    return (x - mean) / scale * g + b


WRONG = {
    "check_luong_step": {
        "no-mask": lambda *a: _luong(*a, use_mask=False),
        "s-before-context": lambda *a: _luong(*a, order="sc"),
        "softmax-over-batch": lambda *a: _luong(*a, dim=0),
        "no-tanh": lambda *a: _luong(*a, squash=lambda z: z),
    },
    "check_prefix_lm_mask": {
        "plain-causal": lambda t, p, pad_id=0: _prefix_mask(t, torch.zeros_like(p), pad_id),
        "prefix-queries-see-the-future": lambda t, p, pad_id=0: _prefix_mask(
            t, p, pad_id, prefix_queries_see_all=True),
        "one-prefix-for-the-batch": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id,
                                                                        one_prefix=True),
        "prefix-off-by-one": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id, off_by_one=1),
        "padding-on-query-axis": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id, axis="query"),
        "no-padding": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id, padding=False),
        "float-mask": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id).float(),
    },
    "check_lstm_cell": {
        "gate-order-ifog": lambda *a: _lstm(*a, order="ifog"),
        "no-tanh-on-cell-output": lambda *a: _lstm(*a, tanh_cell_out=False),
        "no-input-gate": lambda *a: _lstm(*a, input_gate=False),
    },
    "check_masked_softmax": {
        "minus-inf-gives-nan": lambda s, m: _softmax_masked(s, m, "-inf"),
        "finfo-min-gives-uniform": lambda s, m: _softmax_masked(s, m, "min"),
        "mask-after-softmax": lambda s, m: _softmax_masked(s, m, "after"),
    },
    "check_layer_norm": {
        "unbiased-variance": lambda x, g, b, eps=1e-5: _layer_norm(x, g, b, eps, unbiased=True),
        "eps-outside-sqrt": lambda x, g, b, eps=1e-5: _layer_norm(x, g, b, eps, eps_outside=True),
        "gamma-beta-swapped": lambda x, g, b, eps=1e-5: _layer_norm(x, b, g, eps),
    },
}

EXPERIMENT = dict(narrow="no attention, narrow", wide="no attention, wide",
                  attention="attention, narrow")


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch01, checker)
    answer = solution(nb, SOLUTIONS[checker])
    assert_passes(check, answer)
    assert_not_attempted(check, n_functions=len(answer) if isinstance(answer, tuple) else 1)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch01, checker), answer)


def test_nan_answer_gets_a_helpful_message():
    result = ch01.check_masked_softmax(WRONG["check_masked_softmax"]["minus-inf-gives-nan"])
    assert result.status == FAILED and "NaN" in result.message


@pytest.mark.parametrize("measured, ok", [
    ({"no attention, narrow": 0.0, "no attention, wide": 0.02, "attention, narrow": 0.83}, True),
    ({"no attention, narrow": 0.0, "no attention, wide": 0.70, "attention, narrow": 0.83}, False),
    ({"no attention, narrow": 0.0, "no attention, wide": 0.0}, False),  # a model missing
    ({"no attention, narrow": 0.0, "no attention, wide": 0.0, "attention, narrow": 83}, False),
])
def test_bottleneck_experiment_checks_the_direction(measured, ok):
    result = ch01.check_bottleneck_experiment(lambda: measured, **EXPERIMENT)
    assert (result.status == PASSED) == ok, result.message
    notebook = {"no attention, narrow": 0.0, "attention, narrow": 0.83}
    result = ch01.check_bottleneck_experiment(lambda: measured, measured=notebook, **EXPERIMENT)
    assert (result.status == PASSED) == ok, result.message
    assert_not_attempted(lambda fn: ch01.check_bottleneck_experiment(fn, **EXPERIMENT))


def test_checker_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch01.check_layer_norm(stub)
    with pytest.raises(ExerciseNotSolved):
        ch01.check_luong_step(WRONG["check_luong_step"]["no-mask"])


# --- More plausible wrong answers (cold review of chapters 01/02): each must be rejected. ------
def _luong_scaled(s, H, mask, W_c):  # the Transformer habit: dot scores divided by sqrt(d)
    scores = torch.einsum("bd,bsd->bs", s, H) / s.shape[-1] ** 0.5
    alpha = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
    context = torch.einsum("bs,bsd->bd", alpha, H)
    return torch.tanh(torch.cat([context, s], -1) @ W_c.T), alpha


def _luong_summed(s, H, mask, W_c):  # adds context and state instead of concatenating them
    d = s.shape[-1]
    alpha = torch.softmax(torch.einsum("bd,bsd->bs", s, H).masked_fill(~mask, float("-inf")), -1)
    context = torch.einsum("bs,bsd->bd", alpha, H)
    return torch.tanh((context + s) @ W_c[:, :d].T), alpha


def _lstm_gates(x, h, cell, bias_hh=True):
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T
    return (gates + cell.bias_hh if bias_hh else gates).chunk(4, dim=-1)


def _lstm_old_cell_out(x, h, c, cell):  # h from tanh of the *old* cell
    i, f, g, o = _lstm_gates(x, h, cell)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c_new


def _lstm_no_bias_hh(x, h, c, cell):  # one of the two biases forgotten
    i, f, g, o = _lstm_gates(x, h, cell, bias_hh=False)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def _lstm_coupled(x, h, c, cell):  # GRU-style coupling: (1 - f) instead of the input gate
    i, f, g, o = _lstm_gates(x, h, cell)
    c_new = torch.sigmoid(f) * c + (1 - torch.sigmoid(f)) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def _lstm_returns_c_h(x, h, c, cell):  # the two states returned in the wrong order
    with torch.no_grad():
        h_new, c_new = cell(x, (h, c))
    return c_new, h_new


def _ln_stats(x, dim=-1, unbiased=False):
    return x.mean(dim, keepdim=True), x.var(dim, keepdim=True, unbiased=unbiased)


def _ln_no_gamma(x, g, b, eps=1e-5):
    mean, var = _ln_stats(x)
    return (x - mean) / torch.sqrt(var + eps) + b


def _ln_batch_stats(x, g, b, eps=1e-5):  # BatchNorm's axis
    mean, var = _ln_stats(x, dim=0)
    return (x - mean) / torch.sqrt(var + eps) * g + b


def _ln_std_plus_eps(x, g, b, eps=1e-5):  # x.std (unbiased by default) + eps
    return (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + eps) * g + b


def _ln_eps_ignored(x, g, b, eps=1e-5):  # the eps argument is never used
    mean, var = _ln_stats(x)
    return (x - mean) / torch.sqrt(var + 1e-5) * g + b


MORE_WRONG = {
    "check_luong_step": {"scaled-by-sqrt-d": _luong_scaled, "summed-not-concatenated": _luong_summed},
    "check_prefix_lm_mask": {
        "or-instead-of-and": lambda t, p, pad_id=0: _prefix_mask(t, p, pad_id, padding=False)
        | (t != pad_id)[:, None, :],
        "true-means-blocked": lambda t, p, pad_id=0: ~_prefix_mask(t, p, pad_id),
    },
    "check_lstm_cell": {"output-from-old-cell": _lstm_old_cell_out,
                        "bias-hh-forgotten": _lstm_no_bias_hh,
                        "coupled-input-forget": _lstm_coupled,
                        "returns-c-then-h": _lstm_returns_c_h},
    "check_masked_softmax": {
        "masked-scores-zeroed": lambda s, m: torch.softmax(s * m, -1) * m,
    },
    "check_layer_norm": {"no-gamma": _ln_no_gamma, "batch-statistics": _ln_batch_stats,
                         "std-plus-eps": _ln_std_plus_eps, "eps-ignored": _ln_eps_ignored},
}


@pytest.mark.parametrize("checker, answer", wrong_params(MORE_WRONG))
def test_more_wrong_answers_rejected(checker, answer):
    assert_rejected(getattr(ch01, checker), answer)


def test_bottleneck_experiment_wants_the_notebooks_numbers_and_plain_floats():
    import numpy as np
    notebook = {"no attention, narrow": 0.0, "attention, narrow": 0.83}
    other = {"no attention, narrow": 0.0, "no attention, wide": 0.0, "attention, narrow": 0.9}
    result = ch01.check_bottleneck_experiment(lambda: other, measured=notebook, **EXPERIMENT)
    assert result.status == FAILED and "the notebook's own measurement" in result.message
    numpy_answer = {k: np.float32(v) for k, v in
                    {"no attention, narrow": 0.0, "no attention, wide": 0.0,
                     "attention, narrow": 0.83}.items()}
    result = ch01.check_bottleneck_experiment(lambda: numpy_answer, measured=notebook,
                                              **EXPERIMENT)
    assert result.status == PASSED, result.message  # float() is applied to numpy numbers
