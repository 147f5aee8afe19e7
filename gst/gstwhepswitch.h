/* whepsrc — the output switch: one per media kind, private to whepsrc.
 *
 * Sessions come and go; downstream must see one stream that never ends.
 * The switch has one always "src" pad (ghosted out of whepsrc as video_%u
 * or audio_%u, for the element's whole life) and a request sink pad per
 * session stream.  Only the active sink pad's data reaches the src pad;
 * the switch makes its own stream-start and segment once, forwards caps
 * only when they really change, turns every input timestamp into running
 * time (all sessions share the pipeline's clock and base time, so running
 * times of two sessions are comparable), and never forwards EOS or
 * flushes from a session: a session ending is not the end of the stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WHEP_SWITCH (gst_whep_switch_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepSwitch, gst_whep_switch, GST, WHEP_SWITCH,
    GstElement);

GstElement *gst_whep_switch_new (const gchar * name, const gchar * stream_id);

/* Makes @sinkpad (one of the switch's sink pads, or NULL) the one whose
 * data goes out.  Takes effect from the next buffer. */
void gst_whep_switch_set_active_pad (GstWhepSwitch * self, GstPad * sinkpad);

/* Number of buffers pushed out so far. */
guint64 gst_whep_switch_get_buffers_out (GstWhepSwitch * self);

G_END_DECLS
