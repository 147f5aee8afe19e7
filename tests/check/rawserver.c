/* whepsrc tests — a raw HTTP server on 127.0.0.1 (see rawserver.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rawserver.h"

#include <string.h>
#include <sys/socket.h>

/* Lock order: only srv->lock; never held while sending or reading. */
struct _RawServer
{
  GSocket *listener;
  guint16 port;
  RawHandler handler;
  gpointer data;
  GThread *acceptor;

  GMutex lock;
  GCond cond;
  GPtrArray *requests;          /* recorded lines (lock) */
  GPtrArray *threads;           /* one per connection (lock) */
  gboolean stopping;            /* (lock) */
};

typedef struct
{
  RawServer *srv;
  GSocket *conn;
} RawConn;

gboolean
raw_server_stopping (RawServer * srv)
{
  gboolean stopping;

  g_mutex_lock (&srv->lock);
  stopping = srv->stopping;
  g_mutex_unlock (&srv->lock);
  return stopping;
}

void
raw_server_record (RawServer * srv, const gchar * line)
{
  g_mutex_lock (&srv->lock);
  g_ptr_array_add (srv->requests, g_strdup (line));
  g_cond_broadcast (&srv->cond);
  g_mutex_unlock (&srv->lock);
}

/* Reads one request: its head and the body its Content-Length names.
 * NULL when the client went away (or the server stops) first. */
static gchar *
raw_read_request (RawServer * srv, GSocket * conn)
{
  GString *in = g_string_new (NULL);
  gchar buf[4096];

  while (!raw_server_stopping (srv)) {
    const gchar *end = strstr (in->str, "\r\n\r\n");
    gssize n;

    if (end) {
      const gchar *cl = g_strstr_len (in->str, end - in->str,
          "Content-Length: ");
      gsize want = (end - in->str) + 4 + (cl ? g_ascii_strtoull (cl + 16,
              NULL, 10) : 0);

      if (in->len >= want)
        return g_string_free (in, FALSE);
    }
    if (!g_socket_condition_timed_wait (conn, G_IO_IN, 100 * 1000, NULL, NULL))
      continue;
    n = g_socket_receive (conn, buf, sizeof (buf), NULL, NULL);
    if (n <= 0)
      break;
    g_string_append_len (in, buf, n);
  }
  g_string_free (in, TRUE);
  return NULL;
}

static gpointer
raw_conn_main (gpointer data)
{
  RawConn *rc = data;
  RawServer *srv = rc->srv;
  gchar *request;

  while ((request = raw_read_request (srv, rc->conn))) {
    const gchar *eol = strstr (request, " HTTP/1.1\r\n");
    const gchar *auth = strstr (request, "\r\nAuthorization: ");
    gchar *line;
    gboolean more;

    line = g_strdup_printf ("%.*s|%.*s",
        eol ? (int) (eol - request) : 1, eol ? request : "?",
        auth ? (int) strcspn (auth + 17, "\r") : 0, auth ? auth + 17 : "");
    raw_server_record (srv, line);
    g_free (line);
    more = srv->handler (srv, rc->conn, request, srv->data);
    g_free (request);
    if (!more)
      break;
  }
  g_socket_close (rc->conn, NULL);
  g_object_unref (rc->conn);
  g_free (rc);
  return NULL;
}

static gpointer
raw_accept_main (gpointer data)
{
  RawServer *srv = data;
  GSocket *conn;

  while ((conn = g_socket_accept (srv->listener, NULL, NULL))) {
    RawConn *rc = g_new0 (RawConn, 1);

    rc->srv = srv;
    rc->conn = conn;
    g_mutex_lock (&srv->lock);
    g_ptr_array_add (srv->threads, g_thread_new ("raw-server-conn",
            raw_conn_main, rc));
    g_mutex_unlock (&srv->lock);
  }
  return NULL;
}

