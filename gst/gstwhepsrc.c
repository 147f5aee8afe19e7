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
 * plays the answer's media through a webrtcbin, and outputs video on
 * `video_%u` and audio on `audio_%u`: decoded, or encoded (parsed) where
 * the element after it names the codec (a muxer, a parser, a decoder), or
 * RTP where it names application/x-rtp (`output` forces one).
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
 * gst-launch-1.0 -e whepsrc whep-endpoint=https://example.com/whep/cam ! queue ! \
 *     videoconvert ! x264enc tune=zerolatency ! mp4mux ! filesink location=rec.mp4
 * gst-launch-1.0 -e whepsrc whep-endpoint=https://example.com/whep/cam name=s \
 *     s.video_0 ! queue ! m.video_0 s.audio_0 ! queue ! m.audio_0 \
 *     matroskamux name=m ! filesink location=rec.mkv
 * gst-launch-1.0 -e whepsrc whep-endpoint=https://example.com/whep/h264 ! \
 *     h264parse ! mp4mux ! filesink location=rec.mp4
 * gst-launch-1.0 whepsrc whep-endpoint=https://example.com/whep/cam output=rtp ! \
 *     udpsink host=127.0.0.1 port=5004
 * gst-play-1.0 'wheps://SECRET@example.com/whep/cam#latency=100&session-lifetime=60'
 * ]|
 *
 * ## URIs
 * `whep://` means http, `wheps://` https (playbin, uridecodebin,
 * gst-play-1.0, gst-discoverer-1.0).  The URI's user-info is the bearer
 * token (`auth-token`, never logged by whepsrc), its fragment sets
 * properties: `#name=value&name=value`, values as on a gst-launch line.
 * whepsrc signals no-more-pads once the first session's streams all have
 * pads (at most 2 s after the first frame), which playbin waits for.
 *
 * ## Encoded and RTP output
 * A rotation switches at a frame the new session can start from: any
 * frame when the server sends every session the same frames (a relay),
 * else a key frame of the new session (asked for at once); no frame is
 * lost or shown twice.  A hold sends GAP events.  RTP output is payloaded
 * again after the switch: one SSRC, continuous sequence numbers and
 * timestamps across sessions.
 *
 * ## End of stream
 * An EOS sent to the pipeline or to the element (`gst-launch-1.0 -e`,
 * Ctrl-C) DELETEs the session(s) and pushes EOS on every source pad, so a
 * recording is finished cleanly.  Sessions ending, rotating or failing
 * never send EOS downstream.
 *
 * ## Application interface
 * `status` (connecting, playing, disconnected — exactly while the picture
 * is held —, waiting, ended, error, stopped) and `statistics` (a
 * GstStructure: sessions created, rotations, losses, holds, ICE restarts,
 * the candidate pair, the learned session limit…) can be read at any time;
 * most properties may be changed while playing and apply to the next
 * session.  The same element is also registered as `rotatingwhepsrc`, a
 * name no other plugin has (gst-plugins-rs has a `whepsrc` too).
 * Troubleshooting (debug categories, statistics, packet captures):
 * docs/troubleshooting.md.
 *
 * An error posted by an element inside a session (dtlsdec, a decoder,
 * nicesrc…) is that session's failure and never reaches the application;
 * a warning from inside a session is posted once by whepsrc, naming the
 * session.
 *
 * ## Bus messages (element messages)
 * - `whepsrc/session-started`: session-id, url, setup-ms, timings
 * - `whepsrc/session-rotated`: from-session, to-session, url, setup-ms,
 *   reason ("lifetime", "server-reconnect", "break-before-make"), timings
 * - `whepsrc/session-lost`: session-id, reason, age-s, http-status-code,
 *   retry-in-ms (-1: giving up)
 * - `whepsrc/holding`: holding (boolean), kind ("video", "audio"),
 *   held-ms (when a hold ends)
 * - `whepsrc/ice-restart-started`: session-id, reason ("silence": 300 ms
 *   without media on air, "media-timeout", "ice-failed")
 * - `whepsrc/ice-restarted`: session-id, duration-ms
 * - `whepsrc/retry-after`: http-status-code, retry-after-s (what the
 *   server asked, at most 300 s), retry-in-ms — before a wait the server
 *   asked for (409, 503 or 429 with Retry-After)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsrc.h"
#include "gstwhepclient.h"
#include "gstwhepenums.h"
#include "gstwhepsession.h"
#include "gstwhepsupervisor.h"
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
#define DEFAULT_ALLOW_CROSS_ORIGIN_AUTH FALSE
#define DEFAULT_SSL_CA_FILE NULL
#define DEFAULT_ICE_LOCAL_ADDRESSES NULL
#define DEFAULT_MAX_RETRIES 10
#define DEFAULT_SESSION_LIFETIME 0
#define DEFAULT_ROTATION_LEAD 0
#define DEFAULT_MEDIA_TIMEOUT 1000
#define DEFAULT_HOLD_MODE GST_WHEP_SRC_HOLD_REPEAT
#define DEFAULT_TRICKLE_ICE GST_WHEP_SRC_TRICKLE_AUTO
#define DEFAULT_FEC GST_WHEP_SRC_FEC_OFF
#define DEFAULT_OUTPUT GST_WHEP_SRC_OUTPUT_AUTO
#define DEFAULT_ICE_RESTART_TIMEOUT 5000

