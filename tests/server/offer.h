/* whep-test-server — SDP helpers: reading the player's offer, trickle-ICE
 * fragments (RFC 8840) and shaping our answer.
 *
 * Pure functions of their arguments: no elements, no network, no globals.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

#define WHEP_OFFER_ERROR (whep_offer_error_quark ())
GQuark whep_offer_error_quark (void);

typedef enum
{
  WHEP_OFFER_ERROR_INVALID,     /* not SDP, no v=0, malformed fragment */
  WHEP_OFFER_ERROR_NO_CODEC,    /* nothing offered that we send */
} WhepOfferError;

typedef enum
{
  WHEP_KIND_OTHER,
  WHEP_KIND_VIDEO,
  WHEP_KIND_AUDIO,
} WhepMediaKind;

/* What we send: one encoding name per kind, NULL when we send none. */
typedef struct
{
  const gchar *video;           /* "VP8", "VP9", "H264" */
  const gchar *audio;           /* "OPUS" */
} WhepCodecSet;

/* One m-line of the offer and what we do with it. */
typedef struct
{
  WhepMediaKind kind;
  gchar *mid;                   /* NULL when the offer has none */
  gboolean accepted;            /* we send our codec on it */
  gint pt;                      /* the offer's PT for our codec, or -1 */
} WhepOfferMedia;

typedef struct
{
  GstSDPMessage *sdp;           /* the offer, unreachable candidates removed */
  GArray *medias;               /* of WhepOfferMedia, in m-line order */
  gchar *ice_ufrag;             /* of the first m-line (or session level) */
  gchar *ice_pwd;
} WhepOffer;

WhepOffer *whep_offer_parse (const gchar * text, gsize len,
    const WhepCodecSet * codecs, gboolean loopback_only, GError ** error);
void whep_offer_free (WhepOffer * offer);

/* The m-line index of @mid, or -1. */
gint whep_offer_find_mid (const WhepOffer * offer, const gchar * mid);

/* Whether the offer has an m-line of @kind that we accepted. */
gboolean whep_offer_accepts (const WhepOffer * offer, WhepMediaKind kind);

/* Whether "candidate:…" (with or without "a=") is a well-formed ICE
 * candidate that our agent can and may reach: an IP literal (never an mDNS
 * name, whose resolution would send multicast), and, when @loopback_only,
 * an address in 127.0.0.0/8 or ::1.  Sets *@malformed when it does not even
 * parse. */
gboolean whep_candidate_allowed (const gchar * candidate,
    gboolean loopback_only, gboolean * malformed);

/* One candidate of a trickle fragment, with the mid it belongs to. */
typedef struct
{
  gchar *mid;                   /* NULL when the fragment names none */
  gchar *candidate;             /* "candidate:…", without "a=" */
} WhepFragCandidate;

typedef struct
{
  gchar *ice_ufrag;             /* NULL when absent */
  gchar *ice_pwd;
  GPtrArray *candidates;        /* of WhepFragCandidate */
  gboolean end_of_candidates;
} WhepSdpFrag;

/* Parses an application/trickle-ice-sdpfrag body. */
WhepSdpFrag *whep_sdpfrag_parse (const gchar * text, gsize len,
    GError ** error);
void whep_sdpfrag_free (WhepSdpFrag * frag);

/* Makes our answer say what we do: sendonly on the m-lines we accepted,
 * inactive on the others. */
void whep_answer_fix_directions (GstSDPMessage * answer,
    const WhepOffer * offer);

/* The "sha-256 AA:BB:…" fingerprint of the first certificate in @pem, or
 * NULL.  webrtcbin hashes every base64 line of a PEM, key included, so
 * with a PEM of our own we must write the fingerprint ourselves. */
gchar *whep_pem_fingerprint (const gchar * pem);

/* Replaces every a=fingerprint of @sdp (session and media level). */
void whep_sdp_set_fingerprint (GstSDPMessage * sdp, const gchar * fingerprint);

/* @sdp as text with its last m-section cut off (--answer-mismatch). */
gchar *whep_sdp_text_drop_last_media (const gchar * sdp);

/* @sdp as text with every a=fingerprint changed, so that it no longer
 * matches the certificate the server presents (--wrong-fingerprint). */
gchar *whep_sdp_text_wrong_fingerprint (const gchar * sdp);

/* @sdp as text with its a=framerate lines (webrtcbin writes the
 * caps' rate) replaced by "a=framerate:@rate" after each video m-line, or
 * removed for @rate "none" (--sdp-framerate). */
gchar *whep_sdp_text_add_framerate (const gchar * sdp, const gchar * rate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WhepOffer, whep_offer_free);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WhepSdpFrag, whep_sdpfrag_free);

G_END_DECLS
