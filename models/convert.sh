#!/usr/bin/env bash
# Reproduce models/*.onnx (and manifest.toml, mediapipe_graphs.txt, face_mesh_topology.json,
# LICENSE-mediapipe) from the mediapipe 0.10.14 wheel on PyPI. Run by hand, not in CI.
#
#   bash models/convert.sh              # venv in $VENV (default: /work/venv-models)
#   REFERENCE=1 bash models/convert.sh  # also regenerate reference/astronaut_landmarks.json
#
# Needs python3.11 (the wheels pinned in requirements.txt are cp311, linux x86_64) and PyPI.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-/work/venv-models}"
PY="${PYTHON:-python3.11}"
WHEELDIR="$(mktemp -d)"
trap 'rm -rf "$WHEELDIR"' EXIT

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"

# The same wheel pip installed; the models are taken from the wheel file itself.
"$VENV/bin/pip" download --quiet --no-deps --only-binary=:all: \
  --python-version 3.11 --platform manylinux2014_x86_64 \
  -d "$WHEELDIR" mediapipe==0.10.14
WHEEL="$(ls "$WHEELDIR"/mediapipe-0.10.14-*.whl)"
echo "wheel: $WHEEL"
sha256sum "$WHEEL"

"$VENV/bin/python" "$HERE/convert.py" --wheel "$WHEEL" --out "$HERE"

if [ "${REFERENCE:-0}" = "1" ]; then
  "$VENV/bin/python" "$HERE/make_reference.py"
fi

echo
(cd "$HERE" && sha256sum face_detection_short_range.onnx face_landmark.onnx iris_landmark.onnx)
