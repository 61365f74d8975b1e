"""Every chapter notebook has the course's shape, and students are derived from solutions."""

import copy

import nbformat
import pytest

from course_utils._maintain import notebooks as nbt
from course_utils.paths import repo_root

SOLUTIONS = nbt.chapter_notebooks()
ROOT = repo_root()


def test_there_are_chapters_and_each_has_a_student_twin():
    assert SOLUTIONS, "no chapter notebooks found in notebooks/solutions/"
    for path in SOLUTIONS:
        assert (ROOT / "notebooks" / path.name).exists(), f"missing student notebook {path.name}"


def test_student_notebooks_do_not_drift_from_solutions():
    assert nbt.derive_all(check_only=True) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_shape(path):
    assert nbt.structure_problems(path, student=False) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_student_shape(path):
    assert nbt.structure_problems(ROOT / "notebooks" / path.name, student=True) == []


# --- the structure test must catch what it guards (mutations of a good notebook) ---------
@pytest.fixture
def good(tmp_path):
    source = nbformat.read(SOLUTIONS[0], as_version=4)
    path = tmp_path / SOLUTIONS[0].name
    return source, path


def _problems(nb, path, student=False):
    nbformat.write(nb, path)
    return "\n".join(nbt.structure_problems(path, student))


def test_mutations_are_caught(good):
    nb, path = good
    assert _problems(nb, path) == ""

    m = copy.deepcopy(nb)
    m.cells[2].outputs = [nbformat.v4.new_output("stream", text="hi")]
    assert "has outputs" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.cells[3].metadata.pop("slideshow")
    assert "no valid slideshow.slide_type" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.cells.append(nbformat.v4.new_code_cell("!pip install torch",
                                             metadata={"slideshow": {"slide_type": "skip"}}))
    assert "!pip" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.cells.insert(5, nbformat.v4.new_code_cell("from torch import *",
                                                metadata={"slideshow": {"slide_type": "-"}}))
    assert "import *" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.cells = [c for c in m.cells if "## Summary" not in c.source]
    assert "missing section '## Summary'" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.cells = [c for c in m.cells if "start_chapter(" not in c.source]
    assert "setup cell" in _problems(m, path)

    m = copy.deepcopy(nb)
    for cell in m.cells:
        cell.metadata.pop("tags", None)
    assert "code cells tagged 'exercise'" in _problems(m, path)

    m = copy.deepcopy(nb)
    m.metadata.kernelspec.name = "python3"
    assert "kernelspec name" in _problems(m, path)


def test_solution_markers_and_stubs(good):
    nb, path = good
    assert "solution exercise cells must mark" not in _problems(nb, path)
    student = nbt.derive_student(nb)
    text = "\n".join(c.source for c in student.cells)
    assert nbt.BEGIN not in text and "raise NotImplementedError" in text
    assert _problems(student, path, student=True) == ""
    assert "NotImplementedError stub" in _problems(nb, path, student=True)


def test_derivation_keeps_indentation_and_rejects_broken_markers():
    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n")
    nb = nbformat.v4.new_notebook(cells=[cell])
    out = nbt.derive_student(nb).cells[0].source
    assert out == "def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError"
    nb.cells[0].source = "### BEGIN SOLUTION\nx = 1\n"
    with pytest.raises(ValueError, match="never closed"):
        nbt.derive_student(nb)
    nb.cells[0].source = "x = 1\n### END SOLUTION\n"
    with pytest.raises(ValueError, match="without ### BEGIN SOLUTION"):
        nbt.derive_student(nb)


def test_solution_only_cells_are_dropped():
    cells = [nbformat.v4.new_code_cell("a = 1"),
             nbformat.v4.new_code_cell("b = 2", metadata={"tags": ["solution"]})]
    student = nbt.derive_student(nbformat.v4.new_notebook(cells=cells))
    assert [c.source for c in student.cells] == ["a = 1"]
