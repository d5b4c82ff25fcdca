#!/usr/bin/env bash
# Runs llama.cpp (llama-cpp-python, built for this CPU) and `eulcat bench`
# one after the other on the same GGUF and thread count, and prints the
# ratios. Not a test: CI does not run it.
#
# Usage: bench/compare.sh [--threads N] [--runs N] [--eulcat PATH] [--model PATH]
# The first run builds llama-cpp-python into bench/.venv (about 5 minutes).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if ! "$venv/bin/python" -c 'import llama_cpp, numpy' 2>/dev/null; then
    echo "compare: installing llama-cpp-python into $venv (built for this CPU)…" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip numpy
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
        "$venv/bin/pip" install --quiet llama-cpp-python
fi
exec "$venv/bin/python" "$here/compare.py" "$@"
