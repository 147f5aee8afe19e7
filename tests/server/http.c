/* whep-test-server — the HTTP front end (libsoup 3 SoupServer).
 *
 *   POST    <path>                 new session (or a redirect, see --redirect)
 *   POST    <path>/real            the endpoint behind --redirect
 *   PATCH   <path>/session/<id>    trickle ICE, or the counter-offer answer
 *   DELETE  <path>/session/<id>    end the session
 *   GET     /admin/stats           counters and sessions as JSON
 *   POST    /admin/kill[?id=ID]    end sessions now
 *   POST    /admin/event?type=T[&id=ID]   send an SSE event now (--sse)
 *   POST, GET, DELETE <path>/session/<id>/sse[/stream]   see sse.h
 *
 * Everything here runs on the main thread.  Replies that wait for
 * webrtcbin (or for --answer-delay) pause the message and unpause it
 * later: the main loop never blocks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "server.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "session.h"
#include "sse.h"

GST_DEBUG_CATEGORY_STATIC (whep_http_debug);
#define GST_CAT_DEFAULT whep_http_debug

#define SDP_TYPE "application/sdp"
#define SDPFRAG_TYPE "application/trickle-ice-sdpfrag"
/* --location query: the query SRS-like servers put in the session URL. */
#define LOCATION_QUERY "token=abc&x=1"
#define LOCATION_QUERY_TOKEN "abc"

/* ------------------------------------------------------------------ */
/* Small reply helpers */

static SoupMessageHeaders *
response_headers (SoupServerMessage * msg)
{
  return soup_server_message_get_response_headers (msg);
}

static void
reply_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  if (text != NULL)
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
        text, strlen (text));
}

static void
reply_empty (SoupServerMessage * msg, guint status)
{
  soup_server_message_set_status (msg, status, NULL);
}

static void
reply_json (SoupServerMessage * msg, guint status, JsonNode * root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len;
  gchar *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, len);
}

/* --error-format problem: RFC 9457 problem details. */
static void
reply_problem (SoupServerMessage * msg, guint status, const gchar * title,
    const gchar * detail)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  gsize len;
  gchar *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "about:blank");
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, title);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, detail);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/problem+json",
      SOUP_MEMORY_TAKE, text, len);
}

static void
add_retry_after (SoupServerMessage * msg, gint seconds)
{
  g_autofree gchar *value = g_strdup_printf ("%d", seconds);

  soup_message_headers_replace (response_headers (msg), "Retry-After", value);
}

