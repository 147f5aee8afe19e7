/* whepsrc interop tests: whepsrc against WHEP servers built on other WebRTC
 * stacks (tests/interop/), each started by the test itself, with the quirks
 * real servers have.  Every server paints the frame counter of
 * tests/common/framecode.h into its pictures before encoding, from one
 * clock for all its sessions, so what whepsrc plays proves that no frame
 * was lost, repeated or reordered across sessions.
 *
 * wrtc: tests/interop/wrtc-server.js on libwebrtc (npm @roamhq/wrtc): a
 * peer connection, VP8 encoder and RTCP per session.  Like the Node
 * servers it imitates it answers 404 to a GET on a live session unless
 * --get-status says otherwise.
 *
 * Needs node and `npm ci` in tests/interop (scripts/install-deps.sh does
 * both); without them the binary exits 77 (SKIP).  WHEP_INTEROP_EXTRA_ARGS
 * (space-separated) is appended to every server's command line, to see
 * what fails for other reasons than a quirk (e.g. "--get-status 405").
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "stunlab.h"

#include <string.h>

#include "framecode.h"

static gchar *node_program;
static const gchar *interop_dir;

/* Rotations of the rotation cases: 10 in the suite (CI's time), more with
 * WHEP_INTEROP_ROTATIONS (bench/interop.sh measures 120 s runs). */
static guint
rotations_wanted (void)
{
  const gchar *env = g_getenv ("WHEP_INTEROP_ROTATIONS");
  guint64 n = env ? g_ascii_strtoull (env, NULL, 10) : 0;

  return n >= 2 && n <= 1000 ? (guint) n : 10;
}

/* --- the servers --- */

static TestServer *
interop_start_argv (const gchar * script, const gchar * const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) extra = NULL;
  const gchar *env = g_getenv ("WHEP_INTEROP_EXTRA_ARGS");
  const gchar *const *arg;
  gchar **e;

  g_ptr_array_add (argv, g_strdup (node_program));
  g_ptr_array_add (argv, g_build_filename (interop_dir, script, NULL));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup ("0"));
  for (arg = args; arg && *arg; arg++)
    g_ptr_array_add (argv, g_strdup (*arg));
  if (env != NULL) {
    extra = g_strsplit (env, " ", -1);
    for (e = extra; *e; e++)
      if (**e != '\0')
        g_ptr_array_add (argv, g_strdup (*e));
  }
  g_ptr_array_add (argv, NULL);
  return server_start_program ((const gchar * const *) argv->pdata, 20000);
}

/* The server of @stack ("wrtc", "werift" or "janus"; the last two with
 * their rtp-camera, Janus with loopback-ice.so) with the options given
 * (NULL-terminated, from @first_arg on). */
static TestServer *
stack_start_valist (const gchar * stack, const gchar * first_arg, va_list ap)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  gboolean wrtc = g_str_equal (stack, "wrtc");
  gboolean janus = g_str_equal (stack, "janus");
  const gchar *arg;

  if (!wrtc) {
    g_ptr_array_add (args, (gpointer) "--camera");
    g_ptr_array_add (args, (gpointer) g_getenv ("WHEP_RTP_CAMERA"));
  }
  if (janus) {
    g_ptr_array_add (args, (gpointer) "--loopback-ice");
    g_ptr_array_add (args, (gpointer) g_getenv ("WHEP_JANUS_LOOPBACK_ICE"));
  }
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const gchar *))
      g_ptr_array_add (args, (gpointer) arg);
  g_ptr_array_add (args, NULL);
  return interop_start_argv (wrtc ? "wrtc-server.js" : janus ?
      "janus-front.js" : "werift-server.js",
      (const gchar * const *) args->pdata);
}

/* The libwebrtc server with the options given (NULL-terminated). */
static TestServer *
wrtc_start (const gchar * first_arg, ...)
{
  TestServer *server;
  va_list ap;

  va_start (ap, first_arg);
  server = stack_start_valist ("wrtc", first_arg, ap);
  va_end (ap);
  return server;
}

/* Whether the server printed exactly @line. */
static gboolean
server_has_line (TestServer * server, const gchar * line)
{
  gboolean found = FALSE;
  guint i;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len && !found; i++)
    found = g_strcmp0 (g_ptr_array_index (server->lines, i), line) == 0;
  g_mutex_unlock (&server->lock);
  return found;
}

/* The id in the first line starting with @prefix ("EVENT silenced id="),
 * or NULL; free it. */
static gchar *
server_first_id (TestServer * server, const gchar * prefix)
{
  gchar *id = NULL;
  guint i;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len && id == NULL; i++) {
    const gchar *line = g_ptr_array_index (server->lines, i);

    if (g_str_has_prefix (line, prefix))
      id = g_strdup (line + strlen (prefix));
  }
  g_mutex_unlock (&server->lock);
  if (id != NULL)
    g_strdelimit (id, " ", '\0');
  return id;
}

/* --- what whepsrc outputs: the order of the counter --- */

/* On whepsrc's video pad itself, besides the harness's count of gaps and
 * repeats: counters that go back (out of order, or an old session's frame
 * after a newer one's). */
typedef struct
{
  GMutex lock;
  gint64 last;                  /* -1: none yet */
  guint backwards;
  guint read;
} Order;

static Order order;

static GstPadProbeReturn
order_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  guint32 counter;

  if (caps == NULL || !gst_video_info_from_caps (&vinfo, caps)
      || !whep_framecode_read_buffer (buffer, &vinfo, &counter))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&order.lock);
  order.read++;
  if (order.last >= 0 && (gint64) counter < order.last) {
    order.backwards++;
    GST_WARNING ("counter went back from %" G_GINT64_FORMAT " to %u",
        order.last, counter);
  }
  order.last = counter;
  g_mutex_unlock (&order.lock);
  return GST_PAD_PROBE_OK;
}

