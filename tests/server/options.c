/* whep-test-server — command line options.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "options.h"

#include <string.h>

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PATH "/whep/cam"
#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 360
#define DEFAULT_FPS 30
#define DEFAULT_AUTH_STATUS 401
#define DEFAULT_NOT_LIVE_STATUS 409
/* MediaMTX's webrtcHandshakeTimeout. */
#define DEFAULT_HANDSHAKE_TIMEOUT 10.0
/* RFC 7675's consent expiry; a player sends RTCP every few seconds. */
#define DEFAULT_MEDIA_TIMEOUT 30.0

/* Raw strings as GOption hands them over, checked and converted after. */
typedef struct
{
  gchar *video;
  gchar *audio;
  gchar *patch;
  gchar *etag;
  gchar *error_format;
  gchar *location;
  gchar *pem_file;
  gchar **ice_servers;
} RawOptions;

static void
raw_options_clear (RawOptions * raw)
{
  g_free (raw->video);
  g_free (raw->audio);
  g_free (raw->patch);
  g_free (raw->etag);
  g_free (raw->error_format);
  g_free (raw->location);
  g_free (raw->pem_file);
  g_strfreev (raw->ice_servers);
}

static void
ice_server_free (gpointer data)
{
  WhepIceServer *server = data;

  g_free (server->uri);
  g_free (server->username);
  g_free (server->credential);
  g_free (server);
}

void
whep_server_options_free (WhepServerOptions * opts)
{
  if (opts == NULL)
    return;

  g_free (opts->address);
  g_free (opts->path);
  g_strfreev (opts->ice_addresses);
  g_free (opts->token);
  g_free (opts->sdp_framerate);
  g_clear_pointer (&opts->ice_servers, g_ptr_array_unref);
  g_free (opts->pem);
  g_free (opts);
}

const gchar *
whep_video_codec_encoding_name (WhepVideoCodec codec)
{
  switch (codec) {
    case WHEP_VIDEO_VP8:
      return "VP8";
    case WHEP_VIDEO_VP9:
      return "VP9";
    case WHEP_VIDEO_H264:
      return "H264";
    case WHEP_VIDEO_H265:
      return "H265";
    case WHEP_VIDEO_NONE:
    default:
      return NULL;
  }
}

const gchar *
whep_audio_codec_encoding_name (WhepAudioCodec codec)
{
  return codec == WHEP_AUDIO_OPUS ? "OPUS" : NULL;
}

/* Maps @value to the index of the matching name in the NULL-terminated
 * @names; -1 when there is none. */
static gint
choice_index (const gchar * value, const gchar * const *names)
{
  gint i;

  for (i = 0; names[i] != NULL; i++) {
    if (g_ascii_strcasecmp (value, names[i]) == 0)
      return i;
  }
  return -1;
}

static gboolean
parse_choice (const gchar * option, const gchar * value,
    const gchar * const *names, gint * result, GError ** error)
{
  gint index;
  g_autofree gchar *list = NULL;

  if (value == NULL)
    return TRUE;

  index = choice_index (value, names);
  if (index >= 0) {
    *result = index;
    return TRUE;
  }

  list = g_strjoinv ("|", (gchar **) names);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "--%s must be one of %s, not '%s'", option, list, value);
  return FALSE;
}

/* 'URI[;username=U;credential=C]' */
static WhepIceServer *
parse_ice_server (const gchar * spec, GError ** error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ";", -1);
  WhepIceServer *server;
  gint i;

  if (parts[0] == NULL || *g_strstrip (parts[0]) == '\0') {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--link-ice-server needs a URI, got '%s'", spec);
    return NULL;
  }

  server = g_new0 (WhepIceServer, 1);
  server->uri = g_strdup (parts[0]);
  for (i = 1; parts[i] != NULL; i++) {
    gchar *field = g_strstrip (parts[i]);

    if (g_str_has_prefix (field, "username=")) {
      g_free (server->username);
      server->username = g_strdup (field + strlen ("username="));
    } else if (g_str_has_prefix (field, "credential=")) {
      g_free (server->credential);
      server->credential = g_strdup (field + strlen ("credential="));
    } else if (*field != '\0') {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--link-ice-server: unknown field '%s'", field);
      ice_server_free (server);
      return NULL;
    }
  }

  return server;
}

