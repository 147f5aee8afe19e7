/* whepsrc — the WHEP signalling of one session (see gstwhepsignalling.h).
 *
 * Threads: the public functions are called from the session's threads
 * (webrtcbin's, the element's control thread, the application's for
 * close()); HTTP completions and the event stream run on the client's
 * thread; the liveness timer on config.context.  Every completion holds a
 * reference to the signalling object, never to the session: the session
 * is reached through a weak reference only, so a late completion never
 * calls into a disposed session.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsignalling.h"
#include "gstwhepsdp.h"
#include "gstwheputils.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (whep_signalling_debug);
#define GST_CAT_DEFAULT whep_signalling_debug

#define SSE_REL "urn:ietf:params:whep:ext:core:server-sent-events"
/* The events whepsrc acts on. */
static const gchar *const sse_wanted[] = { "active", "inactive", "reconnect" };

struct _GstWhepSignalling
{
  GstObject parent;

  /* Immutable after new(). */
  GstWhepClient *client;        /* ref held */
  gchar *endpoint;
  gchar *log_endpoint;          /* redacted */
  guint delete_timeout_ms;
  GMainContext *context;        /* ref held */
  GWeakRef owner;               /* the session */
  GstWhepSignallingListener listener;
  GCancellable *cancellable;    /* requests that may be dropped: every one
                                 * but the POST */

  /* Protected by lock, a leaf: never held while calling the client, the
   * listener or the owner. */
  GMutex lock;
  GCond cond;                   /* signalled when the POST completes */
  GstWhepSignallingState state;
  gboolean closing;             /* close() began: nothing is reported */
  gboolean post_in_flight;
  gboolean post_orphaned;       /* close() is done: the POST's answer is
                                 * DELETEd by on_post_done() */
  GstWhepFailure *fail_on_answer;       /* see fail_on_answer() */
  GstSDPMessage *offer;         /* what we POSTed */
  gchar *resource_url;
  gchar *etag;
  GPtrArray *link_ice_servers;
  gchar *sse_stream_url;        /* the event stream, DELETEd at close */
  GstWhepSseParser *sse_parser;
  GSource *liveness_timer;
  gboolean liveness_in_flight;
  GstWhepLiveness liveness;     /* how far this server's GET answers are
                                 * trusted (see gstwhepsignalling.h) */
  gint64 t_post, t_answer;      /* monotonic µs, 0: not yet */
};

G_DEFINE_TYPE (GstWhepSignalling, gst_whep_signalling, GST_TYPE_OBJECT);

static const gchar *const state_names[] = {
  "new", "posting", "counter-offered", "answering", "established", "failed",
  "closed",
};

const gchar *
gst_whep_signalling_state_name (GstWhepSignallingState state)
{
  if ((guint) state < G_N_ELEMENTS (state_names))
    return state_names[state];
  return "unknown";
}

/* --- small helpers --- */

/* The session, if it still exists: what requests are logged against. */
static GstObject *
dup_owner (GstWhepSignalling * self)
{
  return g_weak_ref_get (&self->owner);
}

static void
set_state (GstWhepSignalling * self, GstWhepSignallingState state)
{
  g_mutex_lock (&self->lock);
  if (!self->closing && self->state != GST_WHEP_SIGNALLING_FAILED) {
    GST_DEBUG_OBJECT (self, "%s → %s", state_names[self->state],
        state_names[state]);
    self->state = state;
  }
  g_mutex_unlock (&self->lock);
}

/* Tells the owner, unless it is gone or close() began. */
static void
emit (GstWhepSignalling * self, GstWhepSignallingEvent event,
    const GstSDPMessage * sdp, const GstWhepFailure * failure)
{
  GstObject *owner;
  gboolean closing;

  g_mutex_lock (&self->lock);
  closing = self->closing;
  g_mutex_unlock (&self->lock);
  if (closing)
    return;
  owner = dup_owner (self);
  if (!owner)
    return;
  if (self->listener)
    self->listener (self, owner, event, sdp, failure);
  gst_object_unref (owner);
}

/* Reports @failure (taken) once; the liveness checks stop. */
static void
fail (GstWhepSignalling * self, GstWhepFailure * failure)
{
  g_mutex_lock (&self->lock);
  if (!self->closing)
    self->state = GST_WHEP_SIGNALLING_FAILED;
  gst_whep_clear_source (&self->liveness_timer);
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (self, "failed: %s (%s)", failure->message,
      GST_STR_NULL (failure->debug));
  emit (self, GST_WHEP_SIGNALLING_EVENT_FAILED, NULL, failure);
  gst_whep_failure_free (failure);
}

static void
delete_in_background (GstWhepSignalling * self, const gchar * url)
{
  GstObject *owner = dup_owner (self);

  gst_whep_client_delete_async (self->client, owner, url,
      self->delete_timeout_ms, NULL, NULL, NULL);
  gst_clear_object (&owner);
}

