/* whepsrc — one WHEP session (see gstwhepsession.h).
 *
 * Flow: start() adds recvonly transceivers → create-offer →
 * set-local-description → POST, either once the host candidates are in
 * (at most TRICKLE_HOST_WAIT_MS) with the later ones trickled over PATCH
 * (config.trickle, see gstwhepice.h), or after ICE gathering completed
 * (bounded) with every candidate in the offer.  The
 * answer is checked (gst_whep_sdp_check_answer) and applied; a 406
 * counter-offer is answered with a fresh webrtcbin and PATCHed back.  Each
 * RTP stream webrtcbin exposes is decoded by a decodebin and leaves the
 * session through a ghost pad named after its kind.
 *
 * The WHEP signalling (POST, 406 PATCH, server-sent events, liveness GET,
 * DELETE, failure mapping) is the session's GstWhepSignalling
 * (gstwhepsignalling.h): this file is the media side — the bin, webrtcbin
 * and libnice, decoding, ghost pads, key-frame requests, connection state,
 * RTCP BYE — and drives the signalling.  Trickle and ICE restart PATCHes
 * are the session's GstWhepIce (gstwhepice.h), which needs webrtcbin's
 * NiceAgent.  Both reach the session through a weak reference only.
 *
 * Threads: webrtcbin calls back on its own thread, the signalling's and
 * the ICE channel's events come on the HTTP client's thread, pads appear
 * on streaming threads, timers run on config.context.  Everything mutable
 * is behind `lock`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepkeygate.h"
#include "gstwhepsession.h"
#include "gstwhepice.h"
#include "gstwhepsignalling.h"
#include "gstwheputils.h"

#include <gst/webrtc/webrtc.h>
#include <gst/video/video.h>
#include <gst/rtp/rtp.h>
#include <agent.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (whep_session_debug);
#define GST_CAT_DEFAULT whep_session_debug

#define KEY_FRAME_REQUEST_INTERVAL_MS 400
/* Trickle POSTs once the host candidates are in: libnice finds them at
 * once and webrtcbin reports them in one burst, so a short quiet after a
 * host candidate means they are all there; the bound is for a burst that
 * never comes (relay only).  STUN and TURN candidates are PATCHed. */
#define TRICKLE_HOST_SETTLE_MS 5
#define TRICKLE_HOST_WAIT_MS 50
/* How long a candidate-pair request may stay unanswered before a new one
 * replaces it. */
#define PAIR_REQUEST_PATIENCE_US (1000 * G_TIME_SPAN_MILLISECOND)
/* How often a connected session asks the server whether it still exists
 * (WHEP: sessions answer GET with 2xx). */
#define LIVENESS_INTERVAL_MS 2000
#define KEY_FRAME_REQUEST_MAX 25

struct _GstWhepSession
{
  GstBin parent;

  /* Immutable after new(). */
  GstWhepSessionConfig config;
  GstWhepSessionListener listener;
  gpointer listener_data;
  GstWhepSignalling *signalling;        /* the session's HTTP conversation */
  GstWhepIce *ice;              /* trickle and ICE restart over PATCH */

  /* Protected by lock.  Lock order: the session lock is a leaf: never held
   * while calling webrtcbin, the client, the listener, or changing states.
   * webrtcbin is replaced only while no offer/answer is under way (406). */
  GMutex lock;
  GstElement *webrtcbin;        /* ref held */
  GstWhepSessionState state;
  gboolean closing;
  gboolean posted;              /* offer (or counter-offer answer) sent */
  gboolean counter_offer;       /* we are the answerer (WHEP 406) */
  GPtrArray *local_candidates;  /* "mline candidate" strings, for the POST */
  guint relay_candidates;       /* local relay candidates gathered */
  guint offered_candidates;     /* candidates in the POSTed offer */
  gboolean ice_restarting;      /* an ICE restart is under way: ICE failures
                                 * are expected until it ends */
  guint ice_restarts;           /* restarts that brought the media back */
  GSource *gather_timeout;
  GSource *host_wait;           /* trickle: POST even if gathering goes on */
  GSource *key_frame_timer;
  GSource *connect_timer;       /* the answer is in: ICE and DTLS must
                                 * follow within CONNECT_TIMEOUT_MS */
  guint answer_candidates;      /* a=candidate lines of the answer */
  guint key_frame_requests;
  GstPad *video_rtp_pad;        /* webrtcbin src pad of the video stream */
  guint64 key_frames_asked;     /* force-key-unit events sent upstream
                                 * through video_rtp_pad (PLI/FIR) */
  gint64 t_key_frame_asked;     /* monotonic µs of the last one */
  gint64 key_frame_backoff_us;  /* the next one waits this long after it;
                                 * 0 once a picture decodes again */
  gint64 t_last_video_rtp;      /* monotonic µs, last buffer there */
  guint64 video_frames_in;      /* RTP packets with the marker bit: the
                                 * last packet of a frame */
  guint64 video_frames_out;     /* decoded pictures */
  gboolean have_kind[2];        /* a ghost pad exists for kind */
  gboolean first_frame[2];
  gboolean expects_video;       /* the server's SDP accepted video: the
                                 * first picture, not the first audio,
                                 * makes the session "playing" */
  gboolean expects_audio;       /* the same for audio */
  gint sdp_fps_n, sdp_fps_d;    /* the server's a=framerate; 0/0: none */
  gboolean video_pt[128];       /* payload types of the answer's video */
  gboolean announced;           /* FIRST_FRAME was emitted */
  gint64 t_last_rtcp;           /* monotonic µs of the last one */
  gint64 t_ice_ready;           /* libnice last found a working pair */
  gint64 t_first_audio;
  GstStructure *candidate_pair; /* the last one webrtcbin's statistics
                                 * named, or NULL */
  GstPromise *pair_request;     /* get-stats under way (ref), or NULL */
  gint64 pair_request_time;

  /* Monotonic µs; 0 = not reached.  The answer's time is the
   * signalling's. */
  gint64 t_start, t_offer, t_post, t_gathered, t_ice, t_connected,
      t_first_frame, t_restart;
};

G_DEFINE_TYPE (GstWhepSession, gst_whep_session, GST_TYPE_BIN);

static void make_offer (GstWhepSession * self);
static void fail_session (GstWhepSession * self, GstWhepFailure * failure);

static const gchar *const state_names[] = {
  "new", "gathering", "posting", "connecting", "connected", "playing",
  "failed", "closed",
};

const gchar *
gst_whep_session_state_name (GstWhepSessionState state)
{
  if ((guint) state < G_N_ELEMENTS (state_names))
    return state_names[state];
  return "unknown";
}

/* --- small helpers --- */

static void
emit (GstWhepSession * self, GstWhepSessionEvent event,
    const GstWhepFailure * failure)
{
  if (self->listener)
    self->listener (self, event, failure, self->listener_data);
}

/* Moves to @state unless closing/closed or already past it. */
static void
set_state (GstWhepSession * self, GstWhepSessionState state)
{
  gboolean changed = FALSE;

  g_mutex_lock (&self->lock);
  if (!self->closing && self->state != GST_WHEP_SESSION_FAILED
      && state > self->state) {
    GST_INFO_OBJECT (self, "%s → %s", state_names[self->state],
        state_names[state]);
    self->state = state;
    changed = TRUE;
  }
  g_mutex_unlock (&self->lock);

  if (changed)
    emit (self, GST_WHEP_SESSION_EVENT_STATE, NULL);
}

static gboolean
is_closing (GstWhepSession * self)
{
  gboolean closing;

  g_mutex_lock (&self->lock);
  closing = self->closing || self->state == GST_WHEP_SESSION_FAILED;
  g_mutex_unlock (&self->lock);
  return closing;
}

static GstElement *
dup_webrtcbin (GstWhepSession * self)
{
  GstElement *webrtcbin;

  g_mutex_lock (&self->lock);
  webrtcbin = self->webrtcbin ? gst_object_ref (self->webrtcbin) : NULL;
  g_mutex_unlock (&self->lock);
  return webrtcbin;
}

static gdouble
ms_between (gint64 from, gint64 to)
{
  return (from && to) ? (to - from) / 1000.0 : -1.0;
}

static GSource *
add_timeout (GstWhepSession * self, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, gst_object_ref (self),
      (GDestroyNotify) gst_object_unref);
  g_source_attach (source, self->config.context);
  return source;
}

/* Marks the session failed (once) and tells the listener. */
static void fail_session (GstWhepSession * self, GstWhepFailure * failure);

/* From the answer on, ICE and then DTLS must succeed within this long.  A
 * working path connects in well under a second here and in a few seconds
 * through TURN; what never connects — an answer without a usable
 * candidate and no check from the server, a path that drops everything —
 * would otherwise sit in "connecting" until libnice gives up, or for ever
 * when ICE never starts checking.  MediaMTX closes a session that is not
 * connected within the same 10 s. */
#define CONNECT_TIMEOUT_MS 10000

static gboolean
connect_timeout_cb (gpointer data)
{
  GstWhepSession *self = data;
  gboolean connected, ice;
  guint candidates;

  g_mutex_lock (&self->lock);
  connected = self->t_connected != 0;
  ice = self->t_ice != 0;
  candidates = self->answer_candidates;
  g_clear_pointer (&self->connect_timer, g_source_unref);
  g_mutex_unlock (&self->lock);
  if (connected || is_closing (self))
    return G_SOURCE_REMOVE;
  if (ice)
    fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
            g_strdup_printf ("ICE connected, no DTLS connection after %u ms",
                CONNECT_TIMEOUT_MS),
            "The DTLS handshake with the WHEP server did not complete "
            "within %u s", CONNECT_TIMEOUT_MS / 1000));
  else
    fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
            g_strdup_printf ("%u candidate(s) in the answer, no ICE "
                "connection after %u ms", candidates, CONNECT_TIMEOUT_MS),
            candidates ? "Could not reach the WHEP server's media address: "
            "ICE did not connect within %u s (no candidate pair of its answer "
            "worked)" : "Could not reach the WHEP server's media address: "
            "ICE did not connect within %u s, its answer has no ICE "
            "candidate and no connectivity check came from it",
            CONNECT_TIMEOUT_MS / 1000));
  return G_SOURCE_REMOVE;
}

static void
start_connect_watchdog (GstWhepSession * self)
{
  g_mutex_lock (&self->lock);
  if (!self->connect_timer && !self->closing)
    self->connect_timer = add_timeout (self, CONNECT_TIMEOUT_MS,
        connect_timeout_cb);
  g_mutex_unlock (&self->lock);
}

static void
fail_session (GstWhepSession * self, GstWhepFailure * failure)
{
  gboolean first;

  g_mutex_lock (&self->lock);
  first = !self->closing && self->state != GST_WHEP_SESSION_FAILED;
  if (first)
    self->state = GST_WHEP_SESSION_FAILED;
  gst_whep_clear_source (&self->gather_timeout);
  gst_whep_clear_source (&self->host_wait);
  gst_whep_clear_source (&self->key_frame_timer);
  gst_whep_clear_source (&self->connect_timer);
  g_mutex_unlock (&self->lock);
  gst_whep_signalling_stop_liveness (self->signalling);

  if (first) {
    GST_WARNING_OBJECT (self, "failed: %s (%s)", failure->message,
        GST_STR_NULL (failure->debug));
    emit (self, GST_WHEP_SESSION_EVENT_FAILED, failure);
  }
  gst_whep_failure_free (failure);
}

