/* whep-test-server — command line options.
 *
 * The options are parsed once in main() and are read-only afterwards, so
 * every thread may read them without a lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  WHEP_VIDEO_NONE,
  WHEP_VIDEO_VP8,
  WHEP_VIDEO_VP9,
  WHEP_VIDEO_H264,
  WHEP_VIDEO_H265,
} WhepVideoCodec;

typedef enum
{
  WHEP_AUDIO_NONE,
  WHEP_AUDIO_OPUS,
} WhepAudioCodec;

/* What the server does with PATCH requests (--patch). */
typedef enum
{
  WHEP_PATCH_TRICKLE,
  WHEP_PATCH_405,               /* 405, with Accept-Patch still advertised */
  WHEP_PATCH_501,
  WHEP_PATCH_NONE,              /* 405 and no Accept-Patch header */
} WhepPatchMode;

typedef enum
{
  WHEP_ETAG_QUOTED,
  WHEP_ETAG_STAR,               /* MediaMTX: an unquoted "*" */
  WHEP_ETAG_NONE,
} WhepEtagMode;

typedef enum
{
  WHEP_LOCATION_RELATIVE,
  WHEP_LOCATION_ABSOLUTE,
  WHEP_LOCATION_QUERY,          /* SRS: relative path plus a query string */
  WHEP_LOCATION_NONE,           /* go2rtc: no Location at all */
} WhepLocationMode;

typedef enum
{
  WHEP_ERROR_FORMAT_TEXT,
  WHEP_ERROR_FORMAT_PROBLEM,    /* RFC 9457 application/problem+json */
} WhepErrorFormat;

/* A STUN/TURN server announced with a Link header (--link-ice-server). */
typedef struct
{
  gchar *uri;
  gchar *username;              /* NULL when not given */
  gchar *credential;            /* NULL when not given */
} WhepIceServer;

typedef struct
{
  gchar *address;
  gint port;
  gchar *path;
  gchar **ice_addresses;

  WhepVideoCodec video;
  WhepAudioCodec audio;
  gint width;
  gint height;
  gint fps;

  gdouble session_limit;        /* seconds, 0 = none */
  gdouble kill_after;           /* seconds, 0 = none */
  gint max_sessions;            /* 0 = unlimited */
  WhepPatchMode patch;
  WhepEtagMode etag;
  gboolean strict_etag;
  gboolean no_ice_restart;      /* 422 to ICE restarts (trickle only) */
  gchar *token;
  gint auth_status;
  GPtrArray *ice_servers;       /* of WhepIceServer */
  gint answer_delay_ms;
  gint audio_delay_ms;          /* audio starts this long after video */
  gint inject_status;           /* 0 = none */
  gint inject_count;            /* 0 = every POST */
  gint retry_after;             /* seconds, 0 = no header */
  WhepErrorFormat error_format;
  gdouble not_live;             /* seconds after start */
  gint not_live_status;
  gint redirect;                /* 0, 307 or 308 */
  WhepLocationMode location;
  gboolean counter_offer;
  gboolean strict_content_type;
  gboolean answer_garbage;
  gboolean answer_empty;
  gboolean answer_mismatch;
  gboolean wrong_fingerprint;
  gboolean no_retransmit;       /* video without NACK/RTX (do-nack off) */
  gboolean no_ice;              /* ICE never starts: no candidate either
                                 * way (a server whose ICE is broken) */
  gint fec_percentage;          /* > 0: ULPFEC in RED where the offer has
                                 * it, protecting this % of the packets */
  gchar *sdp_framerate;         /* a=framerate added to video (NULL: none) */
  gint get_status;              /* GET on a live session: this status (0: 200) */
  gchar *pem;                   /* contents of --pem, not the file name */
  gboolean unique_certificate;
  gdouble handshake_timeout;    /* seconds, 0 = none */
  gdouble media_timeout;        /* seconds without data from the player */
  gboolean sse;                 /* server-sent events extension */
  gdouble reconnect_after;      /* seconds, 0 = never (needs --sse) */
  gboolean bye_on_kill;         /* killed sessions send RTCP BYE first */
  /* Faults of the fault-matrix suite (tests/check/faults.c). */
  gint created_status;          /* 2xx of a successful POST (0: 201) */
  gint delete_status;           /* DELETE answered so, session kept (0: none) */
  gboolean delete_stall;        /* DELETE never answered, session kept */
  gint patch_status;            /* PATCH on a session answered so (0: none) */
  gboolean patch_stall;         /* PATCH never answered */
} WhepServerOptions;

WhepServerOptions *whep_server_options_parse (gint * argc, gchar *** argv,
    GError ** error);
void whep_server_options_free (WhepServerOptions * opts);

/* The names the options use, for messages ("VP8", "OPUS"; NULL for none). */
const gchar *whep_video_codec_encoding_name (WhepVideoCodec codec);
const gchar *whep_audio_codec_encoding_name (WhepAudioCodec codec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WhepServerOptions, whep_server_options_free);

G_END_DECLS