/* --- the answer --- */

static gboolean
has_sdp_body (const GstWhepResponse * resp)
{
  /* Some servers omit the Content-Type; a body that starts with v=0 is
   * SDP whatever the header says. */
  return resp->body && (gst_whep_content_type_is (resp->content_type,
          "application/sdp") || g_str_has_prefix (resp->body, "v=0"));
}

/* What the debug text of a failure says about a body: never the body. */
static gchar *
body_debug (const GstWhepResponse * resp)
{
  g_autofree gchar *summary = gst_whep_sdp_summary (resp->body);

  return g_strdup_printf ("Content-Type %s, %s",
      GST_STR_NULL (resp->content_type), summary);
}

/* What is wrong with the body of an answer that should hold SDP, or NULL
 * when nothing is.  Each case named as it is: an error page is not "no
 * answer", and a NUL byte (which no SDP holds: the parser would stop
 * there and find no m-line) is not "no m-line". */
static gchar *
sdp_body_problem (const GstWhepResponse * resp)
{
  gsize text_len;

  if (!resp->body || resp->body_size == 0)
    return g_strdup ("no body");
  if (gst_whep_is_html (resp->content_type, resp->body, resp->body_size)) {
    g_autofree gchar *title = gst_whep_html_title (resp->body,
        resp->body_size);

    return title ? g_strdup_printf ("an HTML page ('%s')", title) :
        g_strdup ("an HTML page");
  }
  if (!has_sdp_body (resp))
    return g_strdup_printf ("a body of type %s", resp->content_type ?
        resp->content_type : "(none)");
  text_len = strlen (resp->body);
  if (text_len != resp->body_size)
    return g_strdup_printf ("an SDP body with a NUL byte at offset %"
        G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT, text_len, resp->body_size);
  return NULL;
}

/* A failure about an answer that came: it carries its HTTP status (a 201
 * is not "no HTTP status"). */
static GstWhepFailure *
answer_failure (const GstWhepResponse * resp, gchar * debug,
    const gchar * format, ...)
G_GNUC_PRINTF (3, 4);

     static GstWhepFailure *answer_failure (const GstWhepResponse * resp,
    gchar * debug, const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  GstWhepFailure *failure;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ, FALSE, resp->final_url, debug, "%s",
      message);
  failure->http_status = resp->status;
  return failure;
}

/* The parsers' and checks' texts may quote the server's SDP. */
static gchar *
shown_error (const GError * err)
{
  return gst_whep_sanitize_text (err->message, -1, 300);
}

static void
handle_answer (GstWhepSignalling * self, const GstWhepResponse * resp)
{
  g_autoptr (GError) err = NULL;
  GstSDPMessage *answer = NULL;
  g_autofree gchar *summary = NULL;
  g_autofree gchar *problem = sdp_body_problem (resp);
  gboolean ok;

  if (problem) {
    fail (self, answer_failure (resp,
            g_strdup_printf ("Content-Type %s, %" G_GSIZE_FORMAT " bytes",
                GST_STR_NULL (resp->content_type), resp->body_size),
            "The WHEP server answered %u with %s instead of an SDP answer",
            resp->status, problem));
    return;
  }
  if (!gst_whep_sdp_parse (resp->body, &answer, &err)) {
    g_autofree gchar *why = shown_error (err);

    fail (self, answer_failure (resp, body_debug (resp),
            "The WHEP server's SDP answer does not parse: %s", why));
    return;
  }

  g_mutex_lock (&self->lock);
  ok = gst_whep_sdp_check_answer (self->offer, answer, &err);
  g_mutex_unlock (&self->lock);
  if (!ok) {
    g_autofree gchar *why = shown_error (err);

    gst_sdp_message_free (answer);
    fail (self, answer_failure (resp, body_debug (resp),
            "The WHEP server's SDP answer does not match our offer: %s", why));
    return;
  }

  summary = gst_whep_sdp_summary (resp->body);
  GST_DEBUG_OBJECT (self, "answer: %s", summary);
  set_state (self, GST_WHEP_SIGNALLING_ESTABLISHED);
  emit (self, GST_WHEP_SIGNALLING_EVENT_ANSWER, answer, NULL);
  gst_sdp_message_free (answer);
}

