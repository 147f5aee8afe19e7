/* whepsrc — pure SDP helpers: the codec table we offer, checks on the
 * server's answer, and trickle-ICE SDP fragments (RFC 8840).
 *
 * No network and no elements: every function is a pure function of its
 * arguments and is unit-tested in tests/check/helpers.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

typedef enum
{
  GST_WHEP_MEDIA_VIDEO,
  GST_WHEP_MEDIA_AUDIO,
} GstWhepMediaKind;

/* One codec whepsrc knows how to offer and decode. */
typedef struct
{
  GstWhepMediaKind kind;
  const gchar *encoding_name;   /* as in SDP rtpmap, upper case: "VP8", "H264", "OPUS" */
  gint clock_rate;
  gint encoding_params;         /* channels for audio (OPUS: 2), 0 = none */
  gint payload_type;            /* fixed PT we offer (static 0/8 for PCMU/PCMA, 96+ else) */
  const gchar *fmtp;            /* extra fmtp fields as "k=v;k=v", or NULL */
  const gchar *depayloader_caps;        /* caps a depayloader must accept ("application/x-rtp,…") */
  const gchar *decoder_caps;    /* caps a decoder must accept (e.g. "video/x-vp8") */
} GstWhepCodec;

/* The codec table, most preferred first within each kind; terminated by
 * an entry whose encoding_name is NULL. */
const GstWhepCodec *gst_whep_codecs (void);

/* Tells whether this machine can depayload and decode @codec (the element
 * passes a function that looks at the registry; tests pass their own). */
typedef gboolean (*GstWhepCodecAvailableFunc) (const GstWhepCodec * codec,
    gpointer user_data);

/* Builds the RTP caps for a recvonly transceiver of @kind: one structure
 * per available codec, in table order, with media, encoding-name,
 * clock-rate, payload, encoding-params where set, the fmtp fields, and
 * rtcp-fb-nack, rtcp-fb-nack-pli and rtcp-fb-ccm-fir (video) set TRUE.
 * When @filter (e.g. the "video-caps" property) is not NULL, only codecs
 * whose RTP caps or decoder caps intersect it are kept.  Returns NULL when
 * no codec remains. */
GstCaps *gst_whep_sdp_offer_caps (GstWhepMediaKind kind, const GstCaps * filter,
    GstWhepCodecAvailableFunc available, gpointer user_data);

/* Checks a server's SDP answer against our offer before it is handed to
 * webrtcbin, so that the user gets a precise message instead of a silent
 * stall:
 *  - same number of m-lines, same media kinds, same order;
 *  - every m-line that is not rejected (port 0) picks at least one payload
 *    type that the offer had in that m-line;
 *  - its direction is sendonly or inactive (sendrecv is accepted: some
 *    servers write it; recvonly is refused: the server would not send);
 *  - ICE ufrag/pwd and a DTLS fingerprint exist (session or media level);
 *  - at least one m-line is accepted.
 * On failure returns FALSE with a G_IO_ERROR_INVALID_DATA @error whose
 * message says what is wrong, naming the m-line. */
gboolean gst_whep_sdp_check_answer (const GstSDPMessage * offer,
    const GstSDPMessage * answer, GError ** error);

/* Checks a server's counter-offer (WHEP 406): at least one audio or video
 * m-line, none of them recvonly, ICE credentials and fingerprint present. */
gboolean gst_whep_sdp_check_counter_offer (const GstSDPMessage * offer,
    GError ** error);

/* Checks that @pem — the certificate the peer presented in the DTLS
 * handshake (PEM, as webrtcbin's DTLS transport gives it) — is the one
 * @sdp announces for m-line @index (a=fingerprint at media level, else
 * session level).  webrtcbin (1.22 and later) does not compare them: a
 * peer with any certificate would be accepted.  sha-1, sha-256, sha-384
 * and sha-512 are computed; another algorithm cannot be checked (TRUE,
 * with *@checked FALSE).  On a mismatch, a missing fingerprint or an
 * unreadable certificate returns FALSE with a G_IO_ERROR_INVALID_DATA
 * @error naming both fingerprints.  @checked may be NULL. */
gboolean gst_whep_sdp_check_fingerprint (const GstSDPMessage * sdp,
    guint index, const gchar * pem, gboolean * checked, GError ** error);

/* Gives every video codec of the offer @msg its own RTX payload type
 * (RFC 4588: "a=rtpmap:PT rtx/CLOCK", "a=fmtp:PT apt=CODEC_PT"), in the
 * video m-lines of a transceiver made with NACK.  webrtcbin 1.22 offers
 * RTX for the first codec of an m-line only, so a server that answers with
 * H.264 (its second or third choice) could not retransmit.  Codecs that
 * have one already, RTX, RED and ULPFEC themselves are left alone; free
 * payload types are taken from 96–127, then 35–63.  With @rtx_time_ms,
 * every RTX format of those m-lines says how long a retransmission is of
 * use (";rtx-time=", the jitterbuffer's latency).  Returns how many RTX
 * payload types were added. */
guint gst_whep_sdp_add_rtx (GstSDPMessage * msg, guint rtx_time_ms);

/* Marks in @video (indexed by payload type, 0–127) every payload type of
 * the accepted video m-lines of @msg (BUNDLE: one payload type space). */
void gst_whep_sdp_video_payload_types (const GstSDPMessage * msg,
    gboolean video[128]);

/* Number of a=candidate lines in @msg (session and media level). */
guint gst_whep_sdp_count_candidates (const GstSDPMessage * msg);

/* Number of accepted (port != 0) m-lines of @kind in @msg. */
guint gst_whep_sdp_count_media (const GstSDPMessage * msg,
    GstWhepMediaKind kind);

/* The frame rate the first accepted video m-line declares (RFC 8866
 * a=framerate, or the session-level one), as a fraction; FALSE when there
 * is none or it is not a positive number up to 1000.  Whole rates give
 * N/1, 29.97 gives 30000/1001. */
gboolean gst_whep_sdp_video_framerate (const GstSDPMessage * msg,
    gint * num, gint * den);

/* Parses SDP text; FALSE with G_IO_ERROR_INVALID_DATA when it does not
 * start with "v=0" or has no m-line. */
gboolean gst_whep_sdp_parse (const gchar * text, GstSDPMessage ** msg,
    GError ** error);

/* --- trickle ICE fragments (application/trickle-ice-sdpfrag, RFC 8840) --- */

typedef struct
{
  gchar *ice_ufrag;             /* nullable */
  gchar *ice_pwd;               /* nullable; a secret: never log it */
  gchar *mid;                   /* "a=mid" of the m-line the candidates belong to */
  GPtrArray *candidates;        /* gchar*, each "candidate:…" without "a=" */
  gboolean end_of_candidates;
} GstWhepSdpFrag;

GstWhepSdpFrag *gst_whep_sdp_frag_new (void);
void gst_whep_sdp_frag_free (GstWhepSdpFrag * frag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepSdpFrag, gst_whep_sdp_frag_free);

/* Serialises a fragment in the form of the WHEP spec's examples:
 *   a=ice-ufrag:… / a=ice-pwd:… (when set) / m=audio 9 RTP/AVP 0 /
 *   a=mid:… / a=candidate:… per candidate / a=end-of-candidates
 * Lines end with CRLF. */
gchar *gst_whep_sdp_frag_to_string (const GstWhepSdpFrag * frag);

/* Parses a fragment (tolerates LF or CRLF, leading/trailing space, and
 * session-level "a=" lines before the first m-line). */
GstWhepSdpFrag *gst_whep_sdp_frag_parse (const gchar * text, GError ** error);

G_END_DECLS
