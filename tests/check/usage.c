/* whepsrc tests — the ways GStreamer users run an element, against the
 * project's WHEP test server: playbin, playbin3, uridecodebin and
 * gst-discoverer with a whep:// URI (options in the URI), an EOS from the
 * application, encoded and RTP output chosen by what follows whepsrc,
 * and gst-launch-1.0 -e recording (transcoded to MP4; VP8 to Matroska and
 * H.264 to MP4 without transcoding) to files that are then read back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "harness.h"
#include "framecode.h"

#include <gst/pbutils/pbutils.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* whep://127.0.0.1:PORT/whep/cam, with whepsrc's loopback ICE as a URI
 * option (the fragment) and @extra options after it. */
static gchar *
whep_uri (TestServer * server, const gchar * extra)
{
  const gchar *rest = server->endpoint + strlen ("http://");

  return g_strdup_printf ("whep://%s#ice-local-addresses=127.0.0.1&timeout=5"
      "%s%s", rest, extra ? "&" : "", extra ? extra : "");
}

/* --- an EOS from the application --- */

static GstMessage *
wait_for_eos (Player * p, guint timeout_ms)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (p->pipeline);

  return gst_bus_timed_pop_filtered (bus, scaled (timeout_ms) * GST_MSECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
}

/* The recording case: EOS sent to the pipeline ends every pad with EOS
 * (the pipeline posts EOS), the session is DELETEd before the application
 * even stops, and nothing starts again. */
GST_START_TEST (test_eos_from_the_application_ends_every_pad)
{
  TestServer *server = server_start ("--audio", "opus", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *msg;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  fail_unless_equals_int (p->pads->len, 2);
  fail_unless (gst_element_send_event (p->pipeline, gst_event_new_eos ()));
  msg = wait_for_eos (p, 5000);
  fail_unless (msg != NULL, "no EOS from the pipeline within 5 s");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 2);
  g_mutex_unlock (&p->lock);
  fail_unless (server_wait (server, "EVENT deleted", 1, 3000),
      "the session was not DELETEd at the end of the stream");
  player_run (p, status_is, GINT_TO_POINTER (status_value ("ended")), 2000);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("ended"))));
  /* Nothing starts again while the pipeline stays in PLAYING. */
  g_usleep (G_USEC_PER_SEC);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

/* EOS before anything played (the answer still on its way): the pipeline
 * ends at once on a pad that carries only the end, and the session the
 * server makes meanwhile is DELETEd once the application stops. */
GST_START_TEST (test_eos_before_the_first_frame_ends_at_once)
{
  TestServer *server = server_start ("--answer-delay", "1500", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *msg;

  player_run (p, NULL, NULL, 300);
  fail_unless (gst_element_send_event (p->pipeline, gst_event_new_eos ()));
  msg = wait_for_eos (p, 3000);
  fail_unless (msg != NULL, "no EOS from the pipeline within 3 s");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless_equals_int (p->pads->len, 1);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  g_usleep (2 * G_USEC_PER_SEC);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

/* --- no-more-pads --- */

typedef struct
{
  Player *p;
  gint signals;                 /* atomic */
  gint pads_at_first;           /* pads exposed at the first signal */
} PadsWatch;

static void
no_more_pads_cb (GstElement * src, PadsWatch * w)
{
  if (g_atomic_int_add (&w->signals, 1) == 0) {
    g_mutex_lock (&w->p->lock);
    w->pads_at_first = w->p->pads->len;
    g_mutex_unlock (&w->p->lock);
  }
}

/* Once per run, when the first session's streams (video and audio here)
 * all have their pad: decodebin, playbin and gst-discoverer wait for it.
 * Rotations add no pad and say nothing more. */
GST_START_TEST (test_no_more_pads_once_every_stream_has_its_pad)
{
  TestServer *server = server_start ("--audio", "opus", "--session-limit",
      "3", NULL);
  Player *p = player_new (server->endpoint);
  PadsWatch w = { p, 0, 0 };

  g_signal_connect (p->src, "no-more-pads", G_CALLBACK (no_more_pads_cb), &w);
  g_object_set (p->src, "session-lifetime", 3, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (2), 20000);
  fail_unless_equals_int (p->pads->len, 2);
  fail_unless_equals_int (g_atomic_int_get (&w.signals), 1);
  fail_unless_equals_int (w.pads_at_first, 2);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* --- playbin, playbin3, uridecodebin --- */

typedef struct
{
  GMutex lock;
  guint video;
  guint audio;
} Counts;

static void
count_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    guint * counter)
{
  g_atomic_int_inc ((gint *) counter);
}

static GstElement *
counting_sink (guint * counter)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (sink, "sync", TRUE, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (count_handoff), counter);
  return sink;
}

/* Runs @pipeline until both counters reach @frames / @audio (or an error,
 * or the timeout), then stops it.  Returns the error, if any. */
static gchar *
play_until (GstElement * pipeline, guint * video, guint * audio,
    guint frames, guint audio_buffers, guint timeout_ms)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gint64 end = g_get_monotonic_time () + scaled (timeout_ms) * 1000;
  gchar *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (g_get_monotonic_time () < end && error == NULL
      && (g_atomic_int_get ((gint *) video) < (gint) frames
          || g_atomic_int_get ((gint *) audio) < (gint) audio_buffers)) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_MSECOND,
        GST_MESSAGE_ERROR);

    if (msg) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      error = g_strdup (err->message);
      g_error_free (err);
      gst_message_unref (msg);
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return error;
}