/* --- webrtcbin set-up --- */

/* libnice's thread: a pair works again (after an ICE restart, the
 * server answered the checks on the new credentials).  Media that stays
 * away after that is the sender's silence, not the path's. */
static void
mark_ice_ready (GstWhepSession * self, const gchar * why)
{
  g_mutex_lock (&self->lock);
  self->t_ice_ready = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "ICE: %s", why);
}

static void
on_nice_component_state (NiceAgent * agent, guint stream, guint component,
    guint state, GstWhepSession * self)
{
  if (state == NICE_COMPONENT_STATE_READY)
    mark_ice_ready (self, "component ready");
}

static void
on_nice_selected_pair (NiceAgent * agent, guint stream, guint component,
    NiceCandidate * local, NiceCandidate * remote, GstWhepSession * self)
{
  mark_ice_ready (self, "pair selected");
}

static void
restrict_ice_addresses (GstWhepSession * self, GstElement * webrtcbin)
{
  g_autoptr (GObject) ice = NULL;
  g_autoptr (GObject) agent = NULL;
  gchar **addr;

  g_object_get (webrtcbin, "ice-agent", &ice, NULL);
  if (!ice || !g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent")) {
    GST_WARNING_OBJECT (self, "webrtcbin's ICE agent has no libnice agent: "
        "cannot disable UPnP or restrict local addresses");
    return;
  }
  g_object_get (ice, "agent", &agent, NULL);
  if (!agent)
    return;

  /* UPnP discovery multicasts to 239.255.255.250: never wanted here. */
  g_object_set (agent, "upnp", FALSE, NULL);
  /* Keepalives that need an answer: they hold NAT bindings open like
   * indications do, and when the peer stops answering (consent lost, path
   * gone) libnice declares the pair failed instead of sending into the
   * void for ever.  webrtcbin cannot turn on RFC 7675 consent freshness
   * (a construct-time option of the agent it makes itself). */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
          "keepalive-conncheck"))
    g_object_set (agent, "keepalive-conncheck", TRUE, NULL);

  g_signal_connect (agent, "component-state-changed",
      G_CALLBACK (on_nice_component_state), self);
  g_signal_connect (agent, "new-selected-pair-full",
      G_CALLBACK (on_nice_selected_pair), self);

  for (addr = self->config.ice_local_addresses; addr && *addr; addr++) {
    NiceAddress nice_addr;

    nice_address_init (&nice_addr);
    if (!nice_address_set_from_string (&nice_addr, *addr)) {
      GST_WARNING_OBJECT (self, "ignoring bad ICE local address '%s'", *addr);
      continue;
    }
    nice_agent_add_local_address (NICE_AGENT (agent), &nice_addr);
    GST_DEBUG_OBJECT (self, "ICE restricted to local address %s", *addr);
  }
}

static void on_webrtc_pad_added (GstElement * webrtcbin, GstPad * pad,
    GstWhepSession * self);
static void on_ice_gathering_state (GObject * webrtcbin, GParamSpec * pspec,
    GstWhepSession * self);
static void on_connection_state (GObject * webrtcbin, GParamSpec * pspec,
    GstWhepSession * self);
static void on_ice_candidate (GstElement * webrtcbin, guint mline,
    gchar * candidate, GstWhepSession * self);

static void
on_bye_ssrc (GstElement * rtpbin, guint session_id, guint ssrc,
    GstWhepSession * self)
{
  if (is_closing (self))
    return;
  /* The sender says it is done with this stream: the session is over, and
   * waiting for a media timeout would only freeze the picture longer. */
  fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
          g_strdup_printf ("RTCP BYE from SSRC %08x", ssrc),
          "The WHEP server ended the stream (RTCP BYE)"));
}

/* rtpbin: an RTCP packet came from the sender (rtpbin's thread).  The path
 * works while this goes on: media that stops then is a sender that
 * stopped, which an ICE restart cannot mend. */
static void
on_ssrc_active (GstElement * rtpbin, guint session_id, guint ssrc,
    GstWhepSession * self)
{
  g_mutex_lock (&self->lock);
  self->t_last_rtcp = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  emit (self, GST_WHEP_SESSION_EVENT_RTCP, NULL);
}

/* The largest lip-sync correction applied to one RTP packet: 1 ms in
 * 20 ms of audio is inaudible, and a correction of a few hundred ms is
 * done within seconds. */
#define SYNC_SLEW_PER_PACKET (1 * GST_MSECOND)

/* The RTCP bandwidth of a receiver, for rtpsession's rtcp-fraction (a
 * value ≥ 1 is an absolute rate; rtpsession's interval arithmetic treats
 * it as bits per second).  RFC 4585 lets a receiver send one early
 * feedback packet (NACK, PLI) per regular RTCP interval; that interval
 * follows from the RTCP bandwidth, and with rtpsession's default (5 % of
 * an assumed 64 kbit/s) it is about 0.5 s — longer than the jitterbuffer's
 * latency, so every second NACK of a lossy second went out too late to be
 * of use and a key-frame request waited up to half a second.  40000 gives
 * a regular report every ~50–100 ms (a receiver report with TWCC feedback
 * is about 100 bytes): about 15 kbit/s, 1–2 % of a 360p stream. */
#define RECEIVER_RTCP_BANDWIDTH 40000

/* A jitterbuffer's first packet: video asks for lost packets again
 * (NACK).  webrtcbin 1.22 turns that on only when it finds the stream's
 * SSRC in the answer's a=ssrc lines as the jitterbuffer is made, which
 * depends on timing (H.265 from the test server NACKed nothing in 3 runs
 * of 3, and did in every run slowed down by debug logging), and only where
 * the answer pairs the codec with RTX; a server that retransmits in the
 * media stream itself is asked this way too.  The payload type tells the
 * kind: the jitterbuffer's caps name only the SSRC at this point. */
static GstPadProbeReturn
jitterbuffer_first_packet_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer data)
{
  GstWhepSession *self = data;
  GstBuffer *buffer = (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) ?
      gst_buffer_list_get (GST_PAD_PROBE_INFO_BUFFER_LIST (info), 0) :
      GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean video = FALSE;
  guint pt;

  if (!buffer || !gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  pt = gst_rtp_buffer_get_payload_type (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  g_mutex_lock (&self->lock);
  video = pt < G_N_ELEMENTS (self->video_pt) && self->video_pt[pt];
  g_mutex_unlock (&self->lock);
  if (video) {
    g_autoptr (GstElement) jitterbuffer = gst_pad_get_parent_element (pad);

    GST_DEBUG_OBJECT (self, "video (payload type %u): NACK on", pt);
    if (jitterbuffer)
      g_object_set (jitterbuffer, "do-retransmission", TRUE, NULL);
  }
  return GST_PAD_PROBE_REMOVE;
}

/* rtpbin's thread, when webrtcbin makes the RTP session (at the offer)
 * and a jitterbuffer (at the first packet of a stream). */
static void
on_rtpbin_element_added (GstBin * rtpbin, GstElement * element,
    GstWhepSession * self)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "rtcp-fraction"))
    g_object_set (element, "rtcp-fraction", (gdouble) RECEIVER_RTCP_BANDWIDTH,
        NULL);
  if (factory && !g_strcmp0 (GST_OBJECT_NAME (factory), "rtpjitterbuffer")) {
    g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (element, "sink");

    if (sinkpad)
      gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST, jitterbuffer_first_packet_probe,
          self, NULL);
  }
}

/* webrtcbin's rtpbin: capture times on every buffer (so that two sessions
 * of one source can be switched frame-exactly), lip-sync slewed, RTCP
 * feedback in time for repairs, and RTCP BYE. */
static void
configure_rtpbin (GstWhepSession * self, GstElement * webrtcbin)
{
  g_autoptr (GstElement) rtpbin = gst_bin_get_by_name (GST_BIN (webrtcbin),
      "rtpbin");

  if (!rtpbin) {
    GST_WARNING_OBJECT (self, "webrtcbin has no rtpbin child named rtpbin");
    return;
  }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (rtpbin),
          "add-reference-timestamp-meta"))
    g_object_set (rtpbin, "add-reference-timestamp-meta", TRUE, NULL);
  /* Lip-sync corrections slewed, not jumped: rtpbin re-derives the
   * streams' offsets from every sender report, and a sender whose reports
   * disagree with its RTP clock (werift writes the NTP fraction wrongly;
   * an SFU stamps them when it relays, with its own jitter) would make the
   * audio and the picture jump back and forth by up to a second. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (rtpbin),
          "max-ts-offset-adjustment"))
    g_object_set (rtpbin, "max-ts-offset-adjustment",
        (guint64) SYNC_SLEW_PER_PACKET, NULL);
  g_signal_connect (rtpbin, "element-added",
      G_CALLBACK (on_rtpbin_element_added), self);
  g_signal_connect (rtpbin, "on-bye-ssrc", G_CALLBACK (on_bye_ssrc), self);
  g_signal_connect (rtpbin, "on-ssrc-active", G_CALLBACK (on_ssrc_active),
      self);
}

static GstElement *
create_webrtcbin (GstWhepSession * self)
{
  GstElement *webrtcbin = gst_element_factory_make ("webrtcbin", NULL);
  gchar **turn;

  if (!webrtcbin)
    return NULL;

  g_object_set (webrtcbin, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", self->config.latency_ms,
      "ice-transport-policy", self->config.ice_transport_policy, NULL);
  if (self->config.stun_server)
    g_object_set (webrtcbin, "stun-server", self->config.stun_server, NULL);
  for (turn = self->config.turn_servers; turn && *turn; turn++) {
    gboolean ok = FALSE;
    g_signal_emit_by_name (webrtcbin, "add-turn-server", *turn, &ok);
    if (!ok)
      GST_WARNING_OBJECT (self, "webrtcbin refused a TURN server URI");
  }
  restrict_ice_addresses (self, webrtcbin);
  configure_rtpbin (self, webrtcbin);

  g_signal_connect (webrtcbin, "pad-added", G_CALLBACK (on_webrtc_pad_added),
      self);
  g_signal_connect (webrtcbin, "notify::ice-gathering-state",
      G_CALLBACK (on_ice_gathering_state), self);
  g_signal_connect (webrtcbin, "notify::connection-state",
      G_CALLBACK (on_connection_state), self);
  g_signal_connect (webrtcbin, "notify::ice-connection-state",
      G_CALLBACK (on_connection_state), self);
  g_signal_connect (webrtcbin, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), self);
  return webrtcbin;
}

static void
disconnect_webrtcbin (GstWhepSession * self, GstElement * webrtcbin)
{
  g_autoptr (GstElement) rtpbin = gst_bin_get_by_name (GST_BIN (webrtcbin),
      "rtpbin");
  g_autoptr (GObject) ice = NULL;
  g_autoptr (GObject) agent = NULL;

  g_signal_handlers_disconnect_by_data (webrtcbin, self);
  if (rtpbin)
    g_signal_handlers_disconnect_by_data (rtpbin, self);
  g_object_get (webrtcbin, "ice-agent", &ice, NULL);
  if (ice && g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent)
    g_signal_handlers_disconnect_by_data (agent, self);
}

/* --- decoding --- */

