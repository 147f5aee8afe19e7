/* whepsrc end-to-end tests: the element against the project's WHEP test
 * server (a real process, real HTTP on 127.0.0.1, real WebRTC with ICE
 * restricted to 127.0.0.1).  Every test checks from the server's own log
 * that each session it created was DELETEd.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "framecode.h"

/* Timeouts are multiplied by WHEP_TEST_TIMEOUT_SCALE (e.g. 10 under
 * valgrind); they bound waiting, they do not measure speed. */
static guint
scaled (guint timeout_ms)
{
  const gchar *scale = g_getenv ("WHEP_TEST_TIMEOUT_SCALE");
  gdouble factor = scale ? g_ascii_strtod (scale, NULL) : 1.0;

  return (guint) (timeout_ms * MAX (factor, 1.0));
}

/* --- the test server process --- */

typedef struct
{
  GSubprocess *process;
  GThread *reader;
  GMutex lock;
  GCond cond;
  GPtrArray *lines;             /* every stdout line */
  gboolean eof;
  gchar *base_url;              /* http://127.0.0.1:PORT */
  gchar *endpoint;              /* base_url + /whep/cam */
} TestServer;

static gpointer
server_reader (gpointer data)
{
  TestServer *server = data;
  GInputStream *out = g_subprocess_get_stdout_pipe (server->process);
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (out);
  gchar *line;

  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, NULL))) {
    g_mutex_lock (&server->lock);
    g_ptr_array_add (server->lines, line);
    g_cond_broadcast (&server->cond);
    g_mutex_unlock (&server->lock);
  }
  g_mutex_lock (&server->lock);
  server->eof = TRUE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
  return NULL;
}

/* Lines starting with @prefix so far. */
static guint
server_count (TestServer * server, const gchar * prefix)
{
  guint i, n = 0;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (server->lines, i), prefix))
      n++;
  g_mutex_unlock (&server->lock);
  return n;
}

/* Waits until at least @n lines start with @prefix. */
static gboolean
server_wait (TestServer * server, const gchar * prefix, guint n,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + scaled (timeout_ms) *
      G_TIME_SPAN_MILLISECOND;

  while (server_count (server, prefix) < n) {
    gboolean ended;
    g_mutex_lock (&server->lock);
    ended = server->eof;
    if (!ended)
      g_cond_wait_until (&server->cond, &server->lock, MIN (end,
              g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND));
    g_mutex_unlock (&server->lock);
    if (ended || g_get_monotonic_time () >= end)
      return server_count (server, prefix) >= n;
  }
  return TRUE;
}

static TestServer *
server_start_argv (const gchar * const *extra)
{
  const gchar *exe = g_getenv ("WHEP_TEST_SERVER");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) err = NULL;
  TestServer *server = g_new0 (TestServer, 1);
  const gchar *const *arg;
  const gchar *line;

  fail_unless (exe != NULL, "WHEP_TEST_SERVER is not set");
  g_ptr_array_add (argv, (gpointer) exe);
  g_ptr_array_add (argv, (gpointer) "--address");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1");
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  g_ptr_array_add (argv, (gpointer) "--ice-address");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1");
  for (arg = extra; arg && *arg; arg++)
    g_ptr_array_add (argv, (gpointer) * arg);
  g_ptr_array_add (argv, NULL);

  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->lines = g_ptr_array_new_with_free_func (g_free);
  server->process = g_subprocess_newv ((const gchar * const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err);
  fail_unless (server->process != NULL, "cannot start %s: %s", exe,
      err ? err->message : "?");
  server->reader = g_thread_new ("server-log", server_reader, server);

  fail_unless (server_wait (server, "LISTENING ", 1, 10000),
      "the test server did not start listening");
  g_mutex_lock (&server->lock);
  line = g_ptr_array_index (server->lines, 0);
  g_mutex_unlock (&server->lock);
  server->base_url = g_strdup (line + strlen ("LISTENING "));
  server->endpoint = g_strdup_printf ("%s/whep/cam", server->base_url);
  return server;
}

static TestServer *
server_start (const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return server_start_argv ((const gchar * const *) args->pdata);
}

/* Every session the server created must be gone (deleted, expired or
 * killed) before the server is asked to stop. */
static void
server_assert_no_leak (TestServer * server)
{
  guint created = server_count (server, "EVENT created");
  guint gone;

  server_wait (server, "EVENT deleted", 1, created ? 3000 : 0);
  gone = server_count (server, "EVENT deleted")
      + server_count (server, "EVENT expired")
      + server_count (server, "EVENT killed");
  fail_unless_equals_int (gone, created);
}

