/* whepsrc — the WHEP HTTP client (see gstwhepclient.h for the contract).
 *
 * Threading: the HTTP worker thread "whep-http" (gstwhepworker.h), shared
 * by every client of the process, runs a GMainLoop on its GMainContext;
 * each client's own SoupSession (its timeouts, TLS database, connection
 * limit and cookies its own) is created, used and destroyed on it only.  Public calls build a WhepRequest and hand it over with g_main_context_invoke(); the
 * GTask of a request is created on the client thread, so its callback is
 * dispatched there too.
 *
 * Cancellation: every request has an operation cancellable that only the
 * client thread cancels.  The caller's cancellable, the client's shutdown
 * and the request's deadline all end up there: a cancel coming from
 * another thread is forwarded to the client thread first, because libsoup
 * must not be touched from elsewhere.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepclient.h"
#include "gstwhepplainprobe.h"
#include "gstwheputils.h"
#include "gstwhepworker.h"

#include <libsoup/soup.h>

GST_DEBUG_CATEGORY_STATIC (whep_client_debug);
#define GST_CAT_DEFAULT whep_client_debug

/* Bodies are read in pieces of this size, so that a limit is noticed
 * within one piece of being passed. */
#define READ_CHUNK_BYTES (16 * 1024)
/* A TLS handshake with no answer for this long: is the port plain HTTP?
 * (A plain server waiting for a request line never answers the hello.) */
#define TLS_STALL_MS 2000

struct _GstWhepClient
{
  GObject parent;

  /* Immutable after gst_whep_client_new(). */
  GstWhepClientConfig config;
  GTlsDatabase *tls_database;
  GstWhepWorker *worker;        /* the client thread ("whep-http") */
  GMainContext *context;        /* the worker's */

  /* Client thread only. */
  SoupSession *session;
  GList *requests;              /* WhepRequest under way (close_begin()
                                 * bounds the DELETEs among them) */

  /* Protected by lock.  Lock order: nothing else is taken while holding
   * it; it is never held while calling into libsoup or a callback. */
  GMutex lock;
  gboolean closing;             /* close_begin(): DELETEs only, each ending
                                 * by close_deadline_us */
  gint64 close_deadline_us;     /* monotonic: the DELETEs' */
  gint64 close_post_deadline_us;        /* the POSTs': half the budget,
                                         * so that the DELETE of the
                                         * session its answer names fits */
  gboolean closed;              /* no request at all */
  gboolean finished;            /* the worker stopped: requests complete
                                 * on the caller's context */
  GCancellable *close_cancellable;      /* cancelled by close_begin(): every
                                         * request but a DELETE */
  GCancellable *shutdown_cancellable;   /* cancelled by shutdown() */
  guint in_flight;              /* requests submitted, not yet completed */
  GCond idle_cond;              /* signalled when in_flight drops to 0 */

};

G_DEFINE_TYPE (GstWhepClient, gst_whep_client, G_TYPE_OBJECT);

/* One request on its way.  Created by the caller's thread, owned by the
 * client thread from the moment it is invoked there. */
typedef struct
{
  GstWhepClient *client;        /* strong ref */
  gchar *method;
  GstObject *owner;             /* what the request is for (a session),
                                 * ref held, nullable: the object of every
                                 * log line, so that two sessions' traffic
                                 * can be told apart */
  gchar *url;                   /* the URL of the current hop */
  gchar *log_url;               /* the same, redacted: the only form logged
                                 * or put in errors (tokens in queries) */
  gchar *content_type;          /* of the request body, or NULL */
  GBytes *body;                 /* request body, or NULL */
  gchar *if_match;
  guint timeout_ms;

  GCancellable *caller_cancellable;     /* nullable */
  gulong caller_cancel_id;
  gulong shutdown_cancel_id;
  gulong close_cancel_id;
  GCancellable *op_cancellable; /* cancelled on the client thread only */
  GSource *deadline;
  gint64 t_start_us;            /* monotonic, on the client thread */
  gint64 deadline_us;           /* when the deadline fires */
  gboolean timed_out;
  gboolean cut_by_close;        /* the deadline is close_begin()'s */
  guint informational;          /* 1xx answers read so far */

  GAsyncReadyCallback callback;
  gpointer user_data;
  GTask *task;
  SoupMessage *message;
  GstWhepResponse *response;    /* being filled in */
  GPtrArray *visited;           /* URLs requested so far (loops) */
  GInputStream *stream;         /* the body being read, or NULL */
  GByteArray *body_read;        /* what came of it */
  gboolean connected;           /* a connection was made: the server was
                                 * reached, whatever failed after */

  /* https:// only — is the port plain HTTP?  (gstwhepplainprobe.h) */
  GSource *tls_stall;           /* armed while a TLS handshake runs */
  gboolean probed;              /* a probe was started (once a request) */
  struct _ProbeLink *probe_link;        /* the probe under way, or NULL */
  GCancellable *probe_cancellable;
  GError *tls_error;            /* a TLS failure waiting for the probe */
  gboolean plain_http;          /* the probe said so: op cancelled */
} WhepRequest;

/* Between a request and its probe: the probe's callback may come after
 * the request is gone (then req is NULL). */
typedef struct _ProbeLink
{
  WhepRequest *req;
} ProbeLink;

static void send_current_hop (WhepRequest * req);
static void arm_deadline (WhepRequest * req, gint64 deadline_us);

G_DEFINE_QUARK (gst - whep - client - error - quark, gst_whep_client_error);

void
gst_whep_client_config_clear (GstWhepClientConfig * config)
{
  g_clear_pointer (&config->auth_token, g_free);
  g_clear_pointer (&config->extra_headers, gst_structure_free);
  g_clear_pointer (&config->ca_file, g_free);
  g_clear_pointer (&config->user_agent, g_free);
  g_clear_pointer (&config->origin, g_free);
}

static void
config_copy (GstWhepClientConfig * dest, const GstWhepClientConfig * src)
{
  dest->auth_token = g_strdup (src->auth_token);
  dest->timeout_ms = src->timeout_ms ? src->timeout_ms : 15000;
  dest->extra_headers =
      src->extra_headers ? gst_structure_copy (src->extra_headers) : NULL;
  dest->ssl_strict = src->ssl_strict;
  dest->ca_file = g_strdup (src->ca_file);
  dest->user_agent = g_strdup (src->user_agent ? src->user_agent :
      "whepsrc/" VERSION " GStreamer");
  dest->origin = g_strdup (src->origin);
  dest->allow_cross_origin_auth = src->allow_cross_origin_auth;
}

/* --- the client thread --- */

/* Worker setup: libsoup 3 binds a session to the thread that creates it,
 * and the session is dropped on that thread too (teardown). */
static gpointer
make_soup_session (gpointer data)
{
  GstWhepClient *client = data;
  SoupSession *session;

  session = soup_session_new_with_options ("user-agent",
      client->config.user_agent, "timeout", 0, "idle-timeout", 30,
      "max-conns-per-host", 8, NULL);
  if (client->tls_database)
    soup_session_set_tls_database (session, client->tls_database);
  /* libsoup 3 decodes gzip/deflate/br by default, without a bound: a
   * 10 kB "gzip bomb" would inflate to gigabytes before any limit of ours
   * saw a byte.  Without the decoder no Accept-Encoding is sent either, and
   * a server that compresses anyway gets a precise error. */
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);
  client->session = session;    /* borrowed: the worker owns it */
  return session;
}

/* Worker teardown.  The client may be finalized by then (its last
 * reference can be dropped by a completion on this very thread): only the
 * session's own reference is used. */
static void
drop_soup_session (gpointer state)
{
  /* Whatever is left (a request libsoup still reads) ends here, and with
   * it every connection: none outlives the client. */
  soup_session_abort (state);
  g_object_unref (state);
}