/* Browsers are players too: let any origin read what a player needs. */
static void
add_cors_headers (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = response_headers (msg);

  soup_message_headers_replace (headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (headers, "Access-Control-Expose-Headers",
      "Location, ETag, Link, Accept-Patch, Retry-After");
}

static void
add_link_headers (WhepServer * server, SoupServerMessage * msg)
{
  GPtrArray *servers = server->opts->ice_servers;
  guint i;

  for (i = 0; i < servers->len; i++) {
    const WhepIceServer *ice = g_ptr_array_index (servers, i);
    GString *link = g_string_new (NULL);

    g_string_append_printf (link, "<%s>; rel=\"ice-server\"", ice->uri);
    if (ice->username)
      g_string_append_printf (link, "; username=\"%s\"", ice->username);
    if (ice->credential)
      g_string_append_printf (link, "; credential=\"%s\"; "
          "credential-type=\"password\"", ice->credential);
    soup_message_headers_append (response_headers (msg), "Link", link->str);
    g_string_free (link, TRUE);
  }
}

static GBytes *
request_body (SoupServerMessage * msg)
{
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

/* The request's media type, lower case, without parameters; NULL if none. */
static gchar *
request_media_type (SoupServerMessage * msg)
{
  const gchar *type = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);

  return type ? g_ascii_strdown (type, -1) : NULL;
}

/* ------------------------------------------------------------------ */
/* Checks shared by the handlers */

/* Replies and returns FALSE when --token is set and the request does not
 * carry it. */
static gboolean
check_auth (WhepServer * server, SoupServerMessage * msg)
{
  const WhepServerOptions *opts = server->opts;
  const gchar *auth;

  if (opts->token == NULL)
    return TRUE;

  auth = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  if (auth != NULL && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0) {
    const gchar *token = auth + 7;

    while (*token == ' ')
      token++;
    if (strcmp (token, opts->token) == 0)
      return TRUE;
  }

  GST_INFO ("%s: %s bearer token", soup_server_message_get_method (msg),
      auth ? "wrong" : "no");
  if (opts->auth_status == 401)
    soup_message_headers_replace (response_headers (msg), "WWW-Authenticate",
        "Bearer");
  reply_text (msg, opts->auth_status, auth ? "invalid bearer token" :
      "authorization required");
  return FALSE;
}

/* --location query: the session URL's query is part of its credentials. */
static gboolean
check_session_query (WhepServer * server, SoupServerMessage * msg,
    GHashTable * query)
{
  if (server->opts->location != WHEP_LOCATION_QUERY)
    return TRUE;
  if (query != NULL && g_strcmp0 (g_hash_table_lookup (query, "token"),
          LOCATION_QUERY_TOKEN) == 0)
    return TRUE;

  reply_text (msg, SOUP_STATUS_FORBIDDEN, "session token missing from query");
  return FALSE;
}

/* Whether an If-Match value names @etag (a list, "*" or the tag itself). */
static gboolean
if_match_matches (const gchar * if_match, const gchar * etag)
{
  g_auto (GStrv) tags = g_strsplit (if_match, ",", -1);
  gint i;

  for (i = 0; tags[i] != NULL; i++) {
    const gchar *tag = g_strstrip (tags[i]);

    if (strcmp (tag, "*") == 0 || strcmp (tag, "\"*\"") == 0
        || g_strcmp0 (tag, etag) == 0)
      return TRUE;
  }
  return FALSE;
}

/* --strict-etag: 428 without If-Match, 412 when it does not match. */
static gboolean
check_if_match (WhepServer * server, SoupServerMessage * msg,
    WhepSession * session)
{
  const gchar *if_match;

  if (!server->opts->strict_etag)
    return TRUE;

  if_match = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "If-Match");
  if (if_match == NULL) {
    reply_text (msg, 428, "If-Match required");
    return FALSE;
  }
  if (!if_match_matches (if_match, whep_session_get_etag (session))) {
    reply_text (msg, SOUP_STATUS_PRECONDITION_FAILED, "ETag does not match");
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* POST: creating sessions */

/* A POST's reply: paused at once, sent when ready and after
 * --answer-delay. */
typedef struct
{
  WhepServer *server;
  SoupServerMessage *msg;
  WhepSession *session;         /* once one exists */
  gboolean gone;                /* libsoup finished the message early */
  gulong finished_id;
  guint delay_source;
} PostReply;

/* What a successful POST is answered with (--created-status). */
static guint
created_status (const WhepServerOptions * opts)
{
  return opts->created_status ? opts->created_status : SOUP_STATUS_CREATED;
}

static void
post_reply_finished_cb (SoupServerMessage * msg, gpointer user_data)
{
  PostReply *reply = user_data;

  reply->gone = TRUE;
}

static PostReply *
post_reply_new (WhepServer * server, SoupServerMessage * msg)
{
  PostReply *reply = g_new0 (PostReply, 1);

  reply->server = server;
  reply->msg = g_object_ref (msg);
  reply->finished_id = g_signal_connect (msg, "finished",
      G_CALLBACK (post_reply_finished_cb), reply);
  soup_server_message_pause (msg);
  return reply;
}

static void
post_reply_flush (PostReply * reply)
{
  guint status = soup_server_message_get_status (reply->msg);
  WhepSession *session = reply->session;

  if (session != NULL && whep_session_has_ended (session)
      && (status == created_status (reply->server->opts) || status == 406)) {
    /* It ended during --answer-delay: do not hand out a dead session. */
    soup_server_message_set_response (reply->msg, NULL, SOUP_MEMORY_STATIC,
        NULL, 0);
    soup_message_headers_clear (response_headers (reply->msg));
    add_cors_headers (reply->msg);
    reply_text (reply->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "the session ended before it was answered");
    status = SOUP_STATUS_SERVICE_UNAVAILABLE;
  }

  if (session != NULL && (status == created_status (reply->server->opts)
          || status == 406)) {
    reply->server->stats.created++;
    whep_session_mark_answered (session);
    whep_server_event ("created id=%s", whep_session_get_id (session));
  }
  whep_server_event ("post status=%u", status);

  g_signal_handler_disconnect (reply->msg, reply->finished_id);
  if (reply->gone) {
    GST_WARNING ("POST: the player left before its reply (%u)", status);
    if (session != NULL)
      whep_session_end (session, WHEP_SESSION_END_FAILED, "player-gone");
  } else {
    soup_server_message_unpause (reply->msg);
  }

  g_object_unref (reply->msg);
  if (session != NULL)
    whep_session_unref (session);
  g_free (reply);
}

static gboolean
post_reply_delay_cb (gpointer data)
{
  PostReply *reply = data;

  reply->delay_source = 0;
  reply->server->delayed_posts =
      g_list_remove (reply->server->delayed_posts, reply);
  post_reply_flush (reply);
  return G_SOURCE_REMOVE;
}

/* The status and body are set: send them, after --answer-delay. */
static void
post_reply_send (PostReply * reply)
{
  gint delay = reply->server->opts->answer_delay_ms;

  /* While stopping the loop may end before the delay: reply now. */
  if (delay > 0 && !reply->server->stopping) {
    reply->delay_source = g_timeout_add (delay, post_reply_delay_cb, reply);
    reply->server->delayed_posts =
        g_list_prepend (reply->server->delayed_posts, reply);
  } else
    post_reply_flush (reply);
}

static gchar *
session_location (WhepServer * server, WhepSession * session)
{
  const WhepServerOptions *opts = server->opts;
  const gchar *id = whep_session_get_id (session);

  switch (opts->location) {
    case WHEP_LOCATION_RELATIVE:
      return g_strdup_printf ("%s/session/%s", opts->path, id);
    case WHEP_LOCATION_ABSOLUTE:
      return g_strdup_printf ("%s%s/session/%s", server->base_url, opts->path,
          id);
    case WHEP_LOCATION_QUERY:
      return g_strdup_printf ("%s/session/%s?" LOCATION_QUERY, opts->path, id);
    case WHEP_LOCATION_NONE:
    default:
      return NULL;
  }
}

/* 201 with our answer (406 with our counter-offer), shaped by the
 * --answer-* and header options. */
static void
post_reply_sdp (PostReply * reply, const gchar * sdp)
{
  WhepServer *server = reply->server;
  const WhepServerOptions *opts = server->opts;
  SoupServerMessage *msg = reply->msg;
  SoupMessageHeaders *headers = response_headers (msg);
  g_autofree gchar *location = session_location (server, reply->session);
  g_autofree gchar *body = NULL;
  const gchar *etag = whep_session_get_etag (reply->session);
  gboolean counter = opts->counter_offer;

  soup_server_message_set_status (msg, counter ? 406 : created_status (opts),
      NULL);
  if (location != NULL)
    soup_message_headers_replace (headers, "Location", location);
  if (etag != NULL)
    soup_message_headers_replace (headers, "ETag", etag);
  if (opts->patch != WHEP_PATCH_NONE)
    soup_message_headers_replace (headers, "Accept-Patch", SDPFRAG_TYPE);
  add_link_headers (server, msg);
  if (opts->sse) {
    g_autofree gchar *link = whep_sse_link_header (server,
        whep_session_get_id (reply->session));

    soup_message_headers_append (headers, "Link", link);
  }

  if (counter)
    body = g_strdup (sdp);
  else if (opts->answer_garbage)
    body = g_strdup ("this is not sdp");
  else if (opts->answer_empty)
    body = NULL;
  else if (opts->answer_mismatch)
    body = whep_sdp_text_drop_last_media (sdp);
  else if (opts->wrong_fingerprint)
    body = whep_sdp_text_wrong_fingerprint (sdp);
  else
    body = g_strdup (sdp);

  if (body != NULL && opts->sdp_framerate && !opts->answer_garbage) {
    gchar *with_rate = whep_sdp_text_add_framerate (body, opts->sdp_framerate);

    g_free (body);
    body = with_rate;
  }

  if (body != NULL)
    soup_server_message_set_response (msg, SDP_TYPE, SOUP_MEMORY_COPY, body,
        strlen (body));
  else
    soup_message_headers_replace (headers, "Content-Type", SDP_TYPE);
}

/* The HTTP status for a session's failure: the player's fault (4xx), a
 * session that ended meanwhile (503), or ours (500). */
static guint
session_error_status (const GError * error)
{
  if (error->domain != WHEP_SESSION_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch (error->code) {
    case WHEP_SESSION_ERROR_REJECTED:
      return SOUP_STATUS_BAD_REQUEST;
    case WHEP_SESSION_ERROR_ENDED:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  }
}

/* The session's SDP is ready (or it failed). */
static void
post_sdp_cb (WhepSession * session, const gchar * sdp, const GError * error,
    gpointer user_data)
{
  PostReply *reply = user_data;

  if (error != NULL)
    reply_text (reply->msg, session_error_status (error), error->message);
  else
    post_reply_sdp (reply, sdp);
  post_reply_send (reply);
}

static gboolean
post_inject (WhepServer * server, SoupServerMessage * msg)
{
  const WhepServerOptions *opts = server->opts;
  g_autofree gchar *detail = NULL;

  if (opts->inject_status == 0 || (opts->inject_count > 0
          && server->injected >= (guint) opts->inject_count))
    return FALSE;

  server->injected++;
  detail = g_strdup_printf ("injected error %d", opts->inject_status);
  if (opts->error_format == WHEP_ERROR_FORMAT_PROBLEM)
    reply_problem (msg, opts->inject_status, "Injected error", detail);
  else
    reply_text (msg, opts->inject_status, detail);
  if (opts->retry_after > 0)
    add_retry_after (msg, opts->retry_after);
  return TRUE;
}

static gboolean
post_check_content_type (WhepServer * server, SoupServerMessage * msg,
    gboolean empty_ok)
{
  const gchar *raw = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Content-Type");
  g_autofree gchar *type = request_media_type (msg);

  if (raw == NULL && empty_ok)
    return TRUE;
  /* Janus compares the header with the string, parameters and all. */
  if (server->opts->strict_content_type ? g_strcmp0 (raw, SDP_TYPE) == 0 :
      g_strcmp0 (type, SDP_TYPE) == 0)
    return TRUE;

  reply_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
      "Content-Type must be " SDP_TYPE);
  return FALSE;
}

/* All checks that answer a POST at once; FALSE once a reply is set. */
static gboolean
post_precheck (WhepServer * server, SoupServerMessage * msg, gboolean real,
    gsize body_len)
{
  const WhepServerOptions *opts = server->opts;
  gboolean empty_ok = opts->counter_offer && body_len == 0;

  if (opts->redirect != 0 && !real) {
    g_autofree gchar *target = g_strdup_printf ("%s%s/real", server->base_url,
        opts->path);

    /* A load balancer: it does not look at credentials, the target does. */
    soup_server_message_set_status (msg, opts->redirect, NULL);
    soup_message_headers_replace (response_headers (msg), "Location", target);
    return FALSE;
  }
  if (!check_auth (server, msg) || post_inject (server, msg))
    return FALSE;
  /* From the first POST, not from start: a player whose set-up is slow
   * (under valgrind) still meets the stream not yet live. */
  if (opts->not_live > 0 && !server->first_post_time)
    server->first_post_time = g_get_monotonic_time ();
  if (opts->not_live > 0
      && whep_server_seconds_since (server->first_post_time) < opts->not_live) {
    reply_text (msg, opts->not_live_status, "nothing is published here yet");
    add_retry_after (msg, 1);
    return FALSE;
  }
  return post_check_content_type (server, msg, empty_ok);
}

static void
http_post (WhepServer * server, SoupServerMessage * msg, gboolean real)
{
  const WhepServerOptions *opts = server->opts;
  PostReply *reply = post_reply_new (server, msg);
  g_autoptr (GBytes) body = request_body (msg);
  g_autoptr (GError) error = NULL;
  WhepOffer *offer = NULL;
  gsize len = g_bytes_get_size (body);

  server->stats.posts++;
  if (!post_precheck (server, msg, real, len)) {
    post_reply_send (reply);
    return;
  }

  if (!(opts->counter_offer && len == 0)) {
    offer = whep_offer_parse (g_bytes_get_data (body, NULL), len,
        whep_media_get_codecs (server->media), server->loopback_only, &error);
    if (offer == NULL) {
      reply_text (msg, SOUP_STATUS_BAD_REQUEST, error->message);
      post_reply_send (reply);
      return;
    }
  }
  if (opts->max_sessions > 0
      && g_hash_table_size (server->sessions) >= (guint) opts->max_sessions) {
    whep_offer_free (offer);
    reply_text (msg, SOUP_STATUS_CONFLICT, "too many viewers");
    post_reply_send (reply);
    return;
  }

  reply->session = whep_session_new (server, offer, opts->counter_offer);
  whep_server_add_session (server, reply->session);
  /* May call back at once when building the session fails. */
  whep_session_start (reply->session, post_sdp_cb, reply, NULL);
}

/* ------------------------------------------------------------------ */
/* PATCH: trickle ICE and counter-offer answers */

typedef struct
{
  SoupServerMessage *msg;
  gchar *id;
  gchar *content_type;
} PatchReply;

static void
patch_event (const gchar * id, guint status, const gchar * content_type)
{
  whep_server_event ("patch id=%s status=%u content-type=%s",
      id ? id : "-", status, content_type ? content_type : "-");
}

static void
patch_answer_done_cb (WhepSession * session, const GError * error,
    gpointer user_data)
{
  PatchReply *reply = user_data;

  if (error == NULL)
    reply_empty (reply->msg, SOUP_STATUS_NO_CONTENT);
  else if (g_error_matches (error, WHEP_SESSION_ERROR,
          WHEP_SESSION_ERROR_ENDED))
    reply_text (reply->msg, SOUP_STATUS_NOT_FOUND, error->message);
  else
    reply_text (reply->msg, session_error_status (error), error->message);
  patch_event (reply->id, soup_server_message_get_status (reply->msg),
      reply->content_type);
  soup_server_message_unpause (reply->msg);
}

static void
patch_reply_free (gpointer data)
{
  PatchReply *reply = data;

  g_object_unref (reply->msg);
  g_free (reply->id);
  g_free (reply->content_type);
  g_free (reply);
}

/* The player's answer to our counter-offer; replies asynchronously.
 * Returns FALSE when it replied at once. */
static gboolean
patch_counter_answer (WhepServer * server, SoupServerMessage * msg,
    WhepSession * session, const gchar * content_type)
{
  g_autoptr (GBytes) body = NULL;
  PatchReply *reply;

  if (!check_if_match (server, msg, session))
    return FALSE;
  if (g_strcmp0 (content_type, SDP_TYPE) != 0) {
    reply_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "the answer to a counter-offer must be " SDP_TYPE);
    return FALSE;
  }

  body = request_body (msg);
  reply = g_new0 (PatchReply, 1);
  reply->msg = g_object_ref (msg);
  reply->id = g_strdup (whep_session_get_id (session));
  reply->content_type = g_strdup (content_type);
  soup_server_message_pause (msg);
  whep_session_set_answer (session, g_bytes_get_data (body, NULL),
      g_bytes_get_size (body), patch_answer_done_cb, reply, patch_reply_free);
  return TRUE;
}

static const gchar *
if_match_header (SoupServerMessage * msg)
{
  const gchar *value = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "If-Match");

  return value != NULL ? value : "-";
}

