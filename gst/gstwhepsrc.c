/* whepsrc — the element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-whepsrc
 * @title: whepsrc
 *
 * Plays a live WebRTC stream from a WHEP server (WebRTC-HTTP Egress
 * Protocol) and keeps playing: it POSTs an SDP offer to `whep-endpoint`,
 * plays the answer's media through a webrtcbin, and outputs decoded raw
 * video on `video_%u` and raw audio on `audio_%u`.
 *
 * Each WHEP session lives in a sub-bin with a webrtcbin of its own, and a
 * new session always gets a new webrtcbin.  With `session-lifetime` set
 * (or once whepsrc has learnt the server's limit), the next session is
 * connected in the background before the current one expires — the timer
 * runs from the POST, the server's clock — and the output switches to it
 * at a frame boundary, then the old session is DELETEd.  When a session
 * dies early, the output holds the last frame (silence for audio) while a
 * new session is set up at once.  Downstream never sees EOS, a flush or a
 * new stream during this; an error is posted only when `max-retries`
 * sessions in a row failed, or at once for 401/403/404.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 whepsrc whep-endpoint=https://example.com/whep/cam ! videoconvert ! autovideosink
 * gst-launch-1.0 whepsrc name=s whep-endpoint=http://127.0.0.1:8889/cam/whep auth-token=secret \
 *     session-lifetime=300 s.video_0 ! queue ! videoconvert ! autovideosink \
 *     s.audio_0 ! queue ! audioconvert ! autoaudiosink
 * gst-play-1.0 wheps://example.com/whep/cam
 * ]|
 *
 * ## Bus messages (element messages)
 * - `whepsrc/session-started`: session-id, url, setup-ms, timings
 * - `whepsrc/session-rotated`: from-session, to-session, url, setup-ms,
 *   reason ("lifetime", "break-before-make")
 * - `whepsrc/session-lost`: session-id, reason, age-s, http-status-code,
 *   retry-in-ms (-1: giving up)
 * - `whepsrc/holding`: holding (boolean), kind, held-ms (when it ends)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsrc.h"
#include "gstwhepclient.h"
#include "gstwhepenums.h"
#include "gstwhepsession.h"
#include "gstwhepswitch.h"
#include "gstwheputils.h"

#include <gst/webrtc/webrtc.h>

GST_DEBUG_CATEGORY_STATIC (whep_src_debug);
#define GST_CAT_DEFAULT whep_src_debug

#define DEFAULT_WHEP_ENDPOINT NULL
#define DEFAULT_AUTH_TOKEN NULL
#define DEFAULT_TIMEOUT 15
#define DEFAULT_STUN_SERVER NULL
#define DEFAULT_TURN_SERVER NULL
#define DEFAULT_ICE_TRANSPORT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define DEFAULT_USE_LINK_HEADERS FALSE
#define DEFAULT_LATENCY 200
#define DEFAULT_SSL_STRICT TRUE
#define DEFAULT_SSL_CA_FILE NULL
#define DEFAULT_ICE_LOCAL_ADDRESSES NULL
#define DEFAULT_MAX_RETRIES 10
#define DEFAULT_SESSION_LIFETIME 0
#define DEFAULT_ROTATION_LEAD 0
#define DEFAULT_MEDIA_TIMEOUT 1000
#define DEFAULT_HOLD_MODE GST_WHEP_SRC_HOLD_REPEAT
#define DEFAULT_TRICKLE_ICE GST_WHEP_SRC_TRICKLE_AUTO
#define DEFAULT_ICE_RESTART_TIMEOUT 5000

#define RETRY_BASE_MS 500
#define RETRY_MAX_MS 30000
#define DELETE_TIMEOUT_MS 2000
#define WATCHDOG_INTERVAL_MS 200
/* A standby session that has not taken over after this long (from its
 * first frame) takes over by force. */
#define TAKEOVER_TIMEOUT_MS 3000

enum
{
  PROP_0,
  PROP_WHEP_ENDPOINT,
  PROP_AUTH_TOKEN,
  PROP_TIMEOUT,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_USE_LINK_HEADERS,
  PROP_VIDEO_CAPS,
  PROP_AUDIO_CAPS,
  PROP_LATENCY,
  PROP_EXTRA_HEADERS,
  PROP_SSL_STRICT,
  PROP_SSL_CA_FILE,
  PROP_ICE_LOCAL_ADDRESSES,
  PROP_MAX_RETRIES,
  PROP_SESSION_LIFETIME,
  PROP_ROTATION_LEAD,
  PROP_MEDIA_TIMEOUT,
  PROP_HOLD_MODE,
  PROP_TRICKLE_ICE,
  PROP_ICE_RESTART_TIMEOUT,
  PROP_STATUS,
  PROP_STATISTICS,
};

struct _GstWhepSrc
{
  GstBin parent;

  /* Settings.  Protected by the object lock; read into a session's
   * configuration when the session starts. */
  gchar *endpoint;
  gchar *auth_token;            /* never logged */
  guint timeout_s;
  gchar *stun_server;
  gchar *turn_server;           /* may hold credentials: never logged */
  GstWebRTCICETransportPolicy ice_transport_policy;
  gboolean use_link_headers;
  GstCaps *video_caps;
  GstCaps *audio_caps;
  guint latency_ms;
  GstStructure *extra_headers;
  gboolean ssl_strict;
  gchar *ssl_ca_file;
  gchar *ice_local_addresses;
  gint max_retries;
  guint session_lifetime_s;
  guint rotation_lead_ms;
  guint media_timeout_ms;
  GstWhepSrcHoldMode hold_mode;
  GstWhepSrcTrickleMode trickle_ice;
  guint ice_restart_timeout_ms;

  /* Output.  Protected by output_lock.  The switches and their ghost src
   * pads are made on first use and live as long as the element. */
  GMutex output_lock;
  GstElement *switches[2];      /* indexed by GstWhepMediaKind */
  GstPad *srcpads[2];

  /* Runtime state: exists between start() and stop().  Protected by
   * state_lock; changed on the control thread, or by start()/stop() while
   * the control thread is not running.  Lock order: state_lock, then
   * output_lock, then the object lock.  None is held while posting
   * messages, notifying, changing states or calling into a session. */
  GMutex state_lock;
  GstWhepClient *client;
  GMainContext *context;        /* the control thread's */
  GMainLoop *loop;
  GThread *thread;
  GstWhepSession *current;      /* on air (or being set up first); ref */
  GstWhepSession *next;         /* standby for a rotation; ref */
  GSource *retry_timer;
  GSource *rotation_timer;
  GSource *watchdog;
  guint next_session_id;
  guint attempt;                /* consecutive failed sessions */
  gboolean running;             /* between start() and stop() */
  gboolean gave_up;
  gboolean ever_played;
  gboolean one_session_only;    /* the server refused a second session */
  gboolean server_no_trickle;   /* the server refused a trickle PATCH */
  gboolean server_no_restart;   /* the server refused an ICE restart */
  gint64 next_first_frame_us;   /* when the standby decoded its first frame */
  gdouble last_loss_age_s;      /* age of the last session the server ended */
  gdouble learned_lifetime_s;
  gdouble slowest_setup_ms;     /* of the recent sessions */
  gchar *next_endpoint;         /* where the next session POSTs, if not
                                 * whep-endpoint (server reconnect event) */
  const gchar *rotation_reason; /* why the standby was started */
  gboolean server_inactive;     /* the server said the publication stopped */
  gint64 playing_since_us;      /* monotonic, last PAUSED→PLAYING (0: not
                                 * playing): silence before it is no loss */
  GPtrArray *link_ice_servers;  /* from the last answer (GstWhepIceServer*) */
  GRand *rand;
  GstWhepSrcStatus status;
  gboolean holding[2];

  /* Statistics.  Protected by state_lock. */
  guint64 sessions_created;
  guint64 sessions_failed;
  guint64 retries;
  guint64 rotations;
  guint64 early_losses;
  guint64 ice_restarts;         /* that brought the media back */
  guint64 ice_restarts_failed;
  gdouble first_frame_ms;       /* start → first frame of the first session */
  gint64 t_start;
  GstStructure *last_timings;
  gchar *last_error;
};

static void gst_whep_src_uri_handler_init (gpointer iface, gpointer data);

#define gst_whep_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWhepSrc, gst_whep_src, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_whep_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (whepsrc, "whepsrc", GST_RANK_PRIMARY,
    GST_TYPE_WHEP_SRC, GST_DEBUG_CATEGORY_INIT (whep_src_debug, "whepsrc", 0,
        "WHEP source"));

static GstStaticPadTemplate video_template =
GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate audio_template =
GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw(ANY)"));

typedef enum
{
  ROLE_CURRENT,
  ROLE_NEXT,
} SessionRole;

static void start_session (GstWhepSrc * self, SessionRole role);
static void schedule_rotation (GstWhepSrc * self);

/* Sessions among our children (refs). */
static GList *
dup_sessions (GstWhepSrc * self)
{
  GList *sessions = NULL, *l;

  GST_OBJECT_LOCK (self);
  for (l = GST_BIN_CHILDREN (self); l; l = l->next)
    if (GST_IS_WHEP_SESSION (l->data))
      sessions = g_list_prepend (sessions, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self);
  return sessions;
}

static const gchar *
kind_name (GstWhepMediaKind kind)
{
  return kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio";
}

/* --- status and messages --- */

static void
set_status (GstWhepSrc * self, GstWhepSrcStatus status)
{
  gboolean changed;

  g_mutex_lock (&self->state_lock);
  changed = self->status != status;
  self->status = status;
  g_mutex_unlock (&self->state_lock);

  if (changed) {
    GST_INFO_OBJECT (self, "status: %s",
        g_enum_get_value (g_type_class_peek (GST_TYPE_WHEP_SRC_STATUS),
            status)->value_nick);
    g_object_notify (G_OBJECT (self), "status");
  }
}