GstWhepClient *
gst_whep_client_new (const GstWhepClientConfig * config, GError ** error)
{
  GstWhepClient *client = g_object_new (GST_TYPE_WHEP_CLIENT, NULL);

  config_copy (&client->config, config);

  if (client->config.ca_file) {
    client->tls_database =
        g_tls_file_database_new (client->config.ca_file, error);
    if (!client->tls_database) {
      g_prefix_error (error, "Could not load CA file '%s': ",
          client->config.ca_file);
      g_object_unref (client);
      return NULL;
    }
  }

  client->worker = gst_whep_worker_new ("whep-http", make_soup_session,
      drop_soup_session, client);
  client->context = g_main_context_ref (gst_whep_worker_get_context
      (client->worker));
  return client;
}

gboolean
gst_whep_client_wait_idle (GstWhepClient * client, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean idle;

  g_return_val_if_fail (!gst_whep_client_is_client_thread (client), FALSE);

  g_mutex_lock (&client->lock);
  while (client->in_flight > 0)
    if (!g_cond_wait_until (&client->idle_cond, &client->lock, end))
      break;
  idle = client->in_flight == 0;
  g_mutex_unlock (&client->lock);
  return idle;
}

gboolean
gst_whep_client_is_client_thread (GstWhepClient * client)
{
  return client->worker && gst_whep_worker_is_current (client->worker);
}

void
gst_whep_client_shutdown (GstWhepClient * client)
{
  gboolean was_closed;

  g_return_if_fail (!gst_whep_client_is_client_thread (client));

  g_mutex_lock (&client->lock);
  was_closed = client->closed;
  client->closed = TRUE;
  g_mutex_unlock (&client->lock);

  if (!was_closed)
    g_cancellable_cancel (client->shutdown_cancellable);
}

/* On the client thread: the DELETEs and POSTs under way end by the
 * close's deadline (everything else was cancelled through
 * close_cancellable). */
static gboolean
close_begin_cb (gpointer data)
{
  GstWhepClient *client = data;
  gint64 deadline_us, post_deadline_us;
  GList *l, *next;

  g_mutex_lock (&client->lock);
  deadline_us = client->close_deadline_us;
  post_deadline_us = client->close_post_deadline_us;
  g_mutex_unlock (&client->lock);
  for (l = client->requests; l; l = next) {
    WhepRequest *req = l->data;
    gboolean is_post = g_str_equal (req->method, "POST");
    gint64 end = is_post ? post_deadline_us : deadline_us;

    next = l->next;
    if (is_post && req->stream && !req->timed_out) {
      /* The head came: its Location is all the caller needs to DELETE
       * the session, the body is of no use any more. */
      g_cancellable_cancel (req->op_cancellable);
    } else if (req->deadline && req->deadline_us > end) {
      req->cut_by_close = TRUE;
      arm_deadline (req, end);
    }
  }
  return G_SOURCE_REMOVE;
}

void
gst_whep_client_close_begin (GstWhepClient * client, guint budget_ms)
{
  g_return_if_fail (GST_IS_WHEP_CLIENT (client));

  g_mutex_lock (&client->lock);
  if (client->closing || client->closed) {
    g_mutex_unlock (&client->lock);
    return;
  }
  client->closing = TRUE;
  client->close_deadline_us = g_get_monotonic_time () +
      budget_ms * G_TIME_SPAN_MILLISECOND;
  client->close_post_deadline_us = g_get_monotonic_time () +
      budget_ms / 2 * G_TIME_SPAN_MILLISECOND;
  g_mutex_unlock (&client->lock);

  g_cancellable_cancel (client->close_cancellable);
  g_main_context_invoke_full (client->context, G_PRIORITY_HIGH,
      close_begin_cb, g_object_ref (client), g_object_unref);
}

/* Cancellations come back within a few iterations of the client thread:
 * this long is plenty, and bounds a thread that does not. */
#define CANCEL_SETTLE_MS 250

void
gst_whep_client_close (GstWhepClient * client)
{
  gint64 deadline_us;
  gboolean finished;

  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  g_return_if_fail (!gst_whep_client_is_client_thread (client));

  gst_whep_client_close_begin (client, 0);
  g_mutex_lock (&client->lock);
  deadline_us = client->close_deadline_us;
  finished = client->finished;
  g_mutex_unlock (&client->lock);
  if (finished)
    return;

  /* The DELETEs end by the deadline (their own timer); a little slack for
   * their completions to come back. */
  if (!gst_whep_client_wait_idle (client, MAX (deadline_us -
              g_get_monotonic_time (), 0) / 1000 + 50))
    GST_INFO_OBJECT (client, "requests still under way at the close's "
        "deadline: cancelling them");
  gst_whep_client_shutdown (client);
  if (!gst_whep_client_wait_idle (client, CANCEL_SETTLE_MS))
    GST_WARNING_OBJECT (client, "requests still under way %u ms after "
        "being cancelled", CANCEL_SETTLE_MS);

  /* The SoupSession (its connections) is dropped on the shared thread
   * before this returns; the thread itself is joined when it was the
   * last client's. */
  gst_whep_worker_stop (client->worker);
  g_mutex_lock (&client->lock);
  client->finished = TRUE;
  g_mutex_unlock (&client->lock);
}

static void
gst_whep_client_dispose (GObject * object)
{
  GstWhepClient *client = GST_WHEP_CLIENT (object);

  if (client->worker) {
    g_mutex_lock (&client->lock);
    client->closed = TRUE;
    g_mutex_unlock (&client->lock);
    g_cancellable_cancel (client->shutdown_cancellable);
    /* Drains what cancellation queued, then drops the SoupSession on its
     * thread. */
    g_clear_pointer (&client->worker, gst_whep_worker_free);
  }

  G_OBJECT_CLASS (gst_whep_client_parent_class)->dispose (object);
}

static void
gst_whep_client_finalize (GObject * object)
{
  GstWhepClient *client = GST_WHEP_CLIENT (object);

  g_clear_pointer (&client->context, g_main_context_unref);
  g_clear_object (&client->tls_database);
  g_clear_object (&client->shutdown_cancellable);
  g_clear_object (&client->close_cancellable);
  gst_whep_client_config_clear (&client->config);
  g_mutex_clear (&client->lock);
  g_cond_clear (&client->idle_cond);

  G_OBJECT_CLASS (gst_whep_client_parent_class)->finalize (object);
}

static void
gst_whep_client_init (GstWhepClient * client)
{
  g_mutex_init (&client->lock);
  g_cond_init (&client->idle_cond);
  client->shutdown_cancellable = g_cancellable_new ();
  client->close_cancellable = g_cancellable_new ();
}

static void
gst_whep_client_class_init (GstWhepClientClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->dispose = gst_whep_client_dispose;
  gobject_class->finalize = gst_whep_client_finalize;

  GST_DEBUG_CATEGORY_INIT (whep_client_debug, "whepclient", 0,
      "WHEP HTTP client");
}

/* --- requests --- */

static void
stop_tls_stall_timer (WhepRequest * req)
{
  if (req->tls_stall) {
    g_source_destroy (req->tls_stall);
    g_clear_pointer (&req->tls_stall, g_source_unref);
  }
}

