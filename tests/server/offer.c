/* whep-test-server — SDP helpers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "offer.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

GQuark
whep_offer_error_quark (void)
{
  return g_quark_from_static_string ("whep-offer-error-quark");
}

static void
offer_media_clear (gpointer data)
{
  WhepOfferMedia *media = data;

  g_clear_pointer (&media->mid, g_free);
}

void
whep_offer_free (WhepOffer * offer)
{
  if (offer == NULL)
    return;

  g_clear_pointer (&offer->sdp, gst_sdp_message_free);
  g_clear_pointer (&offer->medias, g_array_unref);
  g_free (offer->ice_ufrag);
  g_free (offer->ice_pwd);
  g_free (offer);
}

static WhepMediaKind
media_kind (const GstSDPMedia * media)
{
  const gchar *name = gst_sdp_media_get_media (media);

  if (g_strcmp0 (name, "video") == 0)
    return WHEP_KIND_VIDEO;
  if (g_strcmp0 (name, "audio") == 0)
    return WHEP_KIND_AUDIO;
  return WHEP_KIND_OTHER;
}

/* The value of the "a=@key:@pt …" attribute, after the PT; NULL if none. */
static const gchar *
media_pt_attribute (const GstSDPMedia * media, const gchar * key, gint pt)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    glong value;

    if (g_strcmp0 (attr->key, key) != 0 || attr->value == NULL)
      continue;
    value = strtol (attr->value, &end, 10);
    if (end == attr->value || value != pt || (*end != ' ' && *end != '\0'))
      continue;
    while (*end == ' ')
      end++;
    return end;
  }
  return NULL;
}

/* The value of @name in an fmtp parameter list "a=1;b=2", or NULL. */
static gchar *
fmtp_param (const gchar * fmtp, const gchar * name)
{
  g_auto (GStrv) params = NULL;
  gint i;

  if (fmtp == NULL)
    return NULL;

  params = g_strsplit (fmtp, ";", -1);
  for (i = 0; params[i] != NULL; i++) {
    gchar *param = g_strstrip (params[i]);
    gchar *eq = strchr (param, '=');

    if (eq == NULL)
      continue;
    *eq = '\0';
    if (g_ascii_strcasecmp (g_strstrip (param), name) == 0)
      return g_strdup (g_strstrip (eq + 1));
  }
  return NULL;
}

/* How well @pt of @media fits our @encoding: 0 = not at all, higher is
 * better.  For H264 we need packetization-mode=1 (or no fmtp at all) and
 * prefer a constrained-baseline profile, which is what we encode. */
static gint
codec_score (const GstSDPMedia * media, gint pt, const gchar * encoding)
{
  const gchar *rtpmap = media_pt_attribute (media, "rtpmap", pt);
  const gchar *fmtp;
  g_autofree gchar *name = NULL;
  g_autofree gchar *mode = NULL;
  g_autofree gchar *profile = NULL;
  const gchar *slash;

  if (rtpmap == NULL)
    return 0;
  while (*rtpmap == ' ')
    rtpmap++;
  slash = strchr (rtpmap, '/');
  name = slash ? g_strndup (rtpmap, slash - rtpmap) : g_strdup (rtpmap);
  if (g_ascii_strcasecmp (name, encoding) != 0)
    return 0;

  if (g_ascii_strcasecmp (encoding, "OPUS") == 0)
    return slash != NULL && g_str_has_prefix (slash, "/48000") ? 1 : 0;
  if (g_ascii_strcasecmp (encoding, "H264") != 0)
    return 1;

  fmtp = media_pt_attribute (media, "fmtp", pt);
  mode = fmtp_param (fmtp, "packetization-mode");
  profile = fmtp_param (fmtp, "profile-level-id");
  if (mode == NULL)
    return 1;
  if (strcmp (mode, "1") != 0)
    return 0;
  if (profile != NULL && g_ascii_strncasecmp (profile, "42", 2) == 0)
    return 3;
  return 2;
}

/* WHEP: the player offers recvonly (or sendrecv), never sendonly or
 * inactive; we can only send on the m-lines where it receives. */
static gboolean
media_player_receives (const GstSDPMedia * media)
{
  return gst_sdp_media_get_attribute_val (media, "sendonly") == NULL
      && gst_sdp_media_get_attribute_val (media, "inactive") == NULL;
}

