/* whepsrc — one WHEP session: a sub-bin holding a fresh webrtcbin, the
 * decoders behind it, and the session's HTTP conversation (POST, the 406
 * counter-offer PATCH, events, DELETE), which is a GstWhepSignalling of
 * its own (gstwhepsignalling.h) that knows no elements.
 *
 * A session is used once: it is created, started, plays, and is closed.
 * A new WHEP session always gets a new GstWhepSession and so a new
 * webrtcbin (a provider that keeps one DTLS certificate would otherwise
 * see no new handshake and deadlock).
 *
 * The session exposes one always-linked ghost src pad per decoded kind,
 * named "video" and "audio" (raw video/audio), through the ordinary
 * GstElement::pad-added signal, and reports its progress through a
 * listener callback that may run on any thread (webrtcbin's, the HTTP
 * client's, a streaming thread): the listener must only hand the event
 * over to its own thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstwhepclient.h"
#include "gstwhepsdp.h"
#include "gstwhepfailure.h"
#include "gstwhepsignalling.h"

G_BEGIN_DECLS

#define GST_TYPE_WHEP_SESSION (gst_whep_session_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepSession, gst_whep_session, GST, WHEP_SESSION,
    GstBin);

typedef enum
{
  GST_WHEP_SESSION_NEW,
  GST_WHEP_SESSION_GATHERING,   /* offer made, ICE candidates being gathered */
  GST_WHEP_SESSION_POSTING,     /* POST sent, waiting for the answer */
  GST_WHEP_SESSION_CONNECTING,  /* answer applied, ICE and DTLS under way */
  GST_WHEP_SESSION_CONNECTED,   /* peer connection connected */
  GST_WHEP_SESSION_PLAYING,     /* first frame decoded */
  GST_WHEP_SESSION_FAILED,
  GST_WHEP_SESSION_CLOSED,
} GstWhepSessionState;

const gchar *gst_whep_session_state_name (GstWhepSessionState state);

/* GstWhepFailure (why a session failed) is in gstwhepfailure.h. */

typedef enum
{
  GST_WHEP_SESSION_EVENT_STATE,         /* the state changed */
  GST_WHEP_SESSION_EVENT_POSTED,        /* the POST left (the server's clock starts) */
  GST_WHEP_SESSION_EVENT_FIRST_FRAME,   /* first decoded buffer of a kind */
  GST_WHEP_SESSION_EVENT_FAILED,        /* see the failure */
  GST_WHEP_SESSION_EVENT_WARNING,       /* non-fatal; failure holds the text */
  GST_WHEP_SESSION_EVENT_RTCP,          /* RTCP came from the sender: the path
                                         * works (about once a second) */
  /* Server-sent events (WHEP events extension): */
  GST_WHEP_SESSION_EVENT_RECONNECT,     /* set up a new session; failure->url:
                                         * where to POST (NULL: the endpoint) */
  GST_WHEP_SESSION_EVENT_ACTIVE,        /* the publication is live */
  GST_WHEP_SESSION_EVENT_INACTIVE,      /* the publication stopped for now */
  /* ICE over PATCH (gstwhepice.h): */
  GST_WHEP_SESSION_EVENT_TRICKLE_REFUSED,       /* the server has no trickle
                                                 * PATCH (failure: why) */
  GST_WHEP_SESSION_EVENT_ICE_RESTART_STARTED,   /* the session started an
                                                 * ICE restart itself */
  GST_WHEP_SESSION_EVENT_ICE_RESTART_REFUSED,   /* the server refused it;
                                                 * FAILED follows */
  /* The liveness GET (GstWhepLiveness): */
  GST_WHEP_SESSION_EVENT_LIVENESS_CONFIRMED,    /* this server's sessions
                                                 * answer GET */
  GST_WHEP_SESSION_EVENT_LIVENESS_UNSUPPORTED,  /* they do not */
  GST_WHEP_SESSION_EVENT_GONE,  /* a trusted server says this session is
                                 * gone (failure: why); not a failure by
                                 * itself: the media decides */
} GstWhepSessionEvent;

typedef void (*GstWhepSessionListener) (GstWhepSession * session,
    GstWhepSessionEvent event, const GstWhepFailure * failure,
    gpointer user_data);

