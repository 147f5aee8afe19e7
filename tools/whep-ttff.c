/* whep-ttff — time to first frame, one run, for bench/ttff.sh.
 *
 * Three players, each measured from the pipeline's PLAYING to the first
 * picture a clock-synced fakesink renders — what a viewer sees, the
 * jitter buffer's latency included (--no-sync: the first decoded picture,
 * as a recorder sees it):
 *
 *   --mode whepsrc  whepsrc ! fakesink
 *   --mode plain    a WHEP player written the way users write one:
 *                   webrtcbin (one recvonly VP8 transceiver, default latency)
 *                   → decodebin → fakesink; the offer is POSTed once ICE
 *                   gathering is complete, the answer set, the session
 *                   DELETEd at the end
 *   --mode pair     the floor: a sending and a receiving webrtcbin in this
 *                   process, offer, answer and candidates handed over in
 *                   memory (no HTTP, no server), VP8 640x360 at 30 fps
 *
 * --warm-cert makes the process's DTLS certificate before PLAYING (on
 * GStreamer < 1.28 the first DTLS element of a process generates an
 * RSA-2048 key, 0.1–0.9 s) and reports how long that took.
 *
 * --seconds S plays on for S s after the first picture and reads the
 * frame counter the project's test server draws into every picture (see
 * tests/common/framecode.h): what a viewer saw, for bench/loss.sh.
 *
 * Prints one line:  TTFF mode=M ms=T [cert_ms=C]
 * and with --seconds a second one:  PLAY mode=M seconds=S frames=N
 *   expected=E shown=K intact_pct=P unreadable=U backwards=B repeated=R
 *   longest_freeze_ms=F packets_lost=L rtx_requests=Q rtx_received=X
 *   key_frame_requests=K
 * (unreadable: pictures whose counter cannot be read — broken ones;
 * packets_…: the sum over the pipeline's rtpjitterbuffers).
 * Exit status 0 on a frame, 1 on an error, 2 on a timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>
#include <nice/agent.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "framecode.h"

#define VP8_CAPS "application/x-rtp,media=video,encoding-name=VP8," \
  "payload=96,clock-rate=90000"

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  gchar *endpoint;
  gchar *local_address;
  gchar *whepsrc_properties;    /* "name=value …" added to whepsrc */
  gint64 t_playing;
  gint64 t_first;               /* 0 until the first picture */
  gint exit_status;
  gboolean sync;

  /* plain mode */
  GstElement *webrtc;
  gchar *location;              /* the session's URL, to DELETE */
  gboolean posted;
  /* pair mode */
  GstElement *sender;

  /* --seconds: what the viewer saw after the first picture */
  gdouble play_seconds;
  guint timeout_id;
  guint64 frames;
  guint64 shown;                /* pictures with a new counter */
  guint64 unreadable;
  guint64 backwards;
  guint64 repeated;
  gint64 first_counter;         /* -1: none yet */
  gint64 last_counter;
  gint64 last_new_us;
  gint64 longest_freeze_us;
  gint key_frame_requests;      /* plain: force-key-unit events (atomic) */
} Run;

static void
fail (Run * run, gint status, const gchar * what)
{
  g_printerr ("whep-ttff: %s\n", what);
  run->exit_status = status;
  g_main_loop_quit (run->loop);
}

static gboolean
quit_idle (gpointer data)
{
  Run *run = data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
first_frame_idle (gpointer data)
{
  Run *run = data;

  if (run->play_seconds <= 0) {
    g_main_loop_quit (run->loop);
    return G_SOURCE_REMOVE;
  }
  if (run->timeout_id)
    g_source_remove (run->timeout_id);
  run->timeout_id = 0;
  g_timeout_add ((guint) (run->play_seconds * 1000), quit_idle, run);
  return G_SOURCE_REMOVE;
}

/* The streaming thread; the main loop reads the counters after the
 * pipeline stopped. */
static void
count_picture (Run * run, GstBuffer * buffer, GstPad * pad)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  gint64 now = g_get_monotonic_time ();
  GstVideoInfo info;
  guint32 counter;

  run->frames++;
  if (!caps || !gst_video_info_from_caps (&info, caps)
      || !whep_framecode_read_buffer (buffer, &info, &counter)) {
    run->unreadable++;
    return;
  }
  if (run->first_counter < 0)
    run->first_counter = counter;
  if (run->last_counter >= 0 && counter < run->last_counter)
    run->backwards++;
  if (counter == run->last_counter) {
    run->repeated++;
    return;
  }
  if (counter > run->last_counter) {
    run->shown++;
    run->last_counter = counter;
  }
  if (run->last_new_us)
    run->longest_freeze_us = MAX (run->longest_freeze_us,
        now - run->last_new_us);
  run->last_new_us = now;
}

