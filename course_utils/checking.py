"""The exercise-checker framework.

A checker runs a learner's function on hidden cases and compares it with a reference
(or with a property). It prints one verdict line:

* ``✅`` all hidden cases pass;
* ``❌`` the first failing case: the input, expected vs got, *what* differs (type, shape,
  dtype, the first differing element of a tensor and the largest difference, which item
  of a tuple) and a hint;
* ``⏳ not attempted yet`` when the stub still raises ``NotImplementedError``.

Nothing a learner's answer does makes a checker raise -- a crash, a wrong type, a
comparison that cannot be made, a property check that trips over the answer all end in
❌ -- so *Run All* never stops at an exercise.

Options for checker authors: ``inputs_unchanged=True`` rejects an answer that edits its
inputs in place (where the exercise says not to); ``comparator`` may return a bool or
``(ok, reason)``; ``run_check_parts`` checks a multi-function exercise part by part, so a
finished first function gets its verdict while the second is still a stub.

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
_NOT_ATTEMPTED_TEXT = ("not attempted yet -- replace `raise NotImplementedError` with your "
                       "code and run the cell again.")

__all__ = ["PASSED", "FAILED", "NOT_ATTEMPTED", "ExerciseNotSolved", "Case", "CheckResult",
           "Part", "compare", "explain_mismatch", "run_check", "run_check_parts"]


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


@dataclass
class Part:
    """One function of a multi-function exercise (see ``run_check_parts``).

    The fields are ``run_check``'s arguments; ``label`` names the function in the verdict.
    """

    label: str
    fn: Callable[..., Any]
    cases: Sequence[Case]
    reference: Callable[..., Any] | None = None
    hint: str = ""
    atol: float = 1e-5
    rtol: float = 1e-4
    comparator: Callable[[Any, Any], Any] | None = None
    inputs_unchanged: bool = False


# --- describing values ----------------------------------------------------------------------
def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a learner's object whose __repr__ fails
        return f"<{type(value).__name__} object>"


def _dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            return f"tensor({value.tolist()})"
        return f"tensor(shape={tuple(value.shape)}, dtype={_dtype_name(value.dtype)})"
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = _safe_repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any, limit: int = 200) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 64:
            return f"tensor({value.tolist()}) with shape {tuple(value.shape)}"
        return _short(value)
    if isinstance(value, (tuple, list)) and any(isinstance(v, (torch.Tensor, np.ndarray))
                                                for v in value):
        inner = ", ".join(_short(v, limit=80) if not isinstance(v, torch.Tensor) or
                          v.numel() > 8 else f"tensor({v.tolist()})" for v in value)
        text = f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        return text if len(text) <= 2 * limit else text[: 2 * limit - 3] + "..."
    return _short(value, limit=limit)


def _kind(value: Any) -> str:
    """What a value is, for 'expected X, got Y' messages."""
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {_dtype_name(value.dtype)}"
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _fmt_number(x: float) -> str:
    return f"{x:.6g}"


# --- comparing values -----------------------------------------------------------------------
_REAL = (int, float, np.integer, np.floating)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, _REAL) and not isinstance(value, (bool, np.bool_))


def _tensor_mismatch(got: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float
                     ) -> str | None:
    if got.shape != expected.shape:
        return f"expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}"
    if expected.dtype == torch.bool:
        if got.dtype != torch.bool:
            return (f"expected dtype bool, got {_dtype_name(got.dtype)} (a mask must be a bool "
                    "tensor: build it with comparisons / .bool(), not 0/1 numbers)")
        bad = got != expected
    elif not expected.is_floating_point() and not expected.is_complex():
        if got.is_floating_point() or got.is_complex() or got.dtype == torch.bool:
            return (f"expected an integer dtype ({_dtype_name(expected.dtype)}), got "
                    f"{_dtype_name(got.dtype)} (indices and ids must be integers)")
        bad = got.long() != expected.long()
    else:
        if got.is_complex() or got.dtype == torch.bool:
            return f"expected dtype {_dtype_name(expected.dtype)}, got {_dtype_name(got.dtype)}"
        g, e = got.detach().cpu().double(), expected.detach().cpu().double()
        bad = ~torch.isclose(g, e, atol=atol, rtol=rtol, equal_nan=True)
        if bool(bad.any()):
            diff = (g - e).abs()[bad]
            worst = float(torch.where(diff.isnan(), float("inf"), diff).max())
            index = tuple(int(i) for i in bad.nonzero()[0])
            return (f"{int(bad.sum())} of {bad.numel()} values differ (max |got - expected| = "
                    f"{worst:.3g}); the first at index {index}: got {_fmt_number(float(g[index]))}"
                    f", expected {_fmt_number(float(e[index]))}")
        return None
    bad = bad.cpu()
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0])
        return (f"{int(bad.sum())} of {bad.numel()} values differ; the first at index {index}: "
                f"got {got[index].item()!r}, expected {expected[index].item()!r}")
    return None


def _mismatch(got: Any, expected: Any, atol: float, rtol: float, top: bool = True
              ) -> str | None:
    """None if equal, else the reason ('' when 'expected/got' alone says it all)."""
    if got is None and expected is not None:
        return "your function returned None -- is a `return` missing?" if top else \
            f"expected {_kind(expected)}, got None"
    if isinstance(expected, np.ndarray):
        if not isinstance(got, (np.ndarray, torch.Tensor)):
            return f"expected ndarray, got {_kind(got)}"
        got = got if isinstance(got, torch.Tensor) else torch.from_numpy(np.asarray(got))
        expected = torch.from_numpy(expected)
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"expected a tensor, got {_kind(got)}"
        return _tensor_mismatch(got, expected, atol, rtol)
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"expected a bool (True/False), got {_kind(got)}"
        return None if bool(got) == bool(expected) else ""
    if _is_int(expected):
        if isinstance(got, torch.Tensor):
            return f"expected an int, got {_kind(got)} (use .item())"
        if not _is_int(got):
            return f"expected an int, got {_kind(got)} {_short(got)}"
        return None if int(got) == int(expected) else ""
    if isinstance(expected, (float, np.floating)):
        if isinstance(got, torch.Tensor):
            return (f"expected a Python float, got {_kind(got)}"
                    + (" (use .item())" if got.numel() == 1 else ""))
        if not _is_real(got):
            return f"expected a float, got {_kind(got)} {_short(got)}"
        same = bool(np.isclose(float(got), float(expected), atol=atol, rtol=rtol, equal_nan=True))
        return None if same else ""
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"expected {type(expected).__name__}, got {_kind(got)}"
        what = type(expected).__name__
        if len(got) != len(expected):
            return f"expected a {what} of {len(expected)} items, got {len(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            reason = _mismatch(g, e, atol, rtol, top=False)
            if reason is not None:
                head = f"item [{i}] of the {what} differs"
                if reason == "":
                    reason = f"expected {_short(e)}, got {_short(g)}"
                return f"{head}: {reason}"
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"expected dict, got {_kind(got)}"
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            return (f"keys differ: missing {_short(missing, 120)}, unexpected "
                    f"{_short(extra, 120)}")
        for key, e in expected.items():
            reason = _mismatch(got[key], e, atol, rtol, top=False)
            if reason is not None:
                if reason == "":
                    reason = f"expected {_short(e)}, got {_short(got[key])}"
                return f"value of key {_short(key)} differs: {reason}"
        return None
    if isinstance(expected, str) and not isinstance(got, str):
        return f"expected str, got {_kind(got)}"
    if expected is None:
        return None if got is None else f"expected None, got {_kind(got)}"
    return None if bool(got == expected) else ""


def explain_mismatch(got: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-4
                     ) -> str | None:
    """``None`` if ``got`` matches ``expected`` (see ``compare``), else why not.

    The reason names a wrong type ("expected list, got ndarray"), shape or dtype, the first
    differing element of a tensor with the largest difference, or the item of a tuple that
    differs. It is ``""`` when the two values alone say it all (two different numbers).
    Never raises.
    """
    try:
        return _mismatch(got, expected, atol, rtol)
    except Exception as err:  # an exotic answer: report, do not crash
        return f"could not compare your answer ({_kind(got)}) with the expected " \
               f"{_kind(expected)}: {type(err).__name__}: {err}"


def compare(got: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Default comparison, never raises.

    Tensors/arrays: same shape; bool and integer results need a bool / integer dtype and
    exact equality, float results ``allclose``. Floats approx (a tensor is not a float),
    ints exactly (a float is not an int); lists/tuples item by item (either kind), dicts
    key by key, others ``==``.
    """
    return explain_mismatch(got, expected, atol, rtol) is None


