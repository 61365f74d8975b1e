"""record(...) and the README results table."""

import json
import multiprocessing as mp

import pytest

from course_utils import results


def test_record_and_merge(results_tmp):
    results.record("04", "test_acc", 0.97, note="digits")
    results.record("04", "params", 12345, unit="")
    data = results.load_results("04", profile="quick")
    assert data["test_acc"] == {"value": 0.97, "unit": "", "note": "digits"}
    assert data["params"]["value"] == 12345
    assert (results_tmp / "quick" / "04.json").exists()


def test_record_converts_tensor_scalars(results_tmp):
    import torch

    assert results.record("01", "loss", torch.tensor(0.5)) == 0.5


@pytest.mark.parametrize("chapter,name,value,err,msg", [
    ("4", "acc", 1.0, ValueError, "two-digit string such as '04', got '4'"),
    (4, "acc", 1.0, TypeError, "chapter must be str, got int"),
    ("04", "test acc", 1.0, ValueError, "identifier like 'test_acc', got 'test acc'"),
    ("04", "acc", float("nan"), ValueError, "value must be finite"),
    ("04", "acc", [1, 2], TypeError, "value must be int or float or bool or str"),
])
def test_record_rejects_bad_input(results_tmp, chapter, name, value, err, msg):
    with pytest.raises(err, match=msg.replace("(", r"\(").replace(")", r"\)")):
        results.record(chapter, name, value)


def _writer(args):
    base, worker = args
    import os

    os.environ["COURSE_RESULTS_DIR"] = base
    for i in range(15):
        results.record("02", f"w{worker}_{i}", i, profile="quick")


def test_concurrent_writers_do_not_lose_entries(tmp_path):
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_writer, [(str(tmp_path), 0), (str(tmp_path), 1)])
    data = json.loads((tmp_path / "quick" / "02.json").read_text())
    assert len(data) == 30
