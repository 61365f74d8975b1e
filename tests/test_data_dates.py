"""Tests for the date-normalisation set in data/dates."""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATES = ROOT / "data" / "dates"
SPLITS = ("train", "validation", "test")

# Independent parsers (strptime) for the formats it can read; names are case-insensitive.
STRPTIME = {
    "d_mon_yyyy": "%d %b %Y",
    "month_d_yyyy": "%B %d, %Y",
    "us_mdy_short": "%m/%d/%y",
    "eu_dotted": "%d.%m.%Y",
    "eu_dotted_short": "%d.%m.%y",
    "eu_slash": "%d/%m/%Y",
    "us_dash": "%m-%d-%Y",
    "ymd_slash": "%Y/%m/%d",
    "compact": "%Y%m%d",
    "cjk": "%Y年%m月%d日",
    "d_mon_yy": "%d-%b-%y",
    "mon_d_yyyy_lower": "%b %d %Y",
    "mon_dot_d_yy": "%b. %d, '%y",
    "d_month_yyyy_upper": "%d %B %Y",
    "wkd_d_mon_yyyy": "%a %d %b %Y",
    "wkd_mon_d_yyyy": "%a, %b %d, %Y",
    "weekday_d_month_yyyy": "%A %d %B %Y",
    "weekday_month_d_yyyy_upper": "%A, %B %d, %Y",
}

# Written by hand: (ISO date, format, expected text).
HAND_WRITTEN = [
    ("2026-11-23", "weekday_the_dth_of_month_yyyy", "Monday, the 23rd of November 2026"),
    (
        "2026-11-23",
        "words_the_dth_of_month",
        "the twenty-third of november, two thousand twenty-six",
    ),
    ("2026-11-23", "words_month_dth", "november twenty-third, twenty twenty-six"),
    ("2026-11-23", "cjk", "2026年11月23日"),
    ("2026-11-23", "us_mdy_short", "11/23/26"),
    ("1900-01-01", "words_weekday_long", "monday, the first of january, nineteen hundred"),
    ("1905-03-02", "words_the_dth_of_month", "the second of march, nineteen oh five"),
    ("2000-02-29", "words_weekday_long", "tuesday, the twenty-ninth of february, two thousand"),
    ("2007-12-31", "words_month_dth", "december thirty-first, two thousand seven"),
    ("2010-06-12", "words_month_dth", "june twelfth, twenty ten"),
    ("2099-12-11", "words_day_month_year_title", "Eleventh December Twenty Ninety-Nine"),
    ("1999-07-13", "the_dth_of_month_yyyy", "the 13th of July, 1999"),
    ("1971-08-22", "month_dth_yyyy", "August 22nd, 1971"),
    ("2068-04-01", "mon_dot_d_yy", "Apr. 1, '68"),
    ("1969-10-03", "eu_dotted_short", "3.10.69"),
    ("1984-09-30", "roman_month", "30.IX.1984"),
    ("2031-05-20", "weekday_month_d_yyyy_upper", "TUESDAY, MAY 20, 2031"),
    ("1912-04-15", "words_weekday_long", "monday, the fifteenth of april, nineteen twelve"),
]


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen():
    return _module("test_dates_generate", DATES / "generate.py")


@pytest.fixture(scope="module")
def data():
    import pandas as pd

    return {s: pd.read_parquet(DATES / f"{s}.parquet") for s in SPLITS}


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path):
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(DATES / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    for s in SPLITS:
        new, old = tmp_path / f"{s}.parquet", DATES / f"{s}.parquet"
        if new.read_bytes() != old.read_bytes():
            import pyarrow
            import pyarrow.parquet as pq

            same = pq.read_table(new).equals(pq.read_table(old))
            pytest.fail(
                f"{s}.parquet: same table, different bytes (committed with pyarrow 26.0.1, "
                f"this is pyarrow {pyarrow.__version__})"
                if same
                else f"{s}.parquet differs from a fresh `python data/dates/generate.py` run"
            )
    assert seconds < 60, f"generator took {seconds:.1f} s"


def test_hand_written_renderings(gen):
    for iso, fmt, text in HAND_WRITTEN:
        assert gen.render(dt.date.fromisoformat(iso), fmt) == text, (iso, fmt)


def test_columns_and_sizes(data):
    for s, n in (("train", 40000), ("validation", 2000), ("test", 2000)):
        df = data[s]
        assert list(df.columns) == ["id", "text", "target", "format"]
        assert len(df) == n and df["id"].is_unique and str(df["id"].dtype) == "int64"
    total = sum(p.stat().st_size for p in DATES.glob("*.parquet"))
    assert total <= 1.5 * 2**20, f"dates parquet files take {total / 2**20:.2f} MiB (limit 1.5)"


def test_targets_are_iso_dates_in_range_and_match_the_text(data, gen):
    for s in SPLITS:
        for text, target, fmt in zip(data[s].text, data[s].target, data[s].format):
            d = dt.date.fromisoformat(target)
            assert d.isoformat() == target and dt.date(1900, 1, 1) <= d <= dt.date(2099, 12, 31)
            assert gen.render(d, fmt) == text, (s, text, target, fmt)
            if fmt in STRPTIME:
                assert dt.datetime.strptime(text, STRPTIME[fmt]).date() == d, (text, target, fmt)


def test_weekday_names_are_correct(data):
    names = [
        d.lower()
        for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    ]
    checked = 0
    for s in SPLITS:
        for text, target in zip(data[s].text, data[s].target):
            first = text.split()[0].strip(",").lower()
            for i, name in enumerate(names):
                if first in (name, name[:3]):
                    assert dt.date.fromisoformat(target).weekday() == i, (text, target)
                    checked += 1
    assert checked > 5000


def test_two_digit_years_only_where_the_century_rule_holds(data, gen):
    two_digit = {name for name, (_, two) in gen.FORMATS.items() if two}
    assert two_digit == {"us_mdy_short", "eu_dotted_short", "d_mon_yy", "mon_dot_d_yy"}
    for s in SPLITS:
        df = data[s][data[s].format.isin(two_digit)]
        years = df.target.str[:4].astype(int)
        assert years.between(1969, 2068).all(), s
    with pytest.raises(ValueError, match="two-digit year"):
        gen.render(dt.date(1950, 1, 1), "us_mdy_short")


def test_test_dates_are_held_out(data):
    targets = [set(data[s].target) for s in SPLITS]
    assert len(targets[0]) == 40000 and len(targets[1]) == 2000 and len(targets[2]) == 2000
    assert (
        not (targets[2] & targets[0])
        and not (targets[2] & targets[1])
        and not (targets[0] & targets[1])
    )


def test_formats_and_length_spread(data, gen):
    assert len(gen.FORMATS) >= 20
    for s in SPLITS:
        assert set(data[s].format) == set(gen.FORMATS), f"{s} lacks some formats"
    lengths = data["train"].text.str.len()
    assert lengths.min() <= 8 and lengths.max() >= 60
    assert (lengths >= 40).mean() > 0.05, "too few long inputs to show the no-attention bottleneck"
