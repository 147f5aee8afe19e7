/* whepsrc rotation tests: session time limits, early deaths, one-viewer
 * servers, learned limits — against the project's WHEP test server, which
 * serves every session with the same DTLS certificate (GStreamer's
 * process-wide one), like a camera that keeps one certificate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <string.h>
#include <gst/webrtc/webrtc.h>

static gdouble
stats_double (Player * p, const gchar * field)
{
  GstStructure *stats = NULL;
  gdouble value = 0;

  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless (gst_structure_get_double (stats, field, &value),
      "no %s in statistics", field);
  gst_structure_free (stats);
  return value;
}

static guint64
stats_session_id (Player * p)
{
  GstStructure *stats = NULL;
  guint id = 0;

  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless (gst_structure_get_uint (stats, "session-id", &id),
      "no session on air");
  gst_structure_free (stats);
  return id;
}

/* The counter of what was played has no hole and no repeat. */
static void
assert_continuous (Player * p)
{
  g_mutex_lock (&p->lock);
  fail_unless (p->counted + 2 >= p->video_frames,
      "frame counter unreadable (%u of %u)", p->counted, p->video_frames);
  player_check_frames_exact_locked (p, TRUE);
  fail_if (p->pts_backwards);
  fail_unless_equals_int (p->eos_events, 0);
  fail_unless_equals_int (p->flush_events, 0);
  /* One stream for the element's life: one stream-start and, with the
   * same caps in every session, one caps event. */
  fail_unless_equals_int (p->stream_starts[0], 1);
  fail_unless_equals_int (p->caps_events[0], 1);
  g_mutex_unlock (&p->lock);
}

GST_START_TEST (test_rotates_seamlessly_before_the_limit)
{
  /* A camera: 4 s sessions, no PATCH, one certificate for every session. */
  TestServer *server = server_start ("--session-limit", "4", "--patch", "405",
      NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "session-lifetime", 4, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (4), 30000);

  fail_unless (stats_uint64 (p, "rotations") >= 4);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  /* A hold is a frame late: a matter of time (see realtime_checks()). */
  if (realtime_checks ())
    fail_unless_equals_int (stats_uint64 (p, "video-holds"), 0);
  assert_continuous (p);
  fail_unless_equals_int (p->pads->len, 1);
  /* whepsrc always moved on before the server cut a session (where a
   * standby's set-up fits in the lead time: see realtime_checks()). */
  if (realtime_checks ())
    fail_unless_equals_int (server_count (server, "EVENT expired"), 0);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* Three rotations of audio and video from a server started with
 * "--audio-delay @audio_delay_ms": each session's audio arriving that long
 * after its picture. */
static void
rotate_audio_and_video (guint audio_delay_ms)
{
  g_autofree gchar *delay = g_strdup_printf ("%u", audio_delay_ms);
  TestServer *server = server_start ("--session-limit", "4", "--audio",
      "opus", "--audio-delay", delay, NULL);
  Player *p = player_new (server->endpoint);
  guint audio_before;

  g_object_set (p->src, "session-lifetime", 4, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (2), 30000);
  audio_before = player_audio_buffers (p);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 30000);
  fail_unless (player_audio_buffers (p) > audio_before + 50);
  assert_continuous (p);
  fail_unless_equals_int (p->pads->len, 2);
  /* Every audio takeover but the first found the old session's sound
   * still on air (the old session stays until its successor's audio has
   * taken over). */
  fail_unless_equals_int (stats_uint64 (p, "audio-takeovers-at-once"), 1);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->stream_starts[1], 1);
  fail_unless_equals_int (p->caps_events[1], 1);
  /* No click: the new session's audio continues where the old one ended
   * (what remains is the jitterbuffers' sub-millisecond timestamp
   * jitter). */
  g_printerr ("largest audio gap/overlap across rotations: %.1f ms\n",
      p->audio_max_jump / 1e6);
  fail_unless (!realtime_checks () || p->audio_max_jump < 2 * GST_MSECOND,
      "audio gap/overlap of %.1f ms", p->audio_max_jump / 1e6);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_START_TEST (test_rotates_audio_and_video)
{
  rotate_audio_and_video (0);
}

