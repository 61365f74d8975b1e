"""The development scripts behind chapters 03 and 11: what they compare is what they claim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from course_utils.models.bert import Bert, BertConfig

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def grid():
    return load_tool("ch03_finetune_grid")


def tiny_state() -> tuple[BertConfig, dict[str, torch.Tensor]]:
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, max_position_embeddings=12)
    torch.manual_seed(123)  # "pretrained": any weights that are not the seeded random ones,
    state = {k: v.detach().clone() for k, v in Bert(config).state_dict().items()}
    state["embeddings.word_embeddings.weight"] *= 3  # with a larger table, as pretraining leaves it
    return config, state


def test_grid_initialisations_change_one_factor(grid):
    config, state = tiny_state()
    pretrained = grid.initial_encoder("pretrained", 4, config, state).state_dict()
    random_init = grid.initial_encoder("random init", 4, config, state).state_dict()
    fresh = grid.initial_encoder("pretrained, fresh word embeddings", 4, config, state).state_dict()
    table = "embeddings.word_embeddings.weight"
    assert all(torch.equal(pretrained[k], state[k]) for k in state)
    assert not torch.equal(random_init[table], state[table])
    # the fresh-table arm: the random arm's table (same seed), every other tensor pretrained
    assert torch.equal(fresh[table], random_init[table])
    assert all(torch.equal(fresh[k], state[k]) for k in state if k != table)
    # seeded: the random arm is reproducible and differs between seeds
    again = grid.initial_encoder("random init", 4, config, state).state_dict()
    other = grid.initial_encoder("random init", 5, config, state).state_dict()
    assert all(torch.equal(again[k], random_init[k]) for k in state)
    assert not torch.equal(other[table], random_init[table])


def test_grid_table_swaps_and_rescaling(grid):
    config, state = tiny_state()
    table = "embeddings.word_embeddings.weight"
    random_init = grid.initial_encoder("random init", 4, config, state).state_dict()
    reverse = grid.initial_encoder("random layers, pretrained word embeddings", 4, config,
                                   state).state_dict()
    # the reverse swap: the pretrained table in the random arm's layers
    assert torch.equal(reverse[table], state[table])
    assert all(torch.equal(reverse[k], random_init[k]) for k in state if k != table)
    rescaled = grid.initial_encoder("pretrained, word table rescaled to random norm", 4, config,
                                    state).state_dict()
    assert all(torch.equal(rescaled[k], state[k]) for k in state if k != table)
    # same directions as the pretrained rows, the random table's mean row norm
    cos = torch.nn.functional.cosine_similarity(rescaled[table], state[table], dim=1)
    nonzero = state[table].norm(dim=1) > 0
    assert torch.allclose(cos[nonzero], torch.ones(int(nonzero.sum())), atol=1e-5)
    assert torch.isclose(rescaled[table].norm(dim=1).mean(), random_init[table].norm(dim=1).mean())
    assert not torch.isclose(state[table].norm(dim=1).mean(), random_init[table].norm(dim=1).mean())


def test_grid_rejects_an_unknown_initialisation(grid):
    config, state = tiny_state()
    with pytest.raises(ValueError, match="init must be one of"):
        grid.initial_encoder("pretrained, frozen", 0, config, state)


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
                for steps, lr in settings for seed in grid.SEEDS for init in grid.INITS}
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

    s03 = CH03.sizes["quick"]
    saved = json.loads((RESULTS / "ch03_finetune_grid.json").read_text())
    assert (s03.few_label_steps, s03.few_label_lr) in grid.GRID[s03.few_labels]
    assert s03.compare_test_reviews == saved["eval_reviews"]
    assert set(s03.seeds) <= set(saved["seeds"]) and len(saved["seeds"]) >= 3
    s11 = CH11.sizes["quick"]
    mine = {"model": "scratch", "max_len": s11.max_len, "batch_size": s11.batch_size,
            "d_model": s11.scratch_width, "layers": s11.scratch_layers, "heads": s11.scratch_heads,
            "lr": s11.scratch_lr, "pooling": s11.scratch_pooling, "steps": s11.scratch_steps}
    sweep = json.loads((RESULTS / "ch11_scratch_sweep.json").read_text())
    seeds = {r["config"]["seed"] for r in sweep["runs"]
             if all(r["config"].get(k) == v for k, v in mine.items())}
    assert len(seeds) >= 3 and 0 in seeds
