/* whep-test-server — the WHEP server-sent events extension (--sse).
 *
 * A stream is a GET answered 200 with a chunked text/event-stream body
 * that is never complete while the session lives: libsoup pauses the
 * message by itself whenever it has written every chunk, and each event
 * appends a chunk and unpauses it.  Ending the session (or DELETE on the
 * stream, or shutdown) completes the body, which closes the stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sse.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "session.h"

GST_DEBUG_CATEGORY_STATIC (whep_sse_debug);
#define GST_CAT_DEFAULT whep_sse_debug

#define JSON_TYPE "application/json"

/* The events we offer, in the order the Link header lists them; a
 * subscription is a mask of (1 << index). */
static const gchar *const event_names[] = { "active", "inactive",
  "reconnect", NULL
};

#define EVENT_ACTIVE (1 << 0)
#define EVENT_RECONNECT (1 << 2)

typedef struct
{
  WhepServer *server;
  gchar *id;
  guint events;                 /* subscribed; 0 = no subscription yet */
  GList *streams;               /* of SseStream */
  gboolean reconnect_due;       /* --reconnect-after ran out: streams that
                                 * open later are told too */
  guint reconnect_source;
} SseChannel;

typedef struct
{
  SseChannel *channel;
  SoupServerMessage *msg;
  gulong finished_id;
} SseStream;

static void
sse_debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (whep_sse_debug, "whepserver-sse", 0,
        "WHEP test server: server-sent events");
    g_once_init_leave (&done, 1);
  }
}

static gint
event_index (const gchar * name)
{
  gint i;

  for (i = 0; event_names[i] != NULL; i++) {
    if (g_strcmp0 (name, event_names[i]) == 0)
      return i;
  }
  return -1;
}

gboolean
whep_sse_event_known (const gchar * type)
{
  return event_index (type) >= 0;
}

static gchar *
session_url (WhepServer * server, const gchar * id, const gchar * suffix)
{
  return g_strdup_printf ("%s%s/session/%s%s", server->base_url,
      server->opts->path, id, suffix);
}

gchar *
whep_sse_link_header (WhepServer * server, const gchar * id)
{
  g_autofree gchar *url = session_url (server, id, "/sse");
  g_autofree gchar *events = g_strjoinv (",", (gchar **) event_names);

  return g_strdup_printf ("<%s>; rel=\"" WHEP_SSE_LINK_REL "\"; "
      "events=\"%s\"", url, events);
}

static SseChannel *
find_channel (WhepServer * server, const gchar * id)
{
  if (server->sse_channels == NULL || id == NULL)
    return NULL;
  return g_hash_table_lookup (server->sse_channels, id);
}

/* ------------------------------------------------------------------ */
/* Streams */

static void
stream_free (SseStream * stream)
{
  g_signal_handler_disconnect (stream->msg, stream->finished_id);
  g_object_unref (stream->msg);
  g_free (stream);
}

/* The player went away (or libsoup finished the body we completed). */
static void
stream_finished_cb (SoupServerMessage * msg, gpointer user_data)
{
  SseStream *stream = user_data;
  SseChannel *channel = stream->channel;

  GST_INFO ("session %s: event stream finished", channel->id);
  channel->streams = g_list_remove (channel->streams, stream);
  stream_free (stream);
}

/* Ends the body; libsoup writes the last chunk and lets the message go. */
static void
stream_close (SseStream * stream)
{
  SoupServerMessage *msg = g_object_ref (stream->msg);

  GST_INFO ("session %s: closing an event stream", stream->channel->id);
  stream->channel->streams = g_list_remove (stream->channel->streams, stream);
  stream_free (stream);
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
channel_close_streams (SseChannel * channel)
{
  while (channel->streams != NULL)
    stream_close (channel->streams->data);
}

static void
stream_write (SseStream * stream, const gchar * event, const gchar * data)
{
  gchar *text = g_strdup_printf ("event: %s\ndata: %s\n\n", event, data);

  soup_message_body_append (soup_server_message_get_response_body
      (stream->msg), SOUP_MEMORY_TAKE, text, strlen (text));
  soup_server_message_unpause (stream->msg);
  whep_server_event ("sse-sent id=%s event=%s", stream->channel->id, event);
}

/* The data of @event: reconnect names the endpoint to POST to again. */
static gchar *
event_data (WhepServer * server, gint index)
{
  if ((1 << index) != EVENT_RECONNECT)
    return g_strdup ("{}");
  return g_strdup_printf ("{\"url\":\"%s%s\"}", server->base_url,
      server->opts->path);
}

/* To every stream of @channel, if subscribed. */
static void
channel_send (SseChannel * channel, gint index)
{
  g_autofree gchar *data = event_data (channel->server, index);
  GList *l;

  if (!(channel->events & (1 << index)))
    return;
  for (l = channel->streams; l != NULL; l = l->next)
    stream_write (l->data, event_names[index], data);
}

/* ------------------------------------------------------------------ */
/* Channels */

static void
channel_free (gpointer data)
{
  SseChannel *channel = data;

  channel_close_streams (channel);
  g_clear_handle_id (&channel->reconnect_source, g_source_remove);
  g_free (channel->id);
  g_free (channel);
}

static gboolean
reconnect_cb (gpointer data)
{
  SseChannel *channel = data;

  channel->reconnect_source = 0;
  channel->reconnect_due = TRUE;
  GST_INFO ("session %s: asking the player to reconnect", channel->id);
  channel_send (channel, event_index ("reconnect"));
  return G_SOURCE_REMOVE;
}

void
whep_sse_add_session (WhepServer * server, const gchar * id)
{
  SseChannel *channel;
  gdouble after = server->opts->reconnect_after;

  sse_debug_init ();
  if (server->sse_channels == NULL)
    server->sse_channels = g_hash_table_new_full (g_str_hash, g_str_equal,
        NULL, channel_free);

  channel = g_new0 (SseChannel, 1);
  channel->server = server;
  channel->id = g_strdup (id);
  /* Counts from the POST, like the other limits. */
  if (after > 0)
    channel->reconnect_source = g_timeout_add ((guint) (after * 1000.0 + 0.5),
        reconnect_cb, channel);
  g_hash_table_insert (server->sse_channels, channel->id, channel);
}

void
whep_sse_session_connected (WhepServer * server, const gchar * id)
{
  SseChannel *channel = find_channel (server, id);

  if (channel != NULL)
    channel_send (channel, event_index ("active"));
}

void
whep_sse_session_ended (WhepServer * server, const gchar * id)
{
  if (find_channel (server, id) != NULL)
    g_hash_table_remove (server->sse_channels, id);
}

void
whep_sse_stop (WhepServer * server)
{
  g_clear_pointer (&server->sse_channels, g_hash_table_unref);
}

/* ------------------------------------------------------------------ */
/* Requests */

static void
reply_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
      text, strlen (text));
}