#define DELETE_TIMEOUT_MS 2000
/* stop() gives the DELETEs of the run's sessions this long, from its
 * start, then cancels them and joins the HTTP thread: stop() returns
 * within a second whatever the server does (a healthy server answers a
 * DELETE on the POST's connection within a round trip; one that does not
 * answer expires the session itself).  An unanswered POST gets half of
 * it: 400 ms covers a server that makes its peer connection before it
 * answers (the test server under load: 150–350 ms), so that the session
 * it then makes is still DELETEd. */
#define STOP_DELETE_BUDGET_MS 800

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
  PROP_ALLOW_CROSS_ORIGIN_AUTH,
  PROP_SSL_CA_FILE,
  PROP_ICE_LOCAL_ADDRESSES,
  PROP_MAX_RETRIES,
  PROP_SESSION_LIFETIME,
  PROP_ROTATION_LEAD,
  PROP_MEDIA_TIMEOUT,
  PROP_HOLD_MODE,
  PROP_TRICKLE_ICE,
  PROP_FEC,
  PROP_ICE_RESTART_TIMEOUT,
  PROP_OUTPUT,
  PROP_STATUS,
  PROP_STATISTICS,
};

/* Lock order: run_lock → output_lock → object lock.  None is held while
 * posting messages, notifying, changing states or calling into the
 * supervisor, a session or a switch. */
struct _GstWhepSrc
{
  GstBin parent;

  /* Settings.  Protected by the object lock; read into a session's
   * configuration when the session starts, and by the supervisor when
   * told that a run-time setting changed. */
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
  gboolean allow_cross_origin_auth;
  gchar *ssl_ca_file;
  gchar *ice_local_addresses;
  gint max_retries;
  guint session_lifetime_s;
  guint rotation_lead_ms;
  guint media_timeout_ms;
  GstWhepSrcHoldMode hold_mode;
  GstWhepSrcTrickleMode trickle_ice;
  GstWhepSrcFecMode fec;
  guint ice_restart_timeout_ms;
  GstWhepSrcOutput output;

  /* What was learnt about the server (see GstWhepServerKnowledge): kept
   * from run to run, forgotten when whep-endpoint changes.  Protected by
   * the object lock; handed to the supervisor at start, back at stop. */
  GstWhepServerKnowledge known;

  /* Output.  Protected by output_lock.  The switches and their ghost src
   * pads are made on first use and live as long as the element. */
  GMutex output_lock;
  GstElement *switches[2];      /* indexed by GstWhepMediaKind */
  GstPad *srcpads[2];
  /* What each pad carries: AUTO until the first session's stream of that
   * kind asked (choose_stream_form), then fixed for the pad's life. */
  GstWhepSrcOutput outputs[2];
  GstElement *payloaders[2];    /* RTP output: after the switch, or NULL */
  /* Held while a kind's output is decided (it exposes the pad and may
   * add a payloader): one decision at a time.  Taken before output_lock. */
  GMutex choose_lock;

  /* The run.  Protected by run_lock: the pointer only — the run's state is
   * the supervisor's (set in start(), cleared in stop(), both on the
   * state-change thread). */
  GMutex run_lock;
  GstWhepSupervisor *supervisor;
  GstWhepClient *client;
  GstStructure *last_run_stats; /* the statistics a stopped run left */
};

static void gst_whep_src_uri_handler_init (gpointer iface, gpointer data);
static void gst_whep_src_class_init (GstWhepSrcClass * klass);
static void gst_whep_src_init (GstWhepSrc * self);

/* The GType is registered by hand, under a name of its own: gst-plugins-rs's
 * (deprecated) whepsrc registers "GstWhepSrc", and two plugins that both
 * register one type name cannot load into one process (GStreamer's plugin
 * scanner loads every plugin into one) — the second fails to load. */
#define GST_WHEP_SRC_TYPE_NAME "GstWhepRotatingSrc"

static gpointer parent_class = NULL;
#define gst_whep_src_parent_class parent_class

static void
gst_whep_src_class_intern_init (gpointer klass, gpointer data)
{
  parent_class = g_type_class_peek_parent (klass);
  gst_whep_src_class_init (klass);
}

/* GstObject names an object without a name after its type:
 * "wheprotatingsrc0" becomes "whepsrc0", as the element is called.  A name
 * the application gave is kept. */
#define TYPE_DEFAULT_NAME "wheprotatingsrc"

static void
gst_whep_src_constructed (GObject * object)
{
  g_autofree gchar *name = gst_object_get_name (GST_OBJECT (object));

  G_OBJECT_CLASS (parent_class)->constructed (object);
  if (name && g_str_has_prefix (name, TYPE_DEFAULT_NAME)
      && g_ascii_isdigit (name[strlen (TYPE_DEFAULT_NAME)])) {
    g_autofree gchar *renamed = g_strconcat ("whepsrc",
        name + strlen (TYPE_DEFAULT_NAME), NULL);

    gst_object_set_name (GST_OBJECT (object), renamed);
  }
}

static void
gst_whep_src_instance_init (GTypeInstance * instance, gpointer klass)
{
  gst_whep_src_init ((GstWhepSrc *) instance);
}

GType
gst_whep_src_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id)) {
    const GInterfaceInfo uri_handler_info = {
      gst_whep_src_uri_handler_init, NULL, NULL
    };
    GType type = g_type_register_static_simple (GST_TYPE_BIN,
        g_intern_static_string (GST_WHEP_SRC_TYPE_NAME),
        sizeof (GstWhepSrcClass),
        gst_whep_src_class_intern_init, sizeof (GstWhepSrc),
        gst_whep_src_instance_init, 0);

    g_type_add_interface_static (type, GST_TYPE_URI_HANDLER, &uri_handler_info);
    g_once_init_leave (&type_id, type);
  }
  return type_id;
}