static void
whep_request_free (WhepRequest * req)
{
  if (req->caller_cancellable && req->caller_cancel_id)
    g_cancellable_disconnect (req->caller_cancellable, req->caller_cancel_id);
  if (req->shutdown_cancel_id)
    g_cancellable_disconnect (req->client->shutdown_cancellable,
        req->shutdown_cancel_id);
  if (req->close_cancel_id)
    g_cancellable_disconnect (req->client->close_cancellable,
        req->close_cancel_id);
  if (req->deadline) {
    g_source_destroy (req->deadline);
    g_source_unref (req->deadline);
  }
  stop_tls_stall_timer (req);
  if (req->probe_link) {
    req->probe_link->req = NULL;
    g_cancellable_cancel (req->probe_cancellable);
  }
  g_clear_object (&req->probe_cancellable);
  g_clear_error (&req->tls_error);
  if (req->message)
    g_signal_handlers_disconnect_by_data (req->message, req);
  g_clear_object (&req->caller_cancellable);
  g_clear_object (&req->op_cancellable);
  /* A body left unread (a limit, an error) is closed now: the server's
   * connection is dropped, not left to fill our socket buffers. */
  if (req->stream)
    g_input_stream_close_async (req->stream, G_PRIORITY_DEFAULT, NULL, NULL,
        NULL);
  g_clear_object (&req->stream);
  g_clear_pointer (&req->body_read, g_byte_array_unref);
  g_clear_pointer (&req->visited, g_ptr_array_unref);
  g_clear_object (&req->message);
  g_clear_object (&req->task);
  g_clear_pointer (&req->response, gst_whep_response_free);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req->method);
  g_free (req->url);
  g_free (req->log_url);
  gst_clear_object (&req->owner);
  g_free (req->content_type);
  g_free (req->if_match);
  g_object_unref (req->client);
  g_free (req);
}

static gboolean
cancel_op_on_client_thread_cb (gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
  return G_SOURCE_REMOVE;
}

/* Cancels @op on the client thread: libsoup must not be touched from the
 * thread that cancelled. */
static void
cancel_on_client_thread (GstWhepClient * client, GCancellable * op)
{
  g_main_context_invoke_full (client->context, G_PRIORITY_HIGH,
      cancel_op_on_client_thread_cb, g_object_ref (op), g_object_unref);
}

/* Runs on whichever thread cancelled. */
static void
forward_cancel_cb (GCancellable * cancellable, gpointer data)
{
  WhepRequest *req = data;

  cancel_on_client_thread (req->client, req->op_cancellable);
}

static gboolean
deadline_cb (gpointer data)
{
  WhepRequest *req = data;

  GST_INFO_OBJECT (req->owner, "%s %s: no answer within %u ms%s",
      req->method, req->log_url, req->timeout_ms, req->cut_by_close ?
      " (the client is closing)" : "");
  req->timed_out = TRUE;
  g_cancellable_cancel (req->op_cancellable);
  g_clear_pointer (&req->deadline, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* (Re)arms the request's deadline at @deadline_us (monotonic). */
static void
arm_deadline (WhepRequest * req, gint64 deadline_us)
{
  gint64 left_ms = MAX (deadline_us - g_get_monotonic_time (), 0) / 1000;

  if (req->deadline) {
    g_source_destroy (req->deadline);
    g_source_unref (req->deadline);
  }
  req->deadline_us = deadline_us;
  req->timeout_ms = (deadline_us - req->t_start_us) / 1000;
  req->deadline = g_timeout_source_new (left_ms);
  g_source_set_callback (req->deadline, deadline_cb, req, NULL);
  g_source_attach (req->deadline, req->client->context);
}

/* A POST under way when the client begins to close may have made a
 * session on the server: its answer is waited for within the close's
 * budget (and the session DELETEd by its caller), like a DELETE.  Every
 * other request is cancelled at once. */
static gboolean
survives_close (WhepRequest * req)
{
  return g_str_equal (req->method, "DELETE") || g_str_equal (req->method,
      "POST");
}

/* Has the request been given up from outside (its caller, the client's
 * close or shutdown)?  Asked while libsoup does not return to the main
 * loop: a cancel from another thread waits there for the client thread. */
static gboolean
request_given_up (WhepRequest * req)
{
  GstWhepClient *client = req->client;
  gboolean given_up;

  if (req->caller_cancellable
      && g_cancellable_is_cancelled (req->caller_cancellable))
    return TRUE;
  g_mutex_lock (&client->lock);
  given_up = client->closed || (client->closing && !survives_close (req));
  g_mutex_unlock (&client->lock);
  return given_up;
}

/* A 1xx answer.  libsoup reads the next head at once, in the same
 * dispatch of the client thread, as long as bytes come: a server that
 * floods "100 Continue" keeps that thread inside libsoup, and neither the
 * deadline's timer nor a forwarded cancel ever runs.  So the deadline and
 * the outside cancels are checked here, and the request is cancelled from
 * within (libsoup's read loop stops at the cancellable). */
static void
on_informational (SoupMessage * msg, gpointer data)
{
  WhepRequest *req = data;

  if (req->informational++ == 0)
    GST_DEBUG_OBJECT (req->owner, "%s %s: a %u informational answer",
        req->method, req->log_url, soup_message_get_status (msg));
  if (g_cancellable_is_cancelled (req->op_cancellable))
    return;
  if (g_get_monotonic_time () >= req->deadline_us) {
    GST_INFO_OBJECT (req->owner, "%s %s: no final answer within %u ms, "
        "after %u informational (1xx) answers", req->method, req->log_url,
        req->timeout_ms, req->informational);
    req->timed_out = TRUE;
    g_cancellable_cancel (req->op_cancellable);
  } else if (request_given_up (req)) {
    g_cancellable_cancel (req->op_cancellable);
  }
}

/* Ends the request: the GTask takes the response or the error. */
static void
complete_request (WhepRequest * req, GError * error)
{
  GTask *task = g_steal_pointer (&req->task);
  GstWhepClient *client = g_object_ref (req->client);

  client->requests = g_list_remove (client->requests, req);

  /* The owner was held for the request's log lines only: the callback
   * decides on its own whether the owner still matters (a session
   * reaches itself through a weak reference). */
  gst_clear_object (&req->owner);
  if (error) {
    /* What was known when it failed: finish_full() hands it back (a 201
     * whose body broke off still made a session to DELETE). */
    GstWhepResponse *partial = g_steal_pointer (&req->response);

    if (partial) {
      g_clear_pointer (&partial->body, g_free);
      partial->body_size = 0;
      partial->reached = req->connected;
      g_clear_error (&partial->error);
      partial->error = g_error_copy (error);
      g_task_set_task_data (task, partial,
          (GDestroyNotify) gst_whep_response_free);
    }
    g_task_return_error (task, error);
  } else
    g_task_return_pointer (task, g_steal_pointer (&req->response),
        (GDestroyNotify) gst_whep_response_free);
  g_object_unref (task);
  whep_request_free (req);

  g_mutex_lock (&client->lock);
  if (--client->in_flight == 0)
    g_cond_broadcast (&client->idle_cond);
  g_mutex_unlock (&client->lock);
  g_object_unref (client);
}

/* The origin rule (see GstWhepClientConfig): may a request to @url, first
 * sent to @first_url, carry the credentials? */
static gboolean
credentials_allowed (GstWhepClient * client, const gchar * first_url,
    const gchar * url)
{
  const GstWhepClientConfig *config = &client->config;

  if (config->allow_cross_origin_auth)
    return TRUE;
  return gst_whep_same_origin (config->origin ? config->origin : first_url,
      url);
}

/* @first_url: where the request was first sent (its origin is the one
 * trusted when the config names none); @log_url: @url redacted. */
static void
add_request_headers (GstWhepClient * client, GstObject * owner,
    const gchar * method, const gchar * first_url, const gchar * url,
    const gchar * log_url, const gchar * if_match, SoupMessageHeaders * headers)
{
  const GstWhepClientConfig *config = &client->config;
  gboolean has_token = config->auth_token && *config->auth_token;
  gboolean credentials = credentials_allowed (client, first_url, url);

  if (!credentials && (has_token || config->extra_headers)) {
    g_autofree gchar *origin = config->origin ?
        gst_whep_redact_url (config->origin) : NULL;

    /* A token is for its origin: a load balancer's redirect or a session
     * URL elsewhere is not trusted with it (browsers and curl agree). */
    GST_WARNING_OBJECT (owner, "%s %s: another origin than %s: sent "
        "without Authorization and extra-headers (allow-cross-origin-auth "
        "is off)", method, log_url, origin ? origin : "the first request's");
  }

  if (credentials && config->extra_headers) {
    gint i, n = gst_structure_n_fields (config->extra_headers);

    for (i = 0; i < n; i++) {
      const gchar *name = gst_structure_nth_field_name (config->extra_headers,
          i);
      const GValue *value =
          gst_structure_get_value (config->extra_headers, name);
      g_autofree gchar *text = NULL;

      if (G_VALUE_HOLDS_STRING (value))
        text = g_value_dup_string (value);
      else
        text = gst_value_serialize (value);
      if (text)
        soup_message_headers_replace (headers, name, text);
    }
  }

  /* WHEP: Authorization on every request to endpoint and session, and
   * never when no token is configured. */
  if (credentials && has_token) {
    g_autofree gchar *auth = g_strdup_printf ("Bearer %s", config->auth_token);
    soup_message_headers_replace (headers, "Authorization", auth);
  }
  if (if_match)
    soup_message_headers_replace (headers, "If-Match", if_match);
  /* Dolby refuses requests whose Accept excludes text/plain errors. */
  soup_message_headers_replace (headers, "Accept",
      g_str_equal (method, "POST") ?
      "application/sdp, application/problem+json, text/plain;q=0.5" :
      "application/trickle-ice-sdpfrag, application/problem+json, "
      "text/plain;q=0.5, */*;q=0.1");
  /* Bodies are never decompressed (see make_soup_session()). */
  soup_message_headers_replace (headers, "Accept-Encoding", "identity");
}

/* @data: the owner of the request (nullable), alive as long as it. */
static gboolean
accept_any_certificate_cb (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer data)
{
  GST_WARNING_OBJECT (data, "accepting a TLS certificate with errors 0x%x "
      "(ssl-strict is off)", errors);
  return TRUE;
}

/* Fills req->response from the head of the current hop's answer: all but
 * the body. */
static void
fill_response_head (WhepRequest * req)
{
  GstWhepResponse *resp = req->response;
  SoupMessageHeaders *headers =
      soup_message_get_response_headers (req->message);
  const gchar *value;

  resp->status = soup_message_get_status (req->message);
  /* Server text, shown in error messages: sanitised once, here. */
  g_free (resp->reason);
  resp->reason = gst_whep_sanitize_text (soup_message_get_reason_phrase
      (req->message), -1, 100);
  g_free (resp->final_url);
  resp->final_url = g_strdup (req->url);
  g_free (resp->content_type);
  resp->content_type = gst_whep_sanitize_text (soup_message_headers_get_one
      (headers, "Content-Type"), -1, 200);

  g_clear_pointer (&resp->location, g_free);
  value = soup_message_headers_get_one (headers, "Location");
  if (value && *value) {
    g_autoptr (GError) err = NULL;
    resp->location = gst_whep_resolve_location (req->url, value, &err);
    if (!resp->location) {
      g_autofree gchar *shown = gst_whep_redact_url (value);
      GST_WARNING_OBJECT (req->owner, "ignoring unusable Location '%s'", shown);
    }
  }
  g_free (resp->etag);
  resp->etag = g_strdup (soup_message_headers_get_one (headers, "ETag"));
  g_free (resp->accept_patch);
  resp->accept_patch =
      g_strdup (soup_message_headers_get_list (headers, "Accept-Patch"));

  resp->retry_after_s = -1;
  value = soup_message_headers_get_one (headers, "Retry-After");
  if (value) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    guint seconds;
    if (gst_whep_parse_retry_after (value, now, &seconds)) {
      /* "Retry-After: 999999999" must not mean "never": ask again after
       * the cap. */
      if (seconds > GST_WHEP_RETRY_AFTER_MAX_S)
        GST_INFO_OBJECT (req->owner, "%s %s: Retry-After %u s, capped at "
            "%u s", req->method, req->log_url, seconds,
            GST_WHEP_RETRY_AFTER_MAX_S);
      resp->retry_after_s = (gint) MIN (seconds, GST_WHEP_RETRY_AFTER_MAX_S);
    }
  }

  g_clear_pointer (&resp->links, g_ptr_array_unref);
  g_clear_pointer (&resp->ice_servers, g_ptr_array_unref);
  resp->links = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_whep_link_free);
  resp->ice_servers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_whep_ice_server_free);
  /* get_list joins repeated headers with ", ", which the Link parser
   * splits again. */
  value = soup_message_headers_get_list (headers, "Link");
  if (value && gst_whep_parse_link_header (value, resp->links))
    gst_whep_ice_servers_from_links (resp->links, resp->ice_servers);
}

