/* whepsrc tests — a raw HTTP server on 127.0.0.1 for servers that
 * misbehave in ways no real HTTP server library would (floods of
 * "100 Continue", stalls half-way through a head or a body, resets, bodies
 * without end…).  One thread per connection; what each request gets is up
 * to a handler.  Used by the client, whepsrc, stop-benchmark and fault
 * suites (client.c, harness.c, faults.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RawServer RawServer;

/* Answers @request (its head and the body its Content-Length names) on
 * @conn, on the connection's own thread.  TRUE: read the next request of
 * the connection; FALSE: close it. */
typedef gboolean (*RawHandler) (RawServer * srv, GSocket * conn,
    const gchar * request, gpointer data);

RawServer *raw_server_new (RawHandler handler, gpointer data);
guint16 raw_server_port (RawServer * srv);
/* http://127.0.0.1:PORT@path */
gchar *raw_server_url (RawServer * srv, const gchar * path);
/* Every request is recorded as "METHOD /path|Authorization-value" before
 * the handler runs; handlers may add lines of their own. */
void raw_server_record (RawServer * srv, const gchar * line);
/* Waits (at most @timeout_ms) until a line starting with @prefix
 * ("DELETE /session/raw") is recorded; TRUE when it was. */
gboolean raw_server_wait (RawServer * srv, const gchar * prefix,
    guint timeout_ms);
guint raw_server_count (RawServer * srv, const gchar * prefix);
/* TRUE once raw_server_free() began: handlers that loop end then. */
gboolean raw_server_stopping (RawServer * srv);
/* Closes the listener, ends the handlers (they see raw_server_stopping)
 * and joins every thread. */
void raw_server_free (RawServer * srv);

/* --- for handlers --- */

gboolean raw_send (GSocket * conn, const void *data, gsize len);
gboolean raw_send_str (GSocket * conn, const gchar * text);
/* Sends @total bytes of @fill (chunked: as 16 KiB chunks), or less when
 * the client closes or the server stops. */
void raw_send_fill (RawServer * srv, GSocket * conn, gchar fill, gsize total,
    gboolean chunked);
/* Silence until the client closes (or the server stops); with @max_ms > 0
 * at most that long.  FALSE when the client closed. */
gboolean raw_hold (RawServer * srv, GSocket * conn, guint max_ms);
/* Makes the close that follows a reset (RST), not a FIN. */
void raw_reset_on_close (GSocket * conn);

G_END_DECLS
