/* whep-test-server — one viewer's session.
 *
 * Each session is a GstBin in the server's pipeline:
 *
 *   video tee ! queue ! rtpXpay pt=<offer's PT> ! webrtcbin (sink pad)
 *   audio tee ! queue ! rtpopuspay pt=<offer's PT> ! ┘
 *
 * Negotiation (we answer the player's offer):
 *   sink pads with the offer's PTs → set-remote-description → create-answer
 *   → set-local-description → ICE gathering complete (we do not trickle, so
 *   the answer carries all our candidates) → the SDP goes to the HTTP side.
 * With --counter-offer we create the offer instead and apply the player's
 * answer when it arrives in a PATCH.
 *
 * Teardown: an IDLE probe on each tee pad unlinks the bin; a thread of the
 * server's reaper pool sets the bin to NULL (webrtcbin may block while it
 * stops its threads); the main thread then removes the bin and releases
 * the tee pads.  With --bye-on-kill a killed session's rtpsession first
 * gets an EOS (so it sends RTCP BYE) and BYE_GRACE_MS to send it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "session.h"

#include <gst/webrtc/webrtc.h>

/* How long after an ICE restart a failed connection is left to recover. */
#define RESTART_GRACE_S 20
#include <nice/agent.h>
#include <string.h>

#include "sse.h"

GST_DEBUG_CATEGORY_STATIC (whep_session_debug);
#define GST_CAT_DEFAULT whep_session_debug

/* The answer must hold all candidates, but never wait forever for them. */
#define GATHER_TIMEOUT_MS 5000
/* WHEP: a counter-offer is valid for 30 s by default. */
#define COUNTER_OFFER_TIMEOUT_MS 30000
#define DEFAULT_VIDEO_PT 96
#define DEFAULT_AUDIO_PT 111
/* WHEP: one MediaStream, so every track carries the same msid. */
#define STREAM_MSID "whep-test-server"
/* How much media a session's queue holds when its webrtcbin stalls: older
 * data is dropped, the tee is never blocked, so one stuck session cannot
 * stall the others. */
#define SESSION_QUEUE_TIME (1 * GST_SECOND)
/* --bye-on-kill: how long the RTCP BYE gets to leave before the bin stops
 * (rtpsession sends it at once to a session this small). */
#define BYE_GRACE_MS 100

typedef enum
{
  STATE_NEW,
  STATE_CERTIFICATE,            /* waiting for openssl */
  STATE_NEGOTIATING,            /* webrtcbin working, no SDP handed out */
  STATE_AWAIT_ANSWER,           /* counter-offer sent */
  STATE_APPLYING_ANSWER,        /* the player's answer is being set */
  STATE_ACTIVE,
  STATE_ENDED,
} SessionState;

/* One tee → session branch. */
typedef struct
{
  WhepSession *session;         /* not a reference: the session owns us */
  WhepMediaKind kind;
  GstPad *tee_pad;              /* request pad of the media tee, or NULL */
  GstPad *bin_pad;              /* the bin's ghost sink pad */
  gboolean open;                /* the gate let a key frame through;
                                 * streaming thread only */
} SessionLink;

/* Locking: @refcount, @unlinks_pending (decremented by the IDLE probes on
 * streaming threads), @flowing (read by the gate probes) and @last_rx
 * (written by the nicesrc probe) are atomic; @flowing_since is written
 * once, before @flowing is set (the atomic set orders it), and read by the
 * gate probes after they saw @flowing.  @pem is written before the
 * bin exists and only read afterwards (by deep-element-added, on webrtcbin
 * threads).  @bin and @webrtc are handed to the reaper thread once the
 * session has ended and are not touched on the main thread until it hands
 * them back.  Every other field belongs to the main thread: webrtcbin
 * callbacks never touch them but queue a hop to the main thread, which
 * re-checks @state first. */
struct _WhepSession
{
  gint refcount;
  WhepServer *server;
  gchar *id;
  gchar *etag;
  gint64 post_time;
  WhepOffer *offer;
  gboolean counter_offer;
  SessionState state;
  gboolean local_set;           /* set-local-description has completed */
  gboolean connected;
  gboolean answered;            /* its 201 (or 406) has gone out */
  guint patches;
  gchar *remote_ufrag;          /* the player's ICE ufrag */
  gint64 last_restart;          /* monotonic µs of the last ICE restart */
  GPtrArray *mids;              /* mid of each m-line of the offer */

  gchar *pem;                   /* --unique-certificate: ours */
  GCancellable *cancellable;

  GstElement *bin;
  GstElement *webrtc;
  GPtrArray *links;             /* of SessionLink */
  gint unlinks_pending;
  gboolean bye;                 /* send RTCP BYE once unlinked; set before
                                 * the unlink probes are added */
  gint flowing;                 /* atomic: connected, media may pass */
  gint64 flowing_since;         /* monotonic µs; set before @flowing */
  gint last_rx;                 /* atomic: seconds since server start when
                                 * data last came from the player */
  gulong webrtc_handlers[3];

  guint limit_source;
  guint kill_source;
  guint handshake_source;
  guint gather_source;
  guint answer_source;
  guint media_source;

  WhepSessionSdpFunc sdp_func;
  gpointer sdp_data;
  GDestroyNotify sdp_notify;
  WhepSessionDoneFunc done_func;
  gpointer done_data;
  GDestroyNotify done_notify;
};

GQuark
whep_session_error_quark (void)
{
  return g_quark_from_static_string ("whep-session-error-quark");
}

static void
session_debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (whep_session_debug, "whepserver-session", 0,
        "WHEP test server: sessions");
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------ */
/* Life cycle */

static guint
timeout_add_seconds (gdouble seconds, GSourceFunc func, gpointer data)
{
  return g_timeout_add ((guint) (seconds * 1000.0 + 0.5), func, data);
}

static gboolean
session_limit_cb (gpointer data)
{
  WhepSession *session = data;

  session->limit_source = 0;
  whep_session_end (session, WHEP_SESSION_END_EXPIRED, "session-limit");
  return G_SOURCE_REMOVE;
}

