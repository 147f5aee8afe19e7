/* whep-test-server — one viewer's session: its own bin in the server's
 * pipeline (queues, payloaders and a webrtcbin), its negotiation and its
 * timers.
 *
 * All functions here are called on the main thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "offer.h"
#include "server.h"

G_BEGIN_DECLS

typedef enum
{
  WHEP_SESSION_END_DELETED,     /* the player sent DELETE */
  WHEP_SESSION_END_EXPIRED,     /* a limit or timeout ran out */
  WHEP_SESSION_END_KILLED,      /* --kill-after or /admin/kill */
  WHEP_SESSION_END_CLOSED,      /* the server shuts down */
  WHEP_SESSION_END_FAILED,      /* negotiation or media error */
} WhepSessionEnd;

#define WHEP_SESSION_ERROR (whep_session_error_quark ())
GQuark whep_session_error_quark (void);

typedef enum
{
  WHEP_SESSION_ERROR_ENDED,     /* the session ended while waiting */
  WHEP_SESSION_ERROR_REJECTED,  /* webrtcbin refused the player's SDP */
  WHEP_SESSION_ERROR_NEGOTIATION,       /* our side failed */
  WHEP_SESSION_ERROR_CERTIFICATE,       /* openssl failed */
} WhepSessionError;

/* Called once with our SDP (an answer, or a counter-offer) when gathering
 * is complete, or with an error. */
typedef void (*WhepSessionSdpFunc) (WhepSession * session, const gchar * sdp,
    const GError * error, gpointer user_data);

/* Called once when the player's answer to a counter-offer is applied. */
typedef void (*WhepSessionDoneFunc) (WhepSession * session,
    const GError * error, gpointer user_data);

/* @offer (transfer full) may be NULL only with @counter_offer (a player
 * that POSTed no offer). */
WhepSession *whep_session_new (WhepServer * server, WhepOffer * offer,
    gboolean counter_offer);
WhepSession *whep_session_ref (WhepSession * session);
void whep_session_unref (WhepSession * session);

const gchar *whep_session_get_id (WhepSession * session);
/* The ETag as sent in the 201 (with its quotes), or NULL (--etag none). */
const gchar *whep_session_get_etag (WhepSession * session);
gboolean whep_session_is_connected (WhepSession * session);
gboolean whep_session_has_ended (WhepSession * session);
/* Its 201 (or 406) went out: from now on a player knows it. */
void whep_session_mark_answered (WhepSession * session);
gdouble whep_session_get_age (WhepSession * session);
guint whep_session_get_patches (WhepSession * session);
void whep_session_count_patch (WhepSession * session);

/* Builds the session's bin and negotiates; @func gets the SDP to send. */
void whep_session_start (WhepSession * session, WhepSessionSdpFunc func,
    gpointer user_data, GDestroyNotify notify);

/* Counter-offer sessions: whether the player's answer is still awaited,
 * and applying it. */
gboolean whep_session_awaits_answer (WhepSession * session);
void whep_session_set_answer (WhepSession * session, const gchar * sdp,
    gsize len, WhepSessionDoneFunc func, gpointer user_data,
    GDestroyNotify notify);

/* Trickle ICE: TRUE when @ufrag (from a PATCH) differs from the player's
 * current one, i.e. the PATCH asks for an ICE restart. */
gboolean whep_session_is_ice_restart (WhepSession * session,
    const gchar * ufrag);
/* ICE restart (WHEP PATCH with new credentials): restarts libnice's
 * stream, applies the player's credentials and candidates, takes a new
 * ETag; returns our answer fragment (new credentials and candidates), or
 * NULL with @error set. */
gchar *whep_session_restart_ice (WhepSession * session,
    const WhepSdpFrag * frag, GError ** error);
/* Gives the fragment's candidates to webrtcbin; returns how many. */
guint whep_session_add_candidates (WhepSession * session,
    const WhepSdpFrag * frag);

/* Ends the session: logs the event, counts it, and tears the bin down in
 * the background.  @reason is logged for expired and failed sessions.
 * Ending an ended session does nothing. */
void whep_session_end (WhepSession * session, WhepSessionEnd kind,
    const gchar * reason);

/* The function of the server's reaper GThreadPool: stops an ended
 * session's bin off the main thread.  Takes a reference to the session. */
void whep_session_reap (gpointer session, gpointer unused);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WhepSession, whep_session_unref);

G_END_DECLS
