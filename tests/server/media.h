/* whep-test-server — the shared live source: one camera-like pipeline,
 * encoded once and fanned out with a tee per kind to every session.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "offer.h"
#include "options.h"

G_BEGIN_DECLS

typedef struct _WhepMedia WhepMedia;

WhepMedia *whep_media_new (const WhepServerOptions * opts, GError ** error);
void whep_media_free (WhepMedia * media);

GstPipeline *whep_media_get_pipeline (WhepMedia * media);
gboolean whep_media_start (WhepMedia * media, GError ** error);
void whep_media_stop (WhepMedia * media);

/* What we send, for matching offers. */
const WhepCodecSet *whep_media_get_codecs (WhepMedia * media);

/* A new tee src pad for one session of @kind, or NULL when we do not send
 * that kind.  Release it with whep_media_release_pad() once unlinked. */
GstPad *whep_media_request_pad (WhepMedia * media, WhepMediaKind kind);
void whep_media_release_pad (WhepMedia * media, GstPad * pad);

/* Makes the encoder produce a key frame (with headers) now, so a new
 * viewer does not wait for the next periodic one. */
void whep_media_request_key_frame (WhepMedia * media);

/* The per-session payloader for @kind, with @pt; NULL when not sending. */
GstElement *whep_media_make_payloader (WhepMedia * media, WhepMediaKind kind,
    gint pt);

/* The caps the webrtcbin sink pad for @kind gets: media, encoding-name,
 * payload, clock-rate and the fmtp fields of our encoding. */
GstCaps *whep_media_make_rtp_caps (WhepMedia * media, WhepMediaKind kind,
    gint pt);

G_END_DECLS
