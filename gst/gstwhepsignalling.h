/* whepsrc — the WHEP signalling of one session: the HTTP conversation
 * around one offer, apart from the media (gstwhepsession.c, which drives
 * it and owns webrtcbin).
 *
 * Knows HTTP and SDP, not elements: POST of the offer (201 with the answer
 * checked against the offer, 406 with a counter-offer, every other answer
 * mapped to a GstWhepFailure), the PATCH of our answer to a counter-offer,
 * the server-sent events extension (subscription, stream, events), the
 * liveness GET once connected, and DELETE at close — including the rule
 * that a POST still under way at close is never dropped: its answer is
 * waited for (bounded) or DELETEd when it arrives, so that no server
 * session leaks.
 *
 * The signalling reports to its owner (the session) through a listener
 * that gets the owner as a strong reference taken from a weak one: once
 * the owner is gone, nothing is called.  Events come on the HTTP client's
 * thread (or the timer context), so the listener must not block.
 *
 * Nothing here logs a body, the ICE password or a URL's query or
 * userinfo: SDP is summarised (gst_whep_sdp_summary()), URLs redacted
 * (gst_whep_redact_url()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include "gstwhepclient.h"
#include "gstwhepfailure.h"

G_BEGIN_DECLS

#define GST_TYPE_WHEP_SIGNALLING (gst_whep_signalling_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepSignalling, gst_whep_signalling, GST,
    WHEP_SIGNALLING, GstObject);

typedef enum
{
  GST_WHEP_SIGNALLING_NEW,
  GST_WHEP_SIGNALLING_POSTING,  /* the offer is on its way */
  GST_WHEP_SIGNALLING_COUNTER_OFFERED,  /* 406: our answer is awaited */
  GST_WHEP_SIGNALLING_ANSWERING,        /* our answer's PATCH under way */
  GST_WHEP_SIGNALLING_ESTABLISHED,      /* offer and answer exchanged */
  GST_WHEP_SIGNALLING_FAILED,
  GST_WHEP_SIGNALLING_CLOSED,
} GstWhepSignallingState;

const gchar *gst_whep_signalling_state_name (GstWhepSignallingState state);

typedef enum
{
  GST_WHEP_SIGNALLING_EVENT_ANSWER,     /* @sdp: the server's answer, checked
                                         * against the offer */
  GST_WHEP_SIGNALLING_EVENT_COUNTER_OFFER,      /* @sdp: the server's offer
                                                 * (406), checked; answer it
                                                 * with send_answer() */
  GST_WHEP_SIGNALLING_EVENT_ANSWER_ACCEPTED,    /* the server took our
                                                 * answer to its offer */
  GST_WHEP_SIGNALLING_EVENT_RESOURCE,   /* the session resource exists and
                                         * may be PATCHed (trickle ICE):
                                         * dup_resource_url(), dup_etag() */
  GST_WHEP_SIGNALLING_EVENT_FAILED,     /* @failure; the signalling stops
                                         * asking (close() still DELETEs) */
  GST_WHEP_SIGNALLING_EVENT_WARNING,    /* @failure: non-fatal */
  /* Server-sent events (WHEP events extension): */
  GST_WHEP_SIGNALLING_EVENT_RECONNECT,  /* @failure->url: where to POST a
                                         * new session (NULL: the
                                         * endpoint), as the server sent it */
  GST_WHEP_SIGNALLING_EVENT_ACTIVE,
  GST_WHEP_SIGNALLING_EVENT_INACTIVE,
  /* Liveness GET (start_liveness()): */
  GST_WHEP_SIGNALLING_EVENT_LIVENESS_CONFIRMED, /* the server's sessions
                                                 * answer GET with 2xx */
  GST_WHEP_SIGNALLING_EVENT_LIVENESS_UNSUPPORTED,       /* they do not:
                                                         * asking stopped */
  GST_WHEP_SIGNALLING_EVENT_GONE,       /* @failure: a server whose sessions
                                         * answer GET says this one is gone
                                         * (404/410); asking stopped */
} GstWhepSignallingEvent;

