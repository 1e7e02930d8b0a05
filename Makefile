# One command builds the website, one proves it: see README.md.
SHELL := /bin/bash
# The interpreter for .venv: PYTHON if given (make book PYTHON=python3.13), otherwise the newest
# Python 3.11 or later on the PATH (tools/find_python.sh).
PYTHON ?= $(shell tools/find_python.sh)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MATHJAX := node_modules/mathjax/es5/tex-mml-chtml.js
# The book must stay quick to re-run: seconds for one notebook, and for all of them, under nbval.
NOTEBOOK_BUDGET ?= 30
BOOK_BUDGET ?= 150
# The first run on a machine (or after a JAX upgrade) also compiles every program the notebooks use:
# when the compilation cache was cold, these apply instead (measured cold: 65 s for the slowest
# chapter, 224 s for the book; warm: 24 s and 86 s).
NOTEBOOK_BUDGET_COLD ?= 90
BOOK_BUDGET_COLD ?= 360
# Notebooks run in parallel, one per core available (pytest-xdist; each notebook has its own kernel).
NBVAL_WORKERS ?= auto
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# The two heaviest chapters never run side by side: one first, beside the light ones, one last.
NBVAL_FIRST := notebooks/08_flax.ipynb
NBVAL_LAST := notebooks/07_optax.ipynb
NBVAL_ORDER := $(filter $(NBVAL_FIRST),$(NOTEBOOKS)) $(filter-out $(NBVAL_FIRST) $(NBVAL_LAST),$(NOTEBOOKS)) $(filter $(NBVAL_LAST),$(NOTEBOOKS))
# CPU only (no accelerator probing and no warning about it) and a fixed hash seed.
export JAX_PLATFORMS := cpu
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Notebooks are executed, and compared, with each kernel's matrix products on one thread: the
# single-thread results are the ones `taskset -c 0` gets, and two notebooks share the two cores
# without fighting over them. `make notebooks` and `make nbval` both use it.
NOTEBOOK_XLA_FLAGS := $(strip $(XLA_FLAGS) --xla_cpu_multi_thread_eigen=false)

.PHONY: help venv book test lint unit nbval doctor build browser browser-deps notebooks lab clean lock assignments hosted-cell mathjax wheelhouse install-test

help:
	@echo "make book          create .venv if needed (PYTHON=...: which interpreter), install, build the website into _build/html"
	@echo "make test          create .venv if needed, then every check: unit tests, every notebook re-executed and compared,"
	@echo "                   the hosted set-up in a fresh environment, the build with warnings as errors, the site in a browser"
	@echo "make notebooks     re-execute every notebook in place in a fresh kernel (the only way to regenerate outputs)"
	@echo "make lab           open JupyterLab on the notebooks"
	@echo "make lock          re-resolve uv.lock (UPGRADE=1: newest releases) and export requirements.txt from it"
	@echo "make hosted-cell   write the hosted set-up cell (from _config.yml's repository) into every chapter"
	@echo "make assignments   write student copies (no solutions) and instructor copies into assignments/"
	@echo "make handout      the student handout: _build/handout/jaxbook-handout.zip"
	@echo "make grade SUBMISSIONS=DIR  a gradebook from the instructor copies' checks: _build/grade/"
	@echo "make pdf          the whole book as one PDF: _build/pdf/jaxbook.pdf (and in the site)"
	@echo "make dist         site, PDF, notebooks and handout in one offline archive: _build/dist/"
	@echo "make bench         time the chapters' training loops against this machine's limits (not part of make test)"
	@echo "make clean         remove the build, the virtual environment and caches"

