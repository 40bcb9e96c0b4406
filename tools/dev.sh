#!/usr/bin/env bash
# tools/dev.sh run [kunsim run args...]   build, then run a scenario (default: the embedded default)
# tools/dev.sh test                       build, then run the whole test suite with ctest, in the
#                                         Release build and again under ASan + UBSan
# tools/dev.sh build                      build only
# Installs missing Debian packages with apt-get first, so both work on a fresh Debian machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build_dir="${KUNSIM_BUILD_DIR:-build}"

# python3-matplotlib draws `kunsim report`; Open MPI spreads sweeps over ranks. Both are optional
# for the simulator itself, but the tests exercise them.
packages=(cmake g++ ninja-build libboost-graph-dev nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev
          python3-matplotlib libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools/dev.sh: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmd="${1:-run}"
[ $# -gt 0 ] && shift
# `run` builds only the simulator (not the CUDA kernels, the emulator or the tests).
if [ "$cmd" = run ]; then
  cmake --build "$build_dir" --target kunsim -j "$(nproc)"
else
  cmake --build "$build_dir" -j "$(nproc)"
fi
case "$cmd" in
  run) exec "$build_dir/kunsim" run "$@" ;;
  test)
    (cd "$build_dir" && ctest --output-on-failure -j "$(nproc)" "$@")
    # The same suite under ASan + UBSan (CMakePresets.json): memory errors and undefined
    # behaviour fail the tests, and the golden decision logs must match across build types.
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$(nproc)"
    exec ctest --preset asan -j "$(nproc)" "$@" ;;
  build) ;;
  *) echo "usage: tools/dev.sh run|test|build" >&2; exit 2 ;;
esac