static void
post_element_message (GstWhepSrc * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
post_error (GstWhepSrc * self, const GstWhepFailure * failure)
{
  GstStructure *details;
  gchar *endpoint;

  GST_OBJECT_LOCK (self);
  endpoint = g_strdup (self->endpoint);
  GST_OBJECT_UNLOCK (self);
  details = gst_structure_new ("details",
      "http-status-code", G_TYPE_UINT, failure->http_status,
      "endpoint", G_TYPE_STRING, endpoint,
      "url", G_TYPE_STRING, failure->url ? failure->url : "",
      "retry-after", G_TYPE_INT, failure->retry_after_s, NULL);
  g_free (endpoint);

  gst_element_message_full_with_details (GST_ELEMENT (self),
      GST_MESSAGE_ERROR, failure->domain, failure->code,
      g_strdup (failure->message), g_strdup (failure->debug), __FILE__,
      GST_FUNCTION, __LINE__, details);
}

/* --- the control thread --- */

static gpointer
control_thread_main (gpointer data)
{
  GstWhepSrc *self = data;
  GMainContext *context;
  GMainLoop *loop;

  g_mutex_lock (&self->state_lock);
  context = g_main_context_ref (self->context);
  loop = g_main_loop_ref (self->loop);
  g_mutex_unlock (&self->state_lock);

  g_main_context_push_thread_default (context);
  g_main_loop_run (loop);
  g_main_context_pop_thread_default (context);

  g_main_loop_unref (loop);
  g_main_context_unref (context);
  return NULL;
}

/* Runs @func on the control thread (later, never inline). */
static void
run_on_control_thread (GstWhepSrc * self, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();
  GMainContext *context;

  g_mutex_lock (&self->state_lock);
  context = self->context ? g_main_context_ref (self->context) : NULL;
  g_mutex_unlock (&self->state_lock);

  g_source_set_callback (source, func, data, notify);
  if (context) {
    g_source_attach (source, context);
    g_main_context_unref (context);
  } else if (notify) {
    notify (data);
  }
  g_source_unref (source);
}

/* Replaces the timer in @slot (control thread; with state_lock). */
static void
replace_timer (GstWhepSrc * self, GSource ** slot, guint delay_ms,
    GSourceFunc func)
{
  if (*slot) {
    g_source_destroy (*slot);
    g_source_unref (*slot);
    *slot = NULL;
  }
  if (!func || !self->context)
    return;
  *slot = g_timeout_source_new (delay_ms);
  g_source_set_callback (*slot, func, self, NULL);
  g_source_attach (*slot, self->context);
}

/* --- control events --- */

typedef enum
{
  CONTROL_SESSION,              /* a GstWhepSessionEvent */
  CONTROL_SWITCHED,             /* a switch's pending pad took over */
  CONTROL_HOLDING,              /* a switch began/ended holding */
} ControlKind;

typedef struct
{
  GstWhepSrc *self;
  ControlKind kind;
  GstWhepSession *session;      /* ref, nullable */
  GstWhepSessionEvent event;
  GstWhepFailure *failure;      /* owned, nullable */
  GstWhepMediaKind media;
  gboolean flag;
} ControlEvent;

static void
control_event_free (ControlEvent * ev)
{
  if (ev->session)
    gst_object_unref (ev->session);
  gst_whep_failure_free (ev->failure);
  g_free (ev);
}

static gboolean control_event_cb (gpointer data);

static void
post_control_event (GstWhepSrc * self, ControlEvent * ev)
{
  ev->self = self;
  run_on_control_thread (self, control_event_cb, ev,
      (GDestroyNotify) control_event_free);
}

/* --- output --- */

static GstPadTemplate *
template_for_kind (GstWhepSrc * self, GstWhepMediaKind kind)
{
  return gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      kind == GST_WHEP_MEDIA_VIDEO ? "video_%u" : "audio_%u");
}

static GstWhepMediaKind
switch_kind (GstWhepSrc * self, GstElement * sw)
{
  GstWhepMediaKind kind;

  g_mutex_lock (&self->output_lock);
  kind = self->switches[GST_WHEP_MEDIA_VIDEO] == sw ?
      GST_WHEP_MEDIA_VIDEO : GST_WHEP_MEDIA_AUDIO;
  g_mutex_unlock (&self->output_lock);
  return kind;
}

/* Streaming thread. */
static void
on_switched (GstElement * sw, GstPad * pad, GstWhepSrc * self)
{
  ControlEvent *ev = g_new0 (ControlEvent, 1);
  GstPad *peer = gst_pad_get_peer (pad);

  ev->kind = CONTROL_SWITCHED;
  ev->media = switch_kind (self, sw);
  if (peer) {
    GstObject *parent = gst_pad_get_parent (peer);
    if (GST_IS_WHEP_SESSION (parent))
      ev->session = GST_WHEP_SESSION (parent);
    else if (parent)
      gst_object_unref (parent);
    gst_object_unref (peer);
  }
  post_control_event (self, ev);
}

/* Streaming or hold thread. */
static void
on_holding (GstElement * sw, gboolean holding, GstWhepSrc * self)
{
  ControlEvent *ev = g_new0 (ControlEvent, 1);

  ev->kind = CONTROL_HOLDING;
  ev->media = switch_kind (self, sw);
  ev->flag = holding;
  post_control_event (self, ev);
}

/* Returns the switch for @kind, making it and its src pad the first time. */
static GstElement *
ensure_output (GstWhepSrc * self, GstWhepMediaKind kind)
{
  GstElement *sw;
  GstPad *ghost = NULL;
  gboolean gap;

  GST_OBJECT_LOCK (self);
  gap = self->hold_mode == GST_WHEP_SRC_HOLD_GAP;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->output_lock);
  if (!self->switches[kind]) {
    g_autofree gchar *name = g_strdup_printf ("%s-switch", kind_name (kind));
    g_autofree gchar *pad_name = g_strdup_printf ("%s_0", kind_name (kind));
    g_autofree gchar *uuid = g_uuid_string_random ();
    g_autofree gchar *stream_id = NULL;
    GstPad *target;

    /* One stream id for the element's life: sessions come and go, the
     * stream stays. */
    stream_id = g_strdup_printf ("whepsrc-%s/%s", uuid, kind_name (kind));
    sw = gst_whep_switch_new (name, stream_id);
    self->switches[kind] = gst_object_ref (sw);
    g_signal_connect (sw, "switched", G_CALLBACK (on_switched), self);
    g_signal_connect (sw, "holding", G_CALLBACK (on_holding), self);
    gst_bin_add (GST_BIN (self), sw);
    gst_element_sync_state_with_parent (sw);

    target = gst_element_get_static_pad (sw, "src");
    ghost = gst_ghost_pad_new_from_template (pad_name, target,
        template_for_kind (self, kind));
    gst_object_unref (target);
    self->srcpads[kind] = gst_object_ref (ghost);
  }
  sw = gst_object_ref (self->switches[kind]);
  g_mutex_unlock (&self->output_lock);

  gst_whep_switch_set_gap_mode (GST_WHEP_SWITCH (sw), gap);
  if (ghost) {
    /* Emits pad-added: the application may link right here. */
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (GST_ELEMENT (self), ghost);
    GST_INFO_OBJECT (self, "exposed %s", GST_PAD_NAME (ghost));
  }
  return sw;
}

static GstElement *
dup_switch (GstWhepSrc * self, GstWhepMediaKind kind)
{
  GstElement *sw;

  g_mutex_lock (&self->output_lock);
  sw = self->switches[kind] ? gst_object_ref (self->switches[kind]) : NULL;
  g_mutex_unlock (&self->output_lock);
  return sw;
}

/* The switch sink pad a session's @kind output is linked to, or NULL. */
static GstPad *
session_switch_pad (GstWhepSession * session, GstWhepMediaKind kind)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (GST_ELEMENT (session),
      kind_name (kind));

  return pad ? gst_pad_get_peer (pad) : NULL;
}

static gboolean
is_role (GstWhepSrc * self, GstWhepSession * session, SessionRole role)
{
  gboolean is;

  g_mutex_lock (&self->state_lock);
  is = (role == ROLE_CURRENT ? self->current : self->next) == session;
  g_mutex_unlock (&self->state_lock);
  return is;
}

/* Hands the output of every kind the session has to it, at the next frame
 * boundary (at once where nothing is on air). */
static void
make_pending (GstWhepSrc * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_switch (self, kind);
    g_autoptr (GstPad) sinkpad = session_switch_pad (session, kind);

    if (sw && sinkpad)
      gst_whep_switch_set_pending_pad (GST_WHEP_SWITCH (sw), sinkpad);
  }
}

/* TRUE when every output the session feeds has switched to it: only then
 * may the old session go (each kind switches at its own frame boundary). */
static gboolean
session_on_air_everywhere (GstWhepSrc * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_switch (self, kind);
    g_autoptr (GstPad) pad = session_switch_pad (session, kind);

    if (sw && pad && !gst_whep_switch_is_active_pad (GST_WHEP_SWITCH (sw),
            pad))
      return FALSE;
  }
  return TRUE;
}

/* Streaming thread of the session. */
static void
on_session_pad_added (GstElement * session, GstPad * pad, GstWhepSrc * self)
{
  GstWhepMediaKind kind = g_str_equal (GST_PAD_NAME (pad), "video") ?
      GST_WHEP_MEDIA_VIDEO : GST_WHEP_MEDIA_AUDIO;
  g_autoptr (GstElement) sw = ensure_output (self, kind);
  g_autoptr (GstPad) sinkpad = NULL;
  gboolean current, next_ready;

  sinkpad = gst_element_request_pad_simple (sw, "sink_%u");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK) {
    GST_ERROR_OBJECT (self, "could not link %s:%s to the output",
        GST_ELEMENT_NAME (session), GST_PAD_NAME (pad));
    gst_element_release_request_pad (sw, sinkpad);
    return;
  }

  g_mutex_lock (&self->state_lock);
  current = self->current == GST_WHEP_SESSION (session);
  next_ready = self->next == GST_WHEP_SESSION (session)
      && self->next_first_frame_us != 0;
  g_mutex_unlock (&self->state_lock);

  /* The session being set up to go on air takes over as soon as it has a
   * frame newer than what was shown last; a standby waits for its turn
   * (make_pending at its first frame). */
  if (current || next_ready)
    gst_whep_switch_set_pending_pad (GST_WHEP_SWITCH (sw), sinkpad);
}