/* "whepsrc", and the same element as "rotatingwhepsrc": a name that no
 * other plugin has — the registry keeps one feature per name, so with
 * gst-plugins-rs's whepsrc installed as well, "whepsrc" can be either
 * (the plugin scanned last); "rotatingwhepsrc" is always this one, and so
 * is every whep:// and wheps:// URI (the other has no URI handler).  The
 * alias is registered first and one rank lower: "whepsrc" is the factory
 * of every instance (the last registration says so) and the first choice
 * for URIs. */
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (whepsrc, "whepsrc", GST_RANK_PRIMARY,
    GST_TYPE_WHEP_SRC, GST_DEBUG_CATEGORY_INIT (whep_src_debug, "whepsrc", 0,
        "WHEP source"));
GST_ELEMENT_REGISTER_DEFINE (rotatingwhepsrc, "rotatingwhepsrc",
    GST_RANK_PRIMARY - 1, GST_TYPE_WHEP_SRC);

/* Raw, encoded or RTP: see the "output" property. */
static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw(ANY); video/x-h264; video/x-h265; "
        "video/x-vp8; video/x-vp9; video/x-av1; "
        "application/x-rtp, media=(string)video"));
static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw(ANY); audio/x-opus; audio/x-mulaw; "
        "audio/x-alaw; application/x-rtp, media=(string)audio"));

static GstWhepSupervisor *
dup_supervisor (GstWhepSrc * self)
{
  GstWhepSupervisor *sup;

  g_mutex_lock (&self->run_lock);
  sup = self->supervisor ? gst_object_ref (self->supervisor) : NULL;
  g_mutex_unlock (&self->run_lock);
  return sup;
}

static const gchar *
kind_name (GstWhepMediaKind kind)
{
  return kind == GST_WHEP_MEDIA_VIDEO ? "video" : "audio";
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
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

  if (sup)
    gst_whep_supervisor_output_switched (sup, switch_kind (self, sw), pad);
}

/* Streaming or hold thread. */
static void
on_holding (GstElement * sw, gboolean holding, GstWhepSrc * self)
{
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

  if (sup)
    gst_whep_supervisor_output_holding (sup, switch_kind (self, sw), holding);
}

/* The audio switch lines up takeovers the way the video switch found the
 * same session's pictures to line up (gst_whep_switch_follow).  Called
 * with output_lock, whenever a switch is made. */
static void
link_audio_to_video (GstWhepSrc * self)
{
  GstElement *video = self->switches[GST_WHEP_MEDIA_VIDEO];
  GstElement *audio = self->switches[GST_WHEP_MEDIA_AUDIO];

  if (video && audio)
    gst_whep_switch_follow (GST_WHEP_SWITCH (audio), GST_WHEP_SWITCH (video));
}

/* Returns the switch for @kind, making it and its src pad the first time
 * (supervisor host function; any thread). */
static GstElement *
ensure_output (GstElement * element, GstWhepMediaKind kind)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);
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
    link_audio_to_video (self);
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

/* What downstream of @srcpad takes: this encoding wherever it names it
 * (a muxer that also takes raw media records without transcoding), else
 * RTP where it names that, else raw — also when it takes anything
 * (decodebin, fakesink) or nothing is linked: what whepsrc always gave. */
static GstWhepSrcOutput
output_downstream_takes (GstPad * srcpad, const GstCaps * encoded)
{
  g_autoptr (GstCaps) peer = gst_pad_peer_query_caps (srcpad, NULL);
  g_autoptr (GstCaps) rtp = gst_caps_new_empty_simple ("application/x-rtp");

  if (!peer || gst_caps_is_any (peer) || gst_caps_is_empty (peer))
    return GST_WHEP_SRC_OUTPUT_RAW;
  if (gst_caps_can_intersect (peer, encoded))
    return GST_WHEP_SRC_OUTPUT_ENCODED;
  if (gst_caps_can_intersect (peer, rtp))
    return GST_WHEP_SRC_OUTPUT_RTP;
  return GST_WHEP_SRC_OUTPUT_RAW;
}

/* RTP output: a payloader between the switch and the pad, so that the
 * RTP stream stays one (one SSRC, continuous sequence numbers and
 * timestamps) whatever sessions come and go behind it. */
