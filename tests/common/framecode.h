/* whepsrc tests — a machine-readable frame counter drawn into the picture.
 *
 * The test server stamps every frame it sends with a 24-bit counter; tests,
 * benchmarks and the demo read it back from decoded frames, which proves
 * that no frame was lost or repeated, whatever the codec.
 *
 * Layout (luma only, so it survives any YUV/RGB conversion and lossy
 * coding): a row of 32 square cells of WHEP_FRAMECODE_CELL pixels at the
 * top-left corner; cell i (from the left) is white (235) for bit 1 and
 * black (16) for bit 0.  Bits 0-23 are the counter (MSB first), bits 24-31
 * a check byte (see whep_framecode_check_byte) so a misread is detected,
 * not mistaken for another counter.  Needs a picture at least
 * 32 * WHEP_FRAMECODE_CELL pixels wide and WHEP_FRAMECODE_CELL high.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>

G_BEGIN_DECLS

#define WHEP_FRAMECODE_CELL 16
#define WHEP_FRAMECODE_BITS 32
#define WHEP_FRAMECODE_MIN_WIDTH (WHEP_FRAMECODE_CELL * WHEP_FRAMECODE_BITS)
#define WHEP_FRAMECODE_MAX 0xffffff

guint8 whep_framecode_check_byte (guint32 counter);

/* Draws @counter (masked to 24 bits) into a writable, mapped frame whose
 * format is YUV with the luma in component 0 (I420, NV12, YUY2, …). */
gboolean whep_framecode_stamp (GstVideoFrame * frame, guint32 counter);

/* Reads the counter back; FALSE when the picture is too small, the format
 * is not YUV, or the check byte does not match. */
gboolean whep_framecode_read (const GstVideoFrame * frame, guint32 * counter);

/* Convenience for pad probes: maps @buffer with @info and reads it. */
gboolean whep_framecode_read_buffer (GstBuffer * buffer,
    const GstVideoInfo * info, guint32 * counter);

G_END_DECLS
