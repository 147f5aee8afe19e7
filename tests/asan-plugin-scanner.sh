#!/bin/sh
# GStreamer's plugin scanner for scripts/sanitize.sh (GST_PLUGIN_SCANNER):
# the system's scanner (WHEP_SCANNER, set by the script), with libasan
# preloaded so that it can load the instrumented whepsrc plugin, and
# without the leak check — it loads every installed plugin, whose
# libraries (OpenNI2 drivers, fontconfig, libudev) keep what they
# allocate at load time until exit; none of that is whepsrc's, and a
# scanner that exits 23 leaves the registry incomplete.  ASan's other
# checks stay on.  Nothing else runs here: a program started with the
# preloaded libasan (gcc, pkg-config) can hang in its leak check.
LD_PRELOAD=$WHEP_SCANNER_PRELOAD \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  exec "$WHEP_SCANNER" "$@"