static gboolean
add_payloader (GstWhepSrc * self, GstWhepMediaKind kind, GstElement * sw,
    GstPad * ghost, const GstCaps * encoded)
{
  GList *all = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_PAYLOADER, GST_RANK_MARGINAL);
  GList *fit = gst_element_factory_list_filter (all, encoded, GST_PAD_SINK,
      FALSE);
  g_autofree gchar *name = g_strdup_printf ("%s-payloader", kind_name (kind));
  GstElement *pay = NULL;
  g_autoptr (GstPad) switch_src = gst_element_get_static_pad (sw, "src");
  g_autoptr (GstPad) pay_sink = NULL;
  g_autoptr (GstPad) pay_src = NULL;

  fit = g_list_sort (fit, gst_plugin_feature_rank_compare_func);
  if (fit)
    pay = gst_element_factory_create (fit->data, name);
  gst_plugin_feature_list_free (fit);
  gst_plugin_feature_list_free (all);
  if (!pay)
    return FALSE;
  /* A decoder that joins after the switch to another encoding needs the
   * parameter sets with every key frame. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (pay),
          "config-interval"))
    g_object_set (pay, "config-interval", -1, NULL);
  gst_bin_add (GST_BIN (self), pay);
  pay_sink = gst_element_get_static_pad (pay, "sink");
  pay_src = gst_element_get_static_pad (pay, "src");
  gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), pay_src);
  if (gst_pad_link (switch_src, pay_sink) != GST_PAD_LINK_OK) {
    gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), switch_src);
    gst_element_set_state (pay, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), pay);
    return FALSE;
  }
  gst_element_sync_state_with_parent (pay);
  g_mutex_lock (&self->output_lock);
  self->payloaders[kind] = gst_object_ref (pay);
  g_mutex_unlock (&self->output_lock);
  GST_INFO_OBJECT (self, "RTP output for %s through %s", kind_name (kind),
      GST_OBJECT_NAME (gst_element_get_factory (pay)));
  return TRUE;
}

/* Session callback (streaming thread), when a session's stream of @kind
 * first appears: decoded or encoded.  The first session decides for the
 * pad's life: the pad is exposed now, so that an application (gst-launch,
 * playbin) links it in pad-added, and what it linked says what it takes;
 * the "output" property can say it instead. */
static GstWhepStreamForm
choose_stream_form (gpointer data, GstWhepMediaKind kind,
    const GstCaps * encoded)
{
  GstWhepSrc *self = data;
  GstWhepSrcOutput wanted, chosen;
  g_autoptr (GstElement) sw = NULL;
  g_autoptr (GstPad) srcpad = NULL;

  g_mutex_lock (&self->choose_lock);
  g_mutex_lock (&self->output_lock);
  chosen = self->outputs[kind];
  g_mutex_unlock (&self->output_lock);
  if (chosen == GST_WHEP_SRC_OUTPUT_AUTO) {
    GST_OBJECT_LOCK (self);
    wanted = self->output;
    GST_OBJECT_UNLOCK (self);

    sw = ensure_output (GST_ELEMENT (self), kind);
    g_mutex_lock (&self->output_lock);
    srcpad = gst_object_ref (self->srcpads[kind]);
    g_mutex_unlock (&self->output_lock);
    chosen = wanted != GST_WHEP_SRC_OUTPUT_AUTO ? wanted :
        output_downstream_takes (srcpad, encoded);
    if (chosen == GST_WHEP_SRC_OUTPUT_RTP
        && !add_payloader (self, kind, sw, srcpad, encoded)) {
      GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
          ("No RTP payloader for %" GST_PTR_FORMAT ": the %s output is "
              "encoded instead", encoded, kind_name (kind)), (NULL));
      chosen = GST_WHEP_SRC_OUTPUT_ENCODED;
    }
    g_mutex_lock (&self->output_lock);
    self->outputs[kind] = chosen;
    g_mutex_unlock (&self->output_lock);
    GST_INFO_OBJECT (self, "%s output: %s (%s)", kind_name (kind),
        chosen == GST_WHEP_SRC_OUTPUT_RAW ? "raw" :
        chosen == GST_WHEP_SRC_OUTPUT_RTP ? "rtp" : "encoded",
        wanted == GST_WHEP_SRC_OUTPUT_AUTO ? "what downstream takes" :
        "the output property");
  }
  g_mutex_unlock (&self->choose_lock);
  return chosen == GST_WHEP_SRC_OUTPUT_RAW ? GST_WHEP_STREAM_DECODED :
      GST_WHEP_STREAM_ENCODED;
}

/* Supervisor host function; any thread. */
static GstElement *
dup_output (GstElement * element, GstWhepMediaKind kind)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);
  GstElement *sw;

  g_mutex_lock (&self->output_lock);
  sw = self->switches[kind] ? gst_object_ref (self->switches[kind]) : NULL;
  g_mutex_unlock (&self->output_lock);
  return sw;
}

/* --- settings for the supervisor --- */

static void
read_run_settings (GstElement * element, GstWhepRunSettings * settings)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);

  GST_OBJECT_LOCK (self);
  settings->max_retries = self->max_retries;
  settings->session_lifetime_s = self->session_lifetime_s;
  settings->rotation_lead_ms = self->rotation_lead_ms;
  settings->media_timeout_ms = self->media_timeout_ms;
  settings->ice_restart_timeout_ms = self->ice_restart_timeout_ms;
  GST_OBJECT_UNLOCK (self);
}

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

static void
fill_session_config (GstElement * element, GstWhepSessionConfig * config,
    gboolean * use_link_headers)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);

  GST_OBJECT_LOCK (self);
  config->endpoint = g_strdup (self->endpoint);
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
  config->trickle = self->trickle_ice == GST_WHEP_SRC_TRICKLE_AUTO;
  config->fec = self->fec == GST_WHEP_SRC_FEC_AUTO;
  config->ice_restart = self->ice_restart_timeout_ms > 0;
  config->choose_form = choose_stream_form;
  config->choose_form_data = self;
  *use_link_headers = self->use_link_headers;
  GST_OBJECT_UNLOCK (self);
}

static const GstWhepSupervisorHost supervisor_host = {
  .ensure_output = ensure_output,
  .dup_output = dup_output,
  .read_settings = read_run_settings,
  .fill_session_config = fill_session_config,
};

