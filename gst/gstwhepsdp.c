/* whepsrc — pure SDP helpers: codec table, answer checks, trickle-ICE
 * fragments.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsdp.h"
#include "gstwheputils.h"

#include <string.h>
#include <gio/gio.h>

/* Payload types are fixed so that offers are reproducible and tests can
 * name them; the dynamic ones follow the numbering browsers made common,
 * which keeps server logs familiar. */
static const GstWhepCodec codecs[] = {
  {
        .kind = GST_WHEP_MEDIA_VIDEO,
        .encoding_name = "VP8",
        .clock_rate = 90000,
        .payload_type = 96,
        .depayloader_caps =
        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000",
        .decoder_caps = "video/x-vp8",
      },
  {
        .kind = GST_WHEP_MEDIA_VIDEO,
        .encoding_name = "VP9",
        .clock_rate = 90000,
        .payload_type = 98,
        .fmtp = "profile-id=0",
        .depayloader_caps =
        "application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000",
        .decoder_caps = "video/x-vp9",
      },
  {
        .kind = GST_WHEP_MEDIA_VIDEO,
        .encoding_name = "H264",
        .clock_rate = 90000,
        .payload_type = 102,
        .fmtp = "packetization-mode=1;profile-level-id=42e01f;"
        "level-asymmetry-allowed=1",
        .depayloader_caps =
        "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000",
        .decoder_caps = "video/x-h264, stream-format=byte-stream, alignment=au",
      },
  {
        .kind = GST_WHEP_MEDIA_VIDEO,
        .encoding_name = "H265",
        .clock_rate = 90000,
        .payload_type = 104,
        .depayloader_caps =
        "application/x-rtp,media=video,encoding-name=H265,clock-rate=90000",
        .decoder_caps = "video/x-h265",
      },
  {
        .kind = GST_WHEP_MEDIA_VIDEO,
        .encoding_name = "AV1",
        .clock_rate = 90000,
        .payload_type = 106,
        .depayloader_caps =
        "application/x-rtp,media=video,encoding-name=AV1,clock-rate=90000",
        .decoder_caps = "video/x-av1",
      },
  {
        .kind = GST_WHEP_MEDIA_AUDIO,
        .encoding_name = "OPUS",
        .clock_rate = 48000,
        .encoding_params = 2,
        .payload_type = 111,
        .fmtp = "minptime=10;useinbandfec=1",
        .depayloader_caps =
        "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000",
        .decoder_caps = "audio/x-opus",
      },
  {
        .kind = GST_WHEP_MEDIA_AUDIO,
        .encoding_name = "PCMU",
        .clock_rate = 8000,
        .payload_type = 0,
        .depayloader_caps =
        "application/x-rtp,media=audio,encoding-name=PCMU,clock-rate=8000",
        .decoder_caps = "audio/x-mulaw",
      },
  {
        .kind = GST_WHEP_MEDIA_AUDIO,
        .encoding_name = "PCMA",
        .clock_rate = 8000,
        .payload_type = 8,
        .depayloader_caps =
        "application/x-rtp,media=audio,encoding-name=PCMA,clock-rate=8000",
        .decoder_caps = "audio/x-alaw",
      },
  {.encoding_name = NULL},
};

const GstWhepCodec *
gst_whep_codecs (void)
{
  return codecs;
}

static const gchar *
media_kind_name (GstWhepMediaKind kind)
{
  return kind == GST_WHEP_MEDIA_AUDIO ? "audio" : "video";
}

/* --- offer caps --- */

/* The structure webrtcbin's transceiver "codec-preferences" turns into
 * rtpmap/fmtp/rtcp-fb lines. */
