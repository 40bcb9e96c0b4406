#!/usr/bin/env bash
# Regenerates tests/golden/: the decisions.jsonl of scenarios/burst.json and
# scenarios/preempt.json under every policy.
# They are priced as users' runs are, from the committed measured H100 profile (cost.model=auto,
# KUNSIM_MEASURED_DIR unset).
# Run it when a planner or policy change is intended, review `git diff tests/golden`, commit.
#   tools/bless-goldens.sh            (builds first with tools/dev.sh build)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/dev.sh build >/dev/null
build_dir="${KUNSIM_BUILD_DIR:-build}"
for s in burst preempt; do
  for p in $("$build_dir/kunsim" policies | awk '{print $1}'); do
    out="$build_dir/golden-run/$s.$p"
    rm -rf "$out"  # this script's own scratch (older kunsim versions left it unmarked)
    env -u KUNSIM_MEASURED_DIR "$build_dir/kunsim" run "scenarios/$s.json" --set policy.name="$p" --set cost.model=auto \
      --out "$out" --quiet --no-wall-clock
    cp "$out/decisions.jsonl" "tests/golden/$s.$p.decisions.jsonl"
    echo "tests/golden/$s.$p.decisions.jsonl: $(wc -l < "$out/decisions.jsonl") decisions"
  done
done
