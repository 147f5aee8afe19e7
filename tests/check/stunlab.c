/* whepsrc tests — STUN servers on 127.0.0.1 that shape candidate
 * gathering: one that never answers (a firewall that drops STUN) and one
 * that answers late (a distant STUN server).  See stunlab.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stunlab.h"

#include <gst/check/gstcheck.h>
#include <string.h>

struct _SlowStun
{
  GSocket *socket;
  guint delay_ms;
  GThread *thread;
  gint stop;
  gchar *uri;
};

/* A UDP socket on 127.0.0.1 that reads nothing and answers nothing: a
 * STUN server that is unreachable in practice (a firewall that drops
 * STUN), the everyday case where gathering waits for STUN timeouts. */
GSocket *
silent_stun_server (gchar ** uri)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);

  fail_unless (socket != NULL);
  fail_unless (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  *uri = g_strdup_printf ("stun://127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return socket;
}


/* The Binding success response to @request (an RFC 3489 request: libnice
 * asks STUN servers in the classic format, with no magic cookie), with
 * MAPPED-ADDRESS 127.0.0.2:@port; its length. */
static gsize
stun_binding_response (const guint8 * request, guint16 port, guint8 * out)
{
  memset (out, 0, 32);
  out[0] = 0x01;
  out[1] = 0x01;                /* Binding success response */
  out[3] = 12;                  /* one MAPPED-ADDRESS */
  memcpy (out + 4, request + 4, 16);    /* the transaction */
  out[21] = 0x01;               /* MAPPED-ADDRESS */
  out[23] = 8;
  out[25] = 0x01;               /* IPv4 */
  out[26] = port >> 8;
  out[27] = port & 0xff;
  out[28] = 127;
  out[31] = 2;
  return 32;
}

static gpointer
slow_stun_run (gpointer data)
{
  SlowStun *stun = data;

  while (!g_atomic_int_get (&stun->stop)) {
    guint8 request[1500], response[32];
    g_autoptr (GSocketAddress) from = NULL;
    gssize n;

    if (!g_socket_condition_timed_wait (stun->socket, G_IO_IN,
            50 * G_TIME_SPAN_MILLISECOND, NULL, NULL))
      continue;
    n = g_socket_receive_from (stun->socket, &from, (gchar *) request,
        sizeof request, NULL, NULL);
    /* A Binding request without attributes: candidate discovery (the
     * connectivity checks that libnice also sends here carry some). */
    if (n != 20 || request[0] != 0x00 || request[1] != 0x01 || request[3]
        || !from)
      continue;
    g_usleep (stun->delay_ms * G_TIME_SPAN_MILLISECOND);
    g_socket_send_to (stun->socket, from, (const gchar *) response,
        stun_binding_response (request, g_inet_socket_address_get_port
            (G_INET_SOCKET_ADDRESS (from)), response), NULL, NULL);
  }
  return NULL;
}

SlowStun *
slow_stun_start (guint delay_ms)
{
  SlowStun *stun = g_new0 (SlowStun, 1);

  stun->socket = silent_stun_server (&stun->uri);
  stun->delay_ms = delay_ms;
  stun->thread = g_thread_new ("slow-stun", slow_stun_run, stun);
  return stun;
}

void
slow_stun_stop (SlowStun * stun)
{
  g_atomic_int_set (&stun->stop, 1);
  g_thread_join (stun->thread);
  g_object_unref (stun->socket);
  g_free (stun->uri);
  g_free (stun);
}


const gchar *
slow_stun_uri (SlowStun * stun)
{
  return stun->uri;
}
