/* whepsrc — the key-frame gate (see gstwhepkeygate.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepkeygate.h"

#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (whep_key_gate_debug);
#define GST_CAT_DEFAULT whep_key_gate_debug

/* One per gated depayloader.  Only its src pad's streaming thread touches
 * it (buffers and serialized events of one pad come from one thread at a
 * time), so it needs no lock. */
typedef struct
{
  gboolean waiting;             /* dropping delta units until a key frame */
  gboolean seen_buffer;         /* the first buffer's DISCONT is no loss */
} KeyGate;

static void
ask_for_key_frame (GstPad * srcpad)
{
  g_autoptr (GstElement) depayloader = gst_pad_get_parent_element (srcpad);
  g_autoptr (GstPad) sinkpad = NULL;

  if (!depayloader)
    return;
  sinkpad = gst_element_get_static_pad (depayloader, "sink");
  if (sinkpad)
    gst_pad_push_event (sinkpad,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
}

static GstPadProbeReturn
key_gate_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  KeyGate *gate = data;
  GstBuffer *buffer;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_GAP
        && gate->seen_buffer && !gate->waiting) {
      GST_DEBUG_OBJECT (pad, "data lost: waiting for a key frame");
      gate->waiting = TRUE;
      ask_for_key_frame (pad);
    }
    return GST_PAD_PROBE_OK;
  }

  buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (gate->seen_buffer && GST_BUFFER_FLAG_IS_SET (buffer,
          GST_BUFFER_FLAG_DISCONT) && !gate->waiting) {
    GST_DEBUG_OBJECT (pad, "discontinuity: waiting for a key frame");
    gate->waiting = TRUE;
  }
  gate->seen_buffer = TRUE;
  if (!gate->waiting)
    return GST_PAD_PROBE_OK;
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    GST_DEBUG_OBJECT (pad, "key frame: decoding again");
    gate->waiting = FALSE;
    /* The decoder has not seen what came between: say so. */
    GST_PAD_PROBE_INFO_DATA (info) = buffer = gst_buffer_make_writable (buffer);
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    return GST_PAD_PROBE_OK;
  }
  /* The session counts it among frames-dropped: it came in, and no
   * picture came out. */
  ask_for_key_frame (pad);
  return GST_PAD_PROBE_DROP;
}

static gboolean
src_caps_are_video (GstElement * element)
{
  GstPadTemplate *templ =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (element),
      "src");
  g_autoptr (GstCaps) caps = NULL;
  guint i;

  if (!templ)
    return FALSE;
  caps = gst_pad_template_get_caps (templ);
  for (i = 0; i < gst_caps_get_size (caps); i++)
    if (g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure
                (caps, i)), "video/"))
      return TRUE;
  return FALSE;
}

gboolean
gst_whep_key_gate_is_needed (GstElement * element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *klass;

  if (!factory)
    return FALSE;
  klass = gst_element_factory_get_metadata (factory,
      GST_ELEMENT_METADATA_KLASS);
  return klass && strstr (klass, "Depayloader")
      && !g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      "wait-for-keyframe") && src_caps_are_video (element);
}

static void
init_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (whep_key_gate_debug, "whepkeygate", 0,
        "whepsrc: frames held back until a key frame after a loss");
    g_once_init_leave (&done, 1);
  }
}

void
gst_whep_key_gate_attach (GstElement * depayloader)
{
  g_autoptr (GstPad) srcpad = gst_element_get_static_pad (depayloader, "src");
  KeyGate *gate;

  if (!srcpad)
    return;
  init_debug ();
  gate = g_new0 (KeyGate, 1);
  /* Waiting from the start: a decoder must begin with a key frame. */
  gate->waiting = TRUE;
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, key_gate_probe, gate, g_free);
  GST_INFO_OBJECT (depayloader, "no wait-for-keyframe: whepsrc's key-frame "
      "gate holds back frames after a loss");
}
