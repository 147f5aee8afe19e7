/* whepsrc — fuzz target: a Location (of a 201, or of a redirect) resolved
 * against the URL that answered, and what is made of the result: its
 * origin (where credentials may go) and its redacted form for logs.
 *
 * Input: BASE NUL LOCATION.  Without a NUL the base is a fixed endpoint
 * (the common case: the answer of the endpoint the user gave); the base
 * is fuzzed too because after a redirect it is a URL the server chose.
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
  g_autofree gchar *base = NULL;
  g_autofree gchar *location = NULL;
  g_autofree gchar *resolved = NULL;
  g_autofree gchar *origin = NULL;
  g_autofree gchar *shown = NULL;
  g_autofree gchar *shown_raw = NULL;
  g_autofree gchar *http = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *b;

  fuzz_split (data, size, &base, &location);
  b = *base ? base : "https://whep.example.com:8443/whep/endpoint/cam?t=1";

  /* The raw header in a warning ("ignoring unusable Location …"). */
  shown_raw = gst_whep_redact_url (location);
  fuzz_assert_presentable ("a redacted Location", shown_raw, 301);

  resolved = gst_whep_resolve_location (b, location, &error);
  if (resolved == NULL) {
    if (error == NULL)
      abort ();
    return 0;
  }
  origin = gst_whep_url_origin (resolved);
  if (gst_whep_same_origin (b, resolved) && origin == NULL)
    abort ();
  http = gst_whep_uri_to_http (resolved);
  shown = gst_whep_redact_url (resolved);
  fuzz_assert_presentable ("a redacted URL", shown, 301);
  return 0;
}