GST_END_TEST;

/* A session's first audio comes 300 ms after its first picture (libwebrtc
 * servers do that now and then): the old session keeps the sound meanwhile,
 * and the audio still continues exactly. */
GST_START_TEST (test_rotates_audio_that_starts_after_the_picture)
{
  rotate_audio_and_video (300);
}

GST_END_TEST;

GST_START_TEST (test_early_kill_holds_last_frame_and_recovers)
{
  /* The provider kills each session after 3 s, without a word. */
  TestServer *server = server_start ("--kill-after", "3", NULL);
  Player *p = player_new (server->endpoint);
  guint frames_after_kill;

  g_object_set (p->src, "media-timeout", 500, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 30000);
  /* The picture was held (repeated), not blanked, and no EOS came. */
  fail_unless (stats_uint64 (p, "video-held-buffers") > 0);
  fail_unless (stats_uint64 (p, "video-holds") >= 1);
  frames_after_kill = player_video_frames (p);

  /* A new session plays. */
  run_without_error (p, frames_at_least,
      GUINT_TO_POINTER (frames_after_kill + 30), 15000);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  fail_unless (stats_uint64 (p, "sessions-created") >= 2);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  fail_if (p->pts_backwards);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* The webrtcbin of the session on air (ref), found the way an element
 * inside it would be: by walking whepsrc's children. */
static GstElement *
current_webrtcbin (Player * p)
{
  g_autofree gchar *name = g_strdup_printf ("session%u",
      (guint) stats_session_id (p));
  g_autoptr (GstElement) session = gst_bin_get_by_name (GST_BIN (p->src), name);
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;

  fail_unless (session != NULL, "no %s in whepsrc", name);
  it = gst_bin_iterate_elements (GST_BIN (session));
  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin"))
      found = gst_object_ref (e);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  fail_unless (found != NULL, "no webrtcbin in %s", name);
  return found;
}

/* An element inside a session posts an ERROR, as dtlsdec does after a
 * failed handshake or a decoder on a broken stream: the application must
 * not see it; the session is lost and replaced while the picture holds. */
GST_START_TEST (test_error_inside_a_session_is_recovered)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  g_autoptr (GstElement) webrtcbin = NULL;
  g_autoptr (GError) injected = g_error_new_literal (GST_STREAM_ERROR,
      GST_STREAM_ERROR_DECRYPT, "injected: DTLS handshake failed");
  g_autofree gchar *last_error = NULL;
  guint frames;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  webrtcbin = current_webrtcbin (p);
  gst_element_post_message (webrtcbin, gst_message_new_error (GST_OBJECT
          (webrtcbin), injected, "posted by the test"));
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 10000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 2);
  last_error = stats_last_error (p);
  fail_unless (last_error && strstr (last_error, "injected: DTLS"),
      "last-error: %s", GST_STR_NULL (last_error));
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* Every session's webrtcbin posts an ERROR once it is connected. */
static void
error_when_connected (GObject * webrtcbin, GParamSpec * pspec, gpointer data)
{
  GstWebRTCPeerConnectionState state;
  g_autoptr (GError) err = NULL;

  g_object_get (webrtcbin, "connection-state", &state, NULL);
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    return;
  err = g_error_new_literal (GST_STREAM_ERROR, GST_STREAM_ERROR_DECRYPT,
      "injected: DTLS handshake failed");
  gst_element_post_message (GST_ELEMENT (webrtcbin), gst_message_new_error
      (GST_OBJECT (webrtcbin), err, "posted by the test"));
}

