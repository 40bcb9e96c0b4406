#!/usr/bin/env bash
# calibrate/gpu-session.sh: a whole GPU session in one call (calibrate/SESSION.md says how to run it).
#   calibrate/gpu-session.sh OUT_DIR             on a GPU machine, from the repository root
#   calibrate/gpu-session.sh --emulate OUT_DIR   the same procedure on the CPU emulator (the test
#                                                calibrate.gpu_session): emulator builds, a tiny
#                                                model and grid
# Steps, each its own process under `timeout`, each recorded whatever the others do:
#   info (nvidia-smi, driver, nvcc; no GPU is a failure) -> configure + build (kernels/ and
#   calibrate/ only, tests off, -lineinfo) -> check (kernel correctness) -> smoke (a quick
#   calibration, thrown away) -> one step per model shard -> transfers. Rows are saved after every
#   op family, so a step cut off by its timeout keeps what it finished. Clocks, power and
#   throttle reasons are logged every second in the background.
# The whole session keeps within KUNSIM_SESSION_BUDGET_S (default 450 s, under the 8 minutes a
# lent GPU's command may take with room to spare): a step's limit is cut to what is left, and a
# step with no time left is recorded as skipped (calibrate/session-budget.sh). Under --emulate
# there is no deadline and no step limit: that run tests the procedure, not the machine's speed.
# OUT_DIR gets two files: session.tar.gz (profile folder, logs, clock log) and SUMMARY.txt (each
# step's status and time, rows measured). Exit 0 only if every step passed.
# For the test of the procedure: KUNSIM_SESSION_KILL_STEP=NAME and KUNSIM_SESSION_KILL_AFTER=FAMILY
# kill that step's calibration right after it saved that op family's rows.
set -uo pipefail
emulate=0
if [ "${1:-}" = "--emulate" ]; then emulate=1; shift; fi
out="${1:?usage: calibrate/gpu-session.sh [--emulate] OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
clocks=""
trap '[ -n "$clocks" ] && kill "$clocks" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/logs" "$work/profile"
summary="$work/SUMMARY.txt"
# shellcheck source=session-budget.sh
. "$root/calibrate/session-budget.sh"
start=$(date +%s)
deadline=$(( start + ${KUNSIM_SESSION_BUDGET_S:-450} ))
[ "$emulate" = 1 ] && deadline=none
failed=0
echo "kunsim GPU session $(date -u +%FT%TZ) at $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)" >"$summary"
[ "$emulate" = 1 ] && echo "mode: CPU emulator (times are meaningless; the procedure is what is tested)" >>"$summary"

record() {  # record NAME SECONDS STATUS
  printf '%-22s %5s s  %s\n' "$1" "$2" "$3" >>"$summary"
  echo "gpu-session: $1: $3"
}

# step NAME SECONDS CMD...: runs CMD under timeout (cut to the session's budget; none under
# --emulate), logs to logs/NAME.log, records the outcome.
step() {
  local name="$1" limit="$2"; shift 2
  [ "$emulate" = 1 ] && limit=none
  limit=$(session_step_limit "$limit" "$(date +%s)" "$deadline")
  if [ "$limit" = skip ]; then record "$name" 0 "SKIPPED (session budget spent)"; failed=1; return 0; fi
  local runner=()
  [ "$limit" = none ] || runner=(timeout --kill-after=5 "$limit")
  local t0 rc took status=ok
  t0=$(date +%s)
  "${runner[@]}" "$@" >"$work/logs/$name.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - t0 ))
  if [ "$limit" != none ] && { [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ "$took" -ge "$limit" ]; }; }; then
    status="TIMED OUT after ${limit} s (rows of finished op families kept)"
  elif [ $rc -eq 137 ]; then status="KILLED (rows of finished op families kept)"
  elif [ $rc -ne 0 ]; then status="FAILED (exit $rc; see logs/$name.log)"; fi
  [ "$status" = ok ] || failed=1
  record "$name" "$took" "$status"
}

pack() {
  local rows=0
  [ -f "$work/profile/ops.csv" ] && rows=$(( $(wc -l <"$work/profile/ops.csv") - 1 ))
  echo "op rows measured: $rows; total $(( $(date +%s) - start )) s; $([ $failed = 0 ] && echo 'every step passed' || echo 'NOT every step passed')" >>"$summary"
  cp "$summary" "$out/SUMMARY.txt"
  tar -czf "$out/session.tar.gz" -C "$work" SUMMARY.txt logs profile
  echo "gpu-session: wrote $out/session.tar.gz and $out/SUMMARY.txt"
  cat "$out/SUMMARY.txt"
}

