/* A stand-in for gst-plugins-rs's deprecated `whepsrc` (plugin
 * "webrtchttp"), which Debian 12 does not package: what matters for a
 * clash is copied, nothing else — the element name "whepsrc" at rank
 * marginal, the GType name "GstWhepSrc", a GstBin, no URI handler.  It
 * plays nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>

#define PACKAGE "gst-plugins-rs"

typedef struct
{
  GstBin parent;
} StandinWhepSrc;

typedef struct
{
  GstBinClass parent_class;
} StandinWhepSrcClass;

static void
standin_class_init (gpointer klass, gpointer data)
{
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "WHEP source (stand-in)", "Source/Network/WebRTC",
      "Stands in for gst-plugins-rs's whepsrc in whepsrc's clash tests",
      "whepsrc developers");
}

static GType
standin_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id)) {
    /* The name gst-plugins-rs registers. */
    GType type = g_type_register_static_simple (GST_TYPE_BIN,
        g_intern_static_string ("GstWhepSrc"), sizeof (StandinWhepSrcClass),
        standin_class_init, sizeof (StandinWhepSrc), NULL, 0);

    g_once_init_leave (&type_id, type);
  }
  return type_id;
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return gst_element_register (plugin, "whepsrc", GST_RANK_MARGINAL,
      standin_get_type ());
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, webrtchttp,
    "Stand-in for gst-plugins-rs's webrtchttp plugin (whepsrc clash tests)",
    plugin_init, "0.0", "LGPL", "gst-plugins-rs", "whepsrc tests/clash")
