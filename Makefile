# The pooling notebook collection. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all

# A Python 3.12 or later: PYTHON=/path/to/python, or the one tools/python.sh finds or builds
# (once per machine, about 12 minutes, outside the repository).
PYTHON ?=
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed

# Notebooks run only on demand (see `make calibration`), never by `make`.
ON_DEMAND := notebooks/05_calibration.py
SOURCES := $(filter-out $(ON_DEMAND),$(sort $(wildcard notebooks/[0-9][0-9]_*.py)))
# Notebooks executed at the same time (independent ones run in parallel, each in a kernel
# forked from one warm process: see src/pooling/runner/kernels.py).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Test processes of `make test` (pytest-xdist; the units of work are set in conftest.py).
TEST_JOBS ?= $(JOBS)

# Your own data: make DATA=path.csv GROUP=name TRIALS=name SUCCESSES=name OUT=directory
DATA ?=
OUT ?=
GROUP ?= vehicle
TRIALS ?= launches
SUCCESSES ?= successes
# Further options for `python -m pooling run`, e.g. RUN_ARGS="-p MARGINAL_TARGET_ACCEPT 0.95"
RUN_ARGS ?=
# The population's predictors (notebook 06, and a fourth model in `make estimates`), e.g.
# PREDICTORS=log_trials; built in: log_trials, log_trials_cubic; or columns of the CSV.
PREDICTORS ?=
PREDICTORS_PARAMETER := $(if $(PREDICTORS),-p PREDICTORS "$(PREDICTORS)")
# An existing Dask cluster for `make estimates` and `make calibration`: SCHEDULER=tcp://host:port
SCHEDULER ?=
SCHEDULER_PARAMETER := $(if $(SCHEDULER),-p SCHEDULER "$(SCHEDULER)")

.PHONY: all notebooks calibration own-data estimates test check lint bench help clean clean-cache venv lab dot chromium qemu

ifneq ($(OUT),)
all: own-data ## Execute every notebook in place and write every figure (only what changed)
else ifneq ($(DATA),)
all:
	@echo "make: DATA=$(DATA) needs OUT=<directory> for the executed notebooks, figures and results"; exit 2
else
all: notebooks
endif

# Which notebooks are out of date is decided by content (the digest of the source, data,
# analysis code and lock that each .ipynb and its results record) by `python -m pooling
# notebooks --changed`, so that all of them run in one process: with nothing changed (a fresh
# clone), nothing. `make clean && make` regenerates everything.
notebooks: $(INSTALLED) | dot ## Same as `make`
	@$(PY) -m pooling notebooks --changed --jobs $(JOBS) $(SOURCES)
	@$(PY) -m pooling stale $(ON_DEMAND)

# With SCHEDULER=tcp://host:port, the replicates run on that Dask cluster (same ranks); with
# DATA=... OUT=..., at the design of your own table, into OUT (the committed 05 untouched).
calibration: $(INSTALLED) | dot ## Simulation-based calibration of the four models (notebook 05, ~8 min)
ifneq ($(OUT),)
	$(PY) -m pooling notebooks $(ON_DEMAND) --output "$(OUT)/05_calibration.ipynb" \
		--figures "$(OUT)/figures" --results "$(OUT)/results" \
		-p DATA "$(abspath $(or $(DATA),data/spacex_launches.csv))" -p GROUP "$(GROUP)" \
		-p TRIALS "$(TRIALS)" -p SUCCESSES "$(SUCCESSES)" $(SCHEDULER_PARAMETER) $(RUN_ARGS)
else
	$(PY) -m pooling notebooks $(ON_DEMAND) $(SCHEDULER_PARAMETER) $(RUN_ARGS)
endif

# Byte-compiled at install: Python then never compiles a library again, in any process
# (also where PYTHONDONTWRITEBYTECODE is set, as on this project's CI machine).
$(INSTALLED): requirements.lock pyproject.toml tools/python.sh src/pooling/portable.py src/pooling/runner/kernelspec.py \
		src/pooling/runner/speedups.py
	@python=$$(PYTHON="$(PYTHON)" tools/python.sh) && echo "$$python -m venv --clear $(VENV)" \
		&& "$$python" -m venv --clear $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	$(PY) -c 'from pooling.runner.kernelspec import install_kernel; install_kernel()'
	touch $@

own-data: $(INSTALLED) | dot ## With DATA=... OUT=...: run every notebook on your CSV into OUT
	@test -n "$(OUT)" || { echo "make: own-data needs OUT=<directory>"; exit 2; }
	$(PY) -m pooling run --data "$(or $(DATA),data/spacex_launches.csv)" --group "$(GROUP)" \
		--trials "$(TRIALS)" --successes "$(SUCCESSES)" --out "$(OUT)" --jobs $(JOBS) \
		$(PREDICTORS_PARAMETER) $(RUN_ARGS)

estimates: $(INSTALLED) ## With DATA=... OUT=... [SCHEDULER=...]: only the table of estimates, any size
	@test -n "$(OUT)" || { echo "make: estimates needs OUT=<directory>"; exit 2; }
	$(PY) -m pooling estimates --data "$(or $(DATA),data/spacex_launches.csv)" --group "$(GROUP)" \
		--trials "$(TRIALS)" --successes "$(SUCCESSES)" --out "$(OUT)" \
		$(if $(SCHEDULER),--scheduler "$(SCHEDULER)") $(PREDICTORS_PARAMETER) $(RUN_ARGS)