/* WHEP 406: the server sent its own offer. */
static void
handle_counter_offer (GstWhepSignalling * self, const GstWhepResponse * resp)
{
  g_autoptr (GError) err = NULL;
  GstSDPMessage *offer = NULL;
  g_autofree gchar *summary = NULL;

  g_autofree gchar *problem = sdp_body_problem (resp);

  if (problem || !resp->location) {
    fail (self, answer_failure (resp, NULL, "The WHEP server answered 406 "
            "with %s%s", problem ? problem : "a counter-offer",
            resp->location ? " instead of a counter-offer" :
            " and no Location"));
    return;
  }
  if (!gst_whep_sdp_parse (resp->body, &offer, &err)
      || !gst_whep_sdp_check_counter_offer (offer, &err)) {
    g_autofree gchar *why = shown_error (err);

    g_clear_pointer (&offer, gst_sdp_message_free);
    fail (self, answer_failure (resp, body_debug (resp),
            "The WHEP server's counter-offer is unusable: %s", why));
    return;
  }

  summary = gst_whep_sdp_summary (resp->body);
  GST_INFO_OBJECT (self, "the server sent a counter-offer (406): %s", summary);
  set_state (self, GST_WHEP_SIGNALLING_COUNTER_OFFERED);
  emit (self, GST_WHEP_SIGNALLING_EVENT_COUNTER_OFFER, offer, NULL);
  gst_sdp_message_free (offer);
}

static void
remember_resource (GstWhepSignalling * self, const GstWhepResponse * resp)
{
  g_mutex_lock (&self->lock);
  g_free (self->resource_url);
  self->resource_url = g_strdup (resp->location);
  g_free (self->etag);
  self->etag = g_strdup (resp->etag);
  g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
  self->link_ice_servers = resp->ice_servers ?
      g_ptr_array_ref (resp->ice_servers) : NULL;
  self->t_answer = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
}

static void
warn_no_location (GstWhepSignalling * self, const GstWhepResponse * resp)
{
  GstWhepFailure *warning = gst_whep_failure_new (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ, FALSE, resp->final_url, NULL,
      "The WHEP server sent no Location header: playing, but this session "
      "cannot be ended with DELETE (the server must expire it)");

  emit (self, GST_WHEP_SIGNALLING_EVENT_WARNING, NULL, warning);
  gst_whep_failure_free (warning);
}

/* --- server-sent events (WHEP events extension) --- */

static void
dispatch_server_event (GstWhepSignalling * self, const gchar * name,
    const gchar * data)
{
  GstWhepFailure info = {.retry_after_s = -1 };
  g_autofree gchar *url = NULL;
  g_autofree gchar *stream = NULL;

  /* The data may name a URL with a token: its size only.  The name is the
   * server's text. */
  {
    g_autofree gchar *shown = gst_whep_sanitize_text (name, -1, 40);

    GST_INFO_OBJECT (self, "server event '%s' (%" G_GSIZE_FORMAT " bytes of "
        "data)", shown, data ? strlen (data) : 0);
  }
  if (g_str_equal (name, "reconnect")) {
    g_autofree gchar *shown = NULL;

    g_mutex_lock (&self->lock);
    stream = g_strdup (self->sse_stream_url);
    g_mutex_unlock (&self->lock);
    url = gst_whep_sse_reconnect_url (data, stream);
    shown = gst_whep_redact_url (url);
    GST_INFO_OBJECT (self, "reconnect to %s", shown ? shown : "the endpoint");
    /* As the server sent it: it is where the next session POSTs. */
    info.url = url;
    info.message = (gchar *) "The WHEP server asked for a new session";
    emit (self, GST_WHEP_SIGNALLING_EVENT_RECONNECT, NULL, &info);
  } else if (g_str_equal (name, "active")) {
    emit (self, GST_WHEP_SIGNALLING_EVENT_ACTIVE, NULL, NULL);
  } else if (g_str_equal (name, "inactive")) {
    emit (self, GST_WHEP_SIGNALLING_EVENT_INACTIVE, NULL, NULL);
  }
  /* Unknown events (layers, viewercount, …) are ignored, as the
   * extension says. */
}

/* The event stream broke a limit (or its reader's rules): it is closed
 * and DELETEd, and the session plays on without events — sessions must
 * not depend on extensions. */
static void
drop_event_stream (GstWhepSignalling * self, const gchar * why)
{
  g_autofree gchar *stream = NULL;
  g_autofree gchar *shown = NULL;

  g_mutex_lock (&self->lock);
  if (!self->closing)
    stream = g_steal_pointer (&self->sse_stream_url);
  g_mutex_unlock (&self->lock);
  if (!stream)
    return;
  shown = gst_whep_redact_url (stream);
  GST_WARNING_OBJECT (self, "closing the event stream %s: %s; playing on "
      "without server events", shown, why);
  delete_in_background (self, stream);
}

/* One line of text/event-stream (client thread).  FALSE closes the
 * stream. */
static gboolean
on_sse_line (const gchar * line, gpointer data)
{
  GstWhepSignalling *self = data;
  gchar *name, *payload;
  gboolean overflowed;

  g_mutex_lock (&self->lock);
  gst_whep_sse_parser_push_line (self->sse_parser, line);
  overflowed = gst_whep_sse_parser_overflowed (self->sse_parser);
  g_mutex_unlock (&self->lock);

  for (;;) {
    gboolean have;

    g_mutex_lock (&self->lock);
    have = gst_whep_sse_parser_pop (self->sse_parser, &name, &payload);
    g_mutex_unlock (&self->lock);
    if (!have)
      break;
    dispatch_server_event (self, name, payload);
    g_free (name);
    g_free (payload);
  }
  if (overflowed) {
    g_autofree gchar *why = g_strdup_printf ("an event is larger than the "
        "%u KiB limit", GST_WHEP_SSE_MAX_EVENT_BYTES / 1024);

    drop_event_stream (self, why);
    return FALSE;
  }
  return TRUE;
}

