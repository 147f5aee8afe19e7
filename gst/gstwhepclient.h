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

/* Limits on what a server can make the client hold.  An SDP answer or
 * counter-offer, a PATCH answer (trickle fragment), a problem body: real
 * ones are a few kilobytes, so a body is read up to this size and a larger
 * one fails the request (GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE) without
 * being read further, whether it comes with a Content-Length, chunked, or
 * without end.  Bodies are never decompressed: the client asks for none,
 * and a Content-Encoding anyway fails the request (a gzip bomb stays a few
 * compressed kilobytes). */
#define GST_WHEP_CLIENT_MAX_BODY_BYTES (256 * 1024)
/* The longest line of an event stream (text/event-stream); a longer one
 * ends the stream with GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE.  (An event's
 * size is bounded by the parser: GST_WHEP_SSE_MAX_EVENT_BYTES.) */
#define GST_WHEP_CLIENT_MAX_LINE_BYTES (64 * 1024)
/* Redirects followed for one request; the next 3xx is reported as it is,
 * with GstWhepResponse.redirect_error saying why. */
#define GST_WHEP_CLIENT_MAX_REDIRECTS 5

/* Failures after the server was reached, other than a timeout (which stays
 * G_IO_ERROR_TIMED_OUT) or a cancellation. */
#define GST_WHEP_CLIENT_ERROR (gst_whep_client_error_quark ())
GQuark gst_whep_client_error_quark (void);

typedef enum
{
  GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE, /* beyond a limit above */
  GST_WHEP_CLIENT_ERROR_BODY_INCOMPLETE,        /* broke off: reset, short,
                                                 * broken chunking */
  GST_WHEP_CLIENT_ERROR_CONTENT_ENCODING,       /* compressed, not asked for */
  GST_WHEP_CLIENT_ERROR_BAD_ANSWER,     /* connected, but no HTTP answer
                                         * came (a bad status line, headers
                                         * too large, closed or reset) */
} GstWhepClientError;

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
  /* Credentials (Authorization and extra_headers, which may hold API keys)
   * go only to the origin (scheme, host, port) of @origin — the endpoint —
   * or, when it is NULL, of each request's first URL; a redirect or a
   * session URL elsewhere gets the request without them (and a
   * GST_WARNING), as browsers and curl do, unless
   * @allow_cross_origin_auth. */
  gchar *origin;
  gboolean allow_cross_origin_auth;
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

/* Begins to close the client, without blocking: from now on only DELETEs
 * are sent; every request under way is cancelled now but the DELETEs and
 * a POST (whose answer may name a session to DELETE), which end by
 * @budget_ms from now, as do DELETEs still to come (of a session whose
 * POST's answer came, or whose cut POST had a Location).  Idempotent: the
 * first budget holds. */
void gst_whep_client_close_begin (GstWhepClient * client, guint budget_ms);

/* Closes the client for good, within the budget of close_begin() (0 if it
 * was not called) and a quarter of a second: waits for the DELETEs until
 * then, cancels what is left, and joins the client's thread, which drops
 * every connection.  Requests made afterwards complete with
 * G_IO_ERROR_CLOSED on the caller's thread-default context.  Not from the
 * client's thread. */
void gst_whep_client_close (GstWhepClient * client);

/* POSTs @sdp_offer (Content-Type exactly "application/sdp") to @endpoint,
 * following 307/308 (and 301/302) redirects itself, with the same method
 * and body, and with the credentials only as far as the origin rule of
 * GstWhepClientConfig allows.  A 303 is not followed for anything but GET:
 * it means "GET the result there", which WHEP never asks for.  Completes
 * with a GstWhepResponse for any HTTP status; a transport failure, a body
 * beyond the limits above or cancellation is a GError. */
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
 * transport failure, a body failure or cancellation. */
GstWhepResponse *gst_whep_client_request_finish (GstWhepClient * client,
    GAsyncResult * result, GError ** error);

/* As gst_whep_client_request_finish(), and on a failure also sets
 * @partial (nullable) to what was known when it happened: `reached` (a
 * connection was made), and when the answer's head had come (a body that
 * was too large, broke off or stalled) its status, reason, Location, ETag,
 * Retry-After and Link headers — never a body; `error` holds a copy of
 * @error.  A 201 whose body never completes still made a session: its
 * Location is how to DELETE it. */
GstWhepResponse *gst_whep_client_request_finish_full (GstWhepClient * client,
    GAsyncResult * result, GstWhepResponse ** partial, GError ** error);

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
 * @on_line gets every line (without its end of line, valid UTF-8) on the
 * client thread, and returns FALSE to close the stream; @on_done is called
 * once when the stream ends, fails (@error set: a line longer than
 * GST_WHEP_CLIENT_MAX_LINE_BYTES is GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE,
 * one that is not UTF-8 GST_WHEP_CLIENT_ERROR_BAD_ANSWER) or is closed
 * (G_IO_ERROR_CANCELLED: @cancellable, or @on_line said so).  Redirects
 * are not followed. */
typedef gboolean (*GstWhepLineFunc) (const gchar * line, gpointer user_data);
typedef void (*GstWhepStreamDoneFunc) (guint status, const GError * error,
    gpointer user_data);

void gst_whep_client_open_line_stream (GstWhepClient * client,
    GstObject * owner, const gchar * url, GCancellable * cancellable,
    GstWhepLineFunc on_line, GstWhepStreamDoneFunc on_done,
    gpointer user_data, GDestroyNotify destroy);

/* TRUE when called on the client's thread. */
gboolean gst_whep_client_is_client_thread (GstWhepClient * client);

G_END_DECLS
