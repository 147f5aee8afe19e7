/* whep-test-server — the shared live source.
 *
 *   videotestsrc (live) ! I420 ! [frame counter] ! encoder [! h26Xparse] ! tee
 *   audiotestsrc (live) ! opusenc ! tee
 *
 * Each tee also feeds a fakesink, so the encoders always run and a new
 * session joins a stream that is already going, as with a real camera.
 * Sessions request a tee pad each (whep_media_request_pad) and hang their
 * own queue and payloader on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "media.h"

#include <gst/video/video.h>

#include "framecode.h"

GST_DEBUG_CATEGORY_STATIC (whep_media_debug);
#define GST_CAT_DEFAULT whep_media_debug

#define VIDEO_BITRATE 1500000   /* bits/s: sharp enough for the counter */
#define AUDIO_BITRATE 64000
#define RTP_MTU 1200
#define KEY_FRAME_INTERVAL_S 2
/* libvpx's VP9 in CBR mode at cpu-used >= 5 skips blocks whose cells
 * merely change pattern, so the player reads stale counters; VBR at the
 * same speed codes every change (checked over 1500 frames). */
#define VPX_CPU_USED 8

/* Built on the main thread and then only read, except @frame_counter,
 * which only the video streaming thread (the stamp probe) touches. */
struct _WhepMedia
{
  GstPipeline *pipeline;
  WhepCodecSet codecs;
  WhepVideoCodec video;
  WhepAudioCodec audio;

  GstElement *video_tee;        /* NULL when not sending video */
  GstElement *video_head;       /* last element before the video tee */
  GstElement *audio_tee;
  GstVideoInfo video_info;      /* raw frames the counter is drawn into */
  guint32 frame_counter;
};

static void
media_debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (whep_media_debug, "whepserver-media", 0,
        "WHEP test server: shared media source");
    g_once_init_leave (&done, 1);
  }
}

static GstElement *
make_element (const gchar * factory, const gchar * name, GError ** error)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "element '%s' is missing", factory);
  return element;
}

/* Adds @n elements to the pipeline and links them in order; on failure
 * the elements not yet added are unreffed. */
static gboolean
add_chain (WhepMedia * media, GstElement ** chain, guint n, GError ** error)
{
  guint i;

  for (i = 0; i < n; i++) {
    if (chain[i] == NULL) {
      for (i = 0; i < n; i++)
        gst_clear_object (&chain[i]);
      return FALSE;
    }
  }
  for (i = 0; i < n; i++)
    gst_bin_add (GST_BIN (media->pipeline), chain[i]);
  for (i = 0; i + 1 < n; i++) {
    if (!gst_element_link (chain[i], chain[i + 1])) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "cannot link %s to %s", GST_ELEMENT_NAME (chain[i]),
          GST_ELEMENT_NAME (chain[i + 1]));
      return FALSE;
    }
  }
  return TRUE;
}

/* Draws the frame number into every raw frame before it is encoded. */
static GstPadProbeReturn
media_stamp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  WhepMedia *media = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoFrame frame;
  guint32 counter = media->frame_counter++ & WHEP_FRAMECODE_MAX;

  buffer = gst_buffer_make_writable (buffer);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;

  if (!gst_video_frame_map (&frame, &media->video_info, buffer, GST_MAP_WRITE)) {
    GST_WARNING_OBJECT (pad, "cannot map frame %u for writing", counter);
    return GST_PAD_PROBE_OK;
  }
  if (!whep_framecode_stamp (&frame, counter))
    GST_LOG_OBJECT (pad, "frame too small for the counter");
  gst_video_frame_unmap (&frame);

  return GST_PAD_PROBE_OK;
}

static GstElement *
make_video_encoder (WhepVideoCodec codec, gint fps, GError ** error)
{
  GstElement *enc = NULL;
  gint key_dist = fps * KEY_FRAME_INTERVAL_S;

  switch (codec) {
    case WHEP_VIDEO_VP8:
    case WHEP_VIDEO_VP9:
      enc = make_element (codec == WHEP_VIDEO_VP8 ? "vp8enc" : "vp9enc",
          "encoder", error);
      if (enc == NULL)
        return NULL;
      /* deadline 1 = "realtime"; no look-ahead, so no added latency. */
      g_object_set (enc, "deadline", (gint64) 1, "cpu-used", VPX_CPU_USED,
          "keyframe-max-dist", key_dist, "lag-in-frames", 0,
          "target-bitrate", VIDEO_BITRATE, NULL);
      gst_util_set_object_arg (G_OBJECT (enc), "end-usage",
          codec == WHEP_VIDEO_VP8 ? "cbr" : "vbr");
      break;
    case WHEP_VIDEO_H264:
      enc = make_element ("x264enc", "encoder", error);
      if (enc == NULL)
        return NULL;
      g_object_set (enc, "key-int-max", (guint) key_dist,
          "bitrate", (guint) (VIDEO_BITRATE / 1000), NULL);
      gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
      gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
      break;
    case WHEP_VIDEO_H265:
      enc = make_element ("x265enc", "encoder", error);
      if (enc == NULL)
        return NULL;
      g_object_set (enc, "key-int-max", key_dist,
          "bitrate", (guint) (VIDEO_BITRATE / 1000), NULL);
      gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
      gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
      break;
    case WHEP_VIDEO_NONE:
    default:
      g_assert_not_reached ();
  }
  return enc;
}