static gboolean
session_kill_cb (gpointer data)
{
  WhepSession *session = data;

  session->kill_source = 0;
  whep_session_end (session, WHEP_SESSION_END_KILLED, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
session_handshake_cb (gpointer data)
{
  WhepSession *session = data;

  session->handshake_source = 0;
  whep_session_end (session, WHEP_SESSION_END_EXPIRED, "handshake-timeout");
  return G_SOURCE_REMOVE;
}

static gboolean
session_answer_timeout_cb (gpointer data)
{
  WhepSession *session = data;

  session->answer_source = 0;
  whep_session_end (session, WHEP_SESSION_END_EXPIRED, "counter-offer-timeout");
  return G_SOURCE_REMOVE;
}

static gchar *
make_etag (WhepEtagMode mode)
{
  switch (mode) {
    case WHEP_ETAG_QUOTED:
      return g_strdup_printf ("\"%08x%08x\"", g_random_int (), g_random_int ());
    case WHEP_ETAG_STAR:
      return g_strdup ("*");
    case WHEP_ETAG_NONE:
    default:
      return NULL;
  }
}

static void
session_link_free (gpointer data)
{
  SessionLink *link = data;

  gst_clear_object (&link->tee_pad);
  gst_clear_object (&link->bin_pad);
  g_free (link);
}

WhepSession *
whep_session_new (WhepServer * server, WhepOffer * offer,
    gboolean counter_offer)
{
  const WhepServerOptions *opts = server->opts;
  WhepSession *session;
  guint i;

  g_return_val_if_fail (offer != NULL || counter_offer, NULL);
  session_debug_init ();

  session = g_new0 (WhepSession, 1);
  session->refcount = 1;
  session->server = server;
  session->id = g_uuid_string_random ();
  session->etag = make_etag (opts->etag);
  session->post_time = g_get_monotonic_time ();
  session->offer = offer;
  session->counter_offer = counter_offer;
  session->state = STATE_NEW;
  session->cancellable = g_cancellable_new ();
  session->links = g_ptr_array_new_with_free_func (session_link_free);
  session->mids = g_ptr_array_new_with_free_func (g_free);

  if (offer != NULL && !counter_offer) {
    session->remote_ufrag = g_strdup (offer->ice_ufrag);
    for (i = 0; i < offer->medias->len; i++)
      g_ptr_array_add (session->mids,
          g_strdup (g_array_index (offer->medias, WhepOfferMedia, i).mid));
  }

  /* All limits count from the POST, as a provider's would. */
  if (opts->session_limit > 0)
    session->limit_source = timeout_add_seconds (opts->session_limit,
        session_limit_cb, session);
  if (opts->kill_after > 0)
    session->kill_source = timeout_add_seconds (opts->kill_after,
        session_kill_cb, session);
  if (opts->handshake_timeout > 0)
    session->handshake_source = timeout_add_seconds (opts->handshake_timeout,
        session_handshake_cb, session);

  GST_INFO ("session %s: new%s", session->id,
      counter_offer ? " (counter-offer)" : "");
  return session;
}

WhepSession *
whep_session_ref (WhepSession * session)
{
  g_atomic_int_inc (&session->refcount);
  return session;
}

static void
session_free (WhepSession * session)
{
  GST_DEBUG ("session %s: freed", session->id);
  g_ptr_array_unref (session->links);
  gst_clear_object (&session->webrtc);
  gst_clear_object (&session->bin);
  g_clear_object (&session->cancellable);
  g_ptr_array_unref (session->mids);
  whep_offer_free (session->offer);
  g_free (session->remote_ufrag);
  g_free (session->pem);
  g_free (session->etag);
  g_free (session->id);
  g_free (session);
}

void
whep_session_unref (WhepSession * session)
{
  if (g_atomic_int_dec_and_test (&session->refcount))
    session_free (session);
}

const gchar *
whep_session_get_id (WhepSession * session)
{
  return session->id;
}

const gchar *
whep_session_get_etag (WhepSession * session)
{
  return session->etag;
}

gboolean
whep_session_is_connected (WhepSession * session)
{
  return session->connected;
}

void
whep_session_mark_answered (WhepSession * session)
{
  session->answered = TRUE;
}

gboolean
whep_session_has_ended (WhepSession * session)
{
  return session->state == STATE_ENDED;
}

gdouble
whep_session_get_age (WhepSession * session)
{
  return whep_server_seconds_since (session->post_time);
}

guint
whep_session_get_patches (WhepSession * session)
{
  return session->patches;
}

void
whep_session_count_patch (WhepSession * session)
{
  session->patches++;
}

gboolean
whep_session_awaits_answer (WhepSession * session)
{
  return session->state == STATE_AWAIT_ANSWER;
}

/* Hands the SDP (or an error) to whoever started the session, once. */
static void
session_report_sdp (WhepSession * session, const gchar * sdp,
    const GError * error)
{
  WhepSessionSdpFunc func = session->sdp_func;
  gpointer data = session->sdp_data;
  GDestroyNotify notify = session->sdp_notify;

  if (func == NULL)
    return;
  session->sdp_func = NULL;
  session->sdp_data = NULL;
  session->sdp_notify = NULL;
  func (session, sdp, error, data);
  if (notify)
    notify (data);
}

static void
session_report_done (WhepSession * session, const GError * error)
{
  WhepSessionDoneFunc func = session->done_func;
  gpointer data = session->done_data;
  GDestroyNotify notify = session->done_notify;

  if (func == NULL)
    return;
  session->done_func = NULL;
  session->done_data = NULL;
  session->done_notify = NULL;
  func (session, error, data);
  if (notify)
    notify (data);
}

/* Negotiation failed: tell the HTTP side why (@message), then end the
 * session, logged with the one-word @reason. */
static void
session_fail (WhepSession * session, WhepSessionError code,
    const gchar * reason, const gchar * message)
{
  g_autoptr (GError) error =
      g_error_new_literal (WHEP_SESSION_ERROR, code, message);

  GST_WARNING ("session %s: %s: %s", session->id, reason, message);
  session_report_sdp (session, NULL, error);
  session_report_done (session, error);
  whep_session_end (session, WHEP_SESSION_END_FAILED, reason);
}

/* ------------------------------------------------------------------ */
/* Hops from webrtcbin threads to the main thread */

typedef void (*SessionStepFunc) (WhepSession * session,
    const GstStructure * reply);

typedef enum
{
  HOP_PROMISE,
  HOP_GATHERING,
  HOP_CONNECTION,
} HopKind;

typedef struct
{
  WhepSession *session;
  HopKind kind;
  GstPromise *promise;          /* HOP_PROMISE */
  SessionStepFunc step;         /* HOP_PROMISE */
} SessionHop;

static void
session_hop_free (gpointer data)
{
  SessionHop *hop = data;

  if (hop->promise)
    gst_promise_unref (hop->promise);
  whep_session_unref (hop->session);
  g_free (hop);
}

static void session_check_gathering (WhepSession * session);
static void session_check_connection (WhepSession * session);

static void session_remote_set (WhepSession * session,
    const GstStructure * reply);
static void session_answer_created (WhepSession * session,
    const GstStructure * reply);
static void session_answer_applied (WhepSession * session,
    const GstStructure * reply);
static void session_local_set (WhepSession * session,
    const GstStructure * reply);

/* Whether webrtcbin's error at @step comes from the player's SDP.  Our own
 * answer only fails to apply when the offer was odd (webrtcbin then
 * writes an answer it refuses itself), so that is the player's too. */
static gboolean
step_takes_player_sdp (WhepSession * session, SessionStepFunc step)
{
  return step == session_remote_set || step == session_answer_created
      || step == session_answer_applied || (step == session_local_set
      && !session->counter_offer);
}

static void
session_run_promise_step (WhepSession * session, GstPromise * promise,
    SessionStepFunc step)
{
  const GstStructure *reply;
  GError *error = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    session_fail (session, WHEP_SESSION_ERROR_NEGOTIATION, "negotiation",
        "webrtcbin did not reply");
    return;
  }
  reply = gst_promise_get_reply (promise);
  if (reply != NULL && gst_structure_has_field (reply, "error")) {
    g_autofree gchar *message = NULL;
    gboolean rejected = step_takes_player_sdp (session, step);

    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    message = g_strdup_printf ("webrtcbin: %s",
        error ? error->message : "unknown error");
    g_clear_error (&error);
    session_fail (session, rejected ? WHEP_SESSION_ERROR_REJECTED :
        WHEP_SESSION_ERROR_NEGOTIATION, rejected ? "sdp-rejected" :
        "negotiation", message);
    return;
  }
  step (session, reply);
}

static gboolean
session_hop_main (gpointer data)
{
  SessionHop *hop = data;
  WhepSession *session = hop->session;

  if (session->state == STATE_ENDED)
    return G_SOURCE_REMOVE;

  switch (hop->kind) {
    case HOP_PROMISE:
      session_run_promise_step (session, hop->promise, hop->step);
      break;
    case HOP_GATHERING:
      session_check_gathering (session);
      break;
    case HOP_CONNECTION:
      session_check_connection (session);
      break;
  }
  return G_SOURCE_REMOVE;
}

/* Any thread. */
static void
session_hop (WhepSession * session, HopKind kind, GstPromise * promise,
    SessionStepFunc step)
{
  SessionHop *hop = g_new0 (SessionHop, 1);

  hop->session = whep_session_ref (session);
  hop->kind = kind;
  hop->promise = promise ? gst_promise_ref (promise) : NULL;
  hop->step = step;
  g_idle_add_full (G_PRIORITY_DEFAULT, session_hop_main, hop, session_hop_free);
}

typedef struct
{
  WhepSession *session;
  SessionStepFunc step;
} PromiseData;

static void
promise_data_free (gpointer data)
{
  PromiseData *pd = data;

  whep_session_unref (pd->session);
  g_free (pd);
}

/* webrtcbin thread */
static void
session_promise_changed_cb (GstPromise * promise, gpointer user_data)
{
  PromiseData *pd = user_data;

  session_hop (pd->session, HOP_PROMISE, promise, pd->step);
}

/* Emits the webrtcbin action @signal (@arg, promise); the promise's reply
 * runs @step on the main thread. */
static void
session_emit (WhepSession * session, const gchar * signal, gpointer arg,
    SessionStepFunc step)
{
  PromiseData *pd = g_new0 (PromiseData, 1);
  GstPromise *promise;

  pd->session = whep_session_ref (session);
  pd->step = step;
  promise = gst_promise_new_with_change_func (session_promise_changed_cb, pd,
      promise_data_free);
  g_signal_emit_by_name (session->webrtc, signal, arg, promise);
  gst_promise_unref (promise);
}

/* webrtcbin thread */
static void
session_gathering_notify_cb (GObject * webrtc, GParamSpec * pspec,
    gpointer user_data)
{
  session_hop (user_data, HOP_GATHERING, NULL, NULL);
}

/* webrtcbin thread */
static void
session_connection_notify_cb (GObject * webrtc, GParamSpec * pspec,
    gpointer user_data)
{
  session_hop (user_data, HOP_CONNECTION, NULL, NULL);
}

static gint
session_server_seconds (WhepSession * session)
{
  return (gint) whep_server_seconds_since (session->server->start_time);
}

/* nicesrc streaming thread: RTP/RTCP/DTLS from the player (libnice keeps
 * STUN to itself). */
static GstPadProbeReturn
session_rx_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  WhepSession *session = user_data;

  g_atomic_int_set (&session->last_rx, session_server_seconds (session));
  return GST_PAD_PROBE_OK;
}

