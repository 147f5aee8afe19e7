/* whepsrc — does an https:// endpoint's port speak plain HTTP?
 *
 * An https:// URL that points at a plain HTTP port is a common mistake,
 * and TLS alone reports it badly: a server that answers the TLS hello
 * with an HTTP 400 gives "unexpected TLS packet", and one that waits for
 * a request line (libsoup's, many embedded ones) says nothing until the
 * request times out.  The probe connects to host:port without TLS, sends
 * a HEAD request and says whether an HTTP status line comes back, within
 * its own short timeout.
 *
 * Runs on the caller's thread-default main context (the HTTP client's
 * thread).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long the probe waits to connect and for the first bytes. */
#define GST_WHEP_PLAIN_PROBE_TIMEOUT_S 2

/* Starts the probe of @host:@port. */
void gst_whep_plain_probe_async (const gchar * host, guint16 port,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* TRUE when the port answered with an HTTP status line; FALSE when it did
 * not (TLS, nothing, an error, or cancelled). */
gboolean gst_whep_plain_probe_finish (GAsyncResult * result);

G_END_DECLS