static void
server_stop (TestServer * server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  g_thread_join (server->reader);
  g_object_unref (server->process);
  g_ptr_array_unref (server->lines);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_free (server->base_url);
  g_free (server->endpoint);
  g_free (server);
}

/* --- the pipeline under test --- */

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GMutex lock;
  guint video_frames;
  guint audio_buffers;
  guint counted;
  guint gaps;
  guint repeats;
  gint64 last_counter;
  GstClockTime last_pts;
  gboolean pts_backwards;
  GPtrArray *pads;              /* names of exposed pads */
  guint eos_events;
  guint flush_events;
  GPtrArray *warnings;          /* texts of warning messages */
} Player;

static GstPadProbeReturn
player_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Player *p = data;
  gboolean video = g_str_has_prefix (GST_PAD_NAME (GST_PAD_PEER (pad)) ?
      GST_PAD_NAME (GST_PAD_PEER (pad)) : "", "video");

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    g_mutex_lock (&p->lock);
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      p->eos_events++;
    if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START)
      p->flush_events++;
    g_mutex_unlock (&p->lock);
    return GST_PAD_PROBE_OK;
  }

  if (video) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
    GstVideoInfo vinfo;
    guint32 counter;
    gboolean have = caps && gst_video_info_from_caps (&vinfo, caps)
        && whep_framecode_read_buffer (buffer, &vinfo, &counter);

    g_mutex_lock (&p->lock);
    p->video_frames++;
    if (GST_BUFFER_PTS_IS_VALID (buffer)) {
      if (GST_CLOCK_TIME_IS_VALID (p->last_pts)
          && GST_BUFFER_PTS (buffer) < p->last_pts)
        p->pts_backwards = TRUE;
      p->last_pts = GST_BUFFER_PTS (buffer);
    }
    if (have) {
      p->counted++;
      if (p->last_counter >= 0) {
        if ((gint64) counter == p->last_counter)
          p->repeats++;
        else if ((gint64) counter > p->last_counter + 1)
          p->gaps += counter - p->last_counter - 1;
      }
      p->last_counter = counter;
    }
    g_mutex_unlock (&p->lock);
  } else {
    g_mutex_lock (&p->lock);
    p->audio_buffers++;
    g_mutex_unlock (&p->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
player_pad_added (GstElement * src, GstPad * pad, Player * p)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *sinkpad;

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (p->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, player_probe, p, NULL);
  gst_object_unref (sinkpad);
  g_mutex_lock (&p->lock);
  g_ptr_array_add (p->pads, g_strdup (GST_PAD_NAME (pad)));
  g_mutex_unlock (&p->lock);
}

static Player *
player_new (const gchar * endpoint)
{
  Player *p = g_new0 (Player, 1);

  g_mutex_init (&p->lock);
  p->last_counter = -1;
  p->last_pts = GST_CLOCK_TIME_NONE;
  p->pads = g_ptr_array_new_with_free_func (g_free);
  p->warnings = g_ptr_array_new_with_free_func (g_free);
  p->pipeline = gst_pipeline_new (NULL);
  p->src = gst_element_factory_make ("whepsrc", NULL);
  fail_unless (p->src != NULL);
  g_object_set (p->src, "ice-local-addresses", "127.0.0.1", "timeout", 5,
      NULL);
  if (endpoint)
    g_object_set (p->src, "whep-endpoint", endpoint, NULL);
  g_signal_connect (p->src, "pad-added", G_CALLBACK (player_pad_added), p);
  gst_bin_add (GST_BIN (p->pipeline), p->src);
  return p;
}

static void
player_free (Player * p)
{
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  gst_object_unref (p->pipeline);
  g_ptr_array_unref (p->pads);
  g_ptr_array_unref (p->warnings);
  g_mutex_clear (&p->lock);
  g_free (p);
}

static guint
player_video_frames (Player * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->video_frames;
  g_mutex_unlock (&p->lock);
  return n;
}

static guint
player_audio_buffers (Player * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->audio_buffers;
  g_mutex_unlock (&p->lock);
  return n;
}

/* Runs the pipeline until @done says so, an error arrives or @timeout_ms
 * passes.  Returns the error message (or NULL); the caller owns it. */
static GstMessage *
player_run (Player * p, gboolean (*done) (Player * p, gpointer data),
    gpointer data, guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus (p->pipeline);
  gint64 end = g_get_monotonic_time () + scaled (timeout_ms) *
      G_TIME_SPAN_MILLISECOND;
  GstMessage *error = NULL;

  if (GST_STATE (p->pipeline) != GST_STATE_PLAYING
      && gst_element_set_state (p->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    error = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    gst_object_unref (bus);
    fail_unless (error != NULL, "state change failed without an error");
    return error;
  }

  while (!error && g_get_monotonic_time () < end && !(done && done (p, data))) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_ptr_array_add (p->warnings, g_strdup (err->message));
      g_error_free (err);
      gst_message_unref (msg);
    } else if (msg) {
      error = msg;
    }
  }
  gst_object_unref (bus);
  return error;
}