static void
order_pad_added (GstElement * src, GstPad * pad, gpointer data)
{
  if (g_str_has_prefix (GST_PAD_NAME (pad), "video"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, order_probe, NULL, NULL);
}

/* A player whose counter order is followed too. */
static Player *
interop_player (TestServer * server)
{
  Player *p = player_new (server->endpoint);

  g_mutex_lock (&order.lock);
  order.last = -1;
  order.backwards = 0;
  order.read = 0;
  g_mutex_unlock (&order.lock);
  g_signal_connect (p->src, "pad-added", G_CALLBACK (order_pad_added), NULL);
  return p;
}

static gint64
last_counter (Player * p)
{
  gint64 last;

  g_mutex_lock (&p->lock);
  last = p->last_counter;
  g_mutex_unlock (&p->lock);
  return last;
}

/* Frames @p has shown, and the counter in them, on stderr (the report). */
static void
report (const gchar * test, Player * p, TestServer * server)
{
  g_mutex_lock (&p->lock);
  g_printerr ("%s: %u frames, %u counters read, %u missing, %u repeated, "
      "%u went back; %" G_GUINT64_FORMAT " sessions, %" G_GUINT64_FORMAT
      " rotations, %" G_GUINT64_FORMAT " early losses; server: %u created, "
      "%u deleted, %u expired, %u killed\n", test, p->video_frames,
      p->counted, p->gaps, p->repeats, order.backwards,
      stats_uint64 (p, "sessions-created"), stats_uint64 (p, "rotations"),
      stats_uint64 (p, "early-losses"), server_count (server,
          "EVENT created"), server_count (server, "EVENT deleted"),
      server_count (server, "EVENT expired"), server_count (server,
          "EVENT killed"));
  g_mutex_unlock (&p->lock);
}

/* Every frame shown carried the next counter: none lost, repeated or out
 * of order, and one stream for the element's life. */
static void
assert_continuous (Player * p)
{
  g_mutex_lock (&p->lock);
  fail_unless (p->counted + 2 >= p->video_frames,
      "frame counter unreadable (%u of %u)", p->counted, p->video_frames);
  fail_unless (p->gaps == 0, "%u frames lost", p->gaps);
  fail_unless (p->repeats == 0, "%u frames repeated", p->repeats);
  fail_if (p->pts_backwards, "timestamps went back");
  fail_unless_equals_int (p->eos_events, 0);
  fail_unless_equals_int (p->flush_events, 0);
  fail_unless_equals_int (p->stream_starts[0], 1);
  g_mutex_unlock (&p->lock);
  g_mutex_lock (&order.lock);
  fail_unless (order.backwards == 0, "the counter went back %u times",
      order.backwards);
  g_mutex_unlock (&order.lock);
}

/* The largest gap or overlap allowed between consecutive audio buffers:
 * whepsrc slews lip-sync corrections by 1 ms a packet, so that a sender's
 * reports (a second off, from werift) never make the audio jump. */
#define MAX_AUDIO_JUMP (5 * GST_MSECOND)

/* The audio's timestamps followed each other without a gap or an overlap
 * larger than MAX_AUDIO_JUMP. */
static void
assert_audio_continuous (Player * p)
{
  g_mutex_lock (&p->lock);
  fail_unless (p->audio_buffers > 0, "no audio");
  fail_unless (p->audio_max_jump <= MAX_AUDIO_JUMP,
      "the audio's timestamps jumped by %" GST_TIME_FORMAT,
      GST_TIME_ARGS (p->audio_max_jump));
  g_mutex_unlock (&p->lock);
}

/* Plays @frames frames from @server in one session with the counter
 * intact, then stops: the session was DELETEd. */
static void
play_one_session (const gchar * test, TestServer * server, Player * p,
    guint frames)
{
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames),
      frames * 100 + 10000);
  report (test, p, server);
  fail_unless (player_video_frames (p) >= frames, "only %u frames",
      player_video_frames (p));
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  assert_continuous (p);
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 1);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), 1);
  stop_and_check_no_leak (server, p);
}

/* --- libwebrtc --- */

GST_START_TEST (test_wrtc_plays_with_counter)
{
  /* libwebrtc's own rate control; 5 s, longer than whepsrc's liveness
   * check (a GET every 2 s) waits. */
  TestServer *server = wrtc_start (NULL);
  Player *p = interop_player (server);

  play_one_session ("wrtc default bitrate", server, p, 150);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_counter_readable_at_300_kbps)
{
  TestServer *server = wrtc_start ("--video-bitrate", "300", NULL);
  Player *p = interop_player (server);

  play_one_session ("wrtc 300 kbit/s", server, p, 150);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_rotations_lose_no_frame)
{
  /* 2 s sessions, each its own encoder, RTCP and DTLS certificate. */
  TestServer *server = wrtc_start ("--session-limit", "2", NULL);
  Player *p = interop_player (server);
  guint created, rotations = rotations_wanted ();

  g_object_set (p->src, "session-lifetime", 2, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (rotations),
      rotations * 6000);
  report ("wrtc rotations", p, server);
  fail_unless (stats_uint64 (p, "rotations") >= rotations);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  fail_unless_equals_int (stats_uint64 (p, "video-holds"), 0);
  assert_continuous (p);
  fail_unless_equals_int (p->pads->len, 1);
  /* whepsrc always moved on before the server cut a session... */
  fail_unless_equals_int (server_count (server, "EVENT expired"), 0);
  /* ...and DELETEd every session it made. */
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  created = server_count (server, "EVENT created");
  fail_unless (created >= rotations + 1, "%u sessions", created);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), created);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* After rotations with encoded output: whepsrc's pad carried VP8, no
 * session was lost or held, and every picture decoded after whepsrc was
 * the next one, whole. */
static void
assert_encoded_rotations_exact (Player * p, TestServer * server)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (p->src, "video_0");
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

  fail_unless (caps && gst_structure_has_name (gst_caps_get_structure (caps,
              0), "video/x-vp8"), "not encoded output");
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  fail_unless_equals_int (stats_uint64 (p, "video-holds"), 0);
  assert_continuous (p);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->unreadable, 0);
  g_mutex_unlock (&p->lock);
  fail_unless_equals_int (server_count (server, "EVENT expired"), 0);
}

/* Encoded output (a decoder after whepsrc names VP8) from libwebrtc, whose
 * sessions are each an encoding of their own: a takeover cannot continue
 * the old session's pictures with the new one's frames, so it switches at
 * a key frame of the new session that the old one has not shown yet (and
 * asks for one at once), matched by capture time.  No frame lost,
 * repeated or broken. */
