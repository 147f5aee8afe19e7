#!/usr/bin/env bash
# A test suite under valgrind's memcheck: fails on any invalid read or
# write (and other memory errors) and on any block definitely lost,
# with GLib's suppressions and tests/valgrind.supp (leaks of libraries,
# each justified there).
#
#   scripts/valgrind.sh                   the end-to-end suite whepsrc
#   scripts/valgrind.sh SUITE [TEST...]   a meson test (whepsrc, rotation,
#                                         ice, usage, or a unit suite:
#                                         helpers, policy, client, switch),
#                                         optionally only the named GstCheck
#                                         cases (GST_CHECKS)
#
# Only the test process is run under valgrind, not what it starts (the
# WHEP test server, gst-launch-1.0): those are not whepsrc's client side,
# and a server encoding video under valgrind would be too slow to serve.
# The suites' GstCheck cases run in one process (CK_FORK=no), so that
# one valgrind run sees them all; timeouts are multiplied by
# ${VALGRIND_TIMEOUT_MULTIPLIER:-10}.  Uninitialised-value checks are off
# (libvpx and OpenSSL report their own by design, and the check doubles
# the run time); VALGRIND_UNDEF=1 turns them on.
#
# Uses ${BUILD_DIR:-build} (configured and built if needed, with ninja
# -j${VALGRIND_JOBS:-1}).  Prints per process the errors and the bytes
# definitely lost; the logs stay in $BUILD_DIR/valgrind/.  Exit status:
# 0 clean, 1 a memory error or a definite leak, or meson test's failure.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: not installed (apt-get install valgrind)" >&2
  exit 77
fi

suite=${1:-whepsrc}
[ $# -gt 0 ] && shift
checks=$(IFS=,; echo "$*")

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dtests=enabled >/dev/null || exit 1
fi
# A unit suite needs its binary only; an end-to-end one the plugin and
# the test server too.
targets=()
case "$suite" in
  helpers|policy|client|switch) targets=("tests/check/test-$suite") ;;
esac
nice -n "${VALGRIND_NICE:-10}" ninja -j"${VALGRIND_JOBS:-1}" -C "$build" \
  "${targets[@]}" >/dev/null || {
  echo "valgrind: the build in $build failed (ninja -C $build)" >&2
  exit 1
}

logs=$PWD/$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"

undef=no
[ "${VALGRIND_UNDEF:-0}" = 1 ] && undef=yes
glib_supp=/usr/share/glib-2.0/valgrind/glib.supp
supps=(--suppressions="$PWD/tests/valgrind.supp")
[ -f "$glib_supp" ] && supps+=(--suppressions="$glib_supp")

# G_DEBUG in the wrapper: the suites' environment sets its own.
vg="env G_DEBUG=gc-friendly,fatal-criticals valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite"
vg="$vg --errors-for-leak-kinds=definite --undef-value-errors=$undef"
vg="$vg --num-callers=40 --track-fds=no --trace-children=no"
vg="$vg --error-exitcode=99 --log-file=$logs/%p.log"
for s in "${supps[@]}"; do vg="$vg $s"; done

# GLib and GStreamer told to help: every slice a malloc (visible to
# memcheck), freed memory cleared (no stale pointer keeps a block
# "reachable"), no libproxy resolver thread.
export G_SLICE=always-malloc
export GIO_USE_PROXY_RESOLVER=dummy
export CK_FORK=no
export CK_TIMEOUT_MULTIPLIER=${VALGRIND_TIMEOUT_MULTIPLIER:-10}
[ -n "$checks" ] && export GST_CHECKS=$checks

meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
  --timeout-multiplier "${VALGRIND_TIMEOUT_MULTIPLIER:-10}" \
  --wrapper "$vg" "$suite"
status=$?

# What memcheck said, per process (the test binary; a process it forked
# without exec, e.g. a GstCheck case, writes its own log too).
bad=0
for log in "$logs"/*.log; do
  [ -f "$log" ] || continue
  pid=$(basename "$log" .log)
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
  # A child that exec()ed another program (the plugin scanner, the test
  # server) leaves a log without a summary: it was not followed.
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
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "valgrind: $suite: the suite failed (meson test $status; logs in $logs)"
  exit $status
fi
echo "valgrind: $suite: no memory error, nothing definitely lost"
exit 0
