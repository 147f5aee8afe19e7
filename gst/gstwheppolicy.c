/* whepsrc — the supervisor's decisions (see gstwheppolicy.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwheppolicy.h"
#include "gstwheputils.h"

GstWhepSrcStatus
gst_whep_status_from_facts (const GstWhepStatusFacts * facts)
{
  if (!facts->running)
    return GST_WHEP_SRC_STATUS_STOPPED;
  if (facts->gave_up)
    return GST_WHEP_SRC_STATUS_ERROR;
  if (facts->ended)
    return GST_WHEP_SRC_STATUS_ENDED;
  /* The server said nothing is published for now: the held picture is
   * not a lost session. */
  if (facts->server_inactive)
    return GST_WHEP_SRC_STATUS_WAITING;
  /* "disconnected" exactly while the picture is held (the seed: never
   * during normal cycling, where a takeover has no hold). */
  if (facts->holding)
    return GST_WHEP_SRC_STATUS_DISCONNECTED;
  if (facts->ever_played)
    return GST_WHEP_SRC_STATUS_PLAYING;
  if (facts->waiting_for_server)
    return GST_WHEP_SRC_STATUS_WAITING;
  return GST_WHEP_SRC_STATUS_CONNECTING;
}

gboolean
gst_whep_retry_decide (guint attempt, gint max_retries, gboolean retryable,
    gboolean immediately, gint retry_after_s, GRand * rand, guint * delay_ms)
{
  guint delay;

  if (!retryable || (max_retries >= 0 && attempt >= (guint) max_retries))
    return FALSE;
  /* A session lost after it played is replaced at once; failures in a row
   * back off (with jitter, so that many players do not all come back in
   * step). */
  if (immediately && attempt == 0)
    delay = 0;
  else
    delay = gst_whep_backoff_delay_ms (immediately ? attempt - 1 : attempt,
        GST_WHEP_RETRY_BASE_MS, GST_WHEP_RETRY_MAX_MS, rand);
  if (retry_after_s >= 0)
    delay = MAX (delay, (guint) MIN (retry_after_s,
            GST_WHEP_RETRY_AFTER_MAX_S) * 1000);
  *delay_ms = delay;
  return TRUE;
}

gboolean
gst_whep_refuses_second_session (guint http_status)
{
  return http_status == 409 || http_status == 429 || http_status == 503;
}

gint64
gst_whep_rotation_due_us (gint64 posted_us, gdouble lifetime_s, guint lead_ms)
{
  if (lifetime_s <= 0 || !posted_us)
    return 0;
  return posted_us + (gint64) (lifetime_s * G_USEC_PER_SEC) -
      (gint64) lead_ms *1000;
}

/* RTCP back on the path this long after an ICE restart began, without
 * media: the sender is silent. */
#define SENDER_SILENT_AFTER_RESTART (1000 * G_TIME_SPAN_MILLISECOND)
/* Media resumes within a few packets of a repaired path: silence this long
 * after the restart's checks succeeded is the sender's. */
#define SENDER_SILENT_AFTER_READY (200 * G_TIME_SPAN_MILLISECOND)

GstWhepSilenceRepair
gst_whep_silence_repair (const GstWhepSilenceFacts * f,
    guint standby_after_ms, guint restart_after_ms, gboolean can_restart_ice)
{
  gint64 last, silent_us;
  gboolean path_alive;

  if (!f->media_timeout_ms || !f->playing_since_us || f->server_inactive
      || !f->on_air_until_us)
    return GST_WHEP_REPAIR_NONE;
  last = MAX (MAX (f->first_frame_us, f->on_air_until_us), f->playing_since_us);
  silent_us = f->now_us - last;
  if (silent_us < (gint64) standby_after_ms * 1000)
    return GST_WHEP_REPAIR_NONE;
  /* The video packets still come, only no picture: the decoder waits for
   * the key frame it asked for after a loss.  Neither a new path nor a
   * new session helps sooner; the media timeout still applies. */
  if (f->last_video_rtp_us > last
      && f->now_us - f->last_video_rtp_us < (gint64) standby_after_ms * 1000)
    return GST_WHEP_REPAIR_NONE;
  /* RTCP after the media stopped (and after a restart began): packets get
   * through, so a new path would change nothing. */
  path_alive = f->last_rtcp_us > MAX (f->on_air_until_us,
      f->ice_restart_since_us);
  /* The restart found a working pair (the server answered the checks on
   * the new credentials) and still no media comes: the path is fine, the
   * sender is not.  Senders that report rarely (werift: one sender report
   * a second) would otherwise be judged only by their next RTCP. */
  if (f->ice_restart_since_us && f->ice_ready_us > f->ice_restart_since_us
      && f->now_us - f->ice_ready_us > SENDER_SILENT_AFTER_READY)
    path_alive = TRUE;
  if (f->ice_restart_since_us)
    return path_alive ? GST_WHEP_REPAIR_STANDBY : GST_WHEP_REPAIR_NONE;
  if (path_alive || !can_restart_ice)
    return GST_WHEP_REPAIR_STANDBY;
  if (silent_us < (gint64) restart_after_ms * 1000)
    return GST_WHEP_REPAIR_NONE;
  return GST_WHEP_REPAIR_ICE_RESTART;
}

GstWhepSilenceVerdict
gst_whep_judge_silence (const GstWhepSilenceFacts * f)
{
  gint64 last;

  /* Paused (the output drops media then), told that nothing is published,
   * or no timeout: silence is expected. */
  if (!f->media_timeout_ms || !f->playing_since_us || f->server_inactive)
    return GST_WHEP_SILENCE_FINE;

  /* A restart is judged by the media: any after it started is success.
   * RTCP on the new path without media for a second: the path is back,
   * the sender is not — no reason to wait out the timeout. */
  if (f->ice_restart_since_us) {
    if (f->on_air_until_us > f->ice_restart_since_us)
      return GST_WHEP_SILENCE_RESTART_WORKED;
    if (f->now_us - f->ice_restart_since_us >
        (gint64) f->ice_restart_timeout_ms * 1000)
      return GST_WHEP_SILENCE_RESTART_FAILED;
    if (f->last_rtcp_us > f->ice_restart_since_us
        && f->now_us - f->ice_restart_since_us > SENDER_SILENT_AFTER_RESTART)
      return GST_WHEP_SILENCE_RESTART_FAILED;
    return GST_WHEP_SILENCE_FINE;
  }

  /* Judged only while it is on air: a session the output has just left
   * for its successor is being retired, not lost.  Silence counts from
   * the latest of its first frame, its last media and the resume. */
  if (!f->on_air_until_us)
    return GST_WHEP_SILENCE_FINE;
  last = MAX (MAX (f->first_frame_us, f->on_air_until_us), f->playing_since_us);
  if (f->now_us - last <= (gint64) f->media_timeout_ms * 1000)
    return GST_WHEP_SILENCE_FINE;
  /* RTCP after the last media: packets still come through, only the media
   * stopped (a provider that ends a session without a word, as werift
   * ones do, or a sender that froze). */
  if (f->last_rtcp_us > f->on_air_until_us)
    return GST_WHEP_SILENCE_SENDER_STOPPED;
  return GST_WHEP_SILENCE_TOO_LONG;
}
