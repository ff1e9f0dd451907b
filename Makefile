# Two commands set everything up on a fresh machine: `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch is pinned to the CPU wheel this machine image carries; installing it first keeps
# stable-baselines3 from pulling the multi-GB CUDA build (2.13.0 satisfies SB3's torch range).
TORCH  := torch==2.13.0
# On a machine without that wheel, take PyTorch's CPU build from its own index instead:
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# The demo needs the package only; the tests also exercise the optional credit-data, zoo, ray and multiagent
# (PettingZoo) extras (and tensorboard, which the test extra lists).
BASE_STAMP := $(VENV)/.installed-base
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-all install bench clean

$(PY):
	python3 -m venv $(VENV)

$(BASE_STAMP): $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	@$(PY) -c "import torch; torch.version.cuda and print('warning: torch', torch.__version__, 'is a CUDA build; see TORCH_INDEX in the Makefile')"
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): $(BASE_STAMP)
	$(PIP) install --quiet -e '.[test,credit,zoo,ray,multiagent]'
	touch $@

install: $(TEST_STAMP)

demo: $(BASE_STAMP)
	$(VENV)/bin/stratgym benchmark --suite quick

# One pytest worker per core (pytest-xdist): the default suite takes about 15 min in one process on 2 cores, and CI
# allows 10 min in all.
XDIST  := -n auto

test: $(TEST_STAMP)
	$(PY) -m pytest -q $(XDIST)

test-all: $(TEST_STAMP)
	$(PY) -m pytest -q $(XDIST) -m "slow or not slow"

bench: $(BASE_STAMP)
	$(PY) scripts/bench_stateful.py --write
	$(PY) scripts/bench_persuasion.py --write
	$(PY) scripts/bench_matrix.py --write
	$(PY) scripts/bench_vector.py --write

clean:
	rm -rf $(VENV) build *.egg-info
