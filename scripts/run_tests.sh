#!/usr/bin/env bash
# Run the test suite. pytest's exit code 5 ("no tests collected") is a failure here: this project
# has tests, so collecting none means the suite is broken (a bad path, an import-time skip ...).
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "error: pytest collected no tests (hint: check tests/ paths and markers)" >&2
  exit 1
fi
exit $rc