/* Any thread (whichever adds webrtcbin's transport elements). */
static void
session_deep_element_added_cb (GstBin * bin, GstBin * sub_bin,
    GstElement * element, gpointer user_data)
{
  WhepSession *session = user_data;
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *pem = session->pem ? session->pem : session->server->opts->pem;
  const gchar *name = factory ? GST_OBJECT_NAME (factory) : NULL;

  if (g_strcmp0 (name, "nicesrc") == 0) {
    g_autoptr (GstPad) src = gst_element_get_static_pad (element, "src");

    /* The probe goes with the element, which dies before the session. */
    if (src != NULL)
      gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST, session_rx_probe, session, NULL);
  } else if (g_strcmp0 (name, "dtlssrtpdec") == 0 && pem != NULL) {
    /* Before webrtcbin reads the certificate for our SDP. */
    GST_DEBUG ("session %s: setting our certificate on %s", session->id,
        GST_ELEMENT_NAME (element));
    g_object_set (element, "pem", pem, NULL);
  }
}

static void
session_closure_notify (gpointer data, GClosure * closure)
{
  whep_session_unref (data);
}

/* ------------------------------------------------------------------ */
/* Negotiation */

/* --no-ice: every a=candidate line of @sdp removed. */
static void
strip_candidates (GstSDPMessage * sdp)
{
  guint i, j;

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    for (j = gst_sdp_media_attributes_len (media); j > 0; j--)
      if (!g_strcmp0 (gst_sdp_media_get_attribute (media, j - 1)->key,
              "candidate"))
        gst_sdp_media_remove_attribute (media, j - 1);
  }
}

static void
session_sdp_ready (WhepSession * session)
{
  GstWebRTCSessionDescription *desc = NULL;
  g_autofree gchar *text = NULL;
  guint i;

  g_clear_handle_id (&session->gather_source, g_source_remove);
  g_object_get (session->webrtc, "local-description", &desc, NULL);
  if (desc == NULL) {
    session_fail (session, WHEP_SESSION_ERROR_NEGOTIATION, "negotiation",
        "webrtcbin has no local description");
    return;
  }
  if (session->server->opts->no_ice)
    strip_candidates (desc->sdp);
  /* We never trickle: say so, so the player stops waiting for more. */
  for (i = 0; i < gst_sdp_message_medias_len (desc->sdp); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (desc->sdp,
        i);

    if (gst_sdp_media_get_attribute_val (media, "end-of-candidates") == NULL)
      gst_sdp_media_add_attribute (media, "end-of-candidates", "");
  }
  text = gst_sdp_message_as_text (desc->sdp);
  /* Tests of the player's fec property read this. */
  if (strstr (text, " ulpfec/") != NULL)
    whep_server_event ("fec id=%s", session->id);

  if (session->counter_offer) {
    /* Our offer names the m-lines trickled candidates refer to. */
    g_ptr_array_set_size (session->mids, 0);
    for (i = 0; i < gst_sdp_message_medias_len (desc->sdp); i++) {
      const GstSDPMedia *media = gst_sdp_message_get_media (desc->sdp, i);

      g_ptr_array_add (session->mids,
          g_strdup (gst_sdp_media_get_attribute_val (media, "mid")));
    }
    session->state = STATE_AWAIT_ANSWER;
    session->answer_source = g_timeout_add (COUNTER_OFFER_TIMEOUT_MS,
        session_answer_timeout_cb, session);
  } else {
    session->state = STATE_ACTIVE;
  }
  gst_webrtc_session_description_free (desc);

  GST_INFO ("session %s: local SDP ready", session->id);
  GST_LOG ("session %s: local SDP:\n%s", session->id, text);
  session_report_sdp (session, text, NULL);
}