static gboolean
request_key_frame_cb (gpointer data)
{
  GstWhepSession *self = data;
  GstPad *pad = NULL;
  gboolean again;

  g_mutex_lock (&self->lock);
  again = !self->closing && !self->first_frame[GST_WHEP_MEDIA_VIDEO]
      && self->key_frame_requests < KEY_FRAME_REQUEST_MAX;
  if (again && self->video_rtp_pad)
    pad = gst_object_ref (self->video_rtp_pad);
  self->key_frame_requests++;
  if (!again)
    g_clear_pointer (&self->key_frame_timer, g_source_unref);
  g_mutex_unlock (&self->lock);

  if (pad) {
    /* Senders (libwebrtc above all) send a key frame at the start and then
     * only when asked; webrtcbin often misses that first one.  Asking again
     * until something decodes turns into PLI/FIR in rtpbin. */
    GST_DEBUG_OBJECT (self, "asking the sender for a key frame");
    gst_pad_send_event (pad,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
    gst_object_unref (pad);
  }
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* After an unrepaired loss the depayloader asks for a key frame with
 * every frame it drops (30 a second).  The first request leaves at once;
 * while no picture decodes, the next ones are spaced out, doubling from
 * KEY_FRAME_BACKOFF_MIN_US up to KEY_FRAME_BACKOFF_MAX_US: a lost PLI or a
 * lost key frame is asked for again within about a round trip and an
 * encoder's reaction, and a sender is not flooded with PLIs it already
 * acts on. */
#define KEY_FRAME_BACKOFF_MIN_US (100 * G_TIME_SPAN_MILLISECOND)
#define KEY_FRAME_BACKOFF_MAX_US (800 * G_TIME_SPAN_MILLISECOND)

/* Streaming threads: every key frame request that leaves towards the
 * sender (ours at the start, the depayloader's after a loss) becomes a
 * PLI or FIR in rtpbin — unless it comes within the back-off of the last
 * one. */
static GstPadProbeReturn
key_frame_request_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstWhepSession *self = data;
  gint64 now = g_get_monotonic_time ();
  gboolean send;

  if (!gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->lock);
  send = !self->t_key_frame_asked
      || now - self->t_key_frame_asked >= self->key_frame_backoff_us;
  if (send) {
    self->key_frames_asked++;
    self->t_key_frame_asked = now;
    self->key_frame_backoff_us = self->key_frame_backoff_us ?
        MIN (2 * self->key_frame_backoff_us, KEY_FRAME_BACKOFF_MAX_US) :
        KEY_FRAME_BACKOFF_MIN_US;
  }
  g_mutex_unlock (&self->lock);
  return send ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Streaming thread: video RTP packets leave the jitterbuffer. */
static GstPadProbeReturn
video_rtp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstWhepSession *self = data;
  gint64 now = g_get_monotonic_time ();
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean frame_end = FALSE;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER
      && gst_rtp_buffer_map (GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ,
          &rtp)) {
    frame_end = gst_rtp_buffer_get_marker (&rtp);
    gst_rtp_buffer_unmap (&rtp);
  }
  g_mutex_lock (&self->lock);
  self->t_last_video_rtp = now;
  if (frame_end)
    self->video_frames_in++;
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

/* How long audio alone may play, when video was negotiated, before the
 * session counts as playing anyway (a publication without pictures). */
#define AUDIO_ONLY_GRACE_US (1500 * G_TIME_SPAN_MILLISECOND)

/* Streaming threads.  The session starts playing once, at its first
 * picture — or at its first audio when no video was negotiated (or none
 * comes): timings, session-started and the rotation timer all follow that
 * one moment. */
static GstPadProbeReturn
decoded_buffer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstWhepSession *self = data;
  GstWhepMediaKind kind =
      GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad), "whep-kind"));
  gint64 now = g_get_monotonic_time ();
  gboolean first_of_kind = FALSE, announce = FALSE, done;

  g_mutex_lock (&self->lock);
  if (kind == GST_WHEP_MEDIA_VIDEO) {
    self->video_frames_out++;
    self->key_frame_backoff_us = 0;
  }
  if (!self->first_frame[kind]) {
    self->first_frame[kind] = TRUE;
    first_of_kind = TRUE;
    if (kind == GST_WHEP_MEDIA_VIDEO)
      gst_whep_clear_source (&self->key_frame_timer);
    else
      self->t_first_audio = now;
  }
  if (!self->announced && (kind == GST_WHEP_MEDIA_VIDEO
          || !self->expects_video
          || now - self->t_first_audio > AUDIO_ONLY_GRACE_US)) {
    self->announced = announce = TRUE;
    self->t_first_frame = now;
  }
  /* Video stays counted (frames-dropped compares it with the frames that
   * came in); audio keeps looking only while the picture is awaited. */
  done = kind == GST_WHEP_MEDIA_AUDIO && self->announced;
  g_mutex_unlock (&self->lock);

  if (first_of_kind)
    GST_INFO_OBJECT (self, "first decoded %s buffer",
        kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio");
  if (announce) {
    set_state (self, GST_WHEP_SESSION_PLAYING);
    emit (self, GST_WHEP_SESSION_EVENT_FIRST_FRAME, NULL);
  }
  return done ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_OK;
}

static gboolean
has_property (GstElement * element, const gchar * name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      name) != NULL;
}

/* Never a broken picture: a decoder that starts without a key frame, or
 * goes on after data it never got, must not show garbage; the output
 * holds the last good picture instead.  Decoders that can tell drop
 * corrupt frames (output-corrupt); depayloaders that can tell (VP8, VP9,
 * H.264) drop every frame after an unrepaired loss until the next key
 * frame, and ask for that key frame at once (a force-key-unit event that
 * rtpbin sends as PLI, or FIR). */
static void
on_decoder_added (GstBin * decodebin, GstBin * sub_bin, GstElement * element,
    GstWhepSession * self)
{
  /* H.265 (and any video depayloader that cannot wait for a key frame
   * itself): whepsrc's own gate does it. */
  if (gst_whep_key_gate_is_needed (element))
    gst_whep_key_gate_attach (element);
  if (has_property (element, "output-corrupt"))
    g_object_set (element, "output-corrupt", FALSE, NULL);
  if (has_property (element, "wait-for-keyframe"))
    g_object_set (element, "wait-for-keyframe", TRUE, NULL);
  if (has_property (element, "request-keyframe"))
    g_object_set (element, "request-keyframe", TRUE, NULL);
  /* Opus: a lost packet is rebuilt from the next one's in-band FEC
   * (offered: useinbandfec=1), else concealed — never a click of
   * silence. */
  if (has_property (element, "use-inband-fec"))
    g_object_set (element, "use-inband-fec", TRUE, NULL);
  if (has_property (element, "plc"))
    g_object_set (element, "plc", TRUE, NULL);
}

/* Encoded Opus as depayloaded has no rate in its caps; a muxer would
 * record a wrong one.  RTP Opus is always 48 kHz (RFC 7587). */
static GstPadProbeReturn
opus_rate_caps_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  GstStructure *s;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_has_name (s, "audio/x-opus")
      || gst_structure_has_field (s, "rate"))
    return GST_PAD_PROBE_OK;
  caps = gst_caps_copy (caps);
  gst_caps_set_simple (caps, "rate", G_TYPE_INT, 48000, NULL);
  info->data = gst_event_new_caps (caps);
  gst_caps_unref (caps);
  gst_event_unref (event);
  return GST_PAD_PROBE_OK;
}

/* RTP carries no frame rate, so decoders say 0/1 (variable) unless the
 * bitstream has one (H.264/H.265 VUI timing).  Where the server's SDP
 * declares the rate, the caps say it: recorders, encoders and
 * gst-discoverer see the real rate.  A rate from the stream wins. */
static GstPadProbeReturn
framerate_caps_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstWhepSession *self = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  GstStructure *s;
  gint num = 0, den = 1, sdp_num, sdp_den;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->lock);
  sdp_num = self->sdp_fps_n;
  sdp_den = self->sdp_fps_d;
  g_mutex_unlock (&self->lock);
  gst_event_parse_caps (event, &caps);
  s = gst_caps_get_structure (caps, 0);
  if (sdp_num <= 0 || (gst_structure_get_fraction (s, "framerate", &num,
              &den) && num > 0))
    return GST_PAD_PROBE_OK;

  caps = gst_caps_copy (caps);
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, sdp_num,
      sdp_den, NULL);
  GST_DEBUG_OBJECT (self, "frame rate %d/%d from the server's SDP", sdp_num,
      sdp_den);
  info->data = gst_event_new_caps (caps);
  gst_caps_unref (caps);
  gst_event_unref (event);
  return GST_PAD_PROBE_OK;
}

static void
on_decoded_pad_added (GstElement * decodebin, GstPad * pad,
    GstWhepSession * self)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const gchar *name;
  GstWhepMediaKind kind;
  gboolean have;
  GstPad *ghost;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_prefix (name, "video/"))
    kind = GST_WHEP_MEDIA_VIDEO;
  else if (g_str_has_prefix (name, "audio/"))
    kind = GST_WHEP_MEDIA_AUDIO;
  else {
    GST_WARNING_OBJECT (self, "ignoring decoded stream with caps %s", name);
    return;
  }

  g_mutex_lock (&self->lock);
  have = self->have_kind[kind];
  self->have_kind[kind] = TRUE;
  g_mutex_unlock (&self->lock);

  if (have) {
    /* WHEP allows one track per kind; a second one is dropped. */
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    GstPad *sinkpad;
    GST_WARNING_OBJECT (self, "second %s stream: discarded", name);
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (self), sink);
    gst_element_sync_state_with_parent (sink);
    sinkpad = gst_element_get_static_pad (sink, "sink");
    gst_pad_link (pad, sinkpad);
    gst_object_unref (sinkpad);
    return;
  }

  g_object_set_data (G_OBJECT (pad), "whep-kind", GINT_TO_POINTER (kind));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, decoded_buffer_probe,
      self, NULL);
  if (kind == GST_WHEP_MEDIA_VIDEO)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        framerate_caps_probe, self, NULL);
  else
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        opus_rate_caps_probe, NULL, NULL);

  ghost = gst_ghost_pad_new (kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio",
      pad);
  gst_pad_set_active (ghost, TRUE);
  GST_INFO_OBJECT (self, "exposing decoded %s", name);
  gst_element_add_pad (GST_ELEMENT (self), ghost);
}

