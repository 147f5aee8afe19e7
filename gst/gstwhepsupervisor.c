/* whepsrc — the session supervisor (see gstwhepsupervisor.h).
 *
 * Threads: the public functions may be called from any thread; each turns
 * its input into an Event and hands it to the supervisor's worker thread.
 * Everything in RunState is read and written on that thread only, from
 * the worker's setup (allocation) to its teardown (every session DELETEd,
 * then freed): it has no lock.  What other threads may read is the
 * snapshot, behind snapshot_lock, republished after every event.
 *
 * Locks: snapshot_lock is a leaf.  Nothing is held while posting messages,
 * notifying, changing states or calling into a session or a switch.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsupervisor.h"
#include "gstwheppolicy.h"
#include "gstwhepswitch.h"
#include "gstwheputils.h"
#include "gstwhepworker.h"

#include <gst/webrtc/webrtc.h>

GST_DEBUG_CATEGORY_STATIC (whep_supervisor_debug);
#define GST_CAT_DEFAULT whep_supervisor_debug

#define DELETE_TIMEOUT_MS 2000
#define WATCHDOG_INTERVAL_MS 200
/* How long after the first frame a stream of the answer may still get its
 * pad before no-more-pads goes out without it. */
#define PADS_GRACE_MS 2000
/* The candidate pair in the statistics is refreshed this often (every
 * N watchdog ticks). */
#define PAIR_REFRESH_TICKS 10
/* A server that says a session is gone is believed only once the session
 * has put no media on air for this long: an HTTP answer alone never ends a
 * session that delivers. */
#define GONE_BUT_PLAYING_US (500 * G_TIME_SPAN_MILLISECOND)
/* The session on air silent this long — as soon as the output holds —
 * is repaired at once (gst_whep_silence_repair), not at the media timeout:
 * an ICE restart where the path may be gone (a server that lost the
 * session answers it 404, and a new session follows), else a standby,
 * which plays and waits until the silent session is judged lost (half the
 * media timeout of silence now that a successor plays, or a BYE, a 404)
 * and then goes on air, or until the silent session speaks again (an
 * ordinary rotation). */
#define STANDBY_AFTER_SILENCE_MS 200
/* …and the ICE restart a little later: a natural gap of a little over
 * 200 ms (a busy network) is not worth a new path, a kill is noticed well
 * within a second either way.  At most one such restart of a session in
 * EARLY_RESTART_QUIET_US: a path that falls silent again soon after is
 * judged at the media timeout, so that a restart that itself interrupts
 * the media for a moment cannot call for the next one. */
#define ICE_RESTART_AFTER_SILENCE_MS 300
#define EARLY_RESTART_QUIET_US (30 * G_TIME_SPAN_SECOND)
/* A standby session that has not taken over after this long (from its
 * first frame) takes over by force. */
#define TAKEOVER_TIMEOUT_MS 3000

/* The run: exists between the worker's setup and its teardown; the
 * supervisor's thread only. */
typedef struct
{
  GstWhepRunSettings settings;  /* re-read on settings_changed() */
  GstWhepServerKnowledge known;
  GPtrArray *link_ice_servers;  /* from the last answer (GstWhepIceServer*) */

  GstWhepSession *current;      /* on air (or being set up first); ref */
  GstWhepSession *next;         /* standby for a rotation; ref */
  gint64 next_first_frame_us;   /* when the standby decoded its first frame */
  gchar *next_endpoint;         /* where the next session POSTs, if not
                                 * whep-endpoint (server reconnect event) */
  const gchar *rotation_reason; /* why the standby was started */
  gint64 silent_since_us;       /* the standby was started because the
                                 * session on air fell silent then; 0 */
  gint64 early_restart_us;      /* the last ICE restart for a silence… */
  guint early_restart_session;  /* …of this session (id) */
  GstWhepFailure *gone;         /* the server said the session on air is
                                 * gone while its media still flowed: it
                                 * ends when the media stops; owned */
  gboolean standby_waiting;     /* that standby plays, and waits for the
                                 * session on air to be judged lost (or to
                                 * speak again) before it goes on air */

  GSource *retry_timer;
  GSource *pads_timer;          /* no-more-pads, if a pad never comes */
  GSource *rotation_timer;
  GSource *watchdog;
  guint watchdog_ticks;

  guint next_session_id;
  guint attempt;                /* consecutive failed sessions */
  gboolean gave_up;
  gboolean ended;               /* EOS was asked for: the outputs ended,
                                 * the sessions are gone, nothing starts */
  gboolean pads_complete;       /* no-more-pads was signalled */
  gboolean ever_played;
  gboolean waiting_for_server;  /* the last failure said "not yet" */
  gboolean server_inactive;     /* the server said the publication stopped */
  gint64 playing_since_us;      /* monotonic, last PAUSED→PLAYING; 0: paused */
  gboolean holding[2];
  gint64 hold_since_us[2];
  GHashTable *warnings_seen;    /* "session:domain:code:text" already posted */
  gboolean settings_allow_link_servers; /* use-link-headers */
  GRand *rand;

  /* Statistics of the run. */
  gint64 t_start;
  guint64 sessions_created;
  guint64 sessions_failed;
  guint64 retries;
  guint64 rotations;
  guint64 early_losses;
  guint64 ice_restarts;         /* that brought the media back */
  guint64 ice_restarts_failed;
  gdouble first_frame_ms;       /* start → first frame of the first session */
  GstStructure *last_timings;
  gchar *last_error;
  GstWhepRepairStats repaired;  /* of the sessions removed so far */
} RunState;

struct _GstWhepSupervisor
{
  GstObject parent;

  /* Immutable after new(). */
  GstElement *element;          /* whepsrc; not a reference (it owns us) */
  GstWhepSupervisorHost host;
  GstWhepClient *client;
  GstWhepServerKnowledge initial_known;
  GstWhepWorker *worker;        /* "whepsrc-ctl" */

  /* The supervisor's thread only (see above). */
  RunState *run;

  gint stopping;                /* atomic: events are dropped from now on */

  /* Protected by snapshot_lock. */
  GMutex snapshot_lock;
  GstWhepSrcStatus status;
  GstStructure *stats;          /* without the time-dependent fields */
  gint64 session_posted_us;     /* of the session on air, for its age */
  GstWhepServerKnowledge final_known;   /* written by the teardown */
};

G_DEFINE_TYPE (GstWhepSupervisor, gst_whep_supervisor, GST_TYPE_OBJECT);

typedef enum
{
  ROLE_CURRENT,
  ROLE_NEXT,
} SessionRole;

static void start_session (GstWhepSupervisor * self, SessionRole role);
static void judge_current_session (GstWhepSupervisor * self, gint64 now);
static void schedule_rotation (GstWhepSupervisor * self);
static void publish (GstWhepSupervisor * self);

static const gchar *
kind_name (GstWhepMediaKind kind)
{
  return kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio";
}

static gboolean
is_stopping (GstWhepSupervisor * self)
{
  return g_atomic_int_get (&self->stopping) != 0;
}

/* --- messages --- */

static void
post_element_message (GstWhepSupervisor * self, GstStructure * s)
{
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element), s));
}

static void
post_error (GstWhepSupervisor * self, const GstWhepFailure * failure)
{
  g_autofree gchar *endpoint = NULL;
  GstStructure *details;

  g_object_get (self->element, "whep-endpoint", &endpoint, NULL);
  details = gst_structure_new ("details",
      "http-status-code", G_TYPE_UINT, failure->http_status,
      "endpoint", G_TYPE_STRING, endpoint,
      "url", G_TYPE_STRING, failure->url ? failure->url : "",
      "retry-after", G_TYPE_INT, failure->retry_after_s, NULL);
  gst_element_message_full_with_details (self->element, GST_MESSAGE_ERROR,
      failure->domain, failure->code, g_strdup (failure->message),
      g_strdup (failure->debug), __FILE__, GST_FUNCTION, __LINE__, details);
}

/* --- timers (supervisor thread) --- */

/* Replaces the timer in @slot; @func NULL only clears it. */
static void
replace_timer (GstWhepSupervisor * self, GSource ** slot, guint delay_ms,
    GSourceFunc func)
{
  gst_whep_clear_source (slot);
  if (func)
    *slot = gst_whep_worker_add_timeout (self->worker, delay_ms, func, self,
        NULL);
}

/* A timer that fired: its slot no longer holds a live source.  FALSE when
 * the run is ending (the callback must do nothing). */
static gboolean
timer_fired (GstWhepSupervisor * self, GSource ** slot)
{
  g_clear_pointer (slot, g_source_unref);
  return !is_stopping (self);
}

/* --- outputs --- */

static GstElement *
dup_output (GstWhepSupervisor * self, GstWhepMediaKind kind)
{
  return self->host.dup_output (self->element, kind);
}

/* The switch sink pad a session's @kind output is linked to, or NULL. */
static GstPad *
session_switch_pad (GstWhepSession * session, GstWhepMediaKind kind)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (GST_ELEMENT (session),
      kind_name (kind));

  return pad ? gst_pad_get_peer (pad) : NULL;
}