# 1. What machine this is. No GPU (or no driver) is a failure, never a skip: the session would
#    otherwise look as if all were well.
if [ "$emulate" = 0 ]; then
  { nvidia-smi && nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,memory.total --format=csv; } \
    >"$work/logs/info.log" 2>&1 || { record info 0 "NO GPU: nvidia-smi failed (logs/info.log)"; failed=1; }
  if command -v nvcc >/dev/null; then nvcc --version
  elif [ -x /usr/local/cuda/bin/nvcc ]; then /usr/local/cuda/bin/nvcc --version
  else echo "nvcc: not found"; fi >>"$work/logs/info.log" 2>&1
  cat "$work/logs/info.log"
  if [ $failed -ne 0 ]; then echo "gpu-session: no GPU here; this is a failure" >&2; pack; exit 1; fi
  record info 0 ok
fi

# 2. Header-only dependencies: the GPU machine has no -dev packages, so .deps/include travels
#    with the tree (carried, SESSION.md); where the system has the headers, they are made here.
if [ "$emulate" = 0 ] && [ ! -d "$root/.deps/include/nlohmann" ]; then
  "$root/tools/carry-headers.sh" >"$work/logs/deps.log" 2>&1 || {
    record deps 0 "MISSING: .deps/include was not carried (calibrate/SESSION.md)"; failed=1; pack; exit 1; }
fi

# 3. The binaries, and what each step measures.
spec="$root/calibrate/test/tiny-model.json" grid="$root/calibrate/test/tiny-grid.json"
if [ "$emulate" = 1 ]; then
  build="${KUNSIM_EMU_BUILD:-$root/build}"
  check=("$build/kunsim-kernels-emu-check")
  calibrate=("$build/kunsim-calibrate-emu" --kind h100-sxm --trials 3 --no-ceilings)
  shards=("tiny-tp1|--model-spec $spec --tp 1 --grid $grid" "tiny-tp2|--model-spec $spec --tp 2 --grid $grid")
  smoke="--model-spec $spec --tp 1 --grid $grid"
  transfers="--transfers-only --grid $grid"
  limit_model=120
else
  build="${KUNSIM_GPU_BUILD:-$root/build-gpu}"
  nccl=()
  # NCCL may come with the CUDA install, or only with PyTorch's nvidia-nccl wheel.
  if nccl_root="$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))' 2>/dev/null)"; then
    nccl=(-DNCCL_ROOT="$nccl_root")
  fi
  step configure 90 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKUNSIM_CUDA_ONLY=ON \
    -DKUNSIM_BUILD_TESTS=OFF -DCMAKE_CUDA_ARCHITECTURES="${KUNSIM_CUDA_ARCH:-90}" -DCMAKE_CUDA_FLAGS=-lineinfo "${nccl[@]}"
  step build 240 cmake --build "$build" -j "$(nproc)" --target kunsim-kernels-check kunsim-calibrate
  check=("$build/kunsim-kernels-check")
  calibrate=("$build/kunsim-calibrate")
  shards=("llama-3-8b-tp1|--model llama-3-8b --tp 1" "llama-3-8b-tp2|--model llama-3-8b --tp 2"
          "qwen2.5-14b-tp1|--model qwen2.5-14b --tp 1" "llama-3-70b-tp4|--model llama-3-70b --tp 4"
          "llama-3-70b-tp8|--model llama-3-70b --tp 8")
  smoke="--model llama-3-8b --tp 1 --quick"
  transfers="--transfers-only"
  limit_model=60
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active \
    --format=csv -lms 1000 >"$work/logs/clocks.csv" 2>/dev/null &
  clocks=$!
fi

# 4. Correctness first, then a smoke run into its own folder, then the profile, a step a shard.
step check 60 "${check[@]}"
# shellcheck disable=SC2086  # the argument strings split into words on purpose
step smoke 45 "${calibrate[@]}" $smoke --no-transfers --out "$work/smoke-profile"
for s in "${shards[@]}"; do
  name="model-${s%%|*}" args="${s#*|}"
  kill_env=()
  if [ "${KUNSIM_SESSION_KILL_STEP:-}" = "$name" ]; then kill_env=(KUNSIM_CALIBRATE_KILL_AFTER="${KUNSIM_SESSION_KILL_AFTER:?}"); fi
  # shellcheck disable=SC2086
  step "$name" "$limit_model" env "${kill_env[@]}" "${calibrate[@]}" $args --no-transfers --out "$work/profile"
done
# shellcheck disable=SC2086
step transfers 30 "${calibrate[@]}" $transfers --out "$work/profile"
# 5. The production reference: PyTorch's SDPA (cuDNN and flash backends) over the prefill points
#    just measured, where PyTorch sees the GPU; reference.csv and meta.json's "reference".
if [ "$emulate" = 0 ] && python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step reference 60 python3 "$root/calibrate/torch_reference.py" --profile "$work/profile" \
    --model llama-3-8b --tp 1 --model qwen2.5-14b --tp 1 --backends cudnn,flash
else
  record reference 0 "SKIPPED (no PyTorch that sees a GPU$([ "$emulate" = 1 ] && echo ': emulator'))"
fi
rm -rf "$work/smoke-profile"
pack
exit $failed
