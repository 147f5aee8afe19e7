/* whepsrc — the supervisor's decisions as pure functions: what `status`
 * says, whether and when to retry, when to rotate, what a silent session
 * means.
 *
 * The supervisor (gstwhepsupervisor.c) gathers the facts and acts; the
 * judgements are here so that they can be tested without a network, a
 * session or a clock (tests/check/policy.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "gstwhepenums.h"
#include "gstwheputils.h"       /* GST_WHEP_RETRY_AFTER_MAX_S */

G_BEGIN_DECLS

/* Back-off between failed sessions in a row. */
#define GST_WHEP_RETRY_BASE_MS 500
#define GST_WHEP_RETRY_MAX_MS 30000

/* The facts `status` is computed from. */
typedef struct
{
  gboolean running;             /* between start and stop */
  gboolean gave_up;             /* an error was posted */
  gboolean ended;               /* EOS was asked for and sent */
  gboolean server_inactive;     /* the server said nothing is published */
  gboolean holding;             /* an output holds the last frame */
  gboolean ever_played;         /* a session put media on air this run */
  gboolean waiting_for_server;  /* the last failure said "not yet" (409,
                                 * 429, 503, a "not live" 404) */
} GstWhepStatusFacts;

GstWhepSrcStatus gst_whep_status_from_facts (const GstWhepStatusFacts * facts);

/* After a failed session: FALSE when no retry is left (not retryable, or
 * @attempt — failures in a row before this one — reached @max_retries,
 * -1 = no limit); else TRUE with the delay.  @immediately: the session
 * had played, so the first replacement starts at once; later ones back
 * off with jitter from @rand (nullable).  A Retry-After (@retry_after_s,
 * -1 = none) lengthens the delay, up to GST_WHEP_RETRY_AFTER_MAX_S. */
gboolean gst_whep_retry_decide (guint attempt, gint max_retries,
    gboolean retryable, gboolean immediately, gint retry_after_s,
    GRand * rand, guint * delay_ms);

/* TRUE when a server that answers a second, overlapping session with
 * @http_status is saying "one viewer at a time" (409, 429, 503). */
gboolean gst_whep_refuses_second_session (guint http_status);

/* When (monotonic µs) the next session should start, for a session POSTed
 * at @posted_us: lifetime less the lead.  0 when there is nothing to
 * schedule (no lifetime, or not POSTed). */
gint64 gst_whep_rotation_due_us (gint64 posted_us, gdouble lifetime_s,
    guint lead_ms);

/* What the silence of the session on air means (the watchdog). */
typedef enum
{
  GST_WHEP_SILENCE_FINE,        /* media flows, or silence is expected */
  GST_WHEP_SILENCE_TOO_LONG,    /* silent for media-timeout, path maybe
                                 * lost: restart ICE (or replace) */
  GST_WHEP_SILENCE_SENDER_STOPPED,      /* silent for media-timeout while its
                                         * RTCP still arrives: the path
                                         * works, the sender stopped —
                                         * replace (a restart cannot help) */
  GST_WHEP_SILENCE_RESTART_WORKED,      /* media came back after the restart */
  GST_WHEP_SILENCE_RESTART_FAILED,      /* no media within its timeout, or
                                         * RTCP back on the new path for
                                         * a second without media */
} GstWhepSilenceVerdict;

typedef struct
{
  gint64 now_us;
  gint64 on_air_until_us;       /* last media the session put on air; 0:
                                 * it is not on air (being retired) */
  gint64 first_frame_us;        /* the session's first frame, 0 if none */
  gint64 playing_since_us;      /* the pipeline went to PLAYING; 0: paused */
  gint64 ice_restart_since_us;  /* an ICE restart under way since, or 0 */
  gint64 ice_ready_us;          /* libnice last found a working pair (a
                                 * check answered), or 0 */
  gint64 last_rtcp_us;          /* the sender's last RTCP packet, or 0 */
  gint64 last_video_rtp_us;     /* the last video RTP packet out of the
                                 * jitterbuffer, or 0 */
  guint media_timeout_ms;       /* 0: never */
  guint ice_restart_timeout_ms;
  gboolean server_inactive;     /* silence is expected */
} GstWhepSilenceFacts;

/* What to do for a session on air that has been silent for @after_ms,
 * long before it is judged at the media timeout — so that a session
 * killed without a word is replaced, or its path repaired, at once. */
typedef enum
{
  GST_WHEP_REPAIR_NONE,         /* not silent long enough, or silence is
                                 * expected (paused, inactive, no timeout),
                                 * or an ICE restart is having its chance */
  GST_WHEP_REPAIR_STANDBY,      /* set up a successor: RTCP still comes
                                 * after the last media (the path works,
                                 * only the sender stopped), or ICE cannot
                                 * be restarted on this session */
  GST_WHEP_REPAIR_ICE_RESTART,  /* restart ICE over PATCH: the path may be
                                 * gone; a server that lost the session
                                 * says so (404) at once */
} GstWhepSilenceRepair;

/* A standby after @standby_after_ms of silence, an ICE restart after
 * @restart_after_ms. */
GstWhepSilenceRepair gst_whep_silence_repair (const GstWhepSilenceFacts *
    facts, guint standby_after_ms, guint restart_after_ms,
    gboolean can_restart_ice);

GstWhepSilenceVerdict gst_whep_judge_silence (const GstWhepSilenceFacts *
    facts);

G_END_DECLS