/* Hands the output of every kind the session has to it, at the next frame
 * boundary (at once where nothing is on air). */
static void
make_pending (GstWhepSupervisor * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_output (self, kind);
    g_autoptr (GstPad) sinkpad = session_switch_pad (session, kind);

    if (sw && sinkpad)
      gst_whep_switch_set_pending_pad (GST_WHEP_SWITCH (sw), sinkpad,
          gst_whep_session_get_id (session));
  }
}

/* Whether @session's stream of @kind is the one on air in @sw. */
static gboolean
session_is_active_in (GstWhepSession * session, GstElement * sw,
    GstWhepMediaKind kind)
{
  g_autoptr (GstPad) pad = session ? session_switch_pad (session, kind) : NULL;

  return pad && gst_whep_switch_is_active_pad (GST_WHEP_SWITCH (sw), pad);
}

/* TRUE when every output the session feeds has switched to it: only then
 * may the old session go (each kind switches at its own frame boundary).
 * A stream that has no pad yet while the old session's is on air counts as
 * not switched: a session's first audio often comes after its first
 * picture, and the old session must keep the sound until then (the
 * watchdog forces the takeover after TAKEOVER_TIMEOUT_MS). */
static gboolean
session_on_air_everywhere (GstWhepSupervisor * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_output (self, kind);
    g_autoptr (GstPad) pad = session_switch_pad (session, kind);

    if (!sw)
      continue;
    if (pad && !gst_whep_switch_is_active_pad (GST_WHEP_SWITCH (sw), pad))
      return FALSE;
    if (!pad && session != self->run->current
        && session_is_active_in (self->run->current, sw, kind)
        && gst_whep_session_expects_kind (session, kind))
      return FALSE;
  }
  return TRUE;
}

/* Monotonic time of the last media the session put on air, 0 if none. */
static gint64
last_media_time (GstWhepSupervisor * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;
  gint64 last = 0;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_output (self, kind);
    g_autoptr (GstPad) pad = session_switch_pad (session, kind);

    if (sw && pad && gst_whep_switch_is_active_pad (GST_WHEP_SWITCH (sw), pad))
      last = MAX (last, gst_whep_switch_get_last_input_time
          (GST_WHEP_SWITCH (sw)));
  }
  return last;
}

/* Streaming thread of the session: the pad must be linked before this
 * returns (data follows at once); whether it goes on air is decided on the
 * supervisor's thread. */
static void post_session_pad_linked (GstWhepSupervisor * self,
    GstWhepSession * session);

static void
on_session_pad_added (GstElement * session, GstPad * pad,
    GstWhepSupervisor * self)
{
  GstWhepMediaKind kind = g_str_equal (GST_PAD_NAME (pad), "video") ?
      GST_WHEP_MEDIA_VIDEO : GST_WHEP_MEDIA_AUDIO;
  g_autoptr (GstElement) sw = self->host.ensure_output (self->element, kind);
  g_autoptr (GstPad) sinkpad = NULL;

  sinkpad = gst_element_request_pad_simple (sw, "sink_%u");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK) {
    GST_ERROR_OBJECT (self, "could not link %s:%s to the output",
        GST_ELEMENT_NAME (session), GST_PAD_NAME (pad));
    gst_element_release_request_pad (sw, sinkpad);
    return;
  }
  post_session_pad_linked (self, GST_WHEP_SESSION (session));
}

/* Unlinks a session from the switches and releases their pads. */
static void
unlink_session (GstWhepSession * session)
{
  GstIterator *it = gst_element_iterate_src_pads (GST_ELEMENT (session));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&item);
    g_autoptr (GstPad) peer = gst_pad_get_peer (pad);

    if (peer) {
      g_autoptr (GstElement) sw = gst_pad_get_parent_element (peer);
      gst_pad_unlink (pad, peer);
      if (sw)
        gst_element_release_request_pad (sw, peer);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* Closes a session (DELETE), takes it out of the output and of the bin. */
static void
add_repair_stats (GstWhepRepairStats * sum, const GstWhepRepairStats * more)
{
  sum->packets_lost += more->packets_lost;
  sum->retransmission_requests += more->retransmission_requests;
  sum->retransmissions += more->retransmissions;
  sum->key_frame_requests += more->key_frame_requests;
  sum->frames_dropped += more->frames_dropped;
}

static void
remove_session (GstWhepSupervisor * self, GstWhepSession * session,
    gboolean wait)
{
  GstWhepRepairStats repair;

  GST_INFO_OBJECT (self, "removing %s", GST_ELEMENT_NAME (session));
  /* Its counters stay in the run's. */
  gst_whep_session_get_repair_stats (session, &repair);
  add_repair_stats (&self->run->repaired, &repair);
  gst_whep_session_close (session, wait);
  unlink_session (session);
  gst_element_set_state (GST_ELEMENT (session), GST_STATE_NULL);
  g_signal_handlers_disconnect_by_data (session, self);
  gst_bin_remove (GST_BIN (self->element), GST_ELEMENT (session));
}

/* Every session still in the bin (on air, standby, or being retired)
 * closed and DELETEd: each waited for (bounded) when @wait, else in the
 * background. */
static void
remove_all_sessions (GstWhepSupervisor * self, gboolean wait)
{
  GList *sessions = NULL, *l;

  GST_OBJECT_LOCK (self->element);
  for (l = GST_BIN_CHILDREN (self->element); l; l = l->next)
    if (GST_IS_WHEP_SESSION (l->data))
      sessions = g_list_prepend (sessions, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self->element);
  for (l = sessions; l; l = l->next)
    remove_session (self, l->data, wait);
  g_list_free_full (sessions, gst_object_unref);
}

/* The session URL for messages and statistics: it may carry a token in
 * its query (SRS does), and both end up in logs. */
static gchar *
dup_redacted_resource_url (GstWhepSession * session)
{
  g_autofree gchar *url = gst_whep_session_dup_resource_url (session);

  return url ? gst_whep_redact_url (url) : NULL;
}

/* --- retries --- */

static gboolean
retry_timer_cb (gpointer data)
{
  GstWhepSupervisor *self = data;
  RunState *run = self->run;

  if (!timer_fired (self, &run->retry_timer))
    return G_SOURCE_REMOVE;
  if (!run->current && !run->gave_up) {
    run->retries++;
    start_session (self, ROLE_CURRENT);
  }
  publish (self);
  return G_SOURCE_REMOVE;
}

/* Decides what follows session @failure: FALSE (and the run has given up)
 * when no retry is left; else the delay. */
static gboolean
next_attempt (GstWhepSupervisor * self, const GstWhepFailure * failure,
    gboolean immediately, guint * delay_ms, guint * attempt)
{
  RunState *run = self->run;
  gboolean retry;

  *attempt = run->attempt++;
  retry = gst_whep_retry_decide (*attempt, run->settings.max_retries,
      failure->retryable, immediately, failure->retry_after_s, run->rand,
      delay_ms);
  if (!retry)
    run->gave_up = TRUE;
  /* The server asked for the wait (409, 503, 429 with Retry-After, capped
   * at GST_WHEP_RETRY_AFTER_MAX_S): say so, since it may be minutes of
   * nothing on the output. */
  else if (failure->retry_after_s > 0)
    post_element_message (self, gst_structure_new ("whepsrc/retry-after",
            "http-status-code", G_TYPE_UINT, failure->http_status,
            "retry-after-s", G_TYPE_INT, failure->retry_after_s,
            "retry-in-ms", G_TYPE_UINT, *delay_ms, NULL));
  return retry;
}

/* Nothing has played yet and the first session failed: the retries go on
 * (max-retries), but the application hears the cause now rather than when
 * they run out — for a wrong host or port, minutes later. */
static void
warn_first_failure (GstWhepSupervisor * self, const GstWhepFailure * failure,
    guint delay_ms)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (self->element, RESOURCE, OPEN_READ,
      ("%s (retrying in %u ms)", failure->message, delay_ms),
      ("%s", GST_STR_NULL (failure->debug)),
      ("http-status-code", G_TYPE_UINT, failure->http_status,
          "retry-in-ms", G_TYPE_UINT, delay_ms, NULL));
}

static void
give_up (GstWhepSupervisor * self, const GstWhepFailure * failure,
    guint attempts)
{
  GST_WARNING_OBJECT (self, "giving up after %u attempt(s): %s", attempts,
      failure->message);
  /* The status says "error" before the message arrives. */
  publish (self);
  post_error (self, failure);
}

/* --- rotation --- */

static gdouble
effective_lifetime_s (RunState * run)
{
  return run->settings.session_lifetime_s ? run->settings.session_lifetime_s
      : run->known.learned_lifetime_s;
}

static guint
rotation_lead_ms (RunState * run, gdouble lifetime_s)
{
  return gst_whep_rotation_lead_ms (run->settings.rotation_lead_ms,
      lifetime_s, run->known.slowest_setup_ms);
}

/* The standby failed to start, or the server refused a second session:
 * replace the current session break-before-make (DELETE first, then POST;
 * the output holds the last frame meanwhile). */
