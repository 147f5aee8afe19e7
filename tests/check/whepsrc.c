/* whepsrc end-to-end tests: the element against the project's WHEP test
 * server (a real process, real HTTP on 127.0.0.1, real WebRTC with ICE
 * restricted to 127.0.0.1).  Every test checks from the server's own log
 * that each session it created was DELETEd.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <string.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <gst/webrtc/webrtc.h>

/* --- tests --- */

/* Starts the test server with the given options, plays @frames frames
 * through whepsrc (with @token when set), checks the counter and the
 * DELETE, and stops everything. */
static void
check_plays (const gchar * token, guint frames, const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  TestServer *server;
  Player *p;
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  server = server_start_argv ((const gchar * const *) args->pdata);
  p = player_new (server->endpoint);
  if (token)
    g_object_set (p->src, "auth-token", token, NULL);
  play_and_check (server, p, frames);
  player_free (p);
  server_stop (server);
}



GST_START_TEST (test_plays_vp8_and_deletes_on_stop)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  GstStructure *stats = NULL;
  guint64 created = 0;

  play_and_check (server, p, 60);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);

  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "sessions-created", &created));
  fail_unless_equals_int (created, 1);
  gst_structure_free (stats);
  fail_unless_equals_int (p->pads->len, 1);
  fail_unless_equals_string (g_ptr_array_index (p->pads, 0), "video_0");

  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_plays_video_and_audio)
{
  TestServer *server = server_start ("--audio", "opus", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 30);
  fail_unless (player_audio_buffers (p) > 10);
  fail_unless_equals_int (p->pads->len, 2);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_plays_h264)
{
  check_plays (NULL, 30, "--video", "h264", NULL);
}

GST_END_TEST;

GST_START_TEST (test_plays_vp9)
{
  check_plays (NULL, 30, "--video", "vp9", NULL);
}

GST_END_TEST;

/* fec: off (the default) offers no ULPFEC, so a server that could send it
 * answers without; auto offers it, and the stream plays with it (every
 * frame, none broken, none repeated). */
GST_START_TEST (test_fec_offered_only_when_asked)
{
  TestServer *server = server_start ("--fec", "50", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 30);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  fail_unless_equals_int (server_count (server, "EVENT fec"), 0);
  player_free (p);

  p = player_new (server->endpoint);
  gst_util_set_object_arg (G_OBJECT (p->src), "fec", "auto");
  play_and_check (server, p, 60);
  fail_unless_equals_int (server_count (server, "EVENT created"), 2);
  fail_unless_equals_int (server_count (server, "EVENT fec"), 1);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->unreadable, 0);
  g_mutex_unlock (&p->lock);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_audio_only_server)
{
  TestServer *server = server_start ("--video", "none", "--audio", "opus",
      NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  error = player_run (p, NULL, NULL, 2500);
  fail_unless (error == NULL);
  fail_unless (player_audio_buffers (p) > 10);
  fail_unless_equals_int (player_video_frames (p), 0);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_video_caps_narrow_the_offer)
{
  TestServer *server = server_start ("--video", "h264", NULL);
  Player *p = player_new (server->endpoint);
  GstCaps *vp8_only = gst_caps_from_string ("video/x-vp8");
  GstMessage *error;

  /* The server only has H.264: an offer narrowed to VP8 is refused, and
   * whepsrc says so instead of stalling. */
  g_object_set (p->src, "video-caps", vp8_only, "max-retries", 0, NULL);
  gst_caps_unref (vp8_only);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "400", 400);
  gst_message_unref (error);
  player_free (p);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_bearer_token_accepted)
{
  check_plays ("s3cret", 20, "--token", "s3cret", NULL);
}

GST_END_TEST;

static void
check_auth_error (const gchar * status, const gchar * token, guint expected)
{
  TestServer *server = server_start ("--token", "s3cret", "--auth-status",
      status, NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  if (token)
    g_object_set (p->src, "auth-token", token, NULL);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "auth-token", expected);
  gst_message_unref (error);
  /* Never retried blindly: one POST. */
  fail_unless_equals_int (server_count (server, "EVENT post"), 1);
  player_free (p);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_START_TEST (test_missing_token_is_not_authorized)
{
  check_auth_error ("401", NULL, 401);
}

GST_END_TEST;

GST_START_TEST (test_wrong_token_403_is_not_authorized)
{
  check_auth_error ("403", "wrong", 403);
}

GST_END_TEST;

GST_START_TEST (test_unknown_endpoint_is_not_found)
{
  TestServer *server = server_start (NULL);
  g_autofree gchar *url = g_strdup_printf ("%s/whep/nothing-here",
      server->base_url);
  Player *p = player_new (url);
  GstMessage *error;

  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      "does not exist", 404);
  gst_message_unref (error);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_not_live_waits_then_plays)
{
  TestServer *server = server_start ("--not-live", "1.5", "--not-live-status",
      "409", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  error = player_run (p, status_is,
      GINT_TO_POINTER (status_value ("waiting")), 5000);
  fail_unless (error == NULL);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("waiting"))),
      "status never said waiting");
  play_and_check (server, p, 20);
  fail_unless (server_count (server, "EVENT post") >= 2);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_mediamtx_not_live_404_waits)
{
  TestServer *server = server_start ("--not-live", "1.5", "--not-live-status",
      "404", NULL);
  Player *p = player_new (server->endpoint);

  /* A 404 with Retry-After (or "no stream" in its body) means "not yet". */
  play_and_check (server, p, 20);
  fail_unless (server_count (server, "EVENT post") >= 2);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_server_error_retries_then_reports)
{
  TestServer *server = server_start ("--inject-status", "500",
      "--error-format", "problem", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  g_object_set (p->src, "max-retries", 1, NULL);
  error = player_run (p, NULL, NULL, 15000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "Injected error", 500);
  gst_message_unref (error);
  fail_unless_equals_int (server_count (server, "EVENT post"), 2);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

static void
on_retry_after_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);
  gint *retry_after_s = data;

  if (s && gst_structure_has_name (s, "whepsrc/retry-after"))
    gst_structure_get_int (s, "retry-after-s", retry_after_s);
}