/* What a session's streams become before the output: decoded, or
 * depayloaded and parsed. */
typedef enum
{
  GST_WHEP_STREAM_DECODED,
  GST_WHEP_STREAM_ENCODED,
} GstWhepStreamForm;

/* Asked (from a streaming thread) when a session's stream of @kind first
 * appears, with the encoded caps it would have (e.g. "video/x-vp8"). */
typedef GstWhepStreamForm (*GstWhepChooseForm) (gpointer data,
    GstWhepMediaKind kind, const GstCaps * encoded_caps);

/* What a session needs to know; copied at creation. */
typedef struct
{
  guint id;                     /* 1, 2, 3…: for logs and messages */
  gchar *endpoint;              /* http(s) URL to POST to */
  GstWhepClient *client;        /* shared, ref held */
  gchar *stun_server;
  gchar **turn_servers;         /* webrtcbin URIs */
  gint ice_transport_policy;    /* GstWebRTCICETransportPolicy */
  guint latency_ms;
  gchar **ice_local_addresses;  /* NULL: let libnice choose */
  GstCaps *video_caps;          /* offer filter, or NULL */
  GstCaps *audio_caps;
  guint gather_timeout_ms;
  guint delete_timeout_ms;
  gboolean trickle;             /* POST at once, PATCH candidates later */
  gboolean fec;                 /* offer ULPFEC/RED for video */
  gboolean ice_restart;         /* restart ICE over PATCH when the path is
                                 * lost (else the session just fails) */
  GstWhepLiveness liveness;     /* what the server's GET answers mean */
  GMainContext *context;        /* where the session's timers run */
  /* Decoded or encoded streams (NULL: decoded); @choose_form_data must
   * outlive the session (it is the element that owns it). */
  GstWhepChooseForm choose_form;
  gpointer choose_form_data;
} GstWhepSessionConfig;

void gst_whep_session_config_clear (GstWhepSessionConfig * config);

GstWhepSession *gst_whep_session_new (const GstWhepSessionConfig * config,
    GstWhepSessionListener listener, gpointer user_data);

/* Builds the offer, gathers, POSTs.  Call once the session bin is in the
 * parent and has followed its state (webrtcbin needs to be at least
 * READY). */
void gst_whep_session_start (GstWhepSession * session);

/* Starts, once per process, the making of the DTLS certificate every
 * webrtcbin of the process shares (GStreamer 1.22: an RSA key, made by
 * the first dtlsdec, 80–900 ms) on a thread of its own, so that a first
 * session that comes later does not wait for all of it.  Any thread;
 * returns at once.  Called when a whepsrc goes to READY, never when one
 * is merely created: a process that only inspects the element
 * (gst-inspect-1.0, a registry scan) would exit while OpenSSL is being
 * set up on that thread, and crash in OpenSSL's exit handlers. */
void gst_whep_session_prewarm_dtls (void);

/* Waits for the prewarm thread to end, if it was started and nobody has
 * joined it yet, so that no thread is left once every whepsrc is in NULL.
 * Any thread but the prewarm thread; blocks at most for the key. */
void gst_whep_session_prewarm_dtls_join (void);

/* Stops every request, DELETEs the server resource when there is one
 * (waiting at most delete_timeout_ms when @wait is TRUE, else in the
 * background) and marks the session closed.  The caller then sets the bin
 * to NULL and removes it.  Idempotent. */
void gst_whep_session_close (GstWhepSession * session, gboolean wait);

/* An ERROR @message posted by one of the session's own elements (caught
 * by the parent bin's handle_message): fails the session once, naming the
 * element and its cause (GST_WHEP_SESSION_EVENT_FAILED, retryable). */
void gst_whep_session_fail_from_message (GstWhepSession * session,
    GstMessage * message);

guint gst_whep_session_get_id (GstWhepSession * session);
/* TRUE once the server's SDP has a stream of @kind for us (any thread). */
gboolean gst_whep_session_expects_kind (GstWhepSession * session,
    GstWhepMediaKind kind);