/* WHEP ICE restart: 200 with our new credentials and candidates and a new
 * ETag, or 422 with --no-ice-restart (a session supporting only trickle
 * MUST answer 422 to a restart). */
static void
patch_ice_restart (WhepServer * server, SoupServerMessage * msg,
    WhepSession * session, const WhepSdpFrag * frag)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *answer = NULL;

  if (server->opts->no_ice_restart) {
    reply_text (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
        "ICE restart not supported");
    return;
  }
  answer = whep_session_restart_ice (session, frag, &error);
  if (answer == NULL) {
    reply_text (msg, g_error_matches (error, WHEP_SESSION_ERROR,
            WHEP_SESSION_ERROR_ENDED) ? SOUP_STATUS_NOT_FOUND :
        SOUP_STATUS_UNPROCESSABLE_ENTITY, error->message);
    return;
  }
  whep_server_event ("ice-restart id=%s candidates=%u if-match=%s",
      whep_session_get_id (session), frag->candidates->len,
      if_match_header (msg));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, SDPFRAG_TYPE, SOUP_MEMORY_COPY,
      answer, strlen (answer));
  soup_message_headers_replace (response_headers (msg), "ETag",
      whep_session_get_etag (session));
}

/* Trickle ICE (RFC 8840 fragment); sets the reply. */
static void
patch_trickle (WhepServer * server, SoupServerMessage * msg,
    WhepSession * session, const gchar * content_type)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (WhepSdpFrag) frag = NULL;
  g_autoptr (GError) error = NULL;
  guint added;

  if (!check_if_match (server, msg, session))
    return;
  if (g_strcmp0 (content_type, SDPFRAG_TYPE) != 0) {
    reply_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "Content-Type must be " SDPFRAG_TYPE);
    return;
  }

  body = request_body (msg);
  frag = whep_sdpfrag_parse (g_bytes_get_data (body, NULL),
      g_bytes_get_size (body), &error);
  if (frag == NULL) {
    reply_text (msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  if (whep_session_is_ice_restart (session, frag->ice_ufrag)) {
    patch_ice_restart (server, msg, session, frag);
    return;
  }

  added = whep_session_add_candidates (session, frag);
  whep_server_event ("trickle id=%s candidates=%u added=%u end=%s "
      "if-match=%s", whep_session_get_id (session), frag->candidates->len,
      added, frag->end_of_candidates ? "yes" : "no", if_match_header (msg));
  reply_empty (msg, SOUP_STATUS_NO_CONTENT);
}

static void
http_patch (WhepServer * server, SoupServerMessage * msg, const gchar * id,
    GHashTable * query)
{
  const WhepServerOptions *opts = server->opts;
  WhepSession *session = whep_server_find_session (server, id);
  g_autofree gchar *content_type = request_media_type (msg);

  server->stats.patches++;
  if (session != NULL)
    whep_session_count_patch (session);

  if (session != NULL && opts->patch_stall) {
    /* Never answered: libsoup keeps the message until the player goes. */
    soup_server_message_pause (msg);
    whep_server_event ("patch-held id=%s", id);
    return;
  }
  if (!check_auth (server, msg)) {
    /* replied */
  } else if (session != NULL && opts->patch_status != 0) {
    reply_text (msg, opts->patch_status, "injected PATCH failure");
  } else if (session != NULL && whep_session_awaits_answer (session)) {
    if (check_session_query (server, msg, query)
        && patch_counter_answer (server, msg, session, content_type))
      return;                   /* the event is logged with the reply */
  } else if (opts->patch != WHEP_PATCH_TRICKLE) {
    reply_text (msg, opts->patch == WHEP_PATCH_501 ?
        SOUP_STATUS_NOT_IMPLEMENTED : SOUP_STATUS_METHOD_NOT_ALLOWED,
        "PATCH is not supported");
    soup_message_headers_replace (response_headers (msg), "Allow",
        "DELETE, GET, HEAD, OPTIONS");
  } else if (session == NULL) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
  } else if (check_session_query (server, msg, query)) {
    patch_trickle (server, msg, session, content_type);
  }

  patch_event (id, soup_server_message_get_status (msg), content_type);
}

