#!/usr/bin/env bash
# tools/dev.sh run [kunsim run args...]   build the simulator alone, then run a scenario (default:
#                                         the embedded default)
# tools/dev.sh test [ctest args...]       build in Release (CUDA kernels and their CPU emulator
#                                         included where the toolkit is) and run the whole suite
# tools/dev.sh test-sanitizers [ctest args...]
#                                         build under ASan + UBSan (CMakePresets.json: no CUDA) and
#                                         run the suite there
# tools/dev.sh build                      build only (Release), the Python module (build/python) included
# CI (.ci/run) runs test, then test-sanitizers.
# Installs missing Debian packages with apt-get first, so each works on a fresh Debian machine:
# `run` only what the simulator needs, the others what the suite needs too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build_dir="${KUNSIM_BUILD_DIR:-build}"
cmd="${1:-run}"
[ $# -gt 0 ] && shift

# The simulator: a compiler, CMake, Ninja, and the header-only libraries of the design card.
packages=(cmake g++ ninja-build libboost-graph-dev nlohmann-json3-dev libcli11-dev)
# The suite: GoogleTest, Google Benchmark (the hot-path benchmarks), python3-matplotlib (kunsim
# report draws with it), Open MPI (sweeps spread over ranks; its tests run where it is found) and
# Boost.Context (the CUDA emulator's fibers). The Python module (python/): pybind11 and Python's
# headers to build it, pandas for its data frames, pytest for its tests, pip and venv for
# `pip install .`.
[ "$cmd" = run ] || packages+=(libgtest-dev libbenchmark-dev python3-matplotlib libopenmpi-dev openmpi-bin
                               libboost-context-dev python3-pybind11 pybind11-dev python3-dev python3-pandas python3-pytest
                               python3-pip python3-venv)
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
elif [ ${#missing[@]} -gt 0 ]; then
  # What CMake looked for and did not find at the first configure (say, by `run`, before the
  # suite's packages were here) stays not found in its cache: forget it and look again, or the
  # suite, or its MPI tests, would silently be missing.
  cmake -S . -B "$build_dir" -U 'GTEST*' -U 'GTest*' -U 'benchmark*' -U 'MPI*' -U 'Boost*' -U 'boost*' \
    -U 'pybind11*' -U 'Python*' -U '_Python*' >/dev/null
fi

case "$cmd" in
  run)
    cmake --build "$build_dir" --target kunsim -j "$(nproc)"
    exec "$build_dir/kunsim" run "$@" ;;
  build)
    cmake --build "$build_dir" -j "$(nproc)" ;;
  test)
    cmake --build "$build_dir" -j "$(nproc)"
    cd "$build_dir"
    exec ctest --output-on-failure -j "$(nproc)" "$@" ;;
  test-sanitizers)
    # The same suite under ASan + UBSan (CMakePresets.json): memory errors and undefined
    # behaviour fail the tests, and the golden decision logs must match across build types.
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$(nproc)"
    exec ctest --preset asan -j "$(nproc)" "$@" ;;
  *) echo "usage: tools/dev.sh run|test|test-sanitizers|build" >&2; exit 2 ;;
esac
