/* whepsrc — fuzz target: Retry-After (RFC 9110 §10.2.3), delta-seconds
 * or an HTTP-date, as a 503, 429 or "not live" 404 carries it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "gstwheputils.h"
#include "gstwheppolicy.h"

static GDateTime *now;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  /* A fixed "now": the same input gives the same result. */
  now = g_date_time_new_utc (2026, 12, 7, 12, 0, 0);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *value = fuzz_strdup (data, size);
  guint seconds = G_MAXUINT, delay_ms = 0;

  if (!gst_whep_parse_retry_after (value, now, &seconds))
    return 0;
  /* What the client and the retry policy make of it: capped. */
  if (gst_whep_retry_decide (0, -1, TRUE, FALSE,
          (gint) MIN (seconds, GST_WHEP_RETRY_AFTER_MAX_S), NULL, &delay_ms)
      && delay_ms >
      (GST_WHEP_RETRY_AFTER_MAX_S + 1) * 1000 + GST_WHEP_RETRY_MAX_MS)
    abort ();
  return 0;
}
