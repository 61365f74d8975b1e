"""The development scripts behind chapters 03 and 11: what they compare is what they claim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from course_utils.finetune import INITS

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def grid():
    return load_tool("ch03_finetune_grid")


def test_training_script_options_from_settings():
    from course_utils.project.train_sentiment import as_options, parse_config

    options = as_options({"max_len": 24, "d_model": 32, "pooling": "cls", "lr": 1e-3})
    assert options == ["--max-len", "24", "--d-model", "32", "--pooling", "cls", "--lr", "0.001"]
    cfg = parse_config(["--data-dir", "d", "--out-dir", "o", *options])
    assert (cfg.max_len, cfg.d_model, cfg.pooling, cfg.lr) == (24, 32, "cls", 1e-3)
    with pytest.raises(ValueError, match="unknown \\['width'\\]"):
        as_options({"width": 32})


def test_sweep_settings_change_one_factor_each():
    sweep = load_tool("ch11_scratch_sweep")
    chapter = sweep.SCRATCH
    for name, cfg in sweep.RUNS:
        if cfg["model"] != "scratch":
            continue
        changed = {k for k in cfg if cfg[k] != chapter[k]} - {"seed"}
        assert len(changed) <= 1, (name, changed)
    assert sum(cfg == chapter for _, cfg in sweep.RUNS) == 1  # the base setting itself, seed 0


RESULTS = Path(__file__).resolve().parent.parent / "results" / "dev"


def test_committed_grid_is_the_tools_grid(grid):
    """The notebook reads this file: it must hold exactly one run per cell of the tool's grid."""
    import json

    runs = json.loads((RESULTS / "ch03_finetune_grid.json").read_text())["runs"]
    cells = {(r["labels"], r["steps"], r["lr"], r["seed"], r["init"]) for r in runs}
    expected = {(n, steps, lr, seed, init) for n, settings in grid.GRID.items()
                for steps, lr in settings for seed in grid.SEEDS for init in INITS}
    assert len(runs) == len(cells) == len(expected) and cells == expected
    assert all(0.0 <= r[k] <= 1.0 for r in runs for k in ("train_acc", "validation_acc", "test_acc"))


def test_committed_sweep_is_the_tools_sweep():
    import json

    sweep = load_tool("ch11_scratch_sweep")
    saved = json.loads((RESULTS / "ch11_scratch_sweep.json").read_text())
    assert [(r["setting"], r["config"]) for r in saved["runs"]] == [(n, c) for n, c in sweep.RUNS]
    for r in saved["runs"]:  # the gap is model minus TF-IDF, in points
        expected = 100 * (r["test_hard_acc"] - saved["tfidf"]["test_hard_acc"])
        assert abs(r["hard_gap_points"] - expected) < 1e-9


def test_notebook_settings_are_in_the_committed_files(grid):
    """The notebooks take seeds from these files for their own setting; a drift would make them
    fall back silently to fewer seeds."""
    import json

    from course_utils.chapters.ch03 import CHAPTER as CH03
    from course_utils.chapters.ch11 import CHAPTER as CH11
    from course_utils.chapters.ch11 import scratch_settings

    s03 = CH03.sizes["quick"]
    saved = json.loads((RESULTS / "ch03_finetune_grid.json").read_text())
    assert (s03.few_label_steps, s03.few_label_lr) in grid.GRID[s03.few_labels]
    assert s03.compare_test_reviews == saved["eval_reviews"]
    assert set(s03.seeds) <= set(saved["seeds"]) and len(saved["seeds"]) >= 3
    s11 = CH11.sizes["quick"]
    mine = {k: v for k, v in scratch_settings(s11, 0).items() if k != "seed"}
    sweep = json.loads((RESULTS / "ch11_scratch_sweep.json").read_text())
    seeds = {r["config"]["seed"] for r in sweep["runs"]
             if all(r["config"].get(k) == v for k, v in mine.items())}
    assert len(seeds) >= 3 and 0 in seeds
