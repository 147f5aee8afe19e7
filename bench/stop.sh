#!/usr/bin/env bash
# How long whepsrc's set_state(NULL) takes while a misbehaving server (a raw
# socket server in the process) holds the POST: silent for 3 s, flooding
# "100 Continue", or a 201 whose body stalls and whose DELETE is never
# answered.  Usage: bench/stop.sh [RUNS] (default 10 per case).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
ninja -C "$build" tests/check/whep-stop-bench >/dev/null
export GST_PLUGIN_SYSTEM_PATH_1_0=''
export GST_PLUGIN_PATH_1_0="${WHEPSRC_PLUGIN_DIR:-$build/gst}:$(pkg-config --variable=pluginsdir gstreamer-1.0)"
export GST_REGISTRY=$(mktemp -u /tmp/whep-stop-bench-XXXXXX.bin)
trap 'rm -f "$GST_REGISTRY"' EXIT
"$build/tests/check/whep-stop-bench" "${1:-10}" | awk '
  { print; ms[$1] = ms[$1] " " $2; n[$1]++; s[$1] += $2
    if (!($1 in mn) || $2 < mn[$1]) mn[$1] = $2; if ($2 > mx[$1]) mx[$1] = $2 }
  END { for (k in n) printf "%s: %d runs, %.0f–%.0f ms, mean %.0f ms\n", k, n[k], mn[k], mx[k], s[k] / n[k] }'