/* A 503 with Retry-After: whepsrc waits what the server asked, says so on
 * the bus (whepsrc/retry-after), then plays. */
GST_START_TEST (test_busy_503_retry_after_then_plays)
{
  TestServer *server = server_start ("--inject-status", "503",
      "--inject-count", "1", "--retry-after", "1", NULL);
  Player *p = player_new (server->endpoint);
  GstBus *bus = gst_element_get_bus (p->pipeline);
  gint retry_after_s = -1;

  gst_bus_enable_sync_message_emission (bus);
  g_signal_connect (bus, "sync-message::element",
      G_CALLBACK (on_retry_after_message), &retry_after_s);
  play_and_check (server, p, 20);
  fail_unless_equals_int (server_count (server, "EVENT post"), 2);
  fail_unless_equals_int (retry_after_s, 1);
  g_signal_handlers_disconnect_by_data (bus, &retry_after_s);
  gst_bus_disable_sync_message_emission (bus);
  gst_object_unref (bus);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

/* An endpoint on a port that was free a moment ago and nobody listens on
 * now. */
static gchar *
refused_endpoint (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);

  g_socket_listener_close (listener);
  return g_strdup_printf ("http://127.0.0.1:%u/whep/cam", port);
}

GST_START_TEST (test_connection_refused_reports)
{
  g_autofree gchar *url = refused_endpoint ();
  Player *p;
  GstMessage *error;

  p = player_new (url);
  g_object_set (p->src, "max-retries", 0, NULL);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "Could not reach", 0);
  gst_message_unref (error);
  player_free (p);
}

GST_END_TEST;

/* https:// to the test server's plain HTTP port: an error at once, which
 * says what to change — not retries, each waiting for a TLS answer. */
GST_START_TEST (test_https_to_plain_http_is_an_error)
{
  TestServer *server = server_start (NULL);
  g_autofree gchar *url = g_strconcat ("https://",
      server->endpoint + strlen ("http://"), NULL);
  Player *p;
  GstMessage *error;

  p = player_new (url);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "use an http:// URL", 0);
  gst_message_unref (error);
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 1);
  fail_unless_equals_int (server_count (server, "EVENT created"), 0);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

static gboolean
warned (Player * p, gpointer data)
{
  gboolean any;

  g_mutex_lock (&p->lock);
  any = p->warnings->len > 0;
  g_mutex_unlock (&p->lock);
  return any;
}

/* A wrong port: the retries go on (status connecting), but the cause is
 * on the bus as a warning at the first failure, not minutes later. */
GST_START_TEST (test_first_failure_warns_while_retrying)
{
  g_autofree gchar *url = refused_endpoint ();
  Player *p;
  GstMessage *error;

  p = player_new (url);
  g_object_set (p->src, "max-retries", 3, NULL);
  error = player_run (p, warned, NULL, 3000);
  fail_unless (error == NULL, "an error before the retries ran out");
  fail_unless (warned (p, NULL), "no warning within 3 s");
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->warnings->len, 1);
  fail_unless (strstr (g_ptr_array_index (p->warnings, 0), "Could not reach")
      && strstr (g_ptr_array_index (p->warnings, 0), "retrying in"),
      "warning: %s", (gchar *) g_ptr_array_index (p->warnings, 0));
  g_mutex_unlock (&p->lock);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("connecting"))));
  player_free (p);
}

GST_END_TEST;

