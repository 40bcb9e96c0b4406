#!/usr/bin/env bash
# calibrate/gpu-session.sh: what to run on a GPU machine, from the repository root. Builds only
# kernels/ + calibrate/ (CUDA plus the headers tools/carry-headers.sh put in .deps/include), then
#   calibrate/gpu-session.sh check                  runs the kernel correctness checks
#   calibrate/gpu-session.sh calibrate ARGS...      runs kunsim-calibrate ARGS (e.g. --model
#                                                   llama-3-8b --tp 1 --tp 2 --out DIR)
# and prints the build's resource report for the attention kernels (registers, spills).
set -euo pipefail
build="${KUNSIM_GPU_BUILD:-build-gpu}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKUNSIM_CUDA_ONLY=ON >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv || true
cmd="${1:-check}"
[ $# -gt 0 ] && shift
case "$cmd" in
  check) exec "$build/kunsim-kernels-check" "$@" ;;
  calibrate) exec "$build/kunsim-calibrate" "$@" ;;
  *) echo "usage: calibrate/gpu-session.sh check|calibrate [args]" >&2; exit 2 ;;
esac
