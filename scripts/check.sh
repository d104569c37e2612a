#!/usr/bin/env bash
# Every test and check of optuna-srm, in a virtual environment of its own:
#   ruff check, ruff format --check, mypy (strict, on optuna_srm/) and pytest, with the
#   extras dev and torch (tests marked gpu skip without CUDA).
#
# Environment:
#   OPTUNA_SRM_VENV   the virtual environment to use (default: .venv-test in the repository)
#   PYTHON            the interpreter that creates it (default: python3)
#   CI=true           delete and recreate the virtual environment first (a fresh install)
#   OPTUNA_SRM_FRESH_VENV=1   the same outside CI
# Arguments are passed on to pytest (e.g. `bash scripts/check.sh -m "not slow"`).
#
# Every check runs even when an earlier one fails; the exit status is non-zero if any failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${OPTUNA_SRM_VENV:-.venv-test}"
python="${PYTHON:-python3}"

if [[ "${CI:-}" == "true" || "${OPTUNA_SRM_FRESH_VENV:-}" == "1" ]]; then
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "check: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

echo "check: installing .[dev,torch] into $venv"
start=$SECONDS
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile -e ".[dev,torch]"
echo "check: installed in $((SECONDS - start)) s"

failed=()
run() {
    local name="$1"
    shift
    local start=$SECONDS status=0
    echo
    echo "==> $name: $*"
    "$@" || status=$?
    echo "<== $name: exit $status after $((SECONDS - start)) s"
    if ((status != 0)); then
        failed+=("$name")
    fi
}

run "ruff check" "$venv/bin/ruff" check .
run "ruff format" "$venv/bin/ruff" format --check .
run "mypy" "$venv/bin/mypy"
run "pytest" "$venv/bin/python" -m pytest "$@"

echo
if ((${#failed[@]})); then
    list=$(printf '%s, ' "${failed[@]}")
    echo "check: FAILED: ${list%, }"
    exit 1
fi
echo "check: ruff, mypy and pytest all succeeded"
