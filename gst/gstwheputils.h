/* whepsrc — pure helpers: HTTP header parsing, status mapping, back-off.
 *
 * Everything here is a pure function of its arguments (plus a GRand for
 * jitter): no network, no elements, no global state.  Unit-tested in
 * tests/check/helpers.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* An ICE server announced in a `Link: <uri>; rel="ice-server"` header
 * (format of RFC 9725 / draft-ietf-wish-whip). */
typedef struct
{
  gchar *url;                   /* "stun:host:port", "turn:host:port?transport=udp", "turns:…" */
  gchar *username;              /* nullable */
  gchar *credential;            /* nullable; a secret: never log it */
} GstWhepIceServer;

void gst_whep_ice_server_free (GstWhepIceServer * server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepIceServer, gst_whep_ice_server_free);

/* What a WHEP request came back with.  A transport failure (refused,
 * timeout, TLS) has status 0 and @error set; any HTTP status is reported
 * as it is, with the WHEP-relevant headers already parsed.  Filled in by
 * the HTTP client (gstwhepclient.h); plain data, so that what is made of
 * an answer can be tested without a network. */
typedef struct
{
  guint status;
  gchar *reason;                /* reason phrase */
  gchar *request_url;           /* the first URL requested */
  gchar *final_url;             /* the URL that answered, after redirects */
  guint redirects;
  gchar *content_type;          /* media type with parameters, or NULL */
  gchar *body;                  /* NUL-terminated body (may hold SDP: never
                                 * log it, see gst_whep_sdp_summary()), or NULL */
  gsize body_size;
  gchar *error_summary;         /* user-presentable text of an error body, or NULL */
  gchar *location;              /* Location resolved against final_url, or NULL */
  gchar *etag;                  /* ETag as sent (quotes kept), or NULL */
  gchar *accept_patch;          /* Accept-Patch, or NULL */
  gint retry_after_s;           /* Retry-After in seconds, -1 when absent */
  GPtrArray *links;             /* GstWhepLink*, every Link header */
  GPtrArray *ice_servers;       /* GstWhepIceServer*, from rel="ice-server" links */
  GError *error;                /* transport error, or NULL */
  gboolean reached;             /* a connection to the server was made */
  gchar *redirect_error;        /* why a 3xx was not followed (a loop, too
                                 * many, another scheme, 303 to a POST),
                                 * naming the redacted target; or NULL */
} GstWhepResponse;

void gst_whep_response_free (GstWhepResponse * response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepResponse, gst_whep_response_free);

/* One link-value of a Link header (RFC 8288). */
typedef struct
{
  gchar *uri;                   /* as written between < >, not resolved */
  gchar *rel;                   /* lower-cased; may hold several space-separated rels */
  GHashTable *params;           /* lower-case name → unquoted value (gchar* → gchar*) */
} GstWhepLink;

void gst_whep_link_free (GstWhepLink * link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepLink, gst_whep_link_free);

/* Parses one Link header *value* (which may hold several comma-separated
 * link-values; commas inside <…> or quotes do not split).  Appends
 * GstWhepLink* to @out (free func gst_whep_link_free).  Malformed
 * link-values are skipped; returns the number appended. */
guint gst_whep_parse_link_header (const gchar * value, GPtrArray * out);

/* Appends a GstWhepIceServer* for each link in @links whose rel contains
 * "ice-server" and whose URI scheme is stun, stuns, turn or turns.
 * Returns the number appended. */
guint gst_whep_ice_servers_from_links (GPtrArray * links, GPtrArray * out);

/* Converts an ICE server to the URI form webrtcbin's "stun-server",
 * "turn-server" and "add-turn-server" expect:
 *   stun:h:p                    → stun://h:p
 *   turn:h:p?transport=tcp + u/c → turn://u:c@h:p?transport=tcp
 *   turns:h:p + u/c             → turns://u:c@h:p
 * username and credential are percent-encoded (userinfo).  Returns NULL
 * for anything else (e.g. turn without credentials). */
gchar *gst_whep_ice_server_to_webrtc_uri (const GstWhepIceServer * server);

/* The longest Retry-After honoured, in seconds: a server that asks for
 * more (`Retry-After: 999999999`) is answered sooner, not never.  The HTTP
 * client caps what it reports (GstWhepResponse.retry_after_s), the retry
 * policy caps again. */
#define GST_WHEP_RETRY_AFTER_MAX_S 300

/* Retry-After (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date compared
 * with @now.  Returns FALSE when absent/unparseable; a date in the past
 * gives 0.  Not capped (see GST_WHEP_RETRY_AFTER_MAX_S). */