/* The offer's best PT for @encoding on @media, or -1. */
static gint
find_pt (const GstSDPMedia * media, const gchar * encoding)
{
  gint best_pt = -1, best_score = 0;
  guint i;

  if (encoding == NULL)
    return -1;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    const gchar *format = gst_sdp_media_get_format (media, i);
    gchar *end = NULL;
    glong pt = strtol (format, &end, 10);
    gint score;

    if (end == format || *end != '\0' || pt < 0 || pt > 127)
      continue;
    score = codec_score (media, pt, encoding);
    if (score > best_score) {
      best_score = score;
      best_pt = pt;
    }
  }
  return best_pt;
}

static gboolean
all_digits (const gchar * text, guint64 max)
{
  gsize len = strlen (text);

  if (len == 0 || len > 10 || strspn (text, "0123456789") != len)
    return FALSE;
  return g_ascii_strtoull (text, NULL, 10) <= max;
}

static gboolean
one_of (const gchar * text, const gchar * const *names)
{
  for (; *names != NULL; names++) {
    if (g_ascii_strcasecmp (text, *names) == 0)
      return TRUE;
  }
  return FALSE;
}

/* RFC 8839 candidate-attribute, as strictly as libnice needs it: libnice
 * dereferences missing fields (a TCP candidate without tcptype, a key
 * without its value), so what it gets must be complete. */
static gboolean
candidate_well_formed (gchar ** fields)
{
  static const gchar *const transports[] = { "UDP", "TCP", NULL };
  static const gchar *const types[] = { "host", "srflx", "prflx", "relay",
    NULL
  };
  static const gchar *const tcptypes[] = { "active", "passive", "so", NULL };
  const gchar *type = NULL, *tcptype = NULL;
  guint n = g_strv_length (fields), i;

  /* foundation component transport priority address port, then pairs */
  if (n < 8 || (n - 6) % 2 != 0)
    return FALSE;
  for (i = 0; i < n; i++) {
    if (*fields[i] == '\0')
      return FALSE;
  }
  if (!all_digits (fields[1], 256) || !one_of (fields[2], transports)
      || !all_digits (fields[3], G_MAXUINT32) || !all_digits (fields[5], 65535))
    return FALSE;

  for (i = 6; i + 1 < n; i += 2) {
    if (strcmp (fields[i], "typ") == 0)
      type = fields[i + 1];
    else if (strcmp (fields[i], "tcptype") == 0)
      tcptype = fields[i + 1];
  }
  if (type == NULL || !one_of (type, types))
    return FALSE;
  return g_ascii_strcasecmp (fields[2], "TCP") != 0
      || (tcptype != NULL && one_of (tcptype, tcptypes));
}

gboolean
whep_candidate_allowed (const gchar * candidate, gboolean loopback_only,
    gboolean * malformed)
{
  g_auto (GStrv) fields = NULL;
  g_autoptr (GInetAddress) address = NULL;

  if (malformed)
    *malformed = TRUE;
  if (candidate == NULL)
    return FALSE;
  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  if (!g_str_has_prefix (candidate, "candidate:"))
    return FALSE;

  fields = g_strsplit (candidate + strlen ("candidate:"), " ", -1);
  if (!candidate_well_formed (fields))
    return FALSE;
  if (malformed)
    *malformed = FALSE;

  address = g_inet_address_new_from_string (fields[4]);
  if (address == NULL)
    return FALSE;
  return !loopback_only || g_inet_address_get_is_loopback (address);
}

static void
media_drop_candidates (GstSDPMedia * media, gboolean loopback_only)
{
  guint i = 0;

  while (i < gst_sdp_media_attributes_len (media)) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    g_autofree gchar *line = NULL;

    if (g_strcmp0 (attr->key, "candidate") == 0) {
      line = g_strconcat ("candidate:", attr->value ? attr->value : "", NULL);
      if (!whep_candidate_allowed (line, loopback_only, NULL)) {
        gst_sdp_media_remove_attribute (media, i);
        continue;
      }
    }
    i++;
  }
}

static gboolean
check_sdp_text (const gchar * text, gsize len, GError ** error)
{
  if (text == NULL || len < 3 || strncmp (text, "v=0", 3) != 0
      || (len > 3 && text[3] != '\r' && text[3] != '\n')) {
    g_set_error_literal (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_INVALID,
        "the offer is not SDP (no v=0 line first)");
    return FALSE;
  }
  /* Browsers and GStreamer write ASCII; GStreamer warns on anything that
   * is not UTF-8 when it turns the SDP into caps. */
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, len, NULL)) {
    g_set_error_literal (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_INVALID,
        "the offer is not UTF-8 text");
    return FALSE;
  }
  return TRUE;
}

