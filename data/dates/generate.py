#!/usr/bin/env python
"""Generate the date-normalisation set: data/dates/{train,validation,test}.parquet.

Usage: ``python data/dates/generate.py [--out DIR] [--seed N] [--write-readme]``

Each row is one calendar date between 1900-01-01 and 2099-12-31 written in one of
the human formats below (``text``) and its ISO form (``target``, e.g. ``2026-11-23``).
Splits are disjoint by calendar date: a date that is in test is in no other split,
in any format. Two-digit years follow Python's ``%y`` rule (00-68 -> 2000-2068,
69-99 -> 1969-1999), so formats with a two-digit year are only used for dates in
1969-2068, where that rule gives back the right century.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 2024
SPLITS = ("train", "validation", "test")
SPLIT_SIZES = {"train": 40000, "validation": 2000, "test": 2000}
ID_OFFSETS = {"train": 0, "validation": 100_000, "test": 200_000}
FIRST, LAST = dt.date(1900, 1, 1), dt.date(2099, 12, 31)
TWO_DIGIT_YEARS = (1969, 2068)  # where "%y" (00-68 -> 20xx, 69-99 -> 19xx) is right

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_ABBR = [m[:3] for m in MONTHS]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORD_UNITS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
ORD_TENS = {20: "twentieth", 30: "thirtieth"}


def number_words(n: int) -> str:
    """0-99 in words: 23 -> "twenty-three"."""
    if n < 20:
        return UNITS[n]
    t, u = divmod(n, 10)
    return TENS[t] + ("-" + UNITS[u] if u else "")


def ordinal_words(n: int) -> str:
    """1-31 as an ordinal in words: 23 -> "twenty-third"."""
    if n < 20:
        return ORD_UNITS[n]
    if n in ORD_TENS:
        return ORD_TENS[n]
    t, u = divmod(n, 10)
    return TENS[t] + "-" + ORD_UNITS[u]


def ordinal_suffix(n: int) -> str:
    """23 -> "23rd"."""
    suf = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suf}"


def year_words(y: int, style: str = "formal") -> str:
    """1999 -> "nineteen ninety-nine"; 2026 -> "two thousand twenty-six" (formal) or
    "twenty twenty-six" (spoken, from 2010); 1905 -> "nineteen oh five";
    1900 -> "nineteen hundred"."""
    c, yy = divmod(y, 100)
    if c == 19:
        if yy == 0:
            return "nineteen hundred"
        return "nineteen " + ("oh " + UNITS[yy] if yy < 10 else number_words(yy))
    if style == "spoken" and yy >= 10:
        return "twenty " + number_words(yy)
    return "two thousand" + (" " + number_words(yy) if yy else "")


def _yy(d: dt.date) -> str:
    return f"{d.year % 100:02d}"


# name -> (renderer, needs a two-digit-year date range)
FORMATS = {
    "d_mon_yyyy": (lambda d: f"{d.day} {MONTHS_ABBR[d.month - 1]} {d.year}", False),
    "month_d_yyyy": (lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}", False),
    "us_mdy_short": (lambda d: f"{d.month}/{d.day}/{_yy(d)}", True),
    "eu_dotted": (lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}", False),
    "eu_dotted_short": (lambda d: f"{d.day}.{d.month}.{_yy(d)}", True),
    "eu_slash": (lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}", False),
    "us_dash": (lambda d: f"{d.month:02d}-{d.day:02d}-{d.year}", False),
    "ymd_slash": (lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}", False),
    "compact": (lambda d: f"{d.year}{d.month:02d}{d.day:02d}", False),
    "cjk": (lambda d: f"{d.year}年{d.month}月{d.day}日", False),
    "roman_month": (lambda d: f"{d.day}.{ROMAN[d.month - 1]}.{d.year}", False),
    "d_mon_yy": (lambda d: f"{d.day:02d}-{MONTHS_ABBR[d.month - 1]}-{_yy(d)}", True),
    "mon_d_yyyy_lower": (lambda d: f"{MONTHS_ABBR[d.month - 1].lower()} {d.day} {d.year}", False),
    "mon_dot_d_yy": (lambda d: f"{MONTHS_ABBR[d.month - 1]}. {d.day}, '{_yy(d)}", True),
    "d_month_yyyy_upper": (lambda d: f"{d.day} {MONTHS[d.month - 1].upper()} {d.year}", False),
    "month_dth_yyyy": (lambda d: f"{MONTHS[d.month - 1]} {ordinal_suffix(d.day)}, {d.year}", False),
    "dth_month_yyyy": (lambda d: f"{ordinal_suffix(d.day)} {MONTHS[d.month - 1]} {d.year}", False),
    "the_dth_of_month_yyyy": (
        lambda d: f"the {ordinal_suffix(d.day)} of {MONTHS[d.month - 1]}, {d.year}",
        False,
    ),
    "wkd_d_mon_yyyy": (
        lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS_ABBR[d.month - 1]} {d.year}",
        False,
    ),
    "wkd_mon_d_yyyy": (
        lambda d: f"{WEEKDAYS[d.weekday()][:3]}, {MONTHS_ABBR[d.month - 1]} {d.day}, {d.year}",
        False,
    ),
    "weekday_d_month_yyyy": (
        lambda d: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}",
        False,
    ),
    "weekday_month_d_yyyy_upper": (
        lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}".upper(),
        False,
    ),
    "weekday_the_dth_of_month_yyyy": (
        lambda d: (
            f"{WEEKDAYS[d.weekday()]}, the {ordinal_suffix(d.day)} of "
            f"{MONTHS[d.month - 1]} {d.year}"
        ),
        False,
    ),
    "words_month_dth": (
        lambda d: (
            f"{MONTHS[d.month - 1].lower()} {ordinal_words(d.day)}, {year_words(d.year, 'spoken')}"
        ),
        False,
    ),
    "words_the_dth_of_month": (
        lambda d: (
            f"the {ordinal_words(d.day)} of {MONTHS[d.month - 1].lower()}, {year_words(d.year)}"
        ),
        False,
    ),
    "words_weekday_long": (
        lambda d: (
            f"{WEEKDAYS[d.weekday()].lower()}, the {ordinal_words(d.day)} of "
            f"{MONTHS[d.month - 1].lower()}, {year_words(d.year)}"
        ),
        False,
    ),
    "words_day_month_year_title": (
        lambda d: (
            f"{ordinal_words(d.day)} {MONTHS[d.month - 1]} {year_words(d.year, 'spoken')}".title()
        ),
        False,
    ),
}
EXAMPLE_DATE = dt.date(2026, 11, 23)


def render(d: dt.date, fmt: str) -> str:
    """``d`` written in format ``fmt``."""
    fn, two_digit = FORMATS[fmt]
    if two_digit and not TWO_DIGIT_YEARS[0] <= d.year <= TWO_DIGIT_YEARS[1]:
        raise ValueError(
            f"format {fmt!r} has a two-digit year; it needs a date in "
            f"{TWO_DIGIT_YEARS[0]}-{TWO_DIGIT_YEARS[1]}, got {d.isoformat()}"
        )
    return fn(d)


def formats_for(d: dt.date) -> list:
    """Format names usable for ``d`` (two-digit years only where the century rule holds)."""
    ok = TWO_DIGIT_YEARS[0] <= d.year <= TWO_DIGIT_YEARS[1]
    return [name for name, (_, two) in FORMATS.items() if ok or not two]


def generate(seed: int = DEFAULT_SEED, sizes: dict | None = None) -> dict:
    """{split: [row dict]}; splits hold disjoint calendar dates, one format per row."""
    sizes = dict(SPLIT_SIZES if sizes is None else sizes)
    n_days = (LAST - FIRST).days + 1
    if sum(sizes.values()) > n_days:
        raise ValueError(
            f"asked for {sum(sizes.values())} rows but only {n_days} distinct dates exist"
        )
    rng = random.Random(f"dates:{seed}")
    days = list(range(n_days))
    rng.shuffle(days)
    out, start = {}, 0
    for split in ("test", "validation", "train"):  # test first: it never depends on the train size
        chosen = days[start : start + sizes[split]]
        start += sizes[split]
        rows = []
        for k, offset in enumerate(chosen):
            d = FIRST + dt.timedelta(days=offset)
            fmt = rng.choice(formats_for(d))
            rows.append(
                {
                    "id": ID_OFFSETS[split] + k,
                    "text": render(d, fmt),
                    "target": d.isoformat(),
                    "format": fmt,
                }
            )
        out[split] = rows
    return {s: out[s] for s in SPLITS}


def write_parquet(rows: list, path: Path) -> None:
    """Write ``rows`` to ``path`` (zstd, no index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "text": pa.array([r["text"] for r in rows], pa.string()),
            "target": pa.array([r["target"] for r in rows], pa.string()),
            "format": pa.array([r["format"] for r in rows], pa.string()),
        }
    )
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=9)
    tmp.replace(path)


