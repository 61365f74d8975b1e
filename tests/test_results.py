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


# --- issue 13: record() cannot write outside its folder or leave broken files ------------------
@pytest.mark.parametrize("profile", ["../x", "a/b", "", ".hidden", "..", "quick\n"])
def test_profile_must_be_a_plain_name(results_tmp, profile):
    with pytest.raises(ValueError, match="profile must be a plain name"):
        results.record("04", "acc", 1.0, profile=profile)
    assert not (results_tmp.parent / "x").exists()


@pytest.mark.parametrize("note", [object(), float("nan"), 3])
def test_bad_notes_are_refused_and_leave_no_file(results_tmp, note):
    with pytest.raises(TypeError, match="note must be str"):
        results.record("04", "acc", 1.0, note=note)
    folder = results_tmp / "quick"
    assert not folder.exists() or [p.name for p in folder.iterdir()
                                   if not p.name.endswith(".lock")] == []


def test_unserialisable_data_leaves_no_temp_file(results_tmp, tmp_path):
    path = tmp_path / "01.json"
    with pytest.raises(ValueError):  # NaN is not JSON
        results._atomic_write_json(path, {"x": {"value": float("nan")}})
    with pytest.raises(TypeError):
        results._atomic_write_json(path, {"x": {"value": object()}})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(__import__("os").name != "posix", reason="POSIX permission bits")
def test_results_files_keep_the_umask(results_tmp):
    import os
    import stat

    old = os.umask(0o022)
    try:
        results.record("04", "acc", 1.0)
    finally:
        os.umask(old)
    assert stat.S_IMODE((results_tmp / "quick" / "04.json").stat().st_mode) == 0o644


def test_corrupt_results_file_is_named_moved_aside_and_shown(results_tmp):
    folder = results_tmp / "quick"
    folder.mkdir(parents=True)
    (folder / "04.json").write_text('{"acc": {"value": 0.9')  # a half-written file
    with pytest.raises(results.ResultsFileError, match=r"04\.json is not valid JSON .*"
                       r"make run-all NOTEBOOKS=notebooks/solutions/04_vit\.ipynb"):
        results.load_results("04")
    (folder / "02.json").write_text('{"ppl": {"value": 12.5, "unit": "", "note": ""}}')
    from course_utils._maintain.readme import render_results_table

    table = render_results_table("quick")
    assert "| 02 | ppl | 12.5 |" in table and "04.json is unreadable" in table
    with pytest.warns(UserWarning, match="moved it to 04.json.corrupt"):
        results.record("04", "acc", 0.95)
    assert results.load_results("04") == {"acc": {"value": 0.95, "unit": "", "note": ""}}
    assert (folder / "04.json.corrupt").exists()
    (folder / "03.json").write_text('[1, 2]')
    with pytest.raises(results.ResultsFileError, match="is not a results file"):
        results.load_results("03")


def test_no_fcntl_in_the_learner_package():
    from pathlib import Path

    package = Path(results.__file__).parent
    assert not [p for p in package.rglob("*.py") if "import fcntl" in p.read_text()]


def test_runtime_summary_lists_each_chapter(results_tmp):
    results.record_runtime("02", 93.24)
    results.record("11", "test_acc", 0.9)
    line = results.runtime_summary()
    assert "02 93.2 s" in line and "11 -" in line
    assert line.index("02 93.2 s") < line.index("11 -")
