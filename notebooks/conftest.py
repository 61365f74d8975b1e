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


# Keep what nbval executed: after the last cell of a solution notebook, write the notebook
# with the outputs nbval saw into build/executed/nbval-<profile>/, so the slide decks and
# their browser test (tests/test_slides_browser.py, run after this in `make test`) show
# real outputs without executing every chapter a second time. Costs one JSON write per
# notebook. (nbval keeps no widget state, so widgets show as their captured figures.)
def _executed_dir():
    from course_utils.paths import repo_root
    from course_utils.profile import current_profile
    return repo_root() / "build" / "executed" / f"nbval-{current_profile().name}"


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    outputs = getattr(item, "test_outputs", None)
    cell = getattr(item, "cell", None)
    if cell is None or "solutions" not in item.path.parts:
        return
    if outputs is not None:
        cell.outputs = [o for o in outputs if o.get("output_type") != "error"]
        for out in cell.outputs:
            if out.get("output_type") == "execute_result":
                out.setdefault("metadata", {})
                out.setdefault("execution_count", None)
    if nextitem is not None and getattr(nextitem, "parent", None) is item.parent:
        return
    import nbformat
    try:
        target = _executed_dir() / item.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(item.parent.nb, target)
    except Exception as err:  # noqa: BLE001 - a missing copy must never fail the test run
        print(f"could not save the executed copy of {item.path.name}: {err}")
