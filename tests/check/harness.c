/* whepsrc tests — shared harness: the WHEP test server as a process, and a
 * pipeline around whepsrc that checks the frame counter of what it plays.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <string.h>

#include "framecode.h"

#include <openssl/crypto.h>

/* Timeouts are multiplied by WHEP_TEST_TIMEOUT_SCALE (e.g. 10 under
 * valgrind); they bound waiting, they do not measure speed. */
guint
scaled (guint timeout_ms)
{
  const gchar *scale = g_getenv ("WHEP_TEST_TIMEOUT_SCALE");
  gdouble factor = scale ? g_ascii_strtod (scale, NULL) : 1.0;

  return (guint) (timeout_ms * MAX (factor, 1.0));
}

/* Under valgrind (scripts/valgrind.sh sets WHEP_TEST_NOT_REALTIME) the
 * decoder runs tens of times slower than the stream, under ASan
 * (scripts/sanitize.sh) a few times: frames are lost to that slowness,
 * not to whepsrc, so the checks that are matters of time only print what
 * they see there.  Everywhere else they assert. */
gboolean
realtime_checks (void)
{
  return !g_getenv ("WHEP_TEST_NOT_REALTIME");
}

void
player_check_frames_exact_locked (Player * p, gboolean repeats_too)
{
  if (!realtime_checks ()) {
    g_printerr ("not real time: %u frames, %u lost, %u repeated (not "
        "checked)\n", p->video_frames, p->gaps, p->repeats);
    return;
  }
  fail_unless_equals_int (p->gaps, 0);
  if (repeats_too)
    fail_unless_equals_int (p->repeats, 0);
}

/* --- the test server process --- */


static gpointer
server_reader (gpointer data)
{
  TestServer *server = data;
  GInputStream *out = g_subprocess_get_stdout_pipe (server->process);
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (out);
  gchar *line;

  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, NULL))) {
    gint64 now = g_get_monotonic_time ();

    g_mutex_lock (&server->lock);
    g_ptr_array_add (server->lines, line);
    g_array_append_val (server->line_times, now);
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
guint
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

gint64
server_line_time (TestServer * server, const gchar * prefix)
{
  gint64 when = 0;
  guint i;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len && !when; i++)
    if (g_str_has_prefix (g_ptr_array_index (server->lines, i), prefix))
      when = g_array_index (server->line_times, gint64, i);
  g_mutex_unlock (&server->lock);
  return when;
}

/* Waits until at least @n lines start with @prefix. */
gboolean
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

/* In the forked server, before exec: a failing test leaves its test
 * function (and its process) without reaching server_stop(); the server
 * must not outlive it. */
static void
die_with_parent (gpointer parent_pid)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != GPOINTER_TO_INT (parent_pid))
    raise (SIGTERM);            /* the parent is already gone */
}

/* Starts the test server listening (HTTP and ICE) on @address only; in
 * network namespace @netns when set. */
static TestServer *
server_spawn (const gchar * netns, const gchar * address,
    const gchar * const *extra)
{
  const gchar *exe = g_getenv ("WHEP_TEST_SERVER");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  TestServer *server = g_new0 (TestServer, 1);
  const gchar *const *arg;
  const gchar *line;

  fail_unless (exe != NULL, "WHEP_TEST_SERVER is not set");
  if (netns) {
    /* ip execs the server: the pid and the death signal stay its own. */
    g_ptr_array_add (argv, (gpointer) "ip");
    g_ptr_array_add (argv, (gpointer) "netns");
    g_ptr_array_add (argv, (gpointer) "exec");
    g_ptr_array_add (argv, (gpointer) netns);
  }
  g_ptr_array_add (argv, (gpointer) exe);
  g_ptr_array_add (argv, (gpointer) "--address");
  g_ptr_array_add (argv, (gpointer) address);
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  g_ptr_array_add (argv, (gpointer) "--ice-address");
  g_ptr_array_add (argv, (gpointer) address);
  for (arg = extra; arg && *arg; arg++)
    g_ptr_array_add (argv, (gpointer) * arg);
  g_ptr_array_add (argv, NULL);

  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->lines = g_ptr_array_new_with_free_func (g_free);
  server->line_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent,
      GINT_TO_POINTER (getpid ()), NULL);
  /* The server is not under test: no tracer of ours, no shared log. */
  g_subprocess_launcher_unsetenv (launcher, "GST_TRACERS");
  g_subprocess_launcher_unsetenv (launcher, "GST_DEBUG_FILE");
  server->process = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &err);
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

TestServer *
server_start_argv (const gchar * const *extra)
{
  return server_spawn (NULL, "127.0.0.1", extra);
}