/* ------------------------------------------------------------------ */
/* Session resources and the endpoint */

static void
http_delete (WhepServer * server, SoupServerMessage * msg, const gchar * id,
    GHashTable * query)
{
  WhepSession *session = whep_server_find_session (server, id);

  if (!check_auth (server, msg))
    return;
  if (session == NULL) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
    return;
  }
  if (!check_session_query (server, msg, query))
    return;

  if (server->opts->delete_stall) {
    /* Never answered; the session lives on until a timeout ends it. */
    soup_server_message_pause (msg);
    whep_server_event ("delete-held id=%s", id);
    return;
  }
  if (server->opts->delete_status != 0) {
    reply_text (msg, server->opts->delete_status, "injected DELETE failure");
    whep_server_event ("delete-refused id=%s status=%d", id,
        server->opts->delete_status);
    return;
  }

  /* ETags are ignored for DELETE, as WHEP requires. */
  whep_session_end (session, WHEP_SESSION_END_DELETED, NULL);
  reply_empty (msg, SOUP_STATUS_OK);
}

static void
http_session_resource (WhepServer * server, SoupServerMessage * msg,
    const gchar * id, GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (strcmp (method, "PATCH") == 0) {
    http_patch (server, msg, id, query);
  } else if (strcmp (method, "DELETE") == 0) {
    http_delete (server, msg, id, query);
  } else if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0) {
    if (whep_server_find_session (server, id) != NULL)
      reply_empty (msg, server->opts->get_status ? server->opts->get_status :
          SOUP_STATUS_OK);
    else
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
  } else if (strcmp (method, "OPTIONS") == 0) {
    SoupMessageHeaders *headers = response_headers (msg);

    soup_message_headers_replace (headers, "Allow",
        "DELETE, GET, HEAD, OPTIONS, PATCH");
    soup_message_headers_replace (headers, "Access-Control-Allow-Methods",
        "DELETE, GET, HEAD, OPTIONS, PATCH");
    soup_message_headers_replace (headers, "Access-Control-Allow-Headers",
        "Authorization, Content-Type, If-Match");
    if (server->opts->patch != WHEP_PATCH_NONE)
      soup_message_headers_replace (headers, "Accept-Patch", SDPFRAG_TYPE);
    reply_empty (msg, SOUP_STATUS_OK);
  } else {
    soup_message_headers_replace (response_headers (msg), "Allow",
        "DELETE, GET, HEAD, OPTIONS, PATCH");
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
  }
}