/* --- errors and warnings from inside a session --- */

/* The session an object belongs to (ref), or NULL. */
static GstWhepSession *
session_of (GstWhepSrc * self, GstObject * object)
{
  GstObject *o = object ? gst_object_ref (object) : NULL;

  while (o && o != GST_OBJECT (self)) {
    GstObject *parent;

    if (GST_IS_WHEP_SESSION (o))
      return GST_WHEP_SESSION (o);
    parent = gst_object_get_parent (o);
    gst_object_unref (o);
    o = parent;
  }
  if (o)
    gst_object_unref (o);
  return NULL;
}

/* An ERROR inside a session (dtlsdec after a failed handshake, a decoder,
 * nicesrc…) would end the application's pipeline although whepsrc can
 * recover: it goes to the supervisor instead, as that session's failure;
 * a WARNING is passed on by the supervisor, once, naming the session. */
static void
gst_whep_src_handle_message (GstBin * bin, GstMessage * message)
{
  GstWhepSrc *self = GST_WHEP_SRC (bin);

  /* A session's inside ending is not the stream ending (our pads end
   * only with gst_whep_switch_end_stream). */
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS) {
    GST_DEBUG_OBJECT (self, "dropping EOS from %s",
        GST_MESSAGE_SRC_NAME (message));
    gst_message_unref (message);
    return;
  }
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR
      || GST_MESSAGE_TYPE (message) == GST_MESSAGE_WARNING) {
    g_autoptr (GstWhepSession) session = session_of (self,
        GST_MESSAGE_SRC (message));

    if (session) {
      g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

      GST_DEBUG_OBJECT (self, "%s from inside %s handed to the supervisor",
          GST_MESSAGE_TYPE_NAME (message), GST_ELEMENT_NAME (session));
      /* Without a run, the session is being removed: nobody cares. */
      if (sup)
        gst_whep_supervisor_child_message (sup, session, message);
      gst_message_unref (message);
      return;
    }
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* --- start / stop --- */

static gboolean
gst_whep_src_start (GstWhepSrc * self)
{
  GstWhepClientConfig client_config = { 0, };
  GstWhepServerKnowledge known;
  g_autofree gchar *endpoint = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GUri) uri = NULL;
  GstWhepSupervisor *sup;
  GstWhepClient *client;

  GST_OBJECT_LOCK (self);
  endpoint = g_strdup (self->endpoint);
  client_config.auth_token = g_strdup (self->auth_token);
  client_config.timeout_ms = MAX (self->timeout_s, 1) * 1000;
  client_config.extra_headers = self->extra_headers ?
      gst_structure_copy (self->extra_headers) : NULL;
  client_config.ssl_strict = self->ssl_strict;
  /* The token and extra-headers go to the endpoint's origin only. */
  client_config.origin = g_strdup (self->endpoint);
  client_config.allow_cross_origin_auth = self->allow_cross_origin_auth;
  client_config.ca_file = g_strdup (self->ssl_ca_file);
  known = self->known;
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
        ("Could not set up TLS for the WHEP client: %s", err->message), (NULL));
    return FALSE;
  }

  sup = gst_whep_supervisor_new (GST_ELEMENT (self), &supervisor_host,
      client, &known);
  g_mutex_lock (&self->run_lock);
  self->supervisor = sup;
  self->client = client;
  g_clear_pointer (&self->last_run_stats, gst_structure_free);
  g_mutex_unlock (&self->run_lock);

  g_object_notify (G_OBJECT (self), "status");
  return TRUE;
}

static void
gst_whep_src_stop (GstWhepSrc * self)
{
  GstWhepServerKnowledge known;
  GstWhepSupervisor *sup;
  GstWhepClient *client;
  GstStructure *stats;

  g_mutex_lock (&self->run_lock);
  sup = self->supervisor ? gst_object_ref (self->supervisor) : NULL;
  client = g_steal_pointer (&self->client);
  g_mutex_unlock (&self->run_lock);
  if (!sup)
    return;

  /* From now on only DELETEs go out, bounded: the POST, PATCHes, the
   * event stream are cancelled, so that nothing the supervisor's teardown
   * may wait for (a POST's answer, a DELETE) outlasts the budget. */
  if (client)
    /* Logged here: every line of the client's own names its session. */
    GST_DEBUG_OBJECT (self, "HTTP client closing: DELETEs only, for %u ms",
        STOP_DELETE_BUDGET_MS);
  gst_whep_client_close_begin (client, STOP_DELETE_BUDGET_MS);

  /* Every session is closed and its DELETE sent. */
  stats = gst_whep_supervisor_stop (sup, &known);
  GST_OBJECT_LOCK (self);
  self->known = known;
  GST_OBJECT_UNLOCK (self);

  if (client) {
    /* The DELETEs (and those of sessions that failed a moment ago) get
     * what is left of the budget; then the client's SoupSession and its
     * connections are closed (the shared HTTP thread is joined when this
     * was the process's last whepsrc). */
    gst_whep_client_close (client);
    g_object_unref (client);
  }

  g_mutex_lock (&self->run_lock);
  gst_clear_object (&self->supervisor);
  if (self->last_run_stats)
    gst_structure_free (self->last_run_stats);
  self->last_run_stats = stats;
  g_mutex_unlock (&self->run_lock);
  gst_object_unref (sup);

  g_object_notify (G_OBJECT (self), "status");
}