TestServer *
server_start_in_netns_argv (const gchar * netns, const gchar * address,
    const gchar * const *extra)
{
  return server_spawn (netns, address, extra);
}

TestServer *
server_start_in_netns (const gchar * netns, const gchar * address,
    const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return server_spawn (netns, address, (const gchar * const *) args->pdata);
}

TestServer *
server_start (const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return server_start_argv ((const gchar * const *) args->pdata);
}

/* Every session the server created must be gone (deleted, expired or
 * killed) before the server is asked to stop. */
void
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

/* The reader sees end of file once the server process is gone. */
static gboolean
server_has_exited (TestServer * server)
{
  gboolean eof;

  g_mutex_lock (&server->lock);
  eof = server->eof;
  g_mutex_unlock (&server->lock);
  return eof && g_subprocess_get_identifier (server->process) == NULL;
}

void
server_stop (TestServer * server)
{
  gint64 end =
      g_get_monotonic_time () + scaled (5000) * G_TIME_SPAN_MILLISECOND;
  gboolean exited;

  g_subprocess_send_signal (server->process, SIGTERM);
  /* Bounded: a server that does not stop is a bug to report, not a hang. */
  while (!(exited = server_has_exited (server))
      && g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  if (!exited) {
    g_subprocess_force_exit (server->process);
    g_subprocess_wait (server->process, NULL, NULL);
  }
  g_thread_join (server->reader);
  g_object_unref (server->process);
  g_ptr_array_unref (server->lines);
  g_array_unref (server->line_times);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_free (server->base_url);
  g_free (server->endpoint);
  g_free (server);
  fail_unless (exited, "the test server did not exit on SIGTERM within 5 s");
}

void
harness_init_before_gst (void)
{
  /* See harness.h.  The first initialisation decides: DTLS's later ones
   * (libssl through gst-plugins-bad's dtls) keep this setting. */
  if (!OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL))
    g_printerr ("harness: OpenSSL did not initialise\n");
}

void
harness_init_after_gst (void)
{
  const gchar *tracers = g_getenv ("GST_TRACERS");

  if (tracers && strstr (tracers, "leaks"))
    gst_check_add_log_filter (NULL, G_LOG_LEVEL_WARNING,
        g_regex_new ("^Leaks detected", 0, 0, NULL), NULL, NULL, NULL);
}

/* --- the pipeline under test --- */


static GstPadProbeReturn
player_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Player *p = data;
  gboolean video = g_object_get_data (G_OBJECT (pad), "player-video") != NULL;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    g_mutex_lock (&p->lock);
    if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
      p->stream_starts[video ? 0 : 1]++;
    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
      p->caps_events[video ? 0 : 1]++;
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP)
      p->gap_events[video ? 0 : 1]++;
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

    gint64 now = g_get_monotonic_time ();

    g_mutex_lock (&p->lock);
    p->video_frames++;
    if (p->last_arrival_us)
      p->max_arrival_gap_us = MAX (p->max_arrival_gap_us,
          now - p->last_arrival_us);
    p->last_arrival_us = now;
    if (GST_BUFFER_PTS_IS_VALID (buffer)) {
      if (GST_CLOCK_TIME_IS_VALID (p->last_pts)
          && GST_BUFFER_PTS (buffer) < p->last_pts)
        p->pts_backwards = TRUE;
      p->last_pts = GST_BUFFER_PTS (buffer);
    }
    if (!have)
      p->unreadable++;
    if (have) {
      p->counted++;
      if (p->last_counter >= 0) {
        if ((gint64) counter < p->last_counter)
          p->backwards++;
        if ((gint64) counter == p->last_counter)
          p->repeats++;
        else if ((gint64) counter > p->last_counter + 1)
          p->gaps += counter - p->last_counter - 1;
      }
      if ((gint64) counter != p->last_counter) {
        if (p->last_new_us && now - p->last_new_us > p->max_freeze_us) {
          p->max_freeze_us = now - p->last_new_us;
          p->max_freeze_end_us = now;
        }
        p->last_new_us = now;
      }
      p->last_counter = counter;
    }
    g_mutex_unlock (&p->lock);
  } else {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

    g_mutex_lock (&p->lock);
    p->audio_buffers++;
    /* Gap or overlap between this buffer and the previous one. */
    if (GST_BUFFER_PTS_IS_VALID (buffer)) {
      GstClockTimeDiff jump = GST_CLOCK_TIME_IS_VALID (p->audio_next_pts) ?
          ABS (GST_CLOCK_DIFF (p->audio_next_pts, GST_BUFFER_PTS (buffer))) : 0;

      if (jump > p->audio_max_jump) {
        p->audio_max_jump = jump;
        p->audio_max_jump_pts = GST_BUFFER_PTS (buffer);
      }
      p->audio_next_pts = GST_BUFFER_PTS (buffer) +
          (GST_BUFFER_DURATION_IS_VALID (buffer) ?
          GST_BUFFER_DURATION (buffer) : 0);
    }
    g_mutex_unlock (&p->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
player_pad_added (GstElement * src, GstPad * pad, Player * p)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  gboolean video = g_str_has_prefix (GST_PAD_NAME (pad), "video");
  const gchar *chain = video ? p->video_chain : p->audio_chain;
  GstPad *sinkpad;

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (p->pipeline), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  g_object_set_data (G_OBJECT (sinkpad), "player-video",
      GINT_TO_POINTER (video));
  if (chain) {
    g_autoptr (GError) err = NULL;
    GstElement *bin = gst_parse_bin_from_description (chain, TRUE, &err);
    GstPad *binsink, *binsrc;

    fail_unless (bin != NULL, "%s: %s", chain, err ? err->message : "");
    gst_bin_add (GST_BIN (p->pipeline), bin);
    binsink = gst_element_get_static_pad (bin, "sink");
    binsrc = gst_element_get_static_pad (bin, "src");
    fail_unless_equals_int (gst_pad_link (binsrc, sinkpad), GST_PAD_LINK_OK);
    fail_unless_equals_int (gst_pad_link (pad, binsink), GST_PAD_LINK_OK);
    gst_object_unref (binsink);
    gst_object_unref (binsrc);
    gst_element_sync_state_with_parent (bin);
  } else {
    fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  }
  gst_element_sync_state_with_parent (sink);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, player_probe, p, NULL);
  gst_object_unref (sinkpad);
  g_mutex_lock (&p->lock);
  g_ptr_array_add (p->pads, g_strdup (GST_PAD_NAME (pad)));
  g_mutex_unlock (&p->lock);
}

