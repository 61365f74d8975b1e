"""Checkers for chapter 00's warm-up exercises."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_utils.checking import Case, CheckResult, run_check
from course_utils.profile import current_profile


def _linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    return in_features * out_features + (out_features if bias else 0)


def check_linear_params(fn: Callable[..., int]) -> CheckResult:
    """Exercise 1: parameters of ``nn.Linear(in_features, out_features, bias)``."""
    shapes = [(1, 1, True), (3, 5, True), (3, 5, False), (768, 3072, True), (512, 50257, False),
              (7, 1, True)]
    cases = [Case(args=(i, o), kwargs={"bias": b}) for i, o, b in shapes]
    return run_check("Exercise 1 · linear_params", fn, cases, reference=_linear_params,
                     hint="a weight matrix has in*out entries; the bias adds one per output.")


def _causal_mask(size: int) -> torch.Tensor:
    return torch.tril(torch.ones(size, size, dtype=torch.bool))


def check_causal_mask(fn: Callable[[int], torch.Tensor]) -> CheckResult:
    """Exercise 2: boolean (T, T) mask, True where query i may attend to key j (j <= i)."""
    cases = [Case(args=(t,)) for t in (1, 2, 5, 8, 33)]
    return run_check("Exercise 2 · causal_mask", fn, cases, reference=_causal_mask,
                     hint="row i is the query; it may see keys 0..i. torch.tril helps; "
                          "return dtype torch.bool.")


def _block_params(d_model: int, d_ff: int) -> int:
    attention = 4 * (d_model * d_model + d_model)  # q, k, v, out projections with bias
    mlp = d_model * d_ff + d_ff + d_ff * d_model + d_model
    layer_norms = 2 * 2 * d_model  # two LayerNorms with weight and bias
    return attention + mlp + layer_norms


def check_block_params(fn: Callable[[int, int], int]) -> CheckResult:
    """Exercise 3: parameters of one Transformer block (attention + MLP + 2 LayerNorms)."""
    cases = [Case(args=(d, f)) for d, f in ((4, 16), (64, 256), (768, 3072), (1024, 4096), (10, 7))]
    return run_check("Exercise 3 · block_params", fn, cases, reference=_block_params,
                     hint="attention: 4 projections d->d with bias; MLP: d->d_ff->d with biases; "
                          "each LayerNorm has a weight and a bias of size d.")


def check_data_experiment(fn: Callable[[], dict[str, float]]) -> CheckResult:
    """Exercise 4 (experiment): test MSE of the widest student on all vs a quarter of the data.

    ``fn()`` returns {"all data": mse, "quarter of the data": mse}. The effect to see: with a
    quarter of the examples the same model generalises worse (the data term of the law).
    """
    def check(out: object) -> tuple[bool, str]:
        want = ('a dict {"all data": test MSE, "quarter of the data": test MSE} of positive '
                'numbers, the second at least 10 % larger')
        keys = ("all data", "quarter of the data")
        if not isinstance(out, dict) or not set(keys) <= set(out):
            return False, want
        try:
            full, quarter = (float(out[k]) for k in keys)
        except (TypeError, ValueError):
            return False, want
        # the smoke profile's few-step students have learned nothing: format only
        effect = quarter > 1.1 * full or current_profile().name == "smoke"
        return full > 0 and quarter > 0 and effect, want + f" (got {out})"

    return run_check("Exercise 4 · data experiment", fn,
                     [Case(check=check, label="your two measurements")],
                     hint="train student(max(S.widths)) exactly as the sweep did, but on "
                          "x_train[:len(x_train) // 4]; score both on the same x_test.")
