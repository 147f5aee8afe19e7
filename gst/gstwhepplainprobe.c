/* whepsrc — does an https:// endpoint's port speak plain HTTP? (see
 * gstwhepplainprobe.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepplainprobe.h"

#include <string.h>

#define STATUS_PREFIX "HTTP/"

/* One probe: owned by its GTask. */
typedef struct
{
  gchar *request;
  GSocketConnection *connection;
  gchar reply[sizeof (STATUS_PREFIX) - 1];
}
Probe;

static void
probe_free (Probe * probe)
{
  g_free (probe->request);
  g_clear_object (&probe->connection);
  g_free (probe);
}

static void
reply_read_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GTask) task = data;
  Probe *probe = g_task_get_task_data (task);
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n,
          NULL) || n < sizeof (probe->reply)) {
    g_task_return_boolean (task, FALSE);
    return;
  }
  g_task_return_boolean (task, memcmp (probe->reply, STATUS_PREFIX,
          sizeof (probe->reply)) == 0);
}

static void
request_written_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GTask) task = data;
  Probe *probe = g_task_get_task_data (task);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result,
          NULL, NULL)) {
    g_task_return_boolean (task, FALSE);
    return;
  }
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM
          (probe->connection)), probe->reply, sizeof (probe->reply),
      G_PRIORITY_DEFAULT, g_task_get_cancellable (task), reply_read_cb,
      g_object_ref (task));
}

static void
connected_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GTask) task = data;
  Probe *probe = g_task_get_task_data (task);

  probe->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT
      (source), result, NULL);
  if (!probe->connection) {
    g_task_return_boolean (task, FALSE);
    return;
  }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM
          (probe->connection)), probe->request, strlen (probe->request),
      G_PRIORITY_DEFAULT, g_task_get_cancellable (task), request_written_cb,
      g_object_ref (task));
}

void
gst_whep_plain_probe_async (const gchar * host, guint16 port,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Probe *probe = g_new0 (Probe, 1);

  g_task_set_source_tag (task, gst_whep_plain_probe_async);
  /* A HEAD: nothing that changes state, and an answer without a body. */
  probe->request = g_strdup_printf ("HEAD / HTTP/1.0\r\nHost: %s\r\n\r\n",
      host);
  g_task_set_task_data (task, probe, (GDestroyNotify) probe_free);
  /* Connecting and every read or write give up after the timeout. */
  g_socket_client_set_timeout (client, GST_WHEP_PLAIN_PROBE_TIMEOUT_S);
  g_socket_client_connect_async (client, address, cancellable, connected_cb,
      task);
}

gboolean
gst_whep_plain_probe_finish (GAsyncResult * result)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), NULL);
}