static void
break_before_make (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  g_autoptr (GstWhepSession) old = g_steal_pointer (&run->current);

  if (old) {
    GST_INFO_OBJECT (self, "rotating break-before-make: deleting %s first",
        GST_ELEMENT_NAME (old));
    /* The server must have forgotten the old session before it sees the
     * new POST: wait for the DELETE (bounded). */
    remove_session (self, old, TRUE);
    run->rotations++;
    post_element_message (self, gst_structure_new ("whepsrc/session-rotated",
            "from-session", G_TYPE_UINT, gst_whep_session_get_id (old),
            "to-session", G_TYPE_UINT, 0, "reason", G_TYPE_STRING,
            "break-before-make", NULL));
  }
  start_session (self, ROLE_CURRENT);
}

/* Starts the standby (or rotates break-before-make where the server takes
 * one session at a time). */
static void
rotate (GstWhepSupervisor * self, const gchar * reason)
{
  self->run->rotation_reason = reason;
  if (self->run->known.one_session_only)
    break_before_make (self);
  else
    start_session (self, ROLE_NEXT);
}

static gboolean
rotation_timer_cb (gpointer data)
{
  GstWhepSupervisor *self = data;
  RunState *run = self->run;

  if (!timer_fired (self, &run->rotation_timer))
    return G_SOURCE_REMOVE;
  if (run->current && !run->next && !run->gave_up) {
    GST_INFO_OBJECT (self, "session limit ahead: rotating");
    rotate (self, "lifetime");
  }
  publish (self);
  return G_SOURCE_REMOVE;
}

/* Arms the rotation timer for the current session: its expiry counts from
 * its POST (the server's clock), less the lead time. */
static void
schedule_rotation (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  gdouble lifetime_s = effective_lifetime_s (run);
  gint64 now = g_get_monotonic_time (), due;
  guint lead_ms;

  if (!run->current || run->next)
    return;
  lead_ms = rotation_lead_ms (run, lifetime_s);
  due = gst_whep_rotation_due_us (gst_whep_session_get_post_time
      (run->current), lifetime_s, lead_ms);
  if (!due) {
    gst_whep_clear_source (&run->rotation_timer);
    return;
  }
  GST_INFO_OBJECT (self, "next rotation in %.1f s (lifetime %.1f s, lead "
      "%u ms)", MAX (due - now, 0) / 1e6, lifetime_s, lead_ms);
  replace_timer (self, &run->rotation_timer,
      (guint) (MAX (due - now, 0) / 1000), rotation_timer_cb);
}

/* The standby took over the output: it becomes the current session and
 * the old one is deleted. */
static void
complete_rotation (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  g_autoptr (GstWhepSession) old = g_steal_pointer (&run->current);
  g_autoptr (GstWhepSession) fresh = g_steal_pointer (&run->next);
  g_autofree gchar *url = NULL;
  GstStructure *timings;
  gdouble setup_ms = -1;

  run->next_first_frame_us = 0;
  if (!fresh) {
    run->current = g_steal_pointer (&old);
    return;
  }
  run->current = gst_object_ref (fresh);
  run->attempt = 0;
  run->rotations++;
  g_clear_pointer (&run->gone, gst_whep_failure_free);
  run->silent_since_us = 0;
  run->standby_waiting = FALSE;

  /* Whatever kind the old session still feeds goes to the new one. */
  make_pending (self, fresh);
  if (old)
    remove_session (self, old, FALSE);
  gst_whep_session_refresh_candidate_pair (fresh);
  url = dup_redacted_resource_url (fresh);
  timings = gst_whep_session_get_timings (fresh);
  gst_structure_get_double (timings, "total-ms", &setup_ms);
  GST_INFO_OBJECT (self, "rotated: %s → %s", old ? GST_ELEMENT_NAME (old) :
      "none", GST_ELEMENT_NAME (fresh));
  post_element_message (self, gst_structure_new ("whepsrc/session-rotated",
          "from-session", G_TYPE_UINT, old ? gst_whep_session_get_id (old) : 0,
          "to-session", G_TYPE_UINT, gst_whep_session_get_id (fresh),
          "url", G_TYPE_STRING, url ? url : "",
          "setup-ms", G_TYPE_DOUBLE, setup_ms,
          "reason", G_TYPE_STRING, run->rotation_reason ?
          run->rotation_reason : "lifetime",
          "timings", GST_TYPE_STRUCTURE, timings, NULL));
  gst_structure_free (timings);
  schedule_rotation (self);
}

/* --- session events --- */

static void
remember_setup_time (RunState * run, GstStructure * timings)
{
  gdouble total = -1;

  gst_structure_get_double (timings, "total-ms", &total);
  /* The slowest recent set-up, decaying so that one slow start long ago
   * does not make every later rotation early. */
  run->known.slowest_setup_ms = MAX (total, run->known.slowest_setup_ms * 0.8);
  if (run->last_timings)
    gst_structure_free (run->last_timings);
  run->last_timings = gst_structure_copy (timings);
}

/* A session lost after it played: learn from its age. */
static void
learn_from_loss (GstWhepSupervisor * self, gdouble age_s)
{
  GstWhepServerKnowledge *known = &self->run->known;
  gdouble learned;

  GST_INFO_OBJECT (self, "session lost at age %.2f s", age_s);
  learned = gst_whep_learn_session_limit (known->last_loss_age_s, age_s);
  known->last_loss_age_s = age_s;
  if (learned > 0 && (known->learned_lifetime_s == 0
          || learned < known->learned_lifetime_s))
    known->learned_lifetime_s = learned;
  if (learned > 0)
    GST_INFO_OBJECT (self, "the server ends sessions after about %.1f s: "
        "rotating ahead of that from now on", learned);
}

static void
handle_standby_failed (GstWhepSupervisor * self, GstWhepSession * session,
    const GstWhepFailure * failure)
{
  RunState *run = self->run;
  guint delay_ms, attempt;

  if (run->next == session)
    gst_clear_object (&run->next);
  run->silent_since_us = 0;
  run->standby_waiting = FALSE;
  run->next_first_frame_us = 0;
  run->sessions_failed++;
  remove_session (self, session, FALSE);

  if (gst_whep_refuses_second_session (failure->http_status)) {
    /* The overlap counts as a second viewer here: from now on, rotate by
     * deleting first. */
    GST_INFO_OBJECT (self, "the server refused a second session (HTTP %u): "
        "rotating break-before-make from now on", failure->http_status);
    run->known.one_session_only = TRUE;
    break_before_make (self);
    return;
  }

  if (!next_attempt (self, failure, FALSE, &delay_ms, &attempt)) {
    /* The current session still plays: keep it until it dies. */
    run->gave_up = FALSE;
    GST_WARNING_OBJECT (self, "standby session failed: %s", failure->message);
    return;
  }
  GST_INFO_OBJECT (self, "standby session failed (%s): trying again in %u ms",
      failure->message, delay_ms);
  replace_timer (self, &run->rotation_timer, delay_ms, rotation_timer_cb);
}

/* @died_at_us: when the session really ended (monotonic; 0: now) — for a
 * silent death, the last media, not the moment it was noticed. */
static void
handle_current_failed (GstWhepSupervisor * self, GstWhepSession * session,
    const GstWhepFailure * failure, gint64 died_at_us)
{
  RunState *run = self->run;
  gboolean played = gst_whep_session_get_first_frame_time (session) != 0;
  gint64 posted = gst_whep_session_get_post_time (session);
  g_autoptr (GstWhepSession) standby = NULL;
  guint delay_ms = 0, attempt = 0;
  gboolean retry = TRUE;
  gdouble age_s;

  /* However the loss was noticed (webrtcbin, BYE, watchdog), the session
   * ended when its media stopped: that age is what a limit looks like. */
  if (!died_at_us && played)
    died_at_us = last_media_time (self, session);
  age_s = posted ? ((died_at_us ? died_at_us :
          g_get_monotonic_time ()) - posted) / 1e6 : 0;
  /* Learnt before the loss shows in the statistics, so that both agree. */
  if (played)
    learn_from_loss (self, age_s);

  if (run->current == session)
    gst_clear_object (&run->current);
  run->sessions_failed++;
  if (played)
    run->early_losses++;
  g_free (run->last_error);
  run->last_error = g_strdup (failure->message);
  run->waiting_for_server = failure->not_live || failure->http_status == 503
      || failure->http_status == 429;
  /* A standby on its way becomes the session to go on air. */
  g_clear_pointer (&run->gone, gst_whep_failure_free);
  run->silent_since_us = 0;
  run->standby_waiting = FALSE;
  if (run->next) {
    standby = g_steal_pointer (&run->next);
    run->current = gst_object_ref (standby);
  }
  gst_whep_clear_source (&run->rotation_timer);

  remove_session (self, session, FALSE);

  if (standby) {
    GST_INFO_OBJECT (self, "%s lost (%s): %s takes over",
        GST_ELEMENT_NAME (session), failure->message,
        GST_ELEMENT_NAME (standby));
    make_pending (self, standby);
    /* Its own limit runs from its own POST. */
    schedule_rotation (self);
  } else {
    retry = next_attempt (self, failure, played, &delay_ms, &attempt);
  }

  post_element_message (self, gst_structure_new ("whepsrc/session-lost",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "reason", G_TYPE_STRING, failure->message,
          "age-s", G_TYPE_DOUBLE, age_s,
          "http-status-code", G_TYPE_UINT, failure->http_status,
          "retry-in-ms", G_TYPE_INT, retry ? (gint) delay_ms : -1, NULL));

  if (standby)
    return;
  if (!retry) {
    give_up (self, failure, attempt + 1);
    return;
  }
  if (attempt == 0 && !played && !run->ever_played && !run->waiting_for_server)
    warn_first_failure (self, failure, delay_ms);
  GST_INFO_OBJECT (self, "new session in %u ms (attempt %u): %s", delay_ms,
      attempt + 1, failure->message);
  if (delay_ms == 0)
    start_session (self, ROLE_CURRENT);
  else
    replace_timer (self, &run->retry_timer, delay_ms, retry_timer_cb);
}

