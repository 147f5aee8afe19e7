/* rtp-camera — a live camera that sends ONE encoding over plain RTP/UDP
 * to 127.0.0.1, for the interop servers that relay a single stream to
 * every viewer (werift-server.js, Janus's Streaming plugin).
 *
 *   videotestsrc (live, 30 fps) ! I420 ! [frame counter] ! vp8enc
 *       ! rtpvp8pay pt=96 ! udpsink 127.0.0.1:VIDEO_PORT
 *   audiotestsrc (live) ! opusenc ! rtpopuspay pt=111
 *       ! udpsink 127.0.0.1:AUDIO_PORT                      (--audio-port)
 *
 * The counter of tests/common/framecode.h is drawn into every raw frame
 * before the encoder, so a player can prove that no frame was lost,
 * repeated or reordered on the way through the relay.  VP8 runs in real
 * time (deadline 1), error resilient, at a few hundred kbit/s, with a key
 * frame every --key-interval seconds; an RTCP PLI or FIR arriving on
 * --rtcp-port (or any datagram starting with "KEY") asks for one at once.
 * With --rtcp-peer, an empty RTCP receiver report goes from --rtcp-port to
 * that port every second, so that a relay that sends its feedback to where
 * RTCP came from (Janus's Streaming plugin, videortcpport) finds us.
 *
 * stdout: "LISTENING rtp://127.0.0.1:VIDEO_PORT[ audio=rtp://…]" once the
 * first video packet has left, then nothing but "EVENT key-frame-request"
 * lines.  SIGINT/SIGTERM stop it cleanly; it also dies with its parent.
 *
 * --self-check N sends to a receiver of its own (udpsrc ! rtpvp8depay !
 * vp8dec), reads the counter back from N decoded frames and exits 0 only
 * when all of them were readable and consecutive.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-unix.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "framecode.h"

#define HOST "127.0.0.1"
#define RTP_MTU 1200
#define VIDEO_PT 96
#define AUDIO_PT 111

typedef struct
{
  gint video_port;
  gint audio_port;
  gint rtcp_port;
  gint rtcp_peer;
  gint width;
  gint height;
  gint fps;
  gint bitrate_kbps;
  gint key_interval_s;
  guint video_ssrc;
  guint audio_ssrc;
  gint self_check;
} Options;

typedef struct
{
  Options opts;
  GMainLoop *loop;
  GstElement *sender;
  GstElement *receiver;
  GstElement *encoder;
  GSocket *feedback;
  GstVideoInfo info;
  guint32 frame_counter;        /* video streaming thread only */
  gint announced;               /* atomic */
  gint exit_code;

  /* --self-check, on the receiver's streaming thread */
  GstVideoInfo decoded_info;
  guint decoded;
  guint unreadable;
  guint bad_steps;
  gint64 last_counter;
} Camera;

static GstElement *
make (const gchar * factory, const gchar * name)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL) {
    g_printerr ("rtp-camera: element '%s' is missing\n", factory);
    exit (1);
  }
  return element;
}

static void
link_all (GstElement * first, ...)
{
  va_list args;
  GstElement *prev = first, *next;

  va_start (args, first);
  while ((next = va_arg (args, GstElement *)) != NULL) {
    if (!gst_element_link (prev, next)) {
      g_printerr ("rtp-camera: cannot link %s to %s\n",
          GST_ELEMENT_NAME (prev), GST_ELEMENT_NAME (next));
      exit (1);
    }
    prev = next;
  }
  va_end (args);
}

static GstPadProbeReturn
stamp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Camera *cam = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoFrame frame;
  guint32 counter = cam->frame_counter++ & WHEP_FRAMECODE_MAX;

  buffer = gst_buffer_make_writable (buffer);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  if (!gst_video_frame_map (&frame, &cam->info, buffer, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  whep_framecode_stamp (&frame, counter);
  gst_video_frame_unmap (&frame);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
first_packet_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Camera *cam = user_data;

  if (g_atomic_int_compare_and_exchange (&cam->announced, 0, 1)) {
    if (cam->opts.audio_port > 0)
      g_print ("LISTENING rtp://" HOST ":%d audio=rtp://" HOST ":%d\n",
          cam->opts.video_port, cam->opts.audio_port);
    else
      g_print ("LISTENING rtp://" HOST ":%d\n", cam->opts.video_port);
    fflush (stdout);
  }
  return GST_PAD_PROBE_REMOVE;
}

static void
request_key_frame (Camera * cam, const gchar * why)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (cam->encoder, "src");

  g_print ("EVENT key-frame-request reason=%s\n", why);
  fflush (stdout);
  gst_pad_send_event (pad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
}

/* Whether an RTCP compound packet holds a PLI or a FIR. */
static gboolean
rtcp_asks_key_frame (GstBuffer * buffer)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  gboolean more, asks = FALSE;

  if (!gst_rtcp_buffer_validate_reduced (buffer))
    return FALSE;
  gst_rtcp_buffer_map (buffer, GST_MAP_READ, &rtcp);
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &packet); more;
      more = gst_rtcp_packet_move_to_next (&packet)) {
    GstRTCPType type = gst_rtcp_packet_get_type (&packet);
    GstRTCPFBType fb = gst_rtcp_packet_fb_get_type (&packet);

    if ((type == GST_RTCP_TYPE_PSFB && (fb == GST_RTCP_PSFB_TYPE_PLI
                || fb == GST_RTCP_PSFB_TYPE_FIR))) {
      asks = TRUE;
      break;
    }
  }
  gst_rtcp_buffer_unmap (&rtcp);
  return asks;
}