static void
http_endpoint (WhepServer * server, SoupServerMessage * msg, gboolean real)
{
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = response_headers (msg);

  if (strcmp (method, "POST") == 0) {
    http_post (server, msg, real);
  } else if (strcmp (method, "OPTIONS") == 0) {
    soup_message_headers_replace (headers, "Accept-Post", SDP_TYPE);
    soup_message_headers_replace (headers, "Access-Control-Allow-Methods",
        "OPTIONS, POST");
    soup_message_headers_replace (headers, "Access-Control-Allow-Headers",
        "Authorization, Content-Type, If-Match");
    add_link_headers (server, msg);
    reply_empty (msg, SOUP_STATUS_OK);
  } else if (strcmp (method, "HEAD") == 0 || strcmp (method, "GET") == 0) {
    /* WHEP discovery: an endpoint says it takes SDP. */
    soup_message_headers_replace (headers, "Content-Type", SDP_TYPE);
    reply_empty (msg, SOUP_STATUS_OK);
  } else {
    soup_message_headers_replace (headers, "Allow", "GET, HEAD, OPTIONS, POST");
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
  }
}

/* ------------------------------------------------------------------ */
/* Admin */

static void
http_admin_stats (WhepServer * server, SoupServerMessage * msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const WhepServerStats *stats = &server->stats;
  GHashTableIter iter;
  gpointer value;

  json_builder_begin_object (builder);
#define ADD_COUNT(name, count) \
  json_builder_set_member_name (builder, name); \
  json_builder_add_int_value (builder, count)
  ADD_COUNT ("posts", stats->posts);
  ADD_COUNT ("created", stats->created);
  ADD_COUNT ("deleted", stats->deleted);
  ADD_COUNT ("expired", stats->expired);
  ADD_COUNT ("killed", stats->killed);
  ADD_COUNT ("active", g_hash_table_size (server->sessions));
  ADD_COUNT ("patches", stats->patches);
#undef ADD_COUNT

  json_builder_set_member_name (builder, "sessions");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, server->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WhepSession *session = value;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "id");
    json_builder_add_string_value (builder, whep_session_get_id (session));
    json_builder_set_member_name (builder, "age");
    json_builder_add_double_value (builder, whep_session_get_age (session));
    json_builder_set_member_name (builder, "connected");
    json_builder_add_boolean_value (builder,
        whep_session_is_connected (session));
    json_builder_set_member_name (builder, "patches");
    json_builder_add_int_value (builder, whep_session_get_patches (session));
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  reply_json (msg, SOUP_STATUS_OK, root);
}

