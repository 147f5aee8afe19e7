#!/usr/bin/env bash
# Configures (once) and builds whepsrc, the test server and the tools into
# ${BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" -Dtests=enabled
else
  meson configure "$build_dir" -Dtests=enabled >/dev/null
fi
ninja -C "$build_dir"