GST_START_TEST (test_wrtc_encoded_rotations_lose_no_frame)
{
  TestServer *server = wrtc_start ("--session-limit", "4", NULL);
  Player *p = interop_player (server);

  p->video_chain = "vp8dec";
  g_object_set (p->src, "session-lifetime", 4, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (5), 60000);
  report ("wrtc encoded rotations", p, server);
  assert_encoded_rotations_exact (p, server);
  fail_unless (stats_uint64 (p, "video-takeovers-by-time") >= 4);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_early_kill_holds_and_recovers)
{
  /* The server closes each peer connection after 3 s and forgets it. */
  TestServer *server = wrtc_start ("--kill-after", "3", NULL);
  Player *p = interop_player (server);
  g_autofree gchar *last_error = NULL;
  gint64 at_loss;
  guint frames;

  g_object_set (p->src, "media-timeout", 1000, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 20000);
  last_error = stats_last_error (p);
  fail_unless (server_count (server, "EVENT killed") >= 1,
      "whepsrc lost a session before the server killed one: %s",
      GST_STR_NULL (last_error));
  at_loss = last_counter (p);
  fail_unless (at_loss >= 0, "no counter read before the kill");
  /* The picture was held (repeated), not blanked, and no EOS came. */
  fail_unless (stats_uint64 (p, "video-holds") >= 1);

  /* A new session plays, and the camera's counter went on meanwhile. */
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  report ("wrtc early kill", p, server);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  fail_unless (stats_uint64 (p, "sessions-created") >= 2);
  fail_unless (stats_uint64 (p, "video-held-buffers") > 0);
  fail_unless (last_counter (p) > at_loss, "counter %" G_GINT64_FORMAT
      " after the kill, %" G_GINT64_FORMAT " before", last_counter (p),
      at_loss);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  fail_if (p->pts_backwards);
  g_mutex_unlock (&p->lock);
  g_mutex_lock (&order.lock);
  fail_unless_equals_int (order.backwards, 0);
  g_mutex_unlock (&order.lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_silent_death_new_session_within_media_timeout)
{
  /* After 3 s the server sends no more media but keeps the session and
   * its transport: no BYE, no DTLS alert, ICE consent still answered. */
  const guint media_timeout = 1000;
  TestServer *server = wrtc_start ("--silent-after", "3", NULL);
  Player *p = interop_player (server);
  g_autofree gchar *silenced = NULL;
  g_autofree gchar *deleted = NULL;
  g_autofree gchar *last_error = NULL;
  gint64 t0, waited;
  guint frames;

  g_object_set (p->src, "media-timeout", media_timeout, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  if (!server_wait (server, "EVENT silenced", 1, 10000)) {
    last_error = stats_last_error (p);
    fail ("the server did not fall silent (whepsrc left each session "
        "before: %s)", GST_STR_NULL (last_error));
  }
  t0 = g_get_monotonic_time ();
  /* whepsrc's next POST comes within media-timeout (and a margin for the
   * set-up before it: a new webrtcbin, its offer and its DTLS key, slow on
   * a loaded machine) — not at an ICE failure, tens of seconds later. */
  if (!server_wait (server, "EVENT created", 2, media_timeout + 2000)) {
    last_error = stats_last_error (p);
    fail ("no new session within %u ms of the silence (%" G_GUINT64_FORMAT
        " ICE restarts; last error: %s)", media_timeout + 2000,
        stats_uint64 (p, "ice-restarts"), GST_STR_NULL (last_error));
  }
  waited = (g_get_monotonic_time () - t0) / 1000;
  g_printerr ("wrtc silent death: new session %" G_GINT64_FORMAT
      " ms after the server fell silent\n", waited);

  /* The new session goes on air once the silent one is judged lost (its
   * POST may come before, as a standby): the repeats of the hold count as
   * frames, so wait for that first. */
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 10000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  report ("wrtc silent death", p, server);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  /* The silent session is still there on the server: whepsrc DELETEs it. */
  silenced = server_first_id (server, "EVENT silenced id=");
  deleted = g_strdup_printf ("EVENT deleted id=%s", silenced);
  fail_unless (server_has_line (server, deleted),
      "whepsrc did not DELETE the silent session %s", silenced);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);

  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_audio_and_video)
{
  TestServer *server = wrtc_start ("--audio", "opus", NULL);
  Player *p = interop_player (server);

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (120), 20000);
  /* Opus at 20 ms a packet: 50 buffers a second. */
  fail_unless (player_audio_buffers (p) >= 100, "%u audio buffers",
      player_audio_buffers (p));
  fail_unless_equals_int (p->pads->len, 2);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (150), 20000);
  assert_audio_continuous (p);
  play_one_session ("wrtc audio+video", server, p, 150);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_no_session_limit_is_one_session)
{
  /* No limit: one session for the whole 10 s, never a rotation. */
  TestServer *server = wrtc_start ("--session-limit", "0", NULL);
  Player *p = interop_player (server);

  play_one_session ("wrtc no limit", server, p, 300);
}

GST_END_TEST;

static void
assert_not_authorized (const gchar * status, const gchar * token)
{
  TestServer *server = wrtc_start ("--token", "s3cret", "--auth-status",
      status, NULL);
  Player *p = interop_player (server);
  g_autofree gchar *post = g_strdup_printf ("EVENT post status=%s", status);
  GstMessage *error;

  if (token != NULL)
    g_object_set (p->src, "auth-token", token, NULL);
  error = player_run (p, NULL, NULL, 15000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      NULL, atoi (status));
  gst_message_unref (error);
  fail_unless_equals_int (server_count (server, "EVENT created"), 0);
  /* No retry: a refused token is refused again.  The server may log its
   * answer after whepsrc has read it. */
  fail_unless (server_wait (server, post, 1, 2000));
  fail_unless_equals_int (server_count (server, post), 1);
  stop_and_check_no_leak (server, p);
}

GST_START_TEST (test_wrtc_token_missing_401)
{
  assert_not_authorized ("401", NULL);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_token_wrong_403)
{
  assert_not_authorized ("403", "not-the-token");
}

GST_END_TEST;

GST_START_TEST (test_wrtc_token_accepted)
{
  TestServer *server = wrtc_start ("--token", "s3cret", NULL);
  Player *p = interop_player (server);

  g_object_set (p->src, "auth-token", "s3cret", NULL);
  play_one_session ("wrtc token", server, p, 30);
}

GST_END_TEST;

/* --- the quirks of real servers --- */

GST_START_TEST (test_wrtc_get_405_or_200_keeps_the_session)
{
  const gchar *const statuses[] = { "405", "200" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (statuses); i++) {
    TestServer *server = wrtc_start ("--get-status", statuses[i], NULL);
    Player *p = interop_player (server);
    g_autofree gchar *name = g_strdup_printf ("wrtc GET %s", statuses[i]);

    play_one_session (name, server, p, 120);
  }
}

GST_END_TEST;

GST_START_TEST (test_wrtc_patch_refused_still_plays)
{
  /* Servers without trickle: every PATCH refused; the answer has all the
   * server's candidates, and libwebrtc learns whepsrc's from its checks. */
  const gchar *const modes[] = { "405", "422", "501" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (modes); i++) {
    TestServer *server = wrtc_start ("--patch", modes[i], "--etag", "none",
        NULL);
    Player *p = interop_player (server);
    g_autofree gchar *name = g_strdup_printf ("wrtc PATCH %s", modes[i]);

    play_one_session (name, server, p, 90);
  }
}

GST_END_TEST;