static gboolean
build_video (WhepMedia * media, const WhepServerOptions * opts, GError ** error)
{
  GstElement *chain[8] = { NULL, };
  g_autoptr (GstCaps) raw_caps = NULL;
  g_autoptr (GstPad) stamp_pad = NULL;
  guint n = 0;

  gst_video_info_set_format (&media->video_info, GST_VIDEO_FORMAT_I420,
      opts->width, opts->height);
  media->video_info.fps_n = opts->fps;
  media->video_info.fps_d = 1;
  raw_caps = gst_video_info_to_caps (&media->video_info);

  chain[n] = make_element ("videotestsrc", "camera", error);
  if (chain[n]) {
    g_object_set (chain[n], "is-live", TRUE, NULL);
    gst_util_set_object_arg (G_OBJECT (chain[n]), "pattern", "ball");
  }
  n++;
  chain[n] = make_element ("capsfilter", "camera-caps", error);
  if (chain[n])
    g_object_set (chain[n], "caps", raw_caps, NULL);
  n++;
  chain[n++] = make_video_encoder (opts->video, opts->fps, error);
  if (opts->video == WHEP_VIDEO_H264) {
    g_autoptr (GstCaps) h264_caps =
        gst_caps_from_string ("video/x-h264,profile=constrained-baseline,"
        "stream-format=byte-stream");

    chain[n] = make_element ("capsfilter", "h264-caps", error);
    if (chain[n])
      g_object_set (chain[n], "caps", h264_caps, NULL);
    n++;
    chain[n] = make_element ("h264parse", NULL, error);
    /* SPS/PPS before every key frame: viewers join at any time. */
    if (chain[n])
      g_object_set (chain[n], "config-interval", -1, NULL);
    n++;
  }
  if (opts->video == WHEP_VIDEO_H265) {
    chain[n] = make_element ("h265parse", NULL, error);
    /* VPS/SPS/PPS before every key frame, for the same reason. */
    if (chain[n])
      g_object_set (chain[n], "config-interval", -1, NULL);
    n++;
  }
  chain[n] = make_element ("tee", "video-tee", error);
  if (chain[n])
    g_object_set (chain[n], "allow-not-linked", TRUE, NULL);
  n++;
  chain[n] = make_element ("fakesink", "video-drain", error);
  if (chain[n])
    g_object_set (chain[n], "sync", FALSE, "async", FALSE, NULL);
  n++;

  if (!add_chain (media, chain, n, error))
    return FALSE;

  media->video_head = chain[n - 3];
  media->video_tee = chain[n - 2];
  stamp_pad = gst_element_get_static_pad (chain[1], "src");
  gst_pad_add_probe (stamp_pad, GST_PAD_PROBE_TYPE_BUFFER, media_stamp_probe,
      media, NULL);
  return TRUE;
}

static gboolean
build_audio (WhepMedia * media, GError ** error)
{
  GstElement *chain[7] = { NULL, };
  g_autoptr (GstCaps) raw_caps =
      gst_caps_from_string ("audio/x-raw,rate=48000,channels=2");
  guint n = 0;

  chain[n] = make_element ("audiotestsrc", "microphone", error);
  if (chain[n]) {
    g_object_set (chain[n], "is-live", TRUE, "freq", 440.0, NULL);
    gst_util_set_object_arg (G_OBJECT (chain[n]), "wave", "sine");
  }
  n++;
  chain[n++] = make_element ("audioconvert", NULL, error);
  chain[n++] = make_element ("audioresample", NULL, error);
  chain[n] = make_element ("capsfilter", "microphone-caps", error);
  if (chain[n])
    g_object_set (chain[n], "caps", raw_caps, NULL);
  n++;
  chain[n] = make_element ("opusenc", NULL, error);
  if (chain[n])
    g_object_set (chain[n], "bitrate", AUDIO_BITRATE, NULL);
  n++;
  chain[n] = make_element ("tee", "audio-tee", error);
  if (chain[n])
    g_object_set (chain[n], "allow-not-linked", TRUE, NULL);
  n++;
  chain[n] = make_element ("fakesink", "audio-drain", error);
  if (chain[n])
    g_object_set (chain[n], "sync", FALSE, "async", FALSE, NULL);
  n++;

  if (!add_chain (media, chain, n, error))
    return FALSE;

  media->audio_tee = chain[n - 2];
  return TRUE;
}

