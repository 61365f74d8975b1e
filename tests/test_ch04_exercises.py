"""Chapter 04 checkers: reference solutions pass, wrong ones fail with expected vs got, stubs are 'not attempted'."""

import pytest
import torch

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED, ExerciseNotSolved
from course_utils.exercises import ch04
from course_utils.models.positional import sinusoidal_table


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def patchify(images, patch_size):
    b, c, h, w = images.shape
    p = patch_size
    x = images.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


def patchify_channels_last(images, patch_size):  # MAE's (P, P, C) order: not the conv order
    b, c, h, w = images.shape
    p = patch_size
    x = images.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


def num_tokens(height, width, patch_size, cls_token=True):
    return (height // patch_size) * (width // patch_size) + int(cls_token)


def num_tokens_square(height, width, patch_size, cls_token=True):
    return (height // patch_size) ** 2 + 1  # ignores width and cls_token


def rollout(attentions, residual=0.5):
    fused = attentions.mean(-3)
    mixed = residual * torch.eye(fused.shape[-1]) + (1 - residual) * fused
    mixed = mixed / mixed.sum(-1, keepdim=True)
    out = mixed[..., 0, :, :]
    for layer in range(1, mixed.shape[-3]):
        out = mixed[..., layer, :, :] @ out
    return out


def rollout_wrong_order(attentions, residual=0.5):
    fused = attentions.mean(-3)
    mixed = residual * torch.eye(fused.shape[-1]) + (1 - residual) * fused
    mixed = mixed / mixed.sum(-1, keepdim=True)
    out = mixed[..., 0, :, :]
    for layer in range(1, mixed.shape[-3]):
        out = out @ mixed[..., layer, :, :]
    return out


def sincos_2d(grid_h, grid_w, d_model):
    half = d_model // 2
    rows = sinusoidal_table(grid_h, half)[:, None, :].expand(grid_h, grid_w, half)
    cols = sinusoidal_table(grid_w, half)[None, :, :].expand(grid_h, grid_w, half)
    return torch.cat([rows, cols], -1).reshape(grid_h * grid_w, d_model)


def sincos_2d_swapped(grid_h, grid_w, d_model):  # columns first
    half = d_model // 2
    rows = sinusoidal_table(grid_h, half)[:, None, :].expand(grid_h, grid_w, half)
    cols = sinusoidal_table(grid_w, half)[None, :, :].expand(grid_h, grid_w, half)
    return torch.cat([cols, rows], -1).reshape(grid_h * grid_w, d_model)


def window_partition(x, window):
    b, h, w, c = x.shape
    x = x.reshape(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window, window, c)


def window_partition_no_permute(x, window):
    return x.reshape(-1, window, window, x.shape[-1])


def stub(*args, **kwargs):
    raise NotImplementedError


CHECKERS = [
    (ch04.check_patchify, patchify, patchify_channels_last),
    (ch04.check_num_tokens, num_tokens, num_tokens_square),
    (ch04.check_attention_rollout, rollout, rollout_wrong_order),
    (ch04.check_sincos_2d, sincos_2d, sincos_2d_swapped),
    (ch04.check_window_partition, window_partition, window_partition_no_permute),
]


@pytest.mark.parametrize("checker, good, bad", CHECKERS, ids=[c[0].__name__ for c in CHECKERS])
def test_checker_verdicts(checker, good, bad, capsys):
    assert checker(good).status == PASSED
    result = checker(bad)
    assert result.status == FAILED
    out = capsys.readouterr().out
    assert "expected" in result.message and "got" in result.message
    assert "Hint:" in out
    assert checker(stub).status == NOT_ATTEMPTED
    assert "not attempted yet" in capsys.readouterr().out


def test_crashing_solution_is_reported_not_raised():
    result = ch04.check_patchify(lambda images, p: images.view(-1, 3, 7))
    assert result.status == FAILED and "raised RuntimeError" in result.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch04.check_window_partition(stub)