GstWhepSessionState gst_whep_session_get_state (GstWhepSession * session);
/* The session resource URL (Location), or NULL. */
gchar *gst_whep_session_dup_resource_url (GstWhepSession * session);
/* Monotonic time (µs) of the POST, 0 before. */
gint64 gst_whep_session_get_post_time (GstWhepSession * session);
/* Time spent per phase so far, as a structure: gather-ms (start → POST),
 * answer-ms (POST → answer), ice-ms (answer → ICE connected), dtls-ms
 * (ICE → DTLS connected), connect-ms (ice + dtls), first-frame-ms
 * (connected → first decoded frame), total-ms, gathering-ms (start → ICE
 * gathering complete); -1 where not reached.  Also trickle (the POST left
 * before gathering was complete), offered-candidates (in the POSTed offer),
 * trickled-candidates (sent by PATCH) and
 * ice-restarts (successful). */
GstStructure *gst_whep_session_get_timings (GstWhepSession * session);
/* Monotonic time (µs) of the last RTCP packet from the sender, 0 if none:
 * RTCP that still arrives while the media stopped says the path works
 * and the sender stopped. */
gint64 gst_whep_session_get_last_rtcp_time (GstWhepSession * session);
/* Monotonic time (µs) of the last video RTP packet out of the
 * jitterbuffer, 0 if none: packets that come while no picture does mean
 * a decoder waiting for a key frame, not a dead session. */
gint64 gst_whep_session_get_last_video_rtp_time (GstWhepSession * session);
/* Monotonic time (µs) libnice last found a working candidate pair (a
 * component ready, a pair selected — again after an ICE restart), 0
 * before. */
gint64 gst_whep_session_get_ice_ready_time (GstWhepSession * session);
/* Monotonic time (µs) of the first decoded frame, 0 before. */
gint64 gst_whep_session_get_first_frame_time (GstWhepSession * session);

/* The ICE candidate pair in use, from webrtcbin's statistics, without
 * ever waiting for them: refresh_candidate_pair() asks webrtcbin
 * (get-stats) and returns at once; the reply, when it comes, is kept.
 * The session refreshes by itself when the peer connection becomes
 * connected and whenever the ICE connection state changes; callers may
 * refresh at will (every couple of seconds).  Any thread. */
void gst_whep_session_refresh_candidate_pair (GstWhepSession * session);
/* The last pair known (a copy: free it), or NULL: a structure with
 * local-address, local-port, local-type, remote-address, remote-port,
 * remote-type (type: host, srflx, prflx, relay). */
GstStructure *gst_whep_session_dup_candidate_pair (GstWhepSession * session);


/* How the session's video coped with loss, since it started. */
typedef struct
{
  guint64 packets_lost;         /* never came, even retransmitted */
  guint64 retransmission_requests;      /* packets asked for again (NACK) */
  guint64 retransmissions;      /* packets that came again in time */
  guint64 key_frame_requests;   /* PLI/FIR asked for (at the start, after
                                 * an unrepaired loss) */
  guint64 frames_dropped;       /* frames received but never decoded: they
                                 * depended on lost data (or were broken) */
} GstWhepRepairStats;

/* Reads the session's jitterbuffers' counters (a walk over its elements,
 * no waiting).  Any thread. */
void gst_whep_session_get_repair_stats (GstWhepSession * session,
    GstWhepRepairStats * stats);

/* Starts an ICE restart over PATCH (gstwhepice.h) on a connected session;
 * TRUE when one is under way (already, or now).  While it is, ICE failures
 * do not fail the session: the caller judges the restart by the media and
 * calls end_ice_restart() when media is back, or closes the session when
 * it takes too long.  A server that refuses the restart fails the session
 * (GST_WHEP_SESSION_EVENT_ICE_RESTART_REFUSED, then FAILED). */
gboolean gst_whep_session_restart_ice (GstWhepSession * session);
/* Whether gst_whep_session_restart_ice() could start one now (or one
 * is under way). */
gboolean gst_whep_session_can_restart_ice (GstWhepSession * session);
/* When the restart under way started (monotonic µs), 0 when none is. */
gint64 gst_whep_session_get_ice_restart_time (GstWhepSession * session);
/* Marks the restart under way as successful. */
void gst_whep_session_end_ice_restart (GstWhepSession * session);

/* ICE servers the server announced in its Link headers
 * (GstWhepIceServer*), or NULL. */
GPtrArray *gst_whep_session_dup_link_ice_servers (GstWhepSession * session);

G_END_DECLS
