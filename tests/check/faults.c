/* whepsrc tests — the fault matrix (docs/faults.md): every class of HTTP
 * status at POST, DELETE and PATCH, bodies too large, stalls and resets at
 * each stage, redirects to other schemes and origins, random state
 * changes during set-up and rotation, and the network cut for 1 s, 10 s
 * and for good.  Each cell states its outcome exactly: whepsrc plays (or
 * recovers), or posts one precise error; and no session is left on the
 * server.
 *
 * Faults the project's test server can express are made with its options;
 * the others (below HTTP, or HTTP no server library sends) with the raw
 * server of rawserver.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "netlab.h"

/* --- a raw server for what the test server cannot say --- */

typedef enum
{
  RAW_NONE,                     /* the cell uses the test server */
  RAW_CONTINUE_ONLY,            /* "100 Continue" heads, then silence */
  RAW_HEAD_STALL,               /* half a 201 head, then silence */
  RAW_BODY_STALL,               /* a 201 head with Location, 10 of 1000
                                 * body bytes, then silence */
  RAW_RESET,                    /* the POST read, the connection reset */
  RAW_BODY_TOO_LARGE,           /* a 201 + Location announcing 50 MB */
  RAW_ERROR_BODY_TOO_LARGE,     /* a 500 whose body is 50 MB */
  RAW_NO_CONTENT,               /* 204 + Location, no body */
  RAW_REDIRECT_SCHEME,          /* 307 to ftp:// */
  RAW_REDIRECT_303,             /* 303 (see other) to the test server */
  RAW_REDIRECT_ORIGIN,          /* 307 to the test server (another port:
                                 * another origin) */
} RawFault;

#define BIG_BODY (50 * 1024 * 1024)

typedef struct
{
  RawFault fault;
  gchar *target;                /* redirects: the test server's endpoint */
} RawCell;

static gboolean
raw_fault_answer (RawServer * srv, GSocket * conn, const gchar * request,
    gpointer data)
{
  RawCell *cell = data;
  g_autofree gchar *head = NULL;
  guint i;

  if (!g_str_has_prefix (request, "POST ")) {
    /* The DELETE of a session that came half-way. */
    raw_send_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    return TRUE;
  }
  switch (cell->fault) {
    case RAW_CONTINUE_ONLY:
      for (i = 0; i < 100 && raw_send_str (conn,
              "HTTP/1.1 100 Continue\r\n\r\n"); i++);
      raw_hold (srv, conn, 0);
      break;
    case RAW_HEAD_STALL:
      if (raw_send_str (conn, "HTTP/1.1 201 Created\r\nLocation: /sess"))
        raw_hold (srv, conn, 0);
      break;
    case RAW_BODY_STALL:
      if (raw_send_str (conn, "HTTP/1.1 201 Created\r\n"
              "Content-Type: application/sdp\r\nLocation: /session/raw\r\n"
              "Content-Length: 1000\r\n\r\nv=0\r\no=- 1"))
        raw_hold (srv, conn, 0);
      break;
    case RAW_RESET:
      raw_reset_on_close (conn);
      break;
    case RAW_BODY_TOO_LARGE:
      head = g_strdup_printf ("HTTP/1.1 201 Created\r\n"
          "Content-Type: application/sdp\r\nLocation: /session/raw\r\n"
          "Content-Length: %u\r\n\r\n", BIG_BODY);
      if (raw_send_str (conn, head))
        raw_send_fill (srv, conn, 'a', BIG_BODY, FALSE);
      break;
    case RAW_ERROR_BODY_TOO_LARGE:
      head = g_strdup_printf ("HTTP/1.1 500 Internal Server Error\r\n"
          "Content-Type: text/plain\r\nContent-Length: %u\r\n\r\n", BIG_BODY);
      if (raw_send_str (conn, head))
        raw_send_fill (srv, conn, 'e', BIG_BODY, FALSE);
      break;
    case RAW_NO_CONTENT:
      raw_send_str (conn, "HTTP/1.1 204 No Content\r\n"
          "Location: /session/raw\r\n\r\n");
      break;
    case RAW_REDIRECT_SCHEME:
      raw_send_str (conn, "HTTP/1.1 307 Temporary Redirect\r\n"
          "Location: ftp://127.0.0.1/whep\r\nContent-Length: 0\r\n\r\n");
      break;
    case RAW_REDIRECT_303:
    case RAW_REDIRECT_ORIGIN:
      head = g_strdup_printf ("HTTP/1.1 %s\r\nLocation: %s\r\n"
          "Content-Length: 0\r\n\r\n", cell->fault == RAW_REDIRECT_303 ?
          "303 See Other" : "307 Temporary Redirect", cell->target);
      raw_send_str (conn, head);
      break;
    case RAW_NONE:
      break;
  }
  return FALSE;
}