def _strict() -> bool:
    return os.environ.get("COURSE_EXPECT_SOLVED", "").strip() in {"1", "true", "yes"}


# --- running a checker ----------------------------------------------------------------------
def _changed_input(original: Any, given: Any) -> str | None:
    """Where ``given`` (what the learner's function received) differs from ``original``."""
    def walk(o: Any, g: Any, where: str) -> str | None:
        if isinstance(o, torch.Tensor):
            if not isinstance(g, torch.Tensor) or g.shape != o.shape or g.dtype != o.dtype \
                    or not torch.equal(torch.nan_to_num(g), torch.nan_to_num(o)):
                return where
            return None
        if isinstance(o, (list, tuple)):
            if not isinstance(g, (list, tuple)) or len(g) != len(o):
                return where
            for i, (oo, gg) in enumerate(zip(o, g)):
                found = walk(oo, gg, f"{where}[{i}]")
                if found:
                    return found
            return None
        if isinstance(o, dict):
            if not isinstance(g, dict) or set(g) != set(o):
                return where
            for key in o:
                found = walk(o[key], g[key], f"{where}[{key!r}]")
                if found:
                    return found
            return None
        if isinstance(o, (int, float, str, bytes)) and o is not g:
            return where if type(o) is not type(g) or o != g else None
        return None

    try:
        return walk(original, given, "")
    except Exception:
        return None


