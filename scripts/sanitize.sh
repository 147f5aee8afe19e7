#!/usr/bin/env bash
# The test suites under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer: the whole project (plugin, test server,
# suites) built with -Db_sanitize=address,undefined into a build
# directory of its own, any report failing the run.
#
#   scripts/sanitize.sh              the unit suites: helpers policy client
#                                    switch (a few minutes)
#   scripts/sanitize.sh e2e          the unit suites, then the end-to-end
#                                    ones: whepsrc rotation ice usage
#                                    faults
#                                    (long: run them when the machine is
#                                    free)
#   scripts/sanitize.sh SUITE...     those meson tests only (e.g. whepsrc)
#
# ${SANITIZE_BUILD_DIR:-build-asan}, built with ninja -j${SANITIZE_JOBS:-1}
# under nice.  Exit status: that of meson test (0 = no report, no failure).
#
# What makes a report fatal:
#   ASan     halt_on_error (its default) and abort_on_error, so that a
#            forked GstCheck case dies of it and the case fails;
#   LSan     detect_leaks: a leak makes the process exit 23, which fails
#            the case (GstCheck runs each case in a child) or the binary;
#            suppressions in tests/lsan.supp, each justified there;
#            fast_unwind_on_malloc=0, as Debian's GLib has no frame
#            pointers: the fast unwinder stops at g_malloc, and neither
#            the report nor a suppression could tell who allocated;
#   UBSan    halt_on_error, print_stacktrace (GCC's UBSan otherwise only
#            prints and goes on).
# GLib and GStreamer are told to help:
#   G_SLICE=always-malloc   GLib 2.74's slice allocator hides its blocks
#                           from ASan: every g_slice is a malloc instead;
#   G_DEBUG=gc-friendly     freed memory is cleared, so stale pointers are
#                           not mistaken for live ones by the leak check;
#   GST_PLUGIN_SCANNER      the system's scanner (not instrumented)
#                           through tests/asan-plugin-scanner.sh, which
#                           preloads libasan (or it could not load the
#                           instrumented plugin) and checks no leaks in
#                           the scanner: the libraries of every installed
#                           plugin are loaded there, not whepsrc's code;
#   GIO_USE_PROXY_RESOLVER=dummy  libproxy's resolver thread (it starts
#                           with the first HTTP request) is not ours.
# The end-to-end suites start programs that are not instrumented
# (gst-launch-1.0 in usage; the test server is ours and instrumented):
# every test process has libasan preloaded, so that the instrumented
# plugin can load into them (and GnuTLS, see below).
set -uo pipefail
cd "$(dirname "$0")/.."

unit=(helpers policy client switch)
e2e=(whepsrc rotation ice usage faults)
suites=()
with_e2e=0
for arg in "$@"; do
  case "$arg" in
    e2e) with_e2e=1 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) suites+=("$arg") ;;
  esac
done
if [ ${#suites[@]} -eq 0 ]; then
  suites=("${unit[@]}")
  [ $with_e2e -eq 1 ] && suites+=("${e2e[@]}")
fi

build=${SANITIZE_BUILD_DIR:-build-asan}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dtests=enabled -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || {
    echo "sanitize: could not configure $build" >&2
    exit 1
  }
fi
# Only what the chosen suites need: the unit suites do not load the
# plugin.
targets=()
needs_all=0
for s in "${suites[@]}"; do
  case " ${unit[*]} " in
    *" $s "*) targets+=("tests/check/test-$s") ;;
    *) needs_all=1 ;;
  esac
done
[ $needs_all -eq 1 ] && targets=()
nice -n "${SANITIZE_NICE:-10}" ninja -j"${SANITIZE_JOBS:-1}" -C "$build" \
  "${targets[@]}" >/dev/null || {
  echo "sanitize: the build in $build failed (ninja -C $build)" >&2
  exit 1
}

supp=$PWD/tests/lsan.supp
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export G_SLICE=always-malloc
export GST_PLUGIN_SCANNER_1_0=$PWD/tests/asan-plugin-scanner.sh
export GST_PLUGIN_SCANNER=$GST_PLUGIN_SCANNER_1_0
export WHEP_SCANNER
WHEP_SCANNER=$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner
export WHEP_SCANNER_PRELOAD
WHEP_SCANNER_PRELOAD=$(gcc -print-file-name=libasan.so)
export GIO_USE_PROXY_RESOLVER=dummy

# Every test process starts with libasan (first, as ASan wants) and
# GnuTLS preloaded: programs started by the suites that are not
# instrumented can then load the instrumented plugin, and GnuTLS's
# thread-local variables are static TLS instead of the dynamic TLS of a
# library dlopen()ed later by glib-networking, which the leak checker of
# GCC 12 cannot walk ("Tracer caught signal 11" in the TLS tests).
preload="$(gcc -print-file-name=libasan.so)"
gnutls=$(gcc -print-file-name=libgnutls.so.30)
[ -f "$gnutls" ] && preload="$preload $gnutls"
# G_DEBUG here too: the suites' environment sets its own.  One registry
# for every suite: a scan with the ASan scanner takes a minute, once.
registry=$(cd "$build" && pwd)/registry-asan.bin
wrapper=(--wrapper "env G_DEBUG=gc-friendly,fatal-criticals GST_REGISTRY=$registry LD_PRELOAD='$preload'")

# ASan makes everything slower (2-3x); the suites' own timeouts are for
# an uninstrumented build: meson's and the cases' own waits
# (tests/check/harness.c scaled()) stretch alike.
export WHEP_TEST_TIMEOUT_SCALE=${WHEP_TEST_TIMEOUT_SCALE:-3}
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}
# What ASan is for is memory errors: the checks that are matters of time
# (no frame lost, no hold, audio jumps, trickle beating full gathering)
# only print what they see here (tests/check/harness.c realtime_checks());
# they assert in the normal runs.
export WHEP_TEST_NOT_REALTIME=1
# The system tools the suites start (ip, nft, sysctl, ss, openssl) run
# without the preloaded libasan (tests/asan-bin/system-tool).
export PATH=$PWD/tests/asan-bin:$PATH
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
  --timeout-multiplier 3 "${wrapper[@]}" "${suites[@]}"
status=$?
if [ $status -eq 0 ]; then
  echo "sanitize: ${suites[*]}: no ASan, LSan or UBSan report"
else
  echo "sanitize: ${suites[*]}: failed (reports in $build/meson-logs/)"
fi
exit $status
