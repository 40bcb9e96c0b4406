#!/usr/bin/env bash
# calibrate/gpu-session.sh as a lent GPU would run it, tested where there is none:
#   1. "no GPU" (an nvidia-smi that fails) is a failure, with the reason in SUMMARY.txt and an
#      archive all the same;
#   2. the whole procedure on the CPU emulator, with one model step killed right after it saved
#      gemm_o's rows: every other step passes, the killed step keeps the rows it finished, and
#      OUT_DIR holds exactly what a lent machine returns (2 files, no folders).
# Usage: session-test.sh BUILD_DIR SCRATCH
set -euo pipefail
build="$1" scratch="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$scratch"
mkdir -p "$scratch/fake-bin"

# 1. No GPU.
printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver"\nexit 9\n' \
  >"$scratch/fake-bin/nvidia-smi"
chmod +x "$scratch/fake-bin/nvidia-smi"
rc=0
PATH="$scratch/fake-bin:$PATH" "$root/calibrate/gpu-session.sh" "$scratch/nogpu" >"$scratch/nogpu.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a session without a GPU exited 0"
grep -q "NO GPU" "$scratch/nogpu/SUMMARY.txt" || fail "SUMMARY.txt does not say there is no GPU"
[ -f "$scratch/nogpu/session.tar.gz" ] || fail "no archive from a session without a GPU"

# 2. The procedure on the emulator, the TP 2 shard killed after gemm_o.
rc=0
KUNSIM_EMU_BUILD="$build" KUNSIM_SESSION_KILL_STEP=model-tiny-tp2 KUNSIM_SESSION_KILL_AFTER=gemm_o \
  "$root/calibrate/gpu-session.sh" --emulate "$scratch/out" >"$scratch/emu.log" 2>&1 || rc=$?
cat "$scratch/emu.log"
[ "$rc" -eq 1 ] || fail "a session with a killed step exited $rc, not 1"
s="$scratch/out/SUMMARY.txt"
for step in check smoke model-tiny-tp1 transfers; do
  grep -qE "^$step +[0-9]+ s  ok$" "$s" || fail "step $step did not pass"
done
grep -qE "^model-tiny-tp2 +[0-9]+ s  KILLED" "$s" || fail "the killed step is not recorded as killed"
[ "$(find "$scratch/out" -mindepth 1 | wc -l)" -eq 2 ] || fail "OUT_DIR holds more than its two files"
mkdir "$scratch/unpacked"
tar -xzf "$scratch/out/session.tar.gz" -C "$scratch/unpacked"
ops="$scratch/unpacked/profile/ops.csv"
for op in gemm_qkv gemm_o gemm_gate_up gemm_down rmsnorm silu_mul gemm_lm_head rope_cache attn_prefill attn_decode; do
  grep -q "^$op,tiny-emu,1," "$ops" || fail "no $op rows for the TP 1 shard"
done
for op in gemm_qkv gemm_o; do grep -q "^$op,tiny-emu,2," "$ops" || fail "the killed step lost its finished $op rows"; done
! grep -q "^gemm_gate_up,tiny-emu,2," "$ops" || fail "rows measured after the kill"
grep -q "^memcpy_h2d,,0," "$ops" || fail "no transfer rows"
grep -q '"not_measured"' "$scratch/unpacked/profile/meta.json" || fail "meta.json does not say what the session could not measure"
for log in check smoke model-tiny-tp1 model-tiny-tp2 transfers; do
  [ -s "$scratch/unpacked/logs/$log.log" ] || fail "no log for $log"
done
echo "PASS: no GPU fails; the emulated session packs every step's log and rows, and a killed step keeps gemm_qkv and gemm_o"
