/* whepsrc — fuzz target: a server's SDP answer or counter-offer.
 *
 * The input is the body of a 201 (or a 406): parsed, checked against a
 * fixed offer in the form webrtcbin writes it (video VP8/VP9/H264 with
 * RTX, audio Opus/PCMU/PCMA), checked as a counter-offer, and read for
 * what whepsrc takes from it (frame rate, video payload types, the DTLS
 * fingerprint, the log summary).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "fuzz-oracle.h"
#include "gstwhepsdp.h"
#include "gstwheputils.h"

#include <gio/gio.h>

static GstSDPMessage *offer;

/* The peer certificate the DTLS handshake would have shown: its
 * fingerprint is compared with the answer's a=fingerprint. */
/* *INDENT-OFF* */
static const gchar peer_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhjCCASugAwIBAgIUdNJvGYMjkOPsq/YPgxcXqGKSw4MwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMd2hlcHNyYy10ZXN0MCAXDTI2MTIwMzE1NTk0N1oYDzIxMjYx\n"
    "MTA5MTU1OTQ3WjAXMRUwEwYDVQQDDAx3aGVwc3JjLXRlc3QwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAARvgFwazW+Zvrskcm5wdWWrCuv1RGye0JPoJveTKKgBRRlV\n"
    "dVd5ZvRsYrvtVeZq4LKRJC7MtC9M0z35hkUudAIWo1MwUTAdBgNVHQ4EFgQUAFvn\n"
    "npt8m0FN+bjnYcA+HqGsaaswHwYDVR0jBBgwFoAUAFvnnpt8m0FN+bjnYcA+HqGs\n"
    "aaswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA0vx+TgK4XJ5H\n"
    "sRgQ5EeiiyjmJHMk+3YbgVwnBG/XxYsCIQD2zjMJXj228JbYPh8WYJdo1XMCXIIl\n"
    "I9JkJn00gSlrkg==\n"
    "-----END CERTIFICATE-----\n";

static const gchar offer_text[] =
    "v=0\r\n"
    "o=- 7304512118690021357 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:q2VbN8xKt0LmRz4W\r\n"
    "a=ice-pwd:Hs7dYk1QpT9vXc3ZwA5eGj0LbN2mRf6U\r\n"
    "a=rtcp-mux-only\r\n"
    "a=rtcp-rsize\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;"
    "level-asymmetry-allowed=1\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r\n"
    "a=mid:video0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:q2VbN8xKt0LmRz4W\r\n"
    "a=ice-pwd:Hs7dYk1QpT9vXc3ZwA5eGj0LbN2mRf6U\r\n"
    "a=rtcp-mux-only\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:111 OPUS/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r\n"
    "a=mid:audio1\r\n";
/* *INDENT-ON* */

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  GTlsCertificate *cert;

  if (!gst_whep_sdp_parse (offer_text, &offer, NULL))
    abort ();
  /* Loads GIO's TLS backend, once. */
  cert = g_tls_certificate_new_from_pem (peer_pem, -1, NULL);
  if (cert == NULL)
    abort ();
  g_object_unref (cert);
  fuzz_init_glib ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *text = fuzz_strdup (data, size);
  g_autofree gchar *summary = NULL;
  g_autoptr (GError) error = NULL;
  GstSDPMessage *msg = NULL;
  gboolean video[128] = { FALSE, };
  gint num = 0, den = 0;
  guint i;

  /* Whatever the body, its summary goes into error details. */
  summary = gst_whep_sdp_summary (text);
  fuzz_assert_presentable ("the SDP summary", summary, 0);

  if (!gst_whep_sdp_parse (text, &msg, &error)) {
    if (msg != NULL || error == NULL)
      abort ();
    return 0;
  }

  if (!gst_whep_sdp_check_answer (offer, msg, &error)) {
    if (error == NULL)
      abort ();
    g_clear_error (&error);
  }
  if (!gst_whep_sdp_check_counter_offer (msg, &error)) {
    if (error == NULL)
      abort ();
    g_clear_error (&error);
  }
  /* A rate in (0, 1000] frames per second, as a small fraction. */
  if (gst_whep_sdp_video_framerate (msg, &num, &den)
      && (num <= 0 || den <= 0 || den > 1001
          || (gint64) num > 1000 * (gint64) den))
    abort ();
  gst_whep_sdp_video_payload_types (msg, video);
  gst_whep_sdp_count_media (msg, GST_WHEP_MEDIA_VIDEO);
  gst_whep_sdp_count_media (msg, GST_WHEP_MEDIA_AUDIO);
  for (i = 0; i < MIN (gst_sdp_message_medias_len (msg), 4); i++) {
    gboolean checked = FALSE;

    /* Its message is shown as it is (gstwhepsession.c). */
    if (!gst_whep_sdp_check_fingerprint (msg, i, peer_pem, &checked, &error)) {
      fuzz_assert_presentable ("a fingerprint error", error->message, 0);
      g_clear_error (&error);
    }
  }

  gst_sdp_message_free (msg);
  return 0;
}
