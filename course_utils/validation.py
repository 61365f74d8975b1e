"""Input checks shared by the public functions of ``course_utils``.

Every helper raises an error that names the argument, what was expected and what was
given, so a learner can fix the call without reading the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def _describe(value: Any) -> str:
    """Short description of a value for error messages."""
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_type(name: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """Raise TypeError unless ``value`` is an instance of ``expected``."""
    if isinstance(value, bool) and expected in (int, float, (int, float)):
        raise TypeError(f"{name} must be {_type_names(expected)}, got bool {value!r}")
    if not isinstance(value, expected):
        raise TypeError(
            f"{name} must be {_type_names(expected)}, got {type(value).__name__} ({_describe(value)})"
        )


def _type_names(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def check_int(name: str, value: Any, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    """Raise unless ``value`` is an int within [min_value, max_value]; return it."""
    check_type(name, value, int)
    _check_bounds(name, value, min_value, max_value)
    return value


def check_float(name: str, value: Any, *, min_value: float | None = None,
                max_value: float | None = None, min_inclusive: bool = True) -> float:
    """Raise unless ``value`` is a real number within the bounds; return it as float."""
    check_type(name, value, (int, float))
    value = float(value)
    if value != value:  # NaN is never within bounds (and compares False with every bound)
        raise ValueError(f"{name} must be a number, got nan")
    if min_value is not None and not min_inclusive and value <= min_value:
        raise ValueError(f"{name} must be > {min_value}, got {value}")
    _check_bounds(name, value, min_value if min_inclusive else None, max_value)
    return value


def _check_bounds(name: str, value: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ValueError(f"{name} must be <= {hi}, got {value}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Raise ValueError unless ``value`` is one of ``choices``; return it."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_ndim(name: str, tensor: Any, ndim: int | Sequence[int]) -> None:
    """Raise ValueError unless ``tensor`` has the given number of dimensions."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    actual = getattr(tensor, "ndim", None)
    if actual is None:
        raise TypeError(f"{name} must be a tensor/array, got {_describe(tensor)}")
    if actual not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise ValueError(
            f"{name} must be {want}-dimensional, got {actual} dimensions (shape {tuple(tensor.shape)})"
        )