/* The mask of a JSON array of known event names; 0 (and @error set) when
 * the body is anything else. */
static guint
parse_subscription (GBytes * body, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array;
  guint i, mask = 0;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
          g_bytes_get_size (body), error))
    return 0;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root)
      || json_array_get_length (json_node_get_array (root)) == 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the body must be a JSON array of event names");
    return 0;
  }

  array = json_node_get_array (root);
  for (i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    const gchar *name = JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING ?
        json_node_get_string (node) : NULL;
    gint index = event_index (name);

    if (index < 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "unsupported event '%s'", name ? name : "(not a string)");
      return 0;
    }
    mask |= 1 << index;
  }
  return mask;
}

static gchar *
mask_to_list (guint mask)
{
  GString *list = g_string_new (NULL);
  gint i;

  for (i = 0; event_names[i] != NULL; i++) {
    if (mask & (1 << i))
      g_string_append_printf (list, "%s%s", list->len ? "," : "",
          event_names[i]);
  }
  return g_string_free (list, FALSE);
}

void
whep_sse_subscribe (WhepServer * server, SoupServerMessage * msg,
    const gchar * id)
{
  SseChannel *channel = find_channel (server, id);
  const gchar *type = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *location = NULL;
  g_autofree gchar *list = NULL;
  guint mask;

  if (channel == NULL) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
    return;
  }
  if (type == NULL || g_ascii_strcasecmp (type, JSON_TYPE) != 0) {
    reply_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "Content-Type must be " JSON_TYPE);
    return;
  }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  mask = parse_subscription (body, &error);
  if (mask == 0) {
    reply_text (msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }

  /* One subscription per session: a new one replaces the events. */
  channel->events = mask;
  list = mask_to_list (mask);
  whep_server_event ("sse-subscribe id=%s events=%s", id, list);
  location = session_url (server, id, "/sse/stream");
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Location", location);
  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
}

void
whep_sse_stream_get (WhepServer * server, SoupServerMessage * msg,
    const gchar * id)
{
  SseChannel *channel = find_channel (server, id);
  WhepSession *session = whep_server_find_session (server, id);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SseStream *stream;

  if (channel == NULL || channel->events == 0) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, channel ? "not subscribed" :
        "no such session");
    return;
  }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  /* A stream may live long: keep no copy of what went out. */
  soup_message_body_set_accumulate (soup_server_message_get_response_body
      (msg), FALSE);

  stream = g_new0 (SseStream, 1);
  stream->channel = channel;
  stream->msg = g_object_ref (msg);
  stream->finished_id = g_signal_connect (msg, "finished",
      G_CALLBACK (stream_finished_cb), stream);
  channel->streams = g_list_append (channel->streams, stream);
  whep_server_event ("sse-stream id=%s", id);

  /* State a late stream must still learn; only to this stream. */
  if (channel->events & EVENT_ACTIVE && session != NULL
      && whep_session_is_connected (session))
    stream_write (stream, "active", "{}");
  if (channel->events & EVENT_RECONNECT && channel->reconnect_due) {
    g_autofree gchar *data = event_data (server, event_index ("reconnect"));

    stream_write (stream, "reconnect", data);
  }
}

void
whep_sse_stream_delete (WhepServer * server, SoupServerMessage * msg,
    const gchar * id)
{
  SseChannel *channel = find_channel (server, id);

  if (channel == NULL || channel->events == 0) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, channel ? "not subscribed" :
        "no such session");
    return;
  }
  /* The resource is gone: a GET needs a new subscription. */
  channel->events = 0;
  channel_close_streams (channel);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

gboolean
whep_sse_send_now (WhepServer * server, const gchar * type, const gchar * id)
{
  gint index = event_index (type);
  GHashTableIter iter;
  gpointer value;

  if (index < 0)
    return FALSE;
  if (id != NULL) {
    SseChannel *channel = find_channel (server, id);

    if (channel == NULL)
      return FALSE;
    channel_send (channel, index);
    return TRUE;
  }

  if (server->sse_channels != NULL) {
    g_hash_table_iter_init (&iter, server->sse_channels);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      channel_send (value, index);
  }
  return TRUE;
}