/* Waits until every session the server created is gone (DELETEd, expired
 * or killed); fails after @timeout_ms. */
static void
wait_no_session_left (TestServer * server, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + scaled (timeout_ms) * 1000;
  guint created, gone;

  do {
    created = server_count (server, "EVENT created");
    gone = server_count (server, "EVENT deleted")
        + server_count (server, "EVENT expired")
        + server_count (server, "EVENT killed");
    if (gone >= created)
      break;
    g_usleep (50 * 1000);
  } while (g_get_monotonic_time () < end);
  fail_unless_equals_int (gone, created);
}

/* Prints how the server's sessions ended: DELETEd, or expired and why. */
static void
print_session_ends (const gchar * test, TestServer * server)
{
  g_autoptr (GHashTable) reasons = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;
  guint i;

  g_mutex_lock (&server->lock);
  for (i = 0; i < server->lines->len; i++) {
    const gchar *line = g_ptr_array_index (server->lines, i);
    const gchar *reason = strstr (line, "reason=");

    if (g_str_has_prefix (line, "EVENT expired ") && reason) {
      gchar *why = g_strdup (reason + strlen ("reason="));
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (reasons, why));

      g_hash_table_replace (reasons, why, GUINT_TO_POINTER (n + 1));
    }
  }
  g_mutex_unlock (&server->lock);
  g_hash_table_iter_init (&iter, reasons);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_string_append_printf (text, ", %u expired (%s)", GPOINTER_TO_UINT (value),
        (gchar *) key);
  g_print ("faults: %s: %u sessions created, %u DELETEd%s\n", test,
      server_count (server, "EVENT created"),
      server_count (server, "EVENT deleted"), text->str);
}

/* --- the POST matrix --- */

typedef struct
{
  const gchar *name;            /* fault × stage, as in docs/faults.md */
  const gchar *server_args[8];  /* the test server's (NULL-ended) */
  RawFault raw;
  gint max_retries;
  const gchar *auth_token;
  gboolean cross_origin_auth;
  /* Expected: frames (plays), or this error. */
  gboolean plays;
  const gchar *warning;         /* plays: a warning with this text */
  gint code;                    /* a GST_RESOURCE_ERROR */
  const gchar *fragment;
  guint http_status;            /* 0: none checked */
  const gchar *raw_seen;        /* a request the raw server must get */
} PostCell;

