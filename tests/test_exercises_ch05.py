"""Chapter 05 checkers: reference solutions pass, the plausible wrong answers fail, stubs are 'not attempted'."""

import pytest
import torch

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED, ExerciseNotSolved
from course_utils.exercises import ch05


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def stub(*args, **kwargs):
    raise NotImplementedError


# --- Exercise 1: LoRA forward -------------------------------------------------------------
def lora_forward(x, weight, bias, lora_A, lora_B, alpha):
    y = x @ weight.T + (alpha / lora_A.shape[0]) * (x @ lora_A.T @ lora_B.T)
    return y if bias is None else y + bias


def lora_forward_no_scale(x, weight, bias, lora_A, lora_B, alpha):
    y = x @ weight.T + x @ lora_A.T @ lora_B.T
    return y if bias is None else y + bias


def lora_forward_alpha_only(x, weight, bias, lora_A, lora_B, alpha):  # alpha, not alpha / r
    y = x @ weight.T + alpha * (x @ lora_A.T @ lora_B.T)
    return y if bias is None else y + bias


def lora_forward_ignores_none_bias(x, weight, bias, lora_A, lora_B, alpha):
    return x @ weight.T + bias + (alpha / lora_A.shape[0]) * (x @ lora_A.T @ lora_B.T)


# --- Exercise 2: merge ------------------------------------------------------------------
def merge(weight, lora_A, lora_B, alpha):
    return weight + (alpha / lora_A.shape[0]) * (lora_B @ lora_A)


def merge_no_scale(weight, lora_A, lora_B, alpha):
    return weight + lora_B @ lora_A


def merge_scale_by_d(weight, lora_A, lora_B, alpha):  # divides by the wrong dimension
    return weight + (alpha / lora_B.shape[0]) * (lora_B @ lora_A)


# --- Exercise 3: parameter count ----------------------------------------------------------
SHAPES = {"q_proj": lambda h, f: (h, h), "k_proj": lambda h, f: (h, h),
          "v_proj": lambda h, f: (h, h), "out_proj": lambda h, f: (h, h),
          "c_fc": lambda h, f: (f, h), "c_proj": lambda h, f: (h, f)}


def count(hidden, intermediate, layers, r, targets):
    return layers * sum(r * sum(SHAPES[t](hidden, intermediate)) for t in targets)


def count_full_matrices(hidden, intermediate, layers, r, targets):  # d * k: the frozen W
    return layers * sum(SHAPES[t](hidden, intermediate)[0] * SHAPES[t](hidden, intermediate)[1]
                        for t in targets)


def count_square(hidden, intermediate, layers, r, targets):  # every layer H x H
    return layers * len(targets) * 2 * r * hidden


def count_one_layer(hidden, intermediate, layers, r, targets):  # forgets the L blocks
    return sum(r * sum(SHAPES[t](hidden, intermediate)) for t in targets)


# --- Exercise 4: prompt mask --------------------------------------------------------------
def prompt_mask(mask, n):
    return torch.cat([torch.ones(mask.shape[0], n, dtype=mask.dtype), mask], dim=1)


def prompt_mask_appended(mask, n):  # ones at the end
    return torch.cat([mask, torch.ones(mask.shape[0], n, dtype=mask.dtype)], dim=1)


def prompt_mask_zeros(mask, n):  # virtual tokens masked out
    return torch.cat([torch.zeros(mask.shape[0], n, dtype=mask.dtype), mask], dim=1)


def prompt_mask_float(mask, n):  # right values, dtype lost
    return torch.cat([torch.ones(mask.shape[0], n), mask.float()], dim=1)


# --- Exercise 5: verbalizer ---------------------------------------------------------------
def verbalizer(logits, words):
    lp = logits.log_softmax(-1)
    return torch.stack([lp[:, w].logsumexp(-1) for w in words], dim=-1)


