#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz, one after the other, each on a
# copy of its seed corpus (tests/fuzz/corpus/<target>), and prints per
# target the executions, executions per second, coverage and "no finding"
# or the file that holds the input that crashed, leaked, timed out or
# broke a check.  Exits 1 on any finding, 77 when clang's libFuzzer is not
# installed (meson: SKIP), 2 on a usage error.
#
#   scripts/fuzz.sh [SECONDS]        each target for SECONDS (default 60)
#   scripts/fuzz.sh --runs N         each target for N executions
#   scripts/fuzz.sh --replay         each target on its corpus only
#
# Options (before the number):
#   --target NAME     only this target (repeatable): sdp-answer, sdpfrag,
#                     link, location, retry-after, error-body, sanitize, sse
#   --keep DIR        keep the grown corpora and findings in DIR (default:
#                     a temporary directory, removed at the end unless
#                     something was found); the repository's corpus only
#                     grows by what you copy from there and commit
#   --max-minutes M   stop a target after M minutes even with --runs
#                     (default 15): its count reached is printed
#
# The targets are built with clang, AddressSanitizer and UBSan into
# ${FUZZ_BUILD_DIR:-build-fuzz} (configured on first use, -Dfuzz=enabled:
# only the parsers), with ninja -j${FUZZ_JOBS:-1}.  Each fuzzer runs under
# nice -n ${FUZZ_NICE:-10} on one core.
set -uo pipefail
# All in one block, which bash reads whole before running it: a long run
# keeps going unharmed when the script is edited under it.
{
cd "$(dirname "$0")/.."
src=$PWD

all_targets=(sdp-answer sdpfrag link location retry-after error-body sanitize sse)
targets=()
keep=""
max_minutes=15
mode=time
amount=60

while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("$2"); shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --max-minutes) max_minutes=$2; shift 2 ;;
    --runs) mode=runs; amount=$2; shift 2 ;;
    --replay) mode=replay; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    [0-9]*) mode=time; amount=$1; shift ;;
    *) echo "fuzz: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "fuzz: no target '$t' (${all_targets[*]})" >&2; exit 2 ;;
  esac
done

# --- the build ---------------------------------------------------------

if ! command -v clang >/dev/null 2>&1; then
  # The form run-tests.sh reports a skip by.
  echo "SKIP: fuzz: clang is not installed (scripts/install-deps.sh)" >&2
  exit 77
fi
probe=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-probe.XXXXXX") || exit 1
printf 'int LLVMFuzzerTestOneInput(const unsigned char*d,unsigned long n){return 0;}\n' \
  > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  rm -rf "$probe"
  echo "SKIP: fuzz: clang has no libFuzzer (libclang-rt-dev)" >&2
  exit 77
fi
rm -rf "$probe"

build=${FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=enabled -Dtests=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized >/dev/null || {
    echo "fuzz: could not configure $build" >&2
    exit 1
  }
fi
nice -n "${FUZZ_NICE:-10}" ninja -j"${FUZZ_JOBS:-1}" -C "$build" >/dev/null || {
  echo "fuzz: the build in $build failed (ninja -C $build)" >&2
  exit 1
}

# --- the runs ----------------------------------------------------------

if [ -n "$keep" ]; then
  mkdir -p "$keep" || exit 1
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/whepsrc-fuzz.XXXXXX") || exit 1
fi

# A report of either sanitizer is a finding; leaks are checked by
# libFuzzer after each input that allocated more than it freed, and at
# exit.  (GLib's quark table abandons its first block when it grows past
# 2048 quarks: a parser that makes a quark per input shows up as a leak,
# as g_uri_peek_scheme() did.)  The 512 MB RSS limit below is what
# catches a parser that keeps memory; ASan's quarantine of freed blocks
# is cut from its default 256 MB to 64 MB so that it does not reach that
# limit by itself: with 256 MB, one event-stream input run 200,000 times
# grew to 476 MB (an "out-of-memory" finding after 726,211 sse
# executions), with 64 MB it stays at 148 MB over 975,000 runs, and with
# none at 37 MB.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1:quarantine_size_mb=64}
# GLib 2.74's slice allocator keeps its slabs reachable from a global: a
# leaked JsonNode or GList link is then invisible to LeakSanitizer.  With
# plain malloc it is a leak report at the first input that leaks (json-glib
# keeping every value of "{} {}" but the last went unseen for millions of
# sse executions until the RSS limit caught it).
export G_SLICE=always-malloc
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# No registry scan or plugin loading: the parsers need neither.
export GST_REGISTRY_DISABLE=yes

# Bodies (SDP, fragments, error bodies, event streams) are read up to the
# WHEP body limit, 256 KiB; header values are far shorter (libsoup 3
# refuses a header block beyond 64 KiB).
max_len_of () {
  case "$1" in
    sdp-answer|sdpfrag|error-body|sse) echo 262144 ;;
    *) echo 65536 ;;
  esac
}
dict_of () {
  case "$1" in
    sdp-answer|sdpfrag) echo tests/fuzz/sdp.dict ;;
    link|location|retry-after|error-body|sse) echo "tests/fuzz/$1.dict" ;;
    *) echo "" ;;
  esac
}

findings=0
printf '%-12s %12s %9s %6s %6s  %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz-$t
  corpus=$work/corpus/$t
  out=$work/findings/$t
  log=$work/$t.log
  mkdir -p "$corpus" "$out"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null

  args=(-rss_limit_mb=512 -max_len="$(max_len_of "$t")" -timeout=25
    -print_final_stats=1 -artifact_prefix="$out/")
  dict=$(dict_of "$t")
  [ -n "$dict" ] && args+=(-dict="$src/$dict")
  case "$mode" in
    time) args+=(-max_total_time="$amount") ;;
    runs) args+=(-runs="$amount" -max_total_time=$((max_minutes * 60))) ;;
    replay) args+=(-runs=0) ;;
  esac

  nice -n "${FUZZ_NICE:-10}" "$exe" "${args[@]}" "$corpus" >"$log" 2>&1
  status=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # The last status line libFuzzer printed: "#N DONE cov: C ft: F …".
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crash=$(find "$out" -type f | head -1)
  if [ $status -ne 0 ] || [ -n "$crash" ]; then
    findings=$((findings + 1))
    result="FINDING (exit $status) ${crash:-see $log}"
  elif [ "$mode" = runs ] && [ "${execs:-0}" -lt "$amount" ]; then
    result="no finding; stopped after ${max_minutes} min"
  else
    result="no finding"
  fi
  printf '%-12s %12s %9s %6s %6s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$result"
  if [ $status -ne 0 ] || [ -n "$crash" ]; then
    # What the sanitizer or the check said, for CI logs.
    grep -E 'ERROR|SUMMARY|is not UTF-8|control character|longer than|changed|does not parse|CRITICAL|WARNING' \
      "$log" | head -5 | sed 's/^/    /'
  fi
done

if [ $findings -ne 0 ]; then
  echo "fuzz: $findings target(s) with a finding; inputs and logs in $work"
  echo "fuzz: replay one with $build/tests/fuzz/fuzz-TARGET FILE"
  exit 1
fi
if [ -z "$keep" ]; then
  rm -rf "$work"
else
  echo "fuzz: grown corpora in $work/corpus"
fi
exit 0
}
