#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS]   fuzz each target (scenario parser, trace readers) for SECONDS (60)
# Builds with clang's libFuzzer + ASan + UBSan in build-fuzz/, runs each target with a time
# bound, and merges the inputs that found new coverage into tests/fuzz/corpus/<target>/, which
# ctest replays. A crash leaves its input as build-fuzz/crash-*: fix the bug, then add the input
# to the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DKUNSIM_FUZZ=ON -DKUNSIM_BUILD_CUDA=OFF -DKUNSIM_WITH_MPI=OFF >/dev/null
cmake --build build-fuzz --target fuzz_scenario fuzz_trace
for t in scenario trace; do
  mkdir -p "build-fuzz/corpus-$t"
  echo "fuzzing $t for ${seconds}s"
  (cd build-fuzz && ./tests/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
     -max_len=4096 "corpus-$t" "../tests/fuzz/corpus/$t" 2>&1 | grep -E "ERROR|what\(\)|Done|crash-|timeout-" || true)
  # Inputs that add coverage to the committed corpus; the committed corpus stays small: at most
  # the 50 smallest of them are kept (ctest replays every one).
  rm -rf "build-fuzz/merged-$t" && mkdir -p "build-fuzz/merged-$t"
  ./build-fuzz/tests/fuzz/fuzz_$t -merge=1 "build-fuzz/merged-$t" "tests/fuzz/corpus/$t" "build-fuzz/corpus-$t" 2>&1 | tail -1
  for f in $(cd "build-fuzz/merged-$t" && ls -S -r | head -50); do
    [ -e "tests/fuzz/corpus/$t/$f" ] || cp "build-fuzz/merged-$t/$f" "tests/fuzz/corpus/$t/"
  done
done
ls build-fuzz/crash-* build-fuzz/timeout-* 2>/dev/null && { echo "fuzz: crashes found (above)"; exit 1; } || echo "fuzz: no crashes"
