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


def test_committed_position_arms_match_the_tool_and_the_chapter():
    """Chapter 04 reads this file in the quick profile: every arm at every seed, at its sizes."""
    import json
    from dataclasses import asdict

    from course_utils.chapters import get_chapter

    tool = load_tool("ch04_position_arms")
    saved = json.loads((RESULTS / "ch04_position_arms.json").read_text())
    cells = sorted((r["arm"], r["seed"]) for r in saved["runs"])
    assert cells == sorted((arm, seed) for arm in tool.ARMS for seed in tool.SEEDS)
    quick = asdict(get_chapter("04").sizes_for("quick"))
    assert saved["sizes"] == json.loads(json.dumps({k: quick[k] for k in tool.SIZE_KEYS}))
    for r in saved["runs"]:
        assert r["shift_acc"]["0"] == r["test_acc"]  # an unshifted image is the test set itself
        assert (r["pos_rank_corr"] is None) == (r["arm"] == "ViT sin-cos")
    sweep = sorted((r["model"], r["seed"], r["fraction"]) for r in saved["sweep"])
    fractions = (1.0, *quick["data_fractions"])
    assert sweep == sorted([("CNN", s, f) for s in tool.SEEDS for f in fractions]
                           + [("ViT", s, f) for s in tool.SEEDS for f in fractions[1:]])
    for r in saved["runs"]:  # what the notebook reads of each run
        assert {"train_acc_end", "eval_step", "val_acc", "test_acc", "shift_acc"} <= set(r)
    for r in saved["sweep"]:
        assert {"train_images", "steps", "train_acc_end", "test_acc"} <= set(r)
        assert (r["shift_acc"] is not None) == (r["fraction"] == 1.0 and r["model"] == "CNN")


def test_position_tool_trains_what_the_notebook_trains(monkeypatch):
    """At tiny sizes: the tool's plain arm == the notebook's recipe; the sin-cos arm is sin-cos."""
    from dataclasses import replace

    import torch

    from course_utils import image_classification as ic
    from course_utils.chapters import get_chapter
    from course_utils.data import load_digits_splits
    from course_utils.models.vit import ViT

    tool = load_tool("ch04_position_arms")
    tiny = replace(get_chapter("04").sizes_for("quick"), d_model=16, n_layers=1, n_heads=2, d_ff=32,
                   train_steps=12, warmup_steps=2, eval_every=6)
    torch.set_num_threads(1)
    data = load_digits_splits(1)
    torch.manual_seed(1)  # the notebook: seed, build, fit
    model = ViT(ic.vit_config(data, tiny))
    mine = ic.fit(model, data, tiny.train_steps, ic.fit_config(tiny), ic.AUGMENT["digits"], 1)
    assert tool.run_arm("ViT", 1, tiny)["test_acc"] == mine.test_acc
    built = []
    monkeypatch.setattr(tool, "ViT", lambda config: built.append(config) or ViT(config))
    tool.run_arm("ViT sin-cos", 1, tiny)
    tool.run_arm("ViT + shift aug.", 1, tiny)
    assert [c.position for c in built] == ["sincos2d", "learned"]


def test_a_random_init_grid_row_reproduces():
    """Chapter 03's quick profile reads its random-init arm from the grid: one row, re-run here."""
    import json

    import torch

    from course_utils.data import load_reviews
    from course_utils.finetune import FinetuneConfig, finetune_classifier, initial_encoder, predict_classes
    from course_utils.models.bert import load_course_encoder

    saved = json.loads((RESULTS / "ch03_finetune_grid.json").read_text())
    row = next(r for r in saved["runs"] if (r["labels"], r["steps"], r["lr"], r["seed"], r["init"])
               == (200, 40, 2e-3, 0, "random init"))
    torch.set_num_threads(1)
    reviews, course = load_reviews(), load_course_encoder()
    tok, config = course.tokenizer, course.model.bert.config
    state = {k: v.detach().clone() for k, v in course.model.bert.state_dict().items()}

    def encode(texts):
        return tok(list(texts), truncation=True, max_length=saved["max_len"])["input_ids"]

    rows = torch.randperm(len(reviews["train"]), generator=torch.Generator().manual_seed(100))[:200].tolist()
    ids = encode([reviews["train"][i]["text"] for i in rows])
    y = torch.tensor([reviews["train"][i]["label"] for i in rows])
    clf = finetune_classifier(initial_encoder("random init", 0, config, state), ids, y, tok.pad_token_id,
                              FinetuneConfig(40, 2e-3, batch_size=saved["batch"]), 0)
    n = saved["eval_reviews"]
    test_y = torch.tensor(reviews["test"]["label"][:n])
    acc = (predict_classes(clf, encode(reviews["test"]["text"][:n]), tok.pad_token_id) == test_y).float().mean()
    assert abs(acc.item() - row["test_acc"]) <= 0.01