static gboolean
session_gather_timeout_cb (gpointer data)
{
  WhepSession *session = data;

  session->gather_source = 0;
  GST_WARNING ("session %s: ICE gathering not complete after %d ms, "
      "answering with what we have", session->id, GATHER_TIMEOUT_MS);
  session_sdp_ready (session);
  return G_SOURCE_REMOVE;
}

static void
session_check_gathering (WhepSession * session)
{
  GstWebRTCICEGatheringState state;

  if (session->state != STATE_NEGOTIATING || !session->local_set)
    return;

  g_object_get (session->webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    session_sdp_ready (session);
}

/* A player that vanished without DELETE (crash, network loss) stops
 * sending RTCP: end its session as consent expiry would. */
static gboolean
session_media_check_cb (gpointer data)
{
  WhepSession *session = data;
  gint idle = session_server_seconds (session) -
      g_atomic_int_get (&session->last_rx);

  if (idle < session->server->opts->media_timeout)
    return G_SOURCE_CONTINUE;

  session->media_source = 0;
  whep_session_end (session, WHEP_SESSION_END_EXPIRED, "media-timeout");
  return G_SOURCE_REMOVE;
}

static void
session_check_connection (WhepSession * session)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (session->webrtc, "connection-state", &state, NULL);
  GST_DEBUG ("session %s: connection state %d", session->id, state);

  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
      && !session->connected) {
    session->connected = TRUE;
    g_clear_handle_id (&session->handshake_source, g_source_remove);
    whep_server_event ("connected id=%s", session->id);
    whep_sse_session_connected (session->server, session->id);
    /* Open the gates, and start the picture now rather than at the next
     * periodic key frame. */
    session->flowing_since = g_get_monotonic_time ();
    g_atomic_int_set (&session->flowing, 1);
    whep_media_request_key_frame (session->server->media);
    if (session->server->opts->media_timeout > 0) {
      g_atomic_int_set (&session->last_rx, session_server_seconds (session));
      session->media_source = g_timeout_add_seconds (1,
          session_media_check_cb, session);
    }
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    /* After an ICE restart, checks fail while the path is still down and
     * succeed again once it is back: like real servers, give it time (the
     * player DELETEs the session when it gives up). */
    if (session->last_restart && g_get_monotonic_time () -
        session->last_restart < RESTART_GRACE_S * G_USEC_PER_SEC) {
      GST_INFO ("session %s: connection failed during an ICE restart",
          session->id);
      return;
    }
    whep_session_end (session, WHEP_SESSION_END_EXPIRED, "connection-failed");
  }
}

static void
session_local_set (WhepSession * session, const GstStructure * reply)
{
  session->local_set = TRUE;
  session->gather_source = g_timeout_add (GATHER_TIMEOUT_MS,
      session_gather_timeout_cb, session);
  session_check_gathering (session);
}

/* The fingerprint our SDP must carry on every m-line. */
static gchar *
session_fingerprint (WhepSession * session, const GstSDPMessage * sdp)
{
  const gchar *pem = session->pem ? session->pem : session->server->opts->pem;
  const gchar *value = NULL;

  if (pem != NULL)
    return whep_pem_fingerprint (pem);
  /* webrtcbin copies the offer's fingerprint into some rejected m-lines
   * and then refuses its own answer: the first m-line has ours. */
  if (gst_sdp_message_medias_len (sdp) > 0)
    value = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
            0), "fingerprint");
  if (value == NULL)
    value = gst_sdp_message_get_attribute_val (sdp, "fingerprint");
  return g_strdup (value);
}

static void
session_set_local (WhepSession * session, GstWebRTCSessionDescription * desc)
{
  g_autofree gchar *fingerprint = session_fingerprint (session, desc->sdp);

  if (fingerprint != NULL)
    whep_sdp_set_fingerprint (desc->sdp, fingerprint);
  session_emit (session, "set-local-description", desc, session_local_set);
}

static GstWebRTCSessionDescription *
reply_get_description (const GstStructure * reply, const gchar * field)
{
  GstWebRTCSessionDescription *desc = NULL;

  if (reply != NULL)
    gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &desc, NULL);
  return desc;
}

static void
session_answer_created (WhepSession * session, const GstStructure * reply)
{
  GstWebRTCSessionDescription *answer = reply_get_description (reply, "answer");

  if (answer == NULL) {
    session_fail (session, WHEP_SESSION_ERROR_REJECTED, "sdp-rejected",
        "webrtcbin created no answer");
    return;
  }
  /* sendonly where we send, inactive for kinds we do not have. */
  whep_answer_fix_directions (answer->sdp, session->offer);
  session_set_local (session, answer);
  gst_webrtc_session_description_free (answer);
}

static void
session_remote_set (WhepSession * session, const GstStructure * reply)
{
  session_emit (session, "create-answer", NULL, session_answer_created);
}

static void
session_offer_created (WhepSession * session, const GstStructure * reply)
{
  GstWebRTCSessionDescription *offer = reply_get_description (reply, "offer");

  if (offer == NULL) {
    session_fail (session, WHEP_SESSION_ERROR_NEGOTIATION, "negotiation",
        "webrtcbin created no offer");
    return;
  }
  session_set_local (session, offer);
  gst_webrtc_session_description_free (offer);
}

static void
session_negotiate (WhepSession * session)
{
  session->state = STATE_NEGOTIATING;

  if (session->counter_offer) {
    session_emit (session, "create-offer", NULL, session_offer_created);
  } else {
    GstSDPMessage *sdp = NULL;
    GstWebRTCSessionDescription *desc;

    gst_sdp_message_copy (session->offer->sdp, &sdp);
    if (session->server->opts->no_ice)
      strip_candidates (sdp);
    desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    session_emit (session, "set-remote-description", desc, session_remote_set);
    gst_webrtc_session_description_free (desc);
  }
}

/* ------------------------------------------------------------------ */
/* Building the bin */

/* libnice gathers no loopback address by itself, and must gather nothing
 * but the addresses we were given: add them before any description is
 * set, and keep UPnP from talking to the network. */