static GstStructure *
codec_rtp_structure (const GstWhepCodec * codec)
{
  GstStructure *s = gst_structure_new ("application/x-rtp",
      "media", G_TYPE_STRING, media_kind_name (codec->kind),
      "encoding-name", G_TYPE_STRING, codec->encoding_name,
      "clock-rate", G_TYPE_INT, codec->clock_rate,
      "payload", G_TYPE_INT, codec->payload_type, NULL);

  /* A string, not an int: webrtcbin writes the channel count into the
   * rtpmap ("OPUS/48000/2", which libwebrtc insists on) only then. */
  if (codec->encoding_params > 0) {
    g_autofree gchar *params = g_strdup_printf ("%d", codec->encoding_params);
    gst_structure_set (s, "encoding-params", G_TYPE_STRING, params, NULL);
  }

  if (codec->fmtp != NULL) {
    g_auto (GStrv) pairs = g_strsplit (codec->fmtp, ";", -1);
    guint i;

    for (i = 0; pairs[i] != NULL; i++) {
      gchar *eq = strchr (pairs[i], '=');

      if (eq == NULL)
        continue;
      *eq = '\0';
      gst_structure_set (s, g_strstrip (pairs[i]), G_TYPE_STRING,
          g_strstrip (eq + 1), NULL);
    }
  }

  if (codec->kind == GST_WHEP_MEDIA_VIDEO) {
    gst_structure_set (s, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  }

  return s;
}

/* The filter may name either side of the depayloader ("video-caps" of
 * "application/x-rtp,encoding-name=VP8" or simply "video/x-vp8"). */
static gboolean
codec_matches_filter (const GstWhepCodec * codec, const GstStructure * rtp,
    const GstCaps * filter)
{
  g_autoptr (GstCaps) rtp_caps = NULL;
  g_autoptr (GstCaps) decoder_caps = NULL;

  if (filter == NULL)
    return TRUE;

  rtp_caps = gst_caps_new_full (gst_structure_copy (rtp), NULL);
  if (gst_caps_can_intersect (rtp_caps, filter))
    return TRUE;

  decoder_caps = gst_caps_from_string (codec->decoder_caps);
  return decoder_caps != NULL && gst_caps_can_intersect (decoder_caps, filter);
}

GstCaps *
gst_whep_sdp_offer_caps (GstWhepMediaKind kind, const GstCaps * filter,
    GstWhepCodecAvailableFunc available, gpointer user_data)
{
  GstCaps *caps = gst_caps_new_empty ();
  const GstWhepCodec *codec;

  for (codec = codecs; codec->encoding_name != NULL; codec++) {
    GstStructure *s;

    if (codec->kind != kind)
      continue;
    if (available != NULL && !available (codec, user_data))
      continue;

    s = codec_rtp_structure (codec);
    if (!codec_matches_filter (codec, s, filter)) {
      gst_structure_free (s);
      continue;
    }
    gst_caps_append_structure (caps, s);
  }

  if (gst_caps_is_empty (caps)) {
    gst_caps_unref (caps);
    return NULL;
  }
  return caps;
}

/* --- answer checks --- */

static gboolean
media_is_rejected (const GstSDPMedia * media)
{
  return gst_sdp_media_get_port (media) == 0;
}

static gboolean
media_is_kind (const GstSDPMedia * media, GstWhepMediaKind kind)
{
  return g_strcmp0 (gst_sdp_media_get_media (media),
      media_kind_name (kind)) == 0;
}

/* The direction attribute of @media, falling back to the session level,
 * then to the RFC 3264 default. */
static const gchar *
media_direction (const GstSDPMessage * msg, const GstSDPMedia * media)
{
  static const gchar *const directions[] = {
    "sendonly", "recvonly", "sendrecv", "inactive", NULL
  };
  guint i;

  for (i = 0; directions[i] != NULL; i++) {
    if (gst_sdp_media_get_attribute_val (media, directions[i]) != NULL)
      return directions[i];
  }
  for (i = 0; directions[i] != NULL; i++) {
    if (gst_sdp_message_get_attribute_val (msg, directions[i]) != NULL)
      return directions[i];
  }
  return "sendrecv";
}

/* TRUE when attribute @name is at session level or in any accepted
 * m-line.  With BUNDLE the transport attributes may legitimately appear in
 * one m-line only, so we do not demand them in each. */
static gboolean
has_attribute_anywhere (const GstSDPMessage * msg, const gchar * name)
{
  guint i;

  if (gst_sdp_message_get_attribute_val (msg, name) != NULL)
    return TRUE;
  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    if (!media_is_rejected (media)
        && gst_sdp_media_get_attribute_val (media, name) != NULL)
      return TRUE;
  }
  return FALSE;
}

