/* whepsrc ICE over PATCH: trickle ICE and ICE restart, against the
 * project's WHEP test server.
 *
 * The ICE restart tests cut the media path for a moment with nftables.
 * They run in a network namespace of their own: every test is a forked,
 * single-threaded child when it starts, so unshare(CLONE_NEWNET) moves the
 * whole test (and every thread, server and nft started later) into a
 * fresh namespace that holds only its loopback, and disappears with the
 * test's processes.  Where namespaces cannot be made (not root), those
 * tests say so and skip.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "stunlab.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

static gboolean
run_command (const gchar * command, gchar ** error_text)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *errout = NULL;
  gint status = 0;

  if (!g_spawn_command_line_sync (command, &out, &errout, &status, &err)
      || !g_spawn_check_wait_status (status, NULL)) {
    if (error_text)
      *error_text = g_strdup_printf ("'%s' failed: %s%s", command,
          err ? err->message : "", errout ? errout : "");
    return FALSE;
  }
  return TRUE;
}

/* FALSE (after printing why) when this machine cannot give the test a
 * network namespace; the caller then skips. */
static gboolean
enter_private_netns (const gchar * test)
{
  g_autofree gchar *why = NULL;

  /* The same switch as the network lab's (netlab.h), to see this skip
   * where the test could run. */
  if (geteuid () != 0)
    why = g_strdup ("not root");
  else if (g_getenv ("WHEP_TEST_NOT_ROOT"))
    why = g_strdup ("not root: WHEP_TEST_NOT_ROOT is set");
  else if (unshare (CLONE_NEWNET) != 0)
    why = g_strdup_printf ("unshare(CLONE_NEWNET): %s", g_strerror (errno));
  else
    run_command ("ip link set lo up", &why);
  if (why) {
    g_printerr ("SKIP: %s: cannot make a network namespace (%s)\n", test, why);
    return FALSE;
  }
  return TRUE;
}

/* Drops every UDP packet in the test's namespace (ICE, DTLS, RTP), not
 * TCP: HTTP, and so WHEP's PATCH and DELETE, still get through. */
static void
block_udp (gboolean block)
{
  g_autofree gchar *why = NULL;

  if (block) {
    fail_unless (run_command ("nft add table inet whepblock", &why), "%s", why);
    fail_unless (run_command ("nft add chain inet whepblock input "
            "{ type filter hook input priority 0 ; policy accept ; }", &why),
        "%s", why);
    fail_unless (run_command ("nft add rule inet whepblock input "
            "meta l4proto udp drop", &why), "%s", why);
  } else {
    fail_unless (run_command ("nft delete table inet whepblock", &why), "%s",
        why);
  }
}

static GstStructure *
last_setup (Player * p)
{
  GstStructure *stats = NULL;
  const GstStructure *setup;
  GstStructure *copy;

  g_object_get (p->src, "statistics", &stats, NULL);
  setup = gst_structure_get_value (stats, "last-setup") ?
      gst_value_get_structure (gst_structure_get_value (stats,
          "last-setup")) : NULL;
  fail_unless (setup != NULL, "no last-setup in statistics");
  copy = gst_structure_copy (setup);
  gst_structure_free (stats);
  return copy;
}

static gboolean
stats_at_least (Player * p, gpointer data)
{
  const gchar *field = g_object_get_data (G_OBJECT (p->src), "wait-field");

  return stats_uint64 (p, field) >= GPOINTER_TO_UINT (data);
}

static void
wait_stat (Player * p, const gchar * field, guint n, guint timeout_ms)
{
  g_object_set_data_full (G_OBJECT (p->src), "wait-field", g_strdup (field),
      g_free);
  run_without_error (p, stats_at_least, GUINT_TO_POINTER (n), timeout_ms);
  if (stats_uint64 (p, field) < n) {
    GstStructure *stats = NULL;
    g_autofree gchar *text = NULL;

    /* What happened instead, for the log of a failure. */
    g_object_get (p->src, "statistics", &stats, NULL);
    text = gst_structure_to_string (stats);
    gst_structure_free (stats);
    fail ("%s stayed below %u; statistics: %s", field, n, text);
  }
}