static gboolean
load_pem (WhepServerOptions * opts, const gchar * file, GError ** error)
{
  gchar *contents = NULL;

  if (file == NULL)
    return TRUE;

  if (!g_file_get_contents (file, &contents, NULL, error))
    return FALSE;

  if (strstr (contents, "-----BEGIN CERTIFICATE-----") == NULL
      || strstr (contents, "PRIVATE KEY-----") == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--pem %s must hold a certificate and its private key", file);
    g_free (contents);
    return FALSE;
  }

  opts->pem = contents;
  return TRUE;
}

static gboolean
check_status (const gchar * option, gint status, GError ** error)
{
  if (status >= 100 && status <= 599)
    return TRUE;

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "--%s must be an HTTP status code, not %d", option, status);
  return FALSE;
}

/* Cross-option checks and conversions of the raw strings. */
static gboolean
finish_options (WhepServerOptions * opts, RawOptions * raw, GError ** error)
{
  static const gchar *const videos[] = { "none", "vp8", "vp9", "h264", "h265",
    NULL
  };
  static const gchar *const audios[] = { "none", "opus", NULL };
  static const gchar *const patches[] = { "trickle", "405", "501", "none",
    NULL
  };
  static const gchar *const etags[] = { "quoted", "star", "none", NULL };
  static const gchar *const locations[] = { "relative", "absolute", "query",
    "none", NULL
  };
  static const gchar *const formats[] = { "text", "problem", NULL };
  gint value;
  guint i;

  value = opts->video;
  if (!parse_choice ("video", raw->video, videos, &value, error))
    return FALSE;
  opts->video = value;
  value = opts->audio;
  if (!parse_choice ("audio", raw->audio, audios, &value, error))
    return FALSE;
  opts->audio = value;
  value = opts->patch;
  if (!parse_choice ("patch", raw->patch, patches, &value, error))
    return FALSE;
  opts->patch = value;
  value = opts->etag;
  if (!parse_choice ("etag", raw->etag, etags, &value, error))
    return FALSE;
  opts->etag = value;
  value = opts->location;
  if (!parse_choice ("location", raw->location, locations, &value, error))
    return FALSE;
  opts->location = value;
  value = opts->error_format;
  if (!parse_choice ("error-format", raw->error_format, formats, &value, error))
    return FALSE;
  opts->error_format = value;

  if (opts->video == WHEP_VIDEO_NONE && opts->audio == WHEP_AUDIO_NONE) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--video none and --audio none: nothing to send");
    return FALSE;
  }
  if (opts->port < 0 || opts->port > 65535 || opts->width < 16
      || opts->height < 16 || opts->fps < 1 || opts->fps > 240) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--port, --width, --height or --fps out of range");
    return FALSE;
  }
  /* "/whep/cam/" and "/whep/cam" name one endpoint. */
  while (strlen (opts->path) > 1 && g_str_has_suffix (opts->path, "/"))
    opts->path[strlen (opts->path) - 1] = '\0';
  if (opts->path[0] != '/' || strcmp (opts->path, "/") == 0
      || g_str_has_prefix (opts->path, "/admin/")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--path must start with '/' and not be / or under /admin/, not '%s'",
        opts->path);
    return FALSE;
  }
  if (opts->auth_status != 401 && opts->auth_status != 403) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--auth-status must be 401 or 403");
    return FALSE;
  }
  if (opts->redirect != 0 && opts->redirect != 307 && opts->redirect != 308) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--redirect must be 307 or 308");
    return FALSE;
  }
  if (opts->not_live_status != 404 && opts->not_live_status != 409
      && opts->not_live_status != 503) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--not-live-status must be 404, 409 or 503");
    return FALSE;
  }
  if (opts->inject_status != 0
      && !check_status ("inject-status", opts->inject_status, error))
    return FALSE;
  if (opts->created_status != 0 && (opts->created_status < 200
          || opts->created_status > 299)) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--created-status must be a 2xx status");
    return FALSE;
  }
  if ((opts->delete_status != 0
          && !check_status ("delete-status", opts->delete_status, error))
      || (opts->patch_status != 0
          && !check_status ("patch-status", opts->patch_status, error)))
    return FALSE;
  if (opts->pem != NULL && opts->unique_certificate) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--pem and --unique-certificate exclude each other");
    return FALSE;
  }
  if (opts->session_limit < 0 || opts->kill_after < 0 || opts->not_live < 0
      || opts->handshake_timeout < 0 || opts->media_timeout < 0
      || opts->reconnect_after < 0
      || opts->answer_delay_ms < 0 || opts->audio_delay_ms < 0
      || opts->max_sessions < 0 || opts->inject_count < 0
      || opts->retry_after < 0) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "durations and counts must not be negative");
    return FALSE;
  }
  if (opts->fec_percentage < 0 || opts->fec_percentage > 100) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--fec takes a percentage from 0 to 100");
    return FALSE;
  }
  if (opts->reconnect_after > 0 && !opts->sse) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--reconnect-after needs --sse");
    return FALSE;
  }

  if (opts->ice_addresses == NULL || opts->ice_addresses[0] == NULL) {
    g_strfreev (opts->ice_addresses);
    opts->ice_addresses = g_new0 (gchar *, 2);
    opts->ice_addresses[0] = g_strdup (DEFAULT_ADDRESS);
  }

  opts->ice_servers = g_ptr_array_new_with_free_func (ice_server_free);
  for (i = 0; raw->ice_servers != NULL && raw->ice_servers[i] != NULL; i++) {
    WhepIceServer *server = parse_ice_server (raw->ice_servers[i], error);

    if (server == NULL)
      return FALSE;
    g_ptr_array_add (opts->ice_servers, server);
  }

  return load_pem (opts, raw->pem_file, error);
}