def _evaluate(name: str, fn: Any, cases: Sequence[Case], *, reference: Callable | None,
              hint: str, atol: float, rtol: float, comparator: Callable | None,
              inputs_unchanged: bool) -> CheckResult:
    """Run the cases and build the verdict (nothing printed, nothing raised for learners)."""
    if not cases:
        raise ValueError(f"{name}: a checker needs at least one case")
    hint_text = f"\n   Hint: {hint}" if hint else ""
    if not callable(fn):
        return CheckResult(name, FAILED, 0, len(cases),
                           f"expected your function (a callable), got {_kind(fn)} "
                           f"{_short(fn)} -- pass the function itself, without calling it: "
                           f"check(my_function), not check(my_function(...)).")
    for index, case in enumerate(cases, start=1):
        where = f"case {index} of {len(cases)} (input: {case.describe()})"
        args, kwargs = _clone(case.args), _clone(case.kwargs)
        try:
            got = fn(*args, **kwargs)
        except NotImplementedError:
            return CheckResult(name, NOT_ATTEMPTED, 0, len(cases), _NOT_ATTEMPTED_TEXT)
        except Exception as err:  # the learner's code crashed: show it, do not raise
            return CheckResult(name, FAILED, index - 1, len(cases),
                               f"{where} raised {type(err).__name__}: {err}{hint_text}")
        if inputs_unchanged:
            changed = _changed_input((case.args, case.kwargs), (args, kwargs))
            if changed:
                return CheckResult(
                    name, FAILED, index - 1, len(cases),
                    f"{where}\n   your function changed its input in place (argument "
                    f"{_argument_name(changed, len(case.args))}); this exercise must leave its "
                    f"inputs unchanged: work on a copy (x.clone()) or use out-of-place "
                    f"operations (masked_fill, not masked_fill_).{hint_text}")
        reason: str | None
        try:
            if case.check is not None:
                ok, expected_repr = case.check(got)
                reason = None if ok else ""
            else:
                expected = reference(*_clone(case.args), **_clone(case.kwargs)) if reference \
                    else case.expected
                expected_repr = _show(expected)
                if comparator is not None:
                    verdict = comparator(got, expected)
                    if isinstance(verdict, tuple):
                        ok, reason = bool(verdict[0]), (None if verdict[0] else str(verdict[1]))
                    else:
                        ok = bool(verdict)
                        reason = None if ok else (explain_mismatch(got, expected, atol, rtol)
                                                  or "")
                else:
                    reason = explain_mismatch(got, expected, atol, rtol)
                    ok = reason is None
        except Exception as err:  # a property check tripped over an unexpected answer
            return CheckResult(name, FAILED, index - 1, len(cases),
                               f"{where}\n   could not check your answer ({_kind(got)}): "
                               f"{type(err).__name__}: {err}{hint_text}")
        if not ok:
            detail = f"\n   what differs: {reason}" if reason else ""
            return CheckResult(name, FAILED, index - 1, len(cases),
                               f"{where}\n   expected: {expected_repr}\n   got:      "
                               f"{_show(got)}{detail}{hint_text}")
    return CheckResult(name, PASSED, len(cases), len(cases),
                       f"all {len(cases)} hidden cases pass.")