static void announce_pads_if_complete (GstWhepSupervisor * self,
    GstWhepSession * session);

/* no-more-pads, once per run (@why: for the log). */
static void
announce_pads (GstWhepSupervisor * self, const gchar * why)
{
  RunState *run = self->run;

  if (run->pads_complete)
    return;
  run->pads_complete = TRUE;
  gst_whep_clear_source (&run->pads_timer);
  GST_INFO_OBJECT (self, "%s: no more pads", why);
  gst_element_no_more_pads (self->element);
}

/* A stream of the answer never got a pad: no-more-pads with what there
 * is. */
static gboolean
pads_timer_cb (gpointer data)
{
  GstWhepSupervisor *self = data;
  RunState *run = self->run;

  if (timer_fired (self, &run->pads_timer))
    announce_pads (self, "a stream has no pad 2 s after the first frame");
  return G_SOURCE_REMOVE;
}

static void
handle_first_frame (GstWhepSupervisor * self, GstWhepSession * session)
{
  RunState *run = self->run;
  g_autofree gchar *url = NULL;
  GstStructure *timings;
  gdouble total_ms = -1;

  timings = gst_whep_session_get_timings (session);
  remember_setup_time (run, timings);
  if (session == run->next) {
    run->next_first_frame_us = g_get_monotonic_time ();
    if (run->silent_since_us) {
      /* Started because the session on air fell silent: it is not lost
       * before media-timeout says so (or a BYE, a 404…) — then this one
       * goes on air at once. */
      run->standby_waiting = TRUE;
      GST_INFO_OBJECT (self, "%s ready: waiting for the silent session "
          "to be judged", GST_ELEMENT_NAME (session));
      gst_structure_free (timings);
      /* Maybe it is due already. */
      judge_current_session (self, g_get_monotonic_time ());
      return;
    }
    /* The standby is ready: it takes over at the next frame boundary. */
    GST_INFO_OBJECT (self, "%s ready: switching over",
        GST_ELEMENT_NAME (session));
    make_pending (self, session);
    gst_structure_free (timings);
    return;
  }

  url = dup_redacted_resource_url (session);
  gst_structure_get_double (timings, "total-ms", &total_ms);
  /* Playing: no-more-pads once every stream has its pad (a session's
   * first audio often comes after its first picture, and decodebin,
   * playbin and uridecodebin ignore a pad that comes after it), or after
   * a grace, with what pads there are (a stream without a decoder never
   * gets one). */
  announce_pads_if_complete (self, session);
  if (!run->pads_complete && !run->pads_timer)
    replace_timer (self, &run->pads_timer, PADS_GRACE_MS, pads_timer_cb);
  if (!run->ever_played)
    run->first_frame_ms = (g_get_monotonic_time () - run->t_start) / 1000.0;
  run->ever_played = TRUE;
  run->waiting_for_server = FALSE;
  gst_whep_session_refresh_candidate_pair (session);
  run->attempt = 0;

  post_element_message (self, gst_structure_new ("whepsrc/session-started",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "url", G_TYPE_STRING, url ? url : "",
          "setup-ms", G_TYPE_DOUBLE, total_ms,
          "timings", GST_TYPE_STRUCTURE, timings, NULL));
  gst_structure_free (timings);
  schedule_rotation (self);
}

/* The server wants this session replaced (WHEP events extension,
 * "reconnect"): a new session is set up like for a session limit — in
 * the background, to @url when given — and takes over; the old one is
 * then DELETEd. */
static void
handle_server_reconnect (GstWhepSupervisor * self, const gchar * url)
{
  RunState *run = self->run;

  if (run->next || !run->current)
    return;                     /* a new session is on its way already */
  g_free (run->next_endpoint);
  run->next_endpoint = g_strdup (url);
  GST_INFO_OBJECT (self, "the server asked for a new session%s",
      url ? " at a URL of its choice" : "");
  rotate (self, "server-reconnect");
}

/* Keeps the ICE servers the server announced in its answer's Link headers
 * for the next session: webrtcbin cannot take them after gathering. */
static gboolean
keep_link_ice_servers (RunState * run, GstWhepSession * session)
{
  g_autoptr (GPtrArray) servers =
      gst_whep_session_dup_link_ice_servers (session);
  gboolean news;

  if (!servers || !servers->len)
    return FALSE;
  /* New: the next session will gather with servers this one lacked. */
  news = !run->link_ice_servers || run->link_ice_servers->len == 0;
  g_clear_pointer (&run->link_ice_servers, g_ptr_array_unref);
  run->link_ice_servers = g_ptr_array_ref (servers);
  return news;
}

/* The server does not take trickle PATCHes: from now on offers carry every
 * candidate.  405/501 say there is no PATCH at all, so no ICE restart
 * either; another 4xx (e.g. 422) only that trickle is not supported. */
static void
handle_trickle_refused (GstWhepSupervisor * self,
    const GstWhepFailure * failure)
{
  guint status = failure ? failure->http_status : 0;

  GST_INFO_OBJECT (self, "%s", failure ? failure->message : "trickle refused");
  self->run->known.no_trickle = TRUE;
  if (status == 405 || status == 501)
    self->run->known.no_ice_restart = TRUE;
}

static void
post_ice_restart_started (GstWhepSupervisor * self, GstWhepSession * session,
    const gchar * reason)
{
  GST_INFO_OBJECT (self, "%s: ICE restart (%s)", GST_ELEMENT_NAME (session),
      reason);
  post_element_message (self, gst_structure_new ("whepsrc/ice-restart-started",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "reason", G_TYPE_STRING, reason, NULL));
}

static void
handle_ice_restart_refused (GstWhepSupervisor * self,
    const GstWhepFailure * failure)
{
  /* 4xx/501: this server has no ICE restart; a 5xx or no answer may be a
   * passing trouble, and 404/410 says that this session is gone, not that
   * the server cannot restart. */
  if (failure && failure->http_status != 404 && failure->http_status != 410
      && (failure->http_status == 501
          || (failure->http_status >= 400 && failure->http_status < 500)))
    self->run->known.no_ice_restart = TRUE;
  self->run->ice_restarts_failed++;
}

/* The server says it no longer knows @session (404/410 to the liveness
 * GET of a server whose sessions answer GET). */
static void
handle_session_gone (GstWhepSupervisor * self, GstWhepSession * session,
    const GstWhepFailure * failure)
{
  RunState *run = self->run;
  gint64 last;

  if (session == run->next) {
    handle_standby_failed (self, session, failure);
    return;
  }
  last = last_media_time (self, session);
  if (last && g_get_monotonic_time () - last < GONE_BUT_PLAYING_US) {
    /* Its media still flows: the media decides — the watchdog ends the
     * session for this reason as soon as it falls silent (the server
     * says it only once). */
    GST_WARNING_OBJECT (self, "%s: %s, but its media still flows: kept "
        "while it does", GST_ELEMENT_NAME (session), failure->message);
    gst_whep_failure_free (run->gone);
    run->gone = gst_whep_failure_copy (failure);
    return;
  }
  handle_current_failed (self, session, failure, 0);
}