static void
follow_base_time (GstWhepSrc * self)
{
  GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
  GList *l;

  /* Sessions already running follow a new base time after a pause. */
  GST_OBJECT_LOCK (self);
  for (l = GST_BIN_CHILDREN (self); l; l = l->next)
    if (GST_IS_WHEP_SESSION (l->data))
      gst_element_set_base_time (l->data, base_time);
  GST_OBJECT_UNLOCK (self);
}

static void
tell_supervisor_playing (GstWhepSrc * self, gboolean playing)
{
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

  if (sup)
    gst_whep_supervisor_set_playing (sup, playing);
}

static GstStateChangeReturn
gst_whep_src_change_state (GstElement * element, GstStateChange transition)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);
  GstStateChangeReturn ret;

  /* The first session of the process would otherwise wait for the whole
   * DTLS key before its offer exists. */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY)
    gst_whep_session_prewarm_dtls ();
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
      tell_supervisor_playing (self, FALSE);
      /* Live source. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* Live source. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      /* Sessions start once the pipeline runs: they need its base time. */
      follow_base_time (self);
      tell_supervisor_playing (self, TRUE);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_whep_src_stop (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_whep_session_prewarm_dtls_join ();
      break;
    default:
      break;
  }
  return ret;
}

/* --- status and statistics: snapshots, never blocking --- */

static GstWhepSrcStatus
current_status (GstWhepSrc * self)
{
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

  return sup ? gst_whep_supervisor_get_status (sup) :
      GST_WHEP_SRC_STATUS_STOPPED;
}

static GstStructure *
build_statistics (GstWhepSrc * self)
{
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);
  GstStructure *s = NULL;
  GstWhepMediaKind kind;
  gdouble longest_hold = 0;

  if (sup) {
    s = gst_whep_supervisor_dup_statistics (sup);
  } else {
    g_mutex_lock (&self->run_lock);
    if (self->last_run_stats)
      s = gst_structure_copy (self->last_run_stats);
    g_mutex_unlock (&self->run_lock);
  }
  if (!s) {
    GstWhepServerKnowledge known;

    GST_OBJECT_LOCK (self);
    known = self->known;
    GST_OBJECT_UNLOCK (self);
    s = gst_whep_supervisor_statistics_before_run (&known);
  }

  /* The outputs keep their own counters. */
  for (kind = GST_WHEP_MEDIA_VIDEO; kind <= GST_WHEP_MEDIA_AUDIO; kind++) {
    g_autoptr (GstElement) sw = dup_output (GST_ELEMENT (self), kind);
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
  return s;
}

/* A property the supervisor acts on while running changed. */
static void
run_settings_changed (GstWhepSrc * self)
{
  g_autoptr (GstWhepSupervisor) sup = dup_supervisor (self);

  if (sup)
    gst_whep_supervisor_settings_changed (sup);
}

/* A new endpoint is another server: what was learnt is forgotten. */
static void
set_endpoint (GstWhepSrc * self, gchar * endpoint)
{
  if (g_strcmp0 (self->endpoint, endpoint) != 0)
    memset (&self->known, 0, sizeof (self->known));
  g_free (self->endpoint);
  self->endpoint = endpoint;
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
      set_endpoint (self, mapped ? mapped : g_value_dup_string (value));
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
    case PROP_ALLOW_CROSS_ORIGIN_AUTH:
      self->allow_cross_origin_auth = g_value_get_boolean (value);
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
    case PROP_FEC:
      self->fec = g_value_get_enum (value);
      break;
    case PROP_ICE_RESTART_TIMEOUT:
      self->ice_restart_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_HOLD_MODE:
      self->hold_mode = g_value_get_enum (value);
      break;
    case PROP_OUTPUT:
      self->output = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  switch (prop_id) {
    case PROP_MAX_RETRIES:
    case PROP_SESSION_LIFETIME:
    case PROP_ROTATION_LEAD:
    case PROP_MEDIA_TIMEOUT:
    case PROP_ICE_RESTART_TIMEOUT:
      run_settings_changed (self);
      break;
    default:
      break;
  }
}

static void
gst_whep_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWhepSrc *self = GST_WHEP_SRC (object);

  switch (prop_id) {
    case PROP_STATUS:
      g_value_set_enum (value, current_status (self));
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
    case PROP_ALLOW_CROSS_ORIGIN_AUTH:
      g_value_set_boolean (value, self->allow_cross_origin_auth);
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
    case PROP_FEC:
      g_value_set_enum (value, self->fec);
      break;
    case PROP_ICE_RESTART_TIMEOUT:
      g_value_set_uint (value, self->ice_restart_timeout_ms);
      break;
    case PROP_HOLD_MODE:
      g_value_set_enum (value, self->hold_mode);
      break;
    case PROP_OUTPUT:
      g_value_set_enum (value, self->output);
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

/* The URI's options (its fragment) applied as properties: any writable
 * property of whepsrc but the endpoint and the token, which the URI itself
 * carries.  Nothing is set unless every option is valid. */
static gboolean
apply_uri_options (GstWhepSrc * self, const GstStructure * options,
    GError ** error)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (self);
  guint i, n = gst_structure_n_fields (options);

  for (i = 0; i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (options, i);
    GParamSpec *pspec = g_object_class_find_property (klass, name);

    if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)
        || (pspec->flags & G_PARAM_CONSTRUCT_ONLY)
        || g_str_equal (pspec->name, "whep-endpoint")
        || g_str_equal (pspec->name, "auth-token")
        || pspec->owner_type != GST_TYPE_WHEP_SRC) {
      g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
          "The URI's option '%s' is not a property whepsrc takes from a URI "
          "(see gst-inspect-1.0 whepsrc)", name);
      return FALSE;
    }
  }
  for (i = 0; i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (options, i);

    /* Strings are parsed as gst-launch-1.0 parses property values. */
    gst_util_set_object_arg (G_OBJECT (self), name,
        gst_structure_get_string (options, name));
  }
  return TRUE;
}