static void
on_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad, Run * run)
{
  if (run->t_first) {
    if (run->play_seconds > 0)
      count_picture (run, buffer, pad);
    return;
  }
  run->t_first = g_get_monotonic_time ();
  g_idle_add (first_frame_idle, run);
}

typedef struct
{
  guint64 lost, asked, came;
} JitterTotals;

static void
add_jitterbuffer (const GValue * item, gpointer data)
{
  GstElement *element = g_value_get_object (item);
  GstElementFactory *factory = gst_element_get_factory (element);
  JitterTotals *totals = data;
  GstStructure *s = NULL;
  guint64 v;

  if (!factory || g_strcmp0 (GST_OBJECT_NAME (factory), "rtpjitterbuffer"))
    return;
  g_object_get (element, "stats", &s, NULL);
  if (!s)
    return;
  if (gst_structure_get_uint64 (s, "num-lost", &v))
    totals->lost += v;
  if (gst_structure_get_uint64 (s, "rtx-count", &v))
    totals->asked += v;
  if (gst_structure_get_uint64 (s, "rtx-success-count", &v))
    totals->came += v;
  gst_structure_free (s);
}

/* whepsrc: its own count (statistics key-frames-requested). */
static guint64
whepsrc_key_frame_requests (Run * run)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (run->pipeline));
  GValue item = G_VALUE_INIT;
  guint64 n = 0;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&item);
    GstElementFactory *factory = gst_element_get_factory (element);
    GstStructure *stats = NULL;

    if (factory && g_str_equal (GST_OBJECT_NAME (factory), "whepsrc")) {
      g_object_get (element, "statistics", &stats, NULL);
      if (stats) {
        gst_structure_get_uint64 (stats, "key-frames-requested", &n);
        gst_structure_free (stats);
      }
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return n;
}

static void
print_play (Run * run, const gchar * mode)
{
  JitterTotals totals = { 0 };
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (run->pipeline));
  guint64 expected = run->first_counter >= 0 ?
      (guint64) (run->last_counter - run->first_counter + 1) : 0;

  while (gst_iterator_foreach (it, add_jitterbuffer, &totals) ==
      GST_ITERATOR_RESYNC) {
    memset (&totals, 0, sizeof totals);
    gst_iterator_resync (it);
  }
  gst_iterator_free (it);
  printf ("PLAY mode=%s seconds=%.0f frames=%" G_GUINT64_FORMAT
      " expected=%" G_GUINT64_FORMAT " shown=%" G_GUINT64_FORMAT
      " intact_pct=%.2f unreadable=%" G_GUINT64_FORMAT " backwards=%"
      G_GUINT64_FORMAT " repeated=%" G_GUINT64_FORMAT
      " longest_freeze_ms=%.0f packets_lost=%" G_GUINT64_FORMAT
      " rtx_requests=%" G_GUINT64_FORMAT " rtx_received=%" G_GUINT64_FORMAT
      " key_frame_requests=%" G_GUINT64_FORMAT "\n", mode, run->play_seconds,
      run->frames, expected, run->shown,
      expected ? 100.0 * run->shown / expected : 0.0, run->unreadable,
      run->backwards, run->repeated, run->longest_freeze_us / 1000.0,
      totals.lost, totals.asked, totals.came, g_str_equal (mode,
          "whepsrc") ? whepsrc_key_frame_requests (run) : (guint64)
      g_atomic_int_get (&run->key_frame_requests));
}

static GstElement *
make_counting_sink (Run * run)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (sink, "sync", run->sync, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), run);
  return sink;
}

/* No UPnP multicast and only the given address: nothing leaves the
 * machine (libnice gathers no loopback candidate by itself). */
static void
restrict_ice (Run * run, GstElement * webrtc)
{
  g_autoptr (GObject) ice = NULL;
  g_autoptr (GObject) agent = NULL;
  NiceAddress addr;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  g_object_get (ice, "agent", &agent, NULL);
  g_object_set (agent, "upnp", FALSE, NULL);
  nice_address_init (&addr);
  if (run->local_address
      && nice_address_set_from_string (&addr, run->local_address))
    nice_agent_add_local_address (NICE_AGENT (agent), &addr);
}