/* *INDENT-OFF* */
static const PostCell post_cells[] = {
  /* 1xx only: the deadline (timeout=2) ends it. */
  {"post-1xx-only", {NULL}, RAW_CONTINUE_ONLY, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "only 100 informational (1xx) answers", 0, NULL},
  /* 2xx that is not 201, without Location: plays, warns it cannot DELETE. */
  {"post-200-no-location", {"--created-status", "200", "--location", "none",
          "--media-timeout", "1", NULL}, RAW_NONE, 0, NULL, FALSE,
      TRUE, "Location", 0, NULL, 0, NULL},
  {"post-202", {"--created-status", "202", NULL}, RAW_NONE, 0, NULL, FALSE,
      TRUE, NULL, 0, NULL, 0, NULL},
  /* 204: a session without an answer — failed, and DELETEd. */
  {"post-204-no-body", {NULL}, RAW_NO_CONTENT, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "no body", 204,
      "DELETE /session/raw"},
  /* 3xx */
  {"post-307-other-scheme", {NULL}, RAW_REDIRECT_SCHEME, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "a ftp: URL (only http and https are followed)", 307, NULL},
  {"post-303", {NULL}, RAW_REDIRECT_303, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "303 See Other to", 303, NULL},
  /* The token stays with its origin: the other origin asks for it. */
  {"post-307-other-origin", {"--token", "s3cret", NULL}, RAW_REDIRECT_ORIGIN,
      0, "s3cret", FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Check auth-token", 401,
      NULL},
  {"post-307-other-origin-allowed", {"--token", "s3cret", NULL},
      RAW_REDIRECT_ORIGIN, 0, "s3cret", TRUE,
      TRUE, NULL, 0, NULL, 0, NULL},
  /* 4xx (401, 403, 404: whepsrc.c) */
  {"post-400", {"--inject-status", "400", NULL}, RAW_NONE, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "injected error 400", 400,
      NULL},
  {"post-429-problem", {"--inject-status", "429", "--error-format", "problem",
          NULL}, RAW_NONE, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_BUSY, "cannot serve this session now",
      429, NULL},
  /* 5xx (500: whepsrc.c), a 4xx/5xx once: a retry plays. */
  {"post-502", {"--inject-status", "502", NULL}, RAW_NONE, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_BUSY, "injected error 502", 502, NULL},
  {"post-502-once", {"--inject-status", "502", "--inject-count", "1", NULL},
      RAW_NONE, 1, NULL, FALSE,
      TRUE, NULL, 0, NULL, 0, NULL},
  /* Bodies too large. */
  {"post-201-body-too-large", {NULL}, RAW_BODY_TOO_LARGE, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "larger than the 256 KiB limit",
      201,
      "DELETE /session/raw"},
  {"post-500-body-too-large", {NULL}, RAW_ERROR_BODY_TOO_LARGE, 0, NULL,
      FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "answered the offer with HTTP 500", 500, NULL},
  /* Stalls and resets. */
  {"post-head-stall", {NULL}, RAW_HEAD_STALL, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "No answer", 0, NULL},
  {"post-body-stall", {NULL}, RAW_BODY_STALL, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "was not complete within", 201,
      "DELETE /session/raw"},
  {"post-reset", {NULL}, RAW_RESET, 0, NULL, FALSE,
      FALSE, NULL, GST_RESOURCE_ERROR_OPEN_READ, "Connection reset by peer", 0,
      NULL},
};
/* *INDENT-ON* */

static void
print_error (const gchar * cell, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  const GstStructure *details = NULL;
  guint status = 0;

  gst_message_parse_error (msg, &err, NULL);
  gst_message_parse_error_details (msg, &details);
  if (details)
    gst_structure_get_uint (details, "http-status-code", &status);
  g_print ("faults: %s: error %s:%d (%u) %s\n", cell,
      g_quark_to_string (err->domain), err->code, status, err->message);
}

