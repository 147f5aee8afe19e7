/* whepsrc — failures and the HTTP answer → failure mapping (see
 * gstwhepfailure.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepfailure.h"

#include <string.h>

GstWhepFailure *
gst_whep_failure_copy (const GstWhepFailure * failure)
{
  GstWhepFailure *copy = g_new0 (GstWhepFailure, 1);

  *copy = *failure;
  copy->message = g_strdup (failure->message);
  copy->debug = g_strdup (failure->debug);
  copy->url = g_strdup (failure->url);
  return copy;
}

void
gst_whep_failure_free (GstWhepFailure * failure)
{
  if (!failure)
    return;
  g_free (failure->message);
  g_free (failure->debug);
  g_free (failure->url);
  g_free (failure);
}

GstWhepFailure *
gst_whep_failure_new (GQuark domain, gint code, gboolean retryable,
    const gchar * url, gchar * debug, const gchar * format, ...)
{
  GstWhepFailure *failure = g_new0 (GstWhepFailure, 1);
  va_list args;

  va_start (args, format);
  failure->message = g_strdup_vprintf (format, args);
  va_end (args);
  failure->domain = domain;
  failure->code = code;
  failure->retryable = retryable;
  failure->retry_after_s = -1;
  /* Failures end up in error messages, whose details are logged. */
  failure->url = gst_whep_redact_url (url);
  failure->debug = debug;
  return failure;
}

gboolean
gst_whep_body_says_not_live (const gchar * summary)
{
  g_autofree gchar *lower = NULL;

  if (!summary)
    return FALSE;
  lower = g_ascii_strdown (summary, -1);
  return strstr (lower, "no stream") || strstr (lower, "not live")
      || strstr (lower, "not published") || strstr (lower, "offline")
      || strstr (lower, "stream not found");
}

GstWhepFailure *
gst_whep_failure_from_response (const GstWhepResponse * resp,
    const gchar * what)
{
  GstWhepFailure *failure;
  g_autofree gchar *server_says = NULL;
  g_autofree gchar *url = gst_whep_redact_url (resp->final_url);
  gchar *debug;

  server_says = resp->error_summary ?
      g_strdup_printf (": %s", resp->error_summary) : g_strdup ("");
  debug = g_strdup_printf ("%s %s answered %u %s (Content-Type %s)", what,
      GST_STR_NULL (url), resp->status, GST_STR_NULL (resp->reason),
      GST_STR_NULL (resp->content_type));

  switch (gst_whep_classify_status (resp->status)) {
    case GST_WHEP_STATUS_CLASS_NOT_AUTHORIZED:
      failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED, FALSE, resp->final_url, debug,
          "The WHEP server refused access (HTTP %u)%s. Check auth-token.",
          resp->status, server_says);
      break;
    case GST_WHEP_STATUS_CLASS_NOT_FOUND:{
      gboolean not_live = resp->retry_after_s >= 0
          || gst_whep_body_says_not_live (resp->error_summary);
      failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND, not_live, resp->final_url, debug,
          not_live ?
          "Nothing is published at the WHEP endpoint yet (HTTP %u)%s" :
          "The WHEP endpoint does not exist (HTTP %u)%s. Check whep-endpoint.",
          resp->status, server_says);
      failure->not_live = not_live;
      break;
    }
    case GST_WHEP_STATUS_CLASS_RETRY:
      failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY, TRUE, resp->final_url, debug,
          "The WHEP server cannot serve this session now (HTTP %u)%s",
          resp->status, server_says);
      failure->not_live = resp->status == 409;
      break;
    case GST_WHEP_STATUS_CLASS_REDIRECT:
      /* The client says why it stopped: a loop, too many, another scheme,
       * a 303 to a POST (the target redacted). */
      failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ, FALSE, resp->final_url, debug,
          "The WHEP server's redirect (HTTP %u) was not followed: %s",
          resp->status, resp->redirect_error ? resp->redirect_error :
          "no usable Location, or too many redirects");
      break;
    default:
      failure = gst_whep_failure_new (GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ, resp->status >= 500, resp->final_url,
          debug, "The WHEP server answered %s with HTTP %u %s%s", what,
          resp->status, GST_STR_NULL (resp->reason), server_says);
      break;
  }
  failure->http_status = resp->status;
  failure->retry_after_s = resp->retry_after_s;
  return failure;
}
