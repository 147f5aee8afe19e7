/* whepsrc — the output switch: one per media kind, private to whepsrc.
 *
 * Sessions come and go; downstream must see one stream that never ends.
 * The switch has one always "src" pad (ghosted out of whepsrc as video_%u
 * or audio_%u, for the element's whole life) and a request sink pad per
 * session stream.  Only the active sink pad's data reaches the src pad;
 * the switch makes its own stream-start and segment once, forwards caps
 * only when they really change, turns every input timestamp into running
 * time (all sessions share the pipeline's clock and base time, so running
 * times of two sessions are comparable), keeps timestamps monotonic, and
 * never forwards EOS or flushes from a session.
 *
 * Takeover: a *pending* pad (the next session) replaces the active one at a
 * frame boundary: frames the old session already showed are dropped, the
 * first frame after the last one shown goes out next.  Video frames are
 * matched by their pictures (a luma signature of each) when those decide,
 * else by the sender's capture time (GstReferenceTimestampMeta, from RTCP
 * sender reports) when both have it, else by running time; audio follows
 * the video's alignment (gst_whep_switch_follow).
 *
 * Hold: when the active input delivers nothing for `hold-after`, the last
 * video frame is repeated at the stream's frame rate (or GAP events are
 * sent, in gap mode) and audio gets silence, until a session delivers
 * again.
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
 * data goes out, at once. */
void gst_whep_switch_set_active_pad (GstWhepSwitch * self, GstPad * sinkpad);

/* Asks @sinkpad to take over from the active pad at the next frame
 * boundary (at once when nothing is active or the output is held).  The
 * "switched" signal tells when it happened.  @origin names the session the
 * pad belongs to (any number but 0, the same for every kind of that
 * session): a follower adopts its leader's alignment for the same origin. */
void gst_whep_switch_set_pending_pad (GstWhepSwitch * self, GstPad * sinkpad,
    guint origin);

/* Makes @self (the audio switch) follow @leader (the video switch): at a
 * takeover, once the leader has found how the new session's pictures line
 * up with the old one's (by content), @self lines up that session's audio
 * the same way instead of by time; it waits for that decision (bounded,
 * the old session still on air).  Any time; the first leader stays. */
void gst_whep_switch_follow (GstWhepSwitch * self, GstWhepSwitch * leader);

/* Ends the output stream: EOS on the src pad (after a stream-start and a
 * segment if nothing went out yet), and from then on nothing at all — no
 * session data, no hold — until the switch goes back to READY.  For an
 * EOS the application sent to whepsrc.  Idempotent. */
void gst_whep_switch_end_stream (GstWhepSwitch * self);

/* TRUE when @sinkpad is the active pad. */
gboolean gst_whep_switch_is_active_pad (GstWhepSwitch * self, GstPad * sinkpad);

/* Hold mode: repeat the last frame (FALSE) or send GAP events (TRUE). */
void gst_whep_switch_set_gap_mode (GstWhepSwitch * self, gboolean gap);

/* Fills @s with this switch's counters, each field name prefixed with
 * @prefix: buffers-out, held-frames, holds, longest-hold-ms,
 * takeovers. */
void gst_whep_switch_add_stats (GstWhepSwitch * self, GstStructure * s,
    const gchar * prefix);

/* Monotonic time (µs) of the last buffer from the active pad, 0 if none. */
gint64 gst_whep_switch_get_last_input_time (GstWhepSwitch * self);

/* Number of buffers pushed out so far. */
guint64 gst_whep_switch_get_buffers_out (GstWhepSwitch * self);

/* For tests: measures the switch's timeouts (the hold after 200 ms of
 * input silence and its repeat interval, a takeover's waits for a sender
 * report and for a lagging session) on @clock instead of the system's
 * monotonic clock, and makes the hold thread sleep in single-shot waits on
 * it, so that a GstTestClock steps through them.  Only in the NULL state.
 * gst_whep_switch_get_last_input_time() stays monotonic. */
void gst_whep_switch_set_timer_clock (GstWhepSwitch * self, GstClock * clock);

G_END_DECLS