/* Unlinks a session from the switches and releases their pads. */
static void
unlink_session (GstWhepSrc * self, GstWhepSession * session)
{
  GstIterator *it = gst_element_iterate_src_pads (GST_ELEMENT (session));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&item);
    GstPad *peer = gst_pad_get_peer (pad);

    if (peer) {
      GstElement *sw = gst_pad_get_parent_element (peer);
      gst_pad_unlink (pad, peer);
      if (sw) {
        gst_element_release_request_pad (sw, peer);
        gst_object_unref (sw);
      }
      gst_object_unref (peer);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* Closes a session (DELETE), takes it out of the output and of the bin.
 * Not on a streaming thread of that session. */
static void
remove_session (GstWhepSrc * self, GstWhepSession * session, gboolean wait)
{
  GST_INFO_OBJECT (self, "removing %s", GST_ELEMENT_NAME (session));
  gst_whep_session_close (session, wait);
  unlink_session (self, session);
  gst_element_set_state (GST_ELEMENT (session), GST_STATE_NULL);
  g_signal_handlers_disconnect_by_data (session, self);
  gst_bin_remove (GST_BIN (self), GST_ELEMENT (session));
}

static gdouble
session_age_s (GstWhepSession * session)
{
  gint64 posted = gst_whep_session_get_post_time (session);

  return posted ? (g_get_monotonic_time () - posted) / 1e6 : 0;
}

/* --- retries --- */

static gboolean
retry_timer_cb (gpointer data)
{
  GstWhepSrc *self = data;
  gboolean go;

  g_mutex_lock (&self->state_lock);
  g_clear_pointer (&self->retry_timer, g_source_unref);
  go = self->running && !self->current && !self->gave_up;
  if (go)
    self->retries++;
  g_mutex_unlock (&self->state_lock);

  if (go)
    start_session (self, ROLE_CURRENT);
  return G_SOURCE_REMOVE;
}

/* Decides what happens after session @failure: returns FALSE (and marks
 * the element as given up) when no retry is left; else the delay. */
static gboolean
next_attempt (GstWhepSrc * self, const GstWhepFailure * failure,
    gboolean immediately, guint * delay_ms, guint * attempt_out)
{
  guint attempt, delay;
  gint max_retries;
  gboolean give_up;

  GST_OBJECT_LOCK (self);
  max_retries = self->max_retries;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->state_lock);
  attempt = self->attempt++;
  give_up = !failure->retryable
      || (max_retries >= 0 && attempt >= (guint) max_retries);
  if (give_up)
    self->gave_up = TRUE;
  /* A session lost after it played is replaced at once; failures in a
   * row back off (with jitter, so that many players do not all come back
   * in step). */
  delay = (immediately && attempt == 0) ? 0 :
      gst_whep_backoff_delay_ms (immediately ? attempt - 1 : attempt,
      RETRY_BASE_MS, RETRY_MAX_MS, self->rand);
  g_mutex_unlock (&self->state_lock);

  if (failure->retry_after_s >= 0)
    delay = MAX (delay, MIN ((guint) failure->retry_after_s, 3600) * 1000);
  *delay_ms = delay;
  *attempt_out = attempt;
  return !give_up;
}

static void
give_up (GstWhepSrc * self, const GstWhepFailure * failure, guint attempts)
{
  GST_WARNING_OBJECT (self, "giving up after %u attempt(s): %s", attempts,
      failure->message);
  set_status (self, GST_WHEP_SRC_STATUS_ERROR);
  post_error (self, failure);
}

/* --- rotation --- */

static gdouble
effective_lifetime_s (GstWhepSrc * self)
{
  guint configured;
  gdouble learned;

  GST_OBJECT_LOCK (self);
  configured = self->session_lifetime_s;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->state_lock);
  learned = self->learned_lifetime_s;
  g_mutex_unlock (&self->state_lock);
  return configured ? configured : learned;
}

static guint
rotation_lead_ms (GstWhepSrc * self, gdouble lifetime_s)
{
  guint configured;
  gdouble slowest;

  GST_OBJECT_LOCK (self);
  configured = self->rotation_lead_ms;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->state_lock);
  slowest = self->slowest_setup_ms;
  g_mutex_unlock (&self->state_lock);
  return gst_whep_rotation_lead_ms (configured, lifetime_s, slowest);
}

/* The standby failed to start, or the server refused a second session:
 * replace the current session break-before-make (DELETE first, then POST;
 * the output holds the last frame meanwhile). */
static void
break_before_make (GstWhepSrc * self)
{
  GstWhepSession *old;

  g_mutex_lock (&self->state_lock);
  old = g_steal_pointer (&self->current);
  g_mutex_unlock (&self->state_lock);

  if (old) {
    GST_INFO_OBJECT (self, "rotating break-before-make: deleting %s first",
        GST_ELEMENT_NAME (old));
    /* The server must have forgotten the old session before it sees the
     * new POST: wait for the DELETE (bounded). */
    remove_session (self, old, TRUE);
    g_mutex_lock (&self->state_lock);
    self->rotations++;
    g_mutex_unlock (&self->state_lock);
    post_element_message (self, gst_structure_new ("whepsrc/session-rotated",
            "from-session", G_TYPE_UINT, gst_whep_session_get_id (old),
            "to-session", G_TYPE_UINT, 0, "reason", G_TYPE_STRING,
            "break-before-make", NULL));
    gst_object_unref (old);
  }
  start_session (self, ROLE_CURRENT);
}

static gboolean
rotation_timer_cb (gpointer data)
{
  GstWhepSrc *self = data;
  gboolean go, one_only;

  g_mutex_lock (&self->state_lock);
  g_clear_pointer (&self->rotation_timer, g_source_unref);
  go = self->running && self->current && !self->next && !self->gave_up;
  one_only = self->one_session_only;
  g_mutex_unlock (&self->state_lock);

  if (!go)
    return G_SOURCE_REMOVE;
  GST_INFO_OBJECT (self, "session limit ahead: rotating");
  g_mutex_lock (&self->state_lock);
  self->rotation_reason = "lifetime";
  g_mutex_unlock (&self->state_lock);
  if (one_only)
    break_before_make (self);
  else
    start_session (self, ROLE_NEXT);
  return G_SOURCE_REMOVE;
}

/* Arms the rotation timer for the current session: its expiry counts from
 * its POST (the server's clock), less the lead time.  Control thread. */
static void
schedule_rotation (GstWhepSrc * self)
{
  gdouble lifetime_s = effective_lifetime_s (self);
  GstWhepSession *current;
  gint64 posted, due, now = g_get_monotonic_time ();
  guint lead_ms;

  g_mutex_lock (&self->state_lock);
  current = self->current ? gst_object_ref (self->current) : NULL;
  g_mutex_unlock (&self->state_lock);
  if (!current)
    return;
  posted = gst_whep_session_get_post_time (current);
  gst_object_unref (current);
  if (lifetime_s <= 0 || !posted)
    return;

  lead_ms = rotation_lead_ms (self, lifetime_s);
  due = posted + (gint64) (lifetime_s * G_USEC_PER_SEC) -
      (gint64) lead_ms *1000;
  GST_INFO_OBJECT (self, "next rotation in %.1f s (lifetime %.1f s, lead "
      "%u ms)", MAX (due - now, 0) / 1e6, lifetime_s, lead_ms);
  g_mutex_lock (&self->state_lock);
  replace_timer (self, &self->rotation_timer,
      (guint) (MAX (due - now, 0) / 1000), rotation_timer_cb);
  g_mutex_unlock (&self->state_lock);
}

/* The standby took over the output: it becomes the current session and
 * the old one is deleted. */
static void
complete_rotation (GstWhepSrc * self)
{
  GstWhepSession *old, *fresh;
  g_autofree gchar *url = NULL;
  GstStructure *timings;
  gdouble setup_ms = -1;
  const gchar *reason;

  g_mutex_lock (&self->state_lock);
  reason = self->rotation_reason ? self->rotation_reason : "lifetime";
  old = g_steal_pointer (&self->current);
  fresh = g_steal_pointer (&self->next);
  self->current = fresh ? gst_object_ref (fresh) : NULL;
  self->next_first_frame_us = 0;
  self->rotations++;
  self->attempt = 0;
  g_mutex_unlock (&self->state_lock);
  if (!fresh) {
    if (old)
      gst_object_unref (old);
    return;
  }

  /* Whatever kind the old session still feeds goes to the new one. */
  make_pending (self, fresh);
  if (old) {
    remove_session (self, old, FALSE);
  }
  url = gst_whep_session_dup_resource_url (fresh);
  timings = gst_whep_session_get_timings (fresh);
  gst_structure_get_double (timings, "total-ms", &setup_ms);
  GST_INFO_OBJECT (self, "rotated: %s → %s", old ? GST_ELEMENT_NAME (old) :
      "none", GST_ELEMENT_NAME (fresh));
  post_element_message (self, gst_structure_new ("whepsrc/session-rotated",
          "from-session", G_TYPE_UINT, old ? gst_whep_session_get_id (old) : 0,
          "to-session", G_TYPE_UINT, gst_whep_session_get_id (fresh),
          "url", G_TYPE_STRING, url ? url : "",
          "setup-ms", G_TYPE_DOUBLE, setup_ms,
          "reason", G_TYPE_STRING, reason,
          "timings", GST_TYPE_STRUCTURE, timings, NULL));
  gst_structure_free (timings);
  if (old)
    gst_object_unref (old);
  gst_object_unref (fresh);
  schedule_rotation (self);
}

/* --- session events (control thread) --- */

static void
remember_setup_time (GstWhepSrc * self, GstStructure * timings)
{
  gdouble total = -1;

  gst_structure_get_double (timings, "total-ms", &total);
  g_mutex_lock (&self->state_lock);
  /* The slowest recent set-up, decaying so that one slow start long ago
   * does not make every later rotation early. */
  self->slowest_setup_ms = MAX (total, self->slowest_setup_ms * 0.8);
  if (self->last_timings)
    gst_structure_free (self->last_timings);
  self->last_timings = gst_structure_copy (timings);
  g_mutex_unlock (&self->state_lock);
}

/* A session lost after it played: learn from its age. */
static void
learn_from_loss (GstWhepSrc * self, gdouble age_s)
{
  gdouble learned;

  GST_INFO_OBJECT (self, "session lost at age %.2f s", age_s);
  g_mutex_lock (&self->state_lock);
  learned = gst_whep_learn_session_limit (self->last_loss_age_s, age_s);
  self->last_loss_age_s = age_s;
  if (learned > 0 && (self->learned_lifetime_s == 0
          || learned < self->learned_lifetime_s))
    self->learned_lifetime_s = learned;
  g_mutex_unlock (&self->state_lock);
  if (learned > 0)
    GST_INFO_OBJECT (self, "the server ends sessions after about %.1f s: "
        "rotating ahead of that from now on", learned);
}