static void
on_sse_done (guint status, const GError * error, gpointer data)
{
  GstWhepSignalling *self = data;

  if (error && error->domain == GST_WHEP_CLIENT_ERROR)
    /* A line too long, not UTF-8, compressed: the stream is no use. */
    drop_event_stream (self, error->message);
  else if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    GST_INFO_OBJECT (self, "event stream ended: %s", error->message);
  else
    GST_DEBUG_OBJECT (self, "event stream ended (%u)", status);
}

static gboolean
is_closing (GstWhepSignalling * self)
{
  gboolean closing;

  g_mutex_lock (&self->lock);
  closing = self->closing;
  g_mutex_unlock (&self->lock);
  return closing;
}

static void
on_sse_subscribed (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GstWhepSignalling) self = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);
  g_autofree gchar *shown = NULL;
  GstObject *owner;

  if (!resp || resp->status != 201 || !resp->location) {
    /* Sessions must not require extensions: play on without events. */
    GST_INFO_OBJECT (self, "no server-sent events: %s", resp ?
        (resp->location ? "refused" : "no Location") : err->message);
    return;
  }
  g_mutex_lock (&self->lock);
  g_free (self->sse_stream_url);
  self->sse_stream_url = g_strdup (resp->location);
  g_mutex_unlock (&self->lock);
  if (is_closing (self))
    return;
  shown = gst_whep_redact_url (resp->location);
  GST_INFO_OBJECT (self, "listening to server events at %s", shown);
  owner = dup_owner (self);
  gst_whep_client_open_line_stream (self->client, owner, resp->location,
      self->cancellable, on_sse_line, on_sse_done, gst_object_ref (self),
      gst_object_unref);
  gst_clear_object (&owner);
}

/* Subscribes to the events we act on, among those the server offers. */
static void
subscribe_server_events (GstWhepSignalling * self, const GstWhepResponse * resp)
{
  GstWhepLink *link = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *shown = NULL;
  g_autoptr (GString) body = g_string_new ("[");
  const gchar *offered;
  GstObject *owner;
  guint i;

  for (i = 0; resp->links && i < resp->links->len && !link; i++) {
    GstWhepLink *l = g_ptr_array_index (resp->links, i);
    if (l->rel && strstr (l->rel, SSE_REL))
      link = l;
  }
  if (!link)
    return;
  url = gst_whep_resolve_location (resp->final_url, link->uri, NULL);
  if (!url)
    return;
  offered = g_hash_table_lookup (link->params, "events");
  for (i = 0; i < G_N_ELEMENTS (sse_wanted); i++) {
    if (offered && !strstr (offered, sse_wanted[i]))
      continue;
    g_string_append_printf (body, "%s\"%s\"", body->len > 1 ? "," : "",
        sse_wanted[i]);
  }
  g_string_append_c (body, ']');
  if (body->len == 2)
    return;
  shown = gst_whep_redact_url (url);
  GST_INFO_OBJECT (self, "subscribing to server events %s at %s", body->str,
      shown);
  owner = dup_owner (self);
  gst_whep_client_send_async (self->client, owner, "POST", url,
      "application/json", body->str, self->cancellable, on_sse_subscribed,
      gst_object_ref (self));
  gst_clear_object (&owner);
}

/* --- POST --- */

/* A POST that brought no whole answer, named by how far it came: not
 * reached at all; reached, with no usable answer; or an answer whose body
 * failed (too large, broke off, compressed, stalled).  The client's error
 * texts show redacted URLs and no server text but sanitised. */
static GstWhepFailure *
post_failure (GstWhepSignalling * self, const GstWhepResponse * partial,
    const GError * err)
{
  gboolean timeout = g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  guint status = partial ? partial->status : 0;
  GstWhepFailure *failure;

  if (status != 0 && (status < 200 || status >= 300) && status != 406) {
    /* An error status with a body too large (or broken): the status
     * still says what the server meant (a 503 is still worth a retry). */
    failure = gst_whep_failure_from_response (partial, "the offer");
    {
      gchar *debug = g_strdup_printf ("%s; %s", GST_STR_NULL (failure->debug),
          err->message);

      g_free (failure->debug);
      failure->debug = debug;
    }
    return failure;
  }
  if (status != 0) {
    /* A session may have been made: it was DELETEd (on_post_done()).  A
     * stall or a reset may pass; a body too large or compressed will not. */
    gboolean passing = timeout || g_error_matches (err, GST_WHEP_CLIENT_ERROR,
        GST_WHEP_CLIENT_ERROR_BODY_INCOMPLETE);

    failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ, passing, self->endpoint,
        g_strdup (err->message), "The WHEP server answered %u, but its "
        "answer could not be read: %s", status, err->message);
    failure->http_status = status;
    failure->retry_after_s = partial->retry_after_s;
    return failure;
  }
  if (partial && partial->reached)
    return gst_whep_failure_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ, TRUE, self->endpoint,
        g_strdup (err->message), "%s the WHEP endpoint %s: %s", timeout ?
        "No answer from" : "No usable HTTP answer from", self->log_endpoint,
        err->message);
  return gst_whep_failure_new (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ, TRUE, self->endpoint,
      g_strdup (err->message), "%s the WHEP endpoint %s: %s",
      timeout ? "No answer from" : "Could not reach", self->log_endpoint,
      err->message);
}