/* The body of the current hop's answer has come whole. */
static void
fill_response_body (WhepRequest * req)
{
  GstWhepResponse *resp = req->response;
  gsize len = req->body_read ? req->body_read->len : 0;

  resp->body_size = len;
  if (len > 0) {
    /* NUL-terminated for the parsers; body_size tells a NUL inside. */
    resp->body = g_malloc (len + 1);
    memcpy (resp->body, req->body_read->data, len);
    resp->body[len] = '\0';
  }
  if (resp->status >= 300 && len > 0) {
    g_autoptr (GBytes) bytes = g_bytes_new (req->body_read->data, len);

    resp->error_summary = gst_whep_error_body_summary (resp->content_type,
        bytes);
  }

  {
    g_autofree gchar *location = gst_whep_redact_url (resp->location);
    g_autofree gchar *etag = gst_whep_sanitize_text (resp->etag, -1, 80);

    GST_DEBUG_OBJECT (req->owner, "%s %s → %u %s (%" G_GSIZE_FORMAT
        " bytes, Location %s, ETag %s, %u links)", req->method, req->log_url,
        resp->status, GST_STR_NULL (resp->reason), resp->body_size,
        GST_STR_NULL (location), GST_STR_NULL (etag), resp->links->len);
  }
}

static gboolean
is_redirect (guint status)
{
  return status == 301 || status == 302 || status == 303 || status == 307
      || status == 308;
}

static gboolean
is_followable (const gchar * url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  const gchar *scheme = uri ? g_uri_get_scheme (uri) : NULL;
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;

  return host && *host && (g_strcmp0 (scheme, "http") == 0
      || g_strcmp0 (scheme, "https") == 0);
}

static gboolean
was_visited (WhepRequest * req, const gchar * url)
{
  guint i;

  for (i = 0; i < req->visited->len; i++)
    if (g_str_equal (g_ptr_array_index (req->visited, i), url))
      return TRUE;
  return FALSE;
}

/* Follows a redirect by hand: libsoup's own handling turns POST into GET
 * on 301/302/303 and has its own idea of credentials; WHEP wants the same
 * request at the new place, with the credentials only where the origin
 * rule allows (add_request_headers()).  Returns TRUE when a new hop was
 * started; otherwise the 3xx is reported as it is, with
 * response->redirect_error saying why. */
