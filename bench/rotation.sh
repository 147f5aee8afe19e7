#!/usr/bin/env bash
# Benchmark: whepsrc against the project's WHEP test server with a session
# time limit, compared with a naive player that only reconnects after the
# server cut the session; plus the hold after an early kill.  Prints a
# table and writes a PNG plot of the wait between new frames over time.
#
# Usage: bench/rotation.sh [SECONDS (default 60)] [LIMIT_S (default 5)]
# Output: bench/out/ (CSV per run, results.txt, frame-intervals.png)
# Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
limit=${2:-5}
build_dir=${BUILD_DIR:-build}
out=bench/out
mkdir -p "$out"
command -v gnuplot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null
[ -x "$build_dir/tools/whep-play" ] || bash scripts/build.sh >/dev/null
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
export GST_PLUGIN_PATH="$build_dir/gst"

run() { # name, server options, whep-play options
  local name=$1 server_opts=$2 play_opts=$3 log
  log=$(mktemp)
  # shellcheck disable=SC2086
  "$build_dir/tests/server/whep-test-server" --port 0 $server_opts >"$log" 2>&1 &
  local server=$!
  for _ in $(seq 100); do grep -q '^LISTENING ' "$log" && break; sleep 0.1; done
  local endpoint
  endpoint="$(sed -n 's/^LISTENING //p' "$log" | head -n1)/whep/cam"
  # shellcheck disable=SC2086
  "$build_dir/tools/whep-play" --quiet --endpoint "$endpoint" --seconds "$seconds" \
    --ice-local-addresses 127.0.0.1 --csv "$out/$name.csv" $play_opts >"$out/$name.txt" 2>&1 || true
  kill "$server"; wait "$server" 2>/dev/null || true
  local created gone
  created=$(grep -c '^EVENT created' "$log" || true)
  gone=$(grep -cE '^EVENT (deleted|expired|killed)' "$log" || true)
  echo "server: $created sessions created, $gone deleted/expired/killed" >>"$out/$name.txt"
  rm -f "$log"
}

# Frame arrivals: longest wait for a *new* picture (counter change), frames
# missing and repeated (repeats include the held frames while holding).
analyse() {
  awk -F, 'NR > 1 && $2 >= 0 {
      if (last >= 0 && $2 != last) {
        if ($2 > last + 1) missing += $2 - last - 1
        gap = $1 - tnew; if (gap > maxgap) maxgap = gap
        print $1 / 1000.0, gap > "'"$out/$1"'.intervals"
        tnew = $1
      } else if (last >= 0) { repeats++ }
      else { tnew = $1 }
      last = $2; frames++
    }
    BEGIN { last = -1 }
    END { printf "%d %d %d %.1f\n", frames, missing, repeats, maxgap }' "$out/$1.csv"
}

echo "whepsrc rotation benchmark: ${seconds}s per run, server session limit ${limit}s, VP8 640x360@30, loopback"
# rotate: overlap (make-before-break).  no-overlap: the naive way, DELETE
# then POST (whepsrc's break-before-make, forced by a one-viewer server).
# after-cut: not told the limit: reconnects after each cut until it has
# learnt the limit.  kill: each session dies early without a word.
run rotate "--session-limit $limit --patch 405" "--session-lifetime $limit"
run no-overlap "--session-limit $limit --patch 405 --max-sessions 1" "--session-lifetime $limit"
run after-cut "--session-limit $limit --patch 405" "--media-timeout 500"
run kill "--kill-after $limit" "--media-timeout 500"

{
  printf "%-10s %9s %8s %8s %9s %9s %13s %17s %9s %11s\n" run rotations lost frames missing repeated "max-wait(ms)" "first-frame(ms)" cpu-s "rss/rot KiB"
  for name in rotate no-overlap after-cut kill; do
    read -r frames missing repeats maxgap < <(analyse "$name")
    rot=$(sed -n 's/^rotations: \([0-9]*\), sessions lost: \([0-9]*\)/\1/p' "$out/$name.txt")
    lost=$(sed -n 's/^rotations: \([0-9]*\), sessions lost: \([0-9]*\)/\2/p' "$out/$name.txt")
    first=$(sed -n 's/^first frame after: \([0-9]*\) ms/\1/p' "$out/$name.txt")
    cpu=$(sed -n 's/^cpu: \([0-9.]*\) s.*/\1/p' "$out/$name.txt")
    growth=$(sed -n 's/.*(\([-+0-9.]*\) KiB per rotation).*/\1/p' "$out/$name.txt")
    printf "%-10s %9s %8s %8s %9s %9s %13s %17s %9s %11s\n" "$name" "$rot" "$lost" "$frames" "$missing" "$repeats" "$maxgap" "$first" "$cpu" "$growth"
  done
  echo
  echo "max-wait: longest time between two new pictures (a frame interval is 33.3 ms);"
  echo "repeated: output frames that repeat the previous picture (the hold);"
  echo "rotate: whepsrc, session-lifetime=$limit (overlap); no-overlap: DELETE then POST at each"
  echo "rotation (one-viewer server); after-cut: limit not configured, reconnect after each cut"
  echo "until learnt (media-timeout 500 ms); kill: each session killed after ${limit}s without a word."
  for name in rotate no-overlap after-cut kill; do echo "$name: $(grep '^rss:\|^cpu:\|^server:' "$out/$name.txt" | tr '\n' ' ')"; done
} | tee "$out/results.txt"

gnuplot <<GP
set terminal png size 1100,500
set output "$out/frame-intervals.png"
set title "Wait between new pictures (server session limit ${limit} s)"
set xlabel "time since start (s)"
set ylabel "ms since the previous new picture"
set logscale y
set yrange [10:5000]
plot "$out/rotate.intervals" using 1:2 with points pt 7 ps 0.5 title "whepsrc rotation (overlap)", \
     "$out/no-overlap.intervals" using 1:2 with points pt 7 ps 0.5 title "teardown and reconnect (no overlap)", \
     "$out/after-cut.intervals" using 1:2 with points pt 6 ps 0.7 title "limit not configured (learnt after 2 cuts)"
GP
echo "plot: $out/frame-intervals.png"
