/* whep-test-server — the WHEP server-sent events extension (--sse, draft
 * "webrtc-http-egress-events").
 *
 *   POST    <path>/session/<id>/sse          subscribe: a JSON array of
 *                                            event names → 201, Location
 *   GET     <path>/session/<id>/sse/stream   the text/event-stream
 *   DELETE  <path>/session/<id>/sse/stream   close it
 *
 * Each session has one channel: its subscription and the streams open on
 * it.  All functions run on the main thread; the caller has checked
 * authorization.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "server.h"

G_BEGIN_DECLS

/* The rel of the Link header that announces the extension. */
#define WHEP_SSE_LINK_REL "urn:ietf:params:whep:ext:core:server-sent-events"

/* The value of the Link header for @id's 201 (or 406). */
gchar *whep_sse_link_header (WhepServer * server, const gchar * id);

/* Session life: a channel per session, from its POST to its end. */
void whep_sse_add_session (WhepServer * server, const gchar * id);
void whep_sse_session_connected (WhepServer * server, const gchar * id);
void whep_sse_session_ended (WhepServer * server, const gchar * id);

/* The requests above; set the reply. */
void whep_sse_subscribe (WhepServer * server, SoupServerMessage * msg,
    const gchar * id);
void whep_sse_stream_get (WhepServer * server, SoupServerMessage * msg,
    const gchar * id);
void whep_sse_stream_delete (WhepServer * server, SoupServerMessage * msg,
    const gchar * id);

/* POST /admin/event?type=T[&id=ID]: sends T to every (or @id's) channel.
 * Returns FALSE when @type is unknown or @id has no channel. */
gboolean whep_sse_send_now (WhepServer * server, const gchar * type,
    const gchar * id);
gboolean whep_sse_event_known (const gchar * type);

/* Shutdown: completes every stream still open. */
void whep_sse_stop (WhepServer * server);

G_END_DECLS