gboolean gst_whep_parse_retry_after (const gchar * value, GDateTime * now,
    guint * seconds);

/* How whepsrc reacts to an HTTP status of a POST. */
typedef enum
{
  GST_WHEP_STATUS_CLASS_SUCCESS,        /* 2xx */
  GST_WHEP_STATUS_CLASS_REDIRECT,       /* 307, 308 (and 301/302/303, which WHEP forbids but we follow) */
  GST_WHEP_STATUS_CLASS_NOT_AUTHORIZED, /* 401, 403 */
  GST_WHEP_STATUS_CLASS_NOT_FOUND,      /* 404, 410 */
  GST_WHEP_STATUS_CLASS_RETRY,          /* 409, 425, 429, 503 (and 502, 504): wait and try again */
  GST_WHEP_STATUS_CLASS_FATAL,          /* any other 4xx/5xx, or < 200 */
} GstWhepStatusClass;

GstWhepStatusClass gst_whep_classify_status (guint status);

/* Exponential back-off with "equal jitter": for attempt 0,1,2… returns a
 * delay in [d/2, d] where d = min (base_ms * 2^attempt, max_ms).
 * @rand may be NULL (then the delay is exactly d). */
guint gst_whep_backoff_delay_ms (guint attempt, guint base_ms, guint max_ms,
    GRand * rand);

/* Resolves a Location header value against the URL of the final request
 * (after redirects), as RFC 3986 §5 says; keeps the query string. */
gchar *gst_whep_resolve_location (const gchar * base_url,
    const gchar * location, GError ** error);

/* A one-line, user-presentable summary of an error body:
 * application/problem+json → "title: detail" (either may be missing);
 * an HTML page (text/html, or a body that opens like one) → its <title>,
 * or "an HTML page" without one; text/plain and unknown → the first line
 * that holds anything printable; all trimmed, at most 200 characters,
 * sanitised as gst_whep_sanitize_text() says (tabs become spaces).  NULL
 * when nothing useful. */
gchar *gst_whep_error_body_summary (const gchar * content_type,
    GBytes * body);

/* Text a server sent (a reason phrase, a body's line, a header value, a
 * URL), made fit for an error message or a log line: valid UTF-8 whatever
 * came (a byte that is not UTF-8 becomes "\xNN"), control characters
 * escaped ("\n", "\r", "\t", "\x1b", "\u0085"), at most @max_chars
 * characters in all (a longer text ends in "…").  @len -1: NUL-terminated;
 * otherwise a NUL byte inside is escaped too.  NULL gives NULL. */
gchar *gst_whep_sanitize_text (const gchar * text, gssize len,
    guint max_chars);

/* TRUE when @content_type names an HTML page, or (whatever the type says)
 * the body opens like one ("<!DOCTYPE html", "<html", after blanks). */
gboolean gst_whep_is_html (const gchar * content_type, const gchar * text,
    gsize len);

/* The <title> of an HTML page, blanks collapsed, sanitised and at most 200
 * characters; NULL when it has none (or an empty one). */
gchar *gst_whep_html_title (const gchar * text, gsize len);

/* --- origins (RFC 6454): where credentials may go --- */

/* "scheme://host:port" of an absolute http(s) URL, host lower-cased and
 * the default port written out (http 80, https 443); NULL for anything
 * else. */
gchar *gst_whep_url_origin (const gchar * url);

/* TRUE when @a and @b are http(s) URLs of the same origin (scheme, host
 * and port); FALSE when they are not or either is no such URL. */
gboolean gst_whep_same_origin (const gchar * a, const gchar * b);

/* whep://h/p → http://h/p, wheps://h/p → https://h/p; http(s) URIs are
 * returned unchanged; anything else → NULL. */
gchar *gst_whep_uri_to_http (const gchar * uri);

/* A URI given to whepsrc's URI handler, taken apart:
 *   whep[s]://[TOKEN@]host[:port]/path[?query][#name=value[&name=value…]]
 * (http:// and https:// alike).  @endpoint: the http(s) URL to POST to,
 * byte-exact, without the token and the fragment; @token: the user-info
 * when it has no ':' (percent-decoded) — a bearer token; "user:password"
 * stays in the URL, for HTTP authentication — else NULL; @options: the
 * fragment's name=value pairs, percent-decoded, in order (string fields),
 * or NULL without a fragment.  The fragment never goes to the server.
 * FALSE, with @error, for another scheme, no host, or a pair without '='
 * or a name that cannot be a property's. */
gboolean gst_whep_uri_split (const gchar * uri, gchar ** endpoint,
    gchar ** token, GstStructure ** options, GError ** error);