/* Every server log line starting with @prefix contains @fragment. */
static void
assert_lines_contain (TestServer * server, const gchar * prefix,
    const gchar * fragment)
{
  guint i;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len; i++) {
    const gchar *line = g_ptr_array_index (server->lines, i);
    if (g_str_has_prefix (line, prefix))
      fail_unless (strstr (line, fragment) != NULL, "'%s' lacks '%s'", line,
          fragment);
  }
  g_mutex_unlock (&server->lock);
}

/* --- trickle --- */

/* The offer leaves with the host candidates, before gathering ends (a
 * STUN server that answers 150 ms late); the server-reflexive candidate
 * follows in a PATCH whose If-Match is the session's ETag (the server
 * checks it: --strict-etag answers 412/428 otherwise), with
 * end-of-candidates. */
GST_START_TEST (test_trickle_patches_candidates)
{
  TestServer *server = server_start ("--strict-etag", NULL);
  Player *p = player_new (server->endpoint);
  SlowStun *stun = slow_stun_start (150);
  g_autoptr (GstStructure) setup = NULL;
  gboolean trickle = FALSE;
  guint offered = 0, trickled = 0;

  g_object_set (p->src, "stun-server", slow_stun_uri (stun), NULL);
  play_and_check (server, p, 20);
  setup = last_setup (p);
  fail_unless (gst_structure_get_boolean (setup, "trickle", &trickle));
  fail_unless (trickle, "the POST waited for gathering");
  fail_unless (gst_structure_get_uint (setup, "offered-candidates", &offered));
  fail_unless (offered > 0, "the offer left without the host candidates");
  fail_unless (gst_structure_get_uint (setup, "trickled-candidates",
          &trickled));
  fail_unless (trickled > 0);

  /* One aggregated PATCH as a rule; more when candidates come late. */
  fail_unless (server_wait (server, "EVENT trickle", 1, 2000));
  fail_unless_equals_int (server_count (server, "EVENT trickle "),
      server_count (server, "EVENT patch"));
  assert_lines_contain (server, "EVENT patch", "status=204");
  assert_lines_contain (server, "EVENT trickle", "if-match=\"");
  fail_unless (server_wait (server, "EVENT trickle", 1, 0));
  g_mutex_lock (&server->lock);
  for (guint i = server->lines->len; i > 0; i--) {
    const gchar *line = g_ptr_array_index (server->lines, i - 1);
    if (g_str_has_prefix (line, "EVENT trickle ")) {
      fail_unless (strstr (line, "end=yes") != NULL, "the last trickle "
          "PATCH has no end-of-candidates: %s", line);
      break;
    }
  }
  g_mutex_unlock (&server->lock);
  fail_unless (stats_boolean (p, "server-trickle"));
  stop_and_check_no_leak (server, p);
  slow_stun_stop (stun);
}

GST_END_TEST;

/* Trickle with host candidates only (no STUN or TURN server): gathering
 * ends at once, so the offer waits for it and carries every candidate;
 * nothing is left to PATCH.  Servers answer an offer with candidates
 * sooner (libwebrtc: 100 ms) than one without. */
