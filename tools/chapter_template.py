# %% [markdown]
# Chapter template (jupytext percent format). A new chapter NN is these files, and no edit
# anywhere else: course_utils/chapters/chNN.py (ChNNSizes, CHAPTER = ChapterSpec(stem,
# title, sizes=dict(quick=..., full=...), targets=(Target(...), ...))), the solutions
# notebook, its lesson code in course_utils (+ course_utils/exercises/chNN.py), tests in
# tests/test_chNN_*.py, and results/quick/NN.json from `make run-all NOTEBOOKS=...`.
# Start the notebook with
#   cp tools/chapter_template.py /tmp/NN_name.py   # edit it
#   .venv/bin/jupytext --to ipynb /tmp/NN_name.py -o notebooks/solutions/NN_name.ipynb
#   make derive && make check-notebooks
# or edit notebooks/solutions/NN_name.ipynb in JupyterLab directly (View -> slide type
# with the property inspector). This first cell is not part of the template.

# %% [markdown] slideshow={"slide_type": "slide"}
# # NN · Title
#
# One sentence on what the chapter builds. Estimated time; quick-profile runtime.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning objectives
#
# After this chapter you will be able to:
#
# - …(3–5 bullets, each something the learner can *do*)

# %% slideshow={"slide_type": "skip"}
from course_utils.chapter import start_chapter  # first: decides online/offline before HF imports

ch = start_chapter("NN")

import torch

S = ch.sizes  # every size comes from course_utils/chapters/chNN.py (quick or full)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Theory
#
# Prose that explains *why*, with the math where it helps: $\mathrm{softmax}(QK^\top/\sqrt{d_k})V$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Build it from scratch
#
# Short cells; each followed by a visible check (an assert, a printed number, a plot).

# %% slideshow={"slide_type": "subslide"}
x = torch.randn(2, 3)
assert x.shape == (2, 3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Compare with the library the field uses
#
# Same numbers from `transformers` / `peft` / `torch` (parity within a stated tolerance).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Train, visualise, explore
#
# `course_utils.train.train(...)` with sizes from `S`; plots from `course_utils.plotting`;
# a widget from `course_utils.widgets`. `ch.record("name", value)` every headline number.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1 — …** What to implement, with the shapes.

# %% slideshow={"slide_type": "subslide"} tags=["exercise"]
def exercise_one(x: torch.Tensor) -> torch.Tensor:
    """One-line description."""
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION

# %% slideshow={"slide_type": "fragment"}
# from course_utils.exercises.chNN import check_exercise_one
# check_exercise_one(exercise_one)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Check your understanding
#
# 1. Question?
#    <details><summary>Answer</summary>Short model answer.</details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - …

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - Author (year). *Title.* Venue. arXiv id.

# %% slideshow={"slide_type": "skip"}
ch.finish()
