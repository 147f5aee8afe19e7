/* whepsrc — the key-frame gate: no picture that depends on lost data.
 *
 * The VP8, VP9 and H.264 depayloaders of GStreamer 1.22 can drop every
 * frame after an unrepaired loss until the next key frame
 * (wait-for-keyframe) and ask for it (request-keyframe).  Others cannot
 * (H.265 on 1.22; AV1 has no depayloader in Debian 12's plugin sets): the
 * gate does the same on such a video depayloader's output.  After a loss
 * — a buffer marked DISCONT, or a GAP event (what GstRTPBaseDepayload
 * makes of the jitterbuffer's packet-lost event) — and at the start, it
 * drops every delta unit until a key frame comes, and asks for one with an
 * upstream force-key-unit event, which rtpbin sends as PLI or FIR (the
 * session's probe on the RTP pad spaces repeated requests out).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* TRUE for a video depayloader that cannot wait for a key frame itself
 * (no wait-for-keyframe property). */
gboolean gst_whep_key_gate_is_needed (GstElement * element);

/* Puts the gate on @depayloader's src pad. */
void gst_whep_key_gate_attach (GstElement * depayloader);

G_END_DECLS