/* Where an encoded stream stops being built up: parsed where a parser
 * makes it self-describing (H.264/H.265: parsed=true, codec data and the
 * stream-format downstream asks for), as depayloaded otherwise (Opus gets
 * its rate, always 48 kHz, in its caps). */
#define ENCODED_OUTPUT_CAPS \
  "video/x-h264, parsed=(boolean)true; video/x-h265, parsed=(boolean)true; " \
  "video/x-vp8; video/x-vp9; video/x-av1; " \
  "audio/x-opus; audio/x-mulaw; audio/x-alaw"

/* The encoded caps (media type only) of the codec an RTP pad carries. */
static GstCaps *
encoded_caps_for_rtp (const GstCaps * rtp_caps)
{
  const GstWhepCodec *codec;
  const gchar *name;

  if (!rtp_caps || gst_caps_is_empty (rtp_caps) || gst_caps_is_any (rtp_caps))
    return NULL;
  name = gst_structure_get_string (gst_caps_get_structure (rtp_caps, 0),
      "encoding-name");
  for (codec = gst_whep_codecs (); name && codec->encoding_name; codec++) {
    if (g_ascii_strcasecmp (codec->encoding_name, name) == 0) {
      GstCaps *caps = gst_caps_from_string (codec->decoder_caps);

      caps = gst_caps_make_writable (caps);
      gst_structure_remove_all_fields (gst_caps_get_structure (caps, 0));
      return caps;
    }
  }
  return NULL;
}

/* Decoded, or encoded: the element decides once per kind, from what
 * downstream takes. */
static GstWhepStreamForm
choose_stream_form (GstWhepSession * self, const gchar * media,
    const GstCaps * rtp_caps)
{
  g_autoptr (GstCaps) encoded = encoded_caps_for_rtp (rtp_caps);
  GstWhepMediaKind kind = g_strcmp0 (media, "audio") == 0 ?
      GST_WHEP_MEDIA_AUDIO : GST_WHEP_MEDIA_VIDEO;

  if (!self->config.choose_form || !encoded)
    return GST_WHEP_STREAM_DECODED;
  return self->config.choose_form (self->config.choose_form_data, kind,
      encoded);
}

static void
on_webrtc_pad_added (GstElement * webrtcbin, GstPad * pad,
    GstWhepSession * self)
{
  GstElement *decodebin;
  GstPad *sinkpad;
  g_autoptr (GstCaps) caps = NULL;
  const gchar *media = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;

  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && !gst_caps_is_empty (caps))
    media = gst_structure_get_string (gst_caps_get_structure (caps, 0),
        "media");
  GST_INFO_OBJECT (self, "webrtcbin exposed %s (%" GST_PTR_FORMAT ")",
      GST_PAD_NAME (pad), caps);

  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (choose_stream_form (self, media, caps) == GST_WHEP_STREAM_ENCODED) {
    g_autoptr (GstCaps) final = gst_caps_from_string (ENCODED_OUTPUT_CAPS);

    GST_INFO_OBJECT (self, "%s stays encoded", GST_PAD_NAME (pad));
    g_object_set (decodebin, "caps", final, NULL);
  }
  g_signal_connect (decodebin, "pad-added",
      G_CALLBACK (on_decoded_pad_added), self);
  g_signal_connect (decodebin, "deep-element-added",
      G_CALLBACK (on_decoder_added), self);
  gst_bin_add (GST_BIN (self), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sinkpad = gst_element_get_static_pad (decodebin, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_ERROR_OBJECT (self, "could not link %s to a decoder",
        GST_PAD_NAME (pad));
  gst_object_unref (sinkpad);

  if (g_strcmp0 (media, "video") == 0) {
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        key_frame_request_probe, self, NULL);
    gst_pad_add_probe (pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
        video_rtp_probe, self, NULL);
    g_mutex_lock (&self->lock);
    gst_object_replace ((GstObject **) & self->video_rtp_pad, GST_OBJECT (pad));
    if (!self->key_frame_timer && !self->closing)
      self->key_frame_timer = add_timeout (self,
          KEY_FRAME_REQUEST_INTERVAL_MS, request_key_frame_cb);
    g_mutex_unlock (&self->lock);
  }
}

/* --- the DTLS peer is the one the answer names --- */

/* The certificate the DTLS peer presented (PEM) and the m-line its
 * transport serves, from the first transceiver (BUNDLE: one transport). */
static gchar *
dup_remote_certificate (GstElement * webrtcbin, guint * mline)
{
  g_autoptr (GstWebRTCRTPTransceiver) transceiver = NULL;
  g_autoptr (GstWebRTCRTPReceiver) receiver = NULL;
  g_autoptr (GstWebRTCDTLSTransport) transport = NULL;
  gchar *pem = NULL;

  g_signal_emit_by_name (webrtcbin, "get-transceiver", 0, &transceiver);
  if (!transceiver)
    return NULL;
  g_object_get (transceiver, "receiver", &receiver, "mlineindex", mline, NULL);
  if (receiver)
    g_object_get (receiver, "transport", &transport, NULL);
  if (transport)
    g_object_get (transport, "remote-certificate", &pem, NULL);
  return pem;
}

/* webrtcbin accepts any certificate from its DTLS peer (1.22 and later
 * compare it with nothing): check it against the fingerprint of the
 * server's SDP, so that media comes only from the peer the WHEP server
 * vouched for.  FALSE (the session failed) on a mismatch. */
static gboolean
check_dtls_peer (GstWhepSession * self, GstElement * webrtcbin)
{
  GstWebRTCSessionDescription *remote = NULL;
  g_autofree gchar *pem = NULL;
  g_autoptr (GError) err = NULL;
  gboolean checked = FALSE, ok;
  guint mline = 0;

  g_object_get (webrtcbin, "remote-description", &remote, NULL);
  pem = dup_remote_certificate (webrtcbin, &mline);
  if (!remote || !pem) {
    GST_WARNING_OBJECT (self, "cannot check the DTLS peer's certificate "
        "(%s)", remote ? "no certificate" : "no remote description");
    if (remote)
      gst_webrtc_session_description_free (remote);
    return TRUE;
  }
  ok = gst_whep_sdp_check_fingerprint (remote->sdp, mline, pem, &checked, &err);
  gst_webrtc_session_description_free (remote);
  if (ok) {
    GST_DEBUG_OBJECT (self, "DTLS peer certificate %s", checked ?
        "matches the SDP's fingerprint" : "not checked (algorithm)");
    return TRUE;
  }
  fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
          g_strdup (err->message), "The WHEP server's media came from a "
          "DTLS peer whose certificate does not match the fingerprint in "
          "the server's SDP (%s): refused", err->message));
  return FALSE;
}

static void cancel_pair_request (GstWhepSession * self);

/* --- connection monitoring --- */

static void
on_connection_state (GObject * webrtcbin, GParamSpec * pspec,
    GstWhepSession * self)
{
  GstWebRTCPeerConnectionState pc_state;
  GstWebRTCICEConnectionState ice_state;
  gboolean was_connected, restarting;

  g_object_get (webrtcbin, "connection-state", &pc_state,
      "ice-connection-state", &ice_state, NULL);
  GST_DEBUG_OBJECT (self, "connection state %d, ICE state %d", pc_state,
      ice_state);

  /* The pair in use changes with the ICE state (checks done, restart,
   * failure) and is settled once connected: ask webrtcbin then, so that
   * whoever reads it later never waits for statistics. */
  if (g_str_equal (pspec->name, "ice-connection-state")
      || pc_state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    gst_whep_session_refresh_candidate_pair (self);

  if (ice_state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
      || ice_state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) {
    /* ICE success is not connection success: DTLS comes after. */
    g_mutex_lock (&self->lock);
    if (!self->t_ice)
      self->t_ice = g_get_monotonic_time ();
    g_mutex_unlock (&self->lock);
  }

  if (pc_state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    if (!check_dtls_peer (self, GST_ELEMENT (webrtcbin)))
      return;
    g_mutex_lock (&self->lock);
    if (!self->t_connected)
      self->t_connected = g_get_monotonic_time ();
    g_mutex_unlock (&self->lock);
    if (!is_closing (self))
      gst_whep_signalling_start_liveness (self->signalling,
          LIVENESS_INTERVAL_MS, self->config.liveness);
    set_state (self, GST_WHEP_SESSION_CONNECTED);
    return;
  }

  if (pc_state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
      && ice_state != GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
    return;
  if (is_closing (self))
    return;

  g_mutex_lock (&self->lock);
  was_connected = self->t_connected != 0;
  restarting = self->ice_restarting;
  g_mutex_unlock (&self->lock);

  /* Checks of the restart itself may fail while the path is still down;
   * the element judges the restart by the media, within its bound. */
  if (restarting) {
    GST_INFO_OBJECT (self, "ICE state %d during an ICE restart", ice_state);
    return;
  }
  /* A connection that was up and lost its path: keep the session and its
   * DTLS, find a new path. */
  if (was_connected && ice_state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED
      && gst_whep_session_restart_ice (self)) {
    emit (self, GST_WHEP_SESSION_EVENT_ICE_RESTART_STARTED, NULL);
    return;
  }

  /* ICE success is not connection success: DTLS failing after ICE shows
   * up here as a failed peer connection with a connected ICE state. */
  fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
          g_strdup_printf ("peer connection state %d, ICE state %d",
              pc_state, ice_state),
          "%s", ice_state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED ?
          (was_connected ? "The WebRTC connection to the WHEP server was lost "
              "(ICE failed)" :
              "Could not reach the WHEP server's media address (ICE failed): "
              "check the network, stun-server and turn-server") :
          "The WebRTC connection failed after ICE succeeded (DTLS)"));
}

/* --- offer, gathering, POST --- */

static gboolean host_wait_cb (gpointer data);

/* Candidates found before the POST go into the offer; later ones (trickle)
 * are PATCHed. */
static void
on_ice_candidate (GstElement * webrtcbin, guint mline, gchar * candidate,
    GstWhepSession * self)
{
  gboolean posted;

  g_mutex_lock (&self->lock);
  posted = self->posted && !self->counter_offer;
  if (strstr (candidate, " typ relay"))
    self->relay_candidates++;
  if (!posted)
    g_ptr_array_add (self->local_candidates,
        g_strdup_printf ("%u %s", mline, candidate));
  if (!self->posted && !self->closing && self->config.trickle
      && !self->counter_offer && strstr (candidate, " typ host")) {
    gst_whep_clear_source (&self->host_wait);
    self->host_wait = add_timeout (self, TRICKLE_HOST_SETTLE_MS, host_wait_cb);
  }
  g_mutex_unlock (&self->lock);
  if (posted)
    gst_whep_ice_add_local_candidate (self->ice, candidate);
}

/* webrtcbin 1.22 writes gathered candidates into its local description,
 * but only when gathering finished in time; candidates it reported
 * through on-ice-candidate are added here where an m-line has none. */