static gboolean
media_has_format (const GstSDPMedia * media, const gchar * fmt)
{
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    if (g_strcmp0 (gst_sdp_media_get_format (media, i), fmt) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
check_transport (const GstSDPMessage * msg, const gchar * what, GError ** error)
{
  if (!has_attribute_anywhere (msg, "ice-ufrag")
      || !has_attribute_anywhere (msg, "ice-pwd")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the %s has no ICE credentials (a=ice-ufrag and a=ice-pwd)", what);
    return FALSE;
  }
  if (!has_attribute_anywhere (msg, "fingerprint")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the %s has no DTLS fingerprint (a=fingerprint)", what);
    return FALSE;
  }
  return TRUE;
}

/* The first payload type of @answered that @offered also lists, or NULL;
 * *first_pt is set to the first one the answer lists at all (NULL when it
 * lists none: the SDP parser keeps an empty format for "m=video 9 X"). */
static const gchar *
common_payload_type (const GstSDPMedia * offered, const GstSDPMedia * answered,
    const gchar ** first_pt)
{
  guint i;

  *first_pt = NULL;
  for (i = 0; i < gst_sdp_media_formats_len (answered); i++) {
    const gchar *fmt = gst_sdp_media_get_format (answered, i);

    if (fmt == NULL || *fmt == '\0')
      continue;
    if (*first_pt == NULL)
      *first_pt = fmt;
    if (media_has_format (offered, fmt))
      return fmt;
  }
  return NULL;
}

/* Checks answer m-line @idx against offer m-line @idx; both exist and
 * are of the same kind. */
static gboolean
check_answer_media (const GstSDPMessage * answer, guint idx,
    const GstSDPMedia * offered, const GstSDPMedia * answered, GError ** error)
{
  const gchar *kind = gst_sdp_media_get_media (answered);
  const gchar *direction, *first_pt;

  if (common_payload_type (offered, answered, &first_pt) == NULL) {
    if (first_pt == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "m-line %u (%s): the answer lists no payload type", idx, kind);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "m-line %u (%s): the answer picked payload type %s, which the "
          "offer did not contain", idx, kind, first_pt);
    return FALSE;
  }

  direction = media_direction (answer, answered);
  if (g_str_equal (direction, "recvonly")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "m-line %u (%s): the answer is recvonly, so the server would send "
        "nothing", idx, kind);
    return FALSE;
  }

  return TRUE;
}

/* TRUE when @sdp leaves the DTLS role open (a=setup:actpass at session
 * level or in any m-line), as only an offer does. */
static gboolean
sdp_is_an_offer (const GstSDPMessage * sdp)
{
  guint i;

  if (g_strcmp0 (gst_sdp_message_get_attribute_val (sdp, "setup"),
          "actpass") == 0)
    return TRUE;
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media
                (sdp, i), "setup"), "actpass") == 0)
      return TRUE;
  return FALSE;
}

