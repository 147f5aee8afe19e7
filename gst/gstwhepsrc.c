/* whepsrc — the element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-whepsrc
 * @title: whepsrc
 *
 * Plays a live WebRTC stream from a WHEP server (WebRTC-HTTP Egress
 * Protocol): POSTs an SDP offer to `whep-endpoint`, plays the answer's
 * media through a webrtcbin, and outputs decoded raw video on `video_%u`
 * and raw audio on `audio_%u`.  Each WHEP session lives in a sub-bin with
 * a webrtcbin of its own; when a session fails, whepsrc starts a fresh one
 * (new webrtcbin, new POST) with back-off, keeping the same src pads, so
 * downstream never sees EOS or a flush.  Every session it created is
 * DELETEd when it ends.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 whepsrc whep-endpoint=https://example.com/whep/cam ! videoconvert ! autovideosink
 * gst-launch-1.0 whepsrc name=s whep-endpoint=http://127.0.0.1:8889/cam/whep auth-token=secret \
 *     s.video_0 ! queue ! videoconvert ! autovideosink s.audio_0 ! queue ! audioconvert ! autoaudiosink
 * gst-play-1.0 wheps://example.com/whep/cam
 * ]|
 *
 * ## Bus messages
 * Element messages named `whepsrc/session-started` (fields `session-id`,
 * `url`, `setup-ms`) and `whepsrc/session-lost` (`session-id`, `reason`,
 * `retry-in-ms`) tell the application what happens; `status` and
 * `statistics` can be read at any time.
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

#define RETRY_BASE_MS 500
#define RETRY_MAX_MS 30000
#define DELETE_TIMEOUT_MS 2000

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
  GstWhepSession *current;      /* ref held */
  GSource *retry_timer;
  guint next_session_id;
  guint attempt;                /* consecutive failed sessions */
  gboolean running;             /* between start() and stop() */
  gboolean gave_up;
  gboolean ever_played;
  GPtrArray *link_ice_servers;  /* from the last answer (GstWhepIceServer*) */
  GRand *rand;
  GstWhepSrcStatus status;

  /* Statistics.  Protected by state_lock. */
  guint64 sessions_created;
  guint64 sessions_failed;
  guint64 retries;
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

static void start_session (GstWhepSrc * self);

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

/* --- status --- */

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

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  if (context) {
    g_source_attach (source, context);
    g_main_context_unref (context);
  } else if (notify) {
    notify (data);
  }
  g_source_unref (source);
}

/* --- output --- */

static GstPadTemplate *
template_for_kind (GstWhepSrc * self, GstWhepMediaKind kind)
{
  return gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      kind == GST_WHEP_MEDIA_VIDEO ? "video_%u" : "audio_%u");
}

/* Returns the switch for @kind, making it and its src pad the first time. */
static GstElement *
ensure_output (GstWhepSrc * self, GstWhepMediaKind kind)
{
  const gchar *kind_name = kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio";
  GstElement *sw;
  GstPad *ghost = NULL;

  g_mutex_lock (&self->output_lock);
  if (!self->switches[kind]) {
    g_autofree gchar *name = g_strdup_printf ("%s-switch", kind_name);
    g_autofree gchar *pad_name = g_strdup_printf ("%s_0", kind_name);
    g_autofree gchar *stream_id = NULL;
    GstPad *target;

    g_autofree gchar *uuid = g_uuid_string_random ();

    /* One stream id for the element's life: sessions come and go, the
     * stream stays. */
    stream_id = g_strdup_printf ("whepsrc-%s/%s", uuid, kind_name);
    sw = gst_whep_switch_new (name, stream_id);
    gst_bin_add (GST_BIN (self), sw);
    gst_element_sync_state_with_parent (sw);
    self->switches[kind] = gst_object_ref (sw);

    target = gst_element_get_static_pad (sw, "src");
    ghost = gst_ghost_pad_new_from_template (pad_name, target,
        template_for_kind (self, kind));
    gst_object_unref (target);
    self->srcpads[kind] = gst_object_ref (ghost);
  }
  sw = gst_object_ref (self->switches[kind]);
  g_mutex_unlock (&self->output_lock);

  if (ghost) {
    /* Emits pad-added: the application may link right here. */
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (GST_ELEMENT (self), ghost);
    GST_INFO_OBJECT (self, "exposed %s", GST_PAD_NAME (ghost));
  }
  return sw;
}