static void
handle_session_event (GstWhepSupervisor * self, GstWhepSession * session,
    GstWhepSessionEvent event, const GstWhepFailure * failure)
{
  RunState *run = self->run;
  gboolean current = session == run->current;
  gboolean next = session == run->next;

  if (!current && !next)
    return;                     /* a session that is already gone */

  switch (event) {
    case GST_WHEP_SESSION_EVENT_FAILED:{
      GstWhepFailure effective = *failure;

      /* A session may fail after its answer came (e.g. no relay candidate):
       * the ICE servers the answer announced are for the next one — which
       * makes settings that could not work worth one more try. */
      if (keep_link_ice_servers (run, session)
          && run->settings_allow_link_servers)
        effective.settings_wrong = FALSE;
      if (effective.settings_wrong && !run->ever_played) {
        /* Nothing ever played with these settings, and nothing will
         * (e.g. a wrong TURN password): say so now. */
        effective.retryable = FALSE;
      }
      if (next)
        handle_standby_failed (self, session, &effective);
      else
        handle_current_failed (self, session, &effective, 0);
      break;
    }
    case GST_WHEP_SESSION_EVENT_LIVENESS_CONFIRMED:
      run->known.liveness = GST_WHEP_LIVENESS_TRUSTED;
      break;
    case GST_WHEP_SESSION_EVENT_LIVENESS_UNSUPPORTED:
      if (run->known.liveness != GST_WHEP_LIVENESS_TRUSTED)
        run->known.liveness = GST_WHEP_LIVENESS_OFF;
      break;
    case GST_WHEP_SESSION_EVENT_GONE:
      handle_session_gone (self, session, failure);
      break;
    case GST_WHEP_SESSION_EVENT_FIRST_FRAME:
      if (gst_whep_session_get_state (session) == GST_WHEP_SESSION_PLAYING)
        handle_first_frame (self, session);
      break;
    case GST_WHEP_SESSION_EVENT_WARNING:
      GST_ELEMENT_WARNING (self->element, RESOURCE, OPEN_READ, ("%s",
              failure->message), ("%s", GST_STR_NULL (failure->url)));
      break;
    case GST_WHEP_SESSION_EVENT_POSTED:
      break;
    case GST_WHEP_SESSION_EVENT_RTCP:
      /* RTCP after the media stopped proves the path alive, which makes a
       * standby worth starting: judged now, not at the next watchdog tick. */
      if (current)
        judge_current_session (self, g_get_monotonic_time ());
      break;
    case GST_WHEP_SESSION_EVENT_RECONNECT:
      if (current)
        handle_server_reconnect (self, failure ? failure->url : NULL);
      break;
    case GST_WHEP_SESSION_EVENT_ACTIVE:
    case GST_WHEP_SESSION_EVENT_INACTIVE:
      /* While the publication is inactive the session is alive but
       * silent: the picture holds, status says "waiting", and the silence
       * is not a dead session. */
      if (current) {
        run->server_inactive = event == GST_WHEP_SESSION_EVENT_INACTIVE;
        GST_INFO_OBJECT (self, "the server says the publication is %s",
            run->server_inactive ? "inactive" : "active");
      }
      break;
    case GST_WHEP_SESSION_EVENT_TRICKLE_REFUSED:
      handle_trickle_refused (self, failure);
      break;
    case GST_WHEP_SESSION_EVENT_ICE_RESTART_STARTED:
      if (current)
        post_ice_restart_started (self, session, "ice-failed");
      break;
    case GST_WHEP_SESSION_EVENT_ICE_RESTART_REFUSED:
      handle_ice_restart_refused (self, failure);
      break;
    case GST_WHEP_SESSION_EVENT_STATE:
      if (gst_whep_session_get_state (session) == GST_WHEP_SESSION_CONNECTING)
        keep_link_ice_servers (run, session);
      break;
  }
}

static void
handle_holding (GstWhepSupervisor * self, GstWhepMediaKind kind,
    gboolean holding)
{
  RunState *run = self->run;
  GstStructure *s;
  gint64 now = g_get_monotonic_time ();

  if (run->holding[kind] == holding)
    return;
  run->holding[kind] = holding;
  GST_INFO_OBJECT (self, "%s output %s", kind_name (kind), holding ?
      "holds the last frame" : "plays again");
  s = gst_structure_new ("whepsrc/holding",
      "holding", G_TYPE_BOOLEAN, holding,
      "kind", G_TYPE_STRING, kind_name (kind), NULL);
  if (holding)
    run->hold_since_us[kind] = now;
  else if (run->hold_since_us[kind])
    gst_structure_set (s, "held-ms", G_TYPE_DOUBLE,
        (now - run->hold_since_us[kind]) / 1000.0, NULL);
  post_element_message (self, s);
  /* The hold begins at 200 ms of silence: judged now, not at the next
   * watchdog tick (a standby may be due). */
  if (holding)
    judge_current_session (self, now);
}

static void
handle_switched (GstWhepSupervisor * self, GstPad * sinkpad)
{
  RunState *run = self->run;
  g_autoptr (GstPad) peer = gst_pad_get_peer (sinkpad);
  g_autoptr (GstObject) parent = peer ? gst_pad_get_parent (peer) : NULL;

  if (parent && run->next && parent == GST_OBJECT (run->next)
      && session_on_air_everywhere (self, run->next))
    complete_rotation (self);
}

/* Once the first session's every stream has its output pad: playbin,
 * uridecodebin and gst-discoverer wait for no-more-pads before they
 * link anything.  The pads stay for the element's life (sessions come and
 * go behind them), so it is said once per run.  A stream of the answer
 * that never gets a pad (no decoder) is covered at the first frame. */
static void
announce_pads_if_complete (GstWhepSupervisor * self, GstWhepSession * session)
{
  RunState *run = self->run;
  GstWhepMediaKind kind;

  if (run->pads_complete)
    return;
  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstPad) pad = session_switch_pad (session, kind);

    if (gst_whep_session_expects_kind (session, kind) && pad == NULL)
      return;
  }
  announce_pads (self, "every stream has its pad");
}

/* A session's output pad was linked to a switch: the session being set up
 * to go on air takes over as soon as it has a frame newer than what was
 * shown last; a standby waits for its turn (make_pending at its first
 * frame). */
static void
handle_pad_linked (GstWhepSupervisor * self, GstWhepSession * session)
{
  RunState *run = self->run;

  if (session == run->current || (session == run->next
          && run->next_first_frame_us != 0))
    make_pending (self, session);
  if (session == run->current)
    announce_pads_if_complete (self, session);
}

/* An element inside a session posted an error or a warning: an error is
 * that session's failure (recovered like any loss; only the supervisor
 * posts errors, when retries run out); a warning is passed on once, naming
 * the session. */
static void
handle_child_message (GstWhepSupervisor * self, GstWhepSession * session,
    GstMessage * message)
{
  RunState *run = self->run;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *element = NULL;
  gchar *key;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    if (session == run->current || session == run->next) {
      GST_INFO_OBJECT (self, "error inside %s: the session is lost",
          GST_ELEMENT_NAME (session));
      gst_whep_session_fail_from_message (session, message);
    }
    return;
  }

  gst_message_parse_warning (message, &err, &debug);
  element = gst_object_get_name (GST_MESSAGE_SRC (message));
  key = g_strdup_printf ("%u:%u:%d:%s", gst_whep_session_get_id (session),
      err->domain, err->code, err->message);
  if (!g_hash_table_add (run->warnings_seen, key))
    return;
  gst_element_message_full (self->element, GST_MESSAGE_WARNING, err->domain,
      err->code, g_strdup_printf ("%s (WHEP session %u, %s)", err->message,
          gst_whep_session_get_id (session), element), g_strdup (debug),
      __FILE__, GST_FUNCTION, __LINE__);
}

/* --- the watchdog --- */