GST_START_TEST (test_wrtc_strict_etag)
{
  /* Every PATCH must name the session's ETag (428 without, 412 wrong).
   * A STUN server that answers 150 ms late: the offer leaves with the
   * host candidates, and the server-reflexive one is trickled. */
  TestServer *server = wrtc_start ("--etag", "strict", NULL);
  Player *p = interop_player (server);
  SlowStun *stun = slow_stun_start (150);

  g_object_set (p->src, "stun-server", slow_stun_uri (stun), NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  fail_unless (server_count (server, "EVENT trickle") >= 1,
      "no trickle PATCH reached the server");
  fail_unless_equals_int (server_count (server, "EVENT patch") -
      server_count (server, "EVENT trickle"), 0);
  play_one_session ("wrtc strict ETag", server, p, 90);
  slow_stun_stop (stun);
}

GST_END_TEST;

GST_START_TEST (test_wrtc_sse_reconnect_rotates_seamlessly)
{
  /* The server asks each session to reconnect 2 s after its POST and
   * keeps it: whepsrc moves to a new one without a visible seam and
   * DELETEs the old. */
  TestServer *server = wrtc_start ("--sse", "--reconnect-after", "2", NULL);
  Player *p = interop_player (server);
  guint created;

  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 30000);
  report ("wrtc SSE reconnect", p, server);
  fail_unless (server_count (server, "EVENT sse-sent") >= 3);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  assert_continuous (p);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  created = server_count (server, "EVENT created");
  fail_unless_equals_int (server_count (server, "EVENT deleted"), created);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* --- werift and Janus (janus-werift) ---
 *
 * werift: tests/interop/werift-server.js on werift (npm, WebRTC in
 * TypeScript), built as an SFU: ONE encoding from tests/interop/rtp-camera
 * relayed to every session (per-session SSRC, sequence numbers and RTP
 * timestamps), one DTLS certificate for every session, and werift's own
 * RTCP sender reports per session — their NTP times for the same frame do
 * not agree across sessions.  A killed session ends without a DTLS alert.
 *
 * janus: Debian's Janus 1.1.2 (Streaming plugin, fed by rtp-camera over
 * RTP) behind tests/interop/janus-front.js (janode), started in a
 * temporary folder by tests/interop/start-janus.sh.  Janus offers itself,
 * so the front answers the POST with 406 and Janus's offer (the WHEP
 * counter-offer flow) and takes the answer by PATCH; --offer-in-201 is the
 * wrong flow, with Janus's offer in a 201.
 *
 * Both answer 404 to a GET on a live session, as Node servers do.  A case
 * that cannot run here (no werift/janode package, no janus, no camera
 * build) prints "SKIP: <case>: <why>" and returns. */

static gboolean
jw_missing (const gchar * test, const gchar * what, gboolean missing)
{
  if (missing)
    g_printerr ("SKIP: %s: %s\n", test, what);
  return missing;
}

static gboolean
jw_file_missing (const gchar * test, const gchar * path, const gchar * what)
{
  return jw_missing (test, what, path == NULL || !g_file_test (path,
          G_FILE_TEST_EXISTS));
}

/* FALSE (after printing SKIP) when the @stack ("werift" or "janus") cannot
 * run here. */
static gboolean
jw_can_run (const gchar * test, const gchar * stack)
{
  g_autofree gchar *module = NULL;
  g_autofree gchar *janus = NULL;
  gboolean is_janus = g_str_equal (stack, "janus");

  if (jw_file_missing (test, g_getenv ("WHEP_RTP_CAMERA"),
          "no rtp-camera (WHEP_RTP_CAMERA: run it through meson)"))
    return FALSE;
  module = g_build_filename (interop_dir, "node_modules",
      is_janus ? "janode" : "werift", "package.json", NULL);
  if (jw_file_missing (test, module, is_janus ?
          "no janode in tests/interop/node_modules (npm ci)" :
          "no werift in tests/interop/node_modules (npm ci)"))
    return FALSE;
  if (!is_janus)
    return TRUE;
  janus = g_find_program_in_path ("janus");
  if (jw_missing (test, "no janus in PATH (apt-get install janus; "
          "scripts/install-deps.sh does)", janus == NULL))
    return FALSE;
  return !jw_file_missing (test, g_getenv ("WHEP_JANUS_LOOPBACK_ICE"),
      "no loopback-ice.so (WHEP_JANUS_LOOPBACK_ICE: run it through meson)");
}

/* The werift server or the Janus front, with its camera, and the options
 * given (NULL-terminated). */
static TestServer *
jw_start (const gchar * stack, const gchar * first_arg, ...)
{
  TestServer *server;
  va_list ap;

  va_start (ap, first_arg);
  server = stack_start_valist (stack, first_arg, ap);
  va_end (ap);
  return server;
}

/* Why whepsrc last lost a session, if it did (the report). */
static void
jw_why (const gchar * name, Player * p)
{
  g_autofree gchar *why = stats_last_error (p);

  if (why != NULL)
    g_printerr ("%s: last session lost because: %s\n", name, why);
}

static gchar *
jw_name (const gchar * stack, const gchar * what)
{
  return g_strdup_printf ("%s %s", stack, what);
}

/* play_one_session, saying why a session was lost when one was. */
static void
jw_play_one_session (const gchar * name, TestServer * server, Player * p,
    guint frames)
{
  GstMessage *error = player_run (p, frames_at_least,
      GUINT_TO_POINTER (frames), frames * 100 + 10000);

  jw_why (name, p);
  if (error != NULL) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (error, &err, NULL);
    gst_message_unref (error);
    fail ("%s: unexpected error: %s", name, err->message);
  }
  play_one_session (name, server, p, frames);
}

static void
jw_plays_with_counter (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "plays");
  TestServer *server;

  if (!jw_can_run (test, stack))
    return;
  /* 5 s: longer than whepsrc's liveness check (a GET every 2 s) waits. */
  server = jw_start (stack, NULL);
  jw_play_one_session (name, server, interop_player (server), 150);
}

static void
jw_rotations_lose_no_frame (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "rotations");
  TestServer *server;
  Player *p;
  guint created, rotations = rotations_wanted ();
  /* Short sessions of one relayed encoding: 2 s from werift (as from the
   * libwebrtc server), 3 s from Janus, whose sessions take a round trip
   * more (the 406 counter-offer and the PATCHed answer) and up to 1.1 s to
   * a first frame here: with 2 s and whepsrc's 1 s lead, some standbys
   * were not playing when the old session ended. */
  const gchar *limit = g_str_equal (stack, "janus") ? "3" : "2";

  if (!jw_can_run (test, stack))
    return;
  server = jw_start (stack, "--session-limit", limit, NULL);
  p = interop_player (server);
  g_object_set (p->src, "session-lifetime", atoi (limit), NULL);
  /* 10 rotations take 20 or 30 s; the wait is bounded to keep the stack's
   * cases within 3 minutes. */
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (rotations),
      rotations * 4500);
  report (name, p, server);
  jw_why (name, p);
  fail_unless (stats_uint64 (p, "rotations") >= rotations);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  fail_unless_equals_int (stats_uint64 (p, "video-holds"), 0);
  assert_continuous (p);
  fail_unless_equals_int (p->pads->len, 1);
  /* whepsrc always moved on before the server cut a session... */
  fail_unless_equals_int (server_count (server, "EVENT expired"), 0);
  /* ...and DELETEd every session it made. */
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  created = server_count (server, "EVENT created");
  fail_unless (created >= rotations + 1, "%u sessions", created);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), created);
  stop_and_check_no_leak (server, p);
}

