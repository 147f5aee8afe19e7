/* whepsrc — fuzz target: Link headers (RFC 8288) of a WHEP answer, and
 * the ICE servers made of them (rel="ice-server", RFC 9725).
 *
 * The input is the header value as libsoup joins repeated headers
 * (", ").  Every link that comes out must have a URI and a relation; an
 * ICE server becomes the URI webrtcbin is given.
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
  g_autofree gchar *value = fuzz_strdup (data, size);
  g_autoptr (GPtrArray) links = g_ptr_array_new_with_free_func
      ((GDestroyNotify) gst_whep_link_free);
  g_autoptr (GPtrArray) servers = g_ptr_array_new_with_free_func
      ((GDestroyNotify) gst_whep_ice_server_free);
  guint i, n;

  n = gst_whep_parse_link_header (value, links);
  if (n != links->len)
    abort ();
  for (i = 0; i < links->len; i++) {
    GstWhepLink *link = g_ptr_array_index (links, i);

    if (link->uri == NULL || link->rel == NULL || link->params == NULL)
      abort ();
  }
  gst_whep_ice_servers_from_links (links, servers);
  for (i = 0; i < servers->len; i++) {
    g_autofree gchar *uri =
        gst_whep_ice_server_to_webrtc_uri (g_ptr_array_index (servers, i));
    g_autofree gchar *shown = gst_whep_redact_url (uri);

    fuzz_assert_presentable ("a redacted ICE server", shown, 301);
  }
  return 0;
}