static gboolean
feedback_cb (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  Camera *cam = user_data;
  guint8 data[1500];
  gssize n;

  while ((n = g_socket_receive (socket, (gchar *) data, sizeof (data), NULL,
              NULL)) > 0) {
    g_autoptr (GstBuffer) buffer = gst_buffer_new_memdup (data, n);

    if (n >= 3 && memcmp (data, "KEY", 3) == 0)
      request_key_frame (cam, "request");
    else if (rtcp_asks_key_frame (buffer))
      request_key_frame (cam, "rtcp");
  }
  return G_SOURCE_CONTINUE;
}

/* An empty RTCP receiver report to --rtcp-peer, from the feedback socket:
 * a relay that learns where to send its PLIs from the RTCP it receives
 * (Janus's Streaming plugin) now knows. */
static gboolean
announce_feedback_cb (gpointer user_data)
{
  Camera *cam = user_data;
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (HOST);
  g_autoptr (GSocketAddress) peer =
      g_inet_socket_address_new (inet, cam->opts.rtcp_peer);
  /* V=2, RC=0, PT=201 (RR), length 1 word, reporter SSRC. */
  const guint8 rr[8] = { 0x80, 201, 0, 1, 0x57, 0x48, 0x45, 0x50 };

  g_socket_send_to (cam->feedback, peer, (const gchar *) rr, sizeof (rr), NULL,
      NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
listen_feedback (Camera * cam, GError ** error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (HOST);
  g_autoptr (GSocketAddress) address =
      g_inet_socket_address_new (inet, cam->opts.rtcp_port);
  GSource *source;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL || !g_socket_bind (socket, address, TRUE, error))
    return FALSE;
  g_socket_set_blocking (socket, FALSE);
  source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (feedback_cb), cam, NULL);
  g_source_attach (source, NULL);
  g_source_unref (source);
  cam->feedback = g_steal_pointer (&socket);
  return TRUE;
}

static void
build_sender (Camera * cam)
{
  Options *o = &cam->opts;
  GstElement *src, *caps, *enc, *pay, *sink;
  g_autoptr (GstCaps) raw = NULL;
  g_autoptr (GstPad) stamp_pad = NULL, sink_pad = NULL;

  cam->sender = gst_pipeline_new ("rtp-camera");
  gst_video_info_set_format (&cam->info, GST_VIDEO_FORMAT_I420, o->width,
      o->height);
  cam->info.fps_n = o->fps;
  cam->info.fps_d = 1;
  raw = gst_video_info_to_caps (&cam->info);

  src = make ("videotestsrc", "camera");
  g_object_set (src, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "ball");
  caps = make ("capsfilter", "camera-caps");
  g_object_set (caps, "caps", raw, NULL);
  enc = make ("vp8enc", "encoder");
  g_object_set (enc, "deadline", (gint64) 1, "cpu-used", 8,
      "lag-in-frames", 0, "keyframe-max-dist", o->fps * o->key_interval_s,
      "target-bitrate", o->bitrate_kbps * 1000, "threads", 1, NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "end-usage", "cbr");
  gst_util_set_object_arg (G_OBJECT (enc), "error-resilient", "default");
  pay = make ("rtpvp8pay", "video-pay");
  g_object_set (pay, "pt", VIDEO_PT, "mtu", RTP_MTU, NULL);
  gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  if (o->video_ssrc != 0)
    g_object_set (pay, "ssrc", o->video_ssrc, NULL);
  sink = make ("udpsink", "video-out");
  g_object_set (sink, "host", HOST, "port", o->video_port, "sync", FALSE,
      "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (cam->sender), src, caps, enc, pay, sink, NULL);
  link_all (src, caps, enc, pay, sink, NULL);
  cam->encoder = enc;

  stamp_pad = gst_element_get_static_pad (caps, "src");
  gst_pad_add_probe (stamp_pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_probe, cam,
      NULL);
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, first_packet_probe, cam, NULL);

  if (o->audio_port > 0) {
    GstElement *asrc, *conv, *res, *acaps, *aenc, *apay, *asink;
    g_autoptr (GstCaps) araw =
        gst_caps_from_string ("audio/x-raw,rate=48000,channels=2");

    asrc = make ("audiotestsrc", "microphone");
    g_object_set (asrc, "is-live", TRUE, "freq", 440.0, "volume", 0.3, NULL);
    conv = make ("audioconvert", NULL);
    res = make ("audioresample", NULL);
    acaps = make ("capsfilter", NULL);
    g_object_set (acaps, "caps", araw, NULL);
    aenc = make ("opusenc", NULL);
    g_object_set (aenc, "bitrate", 64000, NULL);
    apay = make ("rtpopuspay", "audio-pay");
    g_object_set (apay, "pt", AUDIO_PT, "mtu", RTP_MTU, NULL);
    if (o->audio_ssrc != 0)
      g_object_set (apay, "ssrc", o->audio_ssrc, NULL);
    asink = make ("udpsink", "audio-out");
    g_object_set (asink, "host", HOST, "port", o->audio_port, "sync", FALSE,
        "async", FALSE, NULL);
    gst_bin_add_many (GST_BIN (cam->sender), asrc, conv, res, acaps, aenc,
        apay, asink, NULL);
    link_all (asrc, conv, res, acaps, aenc, apay, asink, NULL);
  }
}

