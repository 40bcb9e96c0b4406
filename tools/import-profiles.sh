#!/usr/bin/env bash
# tools/import-profiles.sh [DATABASE_DIR]
# Regenerates the shipped production-kernel profiles, calibrate/profiles/<kind>/aiconfigurator-vllm/,
# from NVIDIA's aiconfigurator tables (default: ../shared/measured/aiconfigurator beside the
# checkout), with `kunsim import aiconfigurator`. The result is deterministic: a re-run over the
# same tables gives byte-identical files (tests/cost/shipped_profiles_test checks it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
db="${1:-$root/../shared/measured/aiconfigurator}"
kunsim="${KUNSIM:-$root/build/kunsim}"
[ -x "$kunsim" ] || { echo "tools/import-profiles.sh: build kunsim first (tools/dev.sh build)" >&2; exit 2; }
[ -d "$db" ] || { echo "tools/import-profiles.sh: $db: no aiconfigurator tables there" >&2; exit 2; }
for pair in h100_sxm:h100-sxm h200_sxm:h200 a100_sxm:a100-80g b200_sxm:b200; do
  system="${pair%%:*}" kind="${pair##*:}"
  "$kunsim" import aiconfigurator "$db" --system "$system" --out "$root/calibrate/profiles/$kind/aiconfigurator-vllm"
done