static void
check_playbin (const gchar * factory)
{
  TestServer *server = server_start ("--audio", "opus", NULL);
  g_autofree gchar *uri = whep_uri (server, NULL);
  GstElement *playbin = gst_element_factory_make (factory, NULL);
  guint video = 0, audio = 0;
  g_autofree gchar *error = NULL;

  fail_unless (playbin != NULL, "no %s", factory);
  g_object_set (playbin, "uri", uri, "video-sink", counting_sink (&video),
      "audio-sink", counting_sink (&audio), NULL);
  error = play_until (playbin, &video, &audio, 30, 25, 15000);
  fail_unless (error == NULL, "%s: %s", factory, error);
  fail_unless (video >= 30 && audio >= 25, "%s: %u frames and %u audio "
      "buffers reached the sinks", factory, video, audio);
  gst_object_unref (playbin);
  server_assert_no_leak (server);
  server_stop (server);
}

/* playbin waits for no-more-pads before it links anything. */
GST_START_TEST (test_playbin_plays_a_whep_uri)
{
  check_playbin ("playbin");
}

GST_END_TEST;

GST_START_TEST (test_playbin3_plays_a_whep_uri)
{
  check_playbin ("playbin3");
}

GST_END_TEST;

static void
uridecodebin_pad_added (GstElement * decodebin, GstPad * pad, guint * counts)
{
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  gboolean video = g_str_has_prefix (gst_structure_get_name
      (gst_caps_get_structure (caps, 0)), "video/");
  GstElement *pipeline = GST_ELEMENT (gst_element_get_parent (decodebin));
  GstElement *sink = counting_sink (&counts[video ? 0 : 1]);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_uridecodebin_plays_a_whep_uri)
{
  TestServer *server = server_start ("--audio", "opus", NULL);
  g_autofree gchar *uri = whep_uri (server, NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *dec = gst_element_factory_make ("uridecodebin", NULL);
  guint counts[2] = { 0, 0 };
  g_autofree gchar *error = NULL;

  g_object_set (dec, "uri", uri, NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (uridecodebin_pad_added),
      counts);
  gst_bin_add (GST_BIN (pipeline), dec);
  error = play_until (pipeline, &counts[0], &counts[1], 30, 25, 15000);
  fail_unless (error == NULL, "%s", error);
  fail_unless (counts[0] >= 30 && counts[1] >= 25, "%u frames, %u audio "
      "buffers", counts[0], counts[1]);
  gst_object_unref (pipeline);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

/* The token travels in the URI's user-info: the server sees it as a
 * bearer token, the endpoint property does not hold it. */
GST_START_TEST (test_playbin_token_in_the_uri)
{
  TestServer *server = server_start ("--token", "s3cr3t", NULL);
  const gchar *rest = server->endpoint + strlen ("http://");
  g_autofree gchar *uri = g_strdup_printf ("whep://s3cr3t@%s"
      "#ice-local-addresses=127.0.0.1", rest);
  GstElement *playbin = gst_element_factory_make ("playbin", NULL);
  guint video = 0, audio = 0;
  g_autofree gchar *error = NULL;

  g_object_set (playbin, "uri", uri, "video-sink", counting_sink (&video),
      "audio-sink", counting_sink (&audio), NULL);
  error = play_until (playbin, &video, &audio, 30, 0, 15000);
  fail_unless (error == NULL, "%s", error);
  fail_unless (video >= 30, "%u frames", video);
  gst_object_unref (playbin);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

/* --- gst-play-1.0 --- */

/* The README's gst-play-1.0 line, with the loopback option in the URI:
 * the pictures reach its video sink (fakesink's chain messages, printed by
 * -v), from one session. */
GST_START_TEST (test_gst_play_plays_a_whep_uri)
{
  TestServer *server = server_start (NULL);
  g_autofree gchar *uri = whep_uri (server, NULL);
  g_autofree gchar *play = g_find_program_in_path ("gst-play-1.0");
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  gint64 end = g_get_monotonic_time () + scaled (15000) * 1000;
  guint chains = 0;
  gchar *line;

  fail_unless (play != NULL, "no gst-play-1.0 (Debian: "
      "gstreamer1.0-plugins-base-apps; scripts/install-deps.sh installs it)");
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err, play, "-v", "--videosink",
      "fakesink silent=false", "--audiosink", "fakesink", uri, NULL);
  fail_unless (proc != NULL, "%s", err ? err->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  while (chains < 30 && g_get_monotonic_time () < end
      && (line = g_data_input_stream_read_line (out, NULL, NULL, NULL))) {
    if (strstr (line, "chain"))
      chains++;
    g_free (line);
  }
  fail_unless (chains >= 30, "only %u buffers reached gst-play's sink", chains);
  /* gst-play-1.0 has no clean way out without a terminal (it quits on 'q'
   * or at EOS; a signal kills it before any clean-up): the session it
   * leaves is the server's to expire, as with any killed player. */
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  server_stop (server);
}

GST_END_TEST;

/* --- gst-discoverer --- */

static gboolean
discover (const gchar * uri, GstDiscovererInfo ** out)
{
  g_autoptr (GError) err = NULL;
  GstDiscoverer *d = gst_discoverer_new (scaled (15000) * GST_MSECOND, &err);

  fail_unless (d != NULL, "%s", err ? err->message : "no discoverer");
  *out = gst_discoverer_discover_uri (d, uri, &err);
  g_object_unref (d);
  return *out != NULL && gst_discoverer_info_get_result (*out) ==
      GST_DISCOVERER_OK;
}

/* gst-discoverer (the library) finds the stream's video and audio. */
GST_START_TEST (test_discoverer_reads_a_whep_uri)
{
  TestServer *server = server_start ("--audio", "opus", NULL);
  g_autofree gchar *uri = whep_uri (server, NULL);
  GstDiscovererInfo *info = NULL;
  GList *video, *audio;

  fail_unless (discover (uri, &info), "discoverer result %d",
      info ? (gint) gst_discoverer_info_get_result (info) : -1);
  video = gst_discoverer_info_get_video_streams (info);
  audio = gst_discoverer_info_get_audio_streams (info);
  fail_unless_equals_int (g_list_length (video), 1);
  fail_unless_equals_int (g_list_length (audio), 1);
  fail_unless (gst_discoverer_video_info_get_width (video->data) > 0);
  gst_discoverer_stream_info_list_free (video);
  gst_discoverer_stream_info_list_free (audio);
  gst_discoverer_info_unref (info);
  g_usleep (G_USEC_PER_SEC / 2);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

/* --- gst-launch-1.0 -e … ! mp4mux --- */

/* Ctrl-C to a `gst-launch-1.0 -e`: with -e it sends EOS, the muxer
 * finishes the file, and gst-launch must end by itself (within 10 s) with
 * status 0. */
static void
interrupt_gst_launch (GSubprocess * launch)
{
  gint64 end;

  g_subprocess_send_signal (launch, SIGINT);
  end = g_get_monotonic_time () + scaled (10000) * 1000;
  while (g_subprocess_get_identifier (launch) != NULL
      && g_get_monotonic_time () < end) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (50 * 1000);
  }
  if (g_subprocess_get_identifier (launch) != NULL) {
    g_subprocess_force_exit (launch);
    fail ("gst-launch-1.0 -e did not end within 10 s of Ctrl-C");
  }
  fail_unless (g_subprocess_get_if_exited (launch)
      && g_subprocess_get_exit_status (launch) == 0, "gst-launch-1.0 failed");
}

/* The recording @file_uri plays (gst-discoverer), lasts more than a
 * second and has one video stream, whose caps are returned. */
static gchar *
discover_recording (const gchar * file_uri)
{
  GstDiscovererInfo *info = NULL;
  GList *video;
  gchar *caps;

  fail_unless (discover (file_uri, &info), "the recording does not play "
      "(discoverer result %d)", info ? (gint)
      gst_discoverer_info_get_result (info) : -1);
  fail_unless (gst_discoverer_info_get_duration (info) > GST_SECOND,
      "the recording lasts %" GST_TIME_FORMAT,
      GST_TIME_ARGS (gst_discoverer_info_get_duration (info)));
  video = gst_discoverer_info_get_video_streams (info);
  fail_unless_equals_int (g_list_length (video), 1);
  caps = gst_caps_to_string (gst_discoverer_stream_info_get_caps (video->data));
  gst_discoverer_stream_info_list_free (video);
  gst_discoverer_info_unref (info);
  return caps;
}

/* gst-inspect-1.0 creates the element, prints it and exits at once: ten
 * times in a row, each exits 0 with the whole page.  (A thread started at
 * the element's creation once made it crash in OpenSSL's exit handlers,
 * four runs in ten.) */
GST_START_TEST (test_gst_inspect_exits_cleanly)
{
  g_autofree gchar *inspect = g_find_program_in_path ("gst-inspect-1.0");
  guint i;

  fail_unless (inspect != NULL, "no gst-inspect-1.0 (Debian: "
      "gstreamer1.0-tools; scripts/install-deps.sh installs it)");
  for (i = 0; i < 10; i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GSubprocess) proc = NULL;
    g_autofree gchar *out = NULL;

    proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
        G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err, inspect, "whepsrc", NULL);
    fail_unless (proc != NULL, "%s", err ? err->message : "");
    fail_unless (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL,
            &err), "%s", err ? err->message : "");
    fail_unless (g_subprocess_get_if_exited (proc)
        && g_subprocess_get_exit_status (proc) == 0,
        "run %u: gst-inspect-1.0 whepsrc did not exit 0 (%s %d)", i + 1,
        g_subprocess_get_if_signaled (proc) ? "signal" : "status",
        g_subprocess_get_if_signaled (proc) ?
        g_subprocess_get_term_sig (proc) : g_subprocess_get_status (proc));
    fail_unless (strstr (out, "whep-endpoint") && strstr (out, "wheps"),
        "run %u: the page lacks the properties or URI schemes", i + 1);
  }
}