static void
http_admin_kill (WhepServer * server, SoupServerMessage * msg,
    GHashTable * query)
{
  const gchar *id = query ? g_hash_table_lookup (query, "id") : NULL;
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) object = json_object_new ();
  guint killed;

  if (id != NULL) {
    WhepSession *session = whep_server_find_session (server, id);

    if (session == NULL) {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
      return;
    }
    whep_session_end (session, WHEP_SESSION_END_KILLED, NULL);
    killed = 1;
  } else {
    killed = whep_server_end_all (server, WHEP_SESSION_END_KILLED);
  }

  json_object_set_int_member (object, "killed", killed);
  json_node_set_object (root, object);
  reply_json (msg, SOUP_STATUS_OK, root);
}

/* POST /admin/event?type=T[&id=ID]: an SSE event now, to every (or that)
 * session's streams. */
static void
http_admin_event (WhepServer * server, SoupServerMessage * msg,
    GHashTable * query)
{
  const gchar *type = query ? g_hash_table_lookup (query, "type") : NULL;
  const gchar *id = query ? g_hash_table_lookup (query, "id") : NULL;

  if (!server->opts->sse)
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "server-sent events are off");
  else if (!whep_sse_event_known (type))
    reply_text (msg, SOUP_STATUS_BAD_REQUEST,
        "type must be active, inactive or reconnect");
  else if (!whep_sse_send_now (server, type, id))
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
  else
    reply_empty (msg, SOUP_STATUS_NO_CONTENT);
}

