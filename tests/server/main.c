/* whep-test-server — a WHEP server built on webrtcbin and libsoup 3, for
 * whepsrc's tests.  It behaves like a live camera (one shared source,
 * every frame numbered with tests/common/framecode.h) and can imitate the
 * quirks of real WHEP providers: see --help and WHEP-NOTES.md.
 *
 * stdout carries one "LISTENING http://ADDR:PORT" line, then one line per
 * event, each flushed:
 *
 *   EVENT post status=CODE               every POST answered
 *   EVENT created id=ID                  a session answered (201 or 406)
 *   EVENT fec id=ID                      its SDP sends ULPFEC in RED (--fec)
 *   EVENT connected id=ID                its peer connection is up
 *   EVENT patch id=ID status=CODE content-type=TYPE
 *   EVENT deleted id=ID                  the player DELETEd it
 *   EVENT expired id=ID reason=REASON    session-limit, handshake-timeout,
 *                                        counter-offer-timeout,
 *                                        media-timeout, connection-failed
 *   EVENT killed id=ID                   --kill-after or POST /admin/kill
 *   EVENT failed id=ID reason=REASON     negotiation failed (the POST got
 *                                        a 4xx/5xx) or the player left
 *   EVENT closed id=ID                   SIGINT/SIGTERM
 *   EVENT unanswered id=ID reason=REASON it ended (expired, killed, closed)
 *                                        before its 201/406 went out: no
 *                                        player knew it, none is counted
 *
 * With --sse (WHEP server-sent events, draft webrtc-http-egress-events)
 * the 201/406 carries
 *   Link: <http://ADDR:PORT<path>/session/ID/sse>;
 *         rel="urn:ietf:params:whep:ext:core:server-sent-events";
 *         events="active,inactive,reconnect"
 * POSTing a JSON array of those names there answers 201 with Location
 * .../session/ID/sse/stream (400 for other names, 415 if not
 * application/json); a GET on that is a text/event-stream of
 * "event: NAME\ndata: JSON\n\n": "active" ({}) once the session is
 * connected, "reconnect" ({"url":"<endpoint URL>"}) --reconnect-after
 * seconds after the POST (the session lives on; streams opened later get
 * it too), and whatever POST /admin/event?type=T[&id=ID] sends (204, 404
 * for no such session).  Only subscribed events are sent.  The stream
 * closes when the session ends or on DELETE of the stream URL (which also
 * drops the subscription).  Events:
 *
 *   EVENT sse-subscribe id=ID events=A,B a subscription (canonical order)
 *   EVENT sse-stream id=ID               a stream opened
 *   EVENT sse-sent id=ID event=NAME      an event written to a stream
 *
 * --bye-on-kill: killed sessions send RTCP BYE (an EOS into webrtcbin's
 * rtpsession, then 100 ms) before they stop; without it a kill is silent.
 *
 * GET /admin/stats returns the counters and live sessions as JSON.
 * Diagnostics go to GST_DEBUG (categories whepserver*).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>
#include <unistd.h>

#include "server.h"
#include "session.h"

GST_DEBUG_CATEGORY_STATIC (whep_server_debug);
#define GST_CAT_DEFAULT whep_server_debug

/* How long SIGINT/SIGTERM waits for sessions to close before giving up. */
#define SHUTDOWN_TIMEOUT_MS 30000
#define REAPER_THREADS 2

static gboolean
shutdown_timeout_cb (gpointer data)
{
  WhepServer *server = data;

  GST_ERROR ("%u sessions still closing, exiting anyway", server->teardowns);
  g_main_loop_quit (server->loop);
  return G_SOURCE_REMOVE;
}

/* Ends every session (each logs "closed"), then the loop quits once the
 * last bin is gone. */
static void
server_begin_shutdown (WhepServer * server)
{
  if (server->stopping)
    return;

  GST_INFO ("shutting down");
  server->stopping = TRUE;
  whep_server_end_all (server, WHEP_SESSION_END_CLOSED);
  if (server->teardowns == 0)
    g_main_loop_quit (server->loop);
  else
    g_timeout_add (SHUTDOWN_TIMEOUT_MS, shutdown_timeout_cb, server);
}

static gboolean
signal_cb (gpointer data)
{
  server_begin_shutdown (data);
  return G_SOURCE_CONTINUE;
}

/* The id of the session whose bin holds @object, or NULL. */
static gchar *
session_id_of_object (GstObject * object)
{
  g_autoptr (GstObject) current = gst_object_ref (object);

  while (current != NULL) {
    const gchar *id = g_object_get_data (G_OBJECT (current),
        "whep-session-id");
    GstObject *parent;

    if (id != NULL)
      return g_strdup (id);
    parent = gst_object_get_parent (current);
    gst_object_unref (current);
    current = parent;
  }
  return NULL;
}