venv: $(INSTALLED) ## Create .venv from requirements.lock (when missing or stale)

# Jupyter refuses root without --allow-root; root is common in containers (and on CI machines).
# LAB_ARGS: further options for `jupyter lab`, e.g. LAB_ARGS="--no-browser --port 8890".
LAB_ARGS ?=
lab: $(INSTALLED) | dot ## Open the notebooks in JupyterLab (kernels with the portable settings)
	@if [ "$$(id -u)" = 0 ]; then echo "make lab: running as root, so JupyterLab starts with --allow-root"; fi
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS) notebooks/

# $(call debian-package,COMMAND,PACKAGE,MESSAGE): install PACKAGE with apt-get when COMMAND is
# missing and we are root on Debian; otherwise print the variable MESSAGE and stop.
define debian-package
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(2) (apt-get install $(2))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "make: $($(3))"; \
	    exit 1; \
	  fi; }
endef
DOT_MISSING := Graphviz 'dot' is missing: install it (sudo apt-get install graphviz, brew install graphviz or conda install -c conda-forge graphviz) and run make again
CHROMIUM_MISSING := Chromium is missing: install it (sudo apt-get install chromium) and run make test again
QEMU_MISSING := qemu-x86_64 is missing: install it (sudo apt-get install qemu-user) and run make bench again

dot: ## Make sure Graphviz's `dot` program is installed
	$(call debian-package,dot,graphviz,DOT_MISSING)

chromium: ## Make sure a Chromium browser is installed (for the JupyterLab test)
	$(call debian-package,chromium,chromium,CHROMIUM_MISSING)

qemu: ## Make sure qemu-x86_64 is installed (for BENCH=portability)
	$(call debian-package,qemu-x86_64,qemu-user,QEMU_MISSING)

test: $(INSTALLED) | dot chromium ## Run the whole test suite (package tests, nbval, JupyterLab in a browser)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder

# The edit-and-test loop: the library's and the exact answers' tests but the slowest (marked
# `slow`), and nbval on notebook 01 (the runner, the pipeline, the browser and the other
# notebooks are `make test`'s).
CHECK_TESTS := tests/exact $(filter-out tests/test_makefile.py,$(wildcard tests/test_*.py)) \
	notebooks/01_no_pooling.ipynb
check: $(INSTALLED) | dot ## A quick subset of `make test`: package tests and notebook 01 (about a minute)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder -m "not slow" $(CHECK_TESTS)

# Benchmarks (never part of `make test`): BENCH=collection, samplers or scale for just one;
# BENCH=groups the whole collection at the default settings on 17,593 real and 2e4 and 1e6
# synthetic groups (~10 minutes); BENCH=folded_terms the folded likelihood's two forms;
# BENCH=mass_matrix notebook 3's fits with a diagonal or a low-rank mass matrix (~8 minutes);
# BENCH=coordinates the hierarchical fit's coordinates across data (~10 minutes);
# BENCH=calibration notebook 05 at 1000 replicates (~4 minutes with its warm-up);
# BENCH=portability the hierarchical fit on CPU models emulated by qemu (~5 minutes);
# BENCH=estimates the table of estimates alone on 17,593 real and 2e4, 1e5 and 1e6 synthetic
# groups, without and with PREDICTORS=log_trials (~4 minutes);
# BENCH=refit_se whether a leave-one-out refit's standard error is honest (~30 s);
# BENCH=beta_tails SciPy's two ways to the upper tail of a Beta, for the estimates (~1 minute);
# BENCH=trials_check how often the check of rates against trials fails a right model (~10 min);
# BENCH=heldout held-out counts under the regression population, ebbr's fit and the
# exchangeable one (~10 min); BENCH=regression_priors its priors' prior predictive (~1 min);
# BENCH=numeric_predictors the regression with a numeric predictor that does not fold (~10 min);
# BENCH=regression_gradient its log density's three forms (~3 minutes);
# BENCH=folded_sampler the population's fit on folded counts, compiled or one Numba function (~2 min);
# BENCH=rank_draws how many population draws the rank quantiles need (~2 min);
# BENCH=mixture_draws how many the hierarchical mixtures need (~1 min);
# BENCH=mixture_check how often their exact checks fail a right fit at 50 draws (~2 min);
# BENCH=side_exit how often a failed estimates run's side process left stderr debris (~4 min);
# BENCH=distributed the estimates of 1e5 to 1e7 groups on a local 2-worker Dask cluster
# (~15 minutes; its script is dask_cluster.py: a distributed.py would hide the package);
# BENCH_ARGS="--predictors log_trials" adds the regression, in a section of its own (~8 min).
BENCH ?= collection samplers scale
BENCH_ARGS ?=
bench: $(INSTALLED) | dot $(if $(filter portability,$(BENCH)),qemu) ## Run the benchmarks and write benchmarks/RESULTS.md (several minutes)
	@for b in $(BENCH); do echo "== $$b"; s=$$b; [ $$b = distributed ] && s=dask_cluster; \
		(cd benchmarks && ../$(PY) $$s.py $(BENCH_ARGS)) || exit 1; done

lint: $(INSTALLED) ## Run the pre-commit hooks on every file (ruff, notebook checks)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

clean: ## Remove results and caches (then `make` regenerates every notebook, figure and result)
	rm -rf results .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

clean-cache: ## Remove the compiled nutpie models kept between runs (src/pooling/runner/compile_cache.py)
	rm -rf "$$($(PY) -c 'from pooling.runner.compile_cache import cache_dir; print(cache_dir())')"

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
