/* whepsrc — fuzz target: a trickle-ICE fragment
 * (application/trickle-ice-sdpfrag, RFC 8840) as a server PATCHes or
 * answers one.
 *
 * A fragment that parses is written out again and parsed back: the
 * second parse must give the same fragment (what whepsrc sends in an ICE
 * restart is built by the same writer).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "fuzz-oracle.h"
#include "gstwhepsdp.h"
#include "gstwheputils.h"

static void
assert_same (const GstWhepSdpFrag * a, const GstWhepSdpFrag * b)
{
  guint i;

  if (g_strcmp0 (a->ice_ufrag, b->ice_ufrag) != 0
      || g_strcmp0 (a->ice_pwd, b->ice_pwd) != 0
      || g_strcmp0 (a->mid, b->mid) != 0
      || a->end_of_candidates != b->end_of_candidates
      || a->candidates->len != b->candidates->len) {
    g_printerr ("the fragment changed in a round trip\n");
    abort ();
  }
  for (i = 0; i < a->candidates->len; i++)
    if (!g_str_equal (g_ptr_array_index (a->candidates, i),
            g_ptr_array_index (b->candidates, i))) {
      g_printerr ("candidate %u changed in a round trip\n", i);
      abort ();
    }
}

FUZZ_INITIALIZE_GLIB_ONLY ();

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *text = fuzz_strdup (data, size);
  g_autofree gchar *summary = NULL;
  g_autofree gchar *written = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstWhepSdpFrag) frag = NULL;
  g_autoptr (GstWhepSdpFrag) again = NULL;

  summary = gst_whep_sdp_summary (text);
  fuzz_assert_presentable ("the fragment summary", summary, 0);

  frag = gst_whep_sdp_frag_parse (text, &error);
  if (frag == NULL) {
    if (error == NULL)
      abort ();
    return 0;
  }
  written = gst_whep_sdp_frag_to_string (frag);
  again = gst_whep_sdp_frag_parse (written, NULL);
  if (again == NULL) {
    g_printerr ("a written fragment does not parse\n");
    abort ();
  }
  assert_same (frag, again);
  return 0;
}
