/* whepsrc — fuzz target: a server-sent event stream (text/event-stream,
 * the WHEP events extension) and the JSON of its events.
 *
 * The input is the stream's bytes; it is cut into lines at LF as the
 * HTTP client does (a line longer than its 64 KiB limit closes the
 * stream there), each line is fed to the parser, every complete event is
 * taken, its name shown as the signalling logs it and its data read as a
 * "reconnect" event's JSON.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "fuzz-oracle.h"
#include "gstwheputils.h"

/* GST_WHEP_CLIENT_MAX_LINE_BYTES in gstwhepclient.h. */
#define MAX_LINE_BYTES (64 * 1024)

static const gchar stream_url[] = "https://whep.example.com/whep/sse/4f1c";

FUZZ_INITIALIZE_GLIB_ONLY ();

static void
take_events (GstWhepSseParser * parser)
{
  gchar *name, *payload;

  while (gst_whep_sse_parser_pop (parser, &name, &payload)) {
    g_autofree gchar *shown = gst_whep_sanitize_text (name, -1, 40);
    g_autofree gchar *url = NULL;

    fuzz_assert_presentable ("an event name", shown, 41);
    if (name == NULL || payload == NULL
        || strlen (payload) > GST_WHEP_SSE_MAX_EVENT_BYTES)
      abort ();
    url = gst_whep_sse_reconnect_url (payload, stream_url);
    g_free (url);
    url = gst_whep_sse_reconnect_url (payload, NULL);
    g_free (name);
    g_free (payload);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GstWhepSseParser) parser = gst_whep_sse_parser_new ();
  const uint8_t *p = data, *end = data + size;

  while (p < end && !gst_whep_sse_parser_overflowed (parser)) {
    const uint8_t *lf = memchr (p, '\n', end - p);
    g_autofree gchar *line = NULL;

    /* An unfinished line is dropped when the stream ends. */
    if (lf == NULL || lf - p > MAX_LINE_BYTES)
      break;
    line = fuzz_strdup (p, lf - p);
    gst_whep_sse_parser_push_line (parser, line);
    take_events (parser);
    p = lf + 1;
  }
  return 0;
}