GST_START_TEST (test_post_matrix)
{
  const PostCell *cell = &post_cells[__i__];
  TestServer *server = NULL;
  RawServer *raw = NULL;
  RawCell raw_cell = { cell->raw, NULL };
  const gchar *endpoint;
  GstMessage *error;
  Player *p;
  gint64 start;

  if (cell->raw == RAW_NONE || cell->raw == RAW_REDIRECT_ORIGIN
      || cell->raw == RAW_REDIRECT_303)
    server = server_start_argv (cell->server_args);
  if (cell->raw != RAW_NONE) {
    raw_cell.target = server ? g_strdup (server->endpoint) : NULL;
    raw = raw_server_new (raw_fault_answer, &raw_cell);
  }
  endpoint = raw ? raw_server_url (raw, "/whep") : server->endpoint;
  p = player_new (endpoint);
  if (raw)
    g_free ((gchar *) endpoint);
  g_object_set (p->src, "max-retries", cell->max_retries, "timeout", 2,
      "allow-cross-origin-auth", cell->cross_origin_auth, NULL);
  if (cell->auth_token)
    g_object_set (p->src, "auth-token", cell->auth_token, NULL);

  start = g_get_monotonic_time ();
  error = player_run (p, frames_at_least, GUINT_TO_POINTER (20), 20000);
  if (error)
    print_error (cell->name, error);
  else
    g_print ("faults: %s: %u frames\n", cell->name, player_video_frames (p));
  if (cell->plays) {
    fail_unless (error == NULL, "%s: an error", cell->name);
    fail_unless (player_video_frames (p) >= 20, "%s: %u frames", cell->name,
        player_video_frames (p));
    if (cell->warning) {
      fail_unless (p->warnings->len >= 1, "%s: no warning", cell->name);
      fail_unless (strstr (g_ptr_array_index (p->warnings, 0),
              cell->warning) != NULL, "%s: warning '%s'", cell->name,
          (gchar *) g_ptr_array_index (p->warnings, 0));
    }
  } else {
    assert_error (error, GST_RESOURCE_ERROR, cell->code, cell->fragment,
        cell->http_status);
    gst_message_unref (error);
    /* Bounded: within the request timeout (2 s) and a margin. */
    fail_unless (g_get_monotonic_time () - start < scaled (6000) * 1000,
        "%s: the error took %.1f s", cell->name,
        (g_get_monotonic_time () - start) / 1e6);
  }
  if (cell->raw_seen)
    fail_unless (raw_server_wait (raw, cell->raw_seen, scaled (3000)),
        "%s: no '%s'", cell->name, cell->raw_seen);

  start = g_get_monotonic_time ();
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  fail_unless (g_get_monotonic_time () - start < scaled (1500) * 1000,
      "%s: stop took %.1f s", cell->name,
      (g_get_monotonic_time () - start) / 1e6);
  player_free (p);
  if (raw)
    raw_server_free (raw);
  g_free (raw_cell.target);
  if (server) {
    /* Without a Location nothing can be DELETEd: the session expires. */
    if (cell->warning)
      wait_no_session_left (server, 4000);
    else
      server_assert_no_leak (server);
    server_stop (server);
  }
}

GST_END_TEST;

/* --- DELETE and PATCH --- */

typedef struct
{
  const gchar *name;
  const gchar *server_args[4];
  const gchar *server_event;    /* the fault as the server logs it */
} StopCell;

/* *INDENT-OFF* */
static const StopCell delete_cells[] = {
  {"delete-404", {"--delete-status", "404", NULL}, "EVENT delete-refused"},
  {"delete-500", {"--delete-status", "500", NULL}, "EVENT delete-refused"},
  {"delete-stall", {"--delete-stall", NULL}, "EVENT delete-held"},
};
/* *INDENT-ON* */

/* A DELETE refused or never answered: the stop still returns within 1 s,
 * without an error, and the session ends on the server by its timeout
 * (here the media timeout: 2 s without a word from the player). */
GST_START_TEST (test_delete_matrix)
{
  const StopCell *cell = &delete_cells[__i__];
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  TestServer *server;
  GstMessage *error;
  Player *p;
  gint64 start;
  guint i;

  g_ptr_array_add (args, (gpointer) "--media-timeout");
  g_ptr_array_add (args, (gpointer) "2");
  for (i = 0; cell->server_args[i]; i++)
    g_ptr_array_add (args, (gpointer) cell->server_args[i]);
  g_ptr_array_add (args, NULL);
  server = server_start_argv ((const gchar * const *) args->pdata);
  p = player_new (server->endpoint);
  error = player_run (p, frames_at_least, GUINT_TO_POINTER (20), 15000);
  fail_unless (error == NULL, "%s: an error while playing", cell->name);

  start = g_get_monotonic_time ();
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  g_print ("faults: %s: stop took %.2f s\n", cell->name,
      (g_get_monotonic_time () - start) / 1e6);
  fail_unless (g_get_monotonic_time () - start < scaled (1000) * 1000,
      "%s: stop took %.1f s", cell->name,
      (g_get_monotonic_time () - start) / 1e6);
  fail_unless (server_wait (server, cell->server_event, 1, 2000),
      "%s: the server saw no DELETE", cell->name);
  player_free (p);
  fail_unless_equals_int (server_count (server, "EVENT deleted"), 0);
  wait_no_session_left (server, 6000);
  fail_unless (server_count (server, "EVENT expired") >= 1);
  server_stop (server);
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  const gchar *server_args[5];
  const gchar *server_event;    /* the fault as the server logs it */
  gint code;                    /* the GST_RESOURCE_ERROR expected */
  const gchar *fragment;
  guint http_status;
} PatchCell;

