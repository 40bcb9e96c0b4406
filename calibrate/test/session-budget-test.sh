#!/usr/bin/env bash
# The GPU session's time budget (calibrate/session-budget.sh) with an injected clock: a step keeps
# its own limit while the session has room, is cut to what is left before the deadline (less the
# packing time), is skipped under 5 s, and runs without a limit where there is no deadline (the
# emulator's test of the procedure).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../session-budget.sh
. "$here/../session-budget.sh"
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect WANT LIMIT NOW DEADLINE
  local got
  got=$(session_step_limit "$2" "$3" "$4")
  [ "$got" = "$1" ] || fail "session_step_limit $2 $3 $4: got $got, want $1"
}
start=1000 deadline=1450  # the real session's 450 s
expect 60 60 "$start" "$deadline"            # room to spare: the step's own limit
expect 240 240 1200 "$deadline"              # exactly what is left (1450 - 1200 - 10)
expect 140 240 1300 "$deadline"              # cut to what is left
expect 5 60 1435 "$deadline"                 # 5 s left still runs
expect skip 60 1436 "$deadline"              # under 5 s: skipped
expect skip 60 1500 "$deadline"              # past the deadline
expect 440 none "$start" "$deadline"         # no limit of its own: what is left
expect 60 60 999999 none                     # no deadline: the step's limit, whatever the clock
expect none none 999999 none                 # the emulator: no limit at all
echo "PASS: session step limits under an injected clock"
