/* whepsrc — the WHEP HTTP client.
 *
 * Knows HTTP and WHEP, not elements.  libsoup 3 runs on a thread of the
 * client's own with its own GMainContext (libsoup 3 wants every call on the
 * thread that created the SoupSession); the public functions may be called
 * from any thread: they hand the request to that thread and return at once.
 * Completion callbacks (GAsyncReadyCallback) run on the client's thread, so
 * they must not block; the *_finish functions may be called there.
 *
 * Every request has its own GCancellable (the caller's, or one of the
 * client's own) and a deadline (`timeout`), and names the object it is
 * for (@owner: the session, or NULL): the client holds a reference to it
 * until the request completes (it is dropped before the callback runs),
 * and every log line of the request is
 * logged against it (`<session3>`), so that the traffic of two sessions
 * can be told apart.  Logs never show a body, a header value or a URL's
 * query or userinfo (gst_whep_redact_url()); error texts neither.  A cancelled request completes
 * with G_IO_ERROR_CANCELLED, which callers treat as "nobody cares any
 * more", not as a failure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include "gstwheputils.h"

G_BEGIN_DECLS

#define GST_TYPE_WHEP_CLIENT (gst_whep_client_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepClient, gst_whep_client, GST, WHEP_CLIENT,
    GObject);

/* Configuration that holds for every request of one client; copied at
 * creation, never changed afterwards. */
typedef struct
{
  gchar *auth_token;            /* Bearer token, or NULL; never logged */
  guint timeout_ms;             /* deadline of one request, redirects included */
  GstStructure *extra_headers;  /* name → string value, or NULL */
  gboolean ssl_strict;          /* FALSE: accept any TLS certificate */
  gchar *ca_file;               /* PEM file of trusted CAs, or NULL (system) */
  gchar *user_agent;
} GstWhepClientConfig;

/* GstWhepResponse (what a request came back with) is in gstwheputils.h. */

void gst_whep_client_config_clear (GstWhepClientConfig * config);

/* Starts the client's thread and SoupSession.  Fails (G_IO_ERROR) only when
 * @config->ca_file cannot be loaded. */
GstWhepClient *gst_whep_client_new (const GstWhepClientConfig * config,
    GError ** error);

/* Cancels every request still under way; later calls complete at once
 * with G_IO_ERROR_CLOSED.  The thread itself stops when the client is
 * disposed.  Idempotent.  Must not be called from the client's own
 * thread. */
void gst_whep_client_shutdown (GstWhepClient * client);

/* POSTs @sdp_offer (Content-Type exactly "application/sdp") to @endpoint,
 * following 307/308 (and 301/302/303) redirects itself so that the
 * Authorization header is kept.  Completes with a GstWhepResponse for any
 * HTTP status; only a transport failure or cancellation is a GError. */
void gst_whep_client_post_offer_async (GstWhepClient * client,
    GstObject * owner, const gchar * endpoint, const gchar * sdp_offer,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* PATCHes @body with @content_type to a session resource.  @if_match (the
 * exact header value, e.g. "\"abc\"" or "*") may be NULL. */
void gst_whep_client_patch_async (GstWhepClient * client,
    GstObject * owner, const gchar * resource_url,
    const gchar * content_type, const gchar * body, const gchar * if_match,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* DELETEs a session resource (never with If-Match), with @timeout_ms as
 * its own deadline. */
void gst_whep_client_delete_async (GstWhepClient * client,
    GstObject * owner, const gchar * resource_url, guint timeout_ms,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* Any other request (e.g. the JSON subscription of the server-sent
 * events extension): @content_type and @body may be NULL. */
void gst_whep_client_send_async (GstWhepClient * client, GstObject * owner,
    const gchar * method, const gchar * url, const gchar * content_type,
    const gchar * body,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* Completes any of the requests above.  Returns NULL with @error set on a
 * transport failure or cancellation. */
GstWhepResponse *gst_whep_client_request_finish (GstWhepClient * client,
    GAsyncResult * result, GError ** error);

/* DELETEs and waits at most @timeout_ms (0: the client's timeout) for the
 * answer, for teardown paths
 * that must not return before the server knows.  Returns the HTTP status,
 * or 0 when there was no answer in time (the request is then cancelled).
 * Must not be called from the client's thread. */
guint gst_whep_client_delete_sync (GstWhepClient * client,
    GstObject * owner, const gchar * resource_url, guint timeout_ms);

/* Waits until no request is under way (at most @timeout_ms), so that the
 * DELETEs of sessions that ended a moment ago reach the server before a
 * shutdown.  Returns TRUE when idle.  Not from the client's thread. */
gboolean gst_whep_client_wait_idle (GstWhepClient * client, guint timeout_ms);

/* A long-lived GET whose body is read line by line (text/event-stream):
 * @on_line gets every line (without its end of line) on the client thread;
 * @on_done is called once when the stream ends, fails (@error set) or is
 * cancelled (G_IO_ERROR_CANCELLED).  Cancel @cancellable to close it. */
typedef void (*GstWhepLineFunc) (const gchar * line, gpointer user_data);
typedef void (*GstWhepStreamDoneFunc) (guint status, const GError * error,
    gpointer user_data);

void gst_whep_client_open_line_stream (GstWhepClient * client,
    GstObject * owner, const gchar * url, GCancellable * cancellable,
    GstWhepLineFunc on_line, GstWhepStreamDoneFunc on_done,
    gpointer user_data, GDestroyNotify destroy);

/* TRUE when called on the client's thread. */
gboolean gst_whep_client_is_client_thread (GstWhepClient * client);

G_END_DECLS