static gboolean
follow_redirect (WhepRequest * req)
{
  SoupMessageHeaders *headers =
      soup_message_get_response_headers (req->message);
  const gchar *location = soup_message_headers_get_one (headers, "Location");
  guint status = soup_message_get_status (req->message);
  GstWhepResponse *resp = req->response;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *target = NULL;
  g_autofree gchar *shown = NULL;

  if (!location || !*location) {
    resp->redirect_error = g_strdup_printf ("a %u redirect without a "
        "Location", status);
    return FALSE;
  }
  target = gst_whep_resolve_location (req->url, location, &err);
  shown = gst_whep_redact_url (target ? target : location);
  if (!target || !is_followable (target)) {
    g_autofree gchar *scheme = g_uri_parse_scheme (location);

    resp->redirect_error = scheme && g_ascii_strcasecmp (scheme, "http")
        && g_ascii_strcasecmp (scheme, "https") ?
        g_strdup_printf ("a redirect to '%s', a %s: URL (only http and "
        "https are followed)", shown, scheme) :
        g_strdup_printf ("a redirect to '%s', which is no usable http(s) "
        "URL", shown);
  } else if (status == 303 && !g_str_equal (req->method, "GET")
      && !g_str_equal (req->method, "HEAD")) {
    /* 303 means "GET the result there": a new POST would make a second
     * session, and a GET is no WHEP request. */
    resp->redirect_error = g_strdup_printf ("303 See Other to '%s' answered "
        "a %s: it means \"GET the result there\", which is no WHEP request "
        "(WHEP redirects with 307 or 308)", shown, req->method);
  } else if (was_visited (req, target)) {
    resp->redirect_error = g_strdup_printf ("a redirect loop: '%s' was "
        "requested before", shown);
  } else if (resp->redirects >= GST_WHEP_CLIENT_MAX_REDIRECTS) {
    resp->redirect_error = g_strdup_printf ("more than %u redirects (the "
        "last to '%s')", GST_WHEP_CLIENT_MAX_REDIRECTS, shown);
  }
  if (resp->redirect_error) {
    GST_WARNING_OBJECT (req->owner, "%s %s: not following: %s", req->method,
        req->log_url, resp->redirect_error);
    return FALSE;
  }

  if (status != 307 && status != 308)
    GST_WARNING_OBJECT (req->owner, "%s %s answered %u, which WHEP forbids "
        "(RFC: use 307); following it with the same method", req->method,
        req->log_url, status);

  g_free (req->url);
  req->url = g_steal_pointer (&target);
  g_ptr_array_add (req->visited, g_strdup (req->url));
  {
    g_autofree gchar *from = g_steal_pointer (&req->log_url);

    req->log_url = gst_whep_redact_url (req->url);
    GST_INFO_OBJECT (req->owner, "%s %s redirected (%u) to %s", req->method,
        from, status, req->log_url);
  }
  resp->redirects++;
  g_signal_handlers_disconnect_by_data (req->message, req);
  g_clear_object (&req->message);
  send_current_hop (req);
  return TRUE;
}

/* --- https:// to a plain HTTP port --- */

static GError *
plain_http_error (WhepRequest * req)
{
  return g_error_new (G_TLS_ERROR, G_TLS_ERROR_NOT_TLS, "%s %s: the server "
      "answers plain HTTP on this port, not HTTPS (use http:// instead of "
      "https://)", req->method, req->log_url);
}

static void
plain_probe_done_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  ProbeLink *link = data;
  WhepRequest *req = link->req;
  gboolean plain = gst_whep_plain_probe_finish (result);

  g_free (link);
  if (!req)
    return;                     /* the request ended meanwhile */
  req->probe_link = NULL;
  GST_INFO_OBJECT (req->owner, "%s %s: the port %s plain HTTP", req->method,
      req->log_url, plain ? "answers" : "does not answer");
  if (req->tls_error) {
    /* The TLS failure waited for this. */
    GError *report = plain ? plain_http_error (req) :
        g_steal_pointer (&req->tls_error);

    GST_INFO_OBJECT (req->owner, "%s", report->message);
    complete_request (req, report);
  } else if (plain) {
    /* The handshake still hangs: end it (hop_sent_cb reports). */
    req->plain_http = TRUE;
    g_cancellable_cancel (req->op_cancellable);
  }
}

static void
start_plain_probe (WhepRequest * req)
{
  g_autoptr (GUri) uri = g_uri_parse (req->url, SOUP_HTTP_URI_FLAGS, NULL);
  ProbeLink *link;

  if (req->probed || !uri)
    return;
  req->probed = TRUE;
  link = g_new0 (ProbeLink, 1);
  link->req = req;
  req->probe_link = link;
  req->probe_cancellable = g_cancellable_new ();
  gst_whep_plain_probe_async (g_uri_get_host (uri),
      g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443,
      req->probe_cancellable, plain_probe_done_cb, link);
}

static gboolean
tls_stall_cb (gpointer data)
{
  WhepRequest *req = data;

  GST_INFO_OBJECT (req->owner, "%s %s: no TLS handshake within %u ms: "
      "probing for plain HTTP", req->method, req->log_url, TLS_STALL_MS);
  g_clear_pointer (&req->tls_stall, g_source_unref);
  start_plain_probe (req);
  return G_SOURCE_REMOVE;
}

static void
on_network_event (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer data)
{
  WhepRequest *req = data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && !req->tls_stall
      && !req->probed) {
    req->tls_stall = g_timeout_source_new (TLS_STALL_MS);
    g_source_set_callback (req->tls_stall, tls_stall_cb, req, NULL);
    g_source_attach (req->tls_stall, req->client->context);
  } else if (event == G_SOCKET_CLIENT_TLS_HANDSHAKED) {
    stop_tls_stall_timer (req);
  } else if (event == G_SOCKET_CLIENT_CONNECTED) {
    req->connected = TRUE;
  }
}

static void
mark_connected (WhepRequest * req)
{
  req->connected = TRUE;
}

/* --- the answer --- */

/* A failure of the current hop: what kind of error it is depends on how
 * far the exchange came (not reached, reached without an answer, the
 * answer's body). */
static GError *
hop_error (WhepRequest * req, const GError * err)
{
  guint status = req->message ? soup_message_get_status (req->message) : 0;
  gsize got = req->body_read ? req->body_read->len : 0;

  if (req->plain_http)
    return plain_http_error (req);
  if (req->timed_out && req->stream)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s %s: the body "
        "of the %u answer was not complete within %u ms (%" G_GSIZE_FORMAT
        " bytes came)", req->method, req->log_url, status, req->timeout_ms,
        got);
  if (req->timed_out && req->informational > 0)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "%s %s: no final answer within %u ms, only %u informational (1xx) "
        "answers", req->method, req->log_url, req->timeout_ms,
        req->informational);
  if (req->timed_out)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "%s %s: no answer within %u ms%s", req->method, req->log_url,
        req->timeout_ms, req->cut_by_close ? " (the WHEP client was "
        "closing)" : "");
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "%s %s was cancelled", req->method, req->log_url);
  if (req->stream)
    return g_error_new (GST_WHEP_CLIENT_ERROR,
        GST_WHEP_CLIENT_ERROR_BODY_INCOMPLETE, "%s %s: the body of the %u "
        "answer broke off after %" G_GSIZE_FORMAT " bytes: %s", req->method,
        req->log_url, status, got, err->message);
  /* Connected, and no answer's head came: the server was reached (a bad
   * status line, headers too large, a reset after the request).  Not TLS
   * errors: they come before any HTTP. */
  if (req->connected && err->domain != G_TLS_ERROR)
    return g_error_new (GST_WHEP_CLIENT_ERROR,
        GST_WHEP_CLIENT_ERROR_BAD_ANSWER, "%s %s: connected, but no usable "
        "HTTP answer came: %s", req->method, req->log_url, err->message);
  return g_error_new (err->domain, err->code, "%s %s failed: %s",
      req->method, req->log_url, err->message);
}

/* Ends the request with the error of the current hop. */
static void
fail_hop (WhepRequest * req, const GError * err)
{
  GError *report = hop_error (req, err);

  GST_INFO_OBJECT (req->owner, "%s", report->message);
  /* A TLS failure on https: a plain HTTP port says why better. */
  if (err->domain == G_TLS_ERROR && g_str_has_prefix (req->url, "https:")
      && !req->plain_http && !req->stream) {
    start_plain_probe (req);
    if (req->probe_link) {
      req->tls_error = report;
      return;
    }
  }
  complete_request (req, report);
}

/* Ends the request with an error of ours about the answer's body. */
static void
fail_body (WhepRequest * req, GstWhepClientError code, const gchar * format,
    ...)
G_GNUC_PRINTF (3, 4);

     static void
         fail_body (WhepRequest * req, GstWhepClientError code,
    const gchar * format, ...)
{
  g_autofree gchar *what = NULL;
  GError *report;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  report = g_error_new (GST_WHEP_CLIENT_ERROR, code, "%s %s: %s",
      req->method, req->log_url, what);
  GST_INFO_OBJECT (req->owner, "%s", report->message);
  complete_request (req, report);
}

static void read_body (WhepRequest * req);

