#!/usr/bin/env bash
# The GPU check of optuna-srm search, as one script for a machine with a GPU: it installs the
# project with the torch extra into a virtual environment of its own, prints what it runs on,
# then runs benchmarks/gpu.py (a short search on CIFAR-10-sized random data, one worker) on
# the devices given (default auto). On a machine without a GPU, `bash benchmarks/gpu.sh cpu`
# runs the same end to end on the CPU, on the digits data.
#
#   bash benchmarks/gpu.sh [DEVICES] [gpu.py options...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

devices="${1:-auto}"
shift || true
venv="${OPTUNA_SRM_GPU_VENV:-.venv-gpu}"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ".[torch]"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.cuda.is_available())'
if [[ "$devices" == "cpu" ]]; then
    exec "$venv/bin/python" benchmarks/gpu.py --devices cpu --dataset digits --n-trials 6 \
        --epochs 3 --batch-size 64 "$@"
fi
exec "$venv/bin/python" benchmarks/gpu.py --devices "$devices" "$@"