static void
on_session_pad_added (GstElement * session, GstPad * pad, GstWhepSrc * self)
{
  GstWhepMediaKind kind = g_str_equal (GST_PAD_NAME (pad), "video") ?
      GST_WHEP_MEDIA_VIDEO : GST_WHEP_MEDIA_AUDIO;
  g_autoptr (GstElement) sw = ensure_output (self, kind);
  g_autoptr (GstPad) sinkpad = NULL;
  gboolean is_current;

  sinkpad = gst_element_request_pad_simple (sw, "sink_%u");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK) {
    GST_ERROR_OBJECT (self, "could not link %s:%s to the output",
        GST_ELEMENT_NAME (session), GST_PAD_NAME (pad));
    gst_element_release_request_pad (sw, sinkpad);
    return;
  }

  g_mutex_lock (&self->state_lock);
  is_current = self->current == GST_WHEP_SESSION (session);
  g_mutex_unlock (&self->state_lock);
  if (is_current)
    gst_whep_switch_set_active_pad (GST_WHEP_SWITCH (sw), sinkpad);
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

/* --- session events (control thread) --- */

typedef struct
{
  GstWhepSrc *self;
  GstWhepSession *session;      /* ref */
  GstWhepSessionEvent event;
  GstWhepFailure *failure;      /* owned, nullable */
} SessionEvent;