/* --self-check: the decoded counters must read back, one after another. */
static GstPadProbeReturn
check_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Camera *cam = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  guint32 counter;

  if (cam->decoded_info.finfo == NULL) {
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

    if (caps == NULL || !gst_video_info_from_caps (&cam->decoded_info, caps))
      return GST_PAD_PROBE_OK;
  }
  cam->decoded++;
  if (!whep_framecode_read_buffer (buffer, &cam->decoded_info, &counter)) {
    cam->unreadable++;
  } else {
    if (cam->last_counter >= 0 && counter != cam->last_counter + 1) {
      g_printerr ("rtp-camera: counter %" G_GINT64_FORMAT " then %u\n",
          cam->last_counter, counter);
      cam->bad_steps++;
    }
    cam->last_counter = counter;
  }
  if (cam->decoded == (guint) cam->opts.self_check)
    g_main_loop_quit (cam->loop);
  return GST_PAD_PROBE_OK;
}

/* Binds the receiver's udpsrc to a free port and returns it. */
static gint
build_receiver (Camera * cam)
{
  GstElement *src, *jb, *depay, *dec, *sink;
  g_autoptr (GstCaps) caps =
      gst_caps_from_string ("application/x-rtp,media=video,"
      "encoding-name=VP8,clock-rate=90000,payload=96");
  g_autoptr (GstPad) pad = NULL;
  gint port = 0;

  cam->receiver = gst_pipeline_new ("receiver");
  src = make ("udpsrc", "check-in");
  g_object_set (src, "address", HOST, "port", 0, "caps", caps, NULL);
  jb = make ("rtpjitterbuffer", NULL);
  g_object_set (jb, "latency", 100, NULL);
  depay = make ("rtpvp8depay", NULL);
  dec = make ("vp8dec", NULL);
  sink = make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (cam->receiver), src, jb, depay, dec, sink, NULL);
  link_all (src, jb, depay, dec, sink, NULL);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, check_probe, cam, NULL);

  /* READY binds the socket. */
  if (gst_element_set_state (cam->receiver, GST_STATE_READY) ==
      GST_STATE_CHANGE_FAILURE)
    return 0;
  g_object_get (src, "port", &port, NULL);
  return port;
}