static void
session_configure_ice (WhepSession * session)
{
  g_autoptr (GObject) ice = NULL;
  g_autoptr (GObject) agent = NULL;
  gchar **address;

  g_object_get (session->webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL
      || g_object_class_find_property (G_OBJECT_GET_CLASS (ice),
          "agent") == NULL) {
    GST_ERROR ("session %s: webrtcbin's ICE agent is not libnice", session->id);
    return;
  }
  g_object_get (ice, "agent", &agent, NULL);
  g_object_set (agent, "upnp", FALSE, NULL);

  for (address = session->server->opts->ice_addresses; *address; address++) {
    NiceAddress addr;

    nice_address_init (&addr);
    if (!nice_address_set_from_string (&addr, *address)) {
      GST_ERROR ("session %s: bad ICE address '%s'", session->id, *address);
      continue;
    }
    nice_agent_add_local_address (NICE_AGENT (agent), &addr);
  }
}

/* Streaming thread.  Nothing reaches the session before it is connected,
 * and then video starts at a key frame: media queued while DTLS was not up
 * would reach the player late, and a picture starting with delta frames
 * is a broken one.  The events (caps…) pass, as webrtcbin needs them. */
static GstPadProbeReturn
session_gate_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SessionLink *link = user_data;
  GstBuffer *buffer;

  if (link->open)
    return GST_PAD_PROBE_OK;
  if (!g_atomic_int_get (&link->session->flowing))
    return GST_PAD_PROBE_DROP;
  /* --audio-delay: @flowing_since was written before @flowing was set. */
  if (link->kind == WHEP_KIND_AUDIO
      && g_get_monotonic_time () - link->session->flowing_since <
      (gint64) link->session->server->opts->audio_delay_ms * 1000)
    return GST_PAD_PROBE_DROP;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

    buffer = gst_buffer_list_length (list) ? gst_buffer_list_get (list, 0) :
        NULL;
  } else {
    buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  }
  if (buffer == NULL
      || GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;

  GST_DEBUG_OBJECT (pad, "session %s: media starts", link->session->id);
  link->open = TRUE;
  return GST_PAD_PROBE_OK;
}

/* queue ! payloader ! webrtcbin, with a ghost sink pad on the bin. */
static gboolean
session_add_branch (WhepSession * session, WhepMediaKind kind, gint pt)
{
  WhepMedia *media = session->server->media;
  g_autoptr (GstCaps) caps = whep_media_make_rtp_caps (media, kind, pt);
  g_autoptr (GstPad) queue_sink = NULL;
  g_autoptr (GstPad) pay_src = NULL;
  g_autoptr (GstPad) webrtc_sink = NULL;
  g_autoptr (GstWebRTCRTPTransceiver) transceiver = NULL;
  GstPadTemplate *templ;
  GstElement *queue, *pay;
  SessionLink *link;
  gchar name[16];

  pay = whep_media_make_payloader (media, kind, pt);
  queue = gst_element_factory_make ("queue", NULL);
  if (caps == NULL || pay == NULL || queue == NULL) {
    gst_clear_object (&pay);
    gst_clear_object (&queue);
    return FALSE;
  }
  g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
      "max-size-time", (guint64) SESSION_QUEUE_TIME, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  gst_bin_add_many (GST_BIN (session->bin), queue, pay, NULL);
  gst_element_link (queue, pay);

  /* The pad's caps (the offer's PT for our codec) pick the transceiver
   * and are its codec preferences, so the answer keeps the offer's PT. */
  templ = gst_element_get_pad_template (session->webrtc, "sink_%u");
  webrtc_sink = gst_element_request_pad (session->webrtc, templ, NULL, caps);
  if (webrtc_sink == NULL)
    return FALSE;
  g_object_set (webrtc_sink, "msid", STREAM_MSID, NULL);
  /* Without codec preferences webrtcbin waits for caps on the pad, which
   * a counter-offer cannot: media flows only after negotiation. */
  g_object_get (webrtc_sink, "transceiver", &transceiver, NULL);
  if (transceiver != NULL)
    g_object_set (transceiver, "direction",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
        caps, NULL);
  /* As real servers do: video is retransmitted on NACK (RTX where the
   * offer has it); a PLI makes the encoder send a key frame. */
  if (transceiver != NULL && kind == WHEP_KIND_VIDEO)
    g_object_set (transceiver, "do-nack",
        !session->server->opts->no_retransmit, NULL);
  /* --fec: ULPFEC in RED (webrtcbin keeps them only if the offer had). */
  if (transceiver != NULL && kind == WHEP_KIND_VIDEO
      && session->server->opts->fec_percentage > 0)
    g_object_set (transceiver, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED,
        "fec-percentage", (guint) session->server->opts->fec_percentage, NULL);
  pay_src = gst_element_get_static_pad (pay, "src");
  if (gst_pad_link (pay_src, webrtc_sink) != GST_PAD_LINK_OK)
    return FALSE;

  queue_sink = gst_element_get_static_pad (queue, "sink");
  g_snprintf (name, sizeof (name), "%s_sink",
      kind == WHEP_KIND_VIDEO ? "video" : "audio");
  link = g_new0 (SessionLink, 1);
  link->session = session;
  link->kind = kind;
  link->bin_pad = gst_object_ref (gst_ghost_pad_new (name, queue_sink));
  gst_pad_add_probe (link->bin_pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, session_gate_probe, link, NULL);
  gst_element_add_pad (session->bin, link->bin_pad);
  g_ptr_array_add (session->links, link);
  return TRUE;
}

static gboolean
session_add_branches (WhepSession * session)
{
  guint i;

  if (session->offer == NULL) {
    /* A counter-offer to a player that offered nothing: our own PTs. */
    const WhepCodecSet *codecs = whep_media_get_codecs (session->server->media);

    return (codecs->video == NULL
        || session_add_branch (session, WHEP_KIND_VIDEO, DEFAULT_VIDEO_PT))
        && (codecs->audio == NULL
        || session_add_branch (session, WHEP_KIND_AUDIO, DEFAULT_AUDIO_PT));
  }

  /* In m-line order, so each transceiver meets its m-line. */
  for (i = 0; i < session->offer->medias->len; i++) {
    const WhepOfferMedia *media =
        &g_array_index (session->offer->medias, WhepOfferMedia, i);

    if (media->accepted && !session_add_branch (session, media->kind,
            media->pt))
      return FALSE;
  }
  return TRUE;
}

/* Like one camera: every session's RTCP sender reports map a frame to the
 * same capture time (the pipeline clock at capture), so that a player can
 * match frames across two sessions of this source.  rtpbin's default (NTP
 * from the wall clock at send time, per rtpbin) gives every session its
 * own offset. */
static void
session_configure_capture_clock (WhepSession * session)
{
  g_autoptr (GstElement) rtpbin =
      gst_bin_get_by_name (GST_BIN (session->webrtc), "rtpbin");

  if (rtpbin == NULL)
    return;
  gst_util_set_object_arg (G_OBJECT (rtpbin), "ntp-time-source", "clock-time");
  g_object_set (rtpbin, "rtcp-sync-send-time", FALSE, NULL);
}