static void
add_missing_candidates (GstWhepSession * self, GstSDPMessage * sdp)
{
  guint i, j;

  g_mutex_lock (&self->lock);
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    gboolean has = gst_sdp_media_get_attribute_val (media, "candidate") != NULL;

    if (has || gst_sdp_media_get_port (media) == 0)
      continue;
    for (j = 0; j < self->local_candidates->len; j++) {
      const gchar *entry = g_ptr_array_index (self->local_candidates, j);
      gchar *end;
      guint64 mline = g_ascii_strtoull (entry, &end, 10);

      if (mline == i && *end == ' ') {
        const gchar *value = end + 1;
        if (g_str_has_prefix (value, "a="))
          value += 2;
        if (g_str_has_prefix (value, "candidate:"))
          value += strlen ("candidate:");
        gst_sdp_media_add_attribute (media, "candidate", value);
      }
    }
  }
  g_mutex_unlock (&self->lock);
}

static guint
count_candidates (const GstSDPMessage * sdp)
{
  guint i, j, n = 0;

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);

    for (j = 0; j < gst_sdp_media_attributes_len (media); j++)
      if (g_strcmp0 (gst_sdp_media_get_attribute (media, j)->key,
              "candidate") == 0)
        n++;
  }
  return n;
}

/* Sends our local description: the offer (POST) or, after a 406, our
 * answer to the counter-offer (PATCH).  Runs once. */
static void
send_local_description (GstWhepSession * self)
{
  g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
  GstWebRTCSessionDescription *desc = NULL;
  GstSDPMessage *sdp = NULL;
  gboolean counter;

  g_mutex_lock (&self->lock);
  if (self->posted || self->closing || !webrtcbin) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->posted = TRUE;
  counter = self->counter_offer;
  gst_whep_clear_source (&self->gather_timeout);
  gst_whep_clear_source (&self->host_wait);
  g_mutex_unlock (&self->lock);

  g_object_get (webrtcbin, "local-description", &desc, NULL);
  if (!desc) {
    fail_session (self, gst_whep_failure_new (GST_LIBRARY_ERROR,
            GST_LIBRARY_ERROR_FAILED, FALSE, self->config.endpoint, NULL,
            "webrtcbin has no local description to send"));
    return;
  }
  gst_sdp_message_copy (desc->sdp, &sdp);
  gst_webrtc_session_description_free (desc);
  add_missing_candidates (self, sdp);
  if (!counter)
    gst_whep_ice_set_local (self->ice, webrtcbin, sdp);

  g_mutex_lock (&self->lock);
  if (!counter) {
    self->t_post = g_get_monotonic_time ();
    self->offered_candidates = count_candidates (sdp);
  }
  g_mutex_unlock (&self->lock);

  if (counter) {
    gst_whep_signalling_send_answer (self->signalling, sdp);
    gst_sdp_message_free (sdp);
    return;
  }

  set_state (self, GST_WHEP_SESSION_POSTING);
  emit (self, GST_WHEP_SESSION_EVENT_POSTED, NULL);
  /* Never cancelled: a POST the server may have acted on is answered or
   * DELETEd (gst_whep_signalling_close()). */
  gst_whep_signalling_post_offer (self->signalling, sdp);
  gst_sdp_message_free (sdp);
}

/* ice-transport-policy=relay and gathering ended without a relay
 * candidate. */
static GstWhepFailure *
no_relay_failure (GstWhepSession * self)
{
  guint n = self->config.turn_servers ?
      g_strv_length (self->config.turn_servers) : 0;
  GstWhepFailure *failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ, TRUE, self->config.endpoint,
      g_strdup_printf ("%u TURN server(s) configured", n), "%s", n ?
      "No TURN relay candidate: the TURN server refused the allocation "
      "(wrong username or password?) or could not be reached, and "
      "ice-transport-policy is relay" :
      "No TURN server to relay through, and ice-transport-policy is "
      "relay: set turn-server (or use-link-headers for the server's)");

  /* A wrong password stays wrong: retrying makes (and deletes) sessions
   * for nothing — unless the server's Link headers brought a TURN server
   * for the next one (the supervisor knows). */
  failure->settings_wrong = TRUE;
  return failure;
}

static void
on_ice_gathering_state (GObject * webrtcbin, GParamSpec * pspec,
    GstWhepSession * self)
{
  GstWebRTCICEGatheringState state;
  gboolean described, no_relay, posted, counter;

  g_object_get (webrtcbin, "ice-gathering-state", &state, NULL);
  GST_DEBUG_OBJECT (self, "ICE gathering state %d", state);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;

  g_mutex_lock (&self->lock);
  described = self->state >= GST_WHEP_SESSION_GATHERING;
  posted = self->posted && !self->counter_offer;
  counter = self->counter_offer;
  if (!self->t_gathered)
    self->t_gathered = g_get_monotonic_time ();
  no_relay = self->relay_candidates == 0;
  g_mutex_unlock (&self->lock);

  /* Relay only and no relay: ICE has nothing to try, and would only time
   * out.  Say what is wrong now — once the answer is in, whose Link
   * headers may name the TURN server the next session needs: the offer
   * is POSTed for them if it has not left yet (the answered session is
   * DELETEd). */
  if (no_relay && self->config.ice_transport_policy ==
      GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY) {
    if (!posted && described && !counter)
      send_local_description (self);
    if (!gst_whep_signalling_fail_on_answer (self->signalling,
            no_relay_failure (self)))
      fail_session (self, no_relay_failure (self));
    return;
  }
  if (posted)
    gst_whep_ice_end_of_candidates (self->ice);
  else if (described)
    send_local_description (self);
}

static gboolean
gather_timeout_cb (gpointer data)
{
  GstWhepSession *self = data;

  /* A STUN or TURN server that never answers must not stall the session:
   * send what has been gathered so far. */
  GST_WARNING_OBJECT (self, "ICE gathering not complete after %u ms: "
      "sending the candidates gathered so far", self->config.gather_timeout_ms);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->gather_timeout, g_source_unref);
  g_mutex_unlock (&self->lock);
  send_local_description (self);
  return G_SOURCE_REMOVE;
}

/* Trickle: gathering still waits for a STUN or TURN server; the host
 * candidates are in the offer by now and the rest is PATCHed. */
static gboolean
host_wait_cb (gpointer data)
{
  GstWhepSession *self = data;

  GST_DEBUG_OBJECT (self, "gathering goes on: POSTing with the candidates "
      "so far, trickling the rest");
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->host_wait, g_source_unref);
  g_mutex_unlock (&self->lock);
  send_local_description (self);
  return G_SOURCE_REMOVE;
}

/* Our local description is set: gathering runs; POST when it completes
 * or, with trickle, once the host candidates are in. */
static void
on_local_description_set (GstPromise * promise, gpointer data)
{
  GstWhepSession *self = data;
  g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
  GstWebRTCICEGatheringState gathering = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  gboolean trickle;

  gst_promise_unref (promise);
  if (!webrtcbin || is_closing (self))
    return;

  g_mutex_lock (&self->lock);
  if (self->state < GST_WHEP_SESSION_GATHERING)
    self->state = GST_WHEP_SESSION_GATHERING;
  if (!self->gather_timeout)
    self->gather_timeout = add_timeout (self, self->config.gather_timeout_ms,
        gather_timeout_cb);
  g_mutex_unlock (&self->lock);

  g_mutex_lock (&self->lock);
  trickle = self->config.trickle && !self->counter_offer;
  g_mutex_unlock (&self->lock);

  g_object_get (webrtcbin, "ice-gathering-state", &gathering, NULL);
  if (gathering == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
    send_local_description (self);
    return;
  }
  /* Trickle: the server can gather (and TURN allocate) while we do, but
   * an offer without a candidate costs some servers more than the host
   * candidates cost us (libwebrtc answered one 100 ms later). */
  g_mutex_lock (&self->lock);
  if (trickle && !self->host_wait && !self->posted && !self->closing)
    self->host_wait = add_timeout (self, TRICKLE_HOST_WAIT_MS, host_wait_cb);
  g_mutex_unlock (&self->lock);
}

static GstWhepFailure *
promise_failure (GstPromise * promise, const gchar * what)
{
  const GstStructure *reply;
  GError *err = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return gst_whep_failure_new (GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED,
        FALSE, NULL, NULL, "webrtcbin did not answer %s", what);
  reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL)) {
    GstWhepFailure *failure = gst_whep_failure_new (GST_STREAM_ERROR,
        GST_STREAM_ERROR_FORMAT, FALSE, NULL, g_strdup (err->message),
        "webrtcbin could not %s: %s", what, err->message);
    g_error_free (err);
    return failure;
  }
  return NULL;
}

/* Takes the description out of a create-offer/create-answer reply. */
static GstWebRTCSessionDescription *
take_description (GstPromise * promise, const gchar * field)
{
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *desc = NULL;

  if (reply)
    gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &desc, NULL);
  return desc;
}

static void
on_description_created (GstPromise * promise, gpointer data)
{
  GstWhepSession *self = data;
  g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
  GstWhepFailure *failure;
  GstWebRTCSessionDescription *desc;
  gboolean counter;

  g_mutex_lock (&self->lock);
  counter = self->counter_offer;
  g_mutex_unlock (&self->lock);

  failure = promise_failure (promise, counter ? "create an answer" :
      "create an offer");
  desc = failure ? NULL : take_description (promise,
      counter ? "answer" : "offer");
  gst_promise_unref (promise);
  if (failure || !desc) {
    if (!failure)
      failure =
          gst_whep_failure_new (GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED,
          FALSE, NULL, NULL, "webrtcbin produced no SDP");
    fail_session (self, failure);
    return;
  }
  if (!webrtcbin || is_closing (self)) {
    gst_webrtc_session_description_free (desc);
    return;
  }

  g_mutex_lock (&self->lock);
  self->t_offer = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  /* An RTX payload type for every video codec, not only webrtcbin's first
   * choice: the server may answer with any of them. */
  if (!counter)
    GST_DEBUG_OBJECT (self, "added %u RTX payload types to the offer",
        gst_whep_sdp_add_rtx (desc->sdp, self->config.latency_ms));

  g_signal_emit_by_name (webrtcbin, "set-local-description", desc,
      gst_promise_new_with_change_func (on_local_description_set,
          gst_object_ref (self), gst_object_unref));
  gst_webrtc_session_description_free (desc);
}

static gboolean
codec_available (const GstWhepCodec * codec, gpointer user_data)
{
  g_autoptr (GstCaps) depay_caps = gst_caps_from_string
      (codec->depayloader_caps);
  g_autoptr (GstCaps) dec_caps = gst_caps_from_string (codec->decoder_caps);
  GList *depays, *decs;
  gboolean ok;

  depays = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER, GST_RANK_MARGINAL);
  decs = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_DECODER, GST_RANK_MARGINAL);
  {
    GList *d = gst_element_factory_list_filter (depays, depay_caps,
        GST_PAD_SINK, FALSE);
    GList *c = gst_element_factory_list_filter (decs, dec_caps, GST_PAD_SINK,
        FALSE);
    /* PCMU/PCMA have no separate decoder stage in some set-ups: the
     * depayloader's output is decoded by mulawdec/alawdec, both decoders. */
    ok = d != NULL && c != NULL;
    gst_plugin_feature_list_free (d);
    gst_plugin_feature_list_free (c);
  }
  gst_plugin_feature_list_free (depays);
  gst_plugin_feature_list_free (decs);
  return ok;
}