GST_END_TEST;

/* The README's recording line: SIGINT (Ctrl-C) with -e sends EOS, the
 * muxer finishes the file, gst-launch exits by itself, the session is
 * DELETEd, and the file plays back (discovered: a video stream of more
 * than a second). */
GST_START_TEST (test_gst_launch_eos_writes_a_playable_mp4)
{
  TestServer *server = server_start (NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("whep-mp4-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "rec.mp4", NULL);
  g_autofree gchar *location = g_strdup_printf ("location=%s", file);
  g_autofree gchar *endpoint = g_strdup_printf ("whep-endpoint=%s",
      server->endpoint);
  g_autofree gchar *file_uri = gst_filename_to_uri (file, NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocess) launch = NULL;
  g_autofree gchar *caps = NULL;

  launch = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &err,
      "gst-launch-1.0", "-e", "whepsrc", endpoint,
      "ice-local-addresses=127.0.0.1", "!", "queue", "!", "videoconvert", "!",
      "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "!", "mp4mux",
      "!", "filesink", location, NULL);
  fail_unless (launch != NULL, "%s", err ? err->message : "");
  fail_unless (server_wait (server, "EVENT connected", 1, 15000),
      "gst-launch-1.0 did not connect");
  g_usleep (3 * G_USEC_PER_SEC);
  interrupt_gst_launch (launch);
  server_assert_no_leak (server);

  caps = discover_recording (file_uri);
  fail_unless (g_str_has_prefix (caps, "video/x-h264"), "recorded %s", caps);
  g_unlink (file);
  g_rmdir (dir);
  server_stop (server);
}

GST_END_TEST;

/* --- encoded and RTP output --- */

/* The picture counters of what was played: no hole, no repeat, nothing
 * unreadable (a broken picture), one stream. */
static void
assert_frames_exact (Player * p)
{
  g_mutex_lock (&p->lock);
  fail_unless (p->counted > 0, "no picture decoded");
  fail_unless_equals_int (p->unreadable, 0);
  player_check_frames_exact_locked (p, TRUE);
  fail_unless_equals_int (p->backwards, 0);
  fail_if (p->pts_backwards);
  fail_unless_equals_int (p->eos_events, 0);
  fail_unless_equals_int (p->flush_events, 0);
  fail_unless_equals_int (p->stream_starts[0], 1);
  g_mutex_unlock (&p->lock);
}

/* The media type whepsrc's pad @name carries now. */
static gchar *
src_pad_media_type (Player * p, const gchar * name)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (p->src, name);
  g_autoptr (GstCaps) caps = pad ? gst_pad_get_current_caps (pad) : NULL;

  if (!caps)
    return g_strdup ("(none)");
  return g_strdup (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
}

/* Three rotations with @video_chain / @audio_chain after whepsrc's pads
 * (what they name decides the output: "auto"); every picture decoded
 * after them is the next one. */
static void
rotate_through (const gchar * video_chain, const gchar * audio_chain,
    const gchar * video_type, const gchar * audio_type)
{
  TestServer *server = server_start ("--session-limit", "4", "--audio",
      "opus", NULL);
  Player *p = player_new (server->endpoint);
  g_autofree gchar *vtype = NULL, *atype = NULL;
  guint audio_before;

  p->video_chain = video_chain;
  p->audio_chain = audio_chain;
  g_object_set (p->src, "session-lifetime", 4, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (1), 30000);
  audio_before = player_audio_buffers (p);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 30000);
  vtype = src_pad_media_type (p, "video_0");
  atype = src_pad_media_type (p, "audio_0");
  fail_unless_equals_string (vtype, video_type);
  fail_unless_equals_string (atype, audio_type);
  fail_unless (player_audio_buffers (p) > audio_before + 50);
  assert_frames_exact (p);
  /* The test server sends every session the very same frames: each
   * takeover found them and switched at a frame, not at a key frame. */
  fail_unless (stats_uint64 (p, "video-takeovers-by-content") >= 2,
      "takeovers by content: %" G_GUINT64_FORMAT,
      stats_uint64 (p, "video-takeovers-by-content"));
  g_mutex_lock (&p->lock);
  g_printerr ("%s: %u pictures, largest audio gap/overlap %.1f ms\n",
      video_type, p->counted, p->audio_max_jump / 1e6);
  /* No click: encoded Opus has no durations; the switch measures them,
   * and continues the sound exactly, as for raw audio (a matter of time:
   * see realtime_checks()). */
  fail_unless (!realtime_checks () || p->audio_max_jump < 2 * GST_MSECOND,
      "audio gap/overlap of %.1f ms", p->audio_max_jump / 1e6);
  g_mutex_unlock (&p->lock);
  stop_and_check_no_leak (server, p);
}