static void
body_read_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  WhepRequest *req = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish
      (G_INPUT_STREAM (source), result, &err);
  gsize size;

  if (!bytes) {
    fail_hop (req, err);
    return;
  }
  size = g_bytes_get_size (bytes);
  if (size == 0) {
    fill_response_body (req);
    complete_request (req, NULL);
    return;
  }
  /* Chunked or endless bodies are stopped here, at the limit. */
  if (req->body_read->len + size > GST_WHEP_CLIENT_MAX_BODY_BYTES) {
    fail_body (req, GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE, "the body of the "
        "%u answer is larger than the %u KiB limit (a WHEP body is a few "
        "kilobytes)", req->response->status,
        GST_WHEP_CLIENT_MAX_BODY_BYTES / 1024);
    return;
  }
  g_byte_array_append (req->body_read, g_bytes_get_data (bytes, NULL), size);
  read_body (req);
}

static void
read_body (WhepRequest * req)
{
  g_input_stream_read_bytes_async (req->stream, READ_CHUNK_BYTES,
      G_PRIORITY_DEFAULT, req->op_cancellable, body_read_cb, req);
}

/* The answer's head has come: follow a redirect, or read the body within
 * the limits. */
static void
hop_sent_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  WhepRequest *req = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GInputStream) stream = NULL;
  SoupMessageHeaders *headers;
  const gchar *encoding;
  guint status;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &err);
  stop_tls_stall_timer (req);
  if (!stream) {
    fail_hop (req, err);
    return;
  }

  req->connected = TRUE;
  status = soup_message_get_status (req->message);
  if (is_redirect (status)) {
    /* A 3xx's body is of no use: closing drops the connection rather
     * than reading whatever the server sends. */
    g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    if (follow_redirect (req))
      return;
    fill_response_head (req);
    fill_response_body (req);
    complete_request (req, NULL);
    return;
  }

  fill_response_head (req);
  headers = soup_message_get_response_headers (req->message);
  encoding = soup_message_headers_get_one (headers, "Content-Encoding");
  if (encoding && g_ascii_strcasecmp (encoding, "identity") != 0) {
    g_autofree gchar *shown = gst_whep_sanitize_text (encoding, -1, 40);

    g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    fail_body (req, GST_WHEP_CLIENT_ERROR_CONTENT_ENCODING, "the %u answer's "
        "body is compressed (Content-Encoding %s), which was not asked for "
        "and is not decompressed", status, shown);
    return;
  }
  /* Announced too large: not a byte of it is read. */
  if (soup_message_headers_get_encoding (headers) ==
      SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) >
      GST_WHEP_CLIENT_MAX_BODY_BYTES) {
    g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    fail_body (req, GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE, "the body of the "
        "%u answer (Content-Length %" G_GINT64_FORMAT ") is larger than the "
        "%u KiB limit (a WHEP body is a few kilobytes)", status,
        soup_message_headers_get_content_length (headers),
        GST_WHEP_CLIENT_MAX_BODY_BYTES / 1024);
    return;
  }

  req->stream = g_steal_pointer (&stream);
  req->body_read = g_byte_array_new ();
  read_body (req);
}

static void
send_current_hop (WhepRequest * req)
{
  SoupSession *session = req->client->session;
  g_autoptr (GError) err = NULL;
  g_autoptr (GUri) uri = g_uri_parse (req->url, SOUP_HTTP_URI_FLAGS, &err);
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;

  if (!uri || !host || !*host ||
      (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
          g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)) {
    complete_request (req, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
            "'%s' is not a usable http(s) URL%s%s", req->log_url,
            err ? ": " : "", err ? err->message : ""));
    return;
  }

  req->message = soup_message_new_from_uri (req->method, uri);
  soup_message_add_flags (req->message, SOUP_MESSAGE_NO_REDIRECT);
  add_request_headers (req->client, req->owner, req->method,
      req->response->request_url, req->url, req->log_url, req->if_match,
      soup_message_get_request_headers (req->message));
  if (req->body)
    soup_message_set_request_body_from_bytes (req->message,
        req->content_type, req->body);
  if (!req->client->config.ssl_strict)
    g_signal_connect (req->message, "accept-certificate",
        G_CALLBACK (accept_any_certificate_cb), req->owner);
  g_signal_connect (req->message, "network-event",
      G_CALLBACK (on_network_event), req);
  /* A reused connection has no network events: the request written means
   * the server was reached all the same. */
  g_signal_connect_swapped (req->message, "wrote-headers",
      G_CALLBACK (mark_connected), req);
  g_signal_connect (req->message, "got-informational",
      G_CALLBACK (on_informational), req);

  /* Never the body (SDP: ICE password) nor the headers (Authorization). */
  GST_DEBUG_OBJECT (req->owner, "%s %s (%s, %" G_GSIZE_FORMAT " bytes)",
      req->method, req->log_url,
      GST_STR_NULL (req->content_type),
      req->body ? g_bytes_get_size (req->body) : 0);
  soup_session_send_async (session, req->message, G_PRIORITY_DEFAULT,
      req->op_cancellable, hop_sent_cb, req);
}

/* Runs on the client thread: the request starts its life there. */
static gboolean
start_request_cb (gpointer data)
{
  WhepRequest *req = data;
  GstWhepClient *client = req->client;
  gboolean closed, closing, is_delete = g_str_equal (req->method, "DELETE");
  gint64 close_deadline_us;

  req->task = g_task_new (client, req->caller_cancellable, req->callback,
      req->user_data);
  g_task_set_source_tag (req->task, start_request_cb);
  /* The caller's cancellable must not make GTask drop our result: we
   * report cancellation ourselves. */
  g_task_set_check_cancellable (req->task, FALSE);
  client->requests = g_list_prepend (client->requests, req);
  req->t_start_us = g_get_monotonic_time ();

  g_mutex_lock (&client->lock);
  closed = client->closed;
  closing = client->closing;
  close_deadline_us = client->close_deadline_us;
  g_mutex_unlock (&client->lock);
  if (closed || (closing && (!is_delete
              || close_deadline_us <= req->t_start_us))) {
    complete_request (req, g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
            "%s %s: the WHEP client is shut down", req->method, req->log_url));
    return G_SOURCE_REMOVE;
  }

  req->op_cancellable = g_cancellable_new ();
  req->shutdown_cancel_id = g_cancellable_connect
      (client->shutdown_cancellable, G_CALLBACK (forward_cancel_cb), req, NULL);
  /* Closing ends every request but the DELETEs and a POST, which end by
   * the close's deadline (close_begin_cb()). */
  if (!survives_close (req))
    req->close_cancel_id = g_cancellable_connect
        (client->close_cancellable, G_CALLBACK (forward_cancel_cb), req, NULL);
  if (req->caller_cancellable)
    req->caller_cancel_id = g_cancellable_connect (req->caller_cancellable,
        G_CALLBACK (forward_cancel_cb), req, NULL);

  arm_deadline (req, req->t_start_us + req->timeout_ms *
      G_TIME_SPAN_MILLISECOND);
  if (closing && close_deadline_us < req->deadline_us) {
    req->cut_by_close = TRUE;
    arm_deadline (req, close_deadline_us);
  }

  req->response = g_new0 (GstWhepResponse, 1);
  req->response->request_url = g_strdup (req->url);
  req->response->retry_after_s = -1;
  req->visited = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (req->visited, g_strdup (req->url));

  send_current_hop (req);
  return G_SOURCE_REMOVE;
}

