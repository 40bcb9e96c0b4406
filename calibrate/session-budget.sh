# calibrate/session-budget.sh: how long a gpu-session.sh step may run, sourced by gpu-session.sh
# and tested on its own (calibrate/test/session-budget-test.sh) with the clock given as numbers,
# so the rule is checked without waiting on any real clock.

# Seconds kept at the end of a session for packing what was measured.
KUNSIM_SESSION_PACK_S=10

# session_step_limit LIMIT NOW DEADLINE prints how long a step may run:
#   - DEADLINE "none" (the emulator's test of the procedure): LIMIT as given ("none" runs the step
#     without a limit, so a slow or busy machine cannot fail the procedure's test);
#   - else the step's own LIMIT cut to what is left before DEADLINE less the packing time, and
#     "skip" where under 5 s are left (the step is recorded as skipped, not started and cut at once).
session_step_limit() {
  local limit="$1" now="$2" deadline="$3"
  if [ "$deadline" = none ]; then echo "$limit"; return; fi
  local left=$(( deadline - now - KUNSIM_SESSION_PACK_S ))
  if [ "$left" -lt 5 ]; then echo skip
  elif [ "$limit" = none ] || [ "$limit" -gt "$left" ]; then echo "$left"
  else echo "$limit"; fi
}