static void
on_post_done (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GstWhepSignalling) self = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) partial = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish_full (GST_WHEP_CLIENT (source), result,
      &partial, &err);
  GstWhepFailure *doomed;
  gboolean closing, orphaned, success;
  const gchar *made = NULL;

  success = resp && resp->status >= 200 && resp->status < 300;
  /* The session the server made, if any: a 201 (or 406) whose body never
   * completed made one too, and its Location came with the head. */
  if (resp && (success || resp->status == 406))
    made = resp->location;
  else if (partial && ((partial->status >= 200 && partial->status < 300)
          || partial->status == 406))
    made = partial->location;

  g_mutex_lock (&self->lock);
  self->post_in_flight = FALSE;
  closing = self->closing;
  orphaned = self->post_orphaned;
  doomed = g_steal_pointer (&self->fail_on_answer);
  if (closing && !orphaned) {
    /* close() is still waiting for this answer: it deletes the session. */
    g_free (self->resource_url);
    self->resource_url = g_strdup (made);
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (closing) {
    /* Closed while the POST was under way: the server made a session that
     * nobody will play. */
    if (orphaned && made) {
      g_autofree gchar *shown = gst_whep_redact_url (made);
      GST_INFO_OBJECT (self, "closed during POST: deleting %s", shown);
      delete_in_background (self, made);
    }
    gst_whep_failure_free (doomed);
    return;
  }

  if (!resp && made) {
    /* Its answer's body failed, but the session exists on the server:
     * the failure below is reported, the session DELETEd now (nobody else
     * knows its URL). */
    g_autofree gchar *shown = gst_whep_redact_url (made);

    GST_INFO_OBJECT (self, "the answer to the POST failed after its head: "
        "deleting %s", shown);
    delete_in_background (self, made);
  }

  if (!resp && g_error_matches (err, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)) {
    /* https:// to a plain HTTP port: no retry will change that. */
    gst_whep_failure_free (doomed);
    fail (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS, FALSE, self->endpoint,
            g_strdup (err->message), "The WHEP endpoint %s answers plain "
            "HTTP, not HTTPS: use an http:// URL", self->log_endpoint));
    return;
  }
  if (!resp) {
    gst_whep_failure_free (doomed);
    fail (self, post_failure (self, partial, err));
    return;
  }

  if (doomed && success) {
    /* The session already knew it cannot work: fail now that the resource
     * (to DELETE) and the Link headers (for the next session) are known. */
    remember_resource (self, resp);
    fail (self, doomed);
    return;
  }
  gst_whep_failure_free (doomed);

  switch (resp->status) {
    case 200:
    case 201:
      remember_resource (self, resp);
      if (!resp->location)
        warn_no_location (self, resp);
      handle_answer (self, resp);
      /* Without a resource there is nothing to PATCH: the candidates stay
       * with us and the server learns them from our checks (prflx). */
      if (resp->location)
        emit (self, GST_WHEP_SIGNALLING_EVENT_RESOURCE, NULL, NULL);
      subscribe_server_events (self, resp);
      return;
    case 406:
      remember_resource (self, resp);
      handle_counter_offer (self, resp);
      /* The 406 made the session as a 201 would have: its extensions
       * (server-sent events) are announced there. */
      if (resp->location)
        subscribe_server_events (self, resp);
      return;
    default:
      if (success) {
        /* 202/204…: a success without the answer WHEP requires. */
        remember_resource (self, resp);
        handle_answer (self, resp);
        return;
      }
      fail (self, gst_whep_failure_from_response (resp, "the offer"));
      return;
  }
}