static gchar *
codec_set_describe (const WhepCodecSet * codecs)
{
  if (codecs->video && codecs->audio)
    return g_strdup_printf ("video %s and audio %s", codecs->video,
        codecs->audio);
  if (codecs->video)
    return g_strdup_printf ("video %s", codecs->video);
  return g_strdup_printf ("audio %s", codecs->audio);
}

WhepOffer *
whep_offer_parse (const gchar * text, gsize len, const WhepCodecSet * codecs,
    gboolean loopback_only, GError ** error)
{
  g_autoptr (WhepOffer) offer = g_new0 (WhepOffer, 1);
  gboolean video_taken = FALSE, audio_taken = FALSE;
  guint i;

  if (!check_sdp_text (text, len, error))
    return NULL;

  gst_sdp_message_new (&offer->sdp);
  if (gst_sdp_message_parse_buffer ((const guint8 *) text, len,
          offer->sdp) != GST_SDP_OK
      || g_strcmp0 (gst_sdp_message_get_version (offer->sdp), "0") != 0
      || gst_sdp_message_medias_len (offer->sdp) == 0) {
    g_set_error_literal (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_INVALID,
        "the offer does not parse as SDP with media");
    return NULL;
  }

  offer->medias = g_array_new (FALSE, TRUE, sizeof (WhepOfferMedia));
  g_array_set_clear_func (offer->medias, offer_media_clear);
  offer->ice_ufrag =
      g_strdup (gst_sdp_message_get_attribute_val (offer->sdp, "ice-ufrag"));
  offer->ice_pwd =
      g_strdup (gst_sdp_message_get_attribute_val (offer->sdp, "ice-pwd"));

  for (i = 0; i < gst_sdp_message_medias_len (offer->sdp); i++) {
    GstSDPMedia *media =
        (GstSDPMedia *) gst_sdp_message_get_media (offer->sdp, i);
    WhepOfferMedia entry = { WHEP_KIND_OTHER, NULL, FALSE, -1 };
    gboolean *taken = NULL;

    entry.kind = media_kind (media);
    entry.mid = g_strdup (gst_sdp_media_get_attribute_val (media, "mid"));
    if (entry.kind == WHEP_KIND_VIDEO) {
      entry.pt = find_pt (media, codecs->video);
      taken = &video_taken;
    } else if (entry.kind == WHEP_KIND_AUDIO) {
      entry.pt = find_pt (media, codecs->audio);
      taken = &audio_taken;
    }
    /* One track per kind (WHEP: never two tracks of the same kind); a
     * port-0 m-line is rejected by the player, unless it is bundle-only
     * (max-bundle offers give every m-line but the first port 0). */
    if (entry.pt >= 0 && taken && !*taken && media_player_receives (media)
        && (gst_sdp_media_get_port (media)
            || gst_sdp_media_get_attribute_val (media, "bundle-only"))) {
      entry.accepted = TRUE;
      *taken = TRUE;
    }
    if (offer->ice_ufrag == NULL)
      offer->ice_ufrag =
          g_strdup (gst_sdp_media_get_attribute_val (media, "ice-ufrag"));
    if (offer->ice_pwd == NULL)
      offer->ice_pwd =
          g_strdup (gst_sdp_media_get_attribute_val (media, "ice-pwd"));
    media_drop_candidates (media, loopback_only);
    g_array_append_val (offer->medias, entry);
  }

  if (!video_taken && !audio_taken) {
    g_autofree gchar *have = codec_set_describe (codecs);

    g_set_error (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_NO_CODEC,
        "no offered codec is one we send; we have %s", have);
    return NULL;
  }

  return g_steal_pointer (&offer);
}

gint
whep_offer_find_mid (const WhepOffer * offer, const gchar * mid)
{
  guint i;

  for (i = 0; mid != NULL && i < offer->medias->len; i++) {
    const WhepOfferMedia *media =
        &g_array_index (offer->medias, WhepOfferMedia, i);

    if (g_strcmp0 (media->mid, mid) == 0)
      return i;
  }
  return -1;
}

gboolean
whep_offer_accepts (const WhepOffer * offer, WhepMediaKind kind)
{
  guint i;

  for (i = 0; i < offer->medias->len; i++) {
    const WhepOfferMedia *media =
        &g_array_index (offer->medias, WhepOfferMedia, i);

    if (media->kind == kind && media->accepted)
      return TRUE;
  }
  return FALSE;
}

