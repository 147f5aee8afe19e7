#!/usr/bin/env bash
# Checks that every tracked C source (*.c) under gst/, tests/ and tools/ is
# formatted as scripts/gst-indent formats it.  Works on copies in a
# temporary directory: the source tree is never written.
#
# Headers are not checked, as GStreamer's own hook does not check them:
# GNU indent reads G_BEGIN_DECLS as the start of a declaration (it glues
# the next typedef to it, or indents every prototype after a #define),
# and takes a prototype ending in G_GNUC_PRINTF (...) for a function
# definition.  In a .c file, such a prototype goes between
# /* *INDENT-OFF* */ and /* *INDENT-ON* */.
#
# Prints a unified diff (what gst-indent would change) and exits 1 when
# any file differs; exits 0 when all are clean, 77 (meson: SKIP) when GNU
# indent is not installed.  To fix: scripts/gst-indent FILE...
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v indent >/dev/null 2>&1 &&
    ! command -v gindent >/dev/null 2>&1 &&
    ! command -v gnuindent >/dev/null 2>&1; then
  echo "check-format: GNU indent not installed (scripts/install-deps.sh); skipped" >&2
  exit 77
fi

# The tracked files; a tree that is not a git checkout (a release tarball)
# has only its own files, so every one counts.
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r -d '' f; do
    # Tracked but deleted in the work tree: nothing to check.
    [ -f "$f" ] && files+=("$f")
  done < <(git ls-files -z -- 'gst/*.c' 'tests/*.c' 'tools/*.c')
else
  while IFS= read -r -d '' f; do
    files+=("$f")
  done < <(find gst tests tools -name '*.c' -type f -print0 | sort -z)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format: no .c files found under gst/, tests/, tools/" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-format.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

for f in "${files[@]}"; do
  mkdir -p "$tmp/$(dirname "$f")"
  cp "$f" "$tmp/$f"
done
(cd "$tmp" && bash "$OLDPWD/scripts/gst-indent" "${files[@]}")
status=$?
if [ $status -ne 0 ]; then
  [ $status -eq 77 ] || echo "check-format: gst-indent failed" >&2
  exit $status
fi

differ=()
for f in "${files[@]}"; do
  if ! diff -u --label "a/$f" --label "b/$f" "$f" "$tmp/$f"; then
    differ+=("$f")
  fi
done
if [ ${#differ[@]} -ne 0 ]; then
  # On stdout after the diff: meson shows the end of a long log.
  echo "check-format: ${#differ[@]} of ${#files[@]} files are not gst-indent" \
    "formatted: ${differ[*]}"
  echo "check-format: fix with scripts/gst-indent <file>..."
  exit 1
fi
echo "check-format: all ${#files[@]} files are gst-indent formatted"
exit 0