static void
jw_early_kill_holds_and_recovers (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "early kill");
  TestServer *server;
  Player *p;
  gint64 at_loss;
  guint frames;

  if (!jw_can_run (test, stack))
    return;
  /* The server closes each peer connection after 3 s and forgets it
   * (werift: no DTLS alert; Janus: the handle is stopped and detached). */
  server = jw_start (stack, "--kill-after", "3", NULL);
  p = interop_player (server);
  g_object_set (p->src, "media-timeout", 1000, NULL);
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 20000);
  fail_unless (server_count (server, "EVENT killed") >= 1);
  at_loss = last_counter (p);
  fail_unless (at_loss >= 0, "no counter read before the kill");
  fail_unless (stats_uint64 (p, "video-holds") >= 1);

  /* A new session plays, and the camera's counter went on meanwhile. */
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  report (name, p, server);
  jw_why (name, p);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  fail_unless (stats_uint64 (p, "sessions-created") >= 2);
  fail_unless (stats_uint64 (p, "video-held-buffers") > 0);
  fail_unless (last_counter (p) > at_loss, "counter %" G_GINT64_FORMAT
      " after the kill, %" G_GINT64_FORMAT " before", last_counter (p),
      at_loss);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  fail_if (p->pts_backwards);
  g_mutex_unlock (&p->lock);
  g_mutex_lock (&order.lock);
  fail_unless_equals_int (order.backwards, 0);
  g_mutex_unlock (&order.lock);
  stop_and_check_no_leak (server, p);
}

static void
jw_silent_death (const gchar * test, const gchar * stack)
{
  const guint media_timeout = 1000;
  g_autofree gchar *name = jw_name (stack, "silent death");
  g_autofree gchar *silenced = NULL;
  g_autofree gchar *deleted = NULL;
  TestServer *server;
  Player *p;
  gint64 t0;
  guint frames;

  if (!jw_can_run (test, stack))
    return;
  /* After 3 s no more media (werift: nothing relayed to the session;
   * Janus: the handle paused), session and transport kept: no BYE, no
   * DTLS alert, ICE consent still answered. */
  server = jw_start (stack, "--silent-after", "3", NULL);
  p = interop_player (server);
  g_object_set (p->src, "media-timeout", media_timeout, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  fail_unless (server_wait (server, "EVENT silenced", 1, 10000),
      "the server did not fall silent");
  t0 = g_get_monotonic_time ();
  fail_unless (server_wait (server, "EVENT created", 2, media_timeout + 2000),
      "no new session within %u ms of the silence", media_timeout + 2000);
  g_printerr ("%s: new session %" G_GINT64_FORMAT " ms after the server "
      "fell silent\n", name, (g_get_monotonic_time () - t0) / 1000);

  /* On air once the silent session is judged lost (the hold's repeats
   * count as frames). */
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 10000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  report (name, p, server);
  jw_why (name, p);
  fail_unless (status_is (p, GINT_TO_POINTER (status_value ("playing"))));
  /* The silent session is still there on the server: whepsrc DELETEs it. */
  silenced = server_first_id (server, "EVENT silenced id=");
  deleted = g_strdup_printf ("EVENT deleted id=%s", silenced);
  fail_unless (server_has_line (server, deleted),
      "whepsrc did not DELETE the silent session %s", silenced);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);
  stop_and_check_no_leak (server, p);
}

static void
jw_audio_and_video (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "audio+video");
  TestServer *server;
  Player *p;

  if (!jw_can_run (test, stack))
    return;
  server = jw_start (stack, "--audio", "opus", NULL);
  p = interop_player (server);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (120), 20000);
  /* The camera's Opus: 20 ms a packet, 50 buffers a second. */
  fail_unless (player_audio_buffers (p) >= 100, "%u audio buffers",
      player_audio_buffers (p));
  fail_unless_equals_int (p->pads->len, 2);
  /* Sender reports came meanwhile (werift's a second off). */
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (150), 20000);
  assert_audio_continuous (p);
  jw_play_one_session (name, server, p, 150);
}

/* Encoded output (a decoder after whepsrc names VP8) from a relay: every
 * session sends the camera's very same frames, so a takeover matches them
 * byte for byte and switches at any frame.  No frame lost, repeated or
 * broken. */
static void
jw_encoded_rotations_lose_no_frame (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "encoded rotations");
  const gchar *limit = g_str_equal (stack, "janus") ? "3" : "2";
  TestServer *server;
  Player *p;

  if (!jw_can_run (test, stack))
    return;
  server = jw_start (stack, "--session-limit", limit, NULL);
  p = interop_player (server);
  p->video_chain = "vp8dec";
  g_object_set (p->src, "session-lifetime", atoi (limit), NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (5), 60000);
  report (name, p, server);
  jw_why (name, p);
  assert_encoded_rotations_exact (p, server);
  fail_unless (stats_uint64 (p, "video-takeovers-by-content") >= 4,
      "%" G_GUINT64_FORMAT " takeovers by content",
      stats_uint64 (p, "video-takeovers-by-content"));
  stop_and_check_no_leak (server, p);
}

static void
jw_no_session_limit_is_one_session (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "no limit");
  TestServer *server;

  if (!jw_can_run (test, stack))
    return;
  /* No limit: one session for the whole 10 s, never a rotation. */
  server = jw_start (stack, "--session-limit", "0", NULL);
  jw_play_one_session (name, server, interop_player (server), 300);
}

static void
jw_sse_reconnect_rotates (const gchar * test, const gchar * stack)
{
  g_autofree gchar *name = jw_name (stack, "SSE reconnect");
  TestServer *server;
  Player *p;

  if (!jw_can_run (test, stack))
    return;
  /* The server asks for a new session 3 s after each POST (WHEP events
   * extension); no session-lifetime is configured. */
  server = jw_start (stack, "--sse", "--reconnect-after", "3", NULL);
  p = interop_player (server);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (3), 40000);
  report (name, p, server);
  jw_why (name, p);
  fail_unless (server_count (server, "EVENT sse-subscribe") >= 3);
  fail_unless (server_count (server, "EVENT sse-sent") >= 3);
  fail_unless_equals_int (stats_uint64 (p, "early-losses"), 0);
  assert_continuous (p);
  stop_and_check_no_leak (server, p);
}

