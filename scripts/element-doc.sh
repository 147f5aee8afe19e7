#!/usr/bin/env bash
# Writes docs/whepsrc-element.md (the element's page) with
# tools/whep-element-doc from the doc comment of gst/gstwhepsrc.c and the
# built element; with --check, only compares: exit 1 (and the diff) when
# the committed page is out of date.  Run by meson: `ninja -C build
# element-doc` writes it, the "element-doc" test checks it.
#
#   scripts/element-doc.sh TOOL PLUGIN_DIR [--check]
set -euo pipefail
tool=$1 plugin_dir=$2 mode=${3:-write}
root="$(cd "$(dirname "$0")/.." && pwd)"
page="$root/docs/whepsrc-element.md"
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.reg"' EXIT
GST_REGISTRY="$tmp.reg" GST_PLUGIN_SYSTEM_PATH_1_0='' \
  GST_PLUGIN_PATH_1_0="$plugin_dir:$(pkg-config --variable=pluginsdir gstreamer-1.0)" \
  "$tool" "$root/gst/gstwhepsrc.c" >"$tmp"
if [ "$mode" = --check ]; then
  if ! diff -u "$page" "$tmp"; then
    echo "element-doc: docs/whepsrc-element.md is out of date: ninja -C BUILD element-doc" >&2
    exit 1
  fi
  echo "element-doc: docs/whepsrc-element.md is up to date"
else
  cp "$tmp" "$page"
  echo "element-doc: wrote $page"
fi