static void
submit_request (GstWhepClient * client, GstObject * owner,
    const gchar * method, const gchar * url, const gchar * content_type,
    const gchar * body, const gchar * if_match, guint timeout_ms,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  WhepRequest *req = g_new0 (WhepRequest, 1);
  gboolean finished;

  req->client = g_object_ref (client);
  req->method = g_strdup (method);
  req->owner = owner ? gst_object_ref (owner) : NULL;
  req->url = g_strdup (url);
  req->log_url = gst_whep_redact_url (url);
  req->content_type = g_strdup (content_type);
  if (body)
    req->body = g_bytes_new (body, strlen (body));
  req->if_match = g_strdup (if_match);
  req->timeout_ms = timeout_ms ? timeout_ms : client->config.timeout_ms;
  req->caller_cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  req->callback = callback;
  req->user_data = user_data;

  g_mutex_lock (&client->lock);
  finished = client->finished;
  if (!finished)
    client->in_flight++;
  g_mutex_unlock (&client->lock);
  if (finished) {
    /* No thread any more: the task completes on the caller's context
     * (later, never inline). */
    GTask *task = g_task_new (client, cancellable, callback, user_data);

    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED,
        "%s %s: the WHEP client is shut down", req->method, req->log_url);
    g_object_unref (task);
    whep_request_free (req);
    return;
  }
  g_main_context_invoke (client->context, start_request_cb, req);
}

void
gst_whep_client_post_offer_async (GstWhepClient * client,
    GstObject * owner, const gchar * endpoint, const gchar * sdp_offer,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  g_return_if_fail (endpoint != NULL && sdp_offer != NULL);

  /* Exactly "application/sdp": Janus refuses any parameter. */
  submit_request (client, owner, "POST", endpoint, "application/sdp", sdp_offer,
      NULL, 0, cancellable, callback, user_data);
}

void
gst_whep_client_patch_async (GstWhepClient * client,
    GstObject * owner, const gchar * resource_url, const gchar * content_type,
    const gchar * body, const gchar * if_match, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  g_return_if_fail (resource_url != NULL && content_type != NULL);

  submit_request (client, owner, "PATCH", resource_url, content_type, body,
      if_match, 0, cancellable, callback, user_data);
}

void
gst_whep_client_delete_async (GstWhepClient * client,
    GstObject * owner, const gchar * resource_url, guint timeout_ms,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  g_return_if_fail (resource_url != NULL);

  /* WHEP: players SHOULD NOT use ETag validation for DELETE. */
  submit_request (client, owner, "DELETE", resource_url, NULL, NULL, NULL,
      timeout_ms, cancellable, callback, user_data);
}

void
gst_whep_client_send_async (GstWhepClient * client, GstObject * owner,
    const gchar * method,
    const gchar * url, const gchar * content_type, const gchar * body,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  g_return_if_fail (method != NULL && url != NULL);

  submit_request (client, owner, method, url, content_type, body, NULL, 0,
      cancellable, callback, user_data);
}

GstWhepResponse *
gst_whep_client_request_finish (GstWhepClient * client,
    GAsyncResult * result, GError ** error)
{
  return gst_whep_client_request_finish_full (client, result, NULL, error);
}

GstWhepResponse *
gst_whep_client_request_finish_full (GstWhepClient * client,
    GAsyncResult * result, GstWhepResponse ** partial, GError ** error)
{
  GError *err = NULL;
  GstWhepResponse *resp;

  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  if (partial)
    *partial = NULL;
  resp = g_task_propagate_pointer (G_TASK (result), &err);
  if (resp)
    return resp;

  if (partial) {
    /* The task keeps its data until it is finalized: hand out a copy of
     * the head (the body is never kept for a failure). */
    const GstWhepResponse *known = g_task_get_task_data (G_TASK (result));
    GstWhepResponse *copy = g_new0 (GstWhepResponse, 1);

    copy->retry_after_s = -1;
    if (known) {
      copy->status = known->status;
      copy->reason = g_strdup (known->reason);
      copy->request_url = g_strdup (known->request_url);
      copy->final_url = g_strdup (known->final_url);
      copy->redirects = known->redirects;
      copy->content_type = g_strdup (known->content_type);
      copy->location = g_strdup (known->location);
      copy->etag = g_strdup (known->etag);
      copy->accept_patch = g_strdup (known->accept_patch);
      copy->retry_after_s = known->retry_after_s;
      copy->links = known->links ? g_ptr_array_ref (known->links) : NULL;
      copy->ice_servers = known->ice_servers ?
          g_ptr_array_ref (known->ice_servers) : NULL;
      copy->reached = known->reached;
      copy->redirect_error = g_strdup (known->redirect_error);
    }
    copy->error = g_error_copy (err);
    *partial = copy;
  }
  g_propagate_error (error, err);
  return NULL;
}

/* --- blocking DELETE for teardown --- */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  guint status;
} DeleteWait;

static void
delete_wait_clear (DeleteWait * wait)
{
  g_mutex_clear (&wait->lock);
  g_cond_clear (&wait->cond);
}

static void
delete_sync_done_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  DeleteWait *wait = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);

  g_mutex_lock (&wait->lock);
  wait->status = resp ? resp->status : 0;
  wait->done = TRUE;
  g_cond_signal (&wait->cond);
  g_mutex_unlock (&wait->lock);
  /* wait is released by whoever runs last: see below. */
  g_atomic_rc_box_release_full (wait, (GDestroyNotify) delete_wait_clear);
}

guint
gst_whep_client_delete_sync (GstWhepClient * client, GstObject * owner,
    const gchar * resource_url, guint timeout_ms)
{
  DeleteWait *wait;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gint64 end_time;
  guint status;

  gboolean done;

  g_return_val_if_fail (!gst_whep_client_is_client_thread (client), 0);

  if (timeout_ms == 0)
    timeout_ms = client->config.timeout_ms;
  wait = g_atomic_rc_box_new0 (DeleteWait);
  g_mutex_init (&wait->lock);
  g_cond_init (&wait->cond);
  g_atomic_rc_box_acquire (wait);       /* one for the callback */

  gst_whep_client_delete_async (client, owner, resource_url, timeout_ms,
      cancellable, delete_sync_done_cb, wait);

  /* The request has its own deadline; the slack covers a client thread
   * that is busy for a moment. */
  end_time =
      g_get_monotonic_time () + (timeout_ms + 500) * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&wait->lock);
  while (!wait->done)
    if (!g_cond_wait_until (&wait->cond, &wait->lock, end_time))
      break;
  done = wait->done;
  status = done ? wait->status : 0;
  g_mutex_unlock (&wait->lock);

  if (!done)
    g_cancellable_cancel (cancellable);
  g_atomic_rc_box_release_full (wait, (GDestroyNotify) delete_wait_clear);
  return status;
}

/* --- line streams (server-sent events) --- */

/* One open stream: lives on the client thread only. */
typedef struct
{
  GstWhepClient *client;        /* strong ref */
  GstObject *owner;             /* nullable, ref held: named in logs */
  gchar *url;
  gchar *log_url;               /* redacted: what logs and errors show */
  GCancellable *caller_cancellable;     /* nullable */
  gulong caller_cancel_id;
  gulong shutdown_cancel_id;
  gulong close_cancel_id;
  GCancellable *cancellable;    /* ours: cancelled on the client thread */
  SoupMessage *message;
  GInputStream *body;
  GString *pending;             /* the line being read, without its LF */
  GstWhepLineFunc on_line;
  GstWhepStreamDoneFunc on_done;
  gpointer user_data;
  GDestroyNotify destroy;
} LineStream;

static void
line_stream_finish (LineStream * ls, guint status, GError * error)
{
  if (ls->on_done)
    ls->on_done (status, error, ls->user_data);
  if (ls->destroy)
    ls->destroy (ls->user_data);
  if (ls->caller_cancellable && ls->caller_cancel_id)
    g_cancellable_disconnect (ls->caller_cancellable, ls->caller_cancel_id);
  if (ls->shutdown_cancel_id)
    g_cancellable_disconnect (ls->client->shutdown_cancellable,
        ls->shutdown_cancel_id);
  if (ls->close_cancel_id)
    g_cancellable_disconnect (ls->client->close_cancellable,
        ls->close_cancel_id);
  g_clear_object (&ls->caller_cancellable);
  if (ls->body)
    g_input_stream_close_async (ls->body, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&ls->body);
  if (ls->pending)
    g_string_free (ls->pending, TRUE);
  g_clear_object (&ls->message);
  g_clear_object (&ls->cancellable);
  g_object_unref (ls->client);
  gst_clear_object (&ls->owner);
  g_free (ls->url);
  g_free (ls->log_url);
  g_free (ls);
  if (error)
    g_error_free (error);
}

