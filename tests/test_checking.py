"""The exercise-checker framework (course_utils.checking)."""

import pytest
import torch

from course_utils.checking import (FAILED, NOT_ATTEMPTED, PASSED, Case, ExerciseNotSolved,
                                   compare, run_check)


def square(x):
    return x * x


def test_pass_fail_and_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)
    cases = [Case(args=(2,)), Case(args=(3,))]
    assert run_check("sq", square, cases, reference=square).status == PASSED
    assert "✅ sq: all 2 hidden cases pass." in capsys.readouterr().out

    wrong = run_check("sq", lambda x: x + x, cases, reference=square, hint="multiply")
    out = capsys.readouterr().out
    assert wrong.status == FAILED and wrong.passed == 1
    assert "❌ sq: case 2 of 2 (input: 3)" in out
    assert "expected: 9" in out and "got:      6" in out and "Hint: multiply" in out

    def stub(x):
        raise NotImplementedError

    result = run_check("sq", stub, cases, reference=square)
    assert result.status == NOT_ATTEMPTED
    assert "⏳ sq: not attempted yet" in capsys.readouterr().out


def test_crashing_solution_is_reported_not_raised(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)
    result = run_check("sq", lambda x: 1 / 0, [Case(args=(1,))], reference=square)
    assert result.status == FAILED
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_strict_mode_raises_for_anything_but_pass(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved, match="expected: 9"):
        run_check("sq", lambda x: x + x, [Case(args=(3,))], reference=square)

    def stub(x):
        raise NotImplementedError

    with pytest.raises(ExerciseNotSolved, match="not attempted"):
        run_check("sq", stub, [Case(args=(3,))], reference=square)
    assert run_check("sq", square, [Case(args=(3,))], reference=square).ok


def test_property_cases_and_expected_values(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)
    even = Case(args=(4,), check=lambda out: (out % 2 == 0, "an even number"))
    assert run_check("prop", square, [even]).ok
    assert not run_check("exp", square, [Case(args=(3,), expected=10)]).ok


def test_inputs_are_cloned_so_in_place_edits_cannot_cheat(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)

    def sneaky(t):
        t.zero_()
        return t

    case = Case(args=(torch.ones(3),))
    assert not run_check("clone", sneaky, [case], reference=lambda t: t * 1).ok


def test_compare_rules():
    assert compare(torch.ones(2), torch.ones(2) + 1e-7)
    assert not compare(torch.ones(2), torch.ones(3))
    assert not compare(torch.ones(2, dtype=torch.bool), torch.zeros(2, dtype=torch.bool))
    assert compare(0.1 + 0.2, 0.3)
    assert compare([1, torch.ones(1)], [1, torch.ones(1)])
    assert not compare("a", "b")


def test_bad_checker_arguments():
    with pytest.raises(TypeError, match="expected your function"):
        run_check("x", 42, [Case()])
    with pytest.raises(ValueError, match="at least one case"):
        run_check("x", square, [])