gboolean
gst_whep_sdp_check_answer (const GstSDPMessage * offer,
    const GstSDPMessage * answer, GError ** error)
{
  guint n_offer, n_answer, i, n_accepted = 0;

  g_return_val_if_fail (offer != NULL, FALSE);
  g_return_val_if_fail (answer != NULL, FALSE);

  /* An answer's DTLS role is active or passive; only an offer leaves the
   * choice (actpass).  A server that sends its own offer in a 201 (Janus
   * behind some WHEP fronts) would otherwise fail deep in webrtcbin with
   * "Cannot intersect direction attributes". */
  if (sdp_is_an_offer (answer)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the server sent an offer where an answer was expected "
        "(a=setup:actpass); a WHEP server that can only make offers must "
        "answer the POST with 406 and its offer (the counter-offer flow, "
        "which whepsrc supports)");
    return FALSE;
  }

  n_offer = gst_sdp_message_medias_len (offer);
  n_answer = gst_sdp_message_medias_len (answer);
  if (n_offer != n_answer) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the answer has %u m-lines, but the offer had %u", n_answer, n_offer);
    return FALSE;
  }

  for (i = 0; i < n_answer; i++) {
    const GstSDPMedia *offered = gst_sdp_message_get_media (offer, i);
    const GstSDPMedia *answered = gst_sdp_message_get_media (answer, i);

    if (g_strcmp0 (gst_sdp_media_get_media (offered),
            gst_sdp_media_get_media (answered)) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "m-line %u: the offer had %s there, but the answer has %s", i,
          gst_sdp_media_get_media (offered),
          gst_sdp_media_get_media (answered));
      return FALSE;
    }
    if (media_is_rejected (answered))
      continue;
    if (!check_answer_media (answer, i, offered, answered, error))
      return FALSE;
    n_accepted++;
  }

  if (n_accepted == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the answer rejected every m-line (all have port 0)");
    return FALSE;
  }

  return check_transport (answer, "answer", error);
}

gboolean
gst_whep_sdp_check_counter_offer (const GstSDPMessage * offer, GError ** error)
{
  guint i, n_media = 0;

  g_return_val_if_fail (offer != NULL, FALSE);

  for (i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (offer, i);

    if (media_is_rejected (media)
        || !(media_is_kind (media, GST_WHEP_MEDIA_AUDIO)
            || media_is_kind (media, GST_WHEP_MEDIA_VIDEO)))
      continue;
    if (g_str_equal (media_direction (offer, media), "recvonly")) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "m-line %u (%s): the counter-offer is recvonly, so the server "
          "would send nothing", i, gst_sdp_media_get_media (media));
      return FALSE;
    }
    n_media++;
  }

  if (n_media == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the counter-offer has no audio or video m-line");
    return FALSE;
  }

  return check_transport (offer, "counter-offer", error);
}

/* The encoding name of @pt in @media's rtpmap (a new string), or NULL;
 * *@clock_rate set from it. */
static gchar *
rtpmap_encoding (const GstSDPMedia * media, guint pt, guint * clock_rate)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    const gchar *name, *slash;
    guint64 value;

    if (g_strcmp0 (a->key, "rtpmap") || !a->value)
      continue;
    value = g_ascii_strtoull (a->value, &end, 10);
    if (end == a->value || value != pt || *end != ' ')
      continue;
    name = end + 1;
    slash = strchr (name, '/');
    if (!slash)
      return NULL;
    *clock_rate = (guint) g_ascii_strtoull (slash + 1, NULL, 10);
    return g_strndup (name, slash - name);
  }
  return NULL;
}

/* The codec payload types that an RTX format protects (fmtp apt=). */
static gboolean
has_rtx_for (const GstSDPMedia * media, guint pt)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    const gchar *apt;

    if (g_strcmp0 (a->key, "fmtp") || !a->value
        || !(apt = strstr (a->value, "apt=")))
      continue;
    if (g_ascii_strtoull (apt + 4, NULL, 10) == pt)
      return TRUE;
  }
  return FALSE;
}

static gboolean
pt_used (const GstSDPMessage * msg, guint pt)
{
  guint i, j;

  /* BUNDLE: one payload type space for every m-line. */
  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    for (j = 0; j < gst_sdp_media_formats_len (media); j++)
      if (g_ascii_strtoull (gst_sdp_media_get_format (media, j), NULL,
              10) == pt)
        return TRUE;
  }
  return FALSE;
}