# The environment is rebuilt whenever the requirements or the package metadata change, and when
# PYTHON names an interpreter of another version than the one .venv was made with.
VENV_PYTHON = $(shell test -x $(BIN)/python && $(BIN)/python -c 'import platform; print(platform.python_version())')
WANT_PYTHON = $(shell $(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null)
ifneq ($(filter command line environment,$(origin PYTHON)),)
ifneq ($(VENV_PYTHON),)
ifneq ($(WANT_PYTHON),)
ifneq ($(VENV_PYTHON),$(WANT_PYTHON))
$(shell rm -rf $(VENV))
endif
endif
endif
endif

$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  if [ -z "$(PYTHON)" ]; then echo "No Python 3.11 or later found on the PATH: install one, or give it as make book PYTHON=/path/to/python3.13"; exit 1; fi; \
	  echo "Creating $(VENV) with $(PYTHON): Python $(WANT_PYTHON) at $$(command -v $(PYTHON))"; \
	  $(PYTHON) -m venv $(VENV) || exit 1; \
	fi
	@echo "Installing the locked environment into $(VENV) (Python $$($(BIN)/python -c 'import platform; print(platform.python_version())'))"
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	$(BIN)/python -m jaxbook.doctor
	@touch $@

# MathJax, which the website serves itself, pinned by package-lock.json; no Node or npm needed.
$(MATHJAX): package-lock.json $(STAMP)
	$(BIN)/python tools/fetch_mathjax.py
	@touch $@

mathjax: $(MATHJAX)

venv: $(STAMP)

book: $(STAMP)
	@echo "make book with Python $(VENV_PYTHON) in $(VENV)"
	$(MAKE) build
	@echo "The website is at file://$(CURDIR)/_build/html/index.html"

build: $(STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . -W -n --keep-going

# ruff: lint and format, configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# JAX's persistent compilation cache, for the unit tests and the notebooks: XLA's compiled programs
# are kept between runs, per machine and Python, outside the clone. The cache returns exactly the
# program XLA would compile (its key includes the XLA flags and versions), so outputs are the same;
# a second run is much faster (Chapter 8: 35 s cold, 16 s warm). JAX_CACHE= turns it off.
JAX_CACHE ?= $(HOME)/.cache/jaxbook/jax-$(VENV_PYTHON)
CACHE_ENV := $(if $(JAX_CACHE),JAX_COMPILATION_CACHE_DIR=$(JAX_CACHE) JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=-1)
unit: $(STAMP)
	$(CACHE_ENV) $(BIN)/python -m pytest tests src/jaxbook --doctest-modules --ignore=tests/site --ignore=tests/install --ignore=tests/grading -q -p no:nbval -n $(NBVAL_WORKERS) --dist worksteal --durations=5

# Two notebooks share the two cores: each kernel's matrix products stay on one thread (the
# single-thread results are the ones `taskset -c 0` checks), and each pytest worker, with its
# kernel, keeps to a core of its own (conftest.py), so they don't fight over the cores.
nbval: export XLA_FLAGS := $(NOTEBOOK_XLA_FLAGS)
nbval: $(STAMP)
	$(CACHE_ENV) $(BIN)/python -m pytest --nbval $(NBVAL_ORDER) --nbval-sanitize-with tests/nbval_sanitize.cfg -q \
	  -n $(NBVAL_WORKERS) --dist loadfile --notebook-budget $(NOTEBOOK_BUDGET) --book-budget $(BOOK_BUDGET) \
	  --cold-notebook-budget $(NOTEBOOK_BUDGET_COLD) --cold-book-budget $(BOOK_BUDGET_COLD)

# Notebook hygiene, with the shared doctor that sits beside the project in CI
# (a reader's clone has no ../shared: there it is skipped, in CI it is required).
DOCTOR := ../shared/tools/notebook_doctor.py
doctor: $(STAMP)
	@if [ -f $(DOCTOR) ]; then $(BIN)/python $(DOCTOR) $(NOTEBOOKS); \
	elif [ -n "$$CI" ]; then echo "$(DOCTOR) is missing"; exit 1; \
	else echo "notebook doctor: $(DOCTOR) not found beside this clone, skipped"; fi

# The built site in headless Chromium with the network cut off (tests/site).
browser: $(STAMP) browser-deps
	$(BIN)/python -m pytest tests/site -q -s

# Chromium for the browser test: installed from Debian's packages when missing and we may.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed (sudo apt-get install chromium): the browser test will be skipped"; \
	  fi; \
	fi

test: $(STAMP)
	@echo "make test with Python $(VENV_PYTHON) in $(VENV)"
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) doctor
	$(MAKE) install-test
	$(MAKE) build
	$(MAKE) kit-test
	$(MAKE) browser
	@echo "make test: all checks passed"

notebooks: export XLA_FLAGS := $(NOTEBOOK_XLA_FLAGS)
notebooks: $(STAMP)
	@for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(CACHE_ENV) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.kernel_name=python3 "$$nb" || exit 1; \
	done

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

# Re-resolve uv.lock after a change to pyproject.toml (UPGRADE=1: move every package to its newest
# release), then export requirements.txt and binder/requirements.txt from it. Needs the network.
lock: $(STAMP)
	$(BIN)/python tools/lock.py $(if $(UPGRADE),--upgrade)

# Wheels for the hosted-install test (tests/install), so that the test itself needs no network: the
# packages the chapters need and what the test's fresh environment starts with.
WHEELHOUSE := _build/wheelhouse
$(WHEELHOUSE)/.done: binder/requirements.txt tests/install/preinstalled.txt $(STAMP)
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE) -r binder/requirements.txt "setuptools>=77"
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE) -r tests/install/preinstalled.txt
	@touch $@