GST_START_TEST (test_trickle_host_only_posts_complete_offer)
{
  TestServer *server = server_start ("--strict-etag", NULL);
  Player *p = player_new (server->endpoint);
  g_autoptr (GstStructure) setup = NULL;
  gboolean trickle = TRUE;
  guint offered = 0;

  play_and_check (server, p, 20);
  setup = last_setup (p);
  fail_unless (gst_structure_get_boolean (setup, "trickle", &trickle));
  fail_if (trickle, "the POST left before the host candidates were in");
  fail_unless (gst_structure_get_uint (setup, "offered-candidates", &offered));
  fail_unless (offered > 0);
  fail_unless_equals_int (server_count (server, "EVENT patch"), 0);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* trickle-ice=off: every candidate in the offer, no PATCH at all. */
GST_START_TEST (test_trickle_off_gathers_first)
{
  TestServer *server = server_start ("--strict-etag", NULL);
  Player *p = player_new (server->endpoint);
  g_autoptr (GstStructure) setup = NULL;
  gboolean trickle = TRUE;

  gst_util_set_object_arg (G_OBJECT (p->src), "trickle-ice", "off");
  play_and_check (server, p, 20);
  setup = last_setup (p);
  fail_unless (gst_structure_get_boolean (setup, "trickle", &trickle));
  fail_if (trickle, "the POST left before gathering was complete");
  fail_unless_equals_int (server_count (server, "EVENT patch"), 0);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

static gdouble
first_frame_ms (TestServer * server, const gchar * trickle, const gchar * stun)
{
  Player *p = player_new (server->endpoint);
  GstStructure *stats = NULL;
  gdouble ms = -1;
  gint64 end;

  gst_util_set_object_arg (G_OBJECT (p->src), "trickle-ice", trickle);
  g_object_set (p->src, "stun-server", stun, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (1), 20000);
  /* The statistics are a snapshot the supervisor publishes after it has
   * handled the first frame: a moment after the sink saw it. */
  end = g_get_monotonic_time () + scaled (3000) * G_TIME_SPAN_MILLISECOND;
  while (ms <= 0 && g_get_monotonic_time () < end) {
    g_object_get (p->src, "statistics", &stats, NULL);
    fail_unless (gst_structure_get_double (stats, "first-frame-ms", &ms));
    gst_structure_free (stats);
    if (ms <= 0)
      g_usleep (20 * 1000);
  }
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  player_free (p);
  return ms;
}

/* With a STUN server that never answers, full gathering waits for libnice
 * to give up on it before the POST; trickle POSTs at once and plays from
 * the host candidates meanwhile.  (Speed itself is measured by
 * bench/ice.sh; this checks the cause: the POST does not wait.) */
GST_START_TEST (test_trickle_first_frame_earlier)
{
  TestServer *server = server_start (NULL);
  g_autofree gchar *stun = NULL;
  g_autoptr (GSocket) sink = silent_stun_server (&stun);
  gdouble trickled = first_frame_ms (server, "auto", stun);
  gdouble gathered = first_frame_ms (server, "off", stun);

  GST_INFO ("first frame: %.0f ms trickled, %.0f ms gathered first",
      trickled, gathered);
  fail_unless (trickled > 0 && gathered > 0);
  /* Under valgrind the first run's DTLS key alone takes seconds (see
   * realtime_checks()). */
  fail_unless (trickled < gathered || !realtime_checks (),
      "trickle: %.0f ms, full gathering: %.0f ms", trickled, gathered);
  server_assert_no_leak (server);
  server_stop (server);
}

GST_END_TEST;

/* A server without PATCH (@mode 405 or 501): the first session plays all
 * the same (the server learns our address from our checks), nothing is
 * reported as an error, and later sessions gather fully before POSTing:
 * one PATCH in all. */
static void
check_trickle_refused (const gchar * mode)
{
  TestServer *server = server_start ("--patch", mode, "--session-limit", "3",
      NULL);
  Player *p = player_new (server->endpoint);
  SlowStun *stun = slow_stun_start (150);
  g_autoptr (GstStructure) setup = NULL;
  gboolean trickle = TRUE;

  /* Something to trickle: a server-reflexive candidate after the POST. */
  g_object_set (p->src, "session-lifetime", 3, "stun-server",
      slow_stun_uri (stun), NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (10), 15000);
  wait_stat (p, "rotations", 2, 15000);
  fail_if (stats_boolean (p, "server-trickle"));
  fail_if (stats_boolean (p, "server-ice-restart"));
  setup = last_setup (p);
  fail_unless (gst_structure_get_boolean (setup, "trickle", &trickle));
  fail_if (trickle, "a session trickled after the server refused PATCH");
  /* Under valgrind the next session may start before the first PATCH is
   * answered, and trickle too (see realtime_checks()). */
  if (realtime_checks ())
    fail_unless_equals_int (server_count (server, "EVENT patch"), 1);
  assert_lines_contain (server, "EVENT patch", mode);
  fail_unless_equals_int (p->warnings->len, 0);
  fail_unless (player_video_frames (p) > 60);
  stop_and_check_no_leak (server, p);
  slow_stun_stop (stun);
}

GST_START_TEST (test_trickle_refused_405_falls_back)
{
  check_trickle_refused ("405");
}

GST_END_TEST;

GST_START_TEST (test_trickle_refused_501_falls_back)
{
  check_trickle_refused ("501");
}

GST_END_TEST;

/* --- ICE restart --- */

/* The media path is cut for @block_ms once the player plays. */
static void
cut_media_path (Player * p, guint block_ms)
{
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (20), 15000);
  block_udp (TRUE);
  run_without_error (p, NULL, NULL, block_ms);
  block_udp (FALSE);
}

/* Cuts the media path of a playing session for 1.5 s, waits until the
 * statistic @field reaches @n, and checks that the picture then moves
 * again, that it was held meanwhile, and that nothing downstream saw an
 * EOS or a flush. */
static void
cut_and_recover (Player * p, const gchar * field, guint n)
{
  guint frames;

  g_object_set (p->src, "media-timeout", 500, NULL);
  cut_media_path (p, 1500);
  wait_stat (p, field, n, 15000);
  frames = player_video_frames (p);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (frames + 30), 10000);
  fail_unless (player_video_frames (p) >= frames + 30, "no media after the "
      "path came back");
  fail_unless (stats_uint64 (p, "video-holds") >= 1, "the picture was not "
      "held");
  fail_unless_equals_int (p->eos_events, 0);
  fail_unless_equals_int (p->flush_events, 0);
}

