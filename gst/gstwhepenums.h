/* whepsrc — public enums.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * GstWhepSrcStatus:
 * @GST_WHEP_SRC_STATUS_STOPPED: not started (READY or NULL)
 * @GST_WHEP_SRC_STATUS_CONNECTING: setting up a session, no picture yet
 * @GST_WHEP_SRC_STATUS_WAITING: the server has nothing to play yet (409, 503,
 *   "not live" 404) or is busy; retrying with back-off
 * @GST_WHEP_SRC_STATUS_PLAYING: media flows
 * @GST_WHEP_SRC_STATUS_DISCONNECTED: the session was lost: the last picture is
 *   held while a new session is set up
 * @GST_WHEP_SRC_STATUS_ERROR: gave up; an error message was posted
 * @GST_WHEP_SRC_STATUS_ENDED: the application sent EOS: every pad has
 *   pushed EOS and the sessions were DELETEd
 */
typedef enum
{
  GST_WHEP_SRC_STATUS_STOPPED,
  GST_WHEP_SRC_STATUS_CONNECTING,
  GST_WHEP_SRC_STATUS_WAITING,
  GST_WHEP_SRC_STATUS_PLAYING,
  GST_WHEP_SRC_STATUS_DISCONNECTED,
  GST_WHEP_SRC_STATUS_ERROR,
  GST_WHEP_SRC_STATUS_ENDED,
} GstWhepSrcStatus;

#define GST_TYPE_WHEP_SRC_STATUS (gst_whep_src_status_get_type ())
GType gst_whep_src_status_get_type (void);

/**
 * GstWhepSrcHoldMode:
 * @GST_WHEP_SRC_HOLD_REPEAT: repeat the last video frame at the stream's
 *   frame rate and play silence
 * @GST_WHEP_SRC_HOLD_GAP: send GAP events instead
 *
 * What the output carries while no session delivers media.
 */
typedef enum
{
  GST_WHEP_SRC_HOLD_REPEAT,
  GST_WHEP_SRC_HOLD_GAP,
} GstWhepSrcHoldMode;

#define GST_TYPE_WHEP_SRC_HOLD_MODE (gst_whep_src_hold_mode_get_type ())
GType gst_whep_src_hold_mode_get_type (void);

/**
 * GstWhepSrcTrickleMode:
 * @GST_WHEP_SRC_TRICKLE_AUTO: POST the offer at once and PATCH candidates
 *   as they are gathered; once the server refuses a PATCH (405, 501, 4xx),
 *   gather fully before POSTing
 * @GST_WHEP_SRC_TRICKLE_OFF: always gather fully before POSTing
 *
 * How local ICE candidates reach the server.
 */
typedef enum
{
  GST_WHEP_SRC_TRICKLE_AUTO,
  GST_WHEP_SRC_TRICKLE_OFF,
} GstWhepSrcTrickleMode;

#define GST_TYPE_WHEP_SRC_TRICKLE_MODE (gst_whep_src_trickle_mode_get_type ())
GType gst_whep_src_trickle_mode_get_type (void);

/**
 * GstWhepSrcFecMode:
 * @GST_WHEP_SRC_FEC_AUTO: offer ULPFEC in RED for video; used when the
 *   server's answer keeps it (a server that does not know it drops it)
 * @GST_WHEP_SRC_FEC_OFF: offer no forward error correction
 *
 * Forward error correction for video, on top of retransmission (NACK/RTX).
 */
typedef enum
{
  GST_WHEP_SRC_FEC_AUTO,
  GST_WHEP_SRC_FEC_OFF,
} GstWhepSrcFecMode;

#define GST_TYPE_WHEP_SRC_FEC_MODE (gst_whep_src_fec_mode_get_type ())
GType gst_whep_src_fec_mode_get_type (void);

/**
 * GstWhepSrcOutput:
 * @GST_WHEP_SRC_OUTPUT_AUTO: asked of downstream when each pad appears:
 *   the encoded stream where downstream names its codec (a muxer, a parser,
 *   a decoder), else RTP where it names application/x-rtp, else raw (also
 *   when downstream takes anything — decodebin, fakesink — or is not
 *   linked)
 * @GST_WHEP_SRC_OUTPUT_RAW: decoded video/x-raw and audio/x-raw
 * @GST_WHEP_SRC_OUTPUT_ENCODED: the encoded stream, parsed (H.264/H.265
 *   with parsed=true and the stream-format downstream asks for; VP8, VP9,
 *   AV1, Opus, G.711 as depayloaded)
 * @GST_WHEP_SRC_OUTPUT_RTP: application/x-rtp, payloaded again after the
 *   output switch: one SSRC and continuous sequence numbers and RTP
 *   timestamps whatever the sessions behind it
 *
 * What whepsrc's src pads carry.  Encoded and RTP output switch sessions
 * at a key frame of the new session (or at any frame when the server sends
 * every session the very same frames), and a hold sends GAP events.
 */
typedef enum
{
  GST_WHEP_SRC_OUTPUT_AUTO,
  GST_WHEP_SRC_OUTPUT_RAW,
  GST_WHEP_SRC_OUTPUT_ENCODED,
  GST_WHEP_SRC_OUTPUT_RTP,
} GstWhepSrcOutput;

#define GST_TYPE_WHEP_SRC_OUTPUT (gst_whep_src_output_get_type ())
GType gst_whep_src_output_get_type (void);

G_END_DECLS