static void
handle_standby_failed (GstWhepSrc * self, GstWhepSession * session,
    const GstWhepFailure * failure)
{
  gboolean refused_second = failure->http_status == 409
      || failure->http_status == 429 || failure->http_status == 503;
  guint delay_ms, attempt;

  g_mutex_lock (&self->state_lock);
  if (self->next == session)
    gst_clear_object (&self->next);
  self->next_first_frame_us = 0;
  self->sessions_failed++;
  g_mutex_unlock (&self->state_lock);
  remove_session (self, session, FALSE);

  if (refused_second) {
    /* The overlap counts as a second viewer here: from now on, rotate by
     * deleting first. */
    GST_INFO_OBJECT (self, "the server refused a second session (HTTP %u): "
        "rotating break-before-make from now on", failure->http_status);
    g_mutex_lock (&self->state_lock);
    self->one_session_only = TRUE;
    g_mutex_unlock (&self->state_lock);
    break_before_make (self);
    return;
  }

  if (!next_attempt (self, failure, FALSE, &delay_ms, &attempt)) {
    /* The current session still plays: keep it until it dies. */
    g_mutex_lock (&self->state_lock);
    self->gave_up = FALSE;
    g_mutex_unlock (&self->state_lock);
    GST_WARNING_OBJECT (self, "standby session failed: %s", failure->message);
    return;
  }
  GST_INFO_OBJECT (self, "standby session failed (%s): trying again in %u ms",
      failure->message, delay_ms);
  g_mutex_lock (&self->state_lock);
  replace_timer (self, &self->rotation_timer, delay_ms, rotation_timer_cb);
  g_mutex_unlock (&self->state_lock);
}

/* Monotonic time of the last media the session put on air, 0 if none. */
static gint64
last_media_time (GstWhepSrc * self, GstWhepSession * session)
{
  GstWhepMediaKind kind;
  gint64 last = 0;

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_switch (self, kind);
    g_autoptr (GstPad) pad = session_switch_pad (session, kind);

    if (sw && pad && gst_whep_switch_is_active_pad (GST_WHEP_SWITCH (sw),
            pad))
      last = MAX (last, gst_whep_switch_get_last_input_time
          (GST_WHEP_SWITCH (sw)));
  }
  return last;
}

/* @died_at_us: when the session really ended (monotonic; 0: now) — for a
 * silent death, the last media, not the moment it was noticed. */
