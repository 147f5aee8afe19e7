/* whepsrc tests — STUN servers on 127.0.0.1 (stunlab.c).  Nothing they
 * send leaves loopback.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

/* A UDP socket on 127.0.0.1 that reads nothing and answers nothing; @uri
 * receives its stun:// URI.  Unref the socket to close it. */
GSocket *silent_stun_server (gchar ** uri);

/* A STUN server on 127.0.0.1 that answers every Binding request @delay_ms
 * late, with a mapped address of 127.0.0.2 (the request's port): a
 * server-reflexive candidate libnice keeps (it differs from the host
 * candidate) and that comes after the host candidates, as from a real
 * STUN server.  Nothing leaves loopback. */
typedef struct _SlowStun SlowStun;

/* Starts a responder thread; its stun:// URI is slow_stun_uri(). */
SlowStun *slow_stun_start (guint delay_ms);
const gchar *slow_stun_uri (SlowStun * stun);
void slow_stun_stop (SlowStun * stun);
