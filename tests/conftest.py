"""Shared test set-up: offline, quick profile, results written to a temporary folder.

The HF variables must be set before anything imports transformers/datasets.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # course_utils then sets the other offline flags
os.environ.setdefault("COURSE_PROFILE", "quick")
import course_utils  # noqa: E402,F401  (applies assets.OFFLINE_ENV and QUIET_ENV before HF loads)

import pytest  # noqa: E402


@pytest.fixture
def results_tmp(tmp_path, monkeypatch):
    """Send record(...) to a temporary results folder."""
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


@pytest.fixture
def lenient_checkers(monkeypatch):
    """Checkers report instead of raising (CI sets COURSE_EXPECT_SOLVED=1 for notebooks)."""
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread is faster and immune to a busy machine.

    On a loaded 2-core machine two threads made tiny-model steps 10-15x slower (measured).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def nb(request):
    """Teach-then-import: the definitions the test module's chapter notebook teaches.

    The test module sets ``NOTEBOOK`` (a solution notebook's path, see
    ``course_utils._maintain.testing.solution_notebook``) and ``NAMES`` (the top-level defs/classes to
    import with ``import_definitions_from_notebook``).
    """
    from course_utils._maintain.testing import import_definitions_from_notebook

    module = request.module
    missing = [name for name in ("NOTEBOOK", "NAMES") if not hasattr(module, name)]
    if missing:
        raise AttributeError(f"{module.__name__} uses the nb fixture but does not set {missing}")
    return import_definitions_from_notebook(module.NOTEBOOK, module.NAMES)