static gboolean
frames_at_least (Player * p, gpointer data)
{
  return player_video_frames (p) >= GPOINTER_TO_UINT (data);
}

static gboolean
status_is (Player * p, gpointer data)
{
  gint status;
  g_object_get (p->src, "status", &status, NULL);
  return status == GPOINTER_TO_INT (data);
}

static gint
status_value (const gchar * nick)
{
  GEnumClass *klass = g_type_class_ref (g_type_from_name ("GstWhepSrcStatus"));
  GEnumValue *v = g_enum_get_value_by_nick (klass, nick);
  gint value;

  fail_unless (v != NULL, "no status %s", nick);
  value = v->value;
  g_type_class_unref (klass);
  return value;
}

/* Checks an error message: domain/code, a fragment of its text, and the
 * HTTP status in its details (0: do not check). */
static void
assert_error (GstMessage * msg, GQuark domain, gint code,
    const gchar * fragment, guint http_status)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  const GstStructure *details = NULL;

  fail_unless (msg != NULL, "expected an error, got none");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s (%s)", err->message, GST_STR_NULL (debug));
  fail_unless (err->domain == domain && err->code == code,
      "unexpected error %s:%d: %s", g_quark_to_string (err->domain),
      err->code, err->message);
  if (fragment)
    fail_unless (strstr (err->message, fragment) != NULL,
        "'%s' not in error '%s'", fragment, err->message);
  if (http_status) {
    guint got = 0;
    gst_message_parse_error_details (msg, &details);
    fail_unless (details != NULL);
    fail_unless (gst_structure_get_uint (details, "http-status-code", &got));
    fail_unless_equals_int (got, http_status);
  }
}

/* Plays until @frames frames, checks the counter, stops, checks DELETE. */
static void
play_and_check (TestServer * server, Player * p, guint frames)
{
  GstMessage *error = player_run (p, frames_at_least,
      GUINT_TO_POINTER (frames), 15000);

  if (error) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_error (error, &err, NULL);
    fail ("unexpected error: %s", err->message);
  }
  fail_unless (player_video_frames (p) >= frames, "only %u frames",
      player_video_frames (p));
  g_mutex_lock (&p->lock);
  fail_unless (p->counted >= frames - 1, "frame counter unreadable");
  fail_unless_equals_int (p->gaps, 0);
  fail_unless_equals_int (p->repeats, 0);
  fail_if (p->pts_backwards);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);

  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  /* The DELETE happens before the state change returns. */
  fail_unless (server_count (server, "EVENT deleted") >= 1,
      "no DELETE seen by the server when whepsrc stopped");
  server_assert_no_leak (server);
}

/* --- tests --- */

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
  TestServer *server = server_start ("--video", "h264", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 30);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_plays_vp9)
{
  TestServer *server = server_start ("--video", "vp9", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 30);
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
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
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
  TestServer *server = server_start ("--token", "s3cret", NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "auth-token", "s3cret", NULL);
  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
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
  TestServer *server = server_start ("--answer-delay", "4000", NULL);
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
  g_usleep (G_USEC_PER_SEC * 4);
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
  TestServer *server = server_start ("--redirect", "307", "--token", "tok",
      NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "auth-token", "tok", NULL);
  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_location_with_query_is_deleted)
{
  TestServer *server = server_start ("--location", "query", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_absolute_location_and_star_etag)
{
  TestServer *server = server_start ("--location", "absolute", "--etag",
      "star", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
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
  TestServer *server = server_start ("--counter-offer", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_janus_strict_content_type)
{
  TestServer *server = server_start ("--strict-content-type", "--patch",
      "405", NULL);
  Player *p = player_new (server->endpoint);

  play_and_check (server, p, 20);
  player_free (p);
  server_stop (server);
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
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
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

  return s;
}

GST_CHECK_MAIN (whepsrc);