static void
http_admin (WhepServer * server, SoupServerMessage * msg, const gchar * path,
    GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (strcmp (path, "/admin/stats") == 0 && strcmp (method, "GET") == 0)
    http_admin_stats (server, msg);
  else if (strcmp (path, "/admin/kill") == 0 && strcmp (method, "POST") == 0)
    http_admin_kill (server, msg, query);
  else if (strcmp (path, "/admin/event") == 0 && strcmp (method, "POST") == 0)
    http_admin_event (server, msg, query);
  else if (strcmp (path, "/admin/stats") == 0
      || strcmp (path, "/admin/kill") == 0
      || strcmp (path, "/admin/event") == 0)
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
  else
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "not found");
}

/* ------------------------------------------------------------------ */
/* Routing */

/* The session id in "<path>/session/<id>", or NULL. */
static const gchar *
session_id_from_path (WhepServer * server, const gchar * path)
{
  const gchar *prefix = server->opts->path;
  gsize prefix_len = strlen (prefix);
  const gchar *id;

  if (strncmp (path, prefix, prefix_len) != 0
      || !g_str_has_prefix (path + prefix_len, "/session/"))
    return NULL;
  id = path + prefix_len + strlen ("/session/");
  if (*id == '\0' || strchr (id, '/') != NULL)
    return NULL;
  return id;
}

/* --sse: the session id (to free) in "<path>/session/<id>/sse", @stream
 * FALSE, or in "<path>/session/<id>/sse/stream", @stream TRUE; or NULL. */
static gchar *
sse_id_from_path (WhepServer * server, const gchar * path, gboolean * stream)
{
  const gchar *prefix = server->opts->path;
  gsize prefix_len = strlen (prefix);
  const gchar *id, *rest;

  if (strncmp (path, prefix, prefix_len) != 0
      || !g_str_has_prefix (path + prefix_len, "/session/"))
    return NULL;
  id = path + prefix_len + strlen ("/session/");
  rest = strchr (id, '/');
  if (rest == NULL || rest == id)
    return NULL;
  if (strcmp (rest, "/sse") == 0)
    *stream = FALSE;
  else if (strcmp (rest, "/sse/stream") == 0)
    *stream = TRUE;
  else
    return NULL;
  return g_strndup (id, rest - id);
}

