#!/usr/bin/env bash
# Install ONNX Runtime's shared library (the version in .ci/onnxruntime-version) from its PyPI
# wheel into a virtual environment and print the library's path on stdout, for
# ORT_DYLIB_PATH. The embedded runtime needs nothing; the library is for the test that compares
# both runtimes. With CI=true a failed install fails (exit 1), so that CI cannot pass by
# skipping that test; elsewhere it is a note on stderr and nothing is printed.
# SKINTEX_CI_PYTHON chooses the Python (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${SKINTEX_CI_PYTHON:-python3}
version=$(cat .ci/onnxruntime-version)
venv="${TMPDIR:-/tmp}/skintex-ci-ort"
lib=""
if "$python" -m venv "$venv" && "$venv/bin/pip" install --quiet --no-deps "onnxruntime==$version"; then
  lib=$(ls "$venv"/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1* 2>/dev/null | head -n 1 || true)
fi
if [ -n "$lib" ] && [ -f "$lib" ]; then
  echo "$lib"
elif [ "${CI:-}" = true ]; then
  echo "onnxruntime $version could not be installed from PyPI: CI needs it for the runtime-equivalence test" >&2
  exit 1
else
  echo "onnxruntime $version not installed: the runtime-equivalence test will say it is skipped" >&2
fi
