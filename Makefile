# Transformers & large models -- an interactive course.
#   make lab    set up (.venv, pinned stack, kernel) and open JupyterLab
#   make test   set up and run every test (unit, parity, all notebooks, browser)
# Set-up is idempotent: a second run only checks a stamp file (seconds).

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.course-installed
# WordNet for NLTK (chapter 06), built offline from Debian's wordnet packages into the venv's
# nltk_data folder, which NLTK searches by default (course_utils/_maintain/wordnet.py).
WORDNET     := $(VENV)/nltk_data/corpora/wordnet/lexnames
KERNEL      := transformers-course
NB_STUDENT  := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NB_SOLUTION := $(sort $(wildcard notebooks/solutions/[0-9][0-9]_*.ipynb))
CELL_TIMEOUT ?= 300
# Extra JupyterLab flags, e.g. `make lab LAB_ARGS="--no-browser --port=8890"`. As root (the
# default user of Docker containers and many cloud VMs) Jupyter refuses to start without
# --allow-root, so the lab target adds it for uid 0.
LAB_ARGS    ?=
LAB_ROOT    := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# Tests run like CI: quick profile, offline. On a GPU runner with the Hub:
#   make test TEST_PROFILE=full TEST_OFFLINE=0
TEST_PROFILE ?= quick
TEST_OFFLINE ?= 1
# HF_HUB_OFFLINE=1 is enough: importing course_utils sets the other offline and quiet
# variables (course_utils/assets.py: OFFLINE_ENV, QUIET_ENV) before any HF library loads.
TEST_ENV := COURSE_PROFILE=$(TEST_PROFILE) $(if $(filter 1,$(TEST_OFFLINE)),HF_HUB_OFFLINE=1 \
	HF_HOME=$(CURDIR)/build/hf_home,) \
	MPLBACKEND=module://matplotlib_inline.backend_inline \
	COURSE_RESULTS_DIR=$(CURDIR)/build/test-results PYTHONDONTWRITEBYTECODE=1

.PHONY: help setup lab test test-unit test-notebooks test-smoke test-after run-all slides handouts derive \
	check-notebooks clean distclean

help:
	@sed -n '1,4p' Makefile

setup: $(STAMP) $(WORDNET)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 needed, found " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/lab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(PY) -m pip check
	touch $(STAMP)

# No WordNet (no apt, no network) is not fatal here: the rest of the course works, and
# chapter 06 and its tests stop with a message that says how to install it.
$(WORDNET): | $(STAMP)
	$(PY) -m course_utils._maintain.wordnet $(VENV)/nltk_data || \
		echo "WARNING: WordNet is not installed; chapter 06 needs it (see the message above)"

lab: setup
	$(BIN)/jupyter lab $(LAB_ROOT) $(LAB_ARGS) notebooks/

derive: setup
	$(PY) -m course_utils._maintain.notebooks derive

check-notebooks: setup
	$(PY) -m course_utils._maintain.notebooks check

test: setup
	rm -rf build/test-results
	$(MAKE) --no-print-directory test-unit test-notebooks test-smoke test-after

test-unit:
	$(TEST_ENV) $(PY) -m pytest -q -n 2 -m "not browser and not targets" tests

# Every notebook executed by nbval, one thread per kernel (2 kernels x 2 threads on 2 cores
# was measured 5x slower). The student versions run two at a time; the solution versions
# then run one at a time, as a learner runs a chapter: the chapter targets check the runtime
# they record, and a kernel sharing the machine with another was measured 1.35x slower.
test-notebooks:
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile --nbval-lax \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider $(NB_STUDENT)
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PY) -m pytest -q --nbval-lax \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider $(NB_SOLUTION)

# The full profile's code paths (Hub models, real dataset names, full-only branches) at
# tiny sizes, on a fixture Hub of tiny random models under the real ids: every solutions
# notebook once. Its numbers mean nothing; its targets check that those branches ran.
HUB_FIXTURES := $(CURDIR)/build/hub_fixtures
test-smoke:
	$(PY) -m course_utils._maintain.hub_fixtures $(HUB_FIXTURES)
	$(TEST_ENV) COURSE_PROFILE=smoke COURSE_HUB_FIXTURES=$(HUB_FIXTURES) HF_HOME=$(HUB_FIXTURES) \
		OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile --nbval-lax \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider $(NB_SOLUTION)
	$(TEST_ENV) COURSE_PROFILE=smoke $(PY) -m pytest -q -m targets tests/test_targets.py

# Chapter targets read what the notebooks recorded; then the real-browser test. Last, one line
# with every chapter's recorded runtime (pass or fail).
test-after:
	$(TEST_ENV) $(PY) -m pytest -q -m "browser or targets" tests; status=$$?; \
		$(TEST_ENV) $(PY) -m course_utils.results; exit $$status

# Profile from COURSE_PROFILE (default auto); online if the Hub is reachable.
run-all: setup
	OMP_NUM_THREADS=1 MPLBACKEND=module://matplotlib_inline.backend_inline $(PY) tools/run_all.py $(NOTEBOOKS)

# Decks in build/slides/ (offline with npm); handouts: one PDF per chapter in build/handouts/
# (the decks printed by headless Chromium). Both use executed copies where they exist.
slides: setup
	$(PY) tools/make_slides.py

handouts: setup
	$(PY) tools/make_handouts.py

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