static gboolean
session_build (WhepSession * session)
{
  WhepMedia *media = session->server->media;
  GstBin *pipeline = GST_BIN (whep_media_get_pipeline (media));
  g_autofree gchar *name = g_strdup_printf ("session-%.8s", session->id);
  guint i;

  session->bin = gst_object_ref_sink (gst_bin_new (name));
  /* Lets the bus watch find the session of an element's error. */
  g_object_set_data_full (G_OBJECT (session->bin), "whep-session-id",
      g_strdup (session->id), g_free);
  session->webrtc = gst_element_factory_make ("webrtcbin", "webrtc");
  if (session->webrtc == NULL)
    return FALSE;
  gst_object_ref_sink (session->webrtc);
  gst_util_set_object_arg (G_OBJECT (session->webrtc), "bundle-policy",
      "max-bundle");
  session_configure_ice (session);
  session_configure_capture_clock (session);

  session->webrtc_handlers[0] = g_signal_connect_data (session->webrtc,
      "notify::ice-gathering-state", G_CALLBACK (session_gathering_notify_cb),
      whep_session_ref (session), session_closure_notify, 0);
  session->webrtc_handlers[1] = g_signal_connect_data (session->webrtc,
      "notify::connection-state", G_CALLBACK (session_connection_notify_cb),
      whep_session_ref (session), session_closure_notify, 0);
  session->webrtc_handlers[2] = g_signal_connect_data (session->webrtc,
      "deep-element-added", G_CALLBACK (session_deep_element_added_cb),
      whep_session_ref (session), session_closure_notify, 0);
  gst_bin_add (GST_BIN (session->bin), session->webrtc);

  if (!session_add_branches (session))
    return FALSE;

  /* Running before it is linked: the tee never pushes into a flushing
   * pad. */
  gst_bin_add (pipeline, session->bin);
  if (!gst_element_sync_state_with_parent (session->bin))
    return FALSE;

  for (i = 0; i < session->links->len; i++) {
    SessionLink *link = g_ptr_array_index (session->links, i);

    link->tee_pad = whep_media_request_pad (media, link->kind);
    if (link->tee_pad == NULL
        || gst_pad_link (link->tee_pad, link->bin_pad) != GST_PAD_LINK_OK)
      return FALSE;
  }

  /* The new viewer should not wait for the next periodic key frame. */
  whep_media_request_key_frame (media);
  return TRUE;
}

static void
session_build_and_negotiate (WhepSession * session)
{
  if (!session_build (session)) {
    session_fail (session, WHEP_SESSION_ERROR_NEGOTIATION, "build",
        "cannot build the session's pipeline");
    return;
  }
  session_negotiate (session);
}

static void
session_certificate_cb (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  g_autoptr (WhepSession) session = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
          &out, NULL, &error)) {
    if (session->state != STATE_ENDED)
      session_fail (session, WHEP_SESSION_ERROR_CERTIFICATE, "certificate",
          error->message);
    return;
  }
  if (session->state == STATE_ENDED)
    return;
  if (!g_subprocess_get_successful (G_SUBPROCESS (source)) || out == NULL
      || strstr (out, "BEGIN CERTIFICATE") == NULL) {
    session_fail (session, WHEP_SESSION_ERROR_CERTIFICATE, "certificate",
        "openssl did not make a certificate");
    return;
  }

  session->pem = g_steal_pointer (&out);
  session_build_and_negotiate (session);
}

/* --unique-certificate: a fresh self-signed EC certificate, without
 * blocking the main loop. */
static void
session_make_certificate (WhepSession * session)
{
  const gchar *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=whep-test", "-keyout", "-", "-out", "-", NULL
  };
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  session->state = STATE_CERTIFICATE;
  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  if (proc == NULL) {
    session_fail (session, WHEP_SESSION_ERROR_CERTIFICATE, "certificate",
        error->message);
    return;
  }
  g_subprocess_communicate_utf8_async (proc, NULL, session->cancellable,
      session_certificate_cb, whep_session_ref (session));
}

void
whep_session_start (WhepSession * session, WhepSessionSdpFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  g_return_if_fail (session->state == STATE_NEW);

  session->sdp_func = func;
  session->sdp_data = user_data;
  session->sdp_notify = notify;

  if (session->server->opts->unique_certificate)
    session_make_certificate (session);
  else
    session_build_and_negotiate (session);
}

/* ------------------------------------------------------------------ */
/* Counter-offer answers and trickle ICE */

static void
session_answer_applied (WhepSession * session, const GstStructure * reply)
{
  session->state = STATE_ACTIVE;
  g_clear_handle_id (&session->answer_source, g_source_remove);
  GST_INFO ("session %s: player's answer applied", session->id);
  session_report_done (session, NULL);
}

void
whep_session_set_answer (WhepSession * session, const gchar * sdp, gsize len,
    WhepSessionDoneFunc func, gpointer user_data, GDestroyNotify notify)
{
  const WhepCodecSet *codecs = whep_media_get_codecs (session->server->media);
  g_autoptr (WhepOffer) answer = NULL;
  g_autoptr (GError) error = NULL;
  GstWebRTCSessionDescription *desc;
  GstSDPMessage *copy = NULL;

  g_return_if_fail (session->state == STATE_AWAIT_ANSWER);

  /* The answer must be SDP that names one of our codecs; candidates our
   * agent must not reach are dropped as from an offer. */
  answer = whep_offer_parse (sdp, len, codecs, session->server->loopback_only,
      &error);
  if (answer == NULL || answer->medias->len != session->mids->len) {
    g_autoptr (GError) bad = g_error_new (WHEP_SESSION_ERROR,
        WHEP_SESSION_ERROR_REJECTED, "bad answer: %s",
        error ? error->message : "m-lines do not match our offer");

    func (session, bad, user_data);
    if (notify)
      notify (user_data);
    return;
  }

  session->done_func = func;
  session->done_data = user_data;
  session->done_notify = notify;
  session->state = STATE_APPLYING_ANSWER;
  g_free (session->remote_ufrag);
  session->remote_ufrag = g_strdup (answer->ice_ufrag);

  gst_sdp_message_copy (answer->sdp, &copy);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, copy);
  session_emit (session, "set-remote-description", desc,
      session_answer_applied);
  gst_webrtc_session_description_free (desc);
}

gboolean
whep_session_is_ice_restart (WhepSession * session, const gchar * ufrag)
{
  return ufrag != NULL && session->remote_ufrag != NULL
      && strcmp (ufrag, session->remote_ufrag) != 0;
}

static NiceAgent *
session_dup_agent (WhepSession * session)
{
  g_autoptr (GObject) ice = NULL;
  GObject *agent = NULL;

  g_object_get (session->webrtc, "ice-agent", &ice, NULL);
  if (ice != NULL && g_object_class_find_property (G_OBJECT_GET_CLASS (ice),
          "agent") != NULL)
    g_object_get (ice, "agent", &agent, NULL);
  return agent != NULL ? NICE_AGENT (agent) : NULL;
}