static void
handle_current_failed (GstWhepSrc * self, GstWhepSession * session,
    const GstWhepFailure * failure, gint64 died_at_us)
{
  gboolean played = gst_whep_session_get_first_frame_time (session) != 0;
  gint64 posted = gst_whep_session_get_post_time (session);
  gdouble age_s;
  GstWhepSession *standby = NULL;
  guint delay_ms = 0, attempt = 0;
  gboolean retry = TRUE, ever_played;

  /* However the loss was noticed (webrtcbin, BYE, watchdog), the session
   * ended when its media stopped: that age is what a limit looks like. */
  if (!died_at_us && played)
    died_at_us = last_media_time (self, session);
  age_s = posted ? ((died_at_us ? died_at_us :
          g_get_monotonic_time ()) - posted) / 1e6 : 0;
  /* Learnt before the loss shows in the statistics, so that both agree. */
  if (played)
    learn_from_loss (self, age_s);

  g_mutex_lock (&self->state_lock);
  ever_played = self->ever_played;
  if (self->current == session)
    gst_clear_object (&self->current);
  self->sessions_failed++;
  if (played)
    self->early_losses++;
  g_free (self->last_error);
  self->last_error = g_strdup (failure->message);
  /* A standby on its way becomes the session to go on air. */
  if (self->next) {
    standby = g_steal_pointer (&self->next);
    self->current = gst_object_ref (standby);
  }
  replace_timer (self, &self->rotation_timer, 0, NULL);
  g_mutex_unlock (&self->state_lock);

  remove_session (self, session, FALSE);

  if (standby) {
    GST_INFO_OBJECT (self, "%s lost (%s): %s takes over",
        GST_ELEMENT_NAME (session), failure->message,
        GST_ELEMENT_NAME (standby));
    make_pending (self, standby);
    gst_object_unref (standby);
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

  GST_INFO_OBJECT (self, "new session in %u ms (attempt %u): %s", delay_ms,
      attempt + 1, failure->message);
  if (failure->not_live || failure->http_status == 503
      || failure->http_status == 429)
    set_status (self, GST_WHEP_SRC_STATUS_WAITING);
  else if (!played && !ever_played)
    set_status (self, GST_WHEP_SRC_STATUS_CONNECTING);
  if (delay_ms == 0) {
    start_session (self, ROLE_CURRENT);
  } else {
    g_mutex_lock (&self->state_lock);
    replace_timer (self, &self->retry_timer, delay_ms, retry_timer_cb);
    g_mutex_unlock (&self->state_lock);
  }
}

static void
handle_first_frame (GstWhepSrc * self, GstWhepSession * session)
{
  g_autofree gchar *url = NULL;
  GstStructure *timings;
  gdouble total_ms = -1;
  gboolean first_ever, holding;

  if (is_role (self, session, ROLE_NEXT)) {
    /* The standby is ready: it takes over at the next frame boundary. */
    g_mutex_lock (&self->state_lock);
    self->next_first_frame_us = g_get_monotonic_time ();
    g_mutex_unlock (&self->state_lock);
    timings = gst_whep_session_get_timings (session);
    remember_setup_time (self, timings);
    gst_structure_free (timings);
    GST_INFO_OBJECT (self, "%s ready: switching over",
        GST_ELEMENT_NAME (session));
    make_pending (self, session);
    return;
  }
  if (!is_role (self, session, ROLE_CURRENT))
    return;

  url = gst_whep_session_dup_resource_url (session);
  timings = gst_whep_session_get_timings (session);
  gst_structure_get_double (timings, "total-ms", &total_ms);
  remember_setup_time (self, timings);
  g_mutex_lock (&self->state_lock);
  first_ever = !self->ever_played;
  self->ever_played = TRUE;
  self->attempt = 0;
  if (first_ever)
    self->first_frame_ms = (g_get_monotonic_time () - self->t_start) / 1000.0;
  holding = self->holding[0] || self->holding[1];
  g_mutex_unlock (&self->state_lock);

  if (!holding)
    set_status (self, GST_WHEP_SRC_STATUS_PLAYING);
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
handle_server_reconnect (GstWhepSrc * self, const gchar * url)
{
  gboolean busy, one_only;

  g_mutex_lock (&self->state_lock);
  busy = self->next != NULL || !self->current;
  one_only = self->one_session_only;
  if (!busy) {
    g_free (self->next_endpoint);
    self->next_endpoint = g_strdup (url);
    self->rotation_reason = "server-reconnect";
  }
  g_mutex_unlock (&self->state_lock);
  if (busy)
    return;                     /* a new session is on its way already */

  GST_INFO_OBJECT (self, "the server asked for a new session%s%s",
      url ? " at " : "", url ? url : "");
  if (one_only)
    break_before_make (self);
  else
    start_session (self, ROLE_NEXT);
}

/* "active"/"inactive": while the publication is inactive the session is
 * alive but silent: hold the picture, say "waiting", and do not count the
 * silence as a dead session. */
static void
handle_publication_state (GstWhepSrc * self, gboolean active)
{
  gboolean played;

  g_mutex_lock (&self->state_lock);
  self->server_inactive = !active;
  played = self->ever_played && !self->holding[0] && !self->holding[1];
  g_mutex_unlock (&self->state_lock);

  GST_INFO_OBJECT (self, "the server says the publication is %s",
      active ? "active" : "inactive");
  if (!active)
    set_status (self, GST_WHEP_SRC_STATUS_WAITING);
  else if (played)
    set_status (self, GST_WHEP_SRC_STATUS_PLAYING);
}

/* Keeps the ICE servers the server announced in its answer's Link headers
 * for the next session: webrtcbin cannot take them after gathering. */
static void
keep_link_ice_servers (GstWhepSrc * self, GstWhepSession * session)
{
  g_autoptr (GPtrArray) servers =
      gst_whep_session_dup_link_ice_servers (session);

  if (!servers || !servers->len)
    return;
  g_mutex_lock (&self->state_lock);
  g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
  self->link_ice_servers = g_ptr_array_ref (servers);
  g_mutex_unlock (&self->state_lock);
}

/* The server does not take trickle PATCHes: from now on offers carry every
 * candidate.  405/501 say there is no PATCH at all, so no ICE restart
 * either; another 4xx (e.g. 422) only that trickle is not supported. */
static void
handle_trickle_refused (GstWhepSrc * self, const GstWhepFailure * failure)
{
  guint status = failure ? failure->http_status : 0;

  GST_INFO_OBJECT (self, "%s", failure ? failure->message :
      "trickle refused");
  g_mutex_lock (&self->state_lock);
  self->server_no_trickle = TRUE;
  if (status == 405 || status == 501)
    self->server_no_restart = TRUE;
  g_mutex_unlock (&self->state_lock);
}

static void
post_ice_restart_started (GstWhepSrc * self, GstWhepSession * session,
    const gchar * reason)
{
  GST_INFO_OBJECT (self, "%s: ICE restart (%s)", GST_ELEMENT_NAME (session),
      reason);
  post_element_message (self, gst_structure_new ("whepsrc/ice-restart-started",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "reason", G_TYPE_STRING, reason, NULL));
}

static void
handle_session_event (GstWhepSrc * self, ControlEvent * ev)
{
  gboolean current = is_role (self, ev->session, ROLE_CURRENT);
  gboolean next = is_role (self, ev->session, ROLE_NEXT);

  if (!current && !next)
    return;                     /* a session that is already gone */

  switch (ev->event) {
    case GST_WHEP_SESSION_EVENT_FAILED:
      /* A session may fail after its answer came (e.g. no relay candidate):
       * the ICE servers the answer announced are for the next one. */
      keep_link_ice_servers (self, ev->session);
      if (next)
        handle_standby_failed (self, ev->session, ev->failure);
      else
        handle_current_failed (self, ev->session, ev->failure, 0);
      break;
    case GST_WHEP_SESSION_EVENT_FIRST_FRAME:
      if (gst_whep_session_get_state (ev->session) ==
          GST_WHEP_SESSION_PLAYING)
        handle_first_frame (self, ev->session);
      break;
    case GST_WHEP_SESSION_EVENT_WARNING:
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ, ("%s",
              ev->failure->message), ("%s", GST_STR_NULL (ev->failure->url)));
      break;
    case GST_WHEP_SESSION_EVENT_POSTED:
      break;
    case GST_WHEP_SESSION_EVENT_RECONNECT:
      if (current)
        handle_server_reconnect (self, ev->failure ? ev->failure->url : NULL);
      break;
    case GST_WHEP_SESSION_EVENT_ACTIVE:
    case GST_WHEP_SESSION_EVENT_INACTIVE:
      if (current)
        handle_publication_state (self,
            ev->event == GST_WHEP_SESSION_EVENT_ACTIVE);
      break;
    case GST_WHEP_SESSION_EVENT_TRICKLE_REFUSED:
      handle_trickle_refused (self, ev->failure);
      break;
    case GST_WHEP_SESSION_EVENT_ICE_RESTART_STARTED:
      if (current)
        post_ice_restart_started (self, ev->session, "ice-failed");
      break;
    case GST_WHEP_SESSION_EVENT_ICE_RESTART_REFUSED:
      /* 4xx/501: this server has no ICE restart; a 5xx or no answer may
       * be a passing trouble. */
      if (ev->failure && (ev->failure->http_status == 501
              || (ev->failure->http_status >= 400
                  && ev->failure->http_status < 500))) {
        g_mutex_lock (&self->state_lock);
        self->server_no_restart = TRUE;
        g_mutex_unlock (&self->state_lock);
      }
      g_mutex_lock (&self->state_lock);
      self->ice_restarts_failed++;
      g_mutex_unlock (&self->state_lock);
      break;
    case GST_WHEP_SESSION_EVENT_STATE:
      if (gst_whep_session_get_state (ev->session) ==
          GST_WHEP_SESSION_CONNECTING)
        keep_link_ice_servers (self, ev->session);
      break;
  }
}

static void
handle_holding (GstWhepSrc * self, GstWhepMediaKind kind, gboolean holding)
{
  gboolean any, played, inactive;

  g_mutex_lock (&self->state_lock);
  self->holding[kind] = holding;
  any = self->holding[0] || self->holding[1];
  played = self->ever_played && !self->gave_up;
  inactive = self->server_inactive;
  g_mutex_unlock (&self->state_lock);

  GST_INFO_OBJECT (self, "%s output %s", kind_name (kind), holding ?
      "holds the last frame" : "plays again");
  post_element_message (self, gst_structure_new ("whepsrc/holding",
          "holding", G_TYPE_BOOLEAN, holding,
          "kind", G_TYPE_STRING, kind_name (kind), NULL));
  /* "disconnected" only while the picture is really held (and not when
   * the server said that nothing is published for now). */
  if (inactive)
    return;
  if (any)
    set_status (self, GST_WHEP_SRC_STATUS_DISCONNECTED);
  else if (played)
    set_status (self, GST_WHEP_SRC_STATUS_PLAYING);
}

static gboolean
control_event_cb (gpointer data)
{
  ControlEvent *ev = data;
  GstWhepSrc *self = ev->self;
  gboolean running;

  g_mutex_lock (&self->state_lock);
  running = self->running;
  g_mutex_unlock (&self->state_lock);
  if (!running)
    return G_SOURCE_REMOVE;

  switch (ev->kind) {
    case CONTROL_SESSION:
      handle_session_event (self, ev);
      break;
    case CONTROL_SWITCHED:
      if (ev->session && is_role (self, ev->session, ROLE_NEXT)
          && session_on_air_everywhere (self, ev->session))
        complete_rotation (self);
      break;
    case CONTROL_HOLDING:
      handle_holding (self, ev->media, ev->flag);
      break;
  }
  return G_SOURCE_REMOVE;
}

/* The session listener: any thread; hands the event to the control
 * thread. */
static void
session_listener (GstWhepSession * session, GstWhepSessionEvent event,
    const GstWhepFailure * failure, gpointer user_data)
{
  ControlEvent *ev = g_new0 (ControlEvent, 1);

  ev->kind = CONTROL_SESSION;
  ev->session = gst_object_ref (session);
  ev->event = event;
  ev->failure = failure ? gst_whep_failure_copy (failure) : NULL;
  post_control_event (user_data, ev);
}

/* --- watchdog (control thread) --- */

/* An ICE restart succeeded when media came back after it started, and
 * failed when none came within ice-restart-timeout: then the session is
 * replaced like any lost one (the output holds meanwhile). */
static void
judge_ice_restart (GstWhepSrc * self, GstWhepSession * session,
    gint64 last_media_us, gint64 now)
{
  gint64 started = gst_whep_session_get_ice_restart_time (session);
  guint timeout_ms;

  GST_OBJECT_LOCK (self);
  timeout_ms = self->ice_restart_timeout_ms;
  GST_OBJECT_UNLOCK (self);

  if (started && last_media_us > started) {
    gst_whep_session_end_ice_restart (session);
    g_mutex_lock (&self->state_lock);
    self->ice_restarts++;
    g_mutex_unlock (&self->state_lock);
    GST_INFO_OBJECT (self, "%s: ICE restart brought the media back after "
        "%.0f ms", GST_ELEMENT_NAME (session), (last_media_us - started) /
        1000.0);
    post_element_message (self, gst_structure_new ("whepsrc/ice-restarted",
            "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
            "duration-ms", G_TYPE_DOUBLE, (last_media_us - started) / 1000.0,
            NULL));
    return;
  }
  if (started && now - started > (gint64) timeout_ms * 1000) {
    g_autofree gchar *msg = g_strdup_printf ("An ICE restart did not bring "
        "the media back within %u ms", timeout_ms);
    GstWhepFailure failure = {
      .domain = GST_RESOURCE_ERROR,.code = GST_RESOURCE_ERROR_READ,
      .message = msg,.retryable = TRUE,.retry_after_s = -1,
    };
    g_mutex_lock (&self->state_lock);
    self->ice_restarts_failed++;
    g_mutex_unlock (&self->state_lock);
    handle_current_failed (self, session, &failure, last_media_us);
  }
}

/* Silent deaths: a provider that closes a session without a DTLS alert or
 * a BYE just stops sending.  And a standby that never manages to take
 * over. */
static gboolean
watchdog_cb (gpointer data)
{
  GstWhepSrc *self = data;
  GstWhepSession *current = NULL;
  gint64 now = g_get_monotonic_time (), last = 0, next_ready, playing_since;
  guint media_timeout_ms;

  GST_OBJECT_LOCK (self);
  media_timeout_ms = self->media_timeout_ms;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->state_lock);
  if (self->current)
    current = gst_object_ref (self->current);
  next_ready = self->next ? self->next_first_frame_us : 0;
  /* Paused (the output drops media then) or told that nothing is
   * published: silence is expected. */
  if (self->server_inactive || !self->playing_since_us)
    media_timeout_ms = 0;
  playing_since = self->playing_since_us;
  g_mutex_unlock (&self->state_lock);

  if (next_ready && now - next_ready > TAKEOVER_TIMEOUT_MS * 1000) {
    GST_WARNING_OBJECT (self, "standby did not take over in %u ms: forcing",
        TAKEOVER_TIMEOUT_MS);
    complete_rotation (self);
  }

  if (current && media_timeout_ms
      && gst_whep_session_get_state (current) == GST_WHEP_SESSION_PLAYING) {
    gint64 on_air_until = last_media_time (self, current);
    gboolean on_air = on_air_until != 0;

    last = MAX (MAX (gst_whep_session_get_first_frame_time (current),
            on_air_until), playing_since);
    /* Judged only while it is on air: a session the output has just left
     * for its successor is being retired, not lost. */
    if (gst_whep_session_get_ice_restart_time (current)) {
      judge_ice_restart (self, current, on_air_until, now);
    } else if (on_air && now - last > (gint64) media_timeout_ms * 1000
        && !next_ready && gst_whep_session_restart_ice (current)) {
      /* A standby that already plays is quicker; otherwise try to keep
       * this session on a new path before giving it up. */
      post_ice_restart_started (self, current, "media-timeout");
    } else if (on_air && now - last > (gint64) media_timeout_ms * 1000) {
      g_autofree gchar *msg = g_strdup_printf ("No media from the WHEP "
          "server for %u ms", media_timeout_ms);
      GstWhepFailure failure = {
        .domain = GST_RESOURCE_ERROR,.code = GST_RESOURCE_ERROR_READ,
        .message = msg,.retryable = TRUE,.retry_after_s = -1,
      };
      handle_current_failed (self, current, &failure, last);
    }
  }
  if (current)
    gst_object_unref (current);
  return G_SOURCE_CONTINUE;
}

/* --- starting sessions (control thread) --- */