/* Decoded raw video of a webrtcbin's src pad into the counting sink. */
static void
on_decodebin_pad (GstElement * decodebin, GstPad * pad, Run * run)
{
  GstElement *sink = make_counting_sink (run);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (sink, "sink");

  gst_bin_add (GST_BIN (run->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  gst_pad_link (pad, sinkpad);
}

/* plain: key frames the decoding side asks for (rtpbin sends PLI/FIR). */
static GstPadProbeReturn
key_frame_request_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *run = data;

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_inc (&run->key_frame_requests);
  return GST_PAD_PROBE_OK;
}

static void
on_webrtc_pad (GstElement * webrtc, GstPad * pad, Run * run)
{
  GstElement *decodebin;
  g_autoptr (GstPad) sinkpad = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      key_frame_request_probe, run, NULL);
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_decodebin_pad), run);
  gst_bin_add (GST_BIN (run->pipeline), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sinkpad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sinkpad);
}

static void
add_recvonly_vp8 (GstElement * webrtc)
{
  g_autoptr (GstCaps) caps = gst_caps_from_string (VP8_CAPS);
  GstWebRTCRTPTransceiver *trans = NULL;

  g_signal_emit_by_name (webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  gst_clear_object (&trans);
}

static GstWebRTCSessionDescription *
description_from_text (GstWebRTCSDPType type, const gchar * text)
{
  GstSDPMessage *sdp = NULL;

  gst_sdp_message_new_from_text (text, &sdp);
  return sdp ? gst_webrtc_session_description_new (type, sdp) : NULL;
}

/* --- plain: POST after gathering, on a thread of its own (sync soup) --- */

typedef struct
{
  Run *run;
  gchar *offer;
  gchar *answer;
  gchar *error;
} Post;

static gboolean
post_done_idle (gpointer data)
{
  Post *post = data;
  Run *run = post->run;

  if (post->error) {
    fail (run, 1, post->error);
  } else {
    GstWebRTCSessionDescription *answer =
        description_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, post->answer);

    if (!answer)
      fail (run, 1, "the answer is not SDP");
    else {
      g_signal_emit_by_name (run->webrtc, "set-remote-description", answer,
          NULL);
      gst_webrtc_session_description_free (answer);
    }
  }
  g_free (post->offer);
  g_free (post->answer);
  g_free (post->error);
  g_free (post);
  return G_SOURCE_REMOVE;
}

static gpointer
post_thread (gpointer data)
{
  Post *post = data;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", post->run->endpoint);
  g_autoptr (GBytes) body = g_bytes_new (post->offer, strlen (post->offer));
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) err = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  reply = soup_session_send_and_read (session, msg, NULL, &err);
  if (!reply) {
    post->error = g_strdup_printf ("POST: %s", err->message);
  } else if (soup_message_get_status (msg) != SOUP_STATUS_CREATED) {
    post->error = g_strdup_printf ("POST: HTTP %u",
        soup_message_get_status (msg));
  } else {
    const gchar *location =
        soup_message_headers_get_one (soup_message_get_response_headers (msg),
        "Location");
    g_autoptr (GUri) base = g_uri_parse (post->run->endpoint, G_URI_FLAGS_NONE,
        NULL);
    g_autoptr (GUri) uri = location && base ?
        g_uri_parse_relative (base, location, G_URI_FLAGS_NONE, NULL) : NULL;

    post->run->location = uri ? g_uri_to_string (uri) : NULL;
    post->answer = g_strndup (g_bytes_get_data (reply, NULL),
        g_bytes_get_size (reply));
  }
  g_idle_add (post_done_idle, post);
  return NULL;
}

static void
on_gathering_state (GObject * webrtc, GParamSpec * pspec, Run * run)
{
  GstWebRTCICEGatheringState state;
  GstWebRTCSessionDescription *local = NULL;
  Post *post;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || run->posted)
    return;
  g_object_get (webrtc, "local-description", &local, NULL);
  if (!local)
    return;
  run->posted = TRUE;
  post = g_new0 (Post, 1);
  post->run = run;
  post->offer = gst_sdp_message_as_text (local->sdp);
  gst_webrtc_session_description_free (local);
  g_thread_unref (g_thread_new ("post", post_thread, post));
}

