#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds, runs meson test,
# and ends with the runner's summary and a plain line
# "N passed, N failed, N skipped" that counts GstCheck test cases:
#   - a case that printed "SKIP: <test>: <reason>" and returned early (GstCheck
#     has no skip of its own) counts as skipped, not passed;
#   - a test binary that meson reports as SKIP (exit 77: none of its cases
#     can run here, e.g. the network suite without root) counts as one
#     skipped;
#   - a binary that crashed or timed out, or failed after its cases passed,
#     counts as one failure; a test that is not a GstCheck binary (the
#     format check) counts as one test.
# WHEP_TEST_NOT_ROOT=1 makes the suites behave as without root (to see the
# skips on a machine where everything could run).
set -uo pipefail
# All in one block, which bash reads whole before running it: a run keeps
# going unharmed when the script is edited under it.
{
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
bash scripts/build.sh || exit 1
build_dir=${BUILD_DIR:-build}
log="$build_dir/meson-logs/testlog.json"

# meson rewrites the log when tests start; one older than this run belongs
# to an earlier one.
marker=$(mktemp) || exit 1
trap 'rm -f "$marker"' EXIT

meson test -C "$build_dir" --print-errorlogs --num-processes 1 "$@"
status=$?

if [ -f "$log" ] && [ "$log" -nt "$marker" ]; then
  counts=$(python3 - "$log" <<'PY'
import json
import re
import sys

# GstCheck's summary, printed once per binary on stdout.
checks_re = re.compile(r"^\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)",
                       re.M)
# What a case that cannot run prints before returning early.
skip_re = re.compile(r"^SKIP: ([A-Za-z_][A-Za-z0-9_]*): (.*)$", re.M)
passed = failed = skipped = 0
notes = []

with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        if not line.strip():
            continue
        test = json.loads(line)
        name, result = test["name"], test["result"]
        stdout = test.get("stdout") or ""
        output = stdout + (test.get("stderr") or "")
        good = result in ("OK", "EXPECTEDFAIL")
        if result == "SKIP":
            skipped += 1
            why = [m.group(2) for m in skip_re.finditer(output)]
            notes.append(f"skipped: {name} (whole binary)"
                         + (f": {why[0]}" if why else ""))
            continue
        summaries = checks_re.findall(stdout)
        if not summaries:
            # Not a GstCheck binary, or one that died before its summary.
            if good:
                passed += 1
            else:
                failed += 1
            continue
        cases = sum(int(c) for c, _, _ in summaries)
        bad = sum(int(f) + int(e) for _, f, e in summaries)
        # A skipping case returns before any check, so it is among the
        # passed ones; a name printed twice (a fixture) is one case.
        skips = {}
        for m in skip_re.finditer(output):
            skips.setdefault(m.group(1), m.group(2))
        n_skips = min(len(skips), cases - bad)
        passed += cases - bad - n_skips
        skipped += n_skips
        failed += bad
        for case, why in skips.items():
            notes.append(f"skipped: {name} / {case}: {why}")
        if not good and bad == 0:
            # Every case passed, yet the binary failed (a crash in its
            # clean-up, a timeout, a leak check).
            failed += 1

for note in notes:
    print(note, file=sys.stderr)
print(passed, failed, skipped)
PY
  )
  read -r passed failed skipped <<<"$counts"
  if [ -z "$counts" ]; then
    echo "run-tests: could not read $log" >&2
    failed=1
  fi
else
  echo "run-tests: no test log from this run ($log)" >&2
fi
passed=${passed:-0}
failed=${failed:-0}
skipped=${skipped:-0}
# meson failed, yet no test did (it could not rebuild, or no log): never
# report that as a clean run.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
}