static void
session_event_free (SessionEvent * ev)
{
  gst_object_unref (ev->session);
  gst_whep_failure_free (ev->failure);
  g_free (ev);
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
    start_session (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (GstWhepSrc * self, guint delay_ms)
{
  GSource *timer = g_timeout_source_new (delay_ms);

  g_source_set_callback (timer, retry_timer_cb, self, NULL);
  g_mutex_lock (&self->state_lock);
  if (self->retry_timer) {
    g_source_destroy (self->retry_timer);
    g_source_unref (self->retry_timer);
  }
  self->retry_timer = timer;
  g_source_attach (timer, self->context);
  g_mutex_unlock (&self->state_lock);
}

static void
handle_session_failed (GstWhepSrc * self, GstWhepSession * session,
    const GstWhepFailure * failure)
{
  guint attempt, delay_ms;
  gint max_retries;
  gboolean give_up, was_playing;

  GST_OBJECT_LOCK (self);
  max_retries = self->max_retries;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->state_lock);
  gst_clear_object (&self->current);
  self->sessions_failed++;
  g_free (self->last_error);
  self->last_error = g_strdup (failure->message);
  attempt = self->attempt++;
  give_up = !failure->retryable
      || (max_retries >= 0 && attempt >= (guint) max_retries);
  if (give_up)
    self->gave_up = TRUE;
  was_playing = self->ever_played;
  delay_ms = gst_whep_backoff_delay_ms (attempt, RETRY_BASE_MS, RETRY_MAX_MS,
      self->rand);
  g_mutex_unlock (&self->state_lock);

  if (failure->retry_after_s >= 0)
    delay_ms = MAX (delay_ms, MIN ((guint) failure->retry_after_s, 3600) *
        1000);

  remove_session (self, session, FALSE);

  post_element_message (self, gst_structure_new ("whepsrc/session-lost",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "reason", G_TYPE_STRING, failure->message,
          "http-status-code", G_TYPE_UINT, failure->http_status,
          "retry-in-ms", G_TYPE_INT, give_up ? -1 : (gint) delay_ms, NULL));

  if (give_up) {
    GST_WARNING_OBJECT (self, "giving up after %u attempt(s): %s",
        attempt + 1, failure->message);
    set_status (self, GST_WHEP_SRC_STATUS_ERROR);
    post_error (self, failure);
    return;
  }

  GST_INFO_OBJECT (self, "retrying in %u ms (attempt %u): %s", delay_ms,
      attempt + 1, failure->message);
  if (failure->not_live || failure->http_status == 503
      || failure->http_status == 429)
    set_status (self, GST_WHEP_SRC_STATUS_WAITING);
  else
    set_status (self, was_playing ? GST_WHEP_SRC_STATUS_DISCONNECTED :
        GST_WHEP_SRC_STATUS_CONNECTING);
  schedule_retry (self, delay_ms);
}

static void
handle_first_frame (GstWhepSrc * self, GstWhepSession * session)
{
  g_autofree gchar *url = gst_whep_session_dup_resource_url (session);
  GstStructure *timings = gst_whep_session_get_timings (session);
  gdouble total_ms = -1;
  gboolean first_ever;

  gst_structure_get_double (timings, "total-ms", &total_ms);
  g_mutex_lock (&self->state_lock);
  first_ever = !self->ever_played;
  self->ever_played = TRUE;
  self->attempt = 0;
  if (first_ever)
    self->first_frame_ms = (g_get_monotonic_time () - self->t_start) / 1000.0;
  if (self->last_timings)
    gst_structure_free (self->last_timings);
  self->last_timings = gst_structure_copy (timings);
  g_mutex_unlock (&self->state_lock);

  set_status (self, GST_WHEP_SRC_STATUS_PLAYING);
  post_element_message (self, gst_structure_new ("whepsrc/session-started",
          "session-id", G_TYPE_UINT, gst_whep_session_get_id (session),
          "url", G_TYPE_STRING, url ? url : "",
          "setup-ms", G_TYPE_DOUBLE, total_ms,
          "timings", GST_TYPE_STRUCTURE, timings, NULL));
  gst_structure_free (timings);
}

static gboolean
session_event_cb (gpointer data)
{
  SessionEvent *ev = data;
  GstWhepSrc *self = ev->self;
  gboolean current;

  g_mutex_lock (&self->state_lock);
  current = self->running && self->current == ev->session;
  g_mutex_unlock (&self->state_lock);
  if (!current)
    return G_SOURCE_REMOVE;     /* a session that is already gone */

  switch (ev->event) {
    case GST_WHEP_SESSION_EVENT_FAILED:
      handle_session_failed (self, ev->session, ev->failure);
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
    case GST_WHEP_SESSION_EVENT_POSTED:{
      g_autoptr (GPtrArray) servers =
          gst_whep_session_dup_link_ice_servers (ev->session);
      (void) servers;
      break;
    }
    case GST_WHEP_SESSION_EVENT_STATE:
      if (gst_whep_session_get_state (ev->session) ==
          GST_WHEP_SESSION_CONNECTING) {
        /* Keep the ICE servers the server announced for the next
         * session: webrtcbin cannot take them after gathering. */
        g_autoptr (GPtrArray) servers =
            gst_whep_session_dup_link_ice_servers (ev->session);
        g_mutex_lock (&self->state_lock);
        g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
        if (servers && servers->len)
          self->link_ice_servers = g_ptr_array_ref (servers);
        g_mutex_unlock (&self->state_lock);
      }
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
  SessionEvent *ev = g_new0 (SessionEvent, 1);

  ev->self = user_data;
  ev->session = gst_object_ref (session);
  ev->event = event;
  ev->failure = failure ? gst_whep_failure_copy (failure) : NULL;
  run_on_control_thread (ev->self, session_event_cb, ev,
      (GDestroyNotify) session_event_free);
}

/* --- starting sessions (control thread) --- */

static gchar **
split_addresses (const gchar * list)
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
start_session (GstWhepSrc * self)
{
  GstWhepSessionConfig config = { 0, };
  GstWhepSession *session;
  gboolean use_link_headers;

  g_mutex_lock (&self->state_lock);
  if (!self->running || self->current || self->gave_up) {
    g_mutex_unlock (&self->state_lock);
    return;
  }
  config.id = ++self->next_session_id;
  config.client = g_object_ref (self->client);
  config.context = g_main_context_ref (self->context);
  g_mutex_unlock (&self->state_lock);

  GST_OBJECT_LOCK (self);
  config.endpoint = g_strdup (self->endpoint);
  config.stun_server = g_strdup (self->stun_server);
  if (self->turn_server) {
    config.turn_servers = g_new0 (gchar *, 2);
    config.turn_servers[0] = g_strdup (self->turn_server);
  }
  config.ice_transport_policy = self->ice_transport_policy;
  config.latency_ms = self->latency_ms;
  config.ice_local_addresses = split_addresses (self->ice_local_addresses);
  config.video_caps = self->video_caps ? gst_caps_ref (self->video_caps) :
      NULL;
  config.audio_caps = self->audio_caps ? gst_caps_ref (self->audio_caps) :
      NULL;
  config.gather_timeout_ms = MAX (self->timeout_s, 1) * 1000;
  config.delete_timeout_ms = DELETE_TIMEOUT_MS;
  use_link_headers = self->use_link_headers;
  GST_OBJECT_UNLOCK (self);

  if (use_link_headers)
    add_link_ice_servers (self, &config);

  session = gst_whep_session_new (&config, session_listener, self);
  gst_whep_session_config_clear (&config);

  g_signal_connect (session, "pad-added", G_CALLBACK (on_session_pad_added),
      self);
  /* A session's state is its own business: a failing webrtcbin must not
   * fail whepsrc's state change, and a decodebin that is still looking
   * for its decoder must not make the pipeline lose its state. */
  g_object_set (session, "async-handling", TRUE, NULL);
  gst_element_set_locked_state (GST_ELEMENT (session), TRUE);

  g_mutex_lock (&self->state_lock);
  self->current = gst_object_ref (session);
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
    handle_session_failed (self, session, &failure);
    return;
  }
  GST_INFO_OBJECT (self, "starting session %u", config.id);
  gst_whep_session_start (session);
}

static gboolean
start_session_cb (gpointer data)
{
  start_session (data);
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
  GstWhepSession *session;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GstWhepClient *client;
  GList *children, *l;

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
  session = g_steal_pointer (&self->current);
  if (self->retry_timer) {
    g_source_destroy (self->retry_timer);
    g_clear_pointer (&self->retry_timer, g_source_unref);
  }
  client = g_steal_pointer (&self->client);
  g_mutex_unlock (&self->state_lock);

  /* Every session still in the bin is DELETEd, waiting a bounded time. */
  children = dup_sessions (self);
  for (l = children; l; l = l->next)
    remove_session (self, l->data, TRUE);
  g_list_free_full (children, gst_object_unref);
  gst_clear_object (&session);

  if (client) {
    gst_whep_client_shutdown (client);
    g_object_unref (client);
  }

  g_mutex_lock (&self->state_lock);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
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
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* Live source. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:{
      /* Sessions start once the pipeline runs: they need its base time.
       * Those already running follow a new base time after a pause. */
      GstClockTime base_time = gst_element_get_base_time (element);
      GList *children, *l;

      children = dup_sessions (self);
      for (l = children; l; l = l->next)
        gst_element_set_base_time (l->data, base_time);
      g_list_free_full (children, gst_object_unref);

      run_on_control_thread (self, start_session_cb, self, NULL);
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
  GstStructure *s;
  g_autofree gchar *url = NULL;
  GstWhepSession *current;
  guint64 video_out = 0, audio_out = 0;

  g_mutex_lock (&self->output_lock);
  if (self->switches[GST_WHEP_MEDIA_VIDEO])
    video_out = gst_whep_switch_get_buffers_out (GST_WHEP_SWITCH
        (self->switches[GST_WHEP_MEDIA_VIDEO]));
  if (self->switches[GST_WHEP_MEDIA_AUDIO])
    audio_out = gst_whep_switch_get_buffers_out (GST_WHEP_SWITCH
        (self->switches[GST_WHEP_MEDIA_AUDIO]));
  g_mutex_unlock (&self->output_lock);

  g_mutex_lock (&self->state_lock);
  current = self->current ? gst_object_ref (self->current) : NULL;
  s = gst_structure_new ("application/x-whepsrc-stats",
      "sessions-created", G_TYPE_UINT64, self->sessions_created,
      "sessions-failed", G_TYPE_UINT64, self->sessions_failed,
      "retries", G_TYPE_UINT64, self->retries,
      "first-frame-ms", G_TYPE_DOUBLE, self->first_frame_ms,
      "video-buffers", G_TYPE_UINT64, video_out,
      "audio-buffers", G_TYPE_UINT64, audio_out,
      "last-error", G_TYPE_STRING, self->last_error, NULL);
  if (self->last_timings)
    gst_structure_set (s, "last-setup", GST_TYPE_STRUCTURE,
        self->last_timings, NULL);
  g_mutex_unlock (&self->state_lock);

  if (current) {
    url = gst_whep_session_dup_resource_url (current);
    gst_structure_set (s, "session-id", G_TYPE_UINT,
        gst_whep_session_get_id (current), "session-state", G_TYPE_STRING,
        gst_whep_session_state_name (gst_whep_session_get_state (current)),
        NULL);
    gst_object_unref (current);
  }
  gst_structure_set (s, "session-url", G_TYPE_STRING, url, NULL);
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
   * TURN server as turn(s)://username:password@host:port[?transport=tcp].
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server, as turn(s)://user:password@host:port"
          "[?transport=udp|tcp] (credentials never logged)",
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
   * first-frame-ms, video-buffers, audio-buffers, last-error, last-setup
   * (per-phase timings), session-id, session-state, session-url.
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
}
