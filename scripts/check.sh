#!/usr/bin/env bash
# Every test and check of optuna-srm, in a virtual environment of its own:
#   ruff check, ruff format --check, mypy (strict, on optuna_srm/) and pytest, with the
#   extras dev, torch and dashboard (tests marked gpu skip without CUDA); then pytest again,
#   without the torch and slow tests, in a second environment (<venv>-minimum) with the oldest
#   versions of the core dependencies that pyproject.toml admits. The dashboard's page is loaded in
#   Chromium where one is installed (.ci/run installs it).
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

# make_venv DIR: (re)create the virtual environment DIR, afresh under CI or when asked to.
make_venv() {
    if [[ "${CI:-}" == "true" || "${OPTUNA_SRM_FRESH_VENV:-}" == "1" ]]; then
        rm -rf "$1"
    fi
    if [[ ! -x "$1/bin/python" ]]; then
        echo "check: creating $1 with $("$python" --version 2>&1)"
        "$python" -m venv "$1"
    fi
}

make_venv "$venv"

echo "check: installing .[dev,torch,dashboard] into $venv"
start=$SECONDS
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
    -e ".[dev,torch,dashboard]"
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
# One test process per core (pytest-xdist); arguments after it win (-n 0: one process).
run "pytest" "$venv/bin/python" -m pytest -n auto "$@"

# The oldest releases that pyproject.toml admits for the core dependencies (each "name>=x"
# pinned to x), with the dev extra: every test that needs neither torch nor much time. Their wheels exist for
# Python 3.10 and 3.11 only (numpy 1.24), so other interpreters skip this.
minimum_tests() {
    local min_venv="$venv-minimum" constraints
    if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] > (3, 11))'; then
        echo "check: the minimum versions need Python 3.10 or 3.11; skipped"
        return 0
    fi
    make_venv "$min_venv"
    constraints="$min_venv/minimum-versions.txt"
    "$venv/bin/python" - >"$constraints" <<'PY'
import re
text = open("pyproject.toml").read()
block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
print("\n".join(f"{name}=={version}" for name, version in re.findall(r'"([\w-]+)>=([\w.]+)[",]', block)))
PY
    echo "check: $(tr '\n' ' ' <"$constraints")"
    "$min_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
        -c "$constraints" -e ".[dev,dashboard]" &&
        "$min_venv/bin/python" -m pytest -n auto --ignore=tests/torch -m "not slow" \
            -p no:cacheprovider "$@"
}
run "pytest, minimum versions" minimum_tests "$@"

echo
if ((${#failed[@]})); then
    list=$(printf '%s, ' "${failed[@]}")
    echo "check: FAILED: ${list%, }"
    exit 1
fi
echo "check: ruff, mypy and pytest all succeeded"