static gchar **
split_list (const gchar * list)
{
  g_auto (GStrv) parts = NULL;
  GPtrArray *out;
  gchar **p;

  if (!list || !*list)
    return NULL;
  parts = g_strsplit_set (list, ", ", -1);
  out = g_ptr_array_new ();
  for (p = parts; *p; p++)
    if (**p)
      g_ptr_array_add (out, g_strdup (*p));
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

/* Adds the Link-header ICE servers of the previous session, in webrtcbin's
 * URI form, where the user configured none of that kind. */
static void
add_link_ice_servers (GstWhepSrc * self, GstWhepSessionConfig * config)
{
  g_autoptr (GPtrArray) turns = g_ptr_array_new_with_free_func (g_free);
  guint i;

  g_mutex_lock (&self->state_lock);
  for (i = 0; self->link_ice_servers && i < self->link_ice_servers->len; i++) {
    GstWhepIceServer *server = g_ptr_array_index (self->link_ice_servers, i);
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
  g_mutex_unlock (&self->state_lock);

  if (turns->len && !config->turn_servers) {
    g_ptr_array_add (turns, NULL);
    config->turn_servers = (gchar **) g_ptr_array_steal (turns, NULL);
  }
}

static void
fill_session_config (GstWhepSrc * self, GstWhepSessionConfig * config)
{
  gboolean use_link_headers, trickle, ice_restart;
  gchar *next_endpoint;

  g_mutex_lock (&self->state_lock);
  next_endpoint = g_steal_pointer (&self->next_endpoint);
  g_mutex_unlock (&self->state_lock);

  GST_OBJECT_LOCK (self);
  config->endpoint = next_endpoint ? next_endpoint : g_strdup (self->endpoint);
  config->stun_server = g_strdup (self->stun_server);
  config->turn_servers = split_list (self->turn_server);
  config->ice_transport_policy = self->ice_transport_policy;
  config->latency_ms = self->latency_ms;
  config->ice_local_addresses = split_list (self->ice_local_addresses);
  config->video_caps = self->video_caps ? gst_caps_ref (self->video_caps) :
      NULL;
  config->audio_caps = self->audio_caps ? gst_caps_ref (self->audio_caps) :
      NULL;
  config->gather_timeout_ms = MAX (self->timeout_s, 1) * 1000;
  config->delete_timeout_ms = DELETE_TIMEOUT_MS;
  use_link_headers = self->use_link_headers;
  trickle = self->trickle_ice == GST_WHEP_SRC_TRICKLE_AUTO;
  ice_restart = self->ice_restart_timeout_ms > 0;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->state_lock);
  /* Once refused, never again: every PATCH would only cost a round trip. */
  config->trickle = trickle && !self->server_no_trickle;
  config->ice_restart = ice_restart && !self->server_no_restart;
  g_mutex_unlock (&self->state_lock);

  if (use_link_headers)
    add_link_ice_servers (self, config);
}

static void
start_session (GstWhepSrc * self, SessionRole role)
{
  GstWhepSessionConfig config = { 0, };
  GstWhepSession *session;

  g_mutex_lock (&self->state_lock);
  if (!self->running || self->gave_up
      || (role == ROLE_CURRENT && self->current)
      || (role == ROLE_NEXT && (self->next || !self->current))) {
    g_mutex_unlock (&self->state_lock);
    return;
  }
  config.id = ++self->next_session_id;
  config.client = g_object_ref (self->client);
  config.context = g_main_context_ref (self->context);
  g_mutex_unlock (&self->state_lock);

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

  g_mutex_lock (&self->state_lock);
  if (role == ROLE_CURRENT)
    self->current = gst_object_ref (session);
  else {
    self->next = gst_object_ref (session);
    self->next_first_frame_us = 0;
  }
  self->sessions_created++;
  g_mutex_unlock (&self->state_lock);

  /* gst_bin_add() hands over clock and base time. */
  gst_bin_add (GST_BIN (self), GST_ELEMENT (session));
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
    gst_object_unref (session);
    return;
  }
  GST_INFO_OBJECT (self, "starting %s (%s)", GST_ELEMENT_NAME (session),
      role == ROLE_CURRENT ? "on air" : "standby");
  gst_whep_session_start (session);
  gst_object_unref (session);
}

static gboolean
start_first_session_cb (gpointer data)
{
  GstWhepSrc *self = data;

  g_mutex_lock (&self->state_lock);
  replace_timer (self, &self->watchdog, WATCHDOG_INTERVAL_MS, watchdog_cb);
  g_mutex_unlock (&self->state_lock);
  start_session (self, ROLE_CURRENT);
  return G_SOURCE_REMOVE;
}

/* --- start / stop --- */

static gboolean
gst_whep_src_start (GstWhepSrc * self)
{
  GstWhepClientConfig client_config = { 0, };
  g_autofree gchar *endpoint = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GUri) uri = NULL;
  GstWhepClient *client;

  GST_OBJECT_LOCK (self);
  endpoint = g_strdup (self->endpoint);
  client_config.auth_token = g_strdup (self->auth_token);
  client_config.timeout_ms = MAX (self->timeout_s, 1) * 1000;
  client_config.extra_headers = self->extra_headers ?
      gst_structure_copy (self->extra_headers) : NULL;
  client_config.ssl_strict = self->ssl_strict;
  client_config.ca_file = g_strdup (self->ssl_ca_file);
  GST_OBJECT_UNLOCK (self);

  if (!endpoint || !*endpoint) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No WHEP endpoint: set the whep-endpoint property."), (NULL));
    gst_whep_client_config_clear (&client_config);
    return FALSE;
  }
  uri = g_uri_parse (endpoint, G_URI_FLAGS_ENCODED, &err);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The WHEP endpoint '%s' is not an http(s) URL.", endpoint),
        ("%s", err ? err->message : "wrong scheme or no host"));
    gst_whep_client_config_clear (&client_config);
    return FALSE;
  }

  client = gst_whep_client_new (&client_config, &err);
  gst_whep_client_config_clear (&client_config);
  if (!client) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not set up TLS for the WHEP client: %s", err->message),
        (NULL));
    return FALSE;
  }

  g_mutex_lock (&self->state_lock);
  self->client = client;
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->running = TRUE;
  self->gave_up = FALSE;
  self->ever_played = FALSE;
  self->attempt = 0;
  self->holding[0] = self->holding[1] = FALSE;
  self->server_inactive = FALSE;
  self->server_no_trickle = FALSE;
  self->server_no_restart = FALSE;
  self->t_start = g_get_monotonic_time ();
  self->first_frame_ms = -1;
  self->thread = g_thread_new ("whepsrc-ctl", control_thread_main, self);
  g_mutex_unlock (&self->state_lock);

  set_status (self, GST_WHEP_SRC_STATUS_CONNECTING);
  return TRUE;
}

static gboolean
quit_loop_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
gst_whep_src_stop (GstWhepSrc * self)
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GstWhepClient *client;
  GList *sessions, *l;

  g_mutex_lock (&self->state_lock);
  if (!self->running) {
    g_mutex_unlock (&self->state_lock);
    return;
  }
  self->running = FALSE;
  thread = g_steal_pointer (&self->thread);
  loop = self->loop ? g_main_loop_ref (self->loop) : NULL;
  context = self->context;
  g_mutex_unlock (&self->state_lock);

  /* First stop the control thread, so that nothing starts a session
   * behind our back; what it had queued is dropped with the context. */
  if (thread) {
    GSource *quit = g_idle_source_new ();
    g_source_set_priority (quit, G_PRIORITY_HIGH);
    g_source_set_callback (quit, quit_loop_cb, loop, NULL);
    g_source_attach (quit, context);
    g_source_unref (quit);
    g_thread_join (thread);
  }

  g_mutex_lock (&self->state_lock);
  gst_clear_object (&self->current);
  gst_clear_object (&self->next);
  self->next_first_frame_us = 0;
  replace_timer (self, &self->retry_timer, 0, NULL);
  replace_timer (self, &self->rotation_timer, 0, NULL);
  replace_timer (self, &self->watchdog, 0, NULL);
  client = g_steal_pointer (&self->client);
  g_mutex_unlock (&self->state_lock);

  /* Every session still in the bin is DELETEd, waiting a bounded time. */
  sessions = dup_sessions (self);
  for (l = sessions; l; l = l->next)
    remove_session (self, l->data, TRUE);
  g_list_free_full (sessions, gst_object_unref);

  if (client) {
    /* DELETEs of sessions that failed a moment ago may still be on their
     * way: let them arrive (bounded) before cancelling what is left. */
    if (!gst_whep_client_wait_idle (client, DELETE_TIMEOUT_MS))
      GST_WARNING_OBJECT (self, "requests still under way after %u ms: "
          "cancelling them", DELETE_TIMEOUT_MS);
    gst_whep_client_shutdown (client);
    g_object_unref (client);
  }

  g_mutex_lock (&self->state_lock);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
  g_clear_pointer (&self->next_endpoint, g_free);
  g_mutex_unlock (&self->state_lock);
  if (loop)
    g_main_loop_unref (loop);

  set_status (self, GST_WHEP_SRC_STATUS_STOPPED);
}

static GstStateChangeReturn
gst_whep_src_change_state (GstElement * element, GstStateChange transition)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && !gst_whep_src_start (self))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_whep_src_stop (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->state_lock);
      self->playing_since_us = 0;
      g_mutex_unlock (&self->state_lock);
      /* Live source. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* Live source. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:{
      /* Sessions start once the pipeline runs: they need its base time.
       * Those already running follow a new base time after a pause. */
      GstClockTime base_time = gst_element_get_base_time (element);
      GList *sessions = dup_sessions (self), *l;

      for (l = sessions; l; l = l->next)
        gst_element_set_base_time (l->data, base_time);
      g_list_free_full (sessions, gst_object_unref);
      g_mutex_lock (&self->state_lock);
      self->playing_since_us = g_get_monotonic_time ();
      g_mutex_unlock (&self->state_lock);
      run_on_control_thread (self, start_first_session_cb, self, NULL);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_whep_src_stop (self);
      break;
    default:
      break;
  }
  return ret;
}

/* --- statistics --- */

