/* whep-test-server — the server object shared by the HTTP front end and
 * the sessions, and the event log that tests read on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include "media.h"
#include "options.h"

G_BEGIN_DECLS

typedef struct _WhepServer WhepServer;
typedef struct _WhepSession WhepSession;

/* Counters reported by GET /admin/stats. */
typedef struct
{
  guint posts;
  guint created;
  guint deleted;
  guint expired;
  guint killed;
  guint patches;
} WhepServerStats;

/* Locking: every field is read and written on the main thread (the default
 * GMainContext, which runs the SoupServer, the timers and the bus watch)
 * only.  Other threads never touch the server: webrtcbin callbacks hop to
 * the main thread first (see session.c), and the teardown thread pool
 * (@reaper) only works on the session it is given.  The pool pointer itself
 * is set before any session exists and cleared after the last one, so
 * pushing to it from a streaming thread is safe. */
struct _WhepServer
{
  const WhepServerOptions *opts;
  GMainLoop *loop;
  WhepMedia *media;
  SoupServer *soup;
  GList *delayed_posts;         /* replies held by --answer-delay (http.c) */
  gchar *base_url;              /* "http://ADDR:PORT", no trailing slash */
  gint64 start_time;            /* g_get_monotonic_time () at start */
  gint64 first_post_time;       /* at the first POST (--not-live) */
  gboolean loopback_only;       /* every --ice-address is a loopback one */

  GHashTable *sessions;         /* id → WhepSession (ref), live ones only */
  GHashTable *sse_channels;     /* id → SSE channel (sse.c), --sse only */
  GThreadPool *reaper;          /* stops the bins of ended sessions */
  guint teardowns;              /* sessions ended, bins not yet removed */

  WhepServerStats stats;
  guint injected;               /* POSTs answered with --inject-status */
  gboolean stopping;            /* SIGINT/SIGTERM received */
  gint exit_code;
};

/* Prints "EVENT <text>" on stdout and flushes: one line per event. */
void whep_server_event (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

/* Seconds since @start (a g_get_monotonic_time () value). */
gdouble whep_server_seconds_since (gint64 start);

void whep_server_add_session (WhepServer * server, WhepSession * session);
WhepSession *whep_server_find_session (WhepServer * server, const gchar * id);

/* Called by a session when it ends: it leaves the table and a teardown is
 * counted until whep_server_teardown_done(). */
void whep_server_session_ended (WhepServer * server, WhepSession * session);
void whep_server_teardown_done (WhepServer * server);

/* Ends every session with @kind (a WhepSessionEnd); returns how many. */
guint whep_server_end_all (WhepServer * server, gint kind);

/* HTTP front end (http.c). */
gboolean whep_http_start (WhepServer * server, GError ** error);
void whep_http_stop (WhepServer * server);

G_END_DECLS