wheelhouse: $(WHEELHOUSE)/.done

# The hosted set-up cell installs jaxbook into a fresh environment offline, and a chapter runs there.
install-test: $(WHEELHOUSE)/.done
	$(BIN)/python -m pytest tests/install -q

# Write the hosted set-up cell (from the repository in _config.yml) into every chapter.
hosted-cell: $(STAMP)
	$(BIN)/python tools/hosted_cell.py $(NOTEBOOKS)

clean:
	rm -rf _build $(VENV) node_modules assignments .pytest_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Student copies (solutions removed, checks kept) and instructor copies of every chapter.
assignments: $(STAMP)
	$(BIN)/python tools/assignments.py $(NOTEBOOKS) --out assignments
	@echo "Student notebooks in assignments/student, instructor notebooks in assignments/instructor"

# The benchmark, not part of `make test`: the chapters' training loops in three styles and the
# reference tools, against this machine's measured FLOP/s and memory bandwidth (about 2-3 minutes).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out _build/bench.md

# ---- Course kit: handouts, gradebook, PDF, offline bundle (tools/, book/course_guide.md) ----------
.PHONY: handout grade grade-deps pdf pdf-deps dist kit-test
HANDOUT := _build/handout/jaxbook-handout.zip
PDF := _build/pdf/jaxbook.pdf
DIST := _build/dist/jaxbook-offline.zip
# make grade SUBMISSIONS=DIR: one folder (or one notebook) per student. Without it: the fixture class.
SUBMISSIONS ?=
GRADE_OUT ?= _build/grade
GRADE_OPTS ?= --jobs 2 --cell-timeout 60 --memory 3

# What a student needs: the student notebooks, the jaxbook wheel, requirements.txt, a README.
handout: assignments
	$(BIN)/python tools/handout.py --student assignments/student --out $(HANDOUT)

# The gradebook, from the instructor copies' checks, each submission sandboxed (bubblewrap).
grade: assignments grade-deps
	@if [ -z "$(SUBMISSIONS)" ]; then \
	  rm -rf _build/fixture-class && $(BIN)/python tools/fixture_class.py _build/fixture-class --instructor assignments/instructor; fi
	$(BIN)/python tools/grade.py $(if $(SUBMISSIONS),$(SUBMISSIONS),_build/fixture-class) \
	  --instructor assignments/instructor --out $(GRADE_OUT) $(GRADE_OPTS)

grade-deps:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap for the grader's sandbox"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bubblewrap is not installed (sudo apt-get install bubblewrap): the grader refuses to run without it"; fi; \
	fi

# One PDF of the introduction and every chapter, printed from the built site by Chromium.
pdf: $(STAMP) browser-deps pdf-deps
	@test -f _build/html/index.html || $(MAKE) build
	$(BIN)/python tools/pdf.py --site _build/html --out $(PDF)

pdf-deps:
	@if ! command -v pdfunite >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing poppler-utils for the PDF"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "poppler-utils is not installed (sudo apt-get install poppler-utils): make pdf needs pdfunite"; fi; \
	fi

# The website, the PDF, the notebooks and the handout in one archive that works from file://.
dist: pdf handout
	$(BIN)/python tools/dist.py --site _build/html --handout $(HANDOUT) --out $(DIST)

# Part of `make test`: the course-kit tests (grading a fixture class, the handout) and the PDF,
# whose checks run with the browser test (tests/site).
kit-test: $(STAMP) grade-deps
	$(BIN)/python -m pytest tests/grading -q
	$(MAKE) dist
