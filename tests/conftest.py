"""Shared test set-up: offline, quick profile, results written to a temporary folder.

The HF variables must be set before anything imports transformers/datasets.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("COURSE_PROFILE", "quick")

import pytest  # noqa: E402


@pytest.fixture
def results_tmp(tmp_path, monkeypatch):
    """Send record(...) to a temporary results folder."""
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


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
