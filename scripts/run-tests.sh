#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds, runs meson test,
# and ends with the runner's summary and a plain "N passed, N failed" line
# (counting GstCheck test cases).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
bash scripts/build.sh || exit 1
build_dir=${BUILD_DIR:-build}

meson test -C "$build_dir" --print-errorlogs --num-processes 1 "$@"
status=$?

# Each GstCheck binary logs "NN%: Checks: C, Failures: F, Errors: E".
log="$build_dir/meson-logs/testlog.txt"
read -r passed failed < <(awk '
  /^[0-9]+%: Checks: / {
    gsub(",", ""); c=$3; f=$5; e=$7; p+=c-f-e; x+=f+e
  }
  END { print p+0, x+0 }' "$log")
# A binary that crashed or timed out before its summary counts as a failure.
broken=$(grep -cE '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT) ' "$build_dir/meson-logs/testlog.txt" 2>/dev/null || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=$(( ${broken:-0} > 0 ? broken : 1 ))
fi
echo "$passed passed, $failed failed"
exit $status