static gboolean
pick_free_pt (const GstSDPMessage * msg, guint * pt)
{
  static const guint ranges[][2] = { {96, 127}, {35, 63} };
  guint r, candidate;

  for (r = 0; r < G_N_ELEMENTS (ranges); r++)
    for (candidate = ranges[r][0]; candidate <= ranges[r][1]; candidate++)
      if (!pt_used (msg, candidate)) {
        *pt = candidate;
        return TRUE;
      }
  return FALSE;
}

static gboolean
media_has_nack (const GstSDPMedia * media)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);

    if (!g_strcmp0 (a->key, "rtcp-fb") && a->value
        && strstr (a->value, " nack") && !strstr (a->value, "nack pli"))
      return TRUE;
  }
  return FALSE;
}

/* RFC 4588 rtx-time on every RTX format of @media that has none: how long
 * a retransmission is of use to us. */
static void
add_rtx_time (GstSDPMedia * media, guint rtx_time_ms)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    GstSDPAttribute replaced;
    g_autofree gchar *value = NULL;

    if (g_strcmp0 (a->key, "fmtp") || !a->value || !strstr (a->value, "apt=")
        || strstr (a->value, "rtx-time="))
      continue;
    value = g_strdup_printf ("%s;rtx-time=%u", a->value, rtx_time_ms);
    gst_sdp_attribute_set (&replaced, "fmtp", value);
    gst_sdp_media_replace_attribute (media, i, &replaced);
  }
}

guint
gst_whep_sdp_add_rtx (GstSDPMessage * msg, guint rtx_time_ms)
{
  guint i, j, added = 0;

  g_return_val_if_fail (msg != NULL, 0);

  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (msg, i);
    guint n_formats = gst_sdp_media_formats_len (media);

    if (!media_is_kind (media, GST_WHEP_MEDIA_VIDEO) || !media_has_nack (media))
      continue;
    for (j = 0; j < n_formats; j++) {
      guint pt = (guint) g_ascii_strtoull (gst_sdp_media_get_format (media,
              j), NULL, 10);
      guint clock_rate = 0, rtx_pt;
      g_autofree gchar *name = rtpmap_encoding (media, pt, &clock_rate);
      gchar value[48];

      if (!name || !clock_rate || !g_ascii_strcasecmp (name, "rtx")
          || !g_ascii_strcasecmp (name, "red")
          || !g_ascii_strcasecmp (name, "ulpfec") || has_rtx_for (media, pt)
          || !pick_free_pt (msg, &rtx_pt))
        continue;
      g_snprintf (value, sizeof value, "%u", rtx_pt);
      gst_sdp_media_add_format (media, value);
      g_snprintf (value, sizeof value, "%u rtx/%u", rtx_pt, clock_rate);
      gst_sdp_media_add_attribute (media, "rtpmap", value);
      g_snprintf (value, sizeof value, "%u apt=%u", rtx_pt, pt);
      gst_sdp_media_add_attribute (media, "fmtp", value);
      added++;
    }
    if (rtx_time_ms)
      add_rtx_time (media, rtx_time_ms);
  }
  return added;
}

void
gst_whep_sdp_video_payload_types (const GstSDPMessage * msg,
    gboolean video[128])
{
  guint i, j;

  g_return_if_fail (msg != NULL);

  memset (video, 0, 128 * sizeof (gboolean));
  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    if (media_is_rejected (media)
        || !media_is_kind (media, GST_WHEP_MEDIA_VIDEO))
      continue;
    for (j = 0; j < gst_sdp_media_formats_len (media); j++) {
      guint64 pt = g_ascii_strtoull (gst_sdp_media_get_format (media, j),
          NULL, 10);

      if (pt < 128)
        video[pt] = TRUE;
    }
  }
}

guint
gst_whep_sdp_count_candidates (const GstSDPMessage * msg)
{
  guint i, j, n = 0;

  g_return_val_if_fail (msg != NULL, 0);

  for (i = 0; i < gst_sdp_message_attributes_len (msg); i++)
    if (!g_strcmp0 (gst_sdp_message_get_attribute (msg, i)->key, "candidate"))
      n++;
  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    for (j = 0; j < gst_sdp_media_attributes_len (media); j++)
      if (!g_strcmp0 (gst_sdp_media_get_attribute (media, j)->key, "candidate"))
        n++;
  }
  return n;
}