def verbalizer_label_softmax(logits, words):  # softmax over the label words only
    flat = [i for w in words for i in w]
    lp = torch.full_like(logits, float("-inf"))
    lp[:, flat] = logits[:, flat].log_softmax(-1)
    return torch.stack([lp[:, w].logsumexp(-1) for w in words], dim=-1)


def verbalizer_raw_logits(logits, words):  # logsumexp of logits: not normalised
    return torch.stack([logits[:, w].logsumexp(-1) for w in words], dim=-1)


def verbalizer_mean_logprob(logits, words):  # mean instead of log of the summed probability
    lp = logits.log_softmax(-1)
    return torch.stack([lp[:, w].mean(-1) for w in words], dim=-1)


# --- Exercise 7: LoRA on an embedding table -----------------------------------------------
def emb(ids, weight, lora_A, lora_B, alpha):
    return weight[ids] + (alpha / lora_A.shape[0]) * (lora_A.T[ids] @ lora_B.T)


def emb_no_scale(ids, weight, lora_A, lora_B, alpha):
    return weight[ids] + lora_A.T[ids] @ lora_B.T


def emb_alpha_only(ids, weight, lora_A, lora_B, alpha):
    return weight[ids] + alpha * (lora_A.T[ids] @ lora_B.T)


def emb_b_not_transposed(ids, weight, lora_A, lora_B, alpha):  # right only when B is symmetric
    return weight[ids] + (alpha / lora_A.shape[0]) * (lora_A.T[ids] @ lora_B[:, :lora_A.shape[0]])


def emb_delta_only(ids, weight, lora_A, lora_B, alpha):  # forgets the frozen table
    return (alpha / lora_A.shape[0]) * (lora_A.T[ids] @ lora_B.T)


CHECKERS = [
    (ch05.check_lora_forward, lora_forward,
     [lora_forward_no_scale, lora_forward_alpha_only, lora_forward_ignores_none_bias]),
    (ch05.check_merge_lora, merge, [merge_no_scale, merge_scale_by_d]),
    (ch05.check_lora_param_count, count, [count_full_matrices, count_square, count_one_layer]),
    (ch05.check_prompt_mask, prompt_mask, [prompt_mask_appended, prompt_mask_zeros,
                                           prompt_mask_float]),
    (ch05.check_verbalizer, verbalizer, [verbalizer_label_softmax, verbalizer_raw_logits,
                                         verbalizer_mean_logprob]),
    (ch05.check_lora_embedding, emb, [emb_no_scale, emb_alpha_only, emb_b_not_transposed,
                                      emb_delta_only]),
]


@pytest.mark.parametrize("checker, good, bads", CHECKERS, ids=[c[0].__name__ for c in CHECKERS])
def test_checker_verdicts(checker, good, bads, capsys):
    assert checker(good).status == PASSED
    for bad in bads:
        result = checker(bad)
        assert result.status == FAILED, bad.__name__
        assert "Hint:" in result.message
        assert ("expected" in result.message and "got" in result.message) \
            or "raised" in result.message
    assert checker(stub).status == NOT_ATTEMPTED
    assert "not attempted yet" in capsys.readouterr().out


def test_rank_experiment_checker():
    ok = ch05.check_rank_experiment(lambda: {1: 1, 8: 8}, r_small=1, r_large=8)
    assert ok.status == PASSED
    for wrong in ({1: 1, 8: 1},  # no effect measured
                  {1: 2, 8: 8},  # rank above r is impossible
                  {1: 1, 8: 12},  # above r again
                  {1: 1},  # missing measurement
                  {1: 1.0, 8: 8.0}):  # not integer ranks
        assert ch05.check_rank_experiment(lambda w=wrong: w, r_small=1, r_large=8).status == FAILED
    assert ch05.check_rank_experiment(stub, r_small=1, r_large=8).status == NOT_ATTEMPTED


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch05.check_prompt_mask(stub)