static void
frag_candidate_free (gpointer data)
{
  WhepFragCandidate *candidate = data;

  g_free (candidate->mid);
  g_free (candidate->candidate);
  g_free (candidate);
}

void
whep_sdpfrag_free (WhepSdpFrag * frag)
{
  if (frag == NULL)
    return;

  g_free (frag->ice_ufrag);
  g_free (frag->ice_pwd);
  g_clear_pointer (&frag->candidates, g_ptr_array_unref);
  g_free (frag);
}

static gboolean
frag_error (GError ** error, const gchar * what, const gchar * line)
{
  g_set_error (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_INVALID,
      "malformed sdpfrag: %s in line '%.60s'", what, line);
  return FALSE;
}

/* Handles one "x=…" line of a fragment; @mid is the current m-section's. */
static gboolean
frag_parse_line (WhepSdpFrag * frag, const gchar * line, gchar ** mid,
    GError ** error)
{
  if (g_str_has_prefix (line, "a=ice-ufrag:")) {
    g_free (frag->ice_ufrag);
    frag->ice_ufrag = g_strdup (line + strlen ("a=ice-ufrag:"));
  } else if (g_str_has_prefix (line, "a=ice-pwd:")) {
    g_free (frag->ice_pwd);
    frag->ice_pwd = g_strdup (line + strlen ("a=ice-pwd:"));
  } else if (g_str_has_prefix (line, "a=mid:")) {
    g_free (*mid);
    *mid = g_strdup (line + strlen ("a=mid:"));
  } else if (g_str_has_prefix (line, "m=")) {
    /* A new m-section: its mid follows. */
    g_clear_pointer (mid, g_free);
  } else if (g_str_has_prefix (line, "a=end-of-candidates")) {
    frag->end_of_candidates = TRUE;
  } else if (g_str_has_prefix (line, "a=candidate:")) {
    gboolean malformed;
    WhepFragCandidate *candidate;

    whep_candidate_allowed (line, FALSE, &malformed);
    if (malformed)
      return frag_error (error, "bad candidate", line);
    candidate = g_new0 (WhepFragCandidate, 1);
    candidate->mid = g_strdup (*mid);
    candidate->candidate = g_strdup (line + 2);
    g_ptr_array_add (frag->candidates, candidate);
  } else if (strlen (line) < 2 || line[1] != '=') {
    return frag_error (error, "not an SDP line", line);
  }
  /* Anything else (ice-options, group, …) is allowed and ignored. */
  return TRUE;
}

WhepSdpFrag *
whep_sdpfrag_parse (const gchar * text, gsize len, GError ** error)
{
  g_autoptr (WhepSdpFrag) frag = g_new0 (WhepSdpFrag, 1);
  g_autofree gchar *copy = NULL;
  g_autofree gchar *mid = NULL;
  g_auto (GStrv) lines = NULL;
  gint i;

  frag->candidates = g_ptr_array_new_with_free_func (frag_candidate_free);
  if (text == NULL || len == 0)
    return g_steal_pointer (&frag);
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, len, NULL)) {
    g_set_error_literal (error, WHEP_OFFER_ERROR, WHEP_OFFER_ERROR_INVALID,
        "malformed sdpfrag: not text");
    return NULL;
  }

  copy = g_strndup (text, len);
  lines = g_strsplit (copy, "\n", -1);
  for (i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strchomp (lines[i]);

    if (*line == '\0')
      continue;
    if (!frag_parse_line (frag, line, &mid, error))
      return NULL;
  }

  return g_steal_pointer (&frag);
}

static void
media_set_direction (GstSDPMedia * media, const gchar * direction)
{
  static const gchar *const directions[] = { "sendonly", "recvonly",
    "sendrecv", "inactive"
  };
  guint i = 0, d;

  while (i < gst_sdp_media_attributes_len (media)) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gboolean is_direction = FALSE;

    for (d = 0; d < G_N_ELEMENTS (directions); d++)
      is_direction |= g_strcmp0 (attr->key, directions[d]) == 0;
    if (is_direction)
      gst_sdp_media_remove_attribute (media, i);
    else
      i++;
  }
  gst_sdp_media_add_attribute (media, direction, "");
}