static gboolean
bus_cb (GstBus * bus, GstMessage * message, gpointer data)
{
  WhepServer *server = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *session_id = NULL;
  WhepSession *session;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (message, &error, &debug);
      GST_WARNING_OBJECT (GST_MESSAGE_SRC (message), "error: %s (%s)",
          error->message, debug ? debug : "");
      session_id = session_id_of_object (GST_MESSAGE_SRC (message));
      if (session_id != NULL) {
        /* A viewer's trouble is that viewer's, not the camera's; an ended
         * session's late errors are no one's. */
        session = whep_server_find_session (server, session_id);
        if (session != NULL)
          whep_session_end (session, WHEP_SESSION_END_FAILED, "pipeline-error");
      } else {
        g_printerr ("whep-test-server: source pipeline error: %s\n",
            error->message);
        server->exit_code = 1;
        server_begin_shutdown (server);
      }
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (message, &error, &debug);
      GST_WARNING_OBJECT (GST_MESSAGE_SRC (message), "warning: %s (%s)",
          error->message, debug ? debug : "");
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
all_loopback (gchar ** addresses)
{
  for (; *addresses != NULL; addresses++) {
    g_autoptr (GInetAddress) address =
        g_inet_address_new_from_string (*addresses);

    if (address == NULL || !g_inet_address_get_is_loopback (address))
      return FALSE;
  }
  return TRUE;
}

static gboolean
server_start (WhepServer * server, GError ** error)
{
  g_autoptr (GstBus) bus = NULL;

  server->media = whep_media_new (server->opts, error);
  if (server->media == NULL)
    return FALSE;

  bus = gst_pipeline_get_bus (whep_media_get_pipeline (server->media));
  gst_bus_add_watch (bus, bus_cb, server);
  if (!whep_media_start (server->media, error))
    return FALSE;

  server->start_time = g_get_monotonic_time ();
  return whep_http_start (server, error);
}

static void
server_clear (WhepServer * server)
{
  whep_http_stop (server);
  if (server->media != NULL) {
    g_autoptr (GstBus) bus =
        gst_pipeline_get_bus (whep_media_get_pipeline (server->media));

    whep_media_stop (server->media);
    gst_bus_remove_watch (bus);
  }
  /* Run what webrtcbin callbacks left queued: each drops a session ref. */
  while (g_main_context_iteration (NULL, FALSE));
  if (server->reaper != NULL)
    g_thread_pool_free (server->reaper, FALSE, TRUE);
  while (g_main_context_iteration (NULL, FALSE));

  g_clear_pointer (&server->media, whep_media_free);
  g_clear_pointer (&server->sessions, g_hash_table_unref);
  g_clear_pointer (&server->loop, g_main_loop_unref);
}

int
main (int argc, char **argv)
{
  g_autoptr (WhepServerOptions) opts = NULL;
  g_autoptr (GError) error = NULL;
  WhepServer server = { NULL, };

  gst_init (&argc, &argv);
  GST_DEBUG_CATEGORY_INIT (whep_server_debug, "whepserver", 0,
      "WHEP test server");

  opts = whep_server_options_parse (&argc, &argv, &error);
  if (opts == NULL) {
    g_printerr ("whep-test-server: %s\n", error->message);
    return 2;
  }

  server.opts = opts;
  server.loop = g_main_loop_new (NULL, FALSE);
  server.sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) whep_session_unref);
  server.reaper = g_thread_pool_new (whep_session_reap, NULL, REAPER_THREADS,
      FALSE, NULL);
  server.loopback_only = all_loopback (opts->ice_addresses);

  if (!server_start (&server, &error)) {
    g_printerr ("whep-test-server: %s\n", error->message);
    server_clear (&server);
    return 1;
  }

  g_unix_signal_add (SIGINT, signal_cb, &server);
  g_unix_signal_add (SIGTERM, signal_cb, &server);
  fprintf (stdout, "LISTENING %s\n", server.base_url);
  fflush (stdout);

  g_main_loop_run (server.loop);

  if (server.teardowns > 0) {
    /* A bin that would not stop: freeing under it could crash. */
    g_printerr ("whep-test-server: %u sessions did not close\n",
        server.teardowns);
    fflush (stdout);
    _exit (server.exit_code);
  }
  server_clear (&server);
  gst_deinit ();
  return server.exit_code;
}