static void
http_sse (WhepServer * server, SoupServerMessage * msg, const gchar * id,
    gboolean stream)
{
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *allow = stream ? "DELETE, GET, OPTIONS" : "OPTIONS, POST";
  SoupMessageHeaders *headers = response_headers (msg);

  if (strcmp (method, "OPTIONS") == 0) {
    soup_message_headers_replace (headers, "Allow", allow);
    soup_message_headers_replace (headers, "Access-Control-Allow-Methods",
        allow);
    soup_message_headers_replace (headers, "Access-Control-Allow-Headers",
        "Authorization, Content-Type");
    reply_empty (msg, SOUP_STATUS_OK);
  } else if (!check_auth (server, msg)) {
    /* replied */
  } else if (!stream && strcmp (method, "POST") == 0) {
    whep_sse_subscribe (server, msg, id);
  } else if (stream && strcmp (method, "GET") == 0) {
    whep_sse_stream_get (server, msg, id);
  } else if (stream && strcmp (method, "DELETE") == 0) {
    whep_sse_stream_delete (server, msg, id);
  } else {
    soup_message_headers_replace (headers, "Allow", allow);
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
  }
}

static void
log_request (SoupServerMessage * msg, const gchar * path)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *type = soup_message_headers_get_one (headers, "Content-Type");

  /* Never the token itself: only whether there is one. */
  GST_INFO ("%s %s (Content-Type: %s, %" G_GOFFSET_FORMAT " bytes%s)",
      soup_server_message_get_method (msg), path, type ? type : "-",
      soup_server_message_get_request_body (msg)->length,
      soup_message_headers_get_one (headers, "Authorization") ?
      ", with Authorization" : "");
}

static void
http_handler (SoupServer * soup, SoupServerMessage * msg, const gchar * path,
    GHashTable * query, gpointer user_data)
{
  WhepServer *server = user_data;
  g_autofree gchar *real_path = g_strconcat (server->opts->path, "/real",
      NULL);
  g_autofree gchar *sse_id = NULL;
  gboolean sse_stream = FALSE;
  const gchar *id;

  log_request (msg, path);
  add_cors_headers (msg);

  if (server->stopping) {
    reply_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "shutting down");
  } else if (strcmp (path, server->opts->path) == 0) {
    http_endpoint (server, msg, FALSE);
  } else if (server->opts->redirect != 0 && strcmp (path, real_path) == 0) {
    http_endpoint (server, msg, TRUE);
  } else if ((id = session_id_from_path (server, path)) != NULL) {
    http_session_resource (server, msg, id, query);
  } else if (server->opts->sse
      && (sse_id = sse_id_from_path (server, path, &sse_stream)) != NULL) {
    http_sse (server, msg, sse_id, sse_stream);
  } else if (g_str_has_prefix (path, "/admin/")) {
    http_admin (server, msg, path, query);
  } else {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "not found");
  }
}

/* The port we got (--port 0 picks any).  Asks the socket rather than
 * soup_server_get_uris(), which leaks an address in libsoup 3.2. */
static gint
http_listening_port (SoupServer * soup)
{
  GSList *listeners = soup_server_get_listeners (soup);
  g_autoptr (GSocketAddress) local = NULL;
  gint port = -1;

  if (listeners != NULL)
    local = g_socket_get_local_address (listeners->data, NULL);
  if (local != NULL && G_IS_INET_SOCKET_ADDRESS (local))
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_slist_free (listeners);
  return port;
}

gboolean
whep_http_start (WhepServer * server, GError ** error)
{
  const WhepServerOptions *opts = server->opts;
  g_autoptr (GSocketAddress) address = NULL;
  gint port;

  GST_DEBUG_CATEGORY_INIT (whep_http_debug, "whepserver-http", 0,
      "WHEP test server: HTTP");

  address = g_inet_socket_address_new_from_string (opts->address, opts->port);
  if (address == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", opts->address);
    return FALSE;
  }

  server->soup = soup_server_new ("server-header", "whep-test-server ", NULL);
  soup_server_add_handler (server->soup, NULL, http_handler, server, NULL);
  if (!soup_server_listen (server->soup, address, 0, error))
    return FALSE;

  port = http_listening_port (server->soup);
  if (port <= 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "the server listens on no port");
    return FALSE;
  }

  server->base_url = strchr (opts->address, ':') ?
      g_strdup_printf ("http://[%s]:%d", opts->address, port) :
      g_strdup_printf ("http://%s:%d", opts->address, port);
  return TRUE;
}

void
whep_http_stop (WhepServer * server)
{
  /* Replies still held by --answer-delay go out now. */
  while (server->delayed_posts != NULL) {
    PostReply *reply = server->delayed_posts->data;

    server->delayed_posts = g_list_delete_link (server->delayed_posts,
        server->delayed_posts);
    g_clear_handle_id (&reply->delay_source, g_source_remove);
    post_reply_flush (reply);
  }
  /* Event streams still open would hold their messages paused forever. */
  whep_sse_stop (server);
  /* Let libsoup write what is unpaused before the server goes. */
  while (g_main_context_iteration (NULL, FALSE));

  g_clear_object (&server->soup);
  g_clear_pointer (&server->base_url, g_free);
}