def readme_block(data: dict, seconds: float, folder: Path) -> str:
    """Markdown statistics for README.md."""
    lines = [
        "| split | rows | distinct dates | years covered | file size |",
        "|---|---|---|---|---|",
    ]
    for s in SPLITS:
        rows = data[s]
        years = [int(r["target"][:4]) for r in rows]
        size = (folder / f"{s}.parquet").stat().st_size
        lines.append(
            f"| {s} | {len(rows)} | {len({r['target'] for r in rows})} | "
            f"{min(years)}-{max(years)} | {size / 1024:.0f} KiB |"
        )
    allrows = [r for s in SPLITS for r in data[s]]
    lens = sorted(len(r["text"]) for r in allrows)
    q = lambda p: lens[min(len(lens) - 1, int(p * len(lens)))]
    lines += [
        "",
        (
            f"Input length in characters (all splits): min {lens[0]}, 10th pct {q(0.1)}, "
            f"median {q(0.5)}, 90th pct {q(0.9)}, max {lens[-1]}."
        ),
        "",
    ]
    buckets = Counter(min(l // 10, 6) for l in lens)
    lines += [
        "| length | "
        + " | ".join(f"{10 * b}-{10 * b + 9}" if b < 6 else "60+" for b in range(7))
        + " |",
        "|---|" + "---|" * 7,
        "| rows | " + " | ".join(str(buckets.get(b, 0)) for b in range(7)) + " |",
        "",
    ]
    lines += ["| format | example (2026-11-23) | length range | train rows |", "|---|---|---|---|"]
    per = Counter(r["format"] for r in data["train"])
    for name in FORMATS:
        ls = [len(r["text"]) for r in allrows if r["format"] == name]
        lines.append(
            f"| `{name}` | {render(EXAMPLE_DATE, name)} | {min(ls)}-{max(ls)} | {per[name]} |"
        )
    lines += ["", f"Generation time: {seconds:.1f} s (generation and parquet writing, 2-core CPU)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    ap.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    ap.add_argument(
        "--write-readme", action="store_true", help="refresh the statistics in README.md"
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = generate(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for s in SPLITS:
        write_parquet(data[s], args.out / f"{s}.parquet")
    seconds = time.perf_counter() - t0
    for s in SPLITS:
        print(f"{s:10s} {len(data[s]):6d} rows")
    print(f"wrote {', '.join(s + '.parquet' for s in SPLITS)} to {args.out} in {seconds:.1f} s")
    if args.write_readme:
        from course_utils._maintain.readme import replace_section

        replace_section(HERE / "README.md", "stats", readme_block(data, seconds, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