void
gst_whep_signalling_post_offer (GstWhepSignalling * self,
    const GstSDPMessage * offer)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *summary = NULL;
  GstSDPMessage *copy = NULL;
  GstObject *owner;

  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));

  gst_sdp_message_copy (offer, &copy);
  text = gst_sdp_message_as_text (offer);
  g_mutex_lock (&self->lock);
  if (self->closing || self->post_in_flight || self->offer) {
    g_mutex_unlock (&self->lock);
    gst_sdp_message_free (copy);
    return;
  }
  self->offer = copy;
  self->post_in_flight = TRUE;
  self->t_post = g_get_monotonic_time ();
  self->state = GST_WHEP_SIGNALLING_POSTING;
  g_mutex_unlock (&self->lock);

  summary = gst_whep_sdp_summary (text);
  GST_INFO_OBJECT (self, "POSTing offer to %s (%s)", self->log_endpoint,
      summary);
  owner = dup_owner (self);
  /* Not self->cancellable: a POST the server may have acted on is never
   * dropped, or its session would leak (see close()). */
  gst_whep_client_post_offer_async (self->client, owner, self->endpoint,
      text, NULL, on_post_done, gst_object_ref (self));
  gst_clear_object (&owner);
}

gboolean
gst_whep_signalling_fail_on_answer (GstWhepSignalling * self,
    GstWhepFailure * failure)
{
  gboolean pending;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self), FALSE);

  g_mutex_lock (&self->lock);
  pending = self->post_in_flight && !self->closing;
  if (pending) {
    gst_whep_failure_free (self->fail_on_answer);
    self->fail_on_answer = failure;
  }
  g_mutex_unlock (&self->lock);
  if (!pending)
    gst_whep_failure_free (failure);
  return pending;
}

/* --- our answer to a counter-offer --- */

static void
on_answer_patched (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GstWhepSignalling) self = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);

  if (!resp) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail (self, gst_whep_failure_new (GST_RESOURCE_ERROR,
              GST_RESOURCE_ERROR_OPEN_READ, TRUE, self->endpoint, NULL,
              "Could not send our answer to the counter-offer: %s",
              err->message));
    return;
  }
  if (resp->status < 200 || resp->status >= 300) {
    fail (self, gst_whep_failure_from_response (resp,
            "the answer to its counter-offer"));
    return;
  }
  set_state (self, GST_WHEP_SIGNALLING_ESTABLISHED);
  emit (self, GST_WHEP_SIGNALLING_EVENT_ANSWER_ACCEPTED, NULL, NULL);
}

void
gst_whep_signalling_send_answer (GstWhepSignalling * self,
    const GstSDPMessage * answer)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *summary = NULL;
  g_autofree gchar *resource = NULL;
  GstObject *owner;

  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));

  g_mutex_lock (&self->lock);
  if (!self->closing && self->state == GST_WHEP_SIGNALLING_COUNTER_OFFERED) {
    resource = g_strdup (self->resource_url);
    self->state = GST_WHEP_SIGNALLING_ANSWERING;
  }
  g_mutex_unlock (&self->lock);
  if (!resource)
    return;

  text = gst_sdp_message_as_text (answer);
  summary = gst_whep_sdp_summary (text);
  GST_INFO_OBJECT (self, "PATCHing our answer to the counter-offer (%s)",
      summary);
  owner = dup_owner (self);
  gst_whep_client_patch_async (self->client, owner, resource,
      "application/sdp", text, NULL, self->cancellable, on_answer_patched,
      gst_object_ref (self));
  gst_clear_object (&owner);
}

/* --- liveness: does the server still know the session? --- */

/* The first answer of a server tells whether its sessions answer GET at
 * all: many never route it (Node's http and Express answer 404 to an
 * unrouted GET on a live session), and the WHEP drafts reserve GET.  So a
 * 404/410 means "gone" only from a server whose sessions answered 2xx
 * before; any other first answer ends the asking. */
static void
on_liveness_answer (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GstWhepSignalling) self = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);
  GstWhepLiveness liveness;
  guint status = resp ? resp->status : 0;

  g_mutex_lock (&self->lock);
  self->liveness_in_flight = FALSE;
  liveness = self->liveness;
  if (status >= 200 && status < 300)
    self->liveness = GST_WHEP_LIVENESS_TRUSTED;
  g_mutex_unlock (&self->lock);
  if (is_closing (self)
      || g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (status >= 200 && status < 300) {
    if (liveness != GST_WHEP_LIVENESS_TRUSTED) {
      GST_INFO_OBJECT (self, "the server's sessions answer GET (%u): a "
          "404/410 from now on means the session is gone", status);
      emit (self, GST_WHEP_SIGNALLING_EVENT_LIVENESS_CONFIRMED, NULL, NULL);
    }
    return;
  }
  if (liveness != GST_WHEP_LIVENESS_TRUSTED) {
    /* 404, 405, 501, 5xx, no answer: this server does not answer GET on
     * its sessions — nothing can be learnt from asking. */
    GST_INFO_OBJECT (self, "GET on the session answered %s%u: no liveness "
        "checks for this server", resp ? "" : "nothing, ", status);
    gst_whep_signalling_stop_liveness (self);
    emit (self, GST_WHEP_SIGNALLING_EVENT_LIVENESS_UNSUPPORTED, NULL, NULL);
    return;
  }
  if (status == 404 || status == 410) {
    g_autofree gchar *shown = gst_whep_redact_url (resp->final_url);
    GstWhepFailure *gone = gst_whep_failure_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_READ, TRUE, resp->final_url,
        g_strdup_printf ("GET %s answered %u", shown, status),
        "The WHEP server no longer knows this session (HTTP %u)", status);

    /* Not a failure by itself: the owner decides with the media (a
     * session that still delivers is not ended by an HTTP answer). */
    gst_whep_signalling_stop_liveness (self);
    emit (self, GST_WHEP_SIGNALLING_EVENT_GONE, NULL, gone);
    gst_whep_failure_free (gone);
  }
  /* Anything else from a trusted server (a 5xx, no answer) may be a
   * passing trouble: ask again next time. */
}