/* A decoder after whepsrc names the codec: whepsrc gives it the encoded
 * stream, and rotations lose and repeat no frame. */
GST_START_TEST (test_encoded_output_rotates_frame_exactly)
{
  rotate_through ("vp8dec", "opusdec", "video/x-vp8", "audio/x-opus");
}

GST_END_TEST;

/* A depayloader after whepsrc names RTP: one RTP stream across the
 * rotations, every picture in it. */
GST_START_TEST (test_rtp_output_rotates_frame_exactly)
{
  rotate_through ("rtpvp8depay ! vp8dec", "rtpopusdepay ! opusdec",
      "application/x-rtp", "application/x-rtp");
}

GST_END_TEST;

/* Raw stays what a sink that takes anything gets; the property forces
 * encoded output there. */
GST_START_TEST (test_output_property_forces_encoded)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  g_autofree gchar *vtype = NULL;

  g_object_set (p->src, "output", 2 /* encoded */ , NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (10), 15000);
  vtype = src_pad_media_type (p, "video_0");
  fail_unless_equals_string (vtype, "video/x-vp8");
  stop_and_check_no_leak (server, p);

  server = server_start (NULL);
  p = player_new (server->endpoint);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (10), 15000);
  g_free (vtype);
  vtype = src_pad_media_type (p, "video_0");
  fail_unless_equals_string (vtype, "video/x-raw");
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* A session killed with encoded output: no picture to repeat, so the hold
 * sends GAP events; the next session starts at a key frame (no broken
 * picture). */