static void
judge_current_session (GstWhepSupervisor * self, gint64 now)
{
  RunState *run = self->run;
  GstWhepSession *current = run->current;
  GstWhepSilenceFacts facts = { 0, };
  GstWhepFailure failure = {
    .domain = GST_RESOURCE_ERROR,.code = GST_RESOURCE_ERROR_READ,
    .retryable = TRUE,.retry_after_s = -1,
  };
  g_autofree gchar *msg = NULL;
  g_autoptr (GstWhepSession) keep = NULL;
  GstWhepSilenceRepair repair;
  gboolean can_restart;

  if (!current || gst_whep_session_get_state (current) !=
      GST_WHEP_SESSION_PLAYING)
    return;
  keep = gst_object_ref (current);
  facts.now_us = now;
  facts.on_air_until_us = last_media_time (self, current);
  facts.first_frame_us = gst_whep_session_get_first_frame_time (current);
  facts.playing_since_us = run->playing_since_us;
  facts.ice_restart_since_us = gst_whep_session_get_ice_restart_time (current);
  facts.ice_ready_us = gst_whep_session_get_ice_ready_time (current);
  facts.last_rtcp_us = gst_whep_session_get_last_rtcp_time (current);
  facts.last_video_rtp_us = gst_whep_session_get_last_video_rtp_time (current);
  facts.media_timeout_ms = run->settings.media_timeout_ms;
  facts.ice_restart_timeout_ms = run->settings.ice_restart_timeout_ms;
  facts.server_inactive = run->server_inactive;
  /* Not on this server, or not on this session (negotiated by the
   * server's offer: 406). */
  can_restart = !run->known.no_ice_restart
      && run->settings.ice_restart_timeout_ms
      && gst_whep_session_can_restart_ice (current);

  /* Spoke again before it was judged lost: its standby becomes an
   * ordinary rotation. */
  if (run->silent_since_us && facts.on_air_until_us > run->silent_since_us) {
    run->silent_since_us = 0;
    if (run->standby_waiting && run->next) {
      run->standby_waiting = FALSE;
      GST_INFO_OBJECT (self, "%s speaks again: %s takes over as a rotation",
          GST_ELEMENT_NAME (current), GST_ELEMENT_NAME (run->next));
      make_pending (self, run->next);
    }
  }
  repair = gst_whep_silence_repair (&facts, STANDBY_AFTER_SILENCE_MS,
      ICE_RESTART_AFTER_SILENCE_MS, can_restart);
  if (repair == GST_WHEP_REPAIR_STANDBY && !run->next
      && !run->known.one_session_only && !run->gave_up) {
    GST_INFO_OBJECT (self, "%s silent for %u ms: starting a standby",
        GST_ELEMENT_NAME (current), STANDBY_AFTER_SILENCE_MS);
    run->silent_since_us = facts.on_air_until_us;
    run->rotation_reason = "silence";
    start_session (self, ROLE_NEXT);
  } else if (repair == GST_WHEP_REPAIR_ICE_RESTART
      && (run->early_restart_session != gst_whep_session_get_id (current)
          || now - run->early_restart_us >= EARLY_RESTART_QUIET_US)
      && gst_whep_session_restart_ice (current)) {
    run->early_restart_us = now;
    run->early_restart_session = gst_whep_session_get_id (current);
    post_ice_restart_started (self, current, "silence");
    return;
  }

  /* The server said it is gone while its media still flowed: now that
   * the media stopped too, it is. */
  if (run->gone && facts.on_air_until_us
      && now - facts.on_air_until_us >= GONE_BUT_PLAYING_US) {
    g_autoptr (GstWhepFailure) gone = g_steal_pointer (&run->gone);

    handle_current_failed (self, current, gone, facts.on_air_until_us);
    return;
  }

  /* Its standby plays: half the media timeout of silence is enough to
   * give up a session that nothing else would bring back sooner. */
  if (run->standby_waiting && run->next
      && gst_whep_silence_repair (&facts, facts.media_timeout_ms / 2,
          facts.media_timeout_ms / 2, can_restart) == GST_WHEP_REPAIR_STANDBY) {
    msg = g_strdup_printf ("No media from the WHEP server for %u ms (a "
        "standby session plays)", facts.media_timeout_ms / 2);
    failure.message = msg;
    handle_current_failed (self, current, &failure, facts.on_air_until_us);
    return;
  }

  switch (gst_whep_judge_silence (&facts)) {
    case GST_WHEP_SILENCE_FINE:
      return;
    case GST_WHEP_SILENCE_RESTART_WORKED:{
      gdouble ms = (facts.on_air_until_us - facts.ice_restart_since_us) /
          1000.0;
      gst_whep_session_end_ice_restart (current);
      run->ice_restarts++;
      GST_INFO_OBJECT (self, "%s: ICE restart brought the media back after "
          "%.0f ms", GST_ELEMENT_NAME (current), ms);
      post_element_message (self, gst_structure_new ("whepsrc/ice-restarted",
              "session-id", G_TYPE_UINT, gst_whep_session_get_id (current),
              "duration-ms", G_TYPE_DOUBLE, ms, NULL));
      return;
    }
    case GST_WHEP_SILENCE_RESTART_FAILED:
      msg = facts.last_rtcp_us > facts.ice_restart_since_us ?
          g_strdup ("An ICE restart restored the path but not the media: "
          "the WHEP server stopped sending") :
          g_strdup_printf ("An ICE restart did not bring the media back "
          "within %u ms", facts.ice_restart_timeout_ms);
      failure.message = msg;
      run->ice_restarts_failed++;
      handle_current_failed (self, current, &failure, facts.on_air_until_us);
      return;
    case GST_WHEP_SILENCE_TOO_LONG:
      /* A standby that already plays is quicker; otherwise try to keep
       * this session on a new path before giving it up. */
      if (!run->next_first_frame_us && gst_whep_session_restart_ice (current)) {
        post_ice_restart_started (self, current, "media-timeout");
        return;
      }
      msg = g_strdup_printf ("No media from the WHEP server for %u ms",
          facts.media_timeout_ms);
      failure.message = msg;
      handle_current_failed (self, current, &failure,
          MAX (MAX (facts.first_frame_us, facts.on_air_until_us),
              facts.playing_since_us));
      return;
    case GST_WHEP_SILENCE_SENDER_STOPPED:
      msg = g_strdup_printf ("The WHEP server stopped sending media (none "
          "for %u ms while its RTCP still arrives)", facts.media_timeout_ms);
      failure.message = msg;
      handle_current_failed (self, current, &failure,
          MAX (MAX (facts.first_frame_us, facts.on_air_until_us),
              facts.playing_since_us));
      return;
  }
}

/* Silent deaths (a provider that closes a session without a DTLS alert or
 * a BYE just stops sending), a standby that never manages to take over,
 * and the candidate pair of the statistics. */
static gboolean
watchdog_cb (gpointer data)
{
  GstWhepSupervisor *self = data;
  RunState *run = self->run;
  gint64 now = g_get_monotonic_time ();

  if (is_stopping (self))
    return G_SOURCE_REMOVE;

  if (run->next && run->next_first_frame_us && !run->standby_waiting
      && now - run->next_first_frame_us > TAKEOVER_TIMEOUT_MS * 1000) {
    GST_WARNING_OBJECT (self, "standby did not take over in %u ms: forcing",
        TAKEOVER_TIMEOUT_MS);
    complete_rotation (self);
  }
  judge_current_session (self, now);
  /* The statistics show the pair the session last reported: ask for a
   * fresh one now and then (the reply comes later, without waiting). */
  if (run->current && ++run->watchdog_ticks % PAIR_REFRESH_TICKS == 0)
    gst_whep_session_refresh_candidate_pair (run->current);
  publish (self);
  return G_SOURCE_CONTINUE;
}

/* --- starting sessions --- */

/* Adds the Link-header ICE servers of the previous session, in webrtcbin's
 * URI form, where the user configured none of that kind. */
static void
add_link_ice_servers (RunState * run, GstWhepSessionConfig * config)
{
  g_autoptr (GPtrArray) turns = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; run->link_ice_servers && i < run->link_ice_servers->len; i++) {
    GstWhepIceServer *server = g_ptr_array_index (run->link_ice_servers, i);
    gchar *uri = gst_whep_ice_server_to_webrtc_uri (server);

    if (!uri)
      continue;
    if (g_str_has_prefix (uri, "stun") && !config->stun_server)
      config->stun_server = uri;
    else if (g_str_has_prefix (uri, "turn"))
      g_ptr_array_add (turns, uri);
    else
      g_free (uri);
  }
  if (turns->len && !config->turn_servers) {
    g_ptr_array_add (turns, NULL);
    config->turn_servers = (gchar **) g_ptr_array_steal (turns, NULL);
  }
}

static void
fill_session_config (GstWhepSupervisor * self, GstWhepSessionConfig * config)
{
  RunState *run = self->run;
  gboolean use_link_headers = FALSE;

  self->host.fill_session_config (self->element, config, &use_link_headers);
  config->id = ++run->next_session_id;
  config->client = g_object_ref (self->client);
  config->context = g_main_context_ref (gst_whep_worker_get_context
      (self->worker));
  if (run->next_endpoint) {
    g_free (config->endpoint);
    config->endpoint = g_steal_pointer (&run->next_endpoint);
  }
  /* Once refused, never again: every PATCH would only cost a round trip. */
  config->trickle = config->trickle && !run->known.no_trickle;
  config->liveness = run->known.liveness;
  run->settings_allow_link_servers = use_link_headers;
  config->ice_restart = config->ice_restart && !run->known.no_ice_restart;
  if (use_link_headers)
    add_link_ice_servers (run, config);
}

static void session_listener (GstWhepSession * session,
    GstWhepSessionEvent event, const GstWhepFailure * failure,
    gpointer user_data);