GST_START_TEST (test_answer_timeout_reports)
{
  /* A trickled offer carries no candidates, so the orphaned session never
   * fails its checks: it ends by the handshake timeout (MediaMTX: 10 s),
   * here 5 s, once its answer has gone out (at 4 s). */
  TestServer *server = server_start ("--answer-delay", "4000",
      "--handshake-timeout", "5", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  g_object_set (p->src, "max-retries", 0, "timeout", 1, NULL);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "No answer", 0);
  gst_message_unref (error);
  player_free (p);
  /* The server made the session after we gave up: it must still be
   * deleted, or expire (handshake timeout) — never leak. */
  g_usleep (G_USEC_PER_SEC * 6);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

static void
check_bad_answer (const gchar * flag, const gchar * fragment)
{
  TestServer *server = server_start (flag, NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  g_object_set (p->src, "max-retries", 0, NULL);
  error = player_run (p, NULL, NULL, 10000);
  /* The error names the 201 it is about (http-status-code). */
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      fragment, 201);
  gst_message_unref (error);
  player_free (p);
  /* The failed session was deleted all the same. */
  server_assert_no_leak (server);
  server_stop (server);
}

/* A server whose ICE never starts (no candidate in its answer, ours
 * ignored): whepsrc does not sit in "connecting" — the session fails at
 * the connect timeout with what happened, and is DELETEd. */
GST_START_TEST (test_ice_that_never_starts_fails_at_connect_timeout)
{
  TestServer *server = server_start ("--no-ice", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  g_object_set (p->src, "max-retries", 0, NULL);
  error = player_run (p, NULL, NULL, 30000);
  /* The code of any ICE failure (READ), the cause in the text. */
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "has no ICE candidate", 0);
  gst_message_unref (error);
  fail_unless_equals_int (player_video_frames (p), 0);
  player_free (p);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_garbage_answer_reports)
{
  check_bad_answer ("--answer-garbage", "does not parse");
}

GST_END_TEST;

GST_START_TEST (test_empty_answer_reports)
{
  check_bad_answer ("--answer-empty", "201 with no body");
}

GST_END_TEST;

GST_START_TEST (test_mismatched_answer_reports)
{
  check_bad_answer ("--answer-mismatch", "does not match");
}

GST_END_TEST;

/* webrtcbin takes media from a DTLS peer with any certificate; whepsrc
 * checks it against the answer's fingerprint, retries, then says what is
 * wrong — and no frame of that peer reaches the application. */
GST_START_TEST (test_dtls_peer_not_matching_the_fingerprint_is_refused)
{
  TestServer *server = server_start ("--wrong-fingerprint", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  g_object_set (p->src, "max-retries", 1, NULL);
  error = player_run (p, NULL, NULL, 20000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "does not match the fingerprint", 0);
  fail_unless (GST_MESSAGE_SRC (error) == GST_OBJECT (p->src));
  gst_message_unref (error);
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 2);
  fail_unless_equals_int (player_video_frames (p), 0);
  player_free (p);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_redirect_keeps_token)
{
  check_plays ("tok", 20, "--redirect", "307", "--token", "tok", NULL);
}

GST_END_TEST;

GST_START_TEST (test_location_with_query_is_deleted)
{
  check_plays (NULL, 20, "--location", "query", NULL);
}

GST_END_TEST;

GST_START_TEST (test_absolute_location_and_star_etag)
{
  check_plays (NULL, 20, "--location", "absolute", "--etag", "star", NULL);
}

GST_END_TEST;

GST_START_TEST (test_no_location_warns_and_plays)
{
  TestServer *server = server_start ("--location", "none", NULL);
  Player *p = player_new (server->endpoint);
  GstMessage *error;

  error = player_run (p, frames_at_least, GUINT_TO_POINTER (20), 15000);
  fail_unless (error == NULL);
  fail_unless_equals_int (p->warnings->len, 1);
  fail_unless (strstr (g_ptr_array_index (p->warnings, 0), "Location"));
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_counter_offer_406)
{
  check_plays (NULL, 20, "--counter-offer", NULL);
}

GST_END_TEST;

/* The output's frame rate, through a rotation: the server's a=framerate
 * where its SDP has one, else 0/1 (RTP has none, nor VP8). */
static void
check_output_framerate (const gchar * rate, gint want_num, gint want_den)
{
  TestServer *server = server_start ("--sdp-framerate", rate,
      "--session-limit", "2", NULL);
  Player *p = player_new (server->endpoint);
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstCaps) caps = NULL;
  gint num = -1, den = -1;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (20), 15000);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (1), 8000);
  pad = gst_element_get_static_pad (p->src, "video_0");
  fail_unless (pad != NULL);
  caps = gst_pad_get_current_caps (pad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
          "framerate", &num, &den), "no framerate in %" GST_PTR_FORMAT, caps);
  fail_unless (num == want_num && den == want_den,
      "framerate %d/%d, not %d/%d", num, den, want_num, want_den);
  stop_and_check_no_leak (server, p);
}

GST_START_TEST (test_framerate_from_the_server_sdp)
{
  check_output_framerate ("30", 30, 1);
  check_output_framerate ("29.97", 30000, 1001);
  check_output_framerate ("none", 0, 1);
}

GST_END_TEST;

GST_START_TEST (test_janus_strict_content_type)
{
  check_plays (NULL, 20, "--strict-content-type", "--patch", "405", NULL);
}

GST_END_TEST;

/* Creating a whepsrc starts no thread (tools that only inspect the
 * element exit at once); READY starts the making of the DTLS certificate,
 * and back in NULL no thread of whepsrc's is left.  Threads are counted
 * whatever their name: a new thread names itself a little after it
 * starts. */
static guint
count_threads_settled (guint expected)
{
  guint n = count_threads_named ("");
  guint i;

  /* A joined thread can show in /proc for a few microseconds more. */
  for (i = 0; n != expected && i < 10; i++) {
    g_usleep (1000);
    n = count_threads_named ("");
  }
  return n;
}

GST_START_TEST (test_creating_starts_no_thread)
{
  guint before = count_threads_named ("");
  GstElement *src = gst_element_factory_make ("whepsrc", NULL);

  fail_unless (src != NULL);
  fail_unless_equals_int (count_threads_named (""), before);
  g_object_set (src, "whep-endpoint", "http://127.0.0.1:1/whep", NULL);
  fail_unless (gst_element_set_state (src, GST_STATE_READY) ==
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (src, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (count_threads_settled (before), before);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_missing_endpoint_fails_state_change)
{
  Player *p = player_new (NULL);
  GstMessage *error = player_run (p, NULL, NULL, 1000);

  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      "whep-endpoint", 0);
  gst_message_unref (error);
  player_free (p);
}

GST_END_TEST;

GST_START_TEST (test_bad_endpoint_scheme_fails_state_change)
{
  Player *p = player_new ("ftp://127.0.0.1/whep");
  GstMessage *error = player_run (p, NULL, NULL, 1000);

  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "http", 0);
  gst_message_unref (error);
  player_free (p);
}