Player *
player_new (const gchar * endpoint)
{
  Player *p = g_new0 (Player, 1);

  g_mutex_init (&p->lock);
  p->last_counter = -1;
  p->last_pts = GST_CLOCK_TIME_NONE;
  p->audio_next_pts = GST_CLOCK_TIME_NONE;
  p->audio_max_jump_pts = GST_CLOCK_TIME_NONE;
  p->pads = g_ptr_array_new_with_free_func (g_free);
  p->warnings = g_ptr_array_new_with_free_func (g_free);
  p->pipeline = gst_pipeline_new (NULL);
  p->src = gst_element_factory_make ("whepsrc", NULL);
  fail_unless (p->src != NULL);
  g_object_set (p->src, "ice-local-addresses", "127.0.0.1", "timeout", 5, NULL);
  if (endpoint)
    g_object_set (p->src, "whep-endpoint", endpoint, NULL);
  g_signal_connect (p->src, "pad-added", G_CALLBACK (player_pad_added), p);
  gst_bin_add (GST_BIN (p->pipeline), p->src);
  return p;
}

void
player_free (Player * p)
{
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  gst_object_unref (p->pipeline);
  g_ptr_array_unref (p->pads);
  g_ptr_array_unref (p->warnings);
  g_mutex_clear (&p->lock);
  g_free (p);
}

guint
player_video_frames (Player * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->video_frames;
  g_mutex_unlock (&p->lock);
  return n;
}

guint
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
GstMessage *
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

gboolean
frames_at_least (Player * p, gpointer data)
{
  return player_video_frames (p) >= GPOINTER_TO_UINT (data);
}

gboolean
status_is (Player * p, gpointer data)
{
  gint status;
  g_object_get (p->src, "status", &status, NULL);
  return status == GPOINTER_TO_INT (data);
}

gint
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
void
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
void
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
  player_check_frames_exact_locked (p, TRUE);
  fail_if (p->pts_backwards);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);

  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  /* The DELETE happens before the state change returns. */
  fail_unless (server_count (server, "EVENT deleted") >= 1,
      "no DELETE seen by the server when whepsrc stopped");
  server_assert_no_leak (server);
}


void
player_reset_tracking (Player * p)
{
  g_mutex_lock (&p->lock);
  p->last_counter = -1;
  p->last_pts = GST_CLOCK_TIME_NONE;
  p->last_arrival_us = 0;
  p->max_arrival_gap_us = 0;
  p->last_new_us = 0;
  p->max_freeze_us = 0;
  p->max_freeze_end_us = 0;
  p->audio_next_pts = GST_CLOCK_TIME_NONE;
  p->audio_max_jump = 0;
  p->audio_max_jump_pts = GST_CLOCK_TIME_NONE;
  p->gaps = 0;
  p->repeats = 0;
  p->unreadable = 0;
  p->backwards = 0;
  g_mutex_unlock (&p->lock);
}