WhepServerOptions *
whep_server_options_parse (gint * argc, gchar *** argv, GError ** error)
{
  g_autoptr (WhepServerOptions) opts = g_new0 (WhepServerOptions, 1);
  g_autoptr (GOptionContext) context = NULL;
  RawOptions raw = { NULL, };
  gboolean ok;
  /* *INDENT-OFF* */
  GOptionEntry entries[] = {
    {"address", 0, 0, G_OPTION_ARG_STRING, &opts->address,
        "Address to listen on (default " DEFAULT_ADDRESS ")", "ADDR"},
    {"port", 0, 0, G_OPTION_ARG_INT, &opts->port,
        "Port to listen on (default 0: any free port)", "N"},
    {"path", 0, 0, G_OPTION_ARG_STRING, &opts->path,
        "WHEP endpoint path (default " DEFAULT_PATH ")", "PATH"},
    {"ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->ice_addresses,
        "Local address for ICE, repeatable (default 127.0.0.1)", "ADDR"},
    {"video", 0, 0, G_OPTION_ARG_STRING, &raw.video,
        "Video codec: vp8|vp9|h264|h265|none (default vp8)", "CODEC"},
    {"audio", 0, 0, G_OPTION_ARG_STRING, &raw.audio,
        "Audio codec: opus|none (default none)", "CODEC"},
    {"width", 0, 0, G_OPTION_ARG_INT, &opts->width, "Video width", "N"},
    {"height", 0, 0, G_OPTION_ARG_INT, &opts->height, "Video height", "N"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &opts->fps, "Video frame rate", "N"},
    {"session-limit", 0, 0, G_OPTION_ARG_DOUBLE, &opts->session_limit,
        "End each session this long after its POST (\"expired\")", "SECONDS"},
    {"kill-after", 0, 0, G_OPTION_ARG_DOUBLE, &opts->kill_after,
        "End each session this long after its POST (\"killed\")", "SECONDS"},
    {"max-sessions", 0, 0, G_OPTION_ARG_INT, &opts->max_sessions,
        "Answer 409 when this many sessions are active", "N"},
    {"patch", 0, 0, G_OPTION_ARG_STRING, &raw.patch,
        "PATCH handling: trickle|405|501|none (default trickle)", "MODE"},
    {"etag", 0, 0, G_OPTION_ARG_STRING, &raw.etag,
        "ETag in the 201: quoted|star|none (default quoted)", "MODE"},
    {"no-ice-restart", 0, 0, G_OPTION_ARG_NONE, &opts->no_ice_restart,
        "Answer ICE restart PATCHes with 422 (trickle only)", NULL},
    {"strict-etag", 0, 0, G_OPTION_ARG_NONE, &opts->strict_etag,
        "PATCH needs a matching If-Match (412, 428 when missing)", NULL},
    {"token", 0, 0, G_OPTION_ARG_STRING, &opts->token,
        "Require Authorization: Bearer TOKEN", "TOKEN"},
    {"auth-status", 0, 0, G_OPTION_ARG_INT, &opts->auth_status,
        "Status for a missing or wrong token: 401|403 (default 401)", "CODE"},
    {"link-ice-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &raw.ice_servers,
        "Add a Link rel=ice-server header, repeatable",
        "URI[;username=U;credential=C]"},
    {"answer-delay", 0, 0, G_OPTION_ARG_INT, &opts->answer_delay_ms,
        "Delay every POST answer", "MS"},
    {"audio-delay", 0, 0, G_OPTION_ARG_INT, &opts->audio_delay_ms,
        "Start each session's audio this long after its media starts "
        "(a session's first audio after its first picture)", "MS"},
    {"inject-status", 0, 0, G_OPTION_ARG_INT, &opts->inject_status,
        "Answer POSTs with this status instead of handling them", "CODE"},
    {"inject-count", 0, 0, G_OPTION_ARG_INT, &opts->inject_count,
        "Only the first N POSTs get --inject-status (0: all)", "N"},
    {"retry-after", 0, 0, G_OPTION_ARG_INT, &opts->retry_after,
        "Retry-After for injected errors", "SECONDS"},
    {"error-format", 0, 0, G_OPTION_ARG_STRING, &raw.error_format,
        "Injected error bodies: text|problem (default text)", "FORMAT"},
    {"not-live", 0, 0, G_OPTION_ARG_DOUBLE, &opts->not_live,
        "Nothing is published for this long after the first POST",
        "SECONDS"},
    {"not-live-status", 0, 0, G_OPTION_ARG_INT, &opts->not_live_status,
        "Status while not live: 404|409|503 (default 409)", "CODE"},
    {"redirect", 0, 0, G_OPTION_ARG_INT, &opts->redirect,
        "Redirect POSTs to PATH/real with 307|308", "CODE"},
    {"location", 0, 0, G_OPTION_ARG_STRING, &raw.location,
        "Location form: relative|absolute|query|none (default relative)",
        "MODE"},
    {"counter-offer", 0, 0, G_OPTION_ARG_NONE, &opts->counter_offer,
        "Answer POST with 406 and a server offer", NULL},
    {"strict-content-type", 0, 0, G_OPTION_ARG_NONE,
        &opts->strict_content_type,
        "POST Content-Type must be exactly application/sdp", NULL},
    {"answer-garbage", 0, 0, G_OPTION_ARG_NONE, &opts->answer_garbage,
        "201 with a body that is not SDP", NULL},
    {"answer-empty", 0, 0, G_OPTION_ARG_NONE, &opts->answer_empty,
        "201 with no body", NULL},
    {"answer-mismatch", 0, 0, G_OPTION_ARG_NONE, &opts->answer_mismatch,
        "201 with fewer m-lines than the offer", NULL},
    {"get-status", 0, 0, G_OPTION_ARG_INT, &opts->get_status,
          "Answer GET on a live session with this status (a Node/Express "
          "server that does not route GET answers 404)", "CODE"},
    {"no-retransmit", 0, 0, G_OPTION_ARG_NONE, &opts->no_retransmit,
        "Never retransmit video on NACK (no RTX in the answer)", NULL},
    {"no-ice", 0, 0, G_OPTION_ARG_NONE, &opts->no_ice,
          "ICE never starts: the answer names no candidate, and the "
          "player's candidates (offer, PATCH) are ignored", NULL},
    {"fec", 0, 0, G_OPTION_ARG_INT, &opts->fec_percentage,
          "Send video with ULPFEC in RED where the offer has it, FEC for "
          "PERCENT % of the packets (0: none, the default)", "PERCENT"},
    {"sdp-framerate", 0, 0, G_OPTION_ARG_STRING, &opts->sdp_framerate,
        "Declare this frame rate (a=framerate) in the answer's video section "
        "instead of the source's ('none': no a=framerate)", "RATE"},
    {"wrong-fingerprint", 0, 0, G_OPTION_ARG_NONE, &opts->wrong_fingerprint,
        "201 whose a=fingerprint matches no certificate (DTLS must fail)",
        NULL},
    {"pem", 0, 0, G_OPTION_ARG_FILENAME, &raw.pem_file,
        "DTLS certificate and key of every session", "FILE"},
    {"unique-certificate", 0, 0, G_OPTION_ARG_NONE, &opts->unique_certificate,
        "Generate a DTLS certificate per session", NULL},
    {"handshake-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opts->handshake_timeout,
        "End sessions not connected this long after their POST (default 10)",
        "SECONDS"},
    {"media-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opts->media_timeout,
          "End connected sessions from which nothing (RTCP) arrived for this "
          "long (default 30, 0: never)", "SECONDS"},
    {"sse", 0, 0, G_OPTION_ARG_NONE, &opts->sse,
        "Offer WHEP server-sent events (active, inactive, reconnect) with "
        "a Link header in the 201", NULL},
    {"reconnect-after", 0, 0, G_OPTION_ARG_DOUBLE, &opts->reconnect_after,
          "Send each session the SSE event 'reconnect' this long after its "
          "POST; the session lives on (needs --sse)", "SECONDS"},
    {"bye-on-kill", 0, 0, G_OPTION_ARG_NONE, &opts->bye_on_kill,
        "Killed sessions send RTCP BYE before they stop", NULL},
    {"created-status", 0, 0, G_OPTION_ARG_INT, &opts->created_status,
        "Answer a successful POST with this 2xx instead of 201", "CODE"},
    {"delete-status", 0, 0, G_OPTION_ARG_INT, &opts->delete_status,
          "Answer DELETE on a session with this status and keep the session "
          "(it ends by a timeout)", "CODE"},
    {"delete-stall", 0, 0, G_OPTION_ARG_NONE, &opts->delete_stall,
          "Never answer DELETE on a session, and keep the session (it ends "
          "by a timeout)", NULL},
    {"patch-status", 0, 0, G_OPTION_ARG_INT, &opts->patch_status,
        "Answer PATCH on a session with this status", "CODE"},
    {"patch-stall", 0, 0, G_OPTION_ARG_NONE, &opts->patch_stall,
        "Never answer PATCH on a session", NULL},
    {NULL}
  };
  /* *INDENT-ON* */

  opts->video = WHEP_VIDEO_VP8;
  opts->audio = WHEP_AUDIO_NONE;
  opts->width = DEFAULT_WIDTH;
  opts->height = DEFAULT_HEIGHT;
  opts->fps = DEFAULT_FPS;
  opts->auth_status = DEFAULT_AUTH_STATUS;
  opts->not_live_status = DEFAULT_NOT_LIVE_STATUS;
  opts->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
  opts->media_timeout = DEFAULT_MEDIA_TIMEOUT;

  context = g_option_context_new ("- a WHEP test server");
  g_option_context_add_main_entries (context, entries, NULL);
  ok = g_option_context_parse (context, argc, argv, error);
  if (ok) {
    if (opts->address == NULL)
      opts->address = g_strdup (DEFAULT_ADDRESS);
    if (opts->path == NULL)
      opts->path = g_strdup (DEFAULT_PATH);
    ok = finish_options (opts, &raw, error);
  }
  raw_options_clear (&raw);

  return ok ? g_steal_pointer (&opts) : NULL;
}
