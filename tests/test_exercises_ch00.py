"""Chapter 00 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import pytest
import torch

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.exercises import ch00

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("00_setup_and_landscape.ipynb")  # the nb fixture imports NAMES
NAMES = ["linear_params", "causal_mask", "block_params"]
SOLUTIONS = {"check_linear_params": "linear_params", "check_causal_mask": "causal_mask",
             "check_block_params": "block_params"}

WRONG = {
    "check_linear_params": {
        "bias-always-counted": lambda i, o, bias=True: i * o + o,
        "bias-never-counted": lambda i, o, bias=True: i * o,
        "float-count": lambda i, o, bias=True: float(i * o + (o if bias else 0)),
    },
    "check_causal_mask": {
        "upper-triangle": lambda t: torch.ones(t, t, dtype=torch.bool).triu(),
        "float-0-1-mask": lambda t: torch.ones(t, t).tril(),
        "diagonal-masked": lambda t: torch.ones(t, t, dtype=torch.bool).tril(-1),
    },
    "check_block_params": {
        "no-biases": lambda d, f: 4 * d * d + 2 * d * f + 4 * d,
        "no-layernorms": lambda d, f: 4 * (d * d + d) + 2 * d * f + f + d,
        "layernorm-without-bias": lambda d, f: 4 * (d * d + d) + 2 * d * f + f + d + 2 * d,
    },
}


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch00, checker)
    assert_passes(check, solution(nb, SOLUTIONS[checker]))
    assert_not_attempted(check)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch00, checker), answer)


def test_float_mask_is_rejected_for_its_dtype():
    assert_rejected(ch00.check_causal_mask, WRONG["check_causal_mask"]["float-0-1-mask"],
                    marker="expected dtype bool, got float32")


@pytest.mark.parametrize("measured, ok", [
    ({"all data": 0.05, "quarter of the data": 0.12}, True),
    ({"all data": 0.05, "quarter of the data": 0.051}, False),  # no real effect
    ({"all data": 0.12, "quarter of the data": 0.05}, False),  # swapped
    ({"all data": 0.05}, False),
    ({"all data": "0.05", "quarter of the data": None}, False),
])
def test_data_experiment_checks_the_direction(measured, ok):
    from course_utils.checking import PASSED
    result = ch00.check_data_experiment(lambda: measured)
    assert (result.status == PASSED) == ok, result.message
    assert_not_attempted(ch00.check_data_experiment)