static void
on_offer_created (GstPromise * promise, gpointer data)
{
  Run *run = data;
  GstWebRTCSessionDescription *offer = NULL;

  gst_structure_get (gst_promise_get_reply (promise), "offer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  g_signal_emit_by_name (run->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
}

static void
on_negotiation_needed (GstElement * webrtc, Run * run)
{
  g_signal_emit_by_name (webrtc, "create-offer", NULL,
      gst_promise_new_with_change_func (on_offer_created, run, NULL));
}

static void
build_plain (Run * run)
{
  run->pipeline = gst_pipeline_new (NULL);
  run->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_object_set (run->webrtc, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (run->pipeline), run->webrtc);
  restrict_ice (run, run->webrtc);
  add_recvonly_vp8 (run->webrtc);
  g_signal_connect (run->webrtc, "on-negotiation-needed",
      G_CALLBACK (on_negotiation_needed), run);
  g_signal_connect (run->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), run);
  g_signal_connect (run->webrtc, "pad-added", G_CALLBACK (on_webrtc_pad), run);
}

static void
delete_plain_session (Run * run)
{
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) reply = NULL;

  if (!run->location)
    return;
  session = soup_session_new ();
  msg = soup_message_new ("DELETE", run->location);
  if (msg)
    reply = soup_session_send_and_read (session, msg, NULL, NULL);
}

/* --- pair: two webrtcbins in this process --- */

static void
on_pair_candidate (GstElement * webrtc, guint mline, const gchar * candidate,
    GstElement * other)
{
  g_signal_emit_by_name (other, "add-ice-candidate", mline, candidate);
}

