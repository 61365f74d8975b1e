"""Tests for course_utils.data: data_dir, load_reviews, load_dates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local parquet files only
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "validation", "test")
REVIEW_COLUMNS = ["id", "text", "label", "rating", "hard", "phenomena"]
DATE_COLUMNS = ["id", "text", "target", "format"]


def _write_reviews(folder: Path, n: int = 40) -> None:
    """Small review splits: n rows each, half of each label."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for k, split in enumerate(SPLITS):
        labels = [i % 2 for i in range(n)]
        pq.write_table(
            pa.table(
                {
                    "id": pa.array([1000 * k + i for i in range(n)], pa.int64()),
                    "text": [
                        f"{split} review {i}: {'great' if l else 'dull'} film."
                        for i, l in enumerate(labels)
                    ],
                    "label": pa.array(labels, pa.int64()),
                    "rating": pa.array([8 if l else 3 for l in labels], pa.int64()),
                    "hard": pa.array([i % 5 == 0 for i in range(n)], pa.bool_()),
                    "phenomena": ["negation" if i % 3 == 0 else "" for i in range(n)],
                }
            ),
            folder / f"{split}.parquet",
        )


def _write_dates(folder: Path, n: int = 30) -> None:
    """Small date splits over three formats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    fmts = ("eu_dotted", "cjk", "compact")
    for k, split in enumerate(SPLITS):
        rows = range(n)
        pq.write_table(
            pa.table(
                {
                    "id": pa.array([1000 * k + i for i in rows], pa.int64()),
                    "text": [f"{i + 1:02d}.01.{2000 + k}" for i in rows],
                    "target": [f"{2000 + k}-01-{i + 1:02d}" for i in rows],
                    "format": [fmts[i % 3] for i in rows],
                }
            ),
            folder / f"{split}.parquet",
        )


@pytest.fixture()
def fixture_dir(tmp_path, monkeypatch):
    """COURSE_DATA_DIR pointing at small fixture datasets."""
    _write_reviews(tmp_path / "reviews")
    _write_dates(tmp_path / "dates")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture()
def real_data(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def test_import_is_cheap_and_does_not_import_datasets():
    code = "import sys, course_utils.data as d; print('datasets' in sys.modules, d.REVIEW_LABELS)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[0] == "False", out.stdout


def test_review_labels():
    from course_utils.data import REVIEW_LABELS

    assert REVIEW_LABELS == ("negative", "positive")


def test_data_dir_default_and_override(monkeypatch, tmp_path):
    from course_utils.data import data_dir

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert data_dir() == ROOT / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_load_reviews_real_data(real_data):
    from course_utils.data import load_reviews

    dsd = load_reviews()
    assert list(dsd) == list(SPLITS)
    assert {s: dsd[s].num_rows for s in SPLITS} == {
        "train": 18000,
        "validation": 3000,
        "test": 3000,
    }
    for s in SPLITS:
        assert dsd[s].column_names == REVIEW_COLUMNS
    assert dsd["train"].features["label"].names == ["negative", "positive"]
    row = dsd["test"][0]
    assert isinstance(row["text"], str) and row["label"] in (0, 1) and isinstance(row["hard"], bool)


def test_load_dates_real_data(real_data):
    from course_utils.data import load_dates

    dsd = load_dates(fraction=0.1, seed=1)
    assert list(dsd) == list(SPLITS)
    assert abs(dsd["train"].num_rows - 4000) <= 30
    for s in SPLITS:
        assert dsd[s].column_names == DATE_COLUMNS
    assert len(set(dsd["test"]["format"])) >= 20


def test_fixture_data_via_env(fixture_dir):
    from course_utils.data import load_dates, load_reviews

    r = load_reviews()
    assert {s: r[s].num_rows for s in SPLITS} == {s: 40 for s in SPLITS}
    assert r["validation"][0]["text"].startswith("validation review")
    d = load_dates()
    assert d["test"][0]["target"] == "2002-01-01"


def test_fraction_is_stratified_and_deterministic(fixture_dir):
    from course_utils.data import load_dates, load_reviews

    a = load_reviews(fraction=0.25, seed=3)
    b = load_reviews(fraction=0.25, seed=3)
    c = load_reviews(fraction=0.25, seed=4)
    for s in SPLITS:
        assert a[s].num_rows == 10 and sum(a[s]["label"]) == 5, "5 rows of each label"
        assert a[s]["id"] == b[s]["id"], "same seed, same rows"
        assert a[s]["id"] == sorted(a[s]["id"]), "original order kept"
    assert any(a[s]["id"] != c[s]["id"] for s in SPLITS), "another seed picks other rows"
    d = load_dates(fraction=0.2)
    assert d["train"].num_rows == 6 and sorted(set(d["train"]["format"])) == [
        "cjk",
        "compact",
        "eu_dotted",
    ]
    tiny = load_reviews(fraction=0.01)
    assert tiny["train"].num_rows == 2, "at least one row per label"
    assert load_reviews(fraction=1)["train"].num_rows == 40


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, float("nan"), float("inf")])
def test_bad_fraction_raises_value_error(fixture_dir, bad):
    from course_utils.data import load_dates, load_reviews

    for fn in (load_reviews, load_dates):
        with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\].*got") as err:
            fn(fraction=bad)
        assert repr(bad) in str(err.value)


def test_bad_types_raise_type_error(fixture_dir):
    from course_utils.data import load_reviews

    with pytest.raises(TypeError, match="fraction must be a number in \\(0, 1\\], got str '0.5'"):
        load_reviews(fraction="0.5")
    with pytest.raises(TypeError, match="seed must be an int, got float 1.5"):
        load_reviews(seed=1.5)


def test_missing_file_names_file_and_command(fixture_dir):
    from course_utils.data import load_dates, load_reviews

    (fixture_dir / "reviews" / "validation.parquet").unlink()
    with pytest.raises(FileNotFoundError) as err:
        load_reviews()
    msg = str(err.value)
    assert "validation.parquet" in msg and "is missing" in msg
    assert "python data/reviews/generate.py --out" in msg and str(fixture_dir / "reviews") in msg
    assert "COURSE_DATA_DIR" in msg
    for p in (fixture_dir / "dates").glob("*.parquet"):
        p.unlink()
    with pytest.raises(
        FileNotFoundError, match=r"train\.parquet.*are missing.*python data/dates/generate\.py"
    ):
        load_dates()


def test_wrong_columns_raise_value_error(fixture_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from course_utils.data import load_dates

    pq.write_table(
        pa.table({"id": pa.array([1], pa.int64()), "text": ["x"]}),
        fixture_dir / "dates" / "test.parquet",
    )
    with pytest.raises(
        ValueError,
        match=r"should have the columns \['id', 'text', 'target', 'format'\], "
        r"found \['id', 'text'\]",
    ):
        load_dates()


@pytest.mark.parametrize("damage", ["truncated", "scrambled", "empty"])
def test_damaged_parquet_names_the_file_and_the_command(fixture_dir, damage):
    from course_utils.data import load_reviews

    path = fixture_dir / "reviews" / "train.parquet"
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "scrambled":  # the footer is intact, the data pages are not
        middle = len(raw) // 2
        path.write_bytes(raw[:100] + bytes(b ^ 0x5A for b in raw[100:middle]) + raw[middle:])
    else:
        path.write_bytes(b"")
    with pytest.raises(ValueError) as err:
        load_reviews()
    msg = str(err.value)
    assert str(path) in msg and "is not a readable parquet file" in msg
    assert f"python data/reviews/generate.py --out {path.parent}" in msg


def test_missing_values_are_refused(fixture_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from course_utils.data import load_dates

    n = 6
    pq.write_table(pa.table({"id": pa.array(range(n), pa.int64()),
                             "text": pa.array([None] * n, pa.string()),
                             "target": ["2000-01-01"] * n, "format": ["iso"] * n}),
                   fixture_dir / "dates" / "validation.parquet")
    with pytest.raises(ValueError, match=r"validation\.parquet has missing \(null\) values in "
                                         r"'text' \(6 of 6 rows\).*python data/dates/generate"):
        load_dates()
