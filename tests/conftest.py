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