GST_END_TEST;

GST_START_TEST (test_uri_handler_maps_whep_schemes)
{
  g_autoptr (GError) err = NULL;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC,
      "wheps://example.com:8443/whep/cam?x=1", NULL, &err);
  gchar *endpoint = NULL;

  fail_unless (src != NULL, "%s", err ? err->message : "no element");
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (src)),
      "whepsrc");
  g_object_get (src, "whep-endpoint", &endpoint, NULL);
  fail_unless_equals_string (endpoint, "https://example.com:8443/whep/cam?x=1");
  g_free (endpoint);
  gst_object_unref (src);

  src = gst_element_make_from_uri (GST_URI_SRC, "whep://127.0.0.1/a", NULL,
      NULL);
  fail_unless (src != NULL);
  g_object_get (src, "whep-endpoint", &endpoint, NULL);
  fail_unless_equals_string (endpoint, "http://127.0.0.1/a");
  g_free (endpoint);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_status_follows_lifecycle)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  gint status;

  g_object_get (p->src, "status", &status, NULL);
  fail_unless_equals_int (status, status_value ("stopped"));
  fail_unless (player_run (p, status_is,
          GINT_TO_POINTER (status_value ("playing")), 15000) == NULL);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  g_object_get (p->src, "status", &status, NULL);
  fail_unless_equals_int (status, status_value ("stopped"));
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_restart_after_stop_makes_new_session)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);

  fail_unless (player_run (p, frames_at_least, GUINT_TO_POINTER (10),
          15000) == NULL);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  g_mutex_lock (&p->lock);
  p->video_frames = 0;
  p->last_counter = -1;
  p->last_pts = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&p->lock);
  /* Same element, same pads, a fresh session. */
  play_and_check (server, p, 10);
  fail_unless_equals_int (server_count (server, "EVENT created"), 2);
  fail_unless_equals_int (p->pads->len, 1);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_stop_during_post_deletes_late_session)
{
  TestServer *server = server_start ("--answer-delay", "300", NULL);
  Player *p = player_new (server->endpoint);

  fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (server_wait (server, "EVENT created", 1, 5000));
  /* The answer is still on its way: stopping now must wait for it (within
   * the DELETE budget) and delete the session it names. */
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), 1);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

/* whepsrc's threads and sockets before a test plays against a raw
 * server (none of it exists yet). */
typedef struct
{
  guint threads, sockets;
} Resources;

static void
resources_before (Resources * r)
{
  r->threads = count_whep_threads ();
  r->sockets = count_open_sockets ();
}

/* After NULL and the raw server's end: nothing of whepsrc's is left. */
static void
resources_check_after (const Resources * r)
{
  fail_unless_equals_int (count_whep_threads (), r->threads);
  fail_unless_equals_int (count_open_sockets (), r->sockets);
}

/* A pipeline set to PLAYING against @srv with a long request deadline
 * (so that only stop() can end the POST), once the POST came. */
static Player *
play_against_raw (RawWhepServer * srv)
{
  Player *p = player_new (raw_whep_server_endpoint (srv));

  g_object_set (p->src, "timeout", 30, NULL);
  fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (raw_whep_server_wait (srv, "POST /whep", 10000));
  return p;
}

/* A POST the server holds (for 3 s) does not hold stop(): NULL returns
 * while the server still holds it, and whepsrc's threads and sockets are
 * gone by then. */
GST_START_TEST (test_stop_while_server_holds_post)
{
  Resources before;
  RawWhepServer *srv;
  Player *p;

  resources_before (&before);
  srv = raw_whep_server_new (RAW_WHEP_HOLD_POST);
  p = play_against_raw (srv);
  g_usleep (100 * 1000);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_if (raw_whep_server_wait (srv, "RELEASED", 0),
      "NULL waited for the server to release the POST");
  fail_unless_equals_int (count_whep_threads (), before.threads);
  player_free (p);
  raw_whep_server_free (srv);
  resources_check_after (&before);
}

GST_END_TEST;

/* A server flooding "100 Continue" kept whepsrc's HTTP thread inside
 * libsoup: it outlived NULL, burning a core, its connection open. */
GST_START_TEST (test_stop_during_continue_flood_leaves_nothing)
{
  Resources before;
  RawWhepServer *srv;
  Player *p;

  resources_before (&before);
  srv = raw_whep_server_new (RAW_WHEP_CONTINUE_FLOOD);
  p = play_against_raw (srv);
  g_usleep (300 * 1000);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_unless_equals_int (count_whep_threads (), before.threads);
  player_free (p);
  raw_whep_server_free (srv);
  resources_check_after (&before);
}

GST_END_TEST;

/* A 201 whose body stalls made a session: stopping DELETEs it (its
 * Location came with the head) — and a DELETE the server never answers
 * does not hold stop() or leave anything behind. */