guint64
stats_uint64 (Player * p, const gchar * field)
{
  GstStructure *stats = NULL;
  guint64 value = 0;

  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_get_uint64 (stats, field, &value),
      "no %s in statistics", field);
  gst_structure_free (stats);
  return value;
}

guint
server_admin_post (TestServer * server, const gchar * path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *request = NULL;
  g_autofree gchar *host = g_strdup (server->base_url + strlen ("http://"));
  gchar reply[256] = { 0, };
  gssize n;
  guint status = 0;

  conn = g_socket_client_connect_to_host (client, host, 80, NULL, &err);
  fail_unless (conn != NULL, "admin connection: %s", err ? err->message : "");
  request = g_strdup_printf ("POST %s HTTP/1.0\r\nHost: %s\r\n"
      "Content-Length: 0\r\n\r\n", path, host);
  fail_unless (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (conn)), request, strlen (request), NULL, NULL, &err));
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
      reply, sizeof (reply) - 1, NULL, &err);
  if (n > 0)
    sscanf (reply, "HTTP/%*s %u", &status);
  return status;
}

gchar *
stats_last_error (Player * p)
{
  GstStructure *stats = NULL;
  gchar *text;

  g_object_get (p->src, "statistics", &stats, NULL);
  text = g_strdup (gst_structure_get_string (stats, "last-error"));
  gst_structure_free (stats);
  return text;
}

void
stop_and_check_no_leak (TestServer * server, Player * p)
{
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  server_assert_no_leak (server);
  player_free (p);
  server_stop (server);
}

GstStructure *
stats_candidate_pair (Player * p)
{
  gint64 end =
      g_get_monotonic_time () + scaled (3000) * G_TIME_SPAN_MILLISECOND;
  GstStructure *copy = NULL;

  /* The statistics show the pair webrtcbin last reported: asked for at
   * connection, at the first frame and every 2 s, answered a moment
   * later (reading them never waits). */
  while (!copy) {
    GstStructure *stats = NULL;
    const GstStructure *pair = NULL;

    g_object_get (p->src, "statistics", &stats, NULL);
    fail_unless (stats != NULL);
    if (gst_structure_has_field_typed (stats, "candidate-pair",
            GST_TYPE_STRUCTURE))
      pair = gst_value_get_structure (gst_structure_get_value (stats,
              "candidate-pair"));
    if (pair)
      copy = gst_structure_copy (pair);
    gst_structure_free (stats);
    if (copy || g_get_monotonic_time () > end)
      break;
    g_usleep (50 * G_TIME_SPAN_MILLISECOND);
  }
  return copy;
}

void
run_without_error (Player * p, gboolean (*done) (Player *, gpointer),
    gpointer data, guint timeout_ms)
{
  GstMessage *error = player_run (p, done, data, timeout_ms);

  if (error) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_error (error, &err, NULL);
    fail ("unexpected error: %s", err->message);
  }
}

gboolean
rotations_at_least (Player * p, gpointer data)
{
  return stats_uint64 (p, "rotations") >= GPOINTER_TO_UINT (data);
}

gboolean
early_losses_at_least (Player * p, gpointer data)
{
  return stats_uint64 (p, "early-losses") >= GPOINTER_TO_UINT (data);
}

gboolean
stats_boolean (Player * p, const gchar * field)
{
  GstStructure *stats = NULL;
  gboolean value = FALSE;

  g_object_get (p->src, "statistics", &stats, NULL);
  fail_unless (gst_structure_get_boolean (stats, field, &value),
      "no %s in statistics", field);
  gst_structure_free (stats);
  return value;
}


/* --- any server program --- */