static gboolean
add_transceiver (GstWhepSession * self, GstElement * webrtcbin,
    GstWhepMediaKind kind, const GstCaps * filter)
{
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (kind, filter,
      codec_available, NULL);
  GstWebRTCRTPTransceiver *transceiver = NULL;

  if (!caps)
    return FALSE;
  GST_DEBUG_OBJECT (self, "offering %s: %" GST_PTR_FORMAT,
      kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio", caps);
  g_signal_emit_by_name (webrtcbin, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &transceiver);
  if (!transceiver)
    return FALSE;
  /* Lost video packets are asked for again (NACK; RTX offered): the
   * jitterbuffer retransmission requests fit in its latency.  Audio is
   * not: Opus conceals a lost packet better than a late one helps. */
  if (kind == GST_WHEP_MEDIA_VIDEO)
    g_object_set (transceiver, "do-nack", TRUE, NULL);
  /* ULPFEC in RED: webrtcbin offers both and, when the answer keeps them,
   * unwraps RED before the jitterbuffer and keeps the packets, so that a
   * packet the jitterbuffer gives up on is rebuilt from the FEC packets
   * at that moment. */
  if (kind == GST_WHEP_MEDIA_VIDEO && self->config.fec)
    g_object_set (transceiver, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED, NULL);
  gst_object_unref (transceiver);
  return TRUE;
}

static void
make_offer (GstWhepSession * self)
{
  g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
  gboolean video, audio;

  video = add_transceiver (self, webrtcbin, GST_WHEP_MEDIA_VIDEO,
      self->config.video_caps);
  audio = add_transceiver (self, webrtcbin, GST_WHEP_MEDIA_AUDIO,
      self->config.audio_caps);
  if (!video && !audio) {
    fail_session (self, gst_whep_failure_new (GST_CORE_ERROR,
            GST_CORE_ERROR_MISSING_PLUGIN, FALSE, NULL, NULL,
            "No codec to offer: no depayloader/decoder pair is installed for "
            "any WHEP codec%s", (self->config.video_caps
                || self->config.audio_caps) ?
            " that matches video-caps/audio-caps" : ""));
    return;
  }

  g_signal_emit_by_name (webrtcbin, "create-offer", NULL,
      gst_promise_new_with_change_func (on_description_created,
          gst_object_ref (self), gst_object_unref));
}

/* --- the server's answer --- */

static void
on_remote_description_set (GstPromise * promise, gpointer data)
{
  GstWhepSession *self = data;
  GstWhepFailure *failure = promise_failure (promise,
      "apply the server's SDP");
  gboolean counter;

  gst_promise_unref (promise);
  if (failure) {
    failure->url = gst_whep_redact_url (self->config.endpoint);
    fail_session (self, failure);
    return;
  }
  g_mutex_lock (&self->lock);
  counter = self->counter_offer;
  g_mutex_unlock (&self->lock);

  if (counter) {
    g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
    if (webrtcbin && !is_closing (self))
      g_signal_emit_by_name (webrtcbin, "create-answer", NULL,
          gst_promise_new_with_change_func (on_description_created,
              gst_object_ref (self), gst_object_unref));
    return;
  }
  set_state (self, GST_WHEP_SESSION_CONNECTING);
  start_connect_watchdog (self);
}

static void
apply_remote_sdp (GstWhepSession * self, GstSDPMessage * sdp,
    GstWebRTCSDPType type)
{
  g_autoptr (GstElement) webrtcbin = dup_webrtcbin (self);
  GstWebRTCSessionDescription *desc;

  desc = gst_webrtc_session_description_new (type, sdp);
  g_signal_emit_by_name (webrtcbin, "set-remote-description", desc,
      gst_promise_new_with_change_func (on_remote_description_set,
          gst_object_ref (self), gst_object_unref));
  gst_webrtc_session_description_free (desc);
}

/* WHEP 406: the server sent its own offer.  Our webrtcbin already holds a
 * local offer (webrtcbin has no rollback), so a fresh webrtcbin answers. */
static void
answer_counter_offer (GstWhepSession * self, GstSDPMessage * offer)
{
  GstElement *old, *fresh;

  GST_INFO_OBJECT (self, "server sent a counter-offer (406): answering it");
  fresh = create_webrtcbin (self);
  g_mutex_lock (&self->lock);
  old = self->webrtcbin;
  self->webrtcbin = gst_object_ref (fresh);
  self->counter_offer = TRUE;
  self->posted = FALSE;
  g_ptr_array_set_size (self->local_candidates, 0);
  g_mutex_unlock (&self->lock);

  disconnect_webrtcbin (self, old);
  gst_element_set_locked_state (old, TRUE);
  gst_element_set_state (old, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self), old);
  gst_object_unref (old);

  gst_bin_add (GST_BIN (self), fresh);
  gst_element_sync_state_with_parent (fresh);
  apply_remote_sdp (self, offer, GST_WEBRTC_SDP_TYPE_OFFER);
}

/* What the signalling found out (the client's thread).  @owner is the
 * session, held for the call. */
static void
on_signalling_event (GstWhepSignalling * signalling, GstObject * owner,
    GstWhepSignallingEvent event, const GstSDPMessage * sdp,
    const GstWhepFailure * failure)
{
  GstWhepSession *self = GST_WHEP_SESSION (owner);
  GstSDPMessage *copy = NULL;

  switch (event) {
    case GST_WHEP_SIGNALLING_EVENT_ANSWER:
    case GST_WHEP_SIGNALLING_EVENT_COUNTER_OFFER:
      g_mutex_lock (&self->lock);
      self->expects_video =
          gst_whep_sdp_count_media (sdp, GST_WHEP_MEDIA_VIDEO) > 0;
      self->expects_audio =
          gst_whep_sdp_count_media (sdp, GST_WHEP_MEDIA_AUDIO) > 0;
      if (!gst_whep_sdp_video_framerate (sdp, &self->sdp_fps_n,
              &self->sdp_fps_d))
        self->sdp_fps_n = self->sdp_fps_d = 0;
      gst_whep_sdp_video_payload_types (sdp, self->video_pt);
      self->answer_candidates = gst_whep_sdp_count_candidates (sdp);
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }

  switch (event) {
    case GST_WHEP_SIGNALLING_EVENT_ANSWER:
      gst_sdp_message_copy (sdp, &copy);
      apply_remote_sdp (self, copy, GST_WEBRTC_SDP_TYPE_ANSWER);
      break;
    case GST_WHEP_SIGNALLING_EVENT_COUNTER_OFFER:
      gst_sdp_message_copy (sdp, &copy);
      answer_counter_offer (self, copy);
      break;
    case GST_WHEP_SIGNALLING_EVENT_ANSWER_ACCEPTED:
      set_state (self, GST_WHEP_SESSION_CONNECTING);
      start_connect_watchdog (self);
      break;
    case GST_WHEP_SIGNALLING_EVENT_RESOURCE:{
      g_autofree gchar *url = gst_whep_signalling_dup_resource_url (signalling);
      g_autofree gchar *etag = gst_whep_signalling_dup_etag (signalling);

      gst_whep_ice_set_resource (self->ice, url, etag);
      break;
    }
    case GST_WHEP_SIGNALLING_EVENT_FAILED:
      fail_session (self, gst_whep_failure_copy (failure));
      break;
    case GST_WHEP_SIGNALLING_EVENT_WARNING:
      emit (self, GST_WHEP_SESSION_EVENT_WARNING, failure);
      break;
    case GST_WHEP_SIGNALLING_EVENT_RECONNECT:
      if (!is_closing (self))
        emit (self, GST_WHEP_SESSION_EVENT_RECONNECT, failure);
      break;
    case GST_WHEP_SIGNALLING_EVENT_ACTIVE:
      if (!is_closing (self))
        emit (self, GST_WHEP_SESSION_EVENT_ACTIVE, NULL);
      break;
    case GST_WHEP_SIGNALLING_EVENT_INACTIVE:
      if (!is_closing (self))
        emit (self, GST_WHEP_SESSION_EVENT_INACTIVE, NULL);
      break;
    case GST_WHEP_SIGNALLING_EVENT_LIVENESS_CONFIRMED:
      emit (self, GST_WHEP_SESSION_EVENT_LIVENESS_CONFIRMED, NULL);
      break;
    case GST_WHEP_SIGNALLING_EVENT_LIVENESS_UNSUPPORTED:
      emit (self, GST_WHEP_SESSION_EVENT_LIVENESS_UNSUPPORTED, NULL);
      break;
    case GST_WHEP_SIGNALLING_EVENT_GONE:
      if (!is_closing (self))
        emit (self, GST_WHEP_SESSION_EVENT_GONE, failure);
      break;
  }
}

/* --- ICE over PATCH --- */

/* Client thread; @owner is the session, held for the call. */
static void
on_ice_event (GstWhepIce * ice, GstObject * owner, GstWhepIceEvent event,
    guint http_status, const gchar * detail)
{
  GstWhepSession *self = GST_WHEP_SESSION (owner);
  GstWhepFailure *failure;

  switch (event) {
    case GST_WHEP_ICE_EVENT_TRICKLE_REFUSED:
      failure =
          gst_whep_failure_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
          FALSE, self->config.endpoint, g_strdup (detail),
          "The WHEP server does not take trickled ICE candidates (%u): "
          "offers will carry every candidate from now on", http_status);
      failure->http_status = http_status;
      emit (self, GST_WHEP_SESSION_EVENT_TRICKLE_REFUSED, failure);
      gst_whep_failure_free (failure);
      break;
    case GST_WHEP_ICE_EVENT_RESTART_ANSWERED:
      GST_INFO_OBJECT (self, "the server took the ICE restart: waiting for "
          "media on the new path");
      break;
    case GST_WHEP_ICE_EVENT_RESTART_REFUSED:
      /* WHEP: a failed restart does not end the server's session, but this
       * path is gone: a new session (through rotation) is the way out. */
      if (http_status == 404 || http_status == 410)
        failure =
            gst_whep_failure_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            TRUE, self->config.endpoint, g_strdup (detail),
            "The WHEP server no longer knows this session (%s)", detail);
      else
        failure =
            gst_whep_failure_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            TRUE, self->config.endpoint, g_strdup (detail),
            "The connection to the WHEP server was lost and the server "
            "refused an ICE restart (%s)", detail);
      failure->http_status = http_status;
      emit (self, GST_WHEP_SESSION_EVENT_ICE_RESTART_REFUSED, failure);
      fail_session (self, failure);
      break;
  }
}

/* Whether an ICE restart over PATCH may be tried on this session: allowed
 * by the configuration, connected, with a resource URL to PATCH, and not
 * negotiated by the server's own offer (the 406 flow: that offer's ICE is
 * the server's to restart).  Called with the lock. */