static void
check_stop_deletes_stalled_201 (guint mode)
{
  Resources before;
  RawWhepServer *srv;
  Player *p;

  resources_before (&before);
  srv = raw_whep_server_new (mode);
  p = play_against_raw (srv);
  g_usleep (200 * 1000);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_unless (raw_whep_server_wait (srv, "DELETE /session/raw", 0),
      "the session was not DELETEd by the time NULL returned");
  fail_unless_equals_int (count_whep_threads (), before.threads);
  player_free (p);
  raw_whep_server_free (srv);
  resources_check_after (&before);
}

GST_START_TEST (test_stop_deletes_session_of_stalled_201)
{
  check_stop_deletes_stalled_201 (RAW_WHEP_CREATED_STALLED);
}

GST_END_TEST;

GST_START_TEST (test_stop_with_unanswered_delete_leaves_nothing)
{
  check_stop_deletes_stalled_201 (RAW_WHEP_CREATED_STALLED |
      RAW_WHEP_HOLD_DELETE);
}

GST_END_TEST;

GST_START_TEST (test_pause_and_resume_keeps_session)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
  guint before;

  fail_unless (player_run (p, frames_at_least, GUINT_TO_POINTER (10),
          15000) == NULL);
  gst_element_set_state (p->pipeline, GST_STATE_PAUSED);
  g_usleep (G_USEC_PER_SEC / 2);
  before = player_video_frames (p);
  g_usleep (G_USEC_PER_SEC / 2);
  /* A live source produces nothing while paused. */
  fail_unless (player_video_frames (p) <= before + 1);
  g_mutex_lock (&p->lock);
  p->last_counter = -1;         /* frames in the pause are skipped, not lost */
  g_mutex_unlock (&p->lock);
  fail_unless (player_run (p, frames_at_least,
          GUINT_TO_POINTER (before + 20), 15000) == NULL);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  fail_if (p->pts_backwards);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* Two whepsrc in one process share one HTTP thread and one control
 * thread (issue 10: many streams); each stops alone, within a second, its
 * own session DELETEd while the other plays on; a restart joins the
 * threads that run; they end with the last whepsrc in NULL (issue 12). */
GST_START_TEST (test_two_elements_share_threads_and_stop_alone)
{
  TestServer *server = server_start (NULL);
  Player *a = player_new (server->endpoint);
  Player *b = player_new (server->endpoint);
  guint before = count_whep_threads ();
  guint frames;
  gint64 t0;

  run_without_error (a, frames_at_least, GUINT_TO_POINTER (10), 15000);
  run_without_error (b, frames_at_least, GUINT_TO_POINTER (10), 15000);
  fail_unless_equals_int (server_count (server, "EVENT created"), 2);
  /* one whep-http and one whepsrc-ctl, not one of each per element */
  fail_unless_equals_int (count_whep_threads (), before + 2);

  t0 = g_get_monotonic_time ();
  gst_element_set_state (a->pipeline, GST_STATE_NULL);
  fail_unless (g_get_monotonic_time () - t0 < G_USEC_PER_SEC,
      "stopping one of two took %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - t0) / 1000);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), 1);
  fail_unless_equals_int (count_whep_threads (), before + 2);
  frames = player_video_frames (b);
  run_without_error (b, frames_at_least, GUINT_TO_POINTER (frames + 15), 15000);

  /* A new run of the first joins the threads that are there. */
  frames = player_video_frames (a);
  run_without_error (a, frames_at_least, GUINT_TO_POINTER (frames + 10), 15000);
  fail_unless_equals_int (count_whep_threads (), before + 2);
  gst_element_set_state (b->pipeline, GST_STATE_NULL);
  fail_unless_equals_int (count_whep_threads (), before + 2);
  frames = player_video_frames (a);
  run_without_error (a, frames_at_least, GUINT_TO_POINTER (frames + 10), 15000);

  gst_element_set_state (a->pipeline, GST_STATE_NULL);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), 3);
  fail_unless_equals_int (count_whep_threads (), before);
  server_assert_no_leak (server);
  player_free (a);
  player_free (b);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_rapid_start_stop_leaks_nothing)
{
  /* A POST still unanswered when stop's budget ends leaves a session
   * whose answer never reached whepsrc: the server expires it (here after
   * 2 s without a handshake). */
  TestServer *server = server_start ("--handshake-timeout", "2", NULL);
  Player *p = player_new (server->endpoint);
  gint64 end;
  guint i;

  /* Stop at every stage of set-up: before, during and after the POST. */
  for (i = 0; i < 8; i++) {
    fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    g_usleep (i * 60 * 1000);
    gst_element_set_state (p->pipeline, GST_STATE_NULL);
  }
  /* Sessions the server made were deleted, or expire (handshake timeout)
   * when the POST was still unanswered past the DELETE budget. */
  end = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && server_count (server,
          "EVENT deleted") + server_count (server, "EVENT expired") <
      server_count (server, "EVENT created"))
    g_usleep (50 * 1000);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_missing_ca_file_fails_state_change)
{
  Player *p = player_new ("https://127.0.0.1:9/whep");
  GstMessage *error;

  g_object_set (p->src, "ssl-ca-file", "/nonexistent/ca.pem", NULL);
  error = player_run (p, NULL, NULL, 1000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "/nonexistent/ca.pem", 0);
  gst_message_unref (error);
  player_free (p);
}

GST_END_TEST;

/* --- secrets and SDP out of the debug log --- */

/* Every GStreamer debug message of the test, one per line (newlines
 * inside a message are written as "\n"), so that a message holding a
 * whole SDP stays one line and can be found as such. */