/* How far a server's answers to GET on its sessions are trusted. */
typedef enum
{
  GST_WHEP_LIVENESS_ASK,        /* not known yet: a 2xx makes it trusted,
                                 * any other first answer ends the asking */
  GST_WHEP_LIVENESS_TRUSTED,    /* its sessions answered 2xx before: a
                                 * 404/410 means gone */
  GST_WHEP_LIVENESS_OFF,        /* it does not answer GET: never ask */
} GstWhepLiveness;

/* @owner: the object given to new(), alive for the call. */
typedef void (*GstWhepSignallingListener) (GstWhepSignalling * signalling,
    GstObject * owner, GstWhepSignallingEvent event,
    const GstSDPMessage * sdp, const GstWhepFailure * failure);

typedef struct
{
  GstWhepClient *client;        /* ref taken */
  const gchar *endpoint;        /* where the offer goes */
  guint delete_timeout_ms;      /* bound of a DELETE (0: 2000) */
  GMainContext *context;        /* where the liveness timer runs */
} GstWhepSignallingConfig;

/* @owner (weak reference) is told of events and named in every request's
 * log lines; the signalling is named "<owner>-sig" in its own. */
GstWhepSignalling *gst_whep_signalling_new (const GstWhepSignallingConfig *
    config, GstObject * owner, GstWhepSignallingListener listener);

/* POSTs @offer (copied: the answer is checked against it).  Once; a POST
 * is never cancelled (see close()). */
void gst_whep_signalling_post_offer (GstWhepSignalling * signalling,
    const GstSDPMessage * offer);

/* PATCHes our answer to the server's counter-offer to the resource. */
void gst_whep_signalling_send_answer (GstWhepSignalling * signalling,
    const GstSDPMessage * answer);

/* The next 2xx answer to the POST under way fails with @failure (taken)
 * instead of being handled, once its resource (to DELETE) and Link
 * headers are remembered.  Returns FALSE, and frees @failure, when no POST
 * is under way: the caller fails at once. */
gboolean gst_whep_signalling_fail_on_answer (GstWhepSignalling * signalling,
    GstWhepFailure * failure);

/* Asks the server every @interval_ms whether the session resource still
 * exists (GET).  What an answer means depends on @liveness (what is known
 * of this server): see GstWhepLiveness and the LIVENESS_* and GONE events.
 * No-op with GST_WHEP_LIVENESS_OFF, without a resource or when already
 * asking. */
void gst_whep_signalling_start_liveness (GstWhepSignalling * signalling,
    guint interval_ms, GstWhepLiveness liveness);
/* Stops asking (e.g. the session failed). */
void gst_whep_signalling_stop_liveness (GstWhepSignalling * signalling);

/* Stops every request but a POST under way, DELETEs the event stream and
 * the resource (waiting at most delete_timeout_ms when @wait, else in the
 * background), and reports nothing more.  A POST under way is waited for
 * (when @wait, within the DELETE budget) and its session DELETEd: now or
 * when its answer arrives.  Must not be called from the client's thread
 * with @wait.  Idempotent. */
void gst_whep_signalling_close (GstWhepSignalling * signalling,
    gboolean wait);

GstWhepSignallingState gst_whep_signalling_get_state (GstWhepSignalling *
    signalling);
/* TRUE while the offer's POST is under way. */
gboolean gst_whep_signalling_is_posting (GstWhepSignalling * signalling);
gchar *gst_whep_signalling_dup_resource_url (GstWhepSignalling * signalling);
gchar *gst_whep_signalling_dup_etag (GstWhepSignalling * signalling);
/* GstWhepIceServer* of the last answer's Link headers, or NULL. */
GPtrArray *gst_whep_signalling_dup_link_ice_servers (GstWhepSignalling *
    signalling);
/* Monotonic µs of the POST and of its answer (0: not yet). */
void gst_whep_signalling_get_times (GstWhepSignalling * signalling,
    gint64 * post_time, gint64 * answer_time);

G_END_DECLS