static void
on_pair_answer (GstPromise * promise, gpointer data)
{
  Run *run = data;
  GstWebRTCSessionDescription *answer = NULL;

  gst_structure_get (gst_promise_get_reply (promise), "answer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  gst_promise_unref (promise);
  g_signal_emit_by_name (run->sender, "set-local-description", answer, NULL);
  g_signal_emit_by_name (run->webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
}

static void
on_pair_offer (GstPromise * promise, gpointer data)
{
  Run *run = data;
  GstWebRTCSessionDescription *offer = NULL;

  gst_structure_get (gst_promise_get_reply (promise), "offer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  g_signal_emit_by_name (run->webrtc, "set-local-description", offer, NULL);
  g_signal_emit_by_name (run->sender, "set-remote-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  g_signal_emit_by_name (run->sender, "create-answer", NULL,
      gst_promise_new_with_change_func (on_pair_answer, run, NULL));
}

static void
on_pair_negotiation_needed (GstElement * webrtc, Run * run)
{
  g_signal_emit_by_name (webrtc, "create-offer", NULL,
      gst_promise_new_with_change_func (on_pair_offer, run, NULL));
}

static void
build_pair (Run * run, GError ** err)
{
  /* The receiver offers (recvonly), as a WHEP player does. */
  run->pipeline = gst_parse_launch ("videotestsrc is-live=true "
      "! video/x-raw,width=640,height=360,framerate=30/1 "
      "! vp8enc deadline=1 ! rtpvp8pay pt=96 ! " VP8_CAPS
      " ! webrtcbin name=send bundle-policy=max-bundle "
      "webrtcbin name=recv bundle-policy=max-bundle", err);
  if (*err != NULL) {
    gst_clear_object (&run->pipeline);
    return;
  }
  run->sender = gst_bin_get_by_name (GST_BIN (run->pipeline), "send");
  run->webrtc = gst_bin_get_by_name (GST_BIN (run->pipeline), "recv");
  restrict_ice (run, run->sender);
  restrict_ice (run, run->webrtc);
  add_recvonly_vp8 (run->webrtc);
  g_signal_connect (run->webrtc, "on-negotiation-needed",
      G_CALLBACK (on_pair_negotiation_needed), run);
  g_signal_connect (run->sender, "on-ice-candidate",
      G_CALLBACK (on_pair_candidate), run->webrtc);
  g_signal_connect (run->webrtc, "on-ice-candidate",
      G_CALLBACK (on_pair_candidate), run->sender);
  g_signal_connect (run->webrtc, "pad-added", G_CALLBACK (on_webrtc_pad), run);
}

/* --- whepsrc --- */

static void
build_whepsrc (Run * run, GError ** err)
{
  g_autofree gchar *line = g_strdup_printf ("whepsrc whep-endpoint=\"%s\" "
      "%s%s %s ! fakesink name=sink", run->endpoint,
      run->local_address ? "ice-local-addresses=" : "",
      run->local_address ? run->local_address : "",
      run->whepsrc_properties ? run->whepsrc_properties : "");
  g_autoptr (GstElement) sink = NULL;

  /* A missing element is a recoverable parse error: a pipeline comes back
   * without it, so the error decides. */
  run->pipeline = gst_parse_launch (line, err);
  if (*err != NULL) {
    gst_clear_object (&run->pipeline);
    return;
  }
  sink = gst_bin_get_by_name (GST_BIN (run->pipeline), "sink");
  g_object_set (sink, "sync", run->sync, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), run);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Run *run = data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail (run, 1, err->message);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  ((Run *) data)->timeout_id = 0;
  fail (data, 2, "no picture within the time-out");
  return G_SOURCE_REMOVE;
}

/* The process's first DTLS element makes its certificate. */
static gdouble
warm_certificate (void)
{
  gint64 t0 = g_get_monotonic_time ();
  GstElement *dec = gst_element_factory_make ("dtlsdec", NULL);

  gst_clear_object (&dec);
  return (g_get_monotonic_time () - t0) / 1000.0;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *mode = NULL;
  gboolean warm = FALSE, no_sync = FALSE;
  gint timeout_s = 15;
  Run run = { 0 };
  gdouble cert_ms = -1;
  GOptionEntry entries[] = {
    {"mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
        "whepsrc | plain | pair", "MODE"},
    {"endpoint", 'e', 0, G_OPTION_ARG_STRING, &run.endpoint,
        "WHEP endpoint URL (whepsrc, plain)", "URL"},
    {"ice-local-address", 0, 0, G_OPTION_ARG_STRING, &run.local_address,
        "The local address ICE uses", "ADDR"},
    {"whepsrc-properties", 0, 0, G_OPTION_ARG_STRING,
          &run.whepsrc_properties,
        "More whepsrc properties, as in gst-launch-1.0", "\"NAME=VALUE …\""},
    {"warm-cert", 0, 0, G_OPTION_ARG_NONE, &warm,
        "Make the DTLS certificate before PLAYING", NULL},
    {"no-sync", 0, 0, G_OPTION_ARG_NONE, &no_sync,
        "Measure the first decoded picture (sink not synced)", NULL},
    {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after S s", "S"},
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &run.play_seconds,
        "Play on for S s after the first picture and report it", "S"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— time to first "
      "frame of one WHEP player");
  g_autoptr (GError) err = NULL;
  g_autoptr (GstBus) bus = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !mode
      || (g_strcmp0 (mode, "pair") != 0 && !run.endpoint)) {
    g_printerr ("whep-ttff: %s\n", err ? err->message :
        "--mode is needed, and --endpoint except for pair");
    return 1;
  }
  run.sync = !no_sync;
  run.loop = g_main_loop_new (NULL, FALSE);
  if (warm)
    cert_ms = warm_certificate ();

  if (g_str_equal (mode, "whepsrc"))
    build_whepsrc (&run, &err);
  else if (g_str_equal (mode, "plain"))
    build_plain (&run);
  else if (g_str_equal (mode, "pair"))
    build_pair (&run, &err);
  if (!run.pipeline) {
    g_printerr ("whep-ttff: %s\n", err ? err->message : "unknown mode");
    return 1;
  }

  bus = gst_element_get_bus (run.pipeline);
  gst_bus_add_watch (bus, on_bus, &run);
  run.first_counter = run.last_counter = -1;
  run.timeout_id = g_timeout_add_seconds (timeout_s, on_timeout, &run);
  run.t_playing = g_get_monotonic_time ();
  gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (run.loop);

  if (run.t_first) {
    printf ("TTFF mode=%s sync=%d ms=%.1f", mode, run.sync,
        (run.t_first - run.t_playing) / 1000.0);
    if (cert_ms >= 0)
      printf (" cert_ms=%.1f", cert_ms);
    printf ("\n");
  }
  if (run.t_first && run.play_seconds > 0)
    print_play (&run, mode);
  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  delete_plain_session (&run);
  gst_bus_remove_watch (bus);
  gst_clear_object (&run.sender);
  if (g_str_equal (mode, "pair"))
    gst_clear_object (&run.webrtc);
  gst_object_unref (run.pipeline);
  g_main_loop_unref (run.loop);
  g_free (run.location);
  return run.t_first ? 0 : (run.exit_status ? run.exit_status : 1);
}
