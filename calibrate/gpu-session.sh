#!/usr/bin/env bash
# calibrate/gpu-session.sh: what to run on a GPU machine, from the repository root. Builds only
# kernels/ + calibrate/ (CUDA plus the headers tools/carry-headers.sh put in .deps/include), then
#   calibrate/gpu-session.sh check               the kernel correctness checks (float64 reference)
#   calibrate/gpu-session.sh calibrate ARGS...   kunsim-calibrate ARGS (e.g. --model llama-3-8b
#                                                --tp 1 --tp 2 --out DIR)
#   calibrate/gpu-session.sh shipped-set DIR     the set the shipped profile covers, into DIR:
#                                                llama-3-8b TP1+TP2, qwen2.5-14b TP1,
#                                                llama-3-70b TP4+TP8, then the transfers
# KUNSIM_CUDA_ARCH picks the build's target (default 90, the H100/H200).
set -euo pipefail
build="${KUNSIM_GPU_BUILD:-build-gpu}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  nccl=()
  # NCCL may come with the CUDA install, or only with PyTorch's nvidia-nccl wheel.
  if nccl_root="$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))' 2>/dev/null)"; then
    nccl=(-DNCCL_ROOT="$nccl_root")
  fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKUNSIM_CUDA_ONLY=ON \
        -DCMAKE_CUDA_ARCHITECTURES="${KUNSIM_CUDA_ARCH:-90}" "${nccl[@]}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv || true
cmd="${1:-check}"
[ $# -gt 0 ] && shift
case "$cmd" in
  check) exec "$build/kunsim-kernels-check" "$@" ;;
  calibrate) exec "$build/kunsim-calibrate" "$@" ;;
  shipped-set)
    out="${1:?usage: calibrate/gpu-session.sh shipped-set DIR}"
    "$build/kunsim-calibrate" --model llama-3-8b --tp 1 --tp 2 --no-transfers --out "$out"
    "$build/kunsim-calibrate" --model qwen2.5-14b --tp 1 --no-transfers --out "$out"
    "$build/kunsim-calibrate" --model llama-3-70b --tp 4 --tp 8 --out "$out" ;;
  *) echo "usage: calibrate/gpu-session.sh check|calibrate ARGS|shipped-set DIR" >&2; exit 2 ;;
esac
