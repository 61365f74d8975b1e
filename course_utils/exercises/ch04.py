"""Checkers for chapter 04 (Vision Transformer)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_utils.checking import Case, CheckResult, run_check
from course_utils.models.analysis import attention_rollout
from course_utils.models.vit import num_patch_tokens, patchify, sincos_2d_table, window_partition


def _images(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def check_patchify(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 1: (B, C, H, W) -> (B, N, C·P·P), patches row by row, Conv2d weight order."""
    shapes = [((1, 1, 4, 4), 2, "1 grey 4x4 image, P=2"), ((2, 1, 8, 8), 2, "digits, P=2"),
              ((2, 3, 8, 8), 4, "RGB 8x8, P=4"), ((1, 3, 6, 9), 3, "non-square 6x9, P=3"),
              ((2, 2, 4, 4), 1, "P=1: every pixel is a patch"),
              ((1, 3, 4, 4), 4, "P = image size: one patch")]
    cases = [Case(args=(_images(*shape, seed=i), p), label=label)
             for i, (shape, p, label) in enumerate(shapes)]
    return run_check("Exercise 1 · patchify", fn, cases, reference=patchify,
                     hint="reshape to (B, C, H/P, P, W/P, P), permute to (B, H/P, W/P, C, P, P), "
                          "then reshape to (B, N, C·P·P) -- channel first inside each patch, "
                          "like Conv2d's weight (d, C, P, P).")


def check_num_tokens(fn: Callable[..., int]) -> CheckResult:
    """Exercise 2: sequence length (H/P)·(W/P) (+ 1 with a [CLS] token)."""
    cases = [Case(args=(224, 224, 16)), Case(args=(32, 32, 4)), Case(args=(8, 8, 2)),
             Case(args=(384, 384, 16)), Case(args=(224, 224, 14)), Case(args=(64, 32, 8)),
             Case(args=(224, 224, 16), kwargs={"cls_token": False}),
             Case(args=(48, 96, 16), kwargs={"cls_token": False})]
    return run_check("Exercise 2 · num_tokens", fn, cases, reference=num_patch_tokens,
                     hint="(H // P) * (W // P) patches, plus one if cls_token is True.")


def _softmax_maps(*shape: int, seed: int) -> torch.Tensor:
    return torch.softmax(2 * _images(*shape, seed=seed), dim=-1)


def _keep(*shape: int, seed: int) -> torch.Tensor:
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) > 0.3).float()


def check_attention_rollout(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 3: rollout over layers of head-averaged attention with the residual mixed in."""
    cases = [Case(args=(_softmax_maps(1, 1, 3, 3, seed=0),), label="1 layer, 1 head, T=3"),
             Case(args=(_softmax_maps(2, 4, 5, 5, seed=1),), label="2 layers, 4 heads, T=5"),
             Case(args=(_softmax_maps(4, 2, 17, 17, seed=2),), label="4 layers, 2 heads, T=17"),
             Case(args=(_softmax_maps(3, 2, 4, 4, seed=3),), kwargs={"residual": 0.0},
                  label="residual=0: plain product of the head-mean maps"),
             Case(args=(_softmax_maps(3, 2, 4, 4, seed=4),), kwargs={"residual": 0.9},
                  label="residual=0.9"),
             Case(args=(_softmax_maps(2, 3, 2, 4, 6, 6, seed=5),),
                  label="batch dimensions (2, 3), 2 layers, 4 heads, T=6"),
             Case(args=(_softmax_maps(2, 2, 5, 5, seed=6) * _keep(2, 2, 5, 5, seed=7),),
                  label="rows that no longer sum to 1 (the lowest weights discarded): "
                        "renormalise after adding the residual")]
    return run_check("Exercise 3 · attention_rollout", fn, cases, reference=attention_rollout,
                     atol=1e-5, rtol=1e-4,
                     hint="mean over heads (dim -3); Â = r·I + (1-r)·A; divide each row by its "
                          "sum; R = Â_L @ ... @ Â_2 @ Â_1 (the later layer on the left).")


def check_sincos_2d(fn: Callable[[int, int, int], torch.Tensor]) -> CheckResult:
    """Exercise 4: 2-D sin-cos table: rows in the first half of the channels, columns in the second."""
    cases = [Case(args=(1, 1, 4)), Case(args=(4, 4, 8)), Case(args=(2, 3, 16)),
             Case(args=(14, 14, 64)), Case(args=(3, 1, 12))]
    return run_check("Exercise 4 · sincos_2d", fn, cases, reference=sincos_2d_table,
                     hint="sinusoidal_table(grid_h, d/2) gives the row codes and "
                          "sinusoidal_table(grid_w, d/2) the column codes; patch (i, j) -> "
                          "concat(row_code[i], col_code[j]), patches numbered row by row.")


def check_window_partition(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 5: Swin's window partition (B, H, W, C) -> (B·nW, w, w, C)."""
    cases = [Case(args=(_images(1, 4, 4, 1, seed=0), 2), label="4x4 grid, window 2"),
             Case(args=(_images(2, 8, 8, 3, seed=1), 4), label="batch 2, 8x8, window 4"),
             Case(args=(_images(1, 4, 6, 2, seed=2), 2), label="non-square 4x6, window 2"),
             Case(args=(_images(1, 6, 6, 5, seed=3), 6), label="one window covers all"),
             Case(args=(_images(3, 2, 2, 4, seed=4), 1), label="window 1: every patch alone")]
    return run_check("Exercise 5 · window_partition", fn, cases, reference=window_partition,
                     hint="reshape to (B, H/w, w, W/w, w, C), permute to (B, H/w, W/w, w, w, C), "
                          "then reshape to (-1, w, w, C).")