guint
gst_whep_sdp_count_media (const GstSDPMessage * msg, GstWhepMediaKind kind)
{
  guint i, n = 0;

  g_return_val_if_fail (msg != NULL, 0);

  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    if (!media_is_rejected (media) && media_is_kind (media, kind))
      n++;
  }
  return n;
}

static gboolean
parse_framerate (const gchar * value, gint * num, gint * den)
{
  gchar *end = NULL;
  gdouble rate, ntsc;
  gint whole;

  if (value == NULL)
    return FALSE;
  rate = g_ascii_strtod (value, &end);
  while (end && g_ascii_isspace (*end))
    end++;
  if (end == value || (end && *end) || !(rate > 0 && rate <= 1000))
    return FALSE;
  /* The NTSC rates are written rounded ("29.97"): keep them exact. */
  ntsc = rate * 1.001;
  whole = (gint) (ntsc + 0.5);
  if (ABS (ntsc - whole) < 0.01 && ABS (rate - (gint) (rate + 0.5)) > 0.001) {
    *num = whole * 1000;
    *den = 1001;
  } else {
    /* Any other rate to a thousandth of a frame per second: the closest
     * fraction of "29.9563092458" is 172314712/5752201, which every caps
     * downstream would carry (and an int overflows on at 1000 × den; the
     * sdp-answer fuzz target found it). */
    gint milli = (gint) (rate * 1000 + 0.5);
    gint common =
        milli > 0 ? gst_util_greatest_common_divisor (milli, 1000) : 1;

    *num = milli / common;
    *den = 1000 / common;
  }
  return *num > 0 && *den > 0;
}

gboolean
gst_whep_sdp_video_framerate (const GstSDPMessage * msg, gint * num, gint * den)
{
  guint i;

  g_return_val_if_fail (msg != NULL && num != NULL && den != NULL, FALSE);

  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    if (media_is_rejected (media)
        || !media_is_kind (media, GST_WHEP_MEDIA_VIDEO))
      continue;
    if (parse_framerate (gst_sdp_media_get_attribute_val (media,
                "framerate"), num, den))
      return TRUE;
    break;
  }
  return parse_framerate (gst_sdp_message_get_attribute_val (msg,
          "framerate"), num, den);
}

gboolean
gst_whep_sdp_parse (const gchar * text, GstSDPMessage ** msg, GError ** error)
{
  GstSDPMessage *parsed = NULL;

  g_return_val_if_fail (msg != NULL, FALSE);

  /* gst_sdp_message_parse_buffer() accepts almost anything, so check the
   * two things that tell SDP from an HTML error page.  Leading blank lines
   * are harmless, so they are skipped. */
  while (text != NULL && g_ascii_isspace (*text))
    text++;
  if (text == NULL || !g_str_has_prefix (text, "v=0")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "not an SDP description (it does not start with \"v=0\")");
    return FALSE;
  }

  if (gst_sdp_message_new (&parsed) != GST_SDP_OK
      || gst_sdp_message_parse_buffer ((const guint8 *) text, strlen (text),
          parsed) != GST_SDP_OK) {
    g_clear_pointer (&parsed, gst_sdp_message_free);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the SDP description could not be parsed");
    return FALSE;
  }

  if (gst_sdp_message_medias_len (parsed) == 0) {
    gst_sdp_message_free (parsed);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the SDP description has no m-line");
    return FALSE;
  }

  *msg = parsed;
  return TRUE;
}

/* --- trickle-ICE fragments --- */

GstWhepSdpFrag *
gst_whep_sdp_frag_new (void)
{
  GstWhepSdpFrag *frag = g_new0 (GstWhepSdpFrag, 1);

  frag->candidates = g_ptr_array_new_with_free_func (g_free);
  return frag;
}