static gboolean
liveness_timer_cb (gpointer data)
{
  GstWhepSignalling *self = data;
  g_autofree gchar *url = NULL;
  GstObject *owner;

  g_mutex_lock (&self->lock);
  if (!self->closing && !self->liveness_in_flight && self->resource_url) {
    url = g_strdup (self->resource_url);
    self->liveness_in_flight = TRUE;
  }
  g_mutex_unlock (&self->lock);
  if (url) {
    owner = dup_owner (self);
    gst_whep_client_send_async (self->client, owner, "GET", url, NULL, NULL,
        self->cancellable, on_liveness_answer, gst_object_ref (self));
    gst_clear_object (&owner);
  }
  return G_SOURCE_CONTINUE;
}

void
gst_whep_signalling_start_liveness (GstWhepSignalling * self, guint interval_ms,
    GstWhepLiveness liveness)
{
  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));

  if (liveness == GST_WHEP_LIVENESS_OFF)
    return;
  g_mutex_lock (&self->lock);
  self->liveness = liveness;
  if (!self->liveness_timer && !self->closing && self->resource_url
      && self->state != GST_WHEP_SIGNALLING_FAILED) {
    self->liveness_timer = g_timeout_source_new (interval_ms);
    g_source_set_callback (self->liveness_timer, liveness_timer_cb,
        gst_object_ref (self), (GDestroyNotify) gst_object_unref);
    g_source_attach (self->liveness_timer, self->context);
  }
  g_mutex_unlock (&self->lock);
}

void
gst_whep_signalling_stop_liveness (GstWhepSignalling * self)
{
  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));

  g_mutex_lock (&self->lock);
  gst_whep_clear_source (&self->liveness_timer);
  g_mutex_unlock (&self->lock);
}

/* --- close --- */

void
gst_whep_signalling_close (GstWhepSignalling * self, gboolean wait)
{
  g_autofree gchar *resource = NULL;
  g_autofree gchar *sse = NULL;
  g_autofree gchar *shown = NULL;
  gboolean was_closing;
  GstObject *owner;

  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));

  g_mutex_lock (&self->lock);
  was_closing = self->closing;
  self->closing = TRUE;
  gst_whep_clear_source (&self->liveness_timer);
  if (was_closing) {
    g_mutex_unlock (&self->lock);
    return;
  }

  /* A POST under way may already have made a server session: give its
   * answer the DELETE budget to arrive, so that we can delete it. */
  if (self->post_in_flight && wait) {
    gint64 end = g_get_monotonic_time () +
        self->delete_timeout_ms * G_TIME_SPAN_MILLISECOND;
    while (self->post_in_flight)
      if (!g_cond_wait_until (&self->cond, &self->lock, end))
        break;
  }
  if (self->post_in_flight) {
    self->post_orphaned = TRUE;
    GST_INFO_OBJECT (self, "closed during POST: its answer will be deleted "
        "when it arrives");
  } else
    resource = g_steal_pointer (&self->resource_url);
  if (self->state != GST_WHEP_SIGNALLING_FAILED)
    self->state = GST_WHEP_SIGNALLING_CLOSED;
  sse = g_steal_pointer (&self->sse_stream_url);
  g_mutex_unlock (&self->lock);

  g_cancellable_cancel (self->cancellable);
  if (sse)
    delete_in_background (self, sse);
  if (!resource)
    return;

  shown = gst_whep_redact_url (resource);
  GST_INFO_OBJECT (self, "DELETE %s", shown);
  if (!wait) {
    delete_in_background (self, resource);
    return;
  }
  owner = dup_owner (self);
  {
    guint status = gst_whep_client_delete_sync (self->client, owner,
        resource, self->delete_timeout_ms);

    if (status == 0)
      GST_WARNING_OBJECT (self, "DELETE %s: no answer within %u ms; the "
          "server will have to expire the session", shown,
          self->delete_timeout_ms);
    else if (status >= 300)
      GST_WARNING_OBJECT (self, "DELETE %s answered %u", shown, status);
  }
  gst_clear_object (&owner);
}

/* --- queries --- */

