/* whepsrc — fuzz target: what a server says when it refuses — the body of
 * an error answer (RFC 9457 problem+json, an HTML error page, plain
 * text), its summary, the "nothing is live yet" check made on it, and the
 * failure whepsrc builds of the whole answer.
 *
 * Input: CONTENT-TYPE NUL BODY (the body as the client hands it over:
 * possibly with NUL bytes inside); without a NUL, no Content-Type.  The
 * first byte of the body also picks the status among those whepsrc
 * treats differently.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "fuzz-oracle.h"
#include "gstwhepfailure.h"
#include "gstwheputils.h"

/* ERROR_SUMMARY_MAX_CHARS in gstwheputils.c, and the "…" of a cut. */
#define SUMMARY_MAX 201

static const guint statuses[] = { 400, 401, 403, 404, 406, 409, 410, 422,
  429, 500, 502, 503, 504, 307
};

FUZZ_INITIALIZE_GLIB_ONLY ();

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const uint8_t *nul = size ? memchr (data, '\0', size) : NULL;
  const gchar *body;
  gsize body_size;
  g_autofree gchar *raw_type = NULL;
  g_autofree gchar *title = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GstWhepFailure) failure = NULL;
  GstWhepResponse resp = { 0, };

  if (nul) {
    raw_type = fuzz_strdup (data, nul - data);
    body = (const gchar *) nul + 1;
    body_size = size - (nul - data) - 1;
  } else {
    body = (const gchar *) data;
    body_size = size;
  }
  /* Exactly the bytes: a copy, so that ASan sees a read past them. */
  bytes = g_bytes_new (body, body_size);
  body = g_bytes_get_data (bytes, &body_size);

  /* As the client stores them: sanitised once. */
  resp.content_type = gst_whep_sanitize_text (raw_type, -1, 200);
  resp.reason = g_strdup ("Some Reason");
  resp.status = statuses[(body_size ? (guchar) body[0] : 0)
      % G_N_ELEMENTS (statuses)];
  resp.final_url = g_strdup ("https://whep.example.com/whep/cam?token=x");
  resp.request_url = g_strdup (resp.final_url);
  resp.retry_after_s = -1;

  if (gst_whep_is_html (resp.content_type, body, body_size)) {
    title = gst_whep_html_title (body, body_size);
    fuzz_assert_presentable ("an HTML title", title, SUMMARY_MAX);
  }
  resp.error_summary = gst_whep_error_body_summary (resp.content_type, bytes);
  fuzz_assert_presentable ("an error summary", resp.error_summary, SUMMARY_MAX);
  gst_whep_body_says_not_live (resp.error_summary);

  failure = gst_whep_failure_from_response (&resp, "the offer");
  fuzz_assert_presentable ("a failure's message", failure->message, 0);
  fuzz_assert_presentable ("a failure's debug text", failure->debug, 0);
  if (failure->http_status != resp.status)
    abort ();

  g_free (resp.content_type);
  g_free (resp.reason);
  g_free (resp.final_url);
  g_free (resp.request_url);
  g_free (resp.error_summary);
  return 0;
}