static gboolean
ice_restart_allowed_locked (GstWhepSession * self, const gchar * resource)
{
  return self->config.ice_restart && !self->closing && !self->counter_offer
      && self->state != GST_WHEP_SESSION_FAILED && resource
      && self->t_connected;
}

gboolean
gst_whep_session_can_restart_ice (GstWhepSession * self)
{
  g_autofree gchar *resource = NULL;
  gboolean allowed;

  g_return_val_if_fail (GST_IS_WHEP_SESSION (self), FALSE);

  resource = gst_whep_signalling_dup_resource_url (self->signalling);
  g_mutex_lock (&self->lock);
  allowed = self->ice_restarting || ice_restart_allowed_locked (self, resource);
  g_mutex_unlock (&self->lock);
  return allowed;
}

gboolean
gst_whep_session_restart_ice (GstWhepSession * self)
{
  g_autofree gchar *resource = NULL;
  gboolean allowed, started;

  g_return_val_if_fail (GST_IS_WHEP_SESSION (self), FALSE);

  resource = gst_whep_signalling_dup_resource_url (self->signalling);

  g_mutex_lock (&self->lock);
  if (self->ice_restarting) {
    g_mutex_unlock (&self->lock);
    return TRUE;
  }
  allowed = ice_restart_allowed_locked (self, resource);
  if (allowed) {
    self->ice_restarting = TRUE;
    self->t_restart = g_get_monotonic_time ();
  }
  g_mutex_unlock (&self->lock);
  if (!allowed)
    return FALSE;

  started = gst_whep_ice_restart (self->ice);
  if (!started) {
    g_mutex_lock (&self->lock);
    self->ice_restarting = FALSE;
    g_mutex_unlock (&self->lock);
  }
  return started;
}

gint64
gst_whep_session_get_ice_restart_time (GstWhepSession * self)
{
  gint64 started;

  g_mutex_lock (&self->lock);
  started = self->ice_restarting ? self->t_restart : 0;
  g_mutex_unlock (&self->lock);
  return started;
}

void
gst_whep_session_end_ice_restart (GstWhepSession * self)
{
  g_mutex_lock (&self->lock);
  if (self->ice_restarting)
    self->ice_restarts++;
  self->ice_restarting = FALSE;
  g_mutex_unlock (&self->lock);
}

/* --- errors of the session's own elements --- */

void
gst_whep_session_fail_from_message (GstWhepSession * self, GstMessage * message)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *element = NULL;

  g_return_if_fail (GST_IS_WHEP_SESSION (self));
  g_return_if_fail (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR);

  gst_message_parse_error (message, &err, &debug);
  element = gst_object_get_name (GST_MESSAGE_SRC (message));
  /* An element of this session gave up (dtlsdec after a failed handshake,
   * a decoder, nicesrc…): the session is lost, whepsrc is not.  Retryable:
   * a new session has a new webrtcbin and a new handshake. */
  fail_session (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ, TRUE, self->config.endpoint,
          g_strdup_printf ("%s: %s", element, GST_STR_NULL (debug)),
          "The WebRTC session failed inside %s: %s", element,
          err ? err->message : "unknown error"));
}

/* --- public --- */

void
gst_whep_session_config_clear (GstWhepSessionConfig * config)
{
  g_clear_pointer (&config->endpoint, g_free);
  g_clear_object (&config->client);
  g_clear_pointer (&config->stun_server, g_free);
  g_clear_pointer (&config->turn_servers, g_strfreev);
  g_clear_pointer (&config->ice_local_addresses, g_strfreev);
  gst_clear_caps (&config->video_caps);
  gst_clear_caps (&config->audio_caps);
  g_clear_pointer (&config->context, g_main_context_unref);
}

GstWhepSession *
gst_whep_session_new (const GstWhepSessionConfig * config,
    GstWhepSessionListener listener, gpointer user_data)
{
  g_autofree gchar *name = g_strdup_printf ("session%u", config->id);
  GstWhepSession *self = g_object_new (GST_TYPE_WHEP_SESSION, "name", name,
      NULL);
  GstWhepSessionConfig *c = &self->config;

  c->id = config->id;
  c->endpoint = g_strdup (config->endpoint);
  c->client = g_object_ref (config->client);
  c->stun_server = g_strdup (config->stun_server);
  c->turn_servers = g_strdupv (config->turn_servers);
  c->ice_transport_policy = config->ice_transport_policy;
  c->latency_ms = config->latency_ms;
  c->ice_local_addresses = g_strdupv (config->ice_local_addresses);
  c->video_caps = config->video_caps ? gst_caps_ref (config->video_caps) : NULL;
  c->audio_caps = config->audio_caps ? gst_caps_ref (config->audio_caps) : NULL;
  c->gather_timeout_ms = config->gather_timeout_ms ?
      config->gather_timeout_ms : 5000;
  c->delete_timeout_ms = config->delete_timeout_ms ?
      config->delete_timeout_ms : 2000;
  c->context = g_main_context_ref (config->context);
  c->trickle = config->trickle;
  c->fec = config->fec;
  c->ice_restart = config->ice_restart;
  c->liveness = config->liveness;
  c->choose_form = config->choose_form;
  c->choose_form_data = config->choose_form_data;
  self->listener = listener;
  self->listener_data = user_data;
  {
    GstWhepSignallingConfig sig = {
      .client = c->client,
      .endpoint = c->endpoint,
      .delete_timeout_ms = c->delete_timeout_ms,
      .context = c->context,
    };

    /* Both hold the session weakly: a late answer finds it gone. */
    self->signalling = gst_whep_signalling_new (&sig, GST_OBJECT (self),
        on_signalling_event);
    self->ice = gst_whep_ice_new (c->client, c->trickle, GST_OBJECT (self),
        on_ice_event);
  }

  self->webrtcbin = create_webrtcbin (self);
  if (self->webrtcbin) {
    gst_object_ref (self->webrtcbin);
    gst_bin_add (GST_BIN (self), self->webrtcbin);
  }
  return self;
}

void
gst_whep_session_start (GstWhepSession * self)
{
  g_return_if_fail (GST_IS_WHEP_SESSION (self));

  g_mutex_lock (&self->lock);
  self->t_start = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  if (!self->webrtcbin) {
    fail_session (self, gst_whep_failure_new (GST_CORE_ERROR,
            GST_CORE_ERROR_MISSING_PLUGIN, FALSE, NULL, NULL,
            "The webrtcbin element is missing (gst-plugins-bad)"));
    return;
  }
  make_offer (self);
}

void
gst_whep_session_close (GstWhepSession * self, gboolean wait)
{
  gboolean was_closing;

  g_return_if_fail (GST_IS_WHEP_SESSION (self));

  g_mutex_lock (&self->lock);
  was_closing = self->closing;
  self->closing = TRUE;
  gst_whep_clear_source (&self->gather_timeout);
  gst_whep_clear_source (&self->host_wait);
  gst_whep_clear_source (&self->key_frame_timer);
  gst_whep_clear_source (&self->connect_timer);
  if (!was_closing && self->state != GST_WHEP_SESSION_FAILED)
    self->state = GST_WHEP_SESSION_CLOSED;
  g_mutex_unlock (&self->lock);
  if (was_closing)
    return;

  /* Trickle and restart PATCHes first: nothing may go to a resource that
   * is being deleted.  The signalling then DELETEs (and deals with a POST
   * still under way: no server session leaks). */
  gst_whep_ice_close (self->ice);
  gst_whep_signalling_close (self->signalling, wait);
  cancel_pair_request (self);
}

gboolean
gst_whep_session_expects_kind (GstWhepSession * self, GstWhepMediaKind kind)
{
  gboolean expects;

  g_mutex_lock (&self->lock);
  expects = kind == GST_WHEP_MEDIA_VIDEO ? self->expects_video :
      self->expects_audio;
  g_mutex_unlock (&self->lock);
  return expects;
}

guint
gst_whep_session_get_id (GstWhepSession * self)
{
  return self->config.id;
}

GstWhepSessionState
gst_whep_session_get_state (GstWhepSession * self)
{
  GstWhepSessionState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

gchar *
gst_whep_session_dup_resource_url (GstWhepSession * self)
{
  return gst_whep_signalling_dup_resource_url (self->signalling);
}

gint64
gst_whep_session_get_post_time (GstWhepSession * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->t_post;
  g_mutex_unlock (&self->lock);
  return t;
}

GstStructure *
gst_whep_session_get_timings (GstWhepSession * self)
{
  GstStructure *s;
  gint64 t_answer = 0;

  gst_whep_signalling_get_times (self->signalling, NULL, &t_answer);
  g_mutex_lock (&self->lock);
  s = gst_structure_new ("timings",
      "gather-ms", G_TYPE_DOUBLE, ms_between (self->t_start, self->t_post),
      "answer-ms", G_TYPE_DOUBLE, ms_between (self->t_post, t_answer),
      "connect-ms", G_TYPE_DOUBLE, ms_between (t_answer, self->t_connected),
      "ice-ms", G_TYPE_DOUBLE, ms_between (t_answer, self->t_ice),
      "dtls-ms", G_TYPE_DOUBLE, ms_between (self->t_ice, self->t_connected),
      "first-frame-ms", G_TYPE_DOUBLE, ms_between (self->t_connected,
          self->t_first_frame),
      "total-ms", G_TYPE_DOUBLE, ms_between (self->t_start,
          self->t_first_frame),
      "offer-ms", G_TYPE_DOUBLE, ms_between (self->t_start, self->t_offer),
      "gathering-ms", G_TYPE_DOUBLE, ms_between (self->t_start,
          self->t_gathered),
      "trickle", G_TYPE_BOOLEAN, self->posted && self->t_gathered
      && self->t_post < self->t_gathered && !self->counter_offer,
      "ice-restarts", G_TYPE_UINT, self->ice_restarts, NULL);
  g_mutex_unlock (&self->lock);
  gst_structure_set (s, "offered-candidates", G_TYPE_UINT,
      self->offered_candidates, "trickled-candidates", G_TYPE_UINT,
      gst_whep_ice_get_trickled_candidates (self->ice), NULL);
  return s;
}

gint64
gst_whep_session_get_last_rtcp_time (GstWhepSession * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->t_last_rtcp;
  g_mutex_unlock (&self->lock);
  return t;
}

gint64
gst_whep_session_get_last_video_rtp_time (GstWhepSession * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->t_last_video_rtp;
  g_mutex_unlock (&self->lock);
  return t;
}

gint64
gst_whep_session_get_ice_ready_time (GstWhepSession * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->t_ice_ready;
  g_mutex_unlock (&self->lock);
  return t;
}

gint64
gst_whep_session_get_first_frame_time (GstWhepSession * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->t_first_frame;
  g_mutex_unlock (&self->lock);
  return t;
}

static const GstStructure *
find_stats (const GstStructure * stats, const gchar * id)
{
  const GValue *value = id ? gst_structure_get_value (stats, id) : NULL;

  return value && GST_VALUE_HOLDS_STRUCTURE (value) ?
      gst_value_get_structure (value) : NULL;
}

static void
copy_candidate (GstStructure * out, const gchar * side,
    const GstStructure * candidate)
{
  g_autofree gchar *address = g_strdup_printf ("%s-address", side);
  g_autofree gchar *port = g_strdup_printf ("%s-port", side);
  g_autofree gchar *type = g_strdup_printf ("%s-type", side);
  const gchar *addr = gst_structure_get_string (candidate, "address");
  const gchar *kind = gst_structure_get_string (candidate, "candidate-type");
  guint p = 0;

  if (!addr)
    addr = gst_structure_get_string (candidate, "ip");
  gst_structure_get_uint (candidate, "port", &p);
  gst_structure_set (out, address, G_TYPE_STRING, addr ? addr : "",
      port, G_TYPE_UINT, p, type, G_TYPE_STRING, kind ? kind : "", NULL);
}

typedef struct
{
  const GstStructure *stats;
  GstStructure *pair;
} PairSearch;

static gboolean
find_pair_cb (GQuark field, const GValue * value, gpointer data)
{
  PairSearch *search = data;
  const GstStructure *s;
  GstWebRTCStatsType type;
  const GstStructure *local, *remote;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL)
      || type != GST_WEBRTC_STATS_CANDIDATE_PAIR)
    return TRUE;
  local = find_stats (search->stats, gst_structure_get_string (s,
          "local-candidate-id"));
  remote = find_stats (search->stats, gst_structure_get_string (s,
          "remote-candidate-id"));
  if (!local || !remote)
    return TRUE;
  search->pair = gst_structure_new_empty ("candidate-pair");
  copy_candidate (search->pair, "local", local);
  copy_candidate (search->pair, "remote", remote);
  return FALSE;
}

