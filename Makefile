# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
PY := .venv/bin/python
# two workers for the two cores; each test has a hard time limit (pyproject: timeout)
PYTEST_ARGS ?= -q -n 2

.PHONY: setup demo test test-fast bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) scripts/demo.py

test: setup
	@bash scripts/run_tests.sh $(PYTEST_ARGS) tests

# unit tests only (no QEMU / sshd / adb processes)
test-fast: setup
	@bash scripts/run_tests.sh $(PYTEST_ARGS) -m "not integration and not slow" tests

bench: setup
	@for b in scripts/bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .pytest_cache demo-out