#define JW_TEST(stack, what) \
  GST_START_TEST (test_ ## stack ## _ ## what) \
  { \
    jw_ ## what ("test_" #stack "_" #what, #stack); \
  } \
  GST_END_TEST

/* *INDENT-OFF* */
JW_TEST (werift, plays_with_counter);
JW_TEST (werift, rotations_lose_no_frame);
JW_TEST (werift, encoded_rotations_lose_no_frame);
JW_TEST (werift, early_kill_holds_and_recovers);
JW_TEST (werift, silent_death);
JW_TEST (werift, audio_and_video);
JW_TEST (werift, no_session_limit_is_one_session);
JW_TEST (werift, sse_reconnect_rotates);
JW_TEST (janus, plays_with_counter);
JW_TEST (janus, rotations_lose_no_frame);
JW_TEST (janus, encoded_rotations_lose_no_frame);
JW_TEST (janus, early_kill_holds_and_recovers);
JW_TEST (janus, silent_death);
JW_TEST (janus, audio_and_video);
JW_TEST (janus, no_session_limit_is_one_session);
JW_TEST (janus, sse_reconnect_rotates);
/* *INDENT-ON* */

/* A WHEP front that hands Janus's offer over in a 201, as if it were an
 * answer: whepsrc says that the server sent an offer where an answer was
 * expected (the 406 counter-offer flow is the one to use), and DELETEs the
 * session all the same. */
GST_START_TEST (test_janus_offer_in_201_is_named)
{
  TestServer *server;
  Player *p;
  GstMessage *error;

  if (!jw_can_run ("test_janus_offer_in_201_is_named", "janus"))
    return;
  server = jw_start ("janus", "--offer-in-201", NULL);
  p = interop_player (server);
  g_object_set (p->src, "max-retries", 0, NULL);
  error = player_run (p, NULL, NULL, 15000);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
      "offer where an answer was expected", 0);
  gst_message_unref (error);
  /* The server logs the POST after answering it: the line may come a
   * moment after whepsrc's error. */
  fail_unless (server_wait (server, "EVENT post status=201", 1, 5000));
  fail_unless_equals_int (server_count (server, "EVENT post status=201"), 1);
  fail_unless_equals_int (player_video_frames (p), 0);
  player_free (p);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

/* @stack's server ends the session on air 3 s after its POST the way
 * @loss_arg says ("--kill-after" or "--silent-after"; the server then logs
 * @loss_event): whepsrc's successor — a standby, or the new session after
 * a refused ICE restart — is POSTed well before the media timeout (4 s)
 * runs out and goes on air once the session is judged lost; no ICE
 * restart succeeds (none can: the session is gone, or its sender). */
static void
jw_repaired_before_media_timeout (const gchar * test, const gchar * stack,
    const gchar * loss_arg, const gchar * loss_event)
{
  const guint media_timeout = 4000;
  g_autofree gchar *name = jw_name (stack, "standby after a loss");
  TestServer *server;
  Player *p;
  guint frames;

  if (!jw_can_run (test, stack))
    return;
  server = jw_start (stack, loss_arg, "3", NULL);
  p = interop_player (server);
  g_object_set (p->src, "media-timeout", media_timeout, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  fail_unless (server_wait (server, loss_event, 1, 10000),
      "the server did not end the session (%s)", loss_event);
  fail_unless (server_wait (server, "EVENT created", 2, media_timeout / 2),
      "no new session within %u ms of the loss", media_timeout / 2);
  /* It goes on air after half the media timeout of silence. */
  run_without_error (p, early_losses_at_least, GUINT_TO_POINTER (1), 10000);

  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 15000);
  report (name, p, server);
  jw_why (name, p);
  fail_unless_equals_int (stats_uint64 (p, "ice-restarts"), 0);
  fail_unless_equals_int (stats_uint64 (p, "sessions-created"), 2);
  g_mutex_lock (&p->lock);
  fail_unless_equals_int (p->eos_events, 0);
  g_mutex_unlock (&p->lock);
  stop_and_check_no_leak (server, p);
}

/* Janus's sessions are negotiated by its own offer (the 406 flow), and
 * whepsrc restarts no ICE on those: a session killed on air gets a
 * standby as soon as the output holds (200 ms of silence). */
GST_START_TEST (test_janus_kill_starts_a_standby_at_once)
{
  jw_repaired_before_media_timeout ("test_janus_kill_starts_a_standby_at_once",
      "janus", "--kill-after", "EVENT killed");
}

GST_END_TEST;

/* werift silenced: its media stops, its RTCP goes on.  If a sender report
 * shows the path alive before the output holds, the silence gets a
 * standby at once; otherwise the ICE restart whepsrc then tries is refused
 * (422) and a new session follows at once.  Either way, long before the
 * media timeout. */
GST_START_TEST (test_werift_silence_with_rtcp_starts_a_standby)
{
  jw_repaired_before_media_timeout
      ("test_werift_silence_with_rtcp_starts_a_standby", "werift",
      "--silent-after", "EVENT silenced");
}

GST_END_TEST;

/* werift kills a session without a word (no DTLS alert, no BYE): the ICE
 * restart whepsrc tries as soon as the output holds is answered 404 (the
 * session is gone), and a new session follows at once — before, the
 * restart waited for the media timeout. */
GST_START_TEST (test_werift_kill_is_repaired_at_once)
{
  jw_repaired_before_media_timeout ("test_werift_kill_is_repaired_at_once",
      "werift", "--kill-after", "EVENT killed");
}

GST_END_TEST;

static void
janus_werift_tcases (Suite * s)
{
  TCase *werift = tcase_create ("werift");
  TCase *janus = tcase_create ("janus");

  suite_add_tcase (s, werift);
  tcase_set_timeout (werift, 180);
  tcase_add_test (werift, test_werift_plays_with_counter);
  tcase_add_test (werift, test_werift_rotations_lose_no_frame);
  tcase_add_test (werift, test_werift_encoded_rotations_lose_no_frame);
  tcase_add_test (werift, test_werift_early_kill_holds_and_recovers);
  tcase_add_test (werift, test_werift_silent_death);
  tcase_add_test (werift, test_werift_audio_and_video);
  tcase_add_test (werift, test_werift_no_session_limit_is_one_session);
  tcase_add_test (werift, test_werift_sse_reconnect_rotates);

  suite_add_tcase (s, janus);
  tcase_set_timeout (janus, 180);
  tcase_add_test (janus, test_janus_plays_with_counter);
  tcase_add_test (janus, test_janus_rotations_lose_no_frame);
  tcase_add_test (janus, test_janus_encoded_rotations_lose_no_frame);
  tcase_add_test (janus, test_janus_early_kill_holds_and_recovers);
  tcase_add_test (janus, test_janus_silent_death);
  tcase_add_test (janus, test_janus_audio_and_video);
  tcase_add_test (janus, test_janus_no_session_limit_is_one_session);
  tcase_add_test (janus, test_janus_sse_reconnect_rotates);
  tcase_add_test (janus, test_janus_offer_in_201_is_named);
  tcase_add_test (janus, test_janus_kill_starts_a_standby_at_once);
  tcase_add_test (werift, test_werift_silence_with_rtcp_starts_a_standby);
  tcase_add_test (werift, test_werift_kill_is_repaired_at_once);
}

/* --- end of werift and Janus --- */

/* --- the benchmark (bench/interop.sh): only with WHEP_BENCH_SECONDS ---
 *
 * Not tests: each case runs one stack through four scenarios and prints
 * one "BENCH stack=… case=… key=value…" line per scenario, which
 * bench/interop.sh turns into the table in docs/benchmarks.md.  Nothing
 * here asserts a figure; a case fails only when whepsrc posts an error.
 *
 * "freeze" is the picture standing still on the output: the longest time
 * between two frames with a new counter (the hold's repeats do not count
 * as new), measured where the sink gets them. */

static guint bench_seconds;

static gboolean
elapsed_at_least (Player * p, gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

/* The stack's server ("wrtc", "werift" or "janus") with the options given
 * (NULL-terminated), or NULL (after a SKIP line) when it cannot run. */
static TestServer *
bench_start (const gchar * stack, const gchar * first_arg, ...)
{
  g_autofree gchar *name = g_strdup_printf ("bench %s", stack);
  TestServer *server;
  va_list ap;

  if (!g_str_equal (stack, "wrtc") && !jw_can_run (name, stack))
    return NULL;
  va_start (ap, first_arg);
  server = stack_start_valist (stack, first_arg, ap);
  va_end (ap);
  return server;
}

/* One BENCH line: what the player saw, whepsrc's statistics (read before
 * the stop), what the server counted (after it). */
static void
bench_report (const gchar * stack, const gchar * scenario, Player * p,
    TestServer * server, gdouble seconds, const gchar * extra)
{
  GstStructure *stats = NULL;
  gdouble first_frame_ms = -1;
  guint64 rotations = 0, sessions = 0, early = 0, holds = 0;
  g_autoptr (GString) line = g_string_new (NULL);

  g_object_get (p->src, "statistics", &stats, NULL);
  gst_structure_get_double (stats, "first-frame-ms", &first_frame_ms);
  gst_structure_get_uint64 (stats, "rotations", &rotations);
  gst_structure_get_uint64 (stats, "sessions-created", &sessions);
  gst_structure_get_uint64 (stats, "early-losses", &early);
  gst_structure_get_uint64 (stats, "video-holds", &holds);
  gst_structure_free (stats);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  /* The DELETEs are answered before NULL returns; the server's log line
   * comes a moment later. */
  server_wait (server, "EVENT deleted", server_count (server,
          "EVENT created"), 2000);

  g_mutex_lock (&p->lock);
  g_string_append_printf (line, "BENCH stack=%s case=%s seconds=%.0f "
      "first_frame_ms=%.0f sessions=%" G_GUINT64_FORMAT " rotations=%"
      G_GUINT64_FORMAT " early_losses=%" G_GUINT64_FORMAT " holds=%"
      G_GUINT64_FORMAT " frames=%u counted=%u lost=%u repeated=%u",
      stack, scenario, seconds, first_frame_ms, sessions, rotations, early,
      holds, p->video_frames, p->counted, p->gaps, p->repeats);
  g_string_append_printf (line, " longest_stall_ms=%.1f longest_freeze_ms=%.1f"
      " audio_buffers=%u audio_max_jump_ms=%.2f audio_max_jump_at_s=%.3f",
      p->max_arrival_gap_us / 1e3, p->max_freeze_us / 1e3, p->audio_buffers,
      p->audio_max_jump / (gdouble) GST_MSECOND,
      GST_CLOCK_TIME_IS_VALID (p->audio_max_jump_pts) ?
      p->audio_max_jump_pts / (gdouble) GST_SECOND : -1.0);
  g_mutex_unlock (&p->lock);
  g_mutex_lock (&order.lock);
  g_string_append_printf (line, " backwards=%u", order.backwards);
  g_mutex_unlock (&order.lock);
  g_string_append_printf (line, " created=%u deleted=%u expired=%u "
      "killed=%u", server_count (server, "EVENT created"),
      server_count (server, "EVENT deleted"), server_count (server,
          "EVENT expired"), server_count (server, "EVENT killed"));
  g_string_append (line, extra);
  /* stdout: the check summary stays readable on stderr's side. */
  g_print ("%s\n", line->str);
}

/* Plays @seconds after the first frame and reports. */
static void
bench_play (const gchar * stack, const gchar * scenario, TestServer * server,
    Player * p, guint seconds)
{
  gint64 start, end;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (1), 20000);
  player_reset_tracking (p);
  start = g_get_monotonic_time ();
  end = start + seconds * G_TIME_SPAN_SECOND;
  run_without_error (p, elapsed_at_least, &end, (seconds + 10) * 1000);
  bench_report (stack, scenario, p, server,
      (g_get_monotonic_time () - start) / 1e6, "");
  player_free (p);
  server_stop (server);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

/* "name_median_ms=… name_max_ms=…" of @values. */
static void
append_median_max (GString * s, const gchar * name, GArray * values)
{
  g_array_sort (values, compare_doubles);
  g_string_append_printf (s, " %s_median_ms=%.0f %s_max_ms=%.0f", name,
      g_array_index (values, gdouble, values->len / 2), name,
      g_array_index (values, gdouble, values->len - 1));
}

/* Sessions that end early, at moments whepsrc cannot foresee: @losses
 * times, 3–4 s apart, the server is told (@admin_path: /admin/kill or
 * /admin/silence) to end the session on air.  Per loss: the picture's
 * freeze, and the time from the server's word to the first new picture. */
static void
bench_losses (const gchar * stack, const gchar * scenario,
    TestServer * server, Player * p, const gchar * admin_path, guint losses)
{
  g_autoptr (GArray) freezes = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) to_frame = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GString) extra = g_string_new (NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  gint64 start, end;
  guint i;

  run_without_error (p, frames_at_least, GUINT_TO_POINTER (1), 20000);
  player_reset_tracking (p);
  start = g_get_monotonic_time ();
  for (i = 0; i < losses; i++) {
    gint64 told, freeze, freeze_end;

    end = g_get_monotonic_time () + g_rand_int_range (rand, 2000, 3000) *
        G_TIME_SPAN_MILLISECOND;
    run_without_error (p, elapsed_at_least, &end, 10000);
    g_mutex_lock (&p->lock);
    p->max_freeze_us = p->max_freeze_end_us = 0;
    g_mutex_unlock (&p->lock);
    told = g_get_monotonic_time ();
    fail_unless_equals_int (server_admin_post (server, admin_path), 200);
    end = told + 1500 * G_TIME_SPAN_MILLISECOND;
    run_without_error (p, elapsed_at_least, &end, 10000);
    g_mutex_lock (&p->lock);
    freeze = p->max_freeze_us;
    freeze_end = p->max_freeze_end_us;
    g_mutex_unlock (&p->lock);
    g_array_append_vals (freezes, &(gdouble) {
        freeze / 1e3}
        , 1);
    g_array_append_vals (to_frame, &(gdouble) {
        freeze_end > told ? (freeze_end - told) / 1e3 : -1}
        , 1);
  }
  append_median_max (extra, "freeze", freezes);
  append_median_max (extra, "to_new_frame", to_frame);
  bench_report (stack, scenario, p, server,
      (g_get_monotonic_time () - start) / 1e6, extra->str);
  player_free (p);
  server_stop (server);
}

static void
bench_stack (const gchar * stack)
{
  TestServer *server;
  Player *p;

  /* A 6 s session limit, audio and video. */
  if (!(server = bench_start (stack, "--session-limit", "6", "--audio",
              "opus", NULL)))
    return;
  p = interop_player (server);
  g_object_set (p->src, "session-lifetime", 6, NULL);
  bench_play (stack, "limit-6s", server, p, bench_seconds);

  /* No limit: one session. */
  server = bench_start (stack, "--session-limit", "0", "--audio", "opus", NULL);
  bench_play (stack, "no-limit", server, interop_player (server),
      bench_seconds);

  /* Sessions killed (no word to whepsrc: werift and Janus send no DTLS
   * alert) and sessions gone silent (transport kept), five times each. */
  server = bench_start (stack, "--session-limit", "0", NULL);
  bench_losses (stack, "kill", server, interop_player (server),
      "/admin/kill", 5);
  server = bench_start (stack, "--session-limit", "0", NULL);
  bench_losses (stack, "silence", server, interop_player (server),
      "/admin/silence", 5);
}

GST_START_TEST (test_bench_wrtc)
{
  bench_stack ("wrtc");
}

GST_END_TEST;

GST_START_TEST (test_bench_werift)
{
  bench_stack ("werift");
}

GST_END_TEST;

GST_START_TEST (test_bench_janus)
{
  bench_stack ("janus");
}

GST_END_TEST;

static void
bench_tcase (Suite * s)
{
  TCase *bench = tcase_create ("bench");

  suite_add_tcase (s, bench);
  /* Two plays of bench_seconds, ten losses of about 4 s, four starts. */
  tcase_set_timeout (bench, 2 * bench_seconds + 240);
  tcase_add_test (bench, test_bench_wrtc);
  tcase_add_test (bench, test_bench_werift);
  tcase_add_test (bench, test_bench_janus);
}

/* --- end of the benchmark --- */

static Suite *
interop_suite (void)
{
  Suite *s = suite_create ("interop");
  TCase *wrtc = tcase_create ("wrtc");

  suite_add_tcase (s, wrtc);
  tcase_set_timeout (wrtc, 180);
  tcase_add_test (wrtc, test_wrtc_plays_with_counter);
  tcase_add_test (wrtc, test_wrtc_counter_readable_at_300_kbps);
  tcase_add_test (wrtc, test_wrtc_rotations_lose_no_frame);
  tcase_add_test (wrtc, test_wrtc_encoded_rotations_lose_no_frame);
  tcase_add_test (wrtc, test_wrtc_early_kill_holds_and_recovers);
  tcase_add_test (wrtc,
      test_wrtc_silent_death_new_session_within_media_timeout);
  tcase_add_test (wrtc, test_wrtc_audio_and_video);
  tcase_add_test (wrtc, test_wrtc_no_session_limit_is_one_session);
  tcase_add_test (wrtc, test_wrtc_token_missing_401);
  tcase_add_test (wrtc, test_wrtc_token_wrong_403);
  tcase_add_test (wrtc, test_wrtc_token_accepted);
  tcase_add_test (wrtc, test_wrtc_get_405_or_200_keeps_the_session);
  tcase_add_test (wrtc, test_wrtc_patch_refused_still_plays);
  tcase_add_test (wrtc, test_wrtc_strict_etag);
  tcase_add_test (wrtc, test_wrtc_sse_reconnect_rotates_seamlessly);
  janus_werift_tcases (s);
  if (bench_seconds > 0)
    bench_tcase (s);

  return s;
}

/* Whether the interop servers can run here: node, and the npm packages
 * installed in tests/interop (`npm ci`, which scripts/install-deps.sh
 * runs).  Without them every case would fail for want of a server: the
 * binary exits 77, which meson reports as SKIP. */
static gboolean
interop_available (gchar ** reason)
{
  g_autofree gchar *wrtc = NULL;

  interop_dir = g_getenv ("WHEP_INTEROP_DIR");
  if (interop_dir == NULL) {
    *reason = g_strdup ("WHEP_INTEROP_DIR is not set (run it through meson)");
    return FALSE;
  }
  node_program = g_find_program_in_path ("node");
  if (node_program == NULL) {
    *reason = g_strdup ("no node in PATH (scripts/install-deps.sh installs "
        "it)");
    return FALSE;
  }
  wrtc = g_build_filename (interop_dir, "node_modules", "@roamhq", "wrtc",
      "package.json", NULL);
  if (!g_file_test (wrtc, G_FILE_TEST_EXISTS)) {
    *reason = g_strdup_printf ("no %s: run npm ci in %s "
        "(scripts/install-deps.sh does)", wrtc, interop_dir);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *reason = NULL;
  Suite *s;
  gint failed;

  if (!interop_available (&reason)) {
    g_printerr ("SKIP: interop: %s\n", reason);
    return 77;
  }
  g_mutex_init (&order.lock);
  if (g_getenv ("WHEP_BENCH_SECONDS"))
    bench_seconds = atoi (g_getenv ("WHEP_BENCH_SECONDS"));
  harness_init_before_gst ();
  gst_check_init (&argc, &argv);
  s = interop_suite ();
  failed = gst_check_run_suite (s, "interop", __FILE__);
  g_free (node_program);
  return failed != 0;
}