typedef struct
{
  GMutex lock;
  FILE *file;
  gchar *path;
} LogCapture;

static void
capture_log_cb (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer data)
{
  LogCapture *capture = data;
  g_autofree gchar *text = gst_debug_log_get_line (category, level, file,
      function, line, object, message);
  GString *flat = g_string_sized_new (strlen (text) + 16);
  const gchar *c;

  /* The formatted line ends with a newline; keep one per message. */
  g_strchomp (text);
  for (c = text; *c; c++) {
    if (*c == '\n')
      g_string_append (flat, "\\n");
    else if (*c != '\r')
      g_string_append_c (flat, *c);
  }
  g_string_append_c (flat, '\n');
  g_mutex_lock (&capture->lock);
  if (capture->file)
    fputs (flat->str, capture->file);
  g_mutex_unlock (&capture->lock);
  g_string_free (flat, TRUE);
}

/* From now on every category logs at level 9 (MEMDUMP) into a file, and
 * nothing goes to stderr. */
static LogCapture *
log_capture_start (void)
{
  LogCapture *capture = g_new0 (LogCapture, 1);
  g_autoptr (GError) err = NULL;
  gint fd;

  g_mutex_init (&capture->lock);
  fd = g_file_open_tmp ("whepsrc-log-XXXXXX", &capture->path, &err);
  fail_unless (fd >= 0, "no temporary file: %s", err ? err->message : "");
  capture->file = fdopen (fd, "w");
  fail_unless (capture->file != NULL);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (capture_log_cb, capture, NULL);
  /* Everything; under the sanitizers everything of whepsrc's (its own
   * logging code is what they check here) and the rest at INFO: every
   * library's per-packet lines at ASan's pace would take the sessions
   * minutes to connect (see realtime_checks()). */
  gst_debug_set_threshold_from_string (realtime_checks ()? "*:9" :
      "*:4,whep*:9", TRUE);
  return capture;
}

static void
log_capture_stop (LogCapture * capture)
{
  gst_debug_set_threshold_from_string ("*:1", TRUE);
  gst_debug_remove_log_function_by_data (capture);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  g_mutex_lock (&capture->lock);
  fclose (capture->file);
  capture->file = NULL;
  g_mutex_unlock (&capture->lock);
}

static void
log_capture_free (LogCapture * capture)
{
  g_unlink (capture->path);
  g_free (capture->path);
  g_mutex_clear (&capture->lock);
  g_free (capture);
}

static gchar *
unique_secret (const gchar * prefix)
{
  return g_strdup_printf ("%s%08x%08x", prefix, g_random_int (),
      g_random_int ());
}

/* The a=ice-pwd values of every webrtcbin's local description seen so
 * far (each session has its own). */
typedef struct
{
  GHashTable *ice_pwds;         /* protected by lock */
  guint rotations;
  GMutex lock;
} SecretWatch;

/* Reads the SDP through its public fields: this suite links neither the
 * SDP nor the WebRTC library. */
static void
add_ice_pwds (GArray * attributes, GHashTable * out)
{
  guint i;

  for (i = 0; attributes && i < attributes->len; i++) {
    GstSDPAttribute *attr = &g_array_index (attributes, GstSDPAttribute, i);
    if (g_strcmp0 (attr->key, "ice-pwd") == 0 && attr->value)
      g_hash_table_add (out, g_strdup (attr->value));
  }
}

static void
collect_element_ice_pwd (GstElement * element, SecretWatch * watch)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  GParamSpec *pspec;
  GValue value = G_VALUE_INIT;
  GstWebRTCSessionDescription *desc;
  guint i;

  if (!factory || g_strcmp0 (GST_OBJECT_NAME (factory), "webrtcbin") != 0)
    return;
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      "local-description");
  g_value_init (&value, pspec->value_type);
  g_object_get_property (G_OBJECT (element), "local-description", &value);
  desc = g_value_get_boxed (&value);
  g_mutex_lock (&watch->lock);
  if (desc && desc->sdp) {
    add_ice_pwds (desc->sdp->attributes, watch->ice_pwds);
    for (i = 0; desc->sdp->medias && i < desc->sdp->medias->len; i++)
      add_ice_pwds (g_array_index (desc->sdp->medias, GstSDPMedia,
              i).attributes, watch->ice_pwds);
  }
  g_mutex_unlock (&watch->lock);
  g_value_unset (&value);
}

static void
collect_ice_pwd (const GValue * item, gpointer data)
{
  collect_element_ice_pwd (g_value_get_object (item), data);
}

/* Every session's passwords as soon as its offer is set, not only those
 * of the sessions a poll finds alive (a slow run, ASan, rotates between
 * two polls). */
static void
on_local_description (GObject * webrtcbin, GParamSpec * pspec,
    SecretWatch * watch)
{
  collect_element_ice_pwd (GST_ELEMENT (webrtcbin), watch);
}

static void
watch_webrtcbin (const GValue * item, gpointer data)
{
  GstElement *element = g_value_get_object (item);
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory && g_strcmp0 (GST_OBJECT_NAME (factory), "webrtcbin") == 0)
    g_signal_connect (element, "notify::local-description",
        G_CALLBACK (on_local_description), data);
}

