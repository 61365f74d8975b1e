"""The chapter registry agrees with the notebooks, the committed results and the checkers."""

from __future__ import annotations

import importlib
import json
import re

import pytest

from course_utils.chapters import PLANNED, ChapterSpec, Target, all_chapters, get_chapter
from course_utils.chapters import spec as spec_module
from course_utils.paths import repo_root

ROOT = repo_root()
WRITTEN = [c for c in all_chapters() if c.sizes]


def test_numbers_are_the_twelve_fixed_chapters():
    assert [c.number for c in all_chapters()] == [f"{n:02d}" for n in range(12)]


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/solutions"])
def test_every_notebook_belongs_to_a_written_chapter(folder):
    stems = {c.stem: c for c in WRITTEN}
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        assert path.stem in stems, (
            f"{folder}/{path.name} matches no chapter module: its stem must equal the `stem` "
            f"of course_utils/chapters/ch{path.name[:2]}.py (written stems: {sorted(stems)})")


@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.number)
def test_written_chapter_has_notebooks_results_and_checkers(chapter):
    for solution in (True, False):
        assert chapter.notebook(ROOT, solution).exists(), f"missing {chapter.notebook(ROOT, solution)}"
    results = ROOT / "results" / "quick" / f"{chapter.number}.json"
    assert results.exists(), f"{results} missing: run `make run-all NOTEBOOKS=...` for it"
    recorded = json.loads(results.read_text(encoding="utf-8"))
    for target in chapter.all_targets("quick"):
        assert target.name in recorded, f"{results.name} lacks target {target.name!r}"
        assert target.holds(recorded[target.name]["value"]), \
            f"committed {chapter.number}/{target.name} = {recorded[target.name]['value']} " \
            f"misses {target.op} {target.threshold}"
    if chapter.checkers:
        importlib.import_module(chapter.checkers)
    assert set(chapter.sizes) == {"quick", "full"}
    assert type(chapter.sizes["quick"]) is type(chapter.sizes["full"])


def test_results_only_for_written_chapters():
    written = {c.number for c in WRITTEN}
    for path in (ROOT / "results").glob("*/[0-9][0-9].json"):
        assert path.stem in written, f"{path} belongs to no written chapter"


def test_notebooks_record_through_the_chapter_handle():
    pattern = re.compile(r"(?<![\w.])record\(\s*[\"']\d\d[\"']")
    for path in sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert not pattern.search(code), f"{path.name}: use ch.record(name, value), not record('NN', ...)"
        assert "hub.online and ch.profile.use_hub_models" not in code, f"{path.name}: use ch.use_hub"


def test_planned_rows_do_not_disagree_with_modules():
    for number, (stem, title) in PLANNED.items():
        assert get_chapter(number).stem == stem, \
            f"chapter {number}: module stem {get_chapter(number).stem!r} != planned {stem!r}; " \
            "the notebook name is fixed by the catalog"


def test_spec_validation_says_what_was_expected():
    with pytest.raises(ValueError, match="two digits"):
        ChapterSpec("5", "5_x", "t")
    with pytest.raises(ValueError, match="must start with '05_'"):
        ChapterSpec("05", "06_peft", "t")
    with pytest.raises(ValueError, match="op must be one of"):
        Target("acc", ">", 0.5, "why")
    with pytest.raises(ValueError, match="sizes needs exactly"):
        ChapterSpec("05", "05_x", "t", sizes={"quick": 1})
    with pytest.raises(KeyError, match="unknown chapter '12'"):
        get_chapter("12")


def test_runtime_budget_target_is_added_in_quick_only():
    chapter = get_chapter("00")
    assert chapter.runtime_budget_s == 30.0
    quick = {t.name: t for t in chapter.all_targets("quick")}
    assert quick["runtime_s"].threshold == 30.0 and quick["runtime_s"].holds(29.9)
    assert not quick["runtime_s"].holds(30.1)
    assert "runtime_s" not in {t.name for t in chapter.all_targets("full")}
    assert spec_module.PROFILE_NAMES == ("quick", "full")


def test_smoke_sizes_are_full_sizes_with_overrides():
    from course_utils.profile import get_profile

    for chapter in WRITTEN:
        smoke, full = chapter.sizes_for("smoke"), chapter.sizes["full"]
        assert type(smoke) is type(full)
        for name, value in vars(smoke).items():
            expected = chapter.smoke.get(name, getattr(full, name))
            assert value == expected, f"chapter {chapter.number}: smoke {name}"
        assert get_profile("smoke").sizes(chapter.number) == smoke
    assert get_profile("smoke").use_hub_models and get_profile("smoke").torch_threads == 1
    with pytest.raises(ValueError, match=r"smoke overrides \['no_such_field'\] are not fields"):
        ChapterSpec("05", "05_x", "t", sizes=get_chapter("00").sizes, smoke={"no_such_field": 1})


def test_claims_are_enforced_except_in_smoke(monkeypatch, capsys):
    from course_utils.chapter import start_chapter

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    ch = start_chapter("00", show_versions=False)
    ch.claim(True, "fine")
    with pytest.raises(AssertionError, match="beats the baseline"):
        ch.claim(False, "beats the baseline")
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    ch = start_chapter("00", show_versions=False)
    assert ch.smoke and not ch.quick and ch.sizes == get_chapter("00").sizes_for("smoke")
    ch.claim(False, "beats the baseline")
    assert "smoke run: not checked -- beats the baseline" in capsys.readouterr().out


def test_smoke_targets_name_full_profile_records():
    smoke = {c.number: [t.name for t in c.all_targets("smoke")] for c in WRITTEN}
    assert smoke["00"] == ["gpt2_config_source"] and smoke["03"] == ["hub_bert_test_acc"]
    assert all("runtime_s" not in names for names in smoke.values())