static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Camera *cam = user_data;
  g_autoptr (GError) error = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("rtp-camera: %s: %s\n", GST_OBJECT_NAME (msg->src),
        error->message);
    cam->exit_code = 1;
    g_main_loop_quit (cam->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
signal_cb (gpointer user_data)
{
  Camera *cam = user_data;

  g_main_loop_quit (cam->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
check_timeout_cb (gpointer user_data)
{
  Camera *cam = user_data;

  g_printerr ("rtp-camera: self-check timed out after %u frames\n",
      cam->decoded);
  cam->exit_code = 1;
  g_main_loop_quit (cam->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Camera cam = { 0, };
  Options *o = &cam.opts;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  GOptionEntry entries[] = {
    {"video-port", 0, 0, G_OPTION_ARG_INT, &o->video_port,
        "UDP port on " HOST " to send VP8 RTP to", "PORT"},
    {"audio-port", 0, 0, G_OPTION_ARG_INT, &o->audio_port,
        "UDP port on " HOST " to send Opus RTP to (none: no audio)", "PORT"},
    {"rtcp-port", 0, 0, G_OPTION_ARG_INT, &o->rtcp_port,
          "UDP port on " HOST " to receive PLI/FIR (key frame requests) on",
        "PORT"},
    {"rtcp-peer", 0, 0, G_OPTION_ARG_INT, &o->rtcp_peer,
          "UDP port on " HOST " to send an RTCP receiver report to every "
          "second from --rtcp-port (so that a relay learns where PLIs go)",
        "PORT"},
    {"width", 0, 0, G_OPTION_ARG_INT, &o->width, "picture width (640)", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &o->height, "picture height (360)",
        "H"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &o->fps, "frames per second (30)", "N"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &o->bitrate_kbps,
        "VP8 bitrate in kbit/s (500)", "KBPS"},
    {"key-interval", 0, 0, G_OPTION_ARG_INT, &o->key_interval_s,
        "seconds between key frames (2)", "S"},
    {"video-ssrc", 0, 0, G_OPTION_ARG_INT, &o->video_ssrc,
        "video SSRC (random)", "SSRC"},
    {"audio-ssrc", 0, 0, G_OPTION_ARG_INT, &o->audio_ssrc,
        "audio SSRC (random)", "SSRC"},
    {"self-check", 0, 0, G_OPTION_ARG_INT, &o->self_check,
          "send to a receiver of its own, read the counter from N frames",
        "N"},
    {NULL}
  };

  o->width = 640;
  o->height = 360;
  o->fps = 30;
  o->bitrate_kbps = 500;
  o->key_interval_s = 2;
  cam.last_counter = -1;

  /* Dies with the process that started it. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);

  context = g_option_context_new ("- a VP8 (+ Opus) RTP camera on " HOST);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("rtp-camera: %s\n", error->message);
    return 2;
  }
  if ((o->video_port <= 0 && o->self_check <= 0) || o->video_port > 65535
      || o->audio_port < 0 || o->audio_port > 65535 || o->rtcp_port < 0
      || o->rtcp_port > 65535 || o->rtcp_peer < 0 || o->rtcp_peer > 65535
      || (o->rtcp_peer > 0 && o->rtcp_port <= 0) || o->fps <= 0
      || o->key_interval_s <= 0 || o->bitrate_kbps <= 0
      || o->width < WHEP_FRAMECODE_MIN_WIDTH
      || o->height < WHEP_FRAMECODE_CELL) {
    g_printerr ("rtp-camera: needs --video-port (or --self-check N), a "
        "picture at least %dx%d and positive rates\n", WHEP_FRAMECODE_MIN_WIDTH,
        WHEP_FRAMECODE_CELL);
    return 2;
  }

  cam.loop = g_main_loop_new (NULL, FALSE);
  if (o->self_check > 0) {
    o->video_port = build_receiver (&cam);
    if (o->video_port <= 0) {
      g_printerr ("rtp-camera: cannot bind the self-check receiver\n");
      return 1;
    }
    gst_bus_add_watch (GST_ELEMENT_BUS (cam.receiver), bus_cb, &cam);
    g_timeout_add_seconds (30, check_timeout_cb, &cam);
  }
  build_sender (&cam);
  gst_bus_add_watch (GST_ELEMENT_BUS (cam.sender), bus_cb, &cam);
  if (o->rtcp_port > 0 && !listen_feedback (&cam, &error)) {
    g_printerr ("rtp-camera: cannot listen on " HOST ":%d: %s\n",
        o->rtcp_port, error->message);
    return 1;
  }
  if (o->rtcp_peer > 0) {
    announce_feedback_cb (&cam);
    g_timeout_add_seconds (1, announce_feedback_cb, &cam);
  }
  g_unix_signal_add (SIGINT, signal_cb, &cam);
  g_unix_signal_add (SIGTERM, signal_cb, &cam);

  if ((cam.receiver != NULL && gst_element_set_state (cam.receiver,
              GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      || gst_element_set_state (cam.sender, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("rtp-camera: cannot start\n");
    return 1;
  }
  g_main_loop_run (cam.loop);

  g_clear_object (&cam.feedback);
  gst_element_set_state (cam.sender, GST_STATE_NULL);
  gst_object_unref (cam.sender);
  if (cam.receiver != NULL) {
    gst_element_set_state (cam.receiver, GST_STATE_NULL);
    gst_object_unref (cam.receiver);
    if (cam.exit_code == 0) {
      g_print ("self-check: %u frames decoded, %u unreadable, %u out of "
          "sequence\n", cam.decoded, cam.unreadable, cam.bad_steps);
      /* The very first frames may precede the first key frame the decoder
       * could use; every later one must read and follow its predecessor. */
      if (cam.decoded < (guint) o->self_check || cam.unreadable > 0
          || cam.bad_steps > 0)
        cam.exit_code = 1;
    }
  }
  g_main_loop_unref (cam.loop);
  return cam.exit_code;
}