/* A session's bin comes with its webrtcbin inside already. */
static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    SecretWatch * watch)
{
  GValue item = G_VALUE_INIT;

  g_value_init (&item, GST_TYPE_ELEMENT);
  g_value_set_object (&item, element);
  watch_webrtcbin (&item, watch);
  g_value_unset (&item);
  if (GST_IS_BIN (element)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (element));

    while (gst_iterator_foreach (it, watch_webrtcbin, watch) ==
        GST_ITERATOR_RESYNC)
      gst_iterator_resync (it);
    gst_iterator_free (it);
  }
}

static gboolean
rotated_collecting_pwds (Player * p, gpointer data)
{
  SecretWatch *watch = data;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p->src));
  guint pwds;

  while (gst_iterator_foreach (it, collect_ice_pwd, watch) ==
      GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
  g_mutex_lock (&watch->lock);
  pwds = g_hash_table_size (watch->ice_pwds);
  g_mutex_unlock (&watch->lock);
  /* A second session's traffic in the log: by rotation, or (where the
   * sanitizers slow everything down) by the replacement of a session
   * lost early. */
  return stats_uint64 (p, "rotations") + stats_uint64 (p, "early-losses") >=
      watch->rotations && pwds >= 2;
}

/* The category of a line as gst_debug_log_get_line() formats it: time,
 * pid, thread, level, category, "file:line:function:<object>", message. */
static gchar *
line_category (const gchar * line)
{
  g_auto (GStrv) fields = g_strsplit_set (line, " ", -1);
  guint i, n = 0;

  for (i = 0; fields[i]; i++) {
    if (!*fields[i])
      continue;
    if (n++ == 4)
      return g_strdup (fields[i]);
  }
  return g_strdup ("");
}

/* Notes in @problems the first line that holds @needle (what it is:
 * @what); @seen counts the hits. */
static void
check_line (GString * problems, const gchar * line, const gchar * needle,
    const gchar * what, guint * seen)
{
  if (strstr (line, needle) && !(*seen)++)
    g_string_append_printf (problems, "\n%s found in the debug log: %.300s",
        what, line);
}

GST_START_TEST (test_debug_log_holds_no_secrets)
{
  g_autofree gchar *auth = unique_secret ("auth");
  g_autofree gchar *query = unique_secret ("query");
  g_autofree gchar *turn_pw = unique_secret ("turnpw");
  g_autofree gchar *link_pw = unique_secret ("linkpw");
  g_autofree gchar *link_arg = g_strdup_printf
      ("turn:127.0.0.1:9?transport=udp;username=linkuser;credential=%s",
      link_pw);
  g_autofree gchar *turn_uri = g_strdup_printf
      ("turn://turnuser:%s@127.0.0.1:9", turn_pw);
  g_autofree gchar *endpoint = NULL;
  g_autofree gchar *log = NULL;
  g_auto (GStrv) lines = NULL;
  SecretWatch watch = { g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, NULL), 1
  };
  TestServer *server;
  Player *p;
  LogCapture *capture;
  GHashTableIter iter;
  gpointer pwd;
  guint i, client_lines = 0, whep_lines = 0, whole_sdp = 0, unnamed = 0;
  guint seen[5] = { 0, };
  g_autoptr (GString) problems = g_string_new (NULL);

  /* A rotation after ~2 s: two sessions' traffic in one log. */
  server = server_start ("--token", auth, "--session-limit", "4", "--sse",
      "--link-ice-server", link_arg, NULL);
  endpoint = g_strdup_printf ("%s?token=%s", server->endpoint, query);
  p = player_new (endpoint);
  /* Logging everything is slow (more so under ASan): a media timeout to
   * match, so that sessions are not lost to the logging itself. */
  g_object_set (p->src, "auth-token", auth, "turn-server", turn_uri,
      "session-lifetime", 4, "media-timeout", scaled (2000), NULL);

  g_mutex_init (&watch.lock);
  g_signal_connect (p->src, "deep-element-added",
      G_CALLBACK (on_deep_element_added), &watch);
  capture = log_capture_start ();
  run_without_error (p, rotated_collecting_pwds, &watch, 20000);
  g_printerr ("log secrets: %" G_GUINT64_FORMAT " sessions, %"
      G_GUINT64_FORMAT " rotations, %u ICE passwords seen\n",
      stats_uint64 (p, "sessions-created"), stats_uint64 (p, "rotations"),
      g_hash_table_size (watch.ice_pwds));
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  log_capture_stop (capture);

  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);

  fail_unless (g_file_get_contents (capture->path, &log, NULL, NULL));
  log_capture_free (capture);
  GST_INFO ("debug log of %" G_GSIZE_FORMAT " bytes", strlen (log));
  fail_unless (g_hash_table_size (watch.ice_pwds) >= 2,
      "expected the ICE passwords of two sessions, have %u",
      g_hash_table_size (watch.ice_pwds));

  /* webrtcbin 1.22 itself logs the TURN URIs it is given (webrtcbin and
   * webrtcnice, DEBUG), its local ICE credentials (webrtcnice, DEBUG) and
   * every description it sets (webrtcbin, TRACE, "SDP contents"):
   * nothing whepsrc can change, so the TURN, ICE password and SDP checks
   * skip its lines.  The secrets webrtcbin never sees (the bearer token,
   * the endpoint's query) must be absent from every line. */
  lines = g_strsplit (log, "\n", -1);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i];
    g_autofree gchar *category = line_category (line);
    /* webrtcbin, webrtcnice, …: gst-plugins-bad's webrtc library. */
    gboolean webrtcbin = g_str_has_prefix (category, "webrtc");
    const gchar *v = strstr (line, "v=0");

    if (g_str_has_prefix (category, "whep"))
      whep_lines++;
    check_line (problems, line, auth, "the bearer token", &seen[0]);
    check_line (problems, line, query, "the endpoint's query token", &seen[1]);
    if (webrtcbin)
      continue;
    check_line (problems, line, link_pw, "the Link-header TURN credential",
        &seen[2]);
    check_line (problems, line, turn_pw, "the TURN password", &seen[3]);
    g_hash_table_iter_init (&iter, watch.ice_pwds);
    while (g_hash_table_iter_next (&iter, &pwd, NULL))
      check_line (problems, line, pwd, "an ICE password of our offer",
          &seen[4]);
    if (v && strstr (v, "o=") && !whole_sdp++)
      g_string_append_printf (problems, "\na whole SDP in one message: "
          "%.300s", line);
    if (g_str_equal (category, "whepclient")) {
      client_lines++;
      /* The client's close is about all its requests, no one session. */
      if (!strstr (line, ":<session")
          && !strstr (line, ":gst_whep_client_close") && !unnamed++)
        g_string_append_printf (problems, "\na client line that names no "
            "session: %.300s", line);
    }
  }
  fail_unless (whep_lines > 0 && client_lines > 0,
      "no whepsrc lines in the log (%u, %u client)", whep_lines, client_lines);
  fail_unless (problems->len == 0, "%u whole SDPs, %u unnamed client lines "
      "of %u:%s", whole_sdp, unnamed, client_lines, problems->str);
  g_hash_table_unref (watch.ice_pwds);
  g_mutex_clear (&watch.lock);
}