/* TRUE when @content_type (a full header value, parameters allowed) names
 * the media type @expected, case-insensitively. */
gboolean gst_whep_content_type_is (const gchar * content_type,
    const gchar * expected);

/* --- session rotation policy --- */

/* How long before a session's expiry the next one starts: @configured_ms
 * when not 0; otherwise twice the slowest of the recent set-up times
 * (gather → POST → ICE → DTLS → first frame) plus a second, and at least
 * 2 s — so a slow network rotates earlier.  Never more than half the
 * lifetime (a shorter lead still overlaps; a longer one would rotate all
 * the time). */
guint gst_whep_rotation_lead_ms (guint configured_ms, gdouble lifetime_s,
    gdouble slowest_setup_ms);

/* Learning a server's session limit from the ages (seconds since the POST)
 * at which it ended sessions on its own: returns the limit to use (the
 * shorter of the two ages) when @previous_age_s and @age_s agree within
 * 15 % (and at least 1 s apart from zero), or 0 when they do not. */
gdouble gst_whep_learn_session_limit (gdouble previous_age_s, gdouble age_s);

/* --- what may be logged --- */

/* A URL as logs and error texts may show it: scheme://host[:port]/path,
 * userinfo dropped, a query replaced by "?…" and a fragment by "#…"
 * (servers put session tokens in both; TURN URIs carry their password as
 * userinfo).  Works on relative references and on text that is no URL at
 * all (it is cut at '?' / '#' the same way).  A URL can come from a
 * server (Location): the result is sanitised (gst_whep_sanitize_text(),
 * 300 characters at most).  NULL gives NULL. */
gchar *gst_whep_redact_url (const gchar * url);

/* A one-line summary of an SDP body or trickle fragment, for logs and
 * error details instead of the body itself (which holds the ICE password):
 * its size, each m-line with its codecs ("video[VP8,H264]", port 0 shown
 * as "rejected"), the number of candidates, end-of-candidates, and
 * whether ICE credentials are present — never their values.  Text that
 * holds no SDP line gives "N bytes, not SDP"; NULL or "" gives
 * "no body". */
gchar *gst_whep_sdp_summary (const gchar * text);

/* --- server-sent events (text/event-stream, WHEP events extension) --- */

/* A text/event-stream parser fed one line at a time (HTML, "server-sent
 * events"): "event:" names the event, "data:" lines are joined with "\n",
 * one space after the colon is dropped, a field without a colon has an
 * empty value, lines starting with ':' are comments, "id" and "retry" and
 * unknown fields are ignored, and a blank line ends the event.  An event
 * without a name is "message".  Unlike the HTML rules, an event that has
 * a name but no data is still delivered: servers send "event: inactive"
 * alone.  Lines are expected without their LF; a trailing CR (CRLF) is
 * dropped and a CR inside a line ends a line too (CR-only streams). */
typedef struct _GstWhepSseParser GstWhepSseParser;

/* The most one event may hold (its data lines joined, and its name): a
 * WHEP event is a line of JSON; a server that sends `data:` lines without
 * ever ending the event must not grow the parser without end. */
#define GST_WHEP_SSE_MAX_EVENT_BYTES (256 * 1024)

GstWhepSseParser *gst_whep_sse_parser_new (void);
void gst_whep_sse_parser_free (GstWhepSseParser * parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepSseParser, gst_whep_sse_parser_free);

/* Feeds one line; returns the number of complete events waiting to be
 * taken with gst_whep_sse_parser_pop(). */
guint gst_whep_sse_parser_push_line (GstWhepSseParser * parser,
    const gchar * line);

/* TRUE once an event grew beyond GST_WHEP_SSE_MAX_EVENT_BYTES: what it
 * held is dropped and the parser takes no more lines (the stream is not
 * worth reading on: close it). */
gboolean gst_whep_sse_parser_overflowed (GstWhepSseParser * parser);

/* Takes the oldest complete event: TRUE with @event and @data set (free
 * both), FALSE when none is waiting. */
gboolean gst_whep_sse_parser_pop (GstWhepSseParser * parser, gchar ** event,
    gchar ** data);

/* The URL a "reconnect" event's JSON data names ({"url": "…"}), resolved
 * against @base (the event stream's URL) when relative; NULL when the data
 * is no JSON object, has no non-empty string "url", or it does not
 * resolve. */
gchar *gst_whep_sse_reconnect_url (const gchar * data, const gchar * base);

/* Destroys and drops the attached source in @source (if any) and clears
 * it: cancels a timer whose slot holds our reference. */
void gst_whep_clear_source (GSource ** source);

G_END_DECLS