TestServer *
server_start_program (const gchar * const *argv, guint listen_timeout_ms)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  TestServer *server;
  const gchar *line;
  guint i;

  fail_unless (argv != NULL && argv[0] != NULL, "no program to start");
  server = g_new0 (TestServer, 1);
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->lines = g_ptr_array_new_with_free_func (g_free);
  server->line_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent,
      GINT_TO_POINTER (getpid ()), NULL);
  server->process = g_subprocess_launcher_spawnv (launcher, argv, &err);
  fail_unless (server->process != NULL, "cannot start %s: %s", argv[0],
      err ? err->message : "?");
  server->reader = g_thread_new ("server-log", server_reader, server);

  fail_unless (server_wait (server, "LISTENING ", 1,
          listen_timeout_ms ? listen_timeout_ms : 20000),
      "%s did not start listening", argv[0]);
  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len; i++) {
    line = g_ptr_array_index (server->lines, i);
    if (g_str_has_prefix (line, "LISTENING ")) {
      server->base_url = g_strdup (line + strlen ("LISTENING "));
      break;
    }
  }
  g_mutex_unlock (&server->lock);
  fail_unless (server->base_url != NULL
      && g_str_has_prefix (server->base_url, "http"),
      "%s listens on no http URL", argv[0]);
  server->endpoint = g_strdup_printf ("%s/whep/cam", server->base_url);
  return server;
}

/* --- a raw WHEP server that misbehaves --- */

struct _RawWhepServer
{
  RawServer *raw;
  guint mode;
  gchar *endpoint;
};

static void
raw_whep_answer_post (RawWhepServer * ws, RawServer * srv, GSocket * conn)
{
  static const gchar head[] = "HTTP/1.1 201 Created\r\n"
      "Content-Type: application/sdp\r\nLocation: /session/raw\r\n"
      "Content-Length: 1000\r\n\r\n";
  guint i;

  switch (ws->mode & 0xff) {
    case RAW_WHEP_HOLD_POST:
      if (!raw_hold (srv, conn, RAW_WHEP_POST_HOLD_MS)
          || raw_server_stopping (srv))
        return;
      raw_server_record (srv, "RELEASED");
      raw_send_str (conn, "HTTP/1.1 503 Service Unavailable\r\n"
          "Content-Length: 0\r\n\r\n");
      break;
    case RAW_WHEP_CONTINUE_FLOOD:
      while (!raw_server_stopping (srv)
          && raw_send_str (conn, "HTTP/1.1 100 Continue\r\n\r\n"));
      break;
    case RAW_WHEP_HEADERS_TRICKLE:
      for (i = 0; !raw_server_stopping (srv); i++) {
        gchar byte[2] = { head[i % (sizeof (head) - 5)], 0 };

        if (!raw_send_str (conn, byte))
          break;
        g_usleep (20 * 1000);
      }
      break;
    case RAW_WHEP_CREATED_STALLED:
      if (raw_send_str (conn, head) && raw_send_str (conn, "v=0\r\no=- 0"))
        raw_hold (srv, conn, 0);
      break;
  }
}

static gboolean
raw_whep_answer (RawServer * srv, GSocket * conn, const gchar * request,
    gpointer data)
{
  RawWhepServer *ws = data;

  if (g_str_has_prefix (request, "POST ")) {
    raw_whep_answer_post (ws, srv, conn);
    return FALSE;
  }
  if (g_str_has_prefix (request, "DELETE ")
      && (ws->mode & RAW_WHEP_HOLD_DELETE)) {
    raw_hold (srv, conn, 0);
    return FALSE;
  }
  return raw_send_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" "\r\n");
}

RawWhepServer *
raw_whep_server_new (guint mode)
{
  RawWhepServer *ws = g_new0 (RawWhepServer, 1);

  ws->mode = mode;
  ws->raw = raw_server_new (raw_whep_answer, ws);
  ws->endpoint = raw_server_url (ws->raw, "/whep");
  return ws;
}

const gchar *
raw_whep_server_endpoint (RawWhepServer * srv)
{
  return srv->endpoint;
}

gboolean
raw_whep_server_wait (RawWhepServer * srv, const gchar * prefix,
    guint timeout_ms)
{
  return raw_server_wait (srv->raw, prefix, scaled (timeout_ms));
}

void
raw_whep_server_free (RawWhepServer * srv)
{
  raw_server_free (srv->raw);
  g_free (srv->endpoint);
  g_free (srv);
}

guint
count_threads_named (const gchar * prefix)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  guint n = 0;

  while (dir && (tid = g_dir_read_name (dir))) {
    g_autofree gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    g_autofree gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)
        && g_str_has_prefix (comm, prefix))
      n++;
  }
  return n;
}

guint
count_whep_threads (void)
{
  return count_threads_named ("whep-http") +
      count_threads_named ("whepsrc-ctl");
}

guint
count_open_sockets (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const gchar *fd;
  guint n = 0;

  while (dir && (fd = g_dir_read_name (dir))) {
    g_autofree gchar *path = g_strdup_printf ("/proc/self/fd/%s", fd);
    g_autofree gchar *target = g_file_read_link (path, NULL);

    if (target && g_str_has_prefix (target, "socket:"))
      n++;
  }
  return n;
}