/* The pair in @stats (a get-stats reply), or NULL. */
static GstStructure *
candidate_pair_from_stats (const GstStructure * stats)
{
  PairSearch search = { stats, NULL };

  if (stats)
    gst_structure_foreach (stats, find_pair_cb, &search);
  return search.pair;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* webrtcbin's thread.  The promise names the session weakly: a reply
 * after the session's end changes nothing. */
static void
on_pair_stats (GstPromise * promise, gpointer data)
{
  GstWhepSession *self = g_weak_ref_get (data);
  GstStructure *pair = NULL;

  if (!self)
    return;
  g_mutex_lock (&self->lock);
  if (self->pair_request == promise)
    g_clear_pointer (&self->pair_request, gst_promise_unref);
  g_mutex_unlock (&self->lock);
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    pair = candidate_pair_from_stats (gst_promise_get_reply (promise));
  if (pair) {
    GST_LOG_OBJECT (self, "candidate pair %" GST_PTR_FORMAT, pair);
    g_mutex_lock (&self->lock);
    g_clear_pointer (&self->candidate_pair, gst_structure_free);
    self->candidate_pair = pair;
    g_mutex_unlock (&self->lock);
  }
  gst_object_unref (self);
}

void
gst_whep_session_refresh_candidate_pair (GstWhepSession * self)
{
  GstPromise *stale = NULL;
  g_autoptr (GstElement) webrtcbin = NULL;
  GWeakRef *ref;
  GstPromise *promise;

  g_return_if_fail (GST_IS_WHEP_SESSION (self));

  webrtcbin = dup_webrtcbin (self);
  if (!webrtcbin)
    return;
  /* One request at a time, kept: webrtcbin (1.22) drops requests still
   * queued when it shuts down without answering them, so close()
   * interrupts ours (a promise freed unanswered is a critical — so is one
   * made and never sent: nothing is made before this check). */
  g_mutex_lock (&self->lock);
  if (self->closing || (self->pair_request
          && g_get_monotonic_time () - self->pair_request_time <
          PAIR_REQUEST_PATIENCE_US)) {
    g_mutex_unlock (&self->lock);
    return;
  }
  /* One unanswered for long is given up (interrupted below), so that the
   * pair never stays unknown. */
  stale = g_steal_pointer (&self->pair_request);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  promise = gst_promise_new_with_change_func (on_pair_stats, ref,
      weak_ref_free);
  self->pair_request = gst_promise_ref (promise);
  self->pair_request_time = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  if (stale) {
    gst_promise_interrupt (stale);
    gst_promise_unref (stale);
  }
  g_signal_emit_by_name (webrtcbin, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

/* Interrupts the get-stats under way, if any. */
static void
cancel_pair_request (GstWhepSession * self)
{
  GstPromise *request;

  g_mutex_lock (&self->lock);
  request = g_steal_pointer (&self->pair_request);
  g_mutex_unlock (&self->lock);
  if (request) {
    gst_promise_interrupt (request);
    gst_promise_unref (request);
  }
}

GstStructure *
gst_whep_session_dup_candidate_pair (GstWhepSession * self)
{
  GstStructure *pair;

  g_return_val_if_fail (GST_IS_WHEP_SESSION (self), NULL);

  g_mutex_lock (&self->lock);
  pair = self->candidate_pair ? gst_structure_copy (self->candidate_pair) :
      NULL;
  g_mutex_unlock (&self->lock);
  return pair;
}

GPtrArray *
gst_whep_session_dup_link_ice_servers (GstWhepSession * self)
{
  return gst_whep_signalling_dup_link_ice_servers (self->signalling);
}

/* --- GObject --- */

static void
gst_whep_session_dispose (GObject * object)
{
  GstWhepSession *self = GST_WHEP_SESSION (object);

  g_mutex_lock (&self->lock);
  gst_whep_clear_source (&self->gather_timeout);
  gst_whep_clear_source (&self->host_wait);
  gst_whep_clear_source (&self->key_frame_timer);
  g_mutex_unlock (&self->lock);
  cancel_pair_request (self);
  if (self->signalling) {
    /* A session that was never closed still ends its server session (in
     * the background: dispose may run on any thread). */
    gst_whep_signalling_close (self->signalling, FALSE);
    gst_clear_object (&self->signalling);
  }
  if (self->webrtcbin) {
    disconnect_webrtcbin (self, self->webrtcbin);
    gst_clear_object (&self->webrtcbin);
  }
  if (self->ice) {
    /* It holds us weakly; closing it also stops its PATCHes. */
    gst_whep_ice_close (self->ice);
    gst_clear_object (&self->ice);
  }
  gst_clear_object (&self->video_rtp_pad);

  G_OBJECT_CLASS (gst_whep_session_parent_class)->dispose (object);
}

static void
gst_whep_session_finalize (GObject * object)
{
  GstWhepSession *self = GST_WHEP_SESSION (object);

  gst_whep_session_config_clear (&self->config);
  g_clear_pointer (&self->candidate_pair, gst_structure_free);
  g_clear_pointer (&self->local_candidates, g_ptr_array_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (gst_whep_session_parent_class)->finalize (object);
}

static void
gst_whep_session_init (GstWhepSession * self)
{
  g_mutex_init (&self->lock);
  self->local_candidates = g_ptr_array_new_with_free_func (g_free);
  self->state = GST_WHEP_SESSION_NEW;
}

static void
gst_whep_session_class_init (GstWhepSessionClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->dispose = gst_whep_session_dispose;
  gobject_class->finalize = gst_whep_session_finalize;

  GST_DEBUG_CATEGORY_INIT (whep_session_debug, "whepsession", 0,
      "WHEP session (one webrtcbin)");
}

/* --- repair statistics --- */

/* Frames between the RTP pad and the decoded pad (depayloader, decoder). */
#define FRAMES_IN_FLIGHT 2

static void
add_jitterbuffer_stats (const GValue * item, gpointer data)
{
  GstElement *element = g_value_get_object (item);
  GstWhepRepairStats *stats = data;
  GstElementFactory *factory = gst_element_get_factory (element);
  GstStructure *s = NULL;
  guint64 lost = 0, asked = 0, came = 0;

  if (!factory || g_strcmp0 (GST_OBJECT_NAME (factory), "rtpjitterbuffer"))
    return;
  g_object_get (element, "stats", &s, NULL);
  if (!s)
    return;
  gst_structure_get_uint64 (s, "num-lost", &lost);
  gst_structure_get_uint64 (s, "rtx-count", &asked);
  gst_structure_get_uint64 (s, "rtx-success-count", &came);
  gst_structure_free (s);
  stats->packets_lost += lost;
  stats->retransmission_requests += asked;
  stats->retransmissions += came;
}

void
gst_whep_session_get_repair_stats (GstWhepSession * self,
    GstWhepRepairStats * stats)
{
  g_autoptr (GstElement) webrtcbin = NULL;
  GstIterator *it;

  g_return_if_fail (GST_IS_WHEP_SESSION (self) && stats != NULL);

  memset (stats, 0, sizeof *stats);
  webrtcbin = dup_webrtcbin (self);
  if (webrtcbin) {
    /* Only video has retransmission (do-nack) and a jitterbuffer with
     * retransmission counters; audio's count losses alone. */
    it = gst_bin_iterate_recurse (GST_BIN (webrtcbin));
    while (gst_iterator_foreach (it, add_jitterbuffer_stats, stats) ==
        GST_ITERATOR_RESYNC) {
      memset (stats, 0, sizeof *stats);
      gst_iterator_resync (it);
    }
    gst_iterator_free (it);
  }
  g_mutex_lock (&self->lock);
  stats->key_frame_requests = self->key_frames_asked;
  /* A few frames are on their way through the decoder at any time. */
  if (self->video_frames_in > self->video_frames_out + FRAMES_IN_FLIGHT)
    stats->frames_dropped = self->video_frames_in - self->video_frames_out -
        FRAMES_IN_FLIGHT;
  g_mutex_unlock (&self->lock);
}

/* --- the process's DTLS certificate, made early --- */

static gpointer
prewarm_dtls_main (gpointer data)
{
  /* dtlsdec makes the process's certificate in its instance init, once
   * (a GOnce every later dtlsdec waits on): making one is all it takes. */
  GstElement *dtlsdec = gst_element_factory_make ("dtlsdec", NULL);

  if (dtlsdec)
    gst_object_unref (gst_object_ref_sink (dtlsdec));
  GST_DEBUG ("DTLS certificate ready");
  return NULL;
}

/* The prewarm thread, started once per process and kept until someone
 * joins it.  Both under prewarm_lock. */
static GMutex prewarm_lock;
static gboolean prewarm_started;
static GThread *prewarm_thread;

void
gst_whep_session_prewarm_dtls (void)
{
  g_mutex_lock (&prewarm_lock);
  if (!prewarm_started) {
    prewarm_started = TRUE;
    prewarm_thread = g_thread_new ("dtls-prewarm", prewarm_dtls_main, NULL);
  }
  g_mutex_unlock (&prewarm_lock);
}

void
gst_whep_session_prewarm_dtls_join (void)
{
  /* Held while joining, so that a second caller returns only once the
   * thread is gone; the thread itself never takes the lock. */
  g_mutex_lock (&prewarm_lock);
  if (prewarm_thread) {
    g_thread_join (prewarm_thread);
    prewarm_thread = NULL;
  }
  g_mutex_unlock (&prewarm_lock);
}