GstWhepSignallingState
gst_whep_signalling_get_state (GstWhepSignalling * self)
{
  GstWhepSignallingState state;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self),
      GST_WHEP_SIGNALLING_CLOSED);
  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

gboolean
gst_whep_signalling_is_posting (GstWhepSignalling * self)
{
  gboolean posting;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self), FALSE);
  g_mutex_lock (&self->lock);
  posting = self->post_in_flight;
  g_mutex_unlock (&self->lock);
  return posting;
}

gchar *
gst_whep_signalling_dup_resource_url (GstWhepSignalling * self)
{
  gchar *url;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self), NULL);
  g_mutex_lock (&self->lock);
  url = g_strdup (self->resource_url);
  g_mutex_unlock (&self->lock);
  return url;
}

gchar *
gst_whep_signalling_dup_etag (GstWhepSignalling * self)
{
  gchar *etag;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self), NULL);
  g_mutex_lock (&self->lock);
  etag = g_strdup (self->etag);
  g_mutex_unlock (&self->lock);
  return etag;
}

GPtrArray *
gst_whep_signalling_dup_link_ice_servers (GstWhepSignalling * self)
{
  GPtrArray *servers;

  g_return_val_if_fail (GST_IS_WHEP_SIGNALLING (self), NULL);
  g_mutex_lock (&self->lock);
  servers = self->link_ice_servers ? g_ptr_array_ref (self->link_ice_servers)
      : NULL;
  g_mutex_unlock (&self->lock);
  return servers;
}

void
gst_whep_signalling_get_times (GstWhepSignalling * self, gint64 * post_time,
    gint64 * answer_time)
{
  g_return_if_fail (GST_IS_WHEP_SIGNALLING (self));
  g_mutex_lock (&self->lock);
  if (post_time)
    *post_time = self->t_post;
  if (answer_time)
    *answer_time = self->t_answer;
  g_mutex_unlock (&self->lock);
}

/* --- GObject --- */

GstWhepSignalling *
gst_whep_signalling_new (const GstWhepSignallingConfig * config,
    GstObject * owner, GstWhepSignallingListener listener)
{
  g_autofree gchar *name = NULL;
  GstWhepSignalling *self;

  g_return_val_if_fail (config && GST_IS_WHEP_CLIENT (config->client), NULL);
  g_return_val_if_fail (config->endpoint != NULL, NULL);

  if (owner && GST_OBJECT_NAME (owner))
    name = g_strdup_printf ("%s-sig", GST_OBJECT_NAME (owner));
  self = g_object_new (GST_TYPE_WHEP_SIGNALLING, "name", name, NULL);
  gst_object_ref_sink (self);
  self->client = g_object_ref (config->client);
  self->endpoint = g_strdup (config->endpoint);
  self->log_endpoint = gst_whep_redact_url (config->endpoint);
  self->delete_timeout_ms = config->delete_timeout_ms ?
      config->delete_timeout_ms : 2000;
  self->context = config->context ? g_main_context_ref (config->context) :
      g_main_context_ref_thread_default ();
  g_weak_ref_set (&self->owner, owner);
  self->listener = listener;
  return self;
}

static void
gst_whep_signalling_dispose (GObject * object)
{
  GstWhepSignalling *self = GST_WHEP_SIGNALLING (object);

  g_mutex_lock (&self->lock);
  gst_whep_clear_source (&self->liveness_timer);
  g_mutex_unlock (&self->lock);

  G_OBJECT_CLASS (gst_whep_signalling_parent_class)->dispose (object);
}

static void
gst_whep_signalling_finalize (GObject * object)
{
  GstWhepSignalling *self = GST_WHEP_SIGNALLING (object);

  g_clear_object (&self->client);
  g_free (self->endpoint);
  g_free (self->log_endpoint);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_weak_ref_clear (&self->owner);
  g_clear_object (&self->cancellable);
  gst_whep_failure_free (self->fail_on_answer);
  g_clear_pointer (&self->offer, gst_sdp_message_free);
  g_free (self->resource_url);
  g_free (self->etag);
  g_clear_pointer (&self->link_ice_servers, g_ptr_array_unref);
  g_free (self->sse_stream_url);
  gst_whep_sse_parser_free (self->sse_parser);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (gst_whep_signalling_parent_class)->finalize (object);
}

static void
gst_whep_signalling_init (GstWhepSignalling * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_weak_ref_init (&self->owner, NULL);
  self->cancellable = g_cancellable_new ();
  self->sse_parser = gst_whep_sse_parser_new ();
  self->state = GST_WHEP_SIGNALLING_NEW;
}

static void
gst_whep_signalling_class_init (GstWhepSignallingClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->dispose = gst_whep_signalling_dispose;
  gobject_class->finalize = gst_whep_signalling_finalize;

  GST_DEBUG_CATEGORY_INIT (whep_signalling_debug, "whepsignalling", 0,
      "WHEP signalling of one session (POST, PATCH, events, DELETE)");
}
