#!/usr/bin/env bash
# The CUDA plugin's verification on a machine with an NVIDIA GPU and no package registry.
#
#   conformance/gpu_check.sh OUTDIR
#
# Builds xhal offline into the current Python (no build isolation: nothing can be fetched; the
# machine must already have numpy, pybind11, scikit-build-core, CMake, ninja, jinja2, pyyaml,
# ml_dtypes, rich, PyTorch, nvcc and NVIDIA's cuBLAS package — PyTorch's CUDA wheels bring it),
# installing first any wheels found in $XHAL_WHEELS (default: <repo>/.whl; e.g. jsonschema and
# scipy-openblas32, which such images often lack). Then: `xhal devices -v`, the full conformance
# suite on cuda:0, the runtime (device interface) conformance, and bench/gpu.py against PyTorch on
# the same GPU. Writes OUTDIR/gpu_check.log, conformance.json (+ .html), runtime.json and
# bench.json. Exit status: 0 when the build worked and conformance had no failure. Sized to
# finish within 8 minutes on an H100 (the build uses the GPU's own architecture only).
set -uo pipefail
OUT=${1:?usage: conformance/gpu_check.sh OUTDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
WHEELS=${XHAL_WHEELS:-$ROOT/.whl}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1
step() { printf '\n==== %s [%s, %ss]\n' "$1" "$(date -u +%H:%M:%S)" "$SECONDS"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nvcc --version | tail -2 || true
"$PY" -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name())"

step "build (offline)"
if compgen -G "$WHEELS/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile "$WHEELS"/*.whl || exit 3
fi
"$PY" -m pip install -q --no-build-isolation --no-deps --no-index \
  --config-settings=build-dir=/tmp/xhal-gpu-build \
  --config-settings=cmake.define.XHAL_CUDA=ON \
  --config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES=native \
  --config-settings=build.verbose=false "$ROOT" || { echo "BUILD FAILED"; exit 3; }
XHAL=("$PY" -m xhal)

step "devices"
(cd /tmp && "${XHAL[@]}" devices -v)

step "conformance on cuda:0"
html=()
if (cd /tmp && "${XHAL[@]}" conformance --help) | grep -q -- '--html'; then
  html=(--html "$OUT/conformance.html")
fi
(cd /tmp && timeout 300 "${XHAL[@]}" conformance --device cuda:0 --json "$OUT/conformance.json" \
  "${html[@]}") > "$OUT/conformance.txt" 2>&1
conformance_rc=$?
grep -v "│ *[0-9]* │ *0 │ *0 │" "$OUT/conformance.txt" | tail -80
echo "conformance exit status: $conformance_rc"

step "runtime conformance on cuda:0"
if (cd /tmp && "${XHAL[@]}" conformance --help) | grep -q -- '--runtime'; then
  (cd /tmp && timeout 120 "${XHAL[@]}" conformance --runtime --device cuda:0 \
    --json "$OUT/runtime.json") 2>&1 | tail -40
else
  echo "this xhal has no runtime conformance (--runtime)"
fi

step "benchmark against PyTorch"
(cd /tmp && timeout 240 "$PY" "$ROOT/bench/gpu.py" --json "$OUT/bench.json") 2>&1

step "done"
exit $conformance_rc