void
whep_answer_fix_directions (GstSDPMessage * answer, const WhepOffer * offer)
{
  guint i;

  for (i = 0; i < gst_sdp_message_medias_len (answer)
      && i < offer->medias->len; i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (answer, i);
    const WhepOfferMedia *entry =
        &g_array_index (offer->medias, WhepOfferMedia, i);

    media_set_direction (media, entry->accepted ? "sendonly" : "inactive");
  }
}

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_END "-----END CERTIFICATE-----"

gchar *
whep_pem_fingerprint (const gchar * pem)
{
  g_autofree gchar *base64 = NULL;
  g_autofree guchar *der = NULL;
  g_autoptr (GChecksum) checksum = NULL;
  guint8 digest[32];
  gsize der_len, digest_len = sizeof (digest), i;
  const gchar *begin, *end;
  GString *fingerprint;

  begin = pem ? strstr (pem, PEM_CERT_BEGIN) : NULL;
  end = begin ? strstr (begin, PEM_CERT_END) : NULL;
  if (end == NULL)
    return NULL;
  begin += strlen (PEM_CERT_BEGIN);
  base64 = g_strndup (begin, end - begin);
  der = g_base64_decode_inplace (base64, &der_len) ?
      g_memdup2 (base64, der_len) : NULL;
  if (der == NULL || der_len == 0)
    return NULL;

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, der, der_len);
  g_checksum_get_digest (checksum, digest, &digest_len);

  fingerprint = g_string_new ("sha-256 ");
  for (i = 0; i < digest_len; i++)
    g_string_append_printf (fingerprint, i ? ":%02X" : "%02X", digest[i]);
  return g_string_free (fingerprint, FALSE);
}

static void
media_replace_attribute (GstSDPMedia * media, const gchar * key,
    const gchar * value)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    GstSDPAttribute replacement;

    if (g_strcmp0 (attr->key, key) != 0)
      continue;
    gst_sdp_attribute_set (&replacement, key, value);
    gst_sdp_media_replace_attribute (media, i, &replacement);
  }
}

void
whep_sdp_set_fingerprint (GstSDPMessage * sdp, const gchar * fingerprint)
{
  guint i;

  for (i = 0; i < gst_sdp_message_attributes_len (sdp); i++) {
    const GstSDPAttribute *attr = gst_sdp_message_get_attribute (sdp, i);
    GstSDPAttribute replacement;

    if (g_strcmp0 (attr->key, "fingerprint") != 0)
      continue;
    gst_sdp_attribute_set (&replacement, "fingerprint", fingerprint);
    gst_sdp_message_replace_attribute (sdp, i, &replacement);
  }
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    media_replace_attribute ((GstSDPMedia *) gst_sdp_message_get_media (sdp,
            i), "fingerprint", fingerprint);
}

gchar *
whep_sdp_text_drop_last_media (const gchar * sdp)
{
  const gchar *last = NULL, *p = sdp;

  if (g_str_has_prefix (sdp, "m="))
    last = sdp;
  while ((p = strstr (p, "\nm=")) != NULL) {
    last = p + 1;
    p++;
  }
  if (last == NULL)
    return g_strdup (sdp);
  return g_strndup (sdp, last - sdp);
}

gchar *
whep_sdp_text_wrong_fingerprint (const gchar * sdp)
{
  gchar *copy = g_strdup (sdp);
  gchar *line = copy;

  while ((line = strstr (line, "a=fingerprint:")) != NULL) {
    gchar *c = strchr (line, ' ');

    /* "a=fingerprint:sha-256 AB:CD:…": every hex digit d becomes 15 - d,
     * still a well-formed fingerprint, of no certificate. */
    for (; c && *c && *c != '\r' && *c != '\n'; c++)
      if (g_ascii_isxdigit (*c))
        *c = "fedcba9876543210"[g_ascii_xdigit_value (*c)];
    line += strlen ("a=fingerprint:");
  }
  return copy;
}

gchar *
whep_sdp_text_add_framerate (const gchar * sdp, const gchar * rate)
{
  GString *out = g_string_new (NULL);
  const gchar *p = sdp;

  while (*p) {
    const gchar *eol = strchr (p, '\n');
    gsize len = eol ? (gsize) (eol - p + 1) : strlen (p);

    if (!g_str_has_prefix (p, "a=framerate:"))
      g_string_append_len (out, p, len);
    if (g_str_has_prefix (p, "m=video ") && g_strcmp0 (rate, "none") != 0)
      g_string_append_printf (out, "a=framerate:%s\r\n", rate);
    p += len;
  }
  return g_string_free (out, FALSE);
}