static GstStructure *
build_statistics (GstWhepSrc * self)
{
  GstStructure *s, *pair = NULL;
  g_autofree gchar *url = NULL;
  GstWhepSession *current;
  GstWhepMediaKind kind;
  gdouble lifetime = effective_lifetime_s (self), longest_hold = 0;

  g_mutex_lock (&self->state_lock);
  current = self->current ? gst_object_ref (self->current) : NULL;
  s = gst_structure_new ("application/x-whepsrc-stats",
      "sessions-created", G_TYPE_UINT64, self->sessions_created,
      "sessions-failed", G_TYPE_UINT64, self->sessions_failed,
      "retries", G_TYPE_UINT64, self->retries,
      "rotations", G_TYPE_UINT64, self->rotations,
      "early-losses", G_TYPE_UINT64, self->early_losses,
      "ice-restarts", G_TYPE_UINT64, self->ice_restarts,
      "ice-restarts-failed", G_TYPE_UINT64, self->ice_restarts_failed,
      "server-trickle", G_TYPE_BOOLEAN, !self->server_no_trickle,
      "server-ice-restart", G_TYPE_BOOLEAN, !self->server_no_restart,
      "learned-session-lifetime", G_TYPE_DOUBLE, self->learned_lifetime_s,
      "one-session-only", G_TYPE_BOOLEAN, self->one_session_only,
      "first-frame-ms", G_TYPE_DOUBLE, self->first_frame_ms,
      "last-error", G_TYPE_STRING, self->last_error, NULL);
  if (self->last_timings)
    gst_structure_set (s, "last-setup", GST_TYPE_STRUCTURE,
        self->last_timings, NULL);
  g_mutex_unlock (&self->state_lock);

  gst_structure_set (s, "session-lifetime", G_TYPE_DOUBLE, lifetime,
      "rotation-lead-ms", G_TYPE_UINT, lifetime > 0 ?
      rotation_lead_ms (self, lifetime) : 0, NULL);

  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_switch (self, kind);
    g_autofree gchar *prefix = g_strdup_printf ("%s-", kind_name (kind));
    g_autofree gchar *field = g_strdup_printf ("%s-longest-hold-ms",
        kind_name (kind));
    gdouble hold = 0;

    if (!sw) {
      g_autofree gchar *buffers = g_strdup_printf ("%s-buffers",
          kind_name (kind));
      gst_structure_set (s, buffers, G_TYPE_UINT64, (guint64) 0, NULL);
      continue;
    }
    gst_whep_switch_add_stats (GST_WHEP_SWITCH (sw), s, prefix);
    gst_structure_get_double (s, field, &hold);
    longest_hold = MAX (longest_hold, hold);
  }
  gst_structure_set (s, "longest-hold-ms", G_TYPE_DOUBLE, longest_hold, NULL);

  if (current) {
    url = gst_whep_session_dup_resource_url (current);
    gst_structure_set (s, "session-id", G_TYPE_UINT,
        gst_whep_session_get_id (current), "session-state", G_TYPE_STRING,
        gst_whep_session_state_name (gst_whep_session_get_state (current)),
        "session-age-s", G_TYPE_DOUBLE, session_age_s (current), NULL);
    pair = gst_whep_session_get_candidate_pair (current, 300);
    gst_object_unref (current);
  }
  gst_structure_set (s, "session-url", G_TYPE_STRING, url, NULL);
  if (pair) {
    gst_structure_set (s, "candidate-pair", GST_TYPE_STRUCTURE, pair, NULL);
    gst_structure_free (pair);
  }
  return s;
}

/* --- properties --- */

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_whep_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWhepSrc *self = GST_WHEP_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WHEP_ENDPOINT:{
      /* whep:// and wheps:// are accepted here too. */
      gchar *mapped = gst_whep_uri_to_http (g_value_get_string (value));
      g_free (self->endpoint);
      self->endpoint = mapped ? mapped : g_value_dup_string (value);
      break;
    }
    case PROP_AUTH_TOKEN:
      set_string (&self->auth_token, value);
      break;
    case PROP_TIMEOUT:
      self->timeout_s = g_value_get_uint (value);
      break;
    case PROP_STUN_SERVER:
      set_string (&self->stun_server, value);
      break;
    case PROP_TURN_SERVER:
      set_string (&self->turn_server, value);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      self->ice_transport_policy = g_value_get_enum (value);
      break;
    case PROP_USE_LINK_HEADERS:
      self->use_link_headers = g_value_get_boolean (value);
      break;
    case PROP_VIDEO_CAPS:
      gst_caps_replace (&self->video_caps, g_value_get_boxed (value));
      break;
    case PROP_AUDIO_CAPS:
      gst_caps_replace (&self->audio_caps, g_value_get_boxed (value));
      break;
    case PROP_LATENCY:
      self->latency_ms = g_value_get_uint (value);
      break;
    case PROP_EXTRA_HEADERS:{
      const GstStructure *s = gst_value_get_structure (value);
      if (self->extra_headers)
        gst_structure_free (self->extra_headers);
      self->extra_headers = s ? gst_structure_copy (s) : NULL;
      break;
    }
    case PROP_SSL_STRICT:
      self->ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_SSL_CA_FILE:
      set_string (&self->ssl_ca_file, value);
      break;
    case PROP_ICE_LOCAL_ADDRESSES:
      set_string (&self->ice_local_addresses, value);
      break;
    case PROP_MAX_RETRIES:
      self->max_retries = g_value_get_int (value);
      break;
    case PROP_SESSION_LIFETIME:
      self->session_lifetime_s = g_value_get_uint (value);
      break;
    case PROP_ROTATION_LEAD:
      self->rotation_lead_ms = g_value_get_uint (value);
      break;
    case PROP_MEDIA_TIMEOUT:
      self->media_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_TRICKLE_ICE:
      self->trickle_ice = g_value_get_enum (value);
      break;
    case PROP_ICE_RESTART_TIMEOUT:
      self->ice_restart_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_HOLD_MODE:
      self->hold_mode = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whep_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWhepSrc *self = GST_WHEP_SRC (object);

  switch (prop_id) {
    case PROP_STATUS:
      g_mutex_lock (&self->state_lock);
      g_value_set_enum (value, self->status);
      g_mutex_unlock (&self->state_lock);
      return;
    case PROP_STATISTICS:
      g_value_take_boxed (value, build_statistics (self));
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WHEP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case PROP_AUTH_TOKEN:
      g_value_set_string (value, self->auth_token);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout_s);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, self->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, self->turn_server);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, self->ice_transport_policy);
      break;
    case PROP_USE_LINK_HEADERS:
      g_value_set_boolean (value, self->use_link_headers);
      break;
    case PROP_VIDEO_CAPS:
      g_value_set_boxed (value, self->video_caps);
      break;
    case PROP_AUDIO_CAPS:
      g_value_set_boxed (value, self->audio_caps);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency_ms);
      break;
    case PROP_EXTRA_HEADERS:
      gst_value_set_structure (value, self->extra_headers);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, self->ssl_strict);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, self->ssl_ca_file);
      break;
    case PROP_ICE_LOCAL_ADDRESSES:
      g_value_set_string (value, self->ice_local_addresses);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_int (value, self->max_retries);
      break;
    case PROP_SESSION_LIFETIME:
      g_value_set_uint (value, self->session_lifetime_s);
      break;
    case PROP_ROTATION_LEAD:
      g_value_set_uint (value, self->rotation_lead_ms);
      break;
    case PROP_MEDIA_TIMEOUT:
      g_value_set_uint (value, self->media_timeout_ms);
      break;
    case PROP_TRICKLE_ICE:
      g_value_set_enum (value, self->trickle_ice);
      break;
    case PROP_ICE_RESTART_TIMEOUT:
      g_value_set_uint (value, self->ice_restart_timeout_ms);
      break;
    case PROP_HOLD_MODE:
      g_value_set_enum (value, self->hold_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* --- URI handler --- */

static GstURIType
gst_whep_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_whep_src_uri_get_protocols (GType type)
{
  static const gchar *const protocols[] = { "whep", "wheps", NULL };
  return protocols;
}

static gchar *
gst_whep_src_uri_get_uri (GstURIHandler * handler)
{
  GstWhepSrc *self = GST_WHEP_SRC (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = g_strdup (self->endpoint);
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_whep_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstWhepSrc *self = GST_WHEP_SRC (handler);
  gchar *endpoint;

  if (GST_STATE (self) >= GST_STATE_PAUSED) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of whepsrc while it runs is not supported");
    return FALSE;
  }
  endpoint = gst_whep_uri_to_http (uri);
  if (!endpoint) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "'%s' is not a whep://, wheps://, http:// or https:// URI", uri);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  g_free (self->endpoint);
  self->endpoint = endpoint;
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "whep-endpoint");
  return TRUE;
}

static void
gst_whep_src_uri_handler_init (gpointer iface, gpointer data)
{
  GstURIHandlerInterface *uri_iface = iface;

  uri_iface->get_type = gst_whep_src_uri_get_type;
  uri_iface->get_protocols = gst_whep_src_uri_get_protocols;
  uri_iface->get_uri = gst_whep_src_uri_get_uri;
  uri_iface->set_uri = gst_whep_src_uri_set_uri;
}

/* --- GObject --- */

