"""The one checker-verdict helper of the test suite (every ``test_chNN_exercises.py`` uses it).

Each chapter's exercise tests declare, per checker, the solution notebook's answer (imported
with the ``nb`` fixture, never typed again) and a dict of plausible *wrong* answers; the
helpers below assert the three verdicts of COURSE_SPEC §7:

* the solution passes (✅);
* every wrong answer fails (❌) with a reason -- expected/got, a crash, or a changed input --
  and the hint;
* the stub that raises ``NotImplementedError`` is "not attempted" (⏳), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED, CheckResult

Answer = Callable[..., Any] | tuple[Callable[..., Any], ...]


def stub(*args: Any, **kwargs: Any) -> Any:
    """The exercise stub as the student notebook ships it."""
    raise NotImplementedError


def _as_tuple(answer: Answer) -> tuple[Callable[..., Any], ...]:
    return answer if isinstance(answer, tuple) else (answer,)


def assert_passes(checker: Callable[..., CheckResult], answer: Answer) -> CheckResult:
    """The answer gets ✅."""
    result = checker(*_as_tuple(answer))
    assert result.status == PASSED, f"a correct answer was rejected:\n{result}"
    return result


def assert_rejected(checker: Callable[..., CheckResult], answer: Answer,
                    marker: str | None = None) -> CheckResult:
    """The answer gets ❌ with a reason and the hint (and ``marker`` in the message)."""
    result = checker(*_as_tuple(answer))
    assert result.status == FAILED, f"a wrong answer was not rejected:\n{result}"
    message = result.message
    assert ("expected:" in message and "got:" in message) or "raised" in message \
        or "changed its input" in message or "expected" in message, message
    assert "Hint:" in message, message
    if marker is not None:
        assert marker in message, message
    return result


def assert_not_attempted(checker: Callable[..., CheckResult], n_functions: int = 1) -> None:
    """Stubs get ⏳ (not an exception)."""
    result = checker(*([stub] * n_functions))
    assert result.status == NOT_ATTEMPTED, str(result)
    assert "not attempted yet" in result.message


def solution(nb: Any, names: str | Sequence[str]) -> Answer:
    """The solution notebook's answer: one function, or a tuple for multi-function exercises."""
    if isinstance(names, str):
        return getattr(nb, names)
    return tuple(getattr(nb, name) for name in names)


def wrong_params(wrong: Mapping[str, Mapping[str, Answer]]) -> list[Any]:
    """``pytest.param(checker_name, answer, id="checker-mistake")`` for every wrong answer."""
    return [pytest.param(checker, answer, id=f"{checker}-{mistake}")
            for checker, answers in wrong.items() for mistake, answer in answers.items()]
