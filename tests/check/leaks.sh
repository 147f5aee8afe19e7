#!/usr/bin/env bash
# GStreamer's leaks tracer over end-to-end cases with several rotations:
# every GstObject and GstMiniObject made while whepsrc plays must be gone
# when the test process ends (the tracer lists the ones alive at
# gst_deinit()).  Fails on any, printing them.
#
# Allowed, once per process: dtlsdec's certificate agent (GstDtlsAgent,
# "<dtlsagent0>"), which gst-plugins-bad's dtls makes once with g_once and
# keeps for the process's life by design (get_agent_by_pem ()).
#
# Usage: leaks.sh TEST-PROGRAM CASE[,CASE…]   (meson test 'leaks' runs it
# over rotation.c's rotation cases; the test server runs without tracer)
set -uo pipefail
program=$1
cases=$2
log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT

GST_CHECKS=$cases GST_TRACERS=leaks GST_DEBUG='GST_TRACER:7' \
  GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE=$log "$program" >"$out" 2>&1
status=$?
cat "$out"
if [ $status -ne 0 ]; then
  echo "leaks: the cases themselves failed (exit $status)"
  exit 1
fi
# One line per object alive at exit: "… <pid> … object-alive, type-name=…"
alive=$(grep -a 'object-alive, type-name=(string)[A-Za-z]' "$log" || true)
processes=$(awk '/GST_TRACER/ {print $2}' "$log" | sort -u | wc -l)
allowed=$(printf '%s\n' "$alive" | awk '/type-name=\(string\)GstDtlsAgent,.*<dtlsagent0>/ { if (!seen[$2]++) next } { if (NF) print }')
total=$(printf '%s\n' "$alive" | grep -c . || true)
if [ -n "$allowed" ]; then
  echo "leaks: objects alive at exit (besides dtlsdec's certificate agent):"
  printf '%s\n' "$allowed" | sed 's/.*object-alive, //' | head -50
  echo "leaks: FAIL: $(printf '%s\n' "$allowed" | grep -c .) leaked object(s) in $processes test process(es)"
  exit 1
fi
echo "leaks: OK: nothing leaked in $processes test process(es) ($total alive at exit, all dtlsdec's certificate agent, one per process)"