void
gst_whep_sdp_frag_free (GstWhepSdpFrag * frag)
{
  if (frag == NULL)
    return;

  g_free (frag->ice_ufrag);
  g_free (frag->ice_pwd);
  g_free (frag->mid);
  if (frag->candidates != NULL)
    g_ptr_array_unref (frag->candidates);
  g_free (frag);
}

gchar *
gst_whep_sdp_frag_to_string (const GstWhepSdpFrag * frag)
{
  GString *s;
  guint i;

  g_return_val_if_fail (frag != NULL, NULL);

  s = g_string_new (NULL);
  if (frag->ice_ufrag != NULL)
    g_string_append_printf (s, "a=ice-ufrag:%s\r\n", frag->ice_ufrag);
  if (frag->ice_pwd != NULL)
    g_string_append_printf (s, "a=ice-pwd:%s\r\n", frag->ice_pwd);
  /* RFC 8840 needs an m-line to carry the mid; its content is a dummy. */
  g_string_append (s, "m=audio 9 RTP/AVP 0\r\n");
  if (frag->mid != NULL)
    g_string_append_printf (s, "a=mid:%s\r\n", frag->mid);

  for (i = 0; frag->candidates != NULL && i < frag->candidates->len; i++) {
    const gchar *cand = g_ptr_array_index (frag->candidates, i);

    /* webrtcbin hands out "candidate:…", but be forgiving with "a=…" or a
     * bare candidate value. */
    if (g_str_has_prefix (cand, "a="))
      cand += 2;
    if (g_str_has_prefix (cand, "candidate:"))
      g_string_append_printf (s, "a=%s\r\n", cand);
    else
      g_string_append_printf (s, "a=candidate:%s\r\n", cand);
  }

  if (frag->end_of_candidates)
    g_string_append (s, "a=end-of-candidates\r\n");

  return g_string_free (s, FALSE);
}

static gboolean
frag_has_candidate (const GstWhepSdpFrag * frag, const gchar * cand)
{
  guint i;

  for (i = 0; i < frag->candidates->len; i++) {
    if (g_str_equal (g_ptr_array_index (frag->candidates, i), cand))
      return TRUE;
  }
  return FALSE;
}

/* Handles one "a=" attribute value (without "a=") of a fragment. */
static void
frag_take_attribute (GstWhepSdpFrag * frag, const gchar * attr,
    gboolean in_first_media)
{
  if (g_str_has_prefix (attr, "ice-ufrag:")) {
    g_free (frag->ice_ufrag);
    frag->ice_ufrag = g_strstrip (g_strdup (attr + strlen ("ice-ufrag:")));
  } else if (g_str_has_prefix (attr, "ice-pwd:")) {
    g_free (frag->ice_pwd);
    frag->ice_pwd = g_strstrip (g_strdup (attr + strlen ("ice-pwd:")));
  } else if (g_str_has_prefix (attr, "mid:")) {
    if (in_first_media && frag->mid == NULL)
      frag->mid = g_strstrip (g_strdup (attr + strlen ("mid:")));
  } else if (g_str_has_prefix (attr, "candidate:")) {
    /* With BUNDLE every m-line of a multi-m-line fragment carries the
     * same candidates: keep each once. */
    if (!frag_has_candidate (frag, attr))
      g_ptr_array_add (frag->candidates, g_strdup (attr));
  } else if (g_str_equal (attr, "end-of-candidates")) {
    frag->end_of_candidates = TRUE;
  }
  /* Anything else (ice-options, ice-lite, …) is of no use to us. */
}