RawServer *
raw_server_new (RawHandler handler, gpointer data)
{
  RawServer *srv = g_new0 (RawServer, 1);
  g_autoptr (GSocketAddress) any =
      g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_mutex_init (&srv->lock);
  g_cond_init (&srv->cond);
  srv->handler = handler;
  srv->data = data;
  srv->requests = g_ptr_array_new_with_free_func (g_free);
  srv->threads = g_ptr_array_new ();
  srv->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert (srv->listener != NULL);
  g_assert (g_socket_bind (srv->listener, any, TRUE, NULL));
  g_assert (g_socket_listen (srv->listener, NULL));
  bound = g_socket_get_local_address (srv->listener, NULL);
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  srv->acceptor = g_thread_new ("raw-server", raw_accept_main, srv);
  return srv;
}

guint16
raw_server_port (RawServer * srv)
{
  return srv->port;
}

gchar *
raw_server_url (RawServer * srv, const gchar * path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", srv->port, path);
}

static guint
count_locked (RawServer * srv, const gchar * prefix)
{
  guint i, n = 0;

  for (i = 0; i < srv->requests->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (srv->requests, i), prefix))
      n++;
  return n;
}

guint
raw_server_count (RawServer * srv, const gchar * prefix)
{
  guint n;

  g_mutex_lock (&srv->lock);
  n = count_locked (srv, prefix);
  g_mutex_unlock (&srv->lock);
  return n;
}

gboolean
raw_server_wait (RawServer * srv, const gchar * prefix, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean seen;

  g_mutex_lock (&srv->lock);
  while (!(seen = count_locked (srv, prefix) > 0)
      && g_cond_wait_until (&srv->cond, &srv->lock, end));
  g_mutex_unlock (&srv->lock);
  return seen;
}

void
raw_server_free (RawServer * srv)
{
  guint i;

  g_mutex_lock (&srv->lock);
  srv->stopping = TRUE;
  g_mutex_unlock (&srv->lock);
  g_socket_shutdown (srv->listener, TRUE, TRUE, NULL);
  g_socket_close (srv->listener, NULL);
  g_thread_join (srv->acceptor);
  /* No new connection now: the list is final. */
  for (i = 0; i < srv->threads->len; i++)
    g_thread_join (g_ptr_array_index (srv->threads, i));
  g_ptr_array_unref (srv->threads);
  g_ptr_array_unref (srv->requests);
  g_object_unref (srv->listener);
  g_mutex_clear (&srv->lock);
  g_cond_clear (&srv->cond);
  g_free (srv);
}

gboolean
raw_send (GSocket * conn, const void *data, gsize len)
{
  const gchar *p = data;

  while (len > 0) {
    gssize n = g_socket_send (conn, p, len, NULL, NULL);

    if (n <= 0)
      return FALSE;
    p += n;
    len -= n;
  }
  return TRUE;
}

gboolean
raw_send_str (GSocket * conn, const gchar * text)
{
  return raw_send (conn, text, strlen (text));
}

void
raw_send_fill (RawServer * srv, GSocket * conn, gchar fill, gsize total,
    gboolean chunked)
{
  gchar block[16384];
  gsize sent = 0;

  memset (block, fill, sizeof (block));
  while (sent < total && !raw_server_stopping (srv)) {
    if (chunked && !raw_send_str (conn, "4000\r\n"))
      return;
    if (!raw_send (conn, block, sizeof (block)))
      return;
    if (chunked && !raw_send_str (conn, "\r\n"))
      return;
    sent += sizeof (block);
  }
}

gboolean
raw_hold (RawServer * srv, GSocket * conn, guint max_ms)
{
  gint64 end = g_get_monotonic_time () + max_ms * G_TIME_SPAN_MILLISECOND;
  gchar buf[256];

  while (!raw_server_stopping (srv)
      && (max_ms == 0 || g_get_monotonic_time () < end))
    if (g_socket_condition_timed_wait (conn, G_IO_IN, 50 * 1000, NULL, NULL)
        && g_socket_receive (conn, buf, sizeof (buf), NULL, NULL) <= 0)
      return FALSE;
  return TRUE;
}

void
raw_reset_on_close (GSocket * conn)
{
  /* SO_LINGER 0: close() sends a reset. */
  struct linger lin = { 1, 0 };

  setsockopt (g_socket_get_fd (conn), SOL_SOCKET, SO_LINGER, &lin,
      sizeof (lin));
}