/* The path comes back: the same session restarts ICE over PATCH (If-Match
 * "*"), keeps its DTLS, and plays again; nothing new is POSTed. */
GST_START_TEST (test_ice_restart_keeps_session)
{
  TestServer *server;
  Player *p;

  if (!enter_private_netns (__func__))
    return;
  server = server_start (NULL);
  p = player_new (server->endpoint);

  cut_and_recover (p, "ice-restarts", 1);
  fail_unless_equals_int (server_count (server, "EVENT created"), 1);
  fail_unless (server_count (server, "EVENT ice-restart ") >= 1);
  assert_lines_contain (server, "EVENT ice-restart ", "if-match=\"*\"");
  fail_unless_equals_int (stats_uint64 (p, "sessions-failed"), 0);
  fail_unless_equals_int (stats_uint64 (p, "ice-restarts-failed"), 0);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* A server that refuses restarts (@flag), or has no PATCH: a new session
 * (fresh webrtcbin) replaces the lost one, the last frame held
 * meanwhile, and no error reaches the application. */
static void
check_restart_fallback (const gchar * test, const gchar * flag,
    const gchar * value)
{
  TestServer *server;
  Player *p;

  if (!enter_private_netns (test))
    return;
  server = server_start (flag, value, NULL);
  p = player_new (server->endpoint);

  cut_and_recover (p, "sessions-created", 2);
  fail_unless_equals_int (stats_uint64 (p, "ice-restarts"), 0);
  stop_and_check_no_leak (server, p);
}

GST_START_TEST (test_no_patch_falls_back_to_new_session)
{
  check_restart_fallback (__func__, "--patch", "405");
}

GST_END_TEST;

GST_START_TEST (test_refused_restart_falls_back_to_new_session)
{
  check_restart_fallback (__func__, "--no-ice-restart", NULL);
}

GST_END_TEST;

static Suite *
ice_suite (void)
{
  Suite *s = suite_create ("ice");
  TCase *trickle = tcase_create ("trickle");
  TCase *restart = tcase_create ("restart");

  suite_add_tcase (s, trickle);
  tcase_add_test (trickle, test_trickle_patches_candidates);
  tcase_add_test (trickle, test_trickle_host_only_posts_complete_offer);
  tcase_add_test (trickle, test_trickle_off_gathers_first);
  tcase_add_test (trickle, test_trickle_first_frame_earlier);
  tcase_add_test (trickle, test_trickle_refused_405_falls_back);
  tcase_add_test (trickle, test_trickle_refused_501_falls_back);

  suite_add_tcase (s, restart);
  tcase_add_test (restart, test_ice_restart_keeps_session);
  tcase_add_test (restart, test_no_patch_falls_back_to_new_session);
  tcase_add_test (restart, test_refused_restart_falls_back_to_new_session);
  return s;
}

WHEP_CHECK_MAIN (ice);