/* The player's restart fragment, applied to libnice under webrtcbin (which
 * cannot restart ICE itself): our new credentials, the player's new ones,
 * and its candidates replacing the old; appends our side's lines to
 * @reply. */
static gboolean
session_restart_stream (WhepSession * session, NiceAgent * agent,
    guint stream, const WhepSdpFrag * frag, GString * reply)
{
  g_autofree gchar *ufrag = NULL;
  g_autofree gchar *pwd = NULL;
  GSList *remote = NULL, *local, *l;
  guint i;

  if (!nice_agent_restart_stream (agent, stream)
      || !nice_agent_get_local_credentials (agent, stream, &ufrag, &pwd))
    return FALSE;
  nice_agent_set_remote_credentials (agent, stream, frag->ice_ufrag,
      frag->ice_pwd);
  for (i = 0; i < frag->candidates->len; i++) {
    const WhepFragCandidate *c = g_ptr_array_index (frag->candidates, i);
    g_autofree gchar *line = g_strdup_printf ("a=%s", c->candidate);
    NiceCandidate *parsed;

    if (!whep_candidate_allowed (c->candidate, session->server->loopback_only,
            NULL))
      continue;
    parsed = nice_agent_parse_remote_candidate_sdp (agent, stream, line);
    if (parsed != NULL)
      remote = g_slist_prepend (remote, parsed);
  }
  if (remote != NULL)
    nice_agent_set_remote_candidates (agent, stream, 1, remote);
  g_slist_free_full (remote, (GDestroyNotify) nice_candidate_free);

  if (reply->len == 0)
    g_string_append_printf (reply, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "m=audio 9 RTP/AVP 0\r\na=mid:%s\r\n", ufrag, pwd,
        session->mids->len > 0 ? (const gchar *)
        g_ptr_array_index (session->mids, 0) : "0");
  local = nice_agent_get_local_candidates (agent, stream, 1);
  for (l = local; l != NULL; l = l->next) {
    g_autofree gchar *sdp = nice_agent_generate_local_candidate_sdp (agent,
        l->data);
    if (sdp != NULL)
      g_string_append_printf (reply, "%s\r\n", sdp);
  }
  g_slist_free_full (local, (GDestroyNotify) nice_candidate_free);
  return TRUE;
}

gchar *
whep_session_restart_ice (WhepSession * session, const WhepSdpFrag * frag,
    GError ** error)
{
  g_autoptr (GObject) agent = NULL;
  g_autoptr (GString) reply = g_string_new (NULL);
  guint stream, restarted = 0;

  if (session->webrtc == NULL || session->state == STATE_ENDED) {
    g_set_error (error, WHEP_SESSION_ERROR, WHEP_SESSION_ERROR_ENDED,
        "the session has ended");
    return NULL;
  }
  if (frag->ice_pwd == NULL) {
    g_set_error (error, WHEP_SESSION_ERROR, WHEP_SESSION_ERROR_REJECTED,
        "an ICE restart needs a=ice-ufrag and a=ice-pwd");
    return NULL;
  }
  agent = (GObject *) session_dup_agent (session);
  /* libnice numbers streams from 1 and has no list of them. */
  for (stream = 1; agent != NULL && stream <= 8; stream++) {
    g_autofree gchar *u = NULL;
    g_autofree gchar *p = NULL;

    if (!nice_agent_get_local_credentials (NICE_AGENT (agent), stream, &u, &p))
      continue;
    if (session_restart_stream (session, NICE_AGENT (agent), stream, frag,
            reply))
      restarted++;
  }
  if (restarted == 0) {
    g_set_error (error, WHEP_SESSION_ERROR, WHEP_SESSION_ERROR_NEGOTIATION,
        "libnice could not restart ICE");
    return NULL;
  }
  g_string_append (reply, "a=end-of-candidates\r\n");

  g_free (session->remote_ufrag);
  session->remote_ufrag = g_strdup (frag->ice_ufrag);
  /* A session that restarts ICE MUST use strong ETags (WHEP). */
  g_free (session->etag);
  session->etag = make_etag (WHEP_ETAG_QUOTED);
  session->last_restart = g_get_monotonic_time ();
  return g_string_free (g_steal_pointer (&reply), FALSE);
}

guint
whep_session_add_candidates (WhepSession * session, const WhepSdpFrag * frag)
{
  guint i, added = 0;

  if (session->webrtc == NULL || session->state == STATE_ENDED)
    return 0;

  for (i = 0; i < frag->candidates->len; i++) {
    const WhepFragCandidate *candidate = g_ptr_array_index (frag->candidates,
        i);
    gint mline = 0;
    guint m;

    for (m = 0; candidate->mid != NULL && m < session->mids->len; m++) {
      if (g_strcmp0 (g_ptr_array_index (session->mids, m), candidate->mid) == 0)
        mline = m;
    }
    /* Unreachable or mDNS candidates are dropped silently (RFC 8838);
     * --no-ice drops them all. */
    if (session->server->opts->no_ice
        || !whep_candidate_allowed (candidate->candidate,
            session->server->loopback_only, NULL)) {
      GST_DEBUG ("session %s: dropping candidate %s", session->id,
          candidate->candidate);
      continue;
    }
    g_signal_emit_by_name (session->webrtc, "add-ice-candidate", mline,
        candidate->candidate);
    added++;
  }
  return added;
}

/* ------------------------------------------------------------------ */
/* Ending and teardown */

static void
session_clear_timers (WhepSession * session)
{
  g_clear_handle_id (&session->limit_source, g_source_remove);
  g_clear_handle_id (&session->kill_source, g_source_remove);
  g_clear_handle_id (&session->handshake_source, g_source_remove);
  g_clear_handle_id (&session->gather_source, g_source_remove);
  g_clear_handle_id (&session->answer_source, g_source_remove);
  g_clear_handle_id (&session->media_source, g_source_remove);
}

static void
session_log_end (WhepSession * session, WhepSessionEnd kind,
    const gchar * reason)
{
  WhepServerStats *stats = &session->server->stats;

  /* A session that ended before its answer went out was never handed to
   * a player: no player can leak it, so it is not counted as gone. */
  if (!session->answered && kind != WHEP_SESSION_END_FAILED) {
    whep_server_event ("unanswered id=%s reason=%s", session->id,
        reason ? reason : "ended before it was answered");
    return;
  }

  switch (kind) {
    case WHEP_SESSION_END_DELETED:
      stats->deleted++;
      whep_server_event ("deleted id=%s", session->id);
      break;
    case WHEP_SESSION_END_EXPIRED:
      stats->expired++;
      whep_server_event ("expired id=%s reason=%s", session->id,
          reason ? reason : "unknown");
      break;
    case WHEP_SESSION_END_KILLED:
      stats->killed++;
      whep_server_event ("killed id=%s", session->id);
      break;
    case WHEP_SESSION_END_CLOSED:
      whep_server_event ("closed id=%s", session->id);
      break;
    case WHEP_SESSION_END_FAILED:
    default:
      whep_server_event ("failed id=%s reason=%s", session->id,
          reason ? reason : "unknown");
      break;
  }
}