static gboolean
gst_whep_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstWhepSrc *self = GST_WHEP_SRC (handler);
  g_autoptr (GError) err = NULL;
  GstStructure *options = NULL;
  gchar *endpoint = NULL, *token = NULL;
  gboolean ok;

  if (GST_STATE (self) >= GST_STATE_PAUSED) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of whepsrc while it runs is not supported");
    return FALSE;
  }
  if (!gst_whep_uri_split (uri, &endpoint, &token, &options, &err)) {
    /* The URI may hold a token: only the parser's own words. */
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "%s",
        err->message);
    return FALSE;
  }
  ok = options == NULL || apply_uri_options (self, options, error);
  if (options)
    gst_structure_free (options);
  if (!ok) {
    g_free (endpoint);
    g_free (token);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  set_endpoint (self, endpoint);
  if (token) {
    g_free (self->auth_token);
    self->auth_token = token;
  }
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "whep-endpoint");
  if (token)
    g_object_notify (G_OBJECT (self), "auth-token");
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
    gst_clear_object (&self->payloaders[i]);
  }
  if (self->last_run_stats)
    gst_structure_free (self->last_run_stats);
  g_mutex_clear (&self->output_lock);
  g_mutex_clear (&self->choose_lock);
  g_mutex_clear (&self->run_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* EOS from the application (gst-launch-1.0 -e, a recording that ends):
 * the sessions must not see it — inside webrtcbin it would look like a
 * lost session — and every pad ends with EOS once they are closed. */
static gboolean
gst_whep_src_send_event (GstElement * element, GstEvent * event)
{
  GstWhepSrc *self = GST_WHEP_SRC (element);
  GstWhepSupervisor *sup;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (gst_whep_src_parent_class)->send_event (element,
        event);

  gst_event_unref (event);
  g_mutex_lock (&self->run_lock);
  sup = self->supervisor ? gst_object_ref (self->supervisor) : NULL;
  g_mutex_unlock (&self->run_lock);
  if (!sup) {
    GST_DEBUG_OBJECT (self, "EOS while not running: nothing to end");
    return FALSE;
  }
  GST_INFO_OBJECT (self, "EOS from the application");
  gst_whep_supervisor_end_of_stream (sup);
  gst_object_unref (sup);
  return TRUE;
}

/* To the pipeline whepsrc is a source, and only that, whatever its
 * children are: GstBin takes the sink flag from a child (webrtcbin's
 * nicesink) — the pipeline would then wait for an EOS from whepsrc's
 * inside before it posts its own — and drops the source flag with the
 * last source child (a session).  Both are put right after every change. */
static void
keep_source_flags (GstBin * bin)
{
  GST_OBJECT_LOCK (bin);
  GST_OBJECT_FLAG_SET (bin, GST_ELEMENT_FLAG_SOURCE);
  GST_OBJECT_FLAG_UNSET (bin, GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_UNLOCK (bin);
}

static gboolean
gst_whep_src_add_element (GstBin * bin, GstElement * element)
{
  gboolean added = GST_BIN_CLASS (gst_whep_src_parent_class)->add_element
      (bin, element);

  keep_source_flags (bin);
  return added;
}

static gboolean
gst_whep_src_remove_element (GstBin * bin, GstElement * element)
{
  gboolean removed = GST_BIN_CLASS (gst_whep_src_parent_class)->remove_element
      (bin, element);

  keep_source_flags (bin);
  return removed;
}

static void
gst_whep_src_init (GstWhepSrc * self)
{
  g_mutex_init (&self->output_lock);
  g_mutex_init (&self->choose_lock);
  g_mutex_init (&self->run_lock);
  /* A source for the pipeline, sessions or not: an EOS sent to the
   * pipeline reaches the bin's sources only (see remove_element). */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
  self->timeout_s = DEFAULT_TIMEOUT;
  self->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  self->use_link_headers = DEFAULT_USE_LINK_HEADERS;
  self->latency_ms = DEFAULT_LATENCY;
  self->ssl_strict = DEFAULT_SSL_STRICT;
  self->allow_cross_origin_auth = DEFAULT_ALLOW_CROSS_ORIGIN_AUTH;
  self->max_retries = DEFAULT_MAX_RETRIES;
  self->session_lifetime_s = DEFAULT_SESSION_LIFETIME;
  self->rotation_lead_ms = DEFAULT_ROTATION_LEAD;
  self->media_timeout_ms = DEFAULT_MEDIA_TIMEOUT;
  self->hold_mode = DEFAULT_HOLD_MODE;
  self->trickle_ice = DEFAULT_TRICKLE_ICE;
  self->fec = DEFAULT_FEC;
  self->output = DEFAULT_OUTPUT;
  self->ice_restart_timeout_ms = DEFAULT_ICE_RESTART_TIMEOUT;
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

#define CONFIG_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)

static void
gst_whep_src_class_init (GstWhepSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->set_property = gst_whep_src_set_property;
  gobject_class->get_property = gst_whep_src_get_property;
  gobject_class->finalize = gst_whep_src_finalize;
  gobject_class->constructed = gst_whep_src_constructed;
  element_class->change_state = gst_whep_src_change_state;
  element_class->send_event = gst_whep_src_send_event;
  bin_class->handle_message = gst_whep_src_handle_message;
  bin_class->add_element = gst_whep_src_add_element;
  bin_class->remove_element = gst_whep_src_remove_element;

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
   * (e.g. `extra-headers="headers, X-Client=(string)demo"`).  Like the
   * token, they may hold secrets (API keys): they go to the endpoint's
   * origin only, unless #GstWhepSrc:allow-cross-origin-auth is set.
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
   * GstWhepSrc:allow-cross-origin-auth:
   *
   * Send the Authorization header (auth-token) and extra-headers to other
   * origins than the endpoint's (scheme, host and port).  Off, a redirect
   * to another origin is followed without them, and a session URL
   * (Location) on another origin is PATCHed and DELETEd without them, with
   * a warning in the log — as browsers and curl do.  Turn it on for a
   * service whose sessions live on another host that wants the token
   * (e.g. a director that hands out edge URLs).
   */
  g_object_class_install_property (gobject_class,
      PROP_ALLOW_CROSS_ORIGIN_AUTH, g_param_spec_boolean
      ("allow-cross-origin-auth", "Allow cross-origin auth",
          "Send auth-token and extra-headers to other origins than the "
          "endpoint's (redirects, session URLs)",
          DEFAULT_ALLOW_CROSS_ORIGIN_AUTH, CONFIG_FLAGS));
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
   * GstWhepSrc:fec:
   *
   * Forward error correction for video.  "auto" offers ULPFEC (RFC 5109)
   * in RED (RFC 2198) beside the codecs; a server that sends it lets
   * whepsrc rebuild a lost packet from the FEC packets without waiting a
   * round trip for its retransmission (NACK/RTX is always offered as
   * well), and a server that does not know it answers without it.  "off"
   * offers neither, and is the default: measured against a server sending
   * FEC for half of its packets at 5 % loss without retransmission,
   * GStreamer 1.22's ULPFEC decoder let a broken picture through in each
   * run, for a few more intact frames (72–76 % against 68–70 %); with
   * retransmission, which every real server has, FEC adds nothing
   * measurable (bench/loss.sh).
   */
  /**
   * GstWhepSrc:output:
   *
   * What the src pads carry.  "auto" asks downstream when the first
   * session's stream of each kind appears (the pad is exposed then, so an
   * application links it in pad-added): "encoded" when downstream names
   * the stream's codec (matroskamux, mp4mux, a parser or a decoder: a
   * muxer that takes raw media too records without transcoding); else
   * "rtp" when it names application/x-rtp (a depayloader, a capsfilter);
   * else raw — also when it takes anything (decodebin, playbin, fakesink)
   * or is not linked.  The choice stays for the pad's life.
   *
   * Encoded output is parsed (H.264/H.265 in the stream-format downstream
   * asks for); a rotation switches at a key frame of the new session (at
   * any frame when the server sends every session the very same frames),
   * so no frame is lost or shown twice; a hold sends GAP events.  RTP output
   * is payloaded again after the switch: one SSRC, continuous sequence
   * numbers and timestamps across sessions.
   */
  g_object_class_install_property (gobject_class, PROP_OUTPUT,
      g_param_spec_enum ("output", "Output",
          "What the src pads carry: auto (the encoding or RTP where "
          "downstream names it, else raw), raw, encoded (parsed) or rtp",
          GST_TYPE_WHEP_SRC_OUTPUT, DEFAULT_OUTPUT, CONFIG_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_enum ("fec", "FEC",
          "auto: offer ULPFEC in RED for video (used where the server's "
          "answer keeps it); off: no forward error correction",
          GST_TYPE_WHEP_SRC_FEC_MODE, DEFAULT_FEC, CONFIG_FLAGS));
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
   * Counters and timings of the run (from READY→PAUSED on; after stop, the
   * last run's): sessions-created, sessions-failed, retries, rotations,
   * early-losses, ice-restarts, ice-restarts-failed, first-frame-ms,
   * last-setup (per-phase timings of the last session set up),
   * session-lifetime (configured or learnt), rotation-lead-ms,
   * longest-hold-ms, last-error; per kind (video-, audio-) buffers,
   * held-buffers, holds, longest-hold-ms, takeovers; video-freezes,
   * video-freeze-total-ms, video-longest-freeze-ms (waits of more than 3
   * frame intervals between two new pictures); for the session on
   * air session-id, session-state, session-age-s, session-url and
   * candidate-pair (local/remote address, port and type: host, srflx,
   * prflx, relay; refreshed every 2 s); loss repair: packets-lost,
   * retransmission-requests, retransmissions-received,
   * key-frames-requested, frames-dropped (received but not shown: they
   * depended on lost data).  What whepsrc learnt about the
   * server, kept across runs until whep-endpoint changes: server-trickle,
   * server-ice-restart, one-session-only, learned-session-lifetime.
   * Reading it never blocks: it is a snapshot.
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
  gst_element_class_add_static_metadata (element_class,
      GST_ELEMENT_METADATA_DOC_URI, WHEPSRC_DOC_URI);

  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_STATUS, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_HOLD_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_TRICKLE_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_FEC_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHEP_SRC_OUTPUT, 0);
}
