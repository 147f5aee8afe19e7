/* whepsrc — a session's ICE conversation over HTTP PATCH (WHEP, RFC 8840
 * fragments): trickling local candidates, applying the server's
 * candidates, and ICE restarts.
 *
 * Trickle: candidates gathered after the POST are buffered until the
 * session resource exists (WHEP: not before the 201), then PATCHed in
 * aggregated fragments with If-Match set to the latest ETag, ending with
 * end-of-candidates.  A 405/501 (or any 4xx) means the server has no
 * trickle: the channel stops and says so once, so that the element gathers
 * fully before POSTing from then on.
 *
 * ICE restart: webrtcbin cannot restart ICE (1.22 … main: "FIXME: deal
 * with ICE restarts"), so the restart is made one level down, on the
 * NiceAgent webrtcbin runs: new local credentials
 * (nice_agent_restart_stream), a PATCH with If-Match: "*" carrying them
 * and every local candidate, and the server's new credentials and
 * candidates from the 200 applied straight to the agent.  The DTLS session
 * above ICE is untouched: it keeps running over the new candidate pair.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include "gstwhepclient.h"

G_BEGIN_DECLS

#define GST_TYPE_WHEP_ICE (gst_whep_ice_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepIce, gst_whep_ice, GST, WHEP_ICE, GstObject);

typedef enum
{
  GST_WHEP_ICE_EVENT_TRICKLE_REFUSED,   /* the server has no trickle PATCH */
  GST_WHEP_ICE_EVENT_RESTART_ANSWERED,  /* the server took our restart */
  GST_WHEP_ICE_EVENT_RESTART_REFUSED,   /* the restart PATCH failed */
} GstWhepIceEvent;

/* @owner: the object given to new(), held for the call; @http_status:
 * the answer concerned (0: no HTTP answer); @detail: a sentence for logs
 * and errors.  May run on the client's thread. */
typedef void (*GstWhepIceListener) (GstWhepIce * ice, GstObject * owner,
    GstWhepIceEvent event, guint http_status, const gchar * detail);

/* @trickle: PATCH candidates gathered after the POST.  @owner (the
 * session) is held weakly: the listener is called only while it exists
 * (a PATCH answered after the session's end calls nothing), and it is
 * what the PATCH requests are logged against.  The channel is named
 * "<owner>-ice". */
GstWhepIce *gst_whep_ice_new (GstWhepClient * client, gboolean trickle,
    GstObject * owner, GstWhepIceListener listener);

/* The webrtcbin whose candidates these are (ref held), and our offer
 * (ufrag, pwd and mid of the bundle are taken from it). */
void gst_whep_ice_set_local (GstWhepIce * ice, GstElement * webrtcbin,
    const GstSDPMessage * offer);

/* A candidate webrtcbin gathered ("candidate:…") after the POST, and the
 * end of gathering. */
void gst_whep_ice_add_local_candidate (GstWhepIce * ice,
    const gchar * candidate);
void gst_whep_ice_end_of_candidates (GstWhepIce * ice);

/* The session resource exists (201): buffered candidates go out now.
 * @etag may be NULL. */
void gst_whep_ice_set_resource (GstWhepIce * ice, const gchar * url,
    const gchar * etag);

/* TRUE while trickling is on and the server has not refused it. */
gboolean gst_whep_ice_is_trickling (GstWhepIce * ice);
/* Candidates sent in trickle PATCHes, and the PATCHes. */
guint gst_whep_ice_get_trickled_candidates (GstWhepIce * ice);

/* Starts an ICE restart (see above).  FALSE when it cannot be tried: no
 * session resource, no libnice agent, or closed. */
gboolean gst_whep_ice_restart (GstWhepIce * ice);

/* Cancels what is under way; later calls do nothing.  Idempotent. */
void gst_whep_ice_close (GstWhepIce * ice);

G_END_DECLS