static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    gpointer data)
{
  GstElementFactory *f = gst_element_get_factory (element);

  if (f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin"))
    g_signal_connect (element, "notify::connection-state",
        G_CALLBACK (error_when_connected), NULL);
}

/* Errors inside every session: whepsrc retries, then posts one error of
 * its own that names the cause — and no child's error reaches the
 * application. */
GST_START_TEST (test_errors_inside_every_session_end_in_one_error)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;
  GstBus *bus;
  g_autoptr (GError) err = NULL;
  GstMessage *again;

  g_object_set (p->src, "max-retries", 2, NULL);
  g_signal_connect (p->src, "deep-element-added",
      G_CALLBACK (on_deep_element_added), NULL);
  error = player_run (p, NULL, NULL, 30000);
  fail_unless (error != NULL, "no error after the retries");
  fail_unless (GST_MESSAGE_SRC (error) == GST_OBJECT (p->src),
      "the error came from %s, not whepsrc", GST_MESSAGE_SRC_NAME (error));
  gst_message_parse_error (error, &err, NULL);
  fail_unless (strstr (err->message, "injected: DTLS"), "error: %s",
      err->message);
  gst_message_unref (error);
  /* Three sessions (one and two retries), then nothing more. */
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 3);
  bus = gst_element_get_bus (p->pipeline);
  again = gst_bus_timed_pop_filtered (bus, 500 * GST_MSECOND,
      GST_MESSAGE_ERROR);
  fail_unless (again == NULL, "a second error, from %s",
      again ? GST_MESSAGE_SRC_NAME (again) : "");
  gst_object_unref (bus);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("error"))));

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* A warning inside a session reaches the application once, from whepsrc,
 * naming the session. */
