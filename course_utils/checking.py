"""The exercise-checker framework.

A checker runs a learner's function on hidden cases and compares it with a reference
(or with a property). It prints one verdict line:

* ``✅`` all hidden cases pass;
* ``❌`` the first failing case: the input, expected vs got, and a hint;
* ``⏳ not attempted yet`` when the stub still raises ``NotImplementedError`` -- never an
  exception, so *Run All* never stops at an exercise.

With ``COURSE_EXPECT_SOLVED=1`` (set by CI for ``notebooks/solutions/``) anything but ✅
raises ``ExerciseNotSolved``, so a broken model solution fails the build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
_ICONS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳"}


class ExerciseNotSolved(AssertionError):
    """Raised in strict mode (``COURSE_EXPECT_SOLVED=1``) when a checker does not pass."""


@dataclass
class Case:
    """One hidden test case: arguments, and either an expected value or a property."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None  # used when no reference function is given
    label: str = ""  # how the input is described in the verdict (default: repr of args)
    check: Callable[[Any], tuple[bool, str]] | None = None  # property: out -> (ok, expected)

    def describe(self) -> str:
        """Human-readable description of the input."""
        if self.label:
            return self.label
        parts = [_short(a) for a in self.args]
        parts += [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


@dataclass
class CheckResult:
    """Verdict of one checker run."""

    name: str
    status: str
    passed: int
    total: int
    message: str

    @property
    def ok(self) -> bool:
        """True if every hidden case passed."""
        return self.status == PASSED

    def __str__(self) -> str:
        return f"{_ICONS[self.status]} {self.name}: {self.message}"

    def _ipython_display_(self) -> None:
        """Already printed by the checker; show nothing twice."""


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            return f"tensor({value.tolist()})"
        return f"tensor(shape={tuple(value.shape)}, dtype={str(value.dtype).replace('torch.', '')})"
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor) and value.numel() <= 64:
        return f"tensor({value.tolist()}) with shape {tuple(value.shape)}"
    return _short(value, limit=200)


def compare(got: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Default comparison: tensors/arrays by shape + allclose, floats approx, others ==."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return False
        if expected.dtype == torch.bool or not expected.is_floating_point():
            return bool(torch.equal(got.to(expected.dtype), expected))
        return bool(torch.allclose(got.double(), expected.double(), atol=atol, rtol=rtol))
    if isinstance(expected, np.ndarray):
        got = np.asarray(got)
        return got.shape == expected.shape and bool(np.allclose(got, expected, atol=atol, rtol=rtol))
    if isinstance(expected, float) and isinstance(got, (int, float, np.floating)):
        return bool(np.isclose(float(got), expected, atol=atol, rtol=rtol))
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(expected) and all(compare(g, e, atol, rtol)
                                                 for g, e in zip(got, expected))
    return bool(got == expected)


def _strict() -> bool:
    return os.environ.get("COURSE_EXPECT_SOLVED", "").strip() in {"1", "true", "yes"}


def run_check(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[Case],
    *,
    reference: Callable[..., Any] | None = None,
    hint: str = "",
    atol: float = 1e-5,
    rtol: float = 1e-4,
    comparator: Callable[[Any, Any], bool] | None = None,
) -> CheckResult:
    """Run ``fn`` on every case, print the verdict and return it (see module docstring)."""
    if not callable(fn):
        raise TypeError(f"{name}: expected your function (a callable), got {_short(fn)}")
    if not cases:
        raise ValueError(f"{name}: a checker needs at least one case")
    equal = comparator or (lambda got, exp: compare(got, exp, atol=atol, rtol=rtol))
    result = None
    for index, case in enumerate(cases, start=1):
        where = f"case {index} of {len(cases)} (input: {case.describe()})"
        try:
            got = fn(*_clone(case.args), **_clone(case.kwargs))
        except NotImplementedError:
            result = CheckResult(name, NOT_ATTEMPTED, 0, len(cases),
                                 "not attempted yet -- replace `raise NotImplementedError` "
                                 "with your code and run the cell again.")
            break
        except Exception as err:  # the learner's code crashed: show it, do not raise
            result = CheckResult(name, FAILED, index - 1, len(cases),
                                 f"{where} raised {type(err).__name__}: {err}"
                                 + (f"\n   Hint: {hint}" if hint else ""))
            break
        if case.check is not None:
            ok, expected_text = case.check(got)
            expected_repr = expected_text
        else:
            expected = reference(*_clone(case.args), **_clone(case.kwargs)) if reference \
                else case.expected
            ok = equal(got, expected)
            expected_repr = _show(expected)
        if not ok:
            result = CheckResult(name, FAILED, index - 1, len(cases),
                                 f"{where}\n   expected: {expected_repr}\n   got:      "
                                 f"{_show(got)}" + (f"\n   Hint: {hint}" if hint else ""))
            break
    if result is None:
        result = CheckResult(name, PASSED, len(cases), len(cases),
                             f"all {len(cases)} hidden cases pass.")
    print(result)
    if _strict() and not result.ok:
        raise ExerciseNotSolved(str(result))
    return result


def _clone(value: Any) -> Any:
    """Copy tensors so a learner's in-place edit cannot change the reference's input."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_clone(v) for v in value)
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value
