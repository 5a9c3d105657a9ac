#!/usr/bin/env bash
# Run the whole offline test suite. pytest's exit code 5 (no tests collected) counts as a failure.
set -uo pipefail
PYTHON=${1:-.venv/bin/python}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
"$PYTHON" -m pytest -q -p no:cacheprovider tests
rc=$?
if [ $rc -eq 5 ]; then echo "no tests were collected: failing" >&2; exit 1; fi
exit $rc
