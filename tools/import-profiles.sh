#!/usr/bin/env bash
# tools/import-profiles.sh [DATABASE_DIR] [OUT_ROOT]
# Writes the production-kernel profile of every GPU kind NVIDIA's aiconfigurator tables cover
# (default: ../shared/measured/aiconfigurator beside the checkout) as folders,
# OUT_ROOT/<kind>/aiconfigurator-vllm/ (default OUT_ROOT: build/profiles, git-ignored), with
# `kunsim import aiconfigurator`: for `kunsim fit`, or to copy to a machine without the tables.
# kunsim itself imports the tables at run time; these folders are never committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
db="${1:-$root/../shared/measured/aiconfigurator}"
out="${2:-$root/build/profiles}"
kunsim="${KUNSIM:-$root/build/kunsim}"
[ -x "$kunsim" ] || { echo "tools/import-profiles.sh: build kunsim first (tools/dev.sh build)" >&2; exit 2; }
[ -d "$db" ] || { echo "tools/import-profiles.sh: $db: no aiconfigurator tables there" >&2; exit 2; }
for pair in h100_sxm:h100-sxm h200_sxm:h200 a100_sxm:a100-80g b200_sxm:b200; do
  system="${pair%%:*}" kind="${pair##*:}"
  mkdir -p "$out/$kind"
  "$kunsim" import aiconfigurator "$db" --system "$system" --out "$out/$kind/aiconfigurator-vllm"
done