GST_END_TEST;

static Suite *
whepsrc_suite (void)
{
  Suite *s = suite_create ("whepsrc");
  TCase *media = tcase_create ("media");
  TCase *errors = tcase_create ("errors");
  TCase *api = tcase_create ("api");

  suite_add_tcase (s, media);
  tcase_add_test (media, test_plays_vp8_and_deletes_on_stop);
  tcase_add_test (media, test_plays_video_and_audio);
  tcase_add_test (media, test_plays_h264);
  tcase_add_test (media, test_plays_vp9);
  tcase_add_test (media, test_fec_offered_only_when_asked);
  tcase_add_test (media, test_audio_only_server);
  tcase_add_test (media, test_bearer_token_accepted);
  tcase_add_test (media, test_not_live_waits_then_plays);
  tcase_add_test (media, test_mediamtx_not_live_404_waits);
  tcase_add_test (media, test_busy_503_retry_after_then_plays);
  tcase_add_test (media, test_redirect_keeps_token);
  tcase_add_test (media, test_location_with_query_is_deleted);
  tcase_add_test (media, test_absolute_location_and_star_etag);
  tcase_add_test (media, test_no_location_warns_and_plays);
  tcase_add_test (media, test_counter_offer_406);
  tcase_add_test (media, test_janus_strict_content_type);
  tcase_add_test (media, test_framerate_from_the_server_sdp);
  tcase_add_test (media, test_status_follows_lifecycle);
  tcase_add_test (media, test_restart_after_stop_makes_new_session);
  tcase_add_test (media, test_stop_during_post_deletes_late_session);
  tcase_add_test (api, test_stop_while_server_holds_post);
  tcase_add_test (api, test_stop_during_continue_flood_leaves_nothing);
  tcase_add_test (api, test_stop_deletes_session_of_stalled_201);
  tcase_add_test (api, test_stop_with_unanswered_delete_leaves_nothing);
  tcase_add_test (media, test_pause_and_resume_keeps_session);
  tcase_add_test (media, test_rapid_start_stop_leaks_nothing);
  tcase_add_test (media, test_two_elements_share_threads_and_stop_alone);
  tcase_add_test (media, test_debug_log_holds_no_secrets);

  suite_add_tcase (s, errors);
  tcase_add_test (errors, test_video_caps_narrow_the_offer);
  tcase_add_test (errors, test_missing_token_is_not_authorized);
  tcase_add_test (errors, test_wrong_token_403_is_not_authorized);
  tcase_add_test (errors, test_unknown_endpoint_is_not_found);
  tcase_add_test (errors, test_server_error_retries_then_reports);
  tcase_add_test (errors, test_connection_refused_reports);
  tcase_add_test (errors, test_https_to_plain_http_is_an_error);
  tcase_add_test (errors, test_first_failure_warns_while_retrying);
  tcase_add_test (errors, test_answer_timeout_reports);
  tcase_add_test (errors, test_ice_that_never_starts_fails_at_connect_timeout);
  tcase_add_test (errors, test_garbage_answer_reports);
  tcase_add_test (errors,
      test_dtls_peer_not_matching_the_fingerprint_is_refused);
  tcase_add_test (errors, test_empty_answer_reports);
  tcase_add_test (errors, test_mismatched_answer_reports);

  suite_add_tcase (s, api);
  tcase_add_test (api, test_creating_starts_no_thread);
  tcase_add_test (api, test_missing_endpoint_fails_state_change);
  tcase_add_test (api, test_bad_endpoint_scheme_fails_state_change);
  tcase_add_test (api, test_uri_handler_maps_whep_schemes);
  tcase_add_test (api, test_missing_ca_file_fails_state_change);

  return s;
}

WHEP_CHECK_MAIN (whepsrc);
