/* whepsrc — why a session failed (GstWhepFailure), and the pure mapping
 * from a WHEP server's HTTP answer to one.
 *
 * Pure: no network, no elements.  Unit-tested in tests/check/helpers.c.
 * Nothing here puts a body or an unredacted URL into a failure: the
 * message and the debug text end up in error messages and logs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstwheputils.h"

G_BEGIN_DECLS

/* Why a session failed, with all a user (or the retry logic) needs. */
typedef struct
{
  GQuark domain;                /* GST_RESOURCE_ERROR, GST_STREAM_ERROR, … */
  gint code;
  gchar *message;               /* for the user */
  gchar *debug;                 /* technical details (never a body) */
  guint http_status;            /* 0 when no HTTP answer is involved */
  gint retry_after_s;           /* -1 when absent */
  gboolean retryable;           /* waiting and trying again may help */
  gboolean not_live;            /* the server says nothing is published (yet) */
  gboolean settings_wrong;      /* the user's settings cannot work (e.g. a
                                 * relay-only policy without a relay): no
                                 * retry before anything ever played */
  gchar *url;                   /* the URL concerned (redacted in failures;
                                 * as is in a reconnect event: where to go) */
} GstWhepFailure;

GstWhepFailure *gst_whep_failure_copy (const GstWhepFailure * failure);
void gst_whep_failure_free (GstWhepFailure * failure);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstWhepFailure, gst_whep_failure_free);

/* A failure with @message from @format; takes @debug (nullable); @url is
 * stored redacted (gst_whep_redact_url()). */
GstWhepFailure *gst_whep_failure_new (GQuark domain, gint code,
    gboolean retryable, const gchar * url, gchar * debug,
    const gchar * format, ...) G_GNUC_PRINTF (6, 7);

/* Words servers put in a 404 that means "nothing published yet" rather
 * than "no such endpoint" (MediaMTX: "no stream is available on path"):
 * TRUE when @summary (an error body summary, nullable) holds one. */
gboolean gst_whep_body_says_not_live (const gchar * summary);

/* Turns a non-success answer to @what ("the offer", …) into a failure:
 * 401/403 → RESOURCE NOT_AUTHORIZED (not retryable); 404/410 →
 * NOT_FOUND, retryable and not_live when Retry-After is given or the body
 * says nothing is live; 409/425/429/502/503/504 → BUSY, retryable (409:
 * not_live); a redirect that could not be followed → OPEN_READ, saying why
 * (GstWhepResponse.redirect_error); any
 * other → OPEN_READ, retryable from 500 on.  The server's error summary
 * is quoted in the message; the status, reason, Content-Type and the
 * redacted URL go into the debug text; never the body. */
GstWhepFailure *gst_whep_failure_from_response (const GstWhepResponse * resp,
    const gchar * what);

G_END_DECLS