GstWhepSdpFrag *
gst_whep_sdp_frag_parse (const gchar * text, GError ** error)
{
  g_autoptr (GstWhepSdpFrag) frag = NULL;
  g_auto (GStrv) lines = NULL;
  guint i, n_media = 0;
  gboolean any = FALSE;

  if (text == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "empty trickle-ICE fragment");
    return NULL;
  }

  frag = gst_whep_sdp_frag_new ();
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strstrip (lines[i]);        /* also drops the CR */

    if (*line == '\0')
      continue;
    if (!g_ascii_isalpha (line[0]) || line[1] != '=') {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "line %u of the trickle-ICE fragment is not an SDP line", i + 1);
      return NULL;
    }
    any = TRUE;
    if (line[0] == 'm')
      n_media++;
    else if (line[0] == 'a')
      frag_take_attribute (frag, line + 2, n_media == 1);
  }

  if (!any) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "empty trickle-ICE fragment");
    return NULL;
  }

  return g_steal_pointer (&frag);
}

/* --- DTLS fingerprint --- */

static const gchar *
sdp_fingerprint (const GstSDPMessage * sdp, guint index)
{
  const GstSDPMedia *media = index < gst_sdp_message_medias_len (sdp) ?
      gst_sdp_message_get_media (sdp, index) : NULL;
  const gchar *value = media ?
      gst_sdp_media_get_attribute_val (media, "fingerprint") : NULL;

  return value ? value : gst_sdp_message_get_attribute_val (sdp, "fingerprint");
}

static gboolean
checksum_type_for (const gchar * algorithm, GChecksumType * type)
{
  static const struct
  {
    const gchar *name;
    GChecksumType type;
  } types[] = {
    {"sha-1", G_CHECKSUM_SHA1}, {"sha-256", G_CHECKSUM_SHA256},
    {"sha-384", G_CHECKSUM_SHA384}, {"sha-512", G_CHECKSUM_SHA512},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_ascii_strcasecmp (algorithm, types[i].name) == 0) {
      *type = types[i].type;
      return TRUE;
    }
  return FALSE;
}

/* "AB:CD:…" of @der under @type. */
static gchar *
fingerprint_of (GChecksumType type, GByteArray * der)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (type);
  guint8 digest[64];
  gsize len = sizeof (digest), i;
  GString *out = g_string_new (NULL);

  g_checksum_update (checksum, der->data, der->len);
  g_checksum_get_digest (checksum, digest, &len);
  for (i = 0; i < len; i++)
    g_string_append_printf (out, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free (out, FALSE);
}

gboolean
gst_whep_sdp_check_fingerprint (const GstSDPMessage * sdp, guint index,
    const gchar * pem, gboolean * checked, GError ** error)
{
  const gchar *announced = sdp_fingerprint (sdp, index);
  g_auto (GStrv) parts = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;
  g_autoptr (GByteArray) der = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *actual = NULL;
  g_autofree gchar *copy = NULL;
  g_autofree gchar *shown = NULL;
  GChecksumType type;

  if (checked)
    *checked = FALSE;
  if (!announced) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the SDP announces no DTLS fingerprint for m-line %u", index);
    return FALSE;
  }
  /* The fingerprint is the server's text and goes into an error
   * message: sanitised (a SHA-512 one is 191 characters). */
  shown = gst_whep_sanitize_text (announced, -1, 220);
  copy = g_strstrip (g_strdup (announced));
  parts = g_strsplit (copy, " ", 2);
  if (!parts[0] || !parts[1]) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "malformed a=fingerprint \"%s\"", shown);
    return FALSE;
  }
  if (!checksum_type_for (parts[0], &type))
    return TRUE;                /* cannot be checked: see the header */

  cert = pem ? g_tls_certificate_new_from_pem (pem, -1, &err) : NULL;
  if (cert)
    g_object_get (cert, "certificate", &der, NULL);
  if (!der) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the peer's DTLS certificate cannot be read: %s",
        err ? err->message : "none");
    return FALSE;
  }
  actual = fingerprint_of (type, der);
  if (checked)
    *checked = TRUE;
  if (g_ascii_strcasecmp (g_strstrip (parts[1]), actual) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the SDP announces %s, the DTLS peer presented %s", shown, actual);
    return FALSE;
  }
  return TRUE;
}
