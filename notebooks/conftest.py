"""pytest/nbval settings for executing the chapter notebooks.

Solution notebooks must pass every exercise checker: before nbval starts a notebook's
kernel, set ``COURSE_EXPECT_SOLVED=1`` for files under ``notebooks/solutions/`` (the
kernel inherits the environment), so a checker that does not pass raises there. Student
notebooks run with unsolved stubs, whose checkers print "not attempted yet".
"""

import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    solved = "solutions" in item.path.parts
    os.environ["COURSE_EXPECT_SOLVED"] = "1" if solved else "0"
