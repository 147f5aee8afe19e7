/* whepsrc end-to-end tests: the element against the project's WHEP test
 * server (a real process, real HTTP on 127.0.0.1, real WebRTC with ICE
 * restricted to 127.0.0.1).  Every test checks from the server's own log
 * that each session it created was DELETEd.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <string.h>

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
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
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

GST_START_TEST (test_busy_503_retry_after_then_plays)
{
  TestServer *server = server_start ("--inject-status", "503",
      "--inject-count", "1", "--retry-after", "1", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 20);
  fail_unless_equals_int (server_count (server, "EVENT post"), 2);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_connection_refused_reports)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);
  g_autofree gchar *url = NULL;
  Player *p;
  GstMessage *error;

  /* A port that was free a moment ago and nobody listens on now. */
  g_socket_listener_close (listener);
  url = g_strdup_printf ("http://127.0.0.1:%u/whep/cam", port);
  p = player_new (url);
  g_object_set (p->src, "max-retries", 0, NULL);
  error = player_run (p, NULL, NULL, 10000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "Could not reach", 0);
  gst_message_unref (error);
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
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      fragment, 0);
  gst_message_unref (error);
  player_free (p);
  /* The failed session was deleted all the same. */
  server_assert_no_leak (server);
  server_stop (server);
}

GST_START_TEST (test_garbage_answer_reports)
{
  check_bad_answer ("--answer-garbage", "does not parse");
}

GST_END_TEST;

GST_START_TEST (test_empty_answer_reports)
{
  check_bad_answer ("--answer-empty", "without an SDP answer");
}

GST_END_TEST;

GST_START_TEST (test_mismatched_answer_reports)
{
  check_bad_answer ("--answer-mismatch", "does not match");
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
  check_plays (NULL, 20, "--location", "absolute", "--etag", "star",
      NULL);
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

GST_START_TEST (test_janus_strict_content_type)
{
  check_plays (NULL, 20, "--strict-content-type", "--patch", "405",
      NULL);
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
  TestServer *server = server_start ("--answer-delay", "800", NULL);
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

GST_START_TEST (test_rapid_start_stop_leaks_nothing)
{
  TestServer *server = server_start (NULL);
  Player *p = player_new (server->endpoint);
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
  tcase_add_test (media, test_status_follows_lifecycle);
  tcase_add_test (media, test_restart_after_stop_makes_new_session);
  tcase_add_test (media, test_stop_during_post_deletes_late_session);
  tcase_add_test (media, test_pause_and_resume_keeps_session);
  tcase_add_test (media, test_rapid_start_stop_leaks_nothing);

  suite_add_tcase (s, errors);
  tcase_add_test (errors, test_video_caps_narrow_the_offer);
  tcase_add_test (errors, test_missing_token_is_not_authorized);
  tcase_add_test (errors, test_wrong_token_403_is_not_authorized);
  tcase_add_test (errors, test_unknown_endpoint_is_not_found);
  tcase_add_test (errors, test_server_error_retries_then_reports);
  tcase_add_test (errors, test_connection_refused_reports);
  tcase_add_test (errors, test_answer_timeout_reports);
  tcase_add_test (errors, test_garbage_answer_reports);
  tcase_add_test (errors, test_empty_answer_reports);
  tcase_add_test (errors, test_mismatched_answer_reports);

  suite_add_tcase (s, api);
  tcase_add_test (api, test_missing_endpoint_fails_state_change);
  tcase_add_test (api, test_bad_endpoint_scheme_fails_state_change);
  tcase_add_test (api, test_uri_handler_maps_whep_schemes);
  tcase_add_test (api, test_missing_ca_file_fails_state_change);

  return s;
}

GST_CHECK_MAIN (whepsrc);