WhepMedia *
whep_media_new (const WhepServerOptions * opts, GError ** error)
{
  WhepMedia *media;

  media_debug_init ();

  media = g_new0 (WhepMedia, 1);
  media->pipeline = GST_PIPELINE (gst_object_ref_sink (gst_pipeline_new
          ("whep-test-server")));
  media->video = opts->video;
  media->audio = opts->audio;
  media->codecs.video = whep_video_codec_encoding_name (opts->video);
  media->codecs.audio = whep_audio_codec_encoding_name (opts->audio);

  if (opts->width < WHEP_FRAMECODE_MIN_WIDTH)
    GST_WARNING ("width %d < %d: frames carry no counter", opts->width,
        WHEP_FRAMECODE_MIN_WIDTH);

  if ((opts->video != WHEP_VIDEO_NONE && !build_video (media, opts, error))
      || (opts->audio != WHEP_AUDIO_NONE && !build_audio (media, error))) {
    whep_media_free (media);
    return NULL;
  }

  return media;
}

void
whep_media_free (WhepMedia * media)
{
  if (media == NULL)
    return;

  gst_element_set_state (GST_ELEMENT (media->pipeline), GST_STATE_NULL);
  gst_object_unref (media->pipeline);
  g_free (media);
}

GstPipeline *
whep_media_get_pipeline (WhepMedia * media)
{
  return media->pipeline;
}

const WhepCodecSet *
whep_media_get_codecs (WhepMedia * media)
{
  return &media->codecs;
}

gboolean
whep_media_start (WhepMedia * media, GError ** error)
{
  if (gst_element_set_state (GST_ELEMENT (media->pipeline),
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error_literal (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "cannot start the source pipeline");
    return FALSE;
  }
  return TRUE;
}

void
whep_media_stop (WhepMedia * media)
{
  gst_element_set_state (GST_ELEMENT (media->pipeline), GST_STATE_NULL);
}

static GstElement *
media_tee (WhepMedia * media, WhepMediaKind kind)
{
  switch (kind) {
    case WHEP_KIND_VIDEO:
      return media->video_tee;
    case WHEP_KIND_AUDIO:
      return media->audio_tee;
    case WHEP_KIND_OTHER:
    default:
      return NULL;
  }
}

GstPad *
whep_media_request_pad (WhepMedia * media, WhepMediaKind kind)
{
  GstElement *tee = media_tee (media, kind);

  if (tee == NULL)
    return NULL;
  return gst_element_request_pad_simple (tee, "src_%u");
}

void
whep_media_release_pad (WhepMedia * media, GstPad * pad)
{
  g_autoptr (GstElement) tee = gst_pad_get_parent_element (pad);

  if (tee != NULL)
    gst_element_release_request_pad (tee, pad);
}

void
whep_media_request_key_frame (WhepMedia * media)
{
  g_autoptr (GstPad) pad = NULL;

  if (media->video_head == NULL)
    return;

  pad = gst_element_get_static_pad (media->video_head, "src");
  GST_DEBUG ("requesting a key frame");
  gst_pad_send_event (pad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
}

GstElement *
whep_media_make_payloader (WhepMedia * media, WhepMediaKind kind, gint pt)
{
  const gchar *factory = NULL;
  GstElement *pay;

  if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_VP8)
    factory = "rtpvp8pay";
  else if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_VP9)
    factory = "rtpvp9pay";
  else if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_H264)
    factory = "rtph264pay";
  else if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_H265)
    factory = "rtph265pay";
  else if (kind == WHEP_KIND_AUDIO && media->audio == WHEP_AUDIO_OPUS)
    factory = "rtpopuspay";
  if (factory == NULL)
    return NULL;

  pay = gst_element_factory_make (factory, NULL);
  if (pay == NULL)
    return NULL;

  g_object_set (pay, "pt", (guint) pt, "mtu", (guint) RTP_MTU, NULL);
  if (kind == WHEP_KIND_VIDEO && (media->video == WHEP_VIDEO_VP8
          || media->video == WHEP_VIDEO_VP9))
    gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_H264) {
    g_object_set (pay, "config-interval", -1, NULL);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  }
  if (kind == WHEP_KIND_VIDEO && media->video == WHEP_VIDEO_H265) {
    g_object_set (pay, "config-interval", -1, NULL);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  }
  return pay;
}

GstCaps *
whep_media_make_rtp_caps (WhepMedia * media, WhepMediaKind kind, gint pt)
{
  if (kind == WHEP_KIND_VIDEO && media->codecs.video != NULL)
    return gst_caps_new_simple ("application/x-rtp",
        "media", G_TYPE_STRING, "video",
        "encoding-name", G_TYPE_STRING, media->codecs.video,
        "payload", G_TYPE_INT, pt, "clock-rate", G_TYPE_INT, 90000, NULL);
  if (kind == WHEP_KIND_AUDIO && media->codecs.audio != NULL)
    /* encoding-params makes webrtcbin write OPUS/48000/2, the only form
     * libwebrtc accepts. */
    return gst_caps_new_simple ("application/x-rtp",
        "media", G_TYPE_STRING, "audio",
        "encoding-name", G_TYPE_STRING, media->codecs.audio,
        "payload", G_TYPE_INT, pt, "clock-rate", G_TYPE_INT, 48000,
        "encoding-params", G_TYPE_STRING, "2", NULL);
  return NULL;
}
