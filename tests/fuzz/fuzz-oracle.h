/* whepsrc — checks the fuzz targets make on what the parsers return.
 *
 * Text made from a server's bytes ends up in error messages, their debug
 * strings and log lines: GStreamer refuses a debug string that is not
 * UTF-8, and a control character can forge a log line or move a
 * terminal's cursor.  What is documented as sanitised must be so for any
 * input; a crash here is a finding like any other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdlib.h>
#include <glib.h>

/* Aborts (libFuzzer keeps the input) when @text, nullable, is not valid
 * UTF-8, holds a C0 or C1 control character or DEL, or is longer than
 * @max_chars characters (0: no limit). */
static inline void
fuzz_assert_presentable (const gchar * what, const gchar * text,
    guint max_chars)
{
  const gchar *p;

  if (text == NULL)
    return;
  if (!g_utf8_validate (text, -1, NULL)) {
    g_printerr ("%s is not UTF-8\n", what);
    abort ();
  }
  for (p = text; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
      g_printerr ("%s holds control character U+%04X\n", what, c);
      abort ();
    }
  }
  if (max_chars && g_utf8_strlen (text, -1) > max_chars) {
    g_printerr ("%s is longer than %u characters\n", what, max_chars);
    abort ();
  }
}