static void
gst_whep_src_finalize (GObject * object)
{
  GstWhepSrc *self = GST_WHEP_SRC (object);
  guint i;

  g_free (self->endpoint);
  g_free (self->auth_token);
  g_free (self->stun_server);
  g_free (self->turn_server);
  gst_caps_replace (&self->video_caps, NULL);
  gst_caps_replace (&self->audio_caps, NULL);
  if (self->extra_headers)
    gst_structure_free (self->extra_headers);
  g_free (self->ssl_ca_file);
  g_free (self->ice_local_addresses);
  for (i = 0; i < 2; i++) {
    gst_clear_object (&self->switches[i]);
    gst_clear_object (&self->srcpads[i]);
  }
  if (self->last_timings)
    gst_structure_free (self->last_timings);
  g_free (self->last_error);
  g_rand_free (self->rand);
  g_mutex_clear (&self->output_lock);
  g_mutex_clear (&self->state_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_whep_src_init (GstWhepSrc * self)
{
  g_mutex_init (&self->output_lock);
  g_mutex_init (&self->state_lock);
  self->timeout_s = DEFAULT_TIMEOUT;
  self->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  self->use_link_headers = DEFAULT_USE_LINK_HEADERS;
  self->latency_ms = DEFAULT_LATENCY;
  self->ssl_strict = DEFAULT_SSL_STRICT;
  self->max_retries = DEFAULT_MAX_RETRIES;
  self->session_lifetime_s = DEFAULT_SESSION_LIFETIME;
  self->rotation_lead_ms = DEFAULT_ROTATION_LEAD;
  self->media_timeout_ms = DEFAULT_MEDIA_TIMEOUT;
  self->hold_mode = DEFAULT_HOLD_MODE;
  self->trickle_ice = DEFAULT_TRICKLE_ICE;
  self->ice_restart_timeout_ms = DEFAULT_ICE_RESTART_TIMEOUT;
  self->rand = g_rand_new ();
  self->first_frame_ms = -1;
  self->status = GST_WHEP_SRC_STATUS_STOPPED;
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

#define CONFIG_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)

static void
gst_whep_src_class_init (GstWhepSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_whep_src_set_property;
  gobject_class->get_property = gst_whep_src_get_property;
  gobject_class->finalize = gst_whep_src_finalize;
  element_class->change_state = gst_whep_src_change_state;

  /**
   * GstWhepSrc:whep-endpoint:
   *
   * The WHEP endpoint URL the offer is POSTed to (http, https; whep:// and
   * wheps:// are mapped to them).
   */
  g_object_class_install_property (gobject_class, PROP_WHEP_ENDPOINT,
      g_param_spec_string ("whep-endpoint", "WHEP endpoint",
          "URL of the WHEP endpoint to POST the offer to",
          DEFAULT_WHEP_ENDPOINT, CONFIG_FLAGS));
  /**
   * GstWhepSrc:auth-token:
   *
   * Bearer token sent as `Authorization: Bearer <token>` on every request
   * to the endpoint and its sessions.  Never written to logs.
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Authorization token",
          "Bearer token for the WHEP server (never logged)",
          DEFAULT_AUTH_TOKEN, CONFIG_FLAGS));
  /**
   * GstWhepSrc:timeout:
   *
   * Seconds one HTTP request may take, and the longest ICE gathering
   * before the offer is sent with the candidates found so far.
   */
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds an HTTP request (and ICE gathering) may take",
          1, 3600, DEFAULT_TIMEOUT, CONFIG_FLAGS));
  /**
   * GstWhepSrc:stun-server:
   *
   * STUN server as stun://host:port.
   */
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server, as stun://host:port", DEFAULT_STUN_SERVER,
          CONFIG_FLAGS));
  /**
   * GstWhepSrc:turn-server:
   *
   * TURN server(s) as turn(s)://username:password@host:port[?transport=tcp];
   * several are separated by commas.  Username and password are
   * percent-encoded where they hold ':' or '@' (time-limited credentials,
   * "expiry:user", need "%3A").
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server(s), as turn(s)://user:password@host:port"
          "[?transport=udp|tcp], comma-separated (credentials never logged)",
          DEFAULT_TURN_SERVER, CONFIG_FLAGS));
  /**
   * GstWhepSrc:ice-transport-policy:
   *
   * "relay" uses TURN relays only.
   */
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "Which ICE candidates to use (relay: TURN only)",
          GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY, DEFAULT_ICE_TRANSPORT_POLICY,
          CONFIG_FLAGS));
  /**
   * GstWhepSrc:use-link-headers:
   *
   * Use the STUN/TURN servers the server announces in `Link:
   * rel="ice-server"` headers.  webrtcbin cannot take ICE servers after it
   * has gathered, so they apply from the next session on.
   */
  g_object_class_install_property (gobject_class, PROP_USE_LINK_HEADERS,
      g_param_spec_boolean ("use-link-headers", "Use Link headers",
          "Use ICE servers from the server's Link headers (from the next "
          "session on)", DEFAULT_USE_LINK_HEADERS, CONFIG_FLAGS));
  /**
   * GstWhepSrc:video-caps:
   *
   * Narrows the video codecs offered, as RTP caps
   * (application/x-rtp,encoding-name=VP8) or encoded caps (video/x-h264).
   * Default: every codec this machine can decode.
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_CAPS,
      g_param_spec_boxed ("video-caps", "Video caps",
          "Video codecs to offer (RTP or encoded caps; default: all that "
          "can be decoded)", GST_TYPE_CAPS, CONFIG_FLAGS));
  /**
   * GstWhepSrc:audio-caps:
   *
   * Narrows the audio codecs offered, like video-caps.
   */
  g_object_class_install_property (gobject_class, PROP_AUDIO_CAPS,
      g_param_spec_boxed ("audio-caps", "Audio caps",
          "Audio codecs to offer (RTP or encoded caps; default: all that "
          "can be decoded)", GST_TYPE_CAPS, CONFIG_FLAGS));
  /**
   * GstWhepSrc:latency:
   *
   * Jitter buffer latency of each session, in milliseconds.
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitter buffer latency in milliseconds", 0, 10000,
          DEFAULT_LATENCY, CONFIG_FLAGS));
  /**
   * GstWhepSrc:extra-headers:
   *
   * Extra HTTP headers for every request, as a structure of strings
   * (e.g. `extra-headers="headers, X-Client=(string)demo"`).
   */
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "Extra HTTP headers for every request (structure of strings)",
          GST_TYPE_STRUCTURE, CONFIG_FLAGS));
  /**
   * GstWhepSrc:ssl-strict:
   *
   * Refuse TLS certificates that do not validate.  Turning this off
   * accepts any certificate (testing only).
   */
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse TLS certificates that do not validate", DEFAULT_SSL_STRICT,
          CONFIG_FLAGS));
  /**
   * GstWhepSrc:ssl-ca-file:
   *
   * PEM file with the certificate authorities to trust instead of the
   * system's.
   */
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the CAs to trust instead of the system's",
          DEFAULT_SSL_CA_FILE, CONFIG_FLAGS));
  /**
   * GstWhepSrc:ice-local-addresses:
   *
   * Comma-separated local IP addresses ICE may use (e.g. "127.0.0.1" or
   * the address of one interface of a multi-homed device).  Default: all
   * interfaces.
   */
  g_object_class_install_property (gobject_class, PROP_ICE_LOCAL_ADDRESSES,
      g_param_spec_string ("ice-local-addresses", "ICE local addresses",
          "Comma-separated local addresses ICE may use (default: all "
          "interfaces)", DEFAULT_ICE_LOCAL_ADDRESSES, CONFIG_FLAGS));
  /**
   * GstWhepSrc:max-retries:
   *
   * How many sessions in a row may fail (with back-off between them)
   * before whepsrc gives up and posts an error; -1 retries forever.  401,
   * 403 and a plain 404 are never retried.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RETRIES,
      g_param_spec_int ("max-retries", "Maximum retries",
          "Failed sessions in a row before an error is posted (-1 = forever)",
          -1, G_MAXINT, DEFAULT_MAX_RETRIES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstWhepSrc:session-lifetime:
   *
   * The server's session time limit in seconds, counted from the POST
   * (0: unknown — whepsrc then learns it when the server keeps ending
   * sessions at the same age).  A fresh session is connected in the
   * background before the limit and takes over seamlessly.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION_LIFETIME,
      g_param_spec_uint ("session-lifetime", "Session lifetime",
          "The server's session time limit in seconds, from the POST "
          "(0 = unknown, learnt)", 0, G_MAXINT, DEFAULT_SESSION_LIFETIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstWhepSrc:rotation-lead:
   *
   * How long before the session limit the next session starts, in ms
   * (0: derived from the measured set-up times: twice the slowest recent
   * set-up plus a second, at least 2 s).
   */
  g_object_class_install_property (gobject_class, PROP_ROTATION_LEAD,
      g_param_spec_uint ("rotation-lead", "Rotation lead",
          "Milliseconds before the session limit to start the next session "
          "(0 = from measured set-up times)", 0, G_MAXINT,
          DEFAULT_ROTATION_LEAD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstWhepSrc:media-timeout:
   *
   * A session that delivers no media for this long (ms) is considered
   * dead and replaced (0: never).  The output holds the last frame from
   * 200 ms of silence on.
   */
  g_object_class_install_property (gobject_class, PROP_MEDIA_TIMEOUT,
      g_param_spec_uint ("media-timeout", "Media timeout",
          "Milliseconds without media before a session is replaced "
          "(0 = never)", 0, G_MAXINT, DEFAULT_MEDIA_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstWhepSrc:hold-mode:
   *
   * What the output carries while no session delivers: the last frame
   * repeated at the stream's frame rate with silent audio, or GAP events.
   */
  g_object_class_install_property (gobject_class, PROP_HOLD_MODE,
      g_param_spec_enum ("hold-mode", "Hold mode",
          "While no session delivers: repeat the last frame (and play "
          "silence) or send GAP events", GST_TYPE_WHEP_SRC_HOLD_MODE,
          DEFAULT_HOLD_MODE, CONFIG_FLAGS));
  /**
   * GstWhepSrc:trickle-ice:
   *
   * How local ICE candidates reach the server.  "auto" POSTs the offer as
   * soon as it exists and PATCHes candidates as they are gathered
   * (application/trickle-ice-sdpfrag, If-Match with the ETag); once the
   * server answers a PATCH with 405, 501 or another 4xx, whepsrc gathers
   * fully before POSTing for as long as it runs.  "off" always gathers
   * first.
   */
  g_object_class_install_property (gobject_class, PROP_TRICKLE_ICE,
      g_param_spec_enum ("trickle-ice", "Trickle ICE",
          "auto: POST at once and PATCH candidates (full gathering once the "
          "server refuses a PATCH); off: gather fully before POSTing",
          GST_TYPE_WHEP_SRC_TRICKLE_MODE, DEFAULT_TRICKLE_ICE, CONFIG_FLAGS));
  /**
   * GstWhepSrc:ice-restart-timeout:
   *
   * When the media of a session stops (media-timeout) or its ICE
   * connection fails, whepsrc first tries an ICE restart over PATCH
   * (If-Match: "*"), keeping the session and its DTLS; if no media comes
   * back within this many milliseconds, or the server refuses the restart,
   * the session is replaced by a new one.  0 never restarts ICE.
   */
  g_object_class_install_property (gobject_class, PROP_ICE_RESTART_TIMEOUT,
      g_param_spec_uint ("ice-restart-timeout", "ICE restart timeout",
          "Milliseconds an ICE restart may take to bring the media back "
          "before the session is replaced (0 = never restart ICE)", 0,
          G_MAXINT, DEFAULT_ICE_RESTART_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstWhepSrc:status:
   *
   * What whepsrc is doing now.
   */
  g_object_class_install_property (gobject_class, PROP_STATUS,
      g_param_spec_enum ("status", "Status", "What whepsrc is doing now",
          GST_TYPE_WHEP_SRC_STATUS, GST_WHEP_SRC_STATUS_STOPPED,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstWhepSrc:statistics:
   *
   * Counters and timings: sessions-created, sessions-failed, retries,
   * rotations, early-losses, learned-session-lifetime, session-lifetime,
   * rotation-lead-ms, one-session-only, first-frame-ms, last-setup
   * (per-phase timings), longest-hold-ms, per kind (video-, audio-)
   * buffers, held-buffers, holds, longest-hold-ms, takeovers; for the
   * session on air session-id, session-state, session-age-s, session-url
   * and candidate-pair (local/remote address, port and type: host, srflx,
   * prflx, relay); last-error.
   */
  g_object_class_install_property (gobject_class, PROP_STATISTICS,
      g_param_spec_boxed ("statistics", "Statistics",
          "Counters and timings (computed when read)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "WHEP source",
      "Source/Network/WebRTC",
      "Plays a WebRTC stream from a WHEP server and keeps playing across "
      "session limits and failures", "whepsrc developers");

  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_STATUS, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_HOLD_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_TRICKLE_MODE, 0);
}