/* *INDENT-OFF* */
static const PatchCell patch_cells[] = {
  {"patch-counter-answer-400", {"--counter-offer", "--patch-status", "400",
          NULL}, "EVENT patch ", GST_RESOURCE_ERROR_OPEN_READ,
      "answered the answer to its counter-offer with HTTP 400", 400},
  {"patch-counter-answer-500", {"--counter-offer", "--patch-status", "500",
          NULL}, "EVENT patch ", GST_RESOURCE_ERROR_OPEN_READ,
      "answered the answer to its counter-offer with HTTP 500", 500},
  {"patch-counter-answer-stall", {"--counter-offer", "--patch-stall", NULL},
      "EVENT patch-held", GST_RESOURCE_ERROR_OPEN_READ,
      "Could not send our answer to the counter-offer", 0},
};
/* *INDENT-ON* */

/* The PATCH that carries whepsrc's answer to a server's counter-offer
 * (406), refused or never answered: one precise error (max-retries 0),
 * within the request timeout, and the session is DELETEd.  (PATCHes of
 * an ICE restart: test_network_cut_ice_restart_patch_*; refused with
 * 405/422: ice.c.) */
GST_START_TEST (test_patch_matrix)
{
  const PatchCell *cell = &patch_cells[__i__];
  TestServer *server = server_start_argv (cell->server_args);
  Player *p = player_new (server->endpoint);
  GstMessage *error;
  gint64 start = g_get_monotonic_time ();

  g_object_set (p->src, "max-retries", 0, "timeout", 2, NULL);
  error = player_run (p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  print_error (cell->name, error);
  assert_error (error, GST_RESOURCE_ERROR, cell->code, cell->fragment,
      cell->http_status);
  gst_message_unref (error);
  fail_unless (g_get_monotonic_time () - start < scaled (6000) * 1000,
      "%s: the error took %.1f s", cell->name,
      (g_get_monotonic_time () - start) / 1e6);
  fail_unless (server_count (server, cell->server_event) >= 1,
      "%s: no PATCH reached the server", cell->name);
  fail_unless_equals_int (player_video_frames (p), 0);
  stop_and_check_no_leak (server, p);
}

GST_END_TEST;

/* A DELETE refused at every rotation: the rotations go on seamlessly, and
 * each old session ends by the server's limit instead. */
GST_START_TEST (test_delete_refused_during_rotation)
{
  TestServer *server = server_start ("--session-limit", "3",
      "--delete-status", "500", NULL);
  Player *p = player_new (server->endpoint);

  g_object_set (p->src, "session-lifetime", 3, NULL);
  run_without_error (p, rotations_at_least, GUINT_TO_POINTER (2), 20000);
  g_mutex_lock (&p->lock);
  player_check_frames_exact_locked (p, FALSE);
  fail_unless_equals_int (p->backwards, 0);
  g_mutex_unlock (&p->lock);
  fail_unless (server_count (server, "EVENT delete-refused") >= 2);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  player_free (p);
  wait_no_session_left (server, 5000);
  server_stop (server);
}

GST_END_TEST;

/* --- random state changes during set-up and rotation --- */

#define N_TRANSITIONS 200
#define WATCHDOG_S 10

typedef struct
{
  GMutex lock;
  GCond cond;
  gint64 last_progress;
  const gchar *doing;
  gboolean done;
} Watchdog;

/* Aborts the process (a core, the thread stacks) when a state change
 * does not return: a deadlock, not a slow test. */
static gpointer
watchdog_main (gpointer data)
{
  Watchdog *w = data;

  g_mutex_lock (&w->lock);
  while (!w->done) {
    gint64 now = g_get_monotonic_time ();

    if (now - w->last_progress > scaled (WATCHDOG_S * 1000) * 1000LL)
      g_error ("watchdog: %s did not return within %d s: deadlock",
          w->doing, WATCHDOG_S);
    g_cond_wait_until (&w->cond, &w->lock, now + 100 * 1000);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

static void
watchdog_step (Watchdog * w, const gchar * doing)
{
  g_mutex_lock (&w->lock);
  w->last_progress = g_get_monotonic_time ();
  w->doing = doing;
  g_mutex_unlock (&w->lock);
}

GST_START_TEST (test_random_state_changes)
{
  static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
    GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  static const gchar *const names[] = { "set_state(NULL)",
    "set_state(READY)", "set_state(PAUSED)", "set_state(PLAYING)"
  };
  /* Sessions of 3 s, rotated 1.5 s before their end; those a state change
   * cut off half-way end on the server by their handshake or media
   * timeout (2 s) when no DELETE reached it. */
  TestServer *server = server_start ("--session-limit", "3",
      "--handshake-timeout", "2", "--media-timeout", "2", NULL);
  Player *p = player_new (server->endpoint);
  guint32 seed = g_random_int ();
  GRand *rand = g_rand_new_with_seed (seed);
  GstBus *bus = gst_element_get_bus (p->pipeline);
  Watchdog w = { 0, };
  GThread *watchdog;
  guint64 rotations = 0, run_rotations = 0;
  guint i, errors = 0, longest = 0, threads;
  gint64 start = g_get_monotonic_time ();

  if (g_getenv ("WHEP_FAULTS_SEED"))
    g_rand_set_seed (rand, seed = atoi (g_getenv ("WHEP_FAULTS_SEED")));
  g_print ("faults: %s: seed %u (WHEP_FAULTS_SEED to repeat)\n", __func__,
      seed);
  g_object_set (p->src, "session-lifetime", 3, NULL);
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  watchdog_step (&w, "start");
  watchdog = g_thread_new ("watchdog", watchdog_main, &w);

  for (i = 0; i < N_TRANSITIONS; i++) {
    guint which = g_rand_int_range (rand, 0, 4);
    /* Mostly short stays (set-up cut at every stage); one in 25 long
     * enough in PLAYING for a rotation (at 1.5 s of a 3 s session). */
    guint stay_ms = g_rand_int_range (rand, 0, 25) == 0 ? 2200 :
        g_rand_int_range (rand, 0, 120);
    GstMessage *msg;
    gint64 t0;
    guint took;

    if (stay_ms == 2200)
      which = 3;
    watchdog_step (&w, names[which]);
    t0 = g_get_monotonic_time ();
    gst_element_set_state (p->pipeline, states[which]);
    took = (g_get_monotonic_time () - t0) / 1000;
    longest = MAX (longest, took);
    watchdog_step (&w, "sleeping");
    g_usleep (stay_ms * 1000);
    if (states[which] >= GST_STATE_PAUSED) {
      run_rotations = MAX (run_rotations, stats_uint64 (p, "rotations"));
    } else {
      rotations += run_rotations;
      run_rotations = 0;
    }
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      print_error (__func__, msg);
      errors++;
      gst_message_unref (msg);
    }
  }
  rotations += run_rotations;
  watchdog_step (&w, "set_state(NULL) at the end");
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  g_mutex_lock (&w.lock);
  w.done = TRUE;
  g_cond_broadcast (&w.cond);
  g_mutex_unlock (&w.lock);
  g_thread_join (watchdog);
  threads = count_whep_threads ();

  g_print ("faults: %s: %u transitions in %.1f s, longest %u ms, %"
      G_GUINT64_FORMAT " rotations, %u errors, %u whepsrc threads left\n",
      __func__, N_TRANSITIONS, (g_get_monotonic_time () - start) / 1e6,
      longest, rotations, errors, threads);
  fail_unless_equals_int (errors, 0);
  /* A rotation needs a session set up within a 2.2 s stay: a matter of
   * time (see realtime_checks()). */
  fail_unless (rotations >= 1 || !realtime_checks (), "no rotation happened");
  fail_unless_equals_int (threads, 0);
  fail_unless (longest < scaled (2000), "a state change took %u ms", longest);
  gst_object_unref (bus);
  g_rand_free (rand);
  player_free (p);
  wait_no_session_left (server, 6000);
  print_session_ends (__func__, server);
  server_stop (server);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
}

GST_END_TEST;

/* --- the network cut --- */

static gboolean
never (Player * p, gpointer data)
{
  return FALSE;
}

static guint
new_pictures (Player * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->counted - p->repeats;
  g_mutex_unlock (&p->lock);
  return n;
}

static gboolean
new_pictures_at_least (Player * p, gpointer data)
{
  return new_pictures (p) >= GPOINTER_TO_UINT (data);
}

/* Plays, cuts every packet (TCP too) for @cut_ms, and expects the picture
 * held meanwhile then new pictures again; @cut_ms 0: for good, and the
 * error when the retries run out. */
static void
check_network_cut (const gchar * test, guint cut_ms)
{
  const gchar *const args[] = { "--media-timeout", "2",
    "--handshake-timeout", "3", NULL
  };
  NetLab *lab;
  TestServer *server;
  Player *p;
  GstMessage *error;
  guint before, held;
  gint64 restored;

  if (netlab_skip (test))
    return;
  lab = netlab_new_single ();
  netlab_enter (lab, NETLAB_CLIENT);
  server = server_start_in_netns_argv (netlab_ns (lab, NETLAB_SERVER),
      netlab_address (lab, NETLAB_SERVER), args);
  p = player_new (server->endpoint);
  g_object_set (p->src, "ice-local-addresses", netlab_address (lab,
          NETLAB_CLIENT), "timeout", 2, "max-retries", cut_ms ? -1 : 2, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (30), 15000);

  netlab_cut (lab, NETLAB_CLIENT, TRUE);
  if (cut_ms == 0) {
    gint64 cut = g_get_monotonic_time ();

    error = player_run (p, never, NULL, 60000);
    print_error (test, error);
    g_print ("faults: %s: the error came %.1f s after the cut\n", test,
        (g_get_monotonic_time () - cut) / 1e6);
    assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "No answer from the WHEP endpoint", 0);
    gst_message_unref (error);
    player_free (p);
    netlab_cut (lab, NETLAB_CLIENT, FALSE);
    /* Nothing reached the server since the cut: its sessions expire. */
    wait_no_session_left (server, 8000);
    server_stop (server);
    netlab_free (lab);
    return;
  }

  before = player_video_frames (p);
  error = player_run (p, never, NULL, cut_ms);
  held = player_video_frames (p) - before;
  netlab_cut (lab, NETLAB_CLIENT, FALSE);
  restored = g_get_monotonic_time ();
  if (error)
    print_error (test, error);
  fail_unless (error == NULL, "%s: an error during the cut", test);
  /* The output went on (the held picture repeated at 30 fps from 200 ms
   * of silence on) through the cut: at least half the frame rate, a
   * margin for a loaded machine. */
  fail_unless (held >= cut_ms * 15 / 1000, "%s: %u frames in %u ms", test,
      held, cut_ms);
  before = new_pictures (p);
  run_without_error (p, new_pictures_at_least, GUINT_TO_POINTER (before + 30),
      20000);
  g_print ("faults: %s: %u frames during the cut, new pictures %.1f s after "
      "it, %" G_GUINT64_FORMAT " sessions created, %" G_GUINT64_FORMAT
      " ICE restarts\n", test, held, (g_get_monotonic_time () - restored) / 1e6,
      stats_uint64 (p, "sessions-created"), stats_uint64 (p, "ice-restarts"));
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  player_free (p);
  wait_no_session_left (server, 8000);
  server_stop (server);
  netlab_free (lab);
}

GST_START_TEST (test_network_cut_1s)
{
  check_network_cut (__func__, 1000);
}

GST_END_TEST;

GST_START_TEST (test_network_cut_10s)
{
  check_network_cut (__func__, 10000);
}

GST_END_TEST;

GST_START_TEST (test_network_cut_for_good)
{
  check_network_cut (__func__, 0);
}

GST_END_TEST;

/* The PATCH of an ICE restart refused or never answered: after the media
 * path (UDP only) came back, whepsrc replaces the session (the restart's
 * PATCH within its timeout, then a new POST) and the picture moves again;
 * no error reaches the application, nothing is left on the server. */
static const gchar *const restart_patch_faults[][3] = {
  {"--patch-status", "500", NULL},
  {"--patch-stall", NULL, NULL},
};

GST_START_TEST (test_ice_restart_patch_matrix)
{
  const gchar *const *fault = restart_patch_faults[__i__];
  const gchar *args[] = { fault[0], fault[1], NULL };
  const gchar *name = __i__ == 0 ? "ice-restart-patch-500" :
      "ice-restart-patch-stall";
  NetLab *lab;
  TestServer *server;
  Player *p;
  guint before;

  if (netlab_skip (name))
    return;
  lab = netlab_new_single ();
  netlab_enter (lab, NETLAB_CLIENT);
  server = server_start_in_netns_argv (netlab_ns (lab, NETLAB_SERVER),
      netlab_address (lab, NETLAB_SERVER), args);
  p = player_new (server->endpoint);
  g_object_set (p->src, "ice-local-addresses", netlab_address (lab,
          NETLAB_CLIENT), "timeout", 2, "media-timeout", 500, NULL);
  run_without_error (p, frames_at_least, GUINT_TO_POINTER (20), 15000);
  netlab_block_udp (lab, NETLAB_CLIENT, TRUE);
  run_without_error (p, never, NULL, 1500);
  netlab_block_udp (lab, NETLAB_CLIENT, FALSE);
  before = new_pictures (p);
  run_without_error (p, new_pictures_at_least, GUINT_TO_POINTER (before + 30),
      15000);
  g_print ("faults: %s: %" G_GUINT64_FORMAT " sessions created, %"
      G_GUINT64_FORMAT " ICE restarts (%" G_GUINT64_FORMAT " failed)\n", name,
      stats_uint64 (p, "sessions-created"), stats_uint64 (p, "ice-restarts"),
      stats_uint64 (p, "ice-restarts-failed"));
  fail_unless (server_count (server, "EVENT patch") >= 1,
      "%s: no PATCH reached the server", name);
  fail_unless (stats_uint64 (p, "ice-restarts-failed") >= 1,
      "%s: no failed ICE restart", name);
  fail_unless (stats_uint64 (p, "sessions-created") >= 2,
      "%s: the session was not replaced", name);
  stop_and_check_no_leak (server, p);
  netlab_free (lab);
}

GST_END_TEST;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *http = tcase_create ("http");
  TCase *states = tcase_create ("states");
  TCase *network = tcase_create ("network");

  suite_add_tcase (s, http);
  tcase_set_timeout (http, 60);
  tcase_add_loop_test (http, test_post_matrix, 0, G_N_ELEMENTS (post_cells));
  tcase_add_loop_test (http, test_delete_matrix, 0,
      G_N_ELEMENTS (delete_cells));
  tcase_add_loop_test (http, test_patch_matrix, 0, G_N_ELEMENTS (patch_cells));
  tcase_add_test (http, test_delete_refused_during_rotation);

  suite_add_tcase (s, states);
  tcase_set_timeout (states, 120);
  tcase_add_test (states, test_random_state_changes);

  suite_add_tcase (s, network);
  tcase_set_timeout (network, 120);
  tcase_add_test (network, test_network_cut_1s);
  tcase_add_test (network, test_network_cut_10s);
  tcase_add_test (network, test_network_cut_for_good);
  tcase_add_loop_test (network, test_ice_restart_patch_matrix, 0,
      G_N_ELEMENTS (restart_patch_faults));

  return s;
}

/* WHEP_CHECK_MAIN, and what failed network cases left behind. */
int
main (int argc, char **argv)
{
  Suite *s;
  gint failed;

  /* Asked before the cases are forked: they inherit the answer. */
  netlab_available (NULL);
  harness_init_before_gst ();
  gst_check_init (&argc, &argv);
  harness_init_after_gst ();
  s = faults_suite ();
  failed = gst_check_run_suite (s, "faults", __FILE__);
  netlab_cleanup_stale ();
  return failed != 0;
}