static gboolean
session_reaped_main (gpointer data)
{
  WhepSession *session = data;
  GstBin *pipeline = GST_BIN (whep_media_get_pipeline (session->server->media));
  guint i;

  gst_bin_remove (pipeline, session->bin);
  for (i = 0; i < session->links->len; i++) {
    SessionLink *link = g_ptr_array_index (session->links, i);

    if (link->tee_pad != NULL)
      whep_media_release_pad (session->server->media, link->tee_pad);
    gst_clear_object (&link->tee_pad);
    gst_clear_object (&link->bin_pad);
  }
  g_ptr_array_set_size (session->links, 0);
  gst_clear_object (&session->webrtc);
  gst_clear_object (&session->bin);

  GST_INFO ("session %s: torn down", session->id);
  whep_server_teardown_done (session->server);
  whep_session_unref (session);
  return G_SOURCE_REMOVE;
}

/* Reaper thread: stopping webrtcbin joins its threads and may take a
 * while, so it never runs on the main thread or a streaming thread.
 * Owns a reference to @data. */
void
whep_session_reap (gpointer data, gpointer unused)
{
  WhepSession *session = data;
  guint i;

  gst_element_set_locked_state (session->bin, TRUE);
  gst_element_set_state (session->bin, GST_STATE_NULL);
  for (i = 0; i < G_N_ELEMENTS (session->webrtc_handlers); i++) {
    if (session->webrtc_handlers[i] != 0)
      g_signal_handler_disconnect (session->webrtc,
          session->webrtc_handlers[i]);
    session->webrtc_handlers[i] = 0;
  }
  g_idle_add (session_reaped_main, session);
}

static void
session_push_to_reaper (WhepSession * session)
{
  g_thread_pool_push (session->server->reaper, whep_session_ref (session),
      NULL);
}

static gboolean
session_bye_grace_cb (gpointer data)
{
  WhepSession *session = data;

  session_push_to_reaper (session);
  whep_session_unref (session);
  return G_SOURCE_REMOVE;
}

/* rtpsession answers an EOS on its send_rtp_sink with RTCP BYE for all
 * its senders.  The EOS goes straight to it, not down the branches: in
 * GStreamer 1.22 the rtprtxsend in front of it queues an EOS for a task
 * that only runs when RTX was negotiated, so without RTX it never passes. */
static void
session_eos_rtpsessions (WhepSession * session)
{
  g_autoptr (GstElement) rtpbin =
      gst_bin_get_by_name (GST_BIN (session->webrtc), "rtpbin");
  g_autoptr (GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;

  if (rtpbin == NULL)
    return;
  it = gst_bin_iterate_elements (GST_BIN (rtpbin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&item);
    GstElementFactory *factory = gst_element_get_factory (element);
    g_autoptr (GstPad) sink = NULL;

    if (factory != NULL
        && g_strcmp0 (GST_OBJECT_NAME (factory), "rtpsession") == 0)
      sink = gst_element_get_static_pad (element, "send_rtp_sink");
    if (sink != NULL)
      gst_pad_send_event (sink, gst_event_new_eos ());
    g_value_reset (&item);
  }
  g_value_unset (&item);
}

/* --bye-on-kill, main thread, owns a reference.  The bin is off the tees:
 * nothing more is sent, and the player hears a BYE instead of silence. */
static gboolean
session_send_bye_main (gpointer data)
{
  WhepSession *session = data;

  GST_INFO ("session %s: sending RTCP BYE", session->id);
  session_eos_rtpsessions (session);
  g_timeout_add (BYE_GRACE_MS, session_bye_grace_cb, session);
  return G_SOURCE_REMOVE;
}

/* The bin is unlinked: stop it, after a BYE if asked to.  Any thread. */
static void
session_unlinked (WhepSession * session)
{
  if (session->bye)
    g_idle_add (session_send_bye_main, whep_session_ref (session));
  else
    session_push_to_reaper (session);
}

/* Streaming thread (or the main thread when the pad is idle already). */
static GstPadProbeReturn
session_unlink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  WhepSession *session = user_data;
  g_autoptr (GstPad) peer = gst_pad_get_peer (pad);

  if (peer != NULL)
    gst_pad_unlink (pad, peer);
  if (g_atomic_int_dec_and_test (&session->unlinks_pending))
    session_unlinked (session);
  return GST_PAD_PROBE_REMOVE;
}

static void
session_teardown (WhepSession * session)
{
  guint i, linked = 0;

  if (session->bin == NULL) {
    whep_server_teardown_done (session->server);
    return;
  }
  if (GST_OBJECT_PARENT (session->bin) == NULL) {
    /* Failed before it joined the pipeline: nothing runs in it. */
    gst_element_set_state (session->bin, GST_STATE_NULL);
    gst_clear_object (&session->webrtc);
    gst_clear_object (&session->bin);
    whep_server_teardown_done (session->server);
    return;
  }

  for (i = 0; i < session->links->len; i++) {
    SessionLink *link = g_ptr_array_index (session->links, i);

    if (link->tee_pad != NULL)
      linked++;
  }
  if (linked == 0) {
    session_unlinked (session);
    return;
  }

  g_atomic_int_set (&session->unlinks_pending, linked);
  for (i = 0; i < session->links->len; i++) {
    SessionLink *link = g_ptr_array_index (session->links, i);

    if (link->tee_pad != NULL)
      gst_pad_add_probe (link->tee_pad, GST_PAD_PROBE_TYPE_IDLE,
          session_unlink_probe, whep_session_ref (session),
          (GDestroyNotify) whep_session_unref);
  }
}

void
whep_session_end (WhepSession * session, WhepSessionEnd kind,
    const gchar * reason)
{
  static const gchar *const end_names[] = { "deleted", "expired", "killed",
    "closed", "failed"
  };
  g_autoptr (WhepSession) keep = NULL;
  g_autoptr (GError) error = NULL;

  if (session->state == STATE_ENDED)
    return;

  /* The server's table holds a reference that ending drops. */
  keep = whep_session_ref (session);
  session->state = STATE_ENDED;
  session_log_end (session, kind, reason);
  session_clear_timers (session);
  g_cancellable_cancel (session->cancellable);

  error = g_error_new (WHEP_SESSION_ERROR, WHEP_SESSION_ERROR_ENDED,
      "the session ended (%s)", reason ? reason : end_names[kind]);
  session_report_sdp (session, NULL, error);
  session_report_done (session, error);

  /* Only a connected player can hear a BYE. */
  session->bye = kind == WHEP_SESSION_END_KILLED && session->connected
      && session->server->opts->bye_on_kill;
  whep_server_session_ended (session->server, session);
  session_teardown (session);
}