static void
start_session (GstWhepSupervisor * self, SessionRole role)
{
  RunState *run = self->run;
  GstWhepSessionConfig config = { 0, };
  g_autoptr (GstWhepSession) session = NULL;

  /* The first session waits for PLAYING: it needs the base time. */
  if (run->gave_up || (!run->playing_since_us && !run->sessions_created)
      || (role == ROLE_CURRENT && run->current)
      || (role == ROLE_NEXT && (run->next || !run->current)))
    return;

  fill_session_config (self, &config);
  /* Our own reference for this function; the bin takes another. */
  session = gst_object_ref_sink (gst_whep_session_new (&config,
          session_listener, self));
  gst_whep_session_config_clear (&config);

  g_signal_connect (session, "pad-added", G_CALLBACK (on_session_pad_added),
      self);
  /* A session's state is its own business: a failing webrtcbin must not
   * fail whepsrc's state change, and a decodebin that is still looking
   * for its decoder must not make the pipeline lose its state. */
  g_object_set (session, "async-handling", TRUE, NULL);
  gst_element_set_locked_state (GST_ELEMENT (session), TRUE);

  if (role == ROLE_CURRENT) {
    run->current = gst_object_ref (session);
  } else {
    run->next = gst_object_ref (session);
    run->next_first_frame_us = 0;
  }
  run->sessions_created++;

  /* gst_bin_add() hands over clock and base time. */
  gst_bin_add (GST_BIN (self->element), GST_ELEMENT (session));
  if (gst_element_set_state (GST_ELEMENT (session), GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    GstWhepFailure failure = {
      .domain = GST_CORE_ERROR,.code = GST_CORE_ERROR_STATE_CHANGE,
      .message = (gchar *) "Could not start a WebRTC session (webrtcbin "
          "failed to change state)",.retry_after_s = -1,
    };
    if (role == ROLE_CURRENT)
      handle_current_failed (self, session, &failure, 0);
    else
      handle_standby_failed (self, session, &failure);
    return;
  }
  GST_INFO_OBJECT (self, "starting %s (%s)", GST_ELEMENT_NAME (session),
      role == ROLE_CURRENT ? "on air" : "standby");
  gst_whep_session_start (session);
}

/* --- events: every input becomes one of these --- */

typedef enum
{
  EVENT_SESSION,                /* a GstWhepSessionEvent */
  EVENT_PAD_LINKED,             /* a session pad was linked to an output */
  EVENT_SWITCHED,               /* a switch's pending pad took over */
  EVENT_HOLDING,                /* a switch began/ended holding */
  EVENT_CHILD_MESSAGE,          /* ERROR/WARNING from inside a session */
  EVENT_PLAYING,                /* the pipeline went to PLAYING (flag) */
  EVENT_SETTINGS,               /* a run-time property changed */
  EVENT_END_OF_STREAM,          /* the application sent EOS */
} EventKind;

typedef struct
{
  GstWhepSupervisor *self;      /* ref */
  EventKind kind;
  GstWhepSession *session;      /* ref, nullable */
  GstWhepSessionEvent event;
  GstWhepFailure *failure;      /* owned, nullable */
  GstWhepMediaKind media;
  gboolean flag;
  GstPad *pad;                  /* ref, nullable */
  GstMessage *message;          /* ref, nullable */
} Event;

static void
event_free (Event * ev)
{
  gst_object_unref (ev->self);
  if (ev->session)
    gst_object_unref (ev->session);
  gst_whep_failure_free (ev->failure);
  if (ev->pad)
    gst_object_unref (ev->pad);
  if (ev->message)
    gst_message_unref (ev->message);
  g_free (ev);
}

static void
handle_playing (GstWhepSupervisor * self, gboolean playing)
{
  RunState *run = self->run;

  run->playing_since_us = playing ? g_get_monotonic_time () : 0;
  if (!playing)
    return;
  if (!run->watchdog)
    replace_timer (self, &run->watchdog, WATCHDOG_INTERVAL_MS, watchdog_cb);
  /* The first session starts once the pipeline runs: it needs the base
   * time. */
  if (!run->current && !run->retry_timer)
    start_session (self, ROLE_CURRENT);
}

static void
handle_settings (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  GstWhepRunSettings old = run->settings;

  self->host.read_settings (self->element, &run->settings);
  if (old.session_lifetime_s != run->settings.session_lifetime_s
      || old.rotation_lead_ms != run->settings.rotation_lead_ms)
    schedule_rotation (self);
}

/* An EOS the application sent (gst-launch-1.0 -e, a recording that
 * ends): every output ends with EOS, then every session is DELETEd
 * (bounded); nothing starts again in this run. */
static void
handle_end_of_stream (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  GstWhepMediaKind kind;
  gboolean any_output = FALSE;

  if (run->ended)
    return;
  run->ended = TRUE;
  GST_INFO_OBJECT (self, "end of stream: ending the outputs, closing the "
      "sessions");
  gst_whep_clear_source (&run->retry_timer);
  gst_whep_clear_source (&run->pads_timer);
  gst_whep_clear_source (&run->rotation_timer);
  gst_whep_clear_source (&run->watchdog);

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_output (self, kind);

    if (sw) {
      gst_whep_switch_end_stream (GST_WHEP_SWITCH (sw));
      any_output = TRUE;
    }
  }
  if (!any_output) {
    /* Nothing played yet: a pad that only ends lets the pipeline's sinks
     * see the EOS (gst-launch-1.0 -e waits for it). */
    g_autoptr (GstElement) sw = self->host.ensure_output (self->element,
        GST_WHEP_MEDIA_VIDEO);

    gst_whep_switch_end_stream (GST_WHEP_SWITCH (sw));
  }
  announce_pads (self, "end of stream");
  /* "ended" from now on, before the (bounded) DELETEs. */
  publish (self);

  gst_clear_object (&run->current);
  gst_clear_object (&run->next);
  remove_all_sessions (self, TRUE);
}

static gboolean
event_cb (gpointer data)
{
  Event *ev = data;
  GstWhepSupervisor *self = ev->self;

  if (is_stopping (self))
    return G_SOURCE_REMOVE;
  /* After the end of stream only settings still matter. */
  if (self->run->ended && ev->kind != EVENT_SETTINGS)
    return G_SOURCE_REMOVE;

  switch (ev->kind) {
    case EVENT_SESSION:
      handle_session_event (self, ev->session, ev->event, ev->failure);
      break;
    case EVENT_PAD_LINKED:
      handle_pad_linked (self, ev->session);
      break;
    case EVENT_SWITCHED:
      handle_switched (self, ev->pad);
      break;
    case EVENT_HOLDING:
      handle_holding (self, ev->media, ev->flag);
      break;
    case EVENT_CHILD_MESSAGE:
      handle_child_message (self, ev->session, ev->message);
      break;
    case EVENT_PLAYING:
      handle_playing (self, ev->flag);
      break;
    case EVENT_SETTINGS:
      handle_settings (self);
      break;
    case EVENT_END_OF_STREAM:
      handle_end_of_stream (self);
      break;
  }
  publish (self);
  return G_SOURCE_REMOVE;
}

static Event *
event_new (GstWhepSupervisor * self, EventKind kind)
{
  Event *ev = g_new0 (Event, 1);

  ev->self = gst_object_ref (self);
  ev->kind = kind;
  return ev;
}

static void
post_event (GstWhepSupervisor * self, Event * ev)
{
  gst_whep_worker_invoke (self->worker, G_PRIORITY_DEFAULT, event_cb, ev,
      (GDestroyNotify) event_free);
}

/* The session listener: any thread. */
static void
session_listener (GstWhepSession * session, GstWhepSessionEvent event,
    const GstWhepFailure * failure, gpointer user_data)
{
  GstWhepSupervisor *self = user_data;
  Event *ev = event_new (self, EVENT_SESSION);

  ev->session = gst_object_ref (session);
  ev->event = event;
  ev->failure = failure ? gst_whep_failure_copy (failure) : NULL;
  post_event (self, ev);
}

static void
post_session_pad_linked (GstWhepSupervisor * self, GstWhepSession * session)
{
  Event *ev = event_new (self, EVENT_PAD_LINKED);

  ev->session = gst_object_ref (session);
  post_event (self, ev);
}

void
gst_whep_supervisor_set_playing (GstWhepSupervisor * self, gboolean playing)
{
  Event *ev = event_new (self, EVENT_PLAYING);

  ev->flag = playing;
  post_event (self, ev);
}

void
gst_whep_supervisor_end_of_stream (GstWhepSupervisor * self)
{
  post_event (self, event_new (self, EVENT_END_OF_STREAM));
}

void
gst_whep_supervisor_settings_changed (GstWhepSupervisor * self)
{
  post_event (self, event_new (self, EVENT_SETTINGS));
}

void
gst_whep_supervisor_child_message (GstWhepSupervisor * self,
    GstWhepSession * session, GstMessage * message)
{
  Event *ev = event_new (self, EVENT_CHILD_MESSAGE);

  ev->session = gst_object_ref (session);
  ev->message = gst_message_ref (message);
  post_event (self, ev);
}

void
gst_whep_supervisor_output_switched (GstWhepSupervisor * self,
    GstWhepMediaKind kind, GstPad * sinkpad)
{
  Event *ev = event_new (self, EVENT_SWITCHED);

  ev->media = kind;
  ev->pad = gst_object_ref (sinkpad);
  post_event (self, ev);
}

void
gst_whep_supervisor_output_holding (GstWhepSupervisor * self,
    GstWhepMediaKind kind, gboolean holding)
{
  Event *ev = event_new (self, EVENT_HOLDING);

  ev->media = kind;
  ev->flag = holding;
  post_event (self, ev);
}

/* --- the snapshot --- */

static GstWhepSrcStatus
compute_status (RunState * run, gboolean running)
{
  GstWhepStatusFacts facts = {
    .running = running,
    .gave_up = run->gave_up,
    .ended = run->ended,
    .server_inactive = run->server_inactive,
    .holding = run->holding[0] || run->holding[1],
    .ever_played = run->ever_played,
    .waiting_for_server = run->waiting_for_server,
  };

  return gst_whep_status_from_facts (&facts);
}

