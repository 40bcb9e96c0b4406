#!/usr/bin/env bash
# tools/carry-headers.sh: copies the header-only dependencies of kernels/ + calibrate/
# (nlohmann/json, CLI11) into .deps/include (git-ignored), so a GPU machine with only the CUDA
# toolkit can build them: cmake -S . -B build-gpu -DKUNSIM_CUDA_ONLY=ON picks them up there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/include"
mkdir -p "$dest"
for dir in nlohmann CLI; do
  src="/usr/include/$dir"
  [ -d "$src" ] || { echo "tools/carry-headers.sh: $src missing (apt-get install nlohmann-json3-dev libcli11-dev)" >&2; exit 2; }
  rm -rf "${dest:?}/$dir"
  cp -r "$src" "$dest/"
done
echo "headers in $dest: $(du -sh "$dest" | cut -f1)"
