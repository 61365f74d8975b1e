"""The README's generated sections: results table, chapter table, marked-section replacement."""

import pytest

from course_utils import results
from course_utils._maintain import readme as rd


def test_render_and_update_readme(results_tmp, tmp_path):
    results.record("00", "runtime_s", 12.25, unit="s", profile="quick")
    results.record("01", "exact_match", 0.9312, profile="quick")
    table = rd.render_results_table("quick")
    assert "| 00 | runtime_s | 12.25 s |" in table
    assert "| 01 | exact_match | 0.9312 |" in table
    readme = tmp_path / "README.md"
    begin, end = rd.markers("results-table")
    c_begin, c_end = rd.markers("chapter-table")
    readme.write_text(f"intro\n{c_begin}\nx\n{c_end}\n{begin}\nold\n{end}\nrest\n")
    assert rd.update_readme(readme, "quick") is True
    text = readme.read_text()
    assert "old" not in text and "exact_match" in text and text.endswith("rest\n")
    from course_utils.chapters import all_chapters

    for chapter in all_chapters():  # every chapter has a row, written or planned
        status = "available" if chapter.sizes else "planned"
        assert f"| {chapter.number} | {chapter.title} |" in text
        assert status in text.split(f"| {chapter.number} | {chapter.title} |")[1].split("\n")[0]
    assert rd.update_readme(readme, "quick") is False
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="must contain <!-- chapter-table:begin --> once"):
        rd.update_readme(readme)


def test_replace_section_rejects_misordered_or_repeated_markers(tmp_path):
    path = tmp_path / "x.md"
    begin, end = rd.markers("stats")
    path.write_text(f"{end}\n{begin}\n")
    with pytest.raises(ValueError, match="followed by"):
        rd.replace_section(path, "stats", "body")
    path.write_text(f"{begin}\n{end}\n{begin}\n{end}\n")
    with pytest.raises(ValueError, match="once"):
        rd.replace_section(path, "stats", "body")
    path.write_text(f"a\n{begin}\nold\n{end}\nb\n")
    assert rd.replace_section(path, "stats", "\nnew\n") is True
    assert path.read_text() == f"a\n{begin}\nnew\n{end}\nb\n"
