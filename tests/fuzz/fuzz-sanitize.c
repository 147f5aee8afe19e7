/* whepsrc — fuzz target: gst_whep_sanitize_text(), through which every
 * text a server sends passes before it is shown (reason phrases, header
 * values, bodies' lines, event names).
 *
 * The first byte picks the limit; the rest is the text, given with its
 * length (NUL bytes inside) and as a C string.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "fuzz-oracle.h"
#include "gstwheputils.h"

FUZZ_INITIALIZE_GLIB_ONLY ();

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *with_len = NULL;
  g_autofree gchar *as_string = NULL;
  guint max_chars;

  if (size == 0)
    return 0;
  max_chars = data[0];
  /* Exactly the bytes, so that ASan sees a read past them. */
  text = g_memdup2 (data + 1, size - 1);

  with_len = gst_whep_sanitize_text (text, size - 1, max_chars);
  /* "…" is one more character than the limit. */
  fuzz_assert_presentable ("sanitised text", with_len, max_chars + 1);
  if (size - 1 > 0 && max_chars > 0 && *with_len == '\0')
    abort ();

  g_free (text);
  text = fuzz_strdup (data + 1, size - 1);
  as_string = gst_whep_sanitize_text (text, -1, max_chars);
  fuzz_assert_presentable ("sanitised text", as_string, max_chars + 1);
  return 0;
}
