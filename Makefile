# archiver: every target works on a fresh clone; the virtualenv is created on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Wheels of the runtime dependencies and the build backend, so that the tests which install
# archiver afresh (pre-commit try-repo, the built wheel in a new venv) run offline.
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: install test test-slow test-all export bench soak fuzz mutate clean record-double record-sandbox

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(PY) -m pip wheel --quiet --disable-pip-version-check -w $(WHEELHOUSE) . hatchling
	rm -f $(WHEELHOUSE)/archiver-*.whl
	touch $(STAMP)

# Lint, type-check and hold the layers first (settings and contracts in pyproject.toml), then
# every test but the long suites (marked slow: the hostile server, the soak, the built wheel,
# pre-commit, the browser), in 4 processes. `make test-slow` runs those; CI runs both.
test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -n 4 -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -n 4 -m slow

test-all: test test-slow

# The export is pinned to the last commit's time, so the same checkout exports the same bytes.
export: $(STAMP)
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)} \
	  $(VENV)/bin/archiver export examples/records --out exports/examples

bench: $(STAMP)
	$(PY) benchmarks/run.py --sections validate,export,deposit

# hypothesis-driven fuzzing of readers, validator and policy loader; figures to docs/fuzz.json
fuzz: $(STAMP)
	$(PY) benchmarks/fuzz.py --examples 20000 --json docs/fuzz.json

# Mutation testing of the core modules against their own tests; figures to docs/reliability.md.
# One module while working on it: make mutate MODULES=rules (a few minutes each on two cores).
MODULES ?= eligibility rules policy validation deposit.ledger deposit.decide deposit.protocol
mutate: $(STAMP)
	$(PY) benchmarks/mutate.py $(MODULES) --doc docs/reliability.md

# 200 eligible records, every fault on, the deposit SIGKILLed 20 times, through each API and to another
# InvenioRDM repository (the double as one); figures to docs/soak*.json
soak: $(STAMP)
	$(PY) benchmarks/soak.py --records 200 --kills 20 --json docs/soak.json
	$(PY) benchmarks/soak.py --records 200 --kills 20 --api records --json docs/soak-records.json
	$(PY) benchmarks/soak.py --records 200 --kills 20 --api repository --json docs/soak-repository.json

# Cassettes of the deposit flow: recorded against the local double, or the real sandbox.
record-double: $(STAMP)
	$(PY) -m pytest tests/test_cassettes.py --record-mode=rewrite

record-sandbox: $(STAMP)
	@test -n "$$ZENODO_SANDBOX_TOKEN" || { echo "set ZENODO_SANDBOX_TOKEN to re-record against the Zenodo sandbox"; exit 2; }
	ARCHIVER_RECORD_TARGET=sandbox $(PY) -m pytest -o addopts="--strict-markers -ra" tests/test_cassettes.py --record-mode=rewrite

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis exports/examples .bench