GST_START_TEST (test_encoded_output_holds_with_gap_events)
{
  TestServer *server = server_start ("--kill-after", "3", NULL);
  Player *p = player_new (server->endpoint);
  guint frames;

  p->video_chain = "vp8dec";
  g_object_set (p->src, "media-timeout", 800, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 15000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  g_mutex_lock (&p->lock);
  fail_unless (p->gap_events[0] > 0, "no GAP event while holding");
  fail_unless_equals_int (p->unreadable, 0);
  fail_unless_equals_int (p->repeats, 0);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* Reads a recording back: its pictures' counters, in order. */
typedef struct
{
  guint pictures, unreadable, gaps, repeats;
  gint64 last;
} Readback;

static GstPadProbeReturn
readback_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Readback *r = data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  guint32 counter;

  if (!caps || !gst_video_info_from_caps (&vinfo, caps))
    return GST_PAD_PROBE_OK;
  r->pictures++;
  if (!whep_framecode_read_buffer (GST_PAD_PROBE_INFO_BUFFER (info), &vinfo,
          &counter)) {
    r->unreadable++;
    return GST_PAD_PROBE_OK;
  }
  if (r->last >= 0 && counter == r->last)
    r->repeats++;
  else if (r->last >= 0 && counter > r->last + 1)
    r->gaps += counter - r->last - 1;
  r->last = counter;
  return GST_PAD_PROBE_OK;
}

static void
read_back (const gchar * file, Readback * r)
{
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "decodebin ! video/x-raw ! fakesink name=sink sync=false", file);
  g_autoptr (GError) err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstMessage *msg;

  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  memset (r, 0, sizeof (*r));
  r->last = -1;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, readback_probe, r, NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "the recording does not play to its end");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* gst-launch-1.0 -e whepsrc … ! @chain ! filesink (@chain: the launch
 * line's words, NULL-terminated) through two rotations, then Ctrl-C: the
 * file plays, with @codec video, and holds every picture of those seconds
 * once, in order. */
static void
record_without_transcoding (const gchar * server_video,
    const gchar * const *chain, const gchar * file_name,
    const gchar * codec_fragment)
{
  TestServer *server = server_start ("--video", server_video,
      "--session-limit", "3", NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("whep-rec-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, file_name, NULL);
  g_autofree gchar *location = g_strdup_printf ("location=%s", file);
  g_autofree gchar *endpoint = g_strdup_printf ("whep-endpoint=%s",
      server->endpoint);
  g_autofree gchar *file_uri = gst_filename_to_uri (file, NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocess) launch = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *caps = NULL;
  Readback r;

  g_ptr_array_add (argv, (gpointer) "gst-launch-1.0");
  g_ptr_array_add (argv, (gpointer) "-e");
  g_ptr_array_add (argv, (gpointer) "whepsrc");
  g_ptr_array_add (argv, endpoint);
  g_ptr_array_add (argv, (gpointer) "ice-local-addresses=127.0.0.1");
  g_ptr_array_add (argv, (gpointer) "session-lifetime=3");
  for (; *chain; chain++) {
    g_ptr_array_add (argv, (gpointer) "!");
    g_ptr_array_add (argv, (gpointer) * chain);
  }
  g_ptr_array_add (argv, (gpointer) "!");
  g_ptr_array_add (argv, (gpointer) "filesink");
  g_ptr_array_add (argv, location);
  g_ptr_array_add (argv, NULL);
  launch = g_subprocess_newv ((const gchar * const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &err);
  fail_unless (launch != NULL, "%s", err ? err->message : "");
  fail_unless (server_wait (server, "EVENT connected", 1, 15000),
      "gst-launch-1.0 did not connect");
  /* Two rotations done: two sessions DELETEd after their successors took
   * over. */
  fail_unless (server_wait (server, "EVENT deleted", 2, 15000), "no rotation");
  g_usleep (G_USEC_PER_SEC);
  interrupt_gst_launch (launch);
  server_assert_no_leak (server);

  caps = discover_recording (file_uri);
  fail_unless (strstr (caps, codec_fragment) != NULL, "recorded %s", caps);

  read_back (file, &r);
  g_printerr ("%s: %u pictures read back, %u unreadable, %u missing, "
      "%u repeated\n", file_name, r.pictures, r.unreadable, r.gaps, r.repeats);
  fail_unless (r.pictures > 90, "only %u pictures", r.pictures);
  fail_unless_equals_int (r.unreadable, 0);
  fail_unless_equals_int (r.gaps, 0);
  fail_unless_equals_int (r.repeats, 0);
  g_unlink (file);
  g_rmdir (dir);
  server_stop (server);
}

GST_START_TEST (test_gst_launch_records_vp8_to_matroska)
{
  const gchar *chain[] = { "queue", "matroskamux", NULL };

  record_without_transcoding ("vp8", chain, "rec.mkv", "video/x-vp8");
}

GST_END_TEST;

GST_START_TEST (test_gst_launch_records_h264_to_mp4)
{
  const gchar *chain[] = { "h264parse", "mp4mux", NULL };

  record_without_transcoding ("h264", chain, "rec.mp4", "video/x-h264");
}

GST_END_TEST;

static Suite *
usage_suite (void)
{
  Suite *s = suite_create ("usage");
  TCase *eos = tcase_create ("eos");
  TCase *uri = tcase_create ("uri");
  TCase *launch = tcase_create ("launch");
  TCase *output = tcase_create ("output");

  suite_add_tcase (s, eos);
  tcase_add_test (eos, test_eos_from_the_application_ends_every_pad);
  tcase_add_test (eos, test_eos_before_the_first_frame_ends_at_once);

  suite_add_tcase (s, uri);
  tcase_add_test (uri, test_no_more_pads_once_every_stream_has_its_pad);
  tcase_add_test (uri, test_playbin_plays_a_whep_uri);
  tcase_add_test (uri, test_playbin3_plays_a_whep_uri);
  tcase_add_test (uri, test_uridecodebin_plays_a_whep_uri);
  tcase_add_test (uri, test_playbin_token_in_the_uri);
  tcase_add_test (uri, test_discoverer_reads_a_whep_uri);
  tcase_add_test (uri, test_gst_play_plays_a_whep_uri);

  suite_add_tcase (s, output);
  tcase_add_test (output, test_encoded_output_rotates_frame_exactly);
  tcase_add_test (output, test_rtp_output_rotates_frame_exactly);
  tcase_add_test (output, test_output_property_forces_encoded);
  tcase_add_test (output, test_encoded_output_holds_with_gap_events);

  suite_add_tcase (s, launch);
  tcase_add_test (launch, test_gst_inspect_exits_cleanly);
  tcase_add_test (launch, test_gst_launch_eos_writes_a_playable_mp4);
  tcase_add_test (launch, test_gst_launch_records_vp8_to_matroska);
  tcase_add_test (launch, test_gst_launch_records_h264_to_mp4);

  return s;
}

WHEP_CHECK_MAIN (usage);