static GstStructure *
build_statistics (RunState * run)
{
  gdouble lifetime = effective_lifetime_s (run);
  GstWhepRepairStats repair;
  GstStructure *s;

  s = gst_structure_new ("application/x-whepsrc-stats",
      "sessions-created", G_TYPE_UINT64, run->sessions_created,
      "sessions-failed", G_TYPE_UINT64, run->sessions_failed,
      "retries", G_TYPE_UINT64, run->retries,
      "rotations", G_TYPE_UINT64, run->rotations,
      "early-losses", G_TYPE_UINT64, run->early_losses,
      "ice-restarts", G_TYPE_UINT64, run->ice_restarts,
      "ice-restarts-failed", G_TYPE_UINT64, run->ice_restarts_failed,
      "server-trickle", G_TYPE_BOOLEAN, !run->known.no_trickle,
      "server-ice-restart", G_TYPE_BOOLEAN, !run->known.no_ice_restart,
      "learned-session-lifetime", G_TYPE_DOUBLE,
      run->known.learned_lifetime_s,
      "one-session-only", G_TYPE_BOOLEAN, run->known.one_session_only,
      "server-liveness", G_TYPE_STRING,
      run->known.liveness == GST_WHEP_LIVENESS_TRUSTED ? "yes" :
      run->known.liveness == GST_WHEP_LIVENESS_OFF ? "no" : "unknown",
      "first-frame-ms", G_TYPE_DOUBLE, run->first_frame_ms,
      "last-error", G_TYPE_STRING, run->last_error,
      "session-lifetime", G_TYPE_DOUBLE, lifetime,
      "rotation-lead-ms", G_TYPE_UINT, lifetime > 0 ?
      rotation_lead_ms (run, lifetime) : 0, NULL);
  if (run->last_timings)
    gst_structure_set (s, "last-setup", GST_TYPE_STRUCTURE,
        run->last_timings, NULL);

  repair = run->repaired;
  if (run->current) {
    GstWhepRepairStats now;

    gst_whep_session_get_repair_stats (run->current, &now);
    add_repair_stats (&repair, &now);
  }
  gst_structure_set (s, "packets-lost", G_TYPE_UINT64, repair.packets_lost,
      "retransmission-requests", G_TYPE_UINT64,
      repair.retransmission_requests, "retransmissions-received",
      G_TYPE_UINT64, repair.retransmissions, "key-frames-requested",
      G_TYPE_UINT64, repair.key_frame_requests, "frames-dropped",
      G_TYPE_UINT64, repair.frames_dropped, NULL);

  if (run->current) {
    g_autofree gchar *url = dup_redacted_resource_url (run->current);
    GstStructure *pair = gst_whep_session_dup_candidate_pair (run->current);

    gst_structure_set (s, "session-id", G_TYPE_UINT,
        gst_whep_session_get_id (run->current), "session-state",
        G_TYPE_STRING, gst_whep_session_state_name (gst_whep_session_get_state
            (run->current)), "session-url", G_TYPE_STRING, url, NULL);
    if (pair) {
      gst_structure_set (s, "candidate-pair", GST_TYPE_STRUCTURE, pair, NULL);
      gst_structure_free (pair);
    }
  } else {
    gst_structure_set (s, "session-url", G_TYPE_STRING, NULL, NULL);
  }
  return s;
}

/* Publishes the status and statistics for other threads, and notifies a
 * status change once, with no lock held. */
static void
publish (GstWhepSupervisor * self)
{
  RunState *run = self->run;
  GstStructure *stats = build_statistics (run);
  GstWhepSrcStatus status = compute_status (run, TRUE);
  gint64 posted = run->current ?
      gst_whep_session_get_post_time (run->current) : 0;
  gboolean changed;

  g_mutex_lock (&self->snapshot_lock);
  changed = self->status != status;
  self->status = status;
  if (self->stats)
    gst_structure_free (self->stats);
  self->stats = stats;
  self->session_posted_us = posted;
  g_mutex_unlock (&self->snapshot_lock);

  if (changed) {
    GST_INFO_OBJECT (self, "status: %s",
        g_enum_get_value (g_type_class_peek (GST_TYPE_WHEP_SRC_STATUS),
            status)->value_nick);
    g_object_notify (G_OBJECT (self->element), "status");
  }
}

GstWhepSrcStatus
gst_whep_supervisor_get_status (GstWhepSupervisor * self)
{
  GstWhepSrcStatus status;

  g_mutex_lock (&self->snapshot_lock);
  status = self->status;
  g_mutex_unlock (&self->snapshot_lock);
  return status;
}

GstStructure *
gst_whep_supervisor_dup_statistics (GstWhepSupervisor * self)
{
  GstStructure *s;
  gint64 posted;

  g_mutex_lock (&self->snapshot_lock);
  s = gst_structure_copy (self->stats);
  posted = self->session_posted_us;
  g_mutex_unlock (&self->snapshot_lock);
  if (gst_structure_has_field (s, "session-id"))
    gst_structure_set (s, "session-age-s", G_TYPE_DOUBLE, posted ?
        (g_get_monotonic_time () - posted) / 1e6 : 0.0, NULL);
  return s;
}

GstStructure *
gst_whep_supervisor_statistics_before_run (const GstWhepServerKnowledge * known)
{
  RunState run = {.known = *known,.first_frame_ms = -1 };

  return build_statistics (&run);
}

/* --- the run: set up and torn down on the supervisor's thread --- */

static gpointer
run_setup (gpointer data)
{
  GstWhepSupervisor *self = data;
  RunState *run = g_new0 (RunState, 1);

  run->known = self->initial_known;
  self->host.read_settings (self->element, &run->settings);
  run->rand = g_rand_new ();
  run->warnings_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  run->t_start = g_get_monotonic_time ();
  run->first_frame_ms = -1;
  self->run = run;
  publish (self);
  return gst_object_ref (self);
}

/* Every session still in the bin is closed (its DELETE sent), then the run
 * is freed. */
static void
run_teardown (gpointer state)
{
  GstWhepSupervisor *self = state;
  RunState *run = self->run;

  gst_whep_clear_source (&run->retry_timer);
  gst_whep_clear_source (&run->pads_timer);
  gst_whep_clear_source (&run->rotation_timer);
  gst_whep_clear_source (&run->watchdog);
  gst_clear_object (&run->current);
  gst_clear_object (&run->next);

  /* Not waited for here: stop() must return within a second whatever the
   * server does.  The DELETEs run on the client's thread, which the
   * element gives a bounded time before it joins it
   * (gst_whep_client_close()); a POST still under way was cancelled by
   * then, and its session, if its Location came, is DELETEd too. */
  remove_all_sessions (self, FALSE);

  g_mutex_lock (&self->snapshot_lock);
  self->final_known = run->known;
  g_mutex_unlock (&self->snapshot_lock);

  g_clear_pointer (&run->link_ice_servers, g_ptr_array_unref);
  g_free (run->next_endpoint);
  g_hash_table_unref (run->warnings_seen);
  g_rand_free (run->rand);
  if (run->last_timings)
    gst_structure_free (run->last_timings);
  g_free (run->last_error);
  gst_whep_failure_free (run->gone);
  g_free (run);
  self->run = NULL;
  gst_object_unref (self);
}

GstWhepSupervisor *
gst_whep_supervisor_new (GstElement * element,
    const GstWhepSupervisorHost * host, GstWhepClient * client,
    const GstWhepServerKnowledge * known)
{
  g_autofree gchar *name = g_strdup_printf ("%s:ctl",
      GST_ELEMENT_NAME (element));
  GstWhepSupervisor *self = g_object_new (GST_TYPE_WHEP_SUPERVISOR, "name",
      name, NULL);

  gst_object_ref_sink (self);
  self->element = element;
  self->host = *host;
  self->client = g_object_ref (client);
  self->initial_known = *known;
  self->final_known = *known;
  self->worker = gst_whep_worker_new ("whepsrc-ctl", run_setup, run_teardown,
      self);
  return self;
}

GstStructure *
gst_whep_supervisor_stop (GstWhepSupervisor * self,
    GstWhepServerKnowledge * known)
{
  GstStructure *stats;

  g_return_val_if_fail (!gst_whep_worker_is_current (self->worker), NULL);

  /* Queued events and timers are dropped from now on; the teardown DELETEs
   * the sessions on the supervisor's thread, and this waits for it. */
  g_atomic_int_set (&self->stopping, 1);
  gst_whep_worker_stop (self->worker);

  g_mutex_lock (&self->snapshot_lock);
  *known = self->final_known;
  self->status = GST_WHEP_SRC_STATUS_STOPPED;
  stats = self->stats ? gst_structure_copy (self->stats) : NULL;
  g_mutex_unlock (&self->snapshot_lock);
  return stats;
}

static void
gst_whep_supervisor_finalize (GObject * object)
{
  GstWhepSupervisor *self = GST_WHEP_SUPERVISOR (object);

  g_clear_pointer (&self->worker, gst_whep_worker_free);
  g_clear_object (&self->client);
  if (self->stats)
    gst_structure_free (self->stats);
  g_mutex_clear (&self->snapshot_lock);

  G_OBJECT_CLASS (gst_whep_supervisor_parent_class)->finalize (object);
}

static void
gst_whep_supervisor_init (GstWhepSupervisor * self)
{
  g_mutex_init (&self->snapshot_lock);
  self->status = GST_WHEP_SRC_STATUS_CONNECTING;
}

static void
gst_whep_supervisor_class_init (GstWhepSupervisorClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_whep_supervisor_finalize;

  GST_DEBUG_CATEGORY_INIT (whep_supervisor_debug, "whepsupervisor", 0,
      "WHEP session supervisor (the run state)");
}