static void read_next_chunk (LineStream * ls);

/* Hands one complete line to the reader.  FALSE when the stream ended
 * (@ls is gone). */
static gboolean
deliver_line (LineStream * ls)
{
  guint status = soup_message_get_status (ls->message);
  GString *line = ls->pending;

  /* SSE lines may end in CRLF: the split is on LF. */
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  /* The reader gets text it can log and parse: never bytes that are not
   * UTF-8 (nor a NUL, which g_utf8_validate_len() refuses too). */
  if (!g_utf8_validate_len (line->str, line->len, NULL)) {
    line_stream_finish (ls, status, g_error_new (GST_WHEP_CLIENT_ERROR,
            GST_WHEP_CLIENT_ERROR_BAD_ANSWER, "the event stream %s sent a "
            "line that is not UTF-8", ls->log_url));
    return FALSE;
  }
  if (!ls->on_line (line->str, ls->user_data)) {
    line_stream_finish (ls, status, g_error_new (G_IO_ERROR,
            G_IO_ERROR_CANCELLED, "the event stream %s was closed by its "
            "reader", ls->log_url));
    return FALSE;
  }
  g_string_truncate (line, 0);
  return TRUE;
}

static void
chunk_read_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  LineStream *ls = data;
  GError *err = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish
      (G_INPUT_STREAM (source), result, &err);
  const gchar *p, *end;
  gsize size;

  if (!bytes) {
    line_stream_finish (ls, soup_message_get_status (ls->message), err);
    return;
  }
  p = g_bytes_get_data (bytes, &size);
  if (size == 0) {
    /* The server closed the stream; an unfinished line is dropped, as
     * an unfinished event would be. */
    line_stream_finish (ls, soup_message_get_status (ls->message), NULL);
    return;
  }
  for (end = p + size; p < end;) {
    const gchar *lf = memchr (p, '\n', end - p);
    gsize n = (lf ? lf : end) - p;

    /* One endless line must not grow without end. */
    if (ls->pending->len + n > GST_WHEP_CLIENT_MAX_LINE_BYTES) {
      line_stream_finish (ls, soup_message_get_status (ls->message),
          g_error_new (GST_WHEP_CLIENT_ERROR,
              GST_WHEP_CLIENT_ERROR_BODY_TOO_LARGE, "the event stream %s "
              "sent a line longer than the %u KiB limit", ls->log_url,
              GST_WHEP_CLIENT_MAX_LINE_BYTES / 1024));
      return;
    }
    g_string_append_len (ls->pending, p, n);
    if (!lf)
      break;
    if (!deliver_line (ls))
      return;
    p = lf + 1;
  }
  read_next_chunk (ls);
}

static void
read_next_chunk (LineStream * ls)
{
  g_input_stream_read_bytes_async (ls->body, READ_CHUNK_BYTES,
      G_PRIORITY_DEFAULT, ls->cancellable, chunk_read_cb, ls);
}

static void
line_stream_opened_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  LineStream *ls = data;
  GError *err = NULL;
  GInputStream *body = soup_session_send_finish (SOUP_SESSION (source),
      result, &err);
  guint status;

  if (!body) {
    line_stream_finish (ls, 0, err);
    return;
  }
  status = soup_message_get_status (ls->message);
  if (status < 200 || status >= 300) {
    g_input_stream_close_async (body, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    g_object_unref (body);
    line_stream_finish (ls, status, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
            "GET %s answered %u", ls->log_url, status));
    return;
  }
  if (soup_message_headers_get_one (soup_message_get_response_headers
          (ls->message), "Content-Encoding")
      && g_ascii_strcasecmp (soup_message_headers_get_one
          (soup_message_get_response_headers (ls->message),
              "Content-Encoding"), "identity") != 0) {
    g_input_stream_close_async (body, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    g_object_unref (body);
    line_stream_finish (ls, status, g_error_new (GST_WHEP_CLIENT_ERROR,
            GST_WHEP_CLIENT_ERROR_CONTENT_ENCODING, "the event stream %s is "
            "compressed, which was not asked for", ls->log_url));
    return;
  }
  GST_DEBUG_OBJECT (ls->owner, "event stream %s open", ls->log_url);
  ls->body = body;
  ls->pending = g_string_new (NULL);
  read_next_chunk (ls);
}

static void
forward_stream_cancel_cb (GCancellable * cancellable, gpointer data)
{
  LineStream *ls = data;

  cancel_on_client_thread (ls->client, ls->cancellable);
}

static gboolean
start_line_stream_cb (gpointer data)
{
  LineStream *ls = data;
  GstWhepClient *client = ls->client;
  g_autoptr (GUri) uri = g_uri_parse (ls->url, SOUP_HTTP_URI_FLAGS, NULL);
  gboolean closed;

  g_mutex_lock (&client->lock);
  closed = client->closed || client->closing;
  g_mutex_unlock (&client->lock);
  if (closed || !uri || !is_followable (ls->url)) {
    line_stream_finish (ls, 0, g_error_new (G_IO_ERROR, closed ?
            G_IO_ERROR_CLOSED : G_IO_ERROR_INVALID_ARGUMENT,
            "cannot open the event stream %s", ls->log_url));
    return G_SOURCE_REMOVE;
  }

  /* Cancels from other threads reach libsoup on this thread only. */
  ls->shutdown_cancel_id = g_cancellable_connect
      (client->shutdown_cancellable, G_CALLBACK (forward_stream_cancel_cb),
      ls, NULL);
  ls->close_cancel_id = g_cancellable_connect
      (client->close_cancellable, G_CALLBACK (forward_stream_cancel_cb),
      ls, NULL);
  if (ls->caller_cancellable)
    ls->caller_cancel_id = g_cancellable_connect (ls->caller_cancellable,
        G_CALLBACK (forward_stream_cancel_cb), ls, NULL);

  ls->message = soup_message_new_from_uri ("GET", uri);
  /* An event stream that redirects is not followed: one rule less for
   * credentials to escape by. */
  soup_message_add_flags (ls->message, SOUP_MESSAGE_NO_REDIRECT);
  /* Same credentials and extra headers as every other request, under the
   * same origin rule. */
  add_request_headers (client, ls->owner, "GET", ls->url, ls->url,
      ls->log_url, NULL, soup_message_get_request_headers (ls->message));
  soup_message_headers_replace (soup_message_get_request_headers
      (ls->message), "Accept", "text/event-stream");
  if (!client->config.ssl_strict)
    g_signal_connect (ls->message, "accept-certificate",
        G_CALLBACK (accept_any_certificate_cb), ls->owner);
  soup_session_send_async (client->session, ls->message, G_PRIORITY_DEFAULT,
      ls->cancellable, line_stream_opened_cb, ls);
  return G_SOURCE_REMOVE;
}

void
gst_whep_client_open_line_stream (GstWhepClient * client, GstObject * owner,
    const gchar * url,
    GCancellable * cancellable, GstWhepLineFunc on_line,
    GstWhepStreamDoneFunc on_done, gpointer user_data, GDestroyNotify destroy)
{
  LineStream *ls = g_new0 (LineStream, 1);

  g_return_if_fail (GST_IS_WHEP_CLIENT (client));
  ls->client = g_object_ref (client);
  ls->owner = owner ? gst_object_ref (owner) : NULL;
  ls->url = g_strdup (url);
  ls->log_url = gst_whep_redact_url (url);
  ls->caller_cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  ls->cancellable = g_cancellable_new ();
  ls->on_line = on_line;
  ls->on_done = on_done;
  ls->user_data = user_data;
  ls->destroy = destroy;
  g_main_context_invoke (client->context, start_line_stream_cb, ls);
}
