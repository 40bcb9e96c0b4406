#!/usr/bin/env bash
# tools/import-profiles.sh [DATABASE_DIR] [OUT_ROOT]
# Regenerates the committed production-kernel profiles from NVIDIA's aiconfigurator tables
# (default DATABASE_DIR: ../shared/measured/aiconfigurator beside the checkout): one folder per GPU
# kind the tables cover, OUT_ROOT/<kind>/aiconfigurator-vllm/ (default OUT_ROOT: calibrate/profiles,
# in place), written by `kunsim import aiconfigurator`. Commit what changed: these folders are what
# a fresh clone prices from, and the test ImportedProfiles.AFreshImportIsByteIdenticalToTheCommittedProfile
# fails wherever they differ from a fresh import. The raw tables themselves are never committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
db="${1:-$root/../shared/measured/aiconfigurator}"
out="${2:-$root/calibrate/profiles}"
kunsim="${KUNSIM:-$root/build/kunsim}"
[ -x "$kunsim" ] || { echo "tools/import-profiles.sh: build kunsim first (tools/dev.sh build)" >&2; exit 2; }
[ -d "$db" ] || { echo "tools/import-profiles.sh: $db: no aiconfigurator tables there" >&2; exit 2; }
# Every GPU kind whose entry names an aiconfigurator system (`kunsim list gpus`: kind, system or -).
"$kunsim" list gpus | while read -r kind system _; do
  [ "$system" = "-" ] && continue
  mkdir -p "$out/$kind"
  "$kunsim" import aiconfigurator "$db" --system "$system" --out "$out/$kind/aiconfigurator-vllm"
done
