#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts the bundled WHEP
# test server on 127.0.0.1 as the endpoint, and plays from it through
# whepsrc for ${DEMO_SECONDS:-10} s, printing frames received and the
# first-frame time and writing a PNG snapshot of the picture.  Finally
# checks in the server's log that the session was DELETEd.
#
# Usage: scripts/demo.sh [extra whep-test-server options, e.g. --audio opus]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
seconds=${DEMO_SECONDS:-10}
snapshot=${DEMO_SNAPSHOT:-$PWD/whepsrc-snapshot.png}
log=$(mktemp)

"$build_dir/tests/server/whep-test-server" --address 127.0.0.1 --port 0 \
  --ice-address 127.0.0.1 "$@" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 100); do
  grep -q '^LISTENING ' "$log" && break
  sleep 0.1
done
base=$(sed -n 's/^LISTENING //p' "$log" | head -n1)
[ -n "$base" ] || { echo "the test server did not start:"; cat "$log"; exit 1; }
endpoint="$base/whep/cam"
echo "test server: $endpoint"

export GST_PLUGIN_PATH="$PWD/$build_dir/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
# ICE stays on 127.0.0.1: no packet leaves the machine.
"$build_dir/tools/whep-play" --endpoint "$endpoint" --seconds "$seconds" \
  --ice-local-addresses 127.0.0.1 --snapshot "$snapshot"

sleep 0.5
echo "server log:"
grep '^EVENT' "$log" | sed 's/^/  /'
if grep -q '^EVENT deleted' "$log"; then
  echo "session DELETEd on stop: yes"
else
  echo "session DELETEd on stop: NO"; exit 1
fi
