#!/usr/bin/env bash
# A test suite under valgrind's memcheck: fails on any invalid read or
# write (and other memory errors) and on any block definitely lost,
# with GLib's suppressions and tests/valgrind.supp (leaks of libraries,
# each justified there).
#
#   scripts/valgrind.sh                   the end-to-end suite whepsrc
#   scripts/valgrind.sh SUITE [TEST...]   a meson test (whepsrc, rotation,
#                                         ice, usage, faults, or a unit
#                                         suite: helpers, policy, client,
#                                         switch), optionally only the named
#                                         GstCheck cases (GST_CHECKS)
#   scripts/valgrind.sh ci                CI's fast subset (~1.5 min), end
#                                         to end: a session played and
#                                         DELETEd, a garbage answer, four
#                                         rotations
#
# Only the test process is run under valgrind, not what it starts (the
# WHEP test server, gst-launch-1.0): those are not whepsrc's client side,
# and a server encoding video under valgrind would be too slow to serve.
# Each GstCheck case runs in a child of its own (GstCheck's fork, which
# stays under valgrind and writes its own log), so that a failing case
# cannot leave its pipeline running into the next one or into exit; the
# timeouts (meson's and the cases' own waits) are multiplied by
# ${VALGRIND_TIMEOUT_MULTIPLIER:-10}.  Under valgrind the decoder runs
# tens of times slower than the stream, so the cases' frame-exact checks
# (no frame lost or repeated) only print their counts
# (WHEP_TEST_NOT_REALTIME): they assert in the normal runs.  Uninitialised-value checks are off
# (libvpx and OpenSSL report their own by design, and the check doubles
# the run time); VALGRIND_UNDEF=1 turns them on.
#
# Uses ${BUILD_DIR:-build} (configured and built if needed, with ninja
# -j${VALGRIND_JOBS:-1}).  Prints per process the errors and the bytes
# definitely lost; the logs stay in $BUILD_DIR/valgrind/SUITE/, meson's in
# $BUILD_DIR/meson-logs/valgrind-SUITE.* (not the log of a meson test this
# may run under).  Exit status: 0 clean, 1 a memory error or a definite
# leak, or meson test's failure; 77 without valgrind.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: not installed (apt-get install valgrind)" >&2
  exit 77
fi

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dtests=enabled >/dev/null || exit 1
fi

undef=no
[ "${VALGRIND_UNDEF:-0}" = 1 ] && undef=yes
glib_supp=/usr/share/glib-2.0/valgrind/glib.supp
supps=(--suppressions="$PWD/tests/valgrind.supp")
[ -f "$glib_supp" ] && supps+=(--suppressions="$glib_supp")

# GLib and GStreamer told to help: every slice a malloc (visible to
# memcheck), freed memory cleared (no stale pointer keeps a block
# "reachable"), no libproxy resolver thread.
export G_SLICE=always-malloc
export GIO_USE_PROXY_RESOLVER=dummy
export WHEP_TEST_NOT_REALTIME=1
export CK_TIMEOUT_MULTIPLIER=${VALGRIND_TIMEOUT_MULTIPLIER:-10}
# The cases' own waits (tests/check/harness.c scaled()) stretch alike.
export WHEP_TEST_TIMEOUT_SCALE=${VALGRIND_TIMEOUT_MULTIPLIER:-10}

# Runs SUITE (optionally only the named cases) under memcheck and reads
# what memcheck said.  Returns 0 clean, 1 on a memory error or a definite
# leak, else meson test's status.
run_suite() {
  local suite=$1 checks status bad=0 log pid errors lost invalid
  shift
  checks=$(IFS=,; echo "$*")
  # A unit suite needs its binary only; an end-to-end one the plugin and
  # the test server too.
  local targets=()
  case "$suite" in
    helpers|policy|client|switch) targets=("tests/check/test-$suite") ;;
  esac
  nice -n "${VALGRIND_NICE:-10}" ninja -j"${VALGRIND_JOBS:-1}" -C "$build" \
    "${targets[@]}" >/dev/null || {
    echo "valgrind: the build in $build failed (ninja -C $build)" >&2
    return 1
  }

  local logs
  logs=$(cd "$build" && pwd)/valgrind/$suite
  rm -rf "$logs"
  mkdir -p "$logs"
  # G_DEBUG in the wrapper: the suites' environment sets its own.
  local vg="env G_DEBUG=gc-friendly,fatal-criticals valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite"
  vg="$vg --errors-for-leak-kinds=definite --undef-value-errors=$undef"
  vg="$vg --num-callers=40 --track-fds=no --trace-children=no"
  vg="$vg --error-exitcode=99 --log-file=$logs/%p.log"
  for s in "${supps[@]}"; do vg="$vg $s"; done

  echo "valgrind: $suite${checks:+ ($checks)}"
  local only=()
  [ -n "$checks" ] && only=("GST_CHECKS=$checks")
  env "${only[@]}" meson test -C "$build" --no-rebuild --print-errorlogs \
    --num-processes 1 --logbase "valgrind-$suite" \
    --timeout-multiplier "${VALGRIND_TIMEOUT_MULTIPLIER:-10}" \
    --wrapper "$vg" "$suite"
  status=$?

  # What memcheck said, per process (the test binary and each GstCheck
  # case, which runs in a child of its own: fork keeps valgrind).
  for log in "$logs"/*.log; do
    [ -f "$log" ] || continue
    pid=$(basename "$log" .log)
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    # A child that exec()ed another program (the plugin scanner, the
    # test server) leaves a log without a summary: it was not followed.
    [ -z "$errors" ] && continue
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
    invalid=$(grep -c -E 'Invalid (read|write|free)|Mismatched free|overlap' "$log")
    printf 'valgrind: process %s: %s errors, %s invalid accesses, %s bytes definitely lost\n' \
      "$pid" "${errors:-?}" "$invalid" "${lost:-0}"
    if [ "${errors:-1}" != 0 ] || [ "$invalid" != 0 ]; then
      bad=1
      grep -E -A12 'Invalid (read|write|free)|definitely lost in' "$log" |
        head -40 | sed 's/^/    /'
    fi
  done
  if [ $bad -ne 0 ]; then
    echo "valgrind: $suite: memory errors or definite leaks (logs in $logs)"
    return 1
  fi
  if [ $status -ne 0 ]; then
    echo "valgrind: $suite: the suite failed (meson test $status; logs in $logs)"
    return $status
  fi
  echo "valgrind: $suite: no memory error, nothing definitely lost"
  return 0
}

# Everything below runs from functions, read whole before they start:
# the script may be edited while a long run goes on.
main() {
  if [ "${1:-}" != ci ]; then
    run_suite "${1:-whepsrc}" "${@:2}"
    return
  fi
  # CI's subset (~1.5 min): a session played and DELETEd, a server's
  # garbage answer, four rotations.  The client suite runs under ASan in
  # CI (scripts/sanitize.sh).
  local overall=0
  run_suite whepsrc test_plays_vp8_and_deletes_on_stop \
    test_garbage_answer_reports || overall=1
  run_suite rotation test_rotates_seamlessly_before_the_limit || overall=1
  return $overall
}
main "$@"; exit $?