def _argument_name(path: str, n_args: int) -> str:
    """'[0][1]...' (args, kwargs) path -> 'number 2' or 'ids' for the message."""
    try:
        parts = path.strip("[]").split("][")
        if parts[0] == "0":
            return f"number {int(parts[1]) + 1}"
        return parts[1].strip("'\"")
    except Exception:
        return path


def _finish(result: CheckResult) -> CheckResult:
    print(result)
    if _strict() and not result.ok:
        raise ExerciseNotSolved(str(result))
    return result


def run_check(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[Case],
    *,
    reference: Callable[..., Any] | None = None,
    hint: str = "",
    atol: float = 1e-5,
    rtol: float = 1e-4,
    comparator: Callable[[Any, Any], Any] | None = None,
    inputs_unchanged: bool = False,
) -> CheckResult:
    """Run ``fn`` on every case, print the verdict and return it (see module docstring).

    ``comparator(got, expected)`` replaces ``compare``; it returns a bool or
    ``(ok, reason)``. ``inputs_unchanged=True``: an answer that edits an input tensor (or
    list/dict) in place fails, for exercises that say not to.
    """
    return _finish(_evaluate(name, fn, cases, reference=reference, hint=hint, atol=atol,
                             rtol=rtol, comparator=comparator,
                             inputs_unchanged=inputs_unchanged))


def run_check_parts(name: str, parts: Sequence[Part]) -> CheckResult:
    """Check a multi-function exercise part by part and print one combined verdict.

    Every part gets its own verdict, so a finished first function is checked while the
    second is still a stub. Overall: ✅ if all pass, ❌ if an attempted part fails, else ⏳.
    """
    if not parts:
        raise ValueError(f"{name}: run_check_parts needs at least one Part")
    results = [_evaluate(f"{name} · {p.label}", p.fn, p.cases, reference=p.reference,
                         hint=p.hint, atol=p.atol, rtol=p.rtol, comparator=p.comparator,
                         inputs_unchanged=p.inputs_unchanged) for p in parts]
    passed, total = sum(r.passed for r in results), sum(r.total for r in results)
    statuses = {r.status for r in results}
    if statuses == {PASSED}:
        return _finish(CheckResult(name, PASSED, passed, total,
                                   f"all {total} hidden cases pass ("
                                   + ", ".join(p.label for p in parts) + ")."))
    status = FAILED if FAILED in statuses else NOT_ATTEMPTED
    lines = [f"{_ICONS[r.status]} {p.label}: {r.message}" for p, r in zip(parts, results)]
    if statuses == {NOT_ATTEMPTED}:
        message = _NOT_ATTEMPTED_TEXT
    else:
        done = sum(r.status == PASSED for r in results)
        message = f"{done} of {len(parts)} functions pass\n  " + "\n  ".join(lines)
    return _finish(CheckResult(name, status, passed, total, message))


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
