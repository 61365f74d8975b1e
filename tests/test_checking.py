"""The exercise-checker framework (course_utils.checking)."""

import pytest
import torch

import numpy as np

from course_utils.checking import (FAILED, NOT_ATTEMPTED, PASSED, Case, ExerciseNotSolved, Part,
                                   compare, explain_mismatch, run_check, run_check_parts)


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


def test_bad_checker_arguments(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)
    result = run_check("x", 42, [Case()])  # a learner passed a value, not the function
    assert result.status == FAILED and "expected your function (a callable), got int" in \
        result.message
    with pytest.raises(ValueError, match="at least one case"):  # a checker author's error
        run_check("x", square, [])


# --- issue 13: nothing a learner's answer does crashes a checker -------------------------------
def _verdict(fn, expected, **kwargs):
    return run_check("x", fn, [Case(args=(1,), expected=expected)], **kwargs)


@pytest.mark.parametrize("answer, expected, reason", [
    (np.array([1, 2]), [1, 2], "expected list, got ndarray"),
    (torch.tensor([0.5, 0.7]), 0.5, "expected a Python float, got a tensor of shape (2,)"),
    (torch.tensor(0.5), 0.5, "use .item()"),
    (([1, 2], None), ([1, 2], [0, 0]), "item [1] of the tuple differs: expected list, got None"),
    (None, torch.ones(2), "returned None"),
    ({"a": 1}, {"a": 1, "b": 2}, "keys differ"),
    (torch.ones(3), torch.ones(2), "expected shape (2,), got shape (3,)"),
    ("text", torch.ones(2), "expected a tensor, got str"),
    (3.0, 3, "expected an int, got float"),
])
def test_wrongly_typed_answers_get_a_verdict_not_an_exception(monkeypatch, capsys, answer,
                                                              expected, reason):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)
    result = _verdict(lambda _x: answer, expected)
    assert result.status == FAILED and reason in result.message, result.message
    assert "❌" in capsys.readouterr().out


def test_comparisons_and_properties_that_raise_become_verdicts(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)

    class Weird:
        def __eq__(self, other):
            raise RuntimeError("no comparison for you")

        def __repr__(self):
            raise RuntimeError("no repr either")

    assert run_check("x", lambda _x: Weird(), [Case(args=(1,), expected=object())]).status \
        == FAILED

    def fragile(out):
        return out.sum() > 0, "a positive sum"  # an int has no .sum()

    result = run_check("x", lambda _x: 3, [Case(args=(1,), check=fragile)])
    assert result.status == FAILED and "could not check your answer" in result.message

    def bad_comparator(got, exp):
        raise ValueError("boom")

    assert run_check("x", square, [Case(args=(2,))], reference=square,
                     comparator=bad_comparator).status == FAILED


def test_bool_and_integer_results_need_their_dtype():
    mask = torch.tensor([True, False])
    assert "expected dtype bool, got float32" in explain_mismatch(mask.float(), mask)
    assert compare(mask.clone(), mask)
    idx = torch.tensor([0, 2])
    assert "expected an integer dtype (int64), got float32" in \
        explain_mismatch(torch.tensor([0.8, 2.6]), idx)
    assert compare(idx.int(), idx)  # any integer dtype holds indices
    assert not compare(1.0, 1) and not compare(True, 1) and compare(1, 1.0)


def test_messages_locate_the_difference():
    expected = torch.zeros(10, 10)
    got = expected.clone()
    got[3, 7] = 0.25
    got[9, 9] = -0.5
    reason = explain_mismatch(got, expected)
    assert "2 of 100 values differ (max |got - expected| = 0.5)" in reason
    assert "first at index (3, 7): got 0.25, expected 0" in reason
    reason = explain_mismatch((torch.ones(2), torch.tensor([1, 2])),
                              (torch.ones(2), torch.tensor([1, 3])))
    assert reason.startswith("item [1] of the tuple differs: 1 of 2 values differ")
    assert "got 2, expected 3" in reason
    assert compare(torch.tensor([float("-inf"), 1.0]), torch.tensor([float("-inf"), 1.0]))


def test_inputs_unchanged_option(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)

    def in_place(t):
        return t.mul_(2)

    case = [Case(args=(torch.ones(3),))]
    assert run_check("x", in_place, case, reference=lambda t: t * 2).ok  # not asked: fine
    result = run_check("x", in_place, case, reference=lambda t: t * 2, inputs_unchanged=True)
    assert result.status == FAILED and "changed its input in place (argument number 1)" in \
        result.message
    assert run_check("x", lambda t: t * 2, case, reference=lambda t: t * 2,
                     inputs_unchanged=True).ok

    def edits_dict(d):
        d["new"] = 1
        return dict(d)

    result = run_check("x", edits_dict, [Case(args=({"a": 1},))],
                       reference=lambda d: {**d, "new": 1}, inputs_unchanged=True)
    assert result.status == FAILED

    def edits_a_count(d):
        d["a"] += 1
        return {"a": 1}

    result = run_check("x", edits_a_count, [Case(args=({"a": 1},))], reference=dict,
                       inputs_unchanged=True)
    assert result.status == FAILED and "argument number 1" in result.message


def test_parts_give_partial_credit(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)

    def stub(x):
        raise NotImplementedError

    cases = [Case(args=(2,)), Case(args=(3,))]

    def parts(first, second):
        return [Part("square", first, cases, reference=square, hint="multiply"),
                Part("double", second, cases, reference=lambda x: 2 * x)]

    done = run_check_parts("ex", parts(square, lambda x: 2 * x))
    assert done.ok and done.passed == done.total == 4
    half = run_check_parts("ex", parts(square, stub))
    assert half.status == NOT_ATTEMPTED and half.passed == 2
    assert "✅ square: all 2 hidden cases pass" in half.message
    assert "⏳ double: not attempted yet" in half.message
    wrong = run_check_parts("ex", parts(lambda x: x + x, stub))
    assert wrong.status == FAILED and "❌ square" in wrong.message and "Hint: multiply" in \
        wrong.message
    assert run_check_parts("ex", parts(stub, stub)).status == NOT_ATTEMPTED
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        run_check_parts("ex", parts(square, stub))