GST_START_TEST (test_warning_inside_a_session_is_forwarded_once)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  g_autoptr (GstElement) webrtcbin = NULL;
  g_autoptr (GError) warning = g_error_new_literal (GST_STREAM_ERROR,
      GST_STREAM_ERROR_DECODE, "injected warning");
  guint i, seen = 0, frames;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  webrtcbin = current_webrtcbin (p);
  for (i = 0; i < 3; i++)
    gst_element_post_message (webrtcbin, gst_message_new_warning (GST_OBJECT
            (webrtcbin), warning, "posted by the test"));
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 15), 15000);
  g_mutex_lock (&p->lock);
  for (i = 0; i < p->warnings->len; i++) {
    const gchar *text = g_ptr_array_index (p->warnings, i);
    if (strstr (text, "injected warning")) {
      seen++;
      fail_unless (strstr (text, "session 1"), "warning: %s", text);
    }
  }
  g_mutex_unlock (&p->lock);
  fail_unless_equals_int (seen, 1);
  /* A warning is no loss. */
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 1);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_gap_hold_mode_sends_gap_events)
{
  TestServer *server = server_start ("--kill-after", "3", NULL);
  Player *p = player_new (server->endpoint);
  guint repeats_before, frames;

  g_object_set (p->src, "media-timeout", 800, "hold-mode", 1 /* gap */ ,
      NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  g_mutex_lock (&p->lock);
  repeats_before = p->repeats;
  g_mutex_unlock (&p->lock);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 15000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 20), 15000);
  /* While held: GAP events downstream, no repeated pictures. */
  g_mutex_lock (&p->lock);
  fail_unless (p->gap_events[0] > 0, "no GAP event while holding");
  fail_unless_equals_int (p->repeats, repeats_before);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_status_says_disconnected_only_while_holding)
{
  TestServer *server = server_start ("--kill-after", "3", NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "media-timeout", 800, NULL);
  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("playing")), 15000);
  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("disconnected")), 15000);
  fail_unless (stats_uint64 (p, "video-holds") >= 1);
  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("playing")), 15000);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_learns_the_session_limit)
{
  TestServer *server = server_start ("--session-limit", "3", NULL);
  Player *p = player_new (server->endpoint);
  gdouble learned;
  guint64 losses;

  /* Not told about the limit: two expiries teach it. */
  g_object_set (p->src, "media-timeout", 500, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (2), 30000);
  learned = stats_double (p, "learned-session-lifetime");
  fail_unless (learned > 2.5 && learned < 3.5, "learned %f s", learned);

  /* From then on whepsrc rotates ahead of the limit. */
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (2), 30000);
  losses = stats_uint64 (p, "early-losses");
  fail_unless (losses <= 3, "%" G_GUINT64_FORMAT " losses", losses);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_one_viewer_server_rotates_break_before_make)
{
  /* The overlap would be a second viewer: the server refuses it (409). */
  TestServer *server = server_start ("--session-limit", "5", "--max-sessions",
      "1", NULL);
  Player *p = player_new (server->endpoint);
  guint frames;

  g_object_set (p->src, "session-lifetime", 5, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (2), 40000);
  fail_unless (stats_boolean (p, "one-session-only"));
  fail_unless (server_count (server, "EVENT post status=409") >= 1);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  /* Sessions were deleted, not cut by the server. */
  fail_unless_equals_int (server_count (server, "EVENT expired"), 0);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_state_changes_during_rotation_are_safe)
{
  TestServer *server = server_start ("--session-limit", "4", NULL);
  Player *p = player_new (server->endpoint);
  guint i;

  g_object_set (p->src, "session-lifetime", 4, "rotation-lead", 2500, NULL);
  /* Stop and pause around the moment the standby starts (1.5 s after the
   * POST) and takes over. */
  for (i = 0; i < 4; i++) {
    fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    g_usleep ((1400 + i * 250) * 1000);
    gst_element_set_state (p->pipeline, i % 2 ? GST_STATE_PAUSED :
        GST_STATE_READY);
    g_usleep (100 * 1000);
  }
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_server_reconnect_event_rotates)
{
  /* The server asks for a new session 2 s after each POST (WHEP events
   * extension); no session-lifetime is configured. */
  TestServer *server = server_start ("--sse", "--reconnect-after", "2",
      NULL);
  Player *p = player_new (server->endpoint);

  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 30000);
  fail_unless (server_count (server, "EVENT sse-subscribe") >= 3);
  fail_unless (server_count (server, "EVENT sse-sent") >= 3);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  assert_continuous (p);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_inactive_event_means_waiting)
{
  TestServer *server = server_start ("--sse", NULL);
  Player *p = player_new (server->endpoint);

  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("playing")), 15000);
  fail_unless (server_wait (server, "EVENT sse-stream", 1, 5000));
  fail_unless_equals_int (server_admin_post (server,
          "/admin/event?type=inactive"), 204);
  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("waiting")), 5000);
  fail_unless_equals_int (server_admin_post (server,
          "/admin/event?type=active"), 204);
  run_without_error (p, status_is,
      GINT_TO_POINTER (status_value ("playing")), 5000);
  /* One session all along: the events change the status only. */
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_rtcp_bye_ends_session_at_once)
{
  /* A provider that says goodbye: the BYE, not a media timeout, ends the
   * session (the timeout here is far too long to be what noticed). */
  TestServer *server = server_start ("--kill-after", "3", "--bye-on-kill",
      NULL);
  Player *p = player_new (server->endpoint);
  g_autofree gchar *reason = NULL;

  g_object_set (p->src, "media-timeout", 20000, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 15000);
  reason = stats_last_error (p);
  fail_unless (reason && strstr (reason, "BYE"), "lost because: %s",
      GST_STR_NULL (reason));

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_server_forgetting_the_session_is_noticed)
{
  /* A silent kill, and a media timeout far too long to notice it: the
   * server's 404 to the session's liveness GET does.  (No ICE restart: its
   * PATCH, tried as soon as the output holds, would be answered 404
   * first.) */
  TestServer *server = server_start ("--kill-after", "3", NULL);
  Player *p = player_new (server->endpoint);
  g_autofree gchar *reason = NULL;

  g_object_set (p->src, "media-timeout", 20000, "ice-restart-timeout", 0, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 12000);
  reason = stats_last_error (p);
  /* Where the test keeps real time, the server's 404 is what notices.
   * Under valgrind or ASan the silence may be judged first: the media
   * stops for seconds there anyway (see realtime_checks()). */
  if (realtime_checks ()) {
    GstStructure *stats = NULL;

    fail_unless (reason && strstr (reason, "no longer knows"),
        "lost because: %s", GST_STR_NULL (reason));
    g_object_get (p->src, "statistics", &stats, NULL);
    fail_unless_equals_string (gst_structure_get_string (stats,
            "server-liveness"), "yes");
    gst_structure_free (stats);
  }
  /* …and a new session replaces it at once. */
  fail_unless (server_wait (server, "EVENT created", 2, 5000));

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* A Node/Express server answers 404 to GET on a live session (it never
 * routed GET): that must not end a healthy session — only a server whose
 * sessions answered GET with 2xx is believed when it says 404. */
GST_START_TEST (test_get_404_from_a_server_that_never_answers_get_is_no_loss)
{
  TestServer *server = server_start ("--get-status", "404", NULL);
  Player *p = player_new (server->endpoint);
  GstStructure *stats = NULL;

  /* Three liveness periods. */
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (200), 20000);
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 1);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless_equals_string (gst_structure_get_string (stats,
          "server-liveness"), "no");
  gst_structure_free (stats);
  assert_continuous (p);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_early_kill_holds_audio_with_silence)
{
  TestServer *server = server_start ("--kill-after", "3", "--audio", "opus",
      NULL);
  Player *p = player_new (server->endpoint);
  guint audio;

  g_object_set (p->src, "media-timeout", 500, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 15000);
  /* Audio did not stop: silence filled the hold. */
  fail_unless (stats_uint64 (p, "audio-held-buffers") > 0);
  fail_unless (stats_uint64 (p, "audio-holds") >= 1);
  audio = player_audio_buffers (p);
  run_without_error (p, frames_at_least,
      GUINT_TO_POINTER (player_video_frames (p) + 20), 15000);
  fail_unless (player_audio_buffers (p) > audio);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_standby_connects_before_a_quick_handshake_timeout)
{
  /* Like MediaMTX, but stricter: a session not connected 1 s after its
   * POST is closed.  A standby must connect right after its POST. */
  TestServer *server = server_start ("--session-limit", "4",
      "--handshake-timeout", "1", NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "session-lifetime", 4, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 30000);
  /* Connecting within the server's 1 s: a matter of time (see
   * realtime_checks()). */
  if (realtime_checks ()) {
    fail_unless_equals_int (server_count (server, "EVENT expired"), 0);
    fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  }
  assert_continuous (p);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

static Suite *
rotation_suite (void)
{
  Suite *s = suite_create ("rotation");
  TCase *tc = tcase_create ("rotation");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_rotates_seamlessly_before_the_limit);
  tcase_add_test (tc, test_rotates_audio_and_video);
  tcase_add_test (tc, test_rotates_audio_that_starts_after_the_picture);
  tcase_add_test (tc, test_early_kill_holds_last_frame_and_recovers);
  tcase_add_test (tc, test_error_inside_a_session_is_recovered);
  tcase_add_test (tc, test_warning_inside_a_session_is_forwarded_once);
  tcase_add_test (tc, test_errors_inside_every_session_end_in_one_error);
  tcase_add_test (tc, test_status_says_disconnected_only_while_holding);
  tcase_add_test (tc, test_gap_hold_mode_sends_gap_events);
  tcase_add_test (tc, test_learns_the_session_limit);
  tcase_add_test (tc, test_one_viewer_server_rotates_break_before_make);
  tcase_add_test (tc, test_state_changes_during_rotation_are_safe);
  tcase_add_test (tc, test_server_reconnect_event_rotates);
  tcase_add_test (tc, test_inactive_event_means_waiting);
  tcase_add_test (tc, test_rtcp_bye_ends_session_at_once);
  tcase_add_test (tc, test_server_forgetting_the_session_is_noticed);
  tcase_add_test (tc,
      test_get_404_from_a_server_that_never_answers_get_is_no_loss);
  tcase_add_test (tc, test_early_kill_holds_audio_with_silence);
  tcase_add_test (tc, test_standby_connects_before_a_quick_handshake_timeout);
  return s;
}

WHEP_CHECK_MAIN (rotation);
