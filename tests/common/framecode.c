/* whepsrc tests — a machine-readable frame counter drawn into the picture.
 *
 * See framecode.h for the layout.  Only 8-bit YUV formats are handled: the
 * test server produces I420 and every decoder used by the tests outputs
 * 8-bit YUV, so deeper formats are refused rather than half supported.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "framecode.h"

#define LUMA_WHITE 235
#define LUMA_BLACK 16
#define CHROMA_NEUTRAL 128
/* Midpoint between black and white: lossy coding blurs cell edges, but the
 * inner part of a cell stays well on its side of this line. */
#define LUMA_THRESHOLD ((LUMA_WHITE + LUMA_BLACK) / 2)
#define COUNTER_BITS 24

/* CRC-8 (polynomial x^8 + x^2 + x + 1) of the three counter bytes, XORed
 * with a constant so that an all-black or all-white strip (a picture
 * without a code) never reads as a valid counter. */
guint8
whep_framecode_check_byte (guint32 counter)
{
  guint8 crc = 0;
  gint byte, bit;

  counter &= WHEP_FRAMECODE_MAX;
  for (byte = 2; byte >= 0; byte--) {
    crc ^= (counter >> (byte * 8)) & 0xff;
    for (bit = 0; bit < 8; bit++)
      crc = (crc & 0x80) ? (guint8) ((crc << 1) ^ 0x07) : (guint8) (crc << 1);
  }

  return crc ^ 0x5a;
}

static guint32
framecode_word (guint32 counter)
{
  counter &= WHEP_FRAMECODE_MAX;
  return (counter << 8) | whep_framecode_check_byte (counter);
}

/* Whether @frame is a format we can draw into or read from, and is big
 * enough to hold the whole strip. */
static gboolean
framecode_frame_usable (const GstVideoFrame * frame)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;

  if (finfo == NULL || !GST_VIDEO_FORMAT_INFO_IS_YUV (finfo))
    return FALSE;
  if (GST_VIDEO_FORMAT_INFO_DEPTH (finfo, 0) != 8)
    return FALSE;
  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo))
    return FALSE;

  return GST_VIDEO_FRAME_WIDTH (frame) >= WHEP_FRAMECODE_MIN_WIDTH
      && GST_VIDEO_FRAME_HEIGHT (frame) >= WHEP_FRAMECODE_CELL;
}

/* Fills a rectangle of one component, in that component's own
 * (possibly subsampled) coordinates. */
static void
framecode_fill (GstVideoFrame * frame, guint comp, gint x, gint y, gint w,
    gint h, guint8 value)
{
  guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, comp);
  gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, comp);
  gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, comp);
  gint row, col;

  for (row = y; row < y + h; row++) {
    guint8 *line = data + (gsize) row * stride;

    for (col = x; col < x + w; col++)
      line[(gsize) col * pstride] = value;
  }
}

gboolean
whep_framecode_stamp (GstVideoFrame * frame, guint32 counter)
{
  const GstVideoFormatInfo *finfo;
  guint32 word;
  guint comp, bit;

  g_return_val_if_fail (frame != NULL, FALSE);

  if (!framecode_frame_usable (frame))
    return FALSE;

  finfo = frame->info.finfo;
  word = framecode_word (counter);

  for (bit = 0; bit < WHEP_FRAMECODE_BITS; bit++) {
    gboolean one = (word >> (WHEP_FRAMECODE_BITS - 1 - bit)) & 1;

    framecode_fill (frame, 0, bit * WHEP_FRAMECODE_CELL, 0,
        WHEP_FRAMECODE_CELL, WHEP_FRAMECODE_CELL,
        one ? LUMA_WHITE : LUMA_BLACK);
  }

  /* Grey chroma under the strip: a coloured background would push the
   * cells out of gamut in an RGB round trip and change their luma. */
  for (comp = 1; comp < GST_VIDEO_FRAME_N_COMPONENTS (frame); comp++) {
    gint w, h;

    if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) && comp == GST_VIDEO_COMP_A)
      continue;
    w = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, comp,
        WHEP_FRAMECODE_MIN_WIDTH);
    h = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, comp, WHEP_FRAMECODE_CELL);
    framecode_fill (frame, comp, 0, 0, w, h, CHROMA_NEUTRAL);
  }

  return TRUE;
}

/* Mean luma of the inner half of cell @bit: the cell's edges are where
 * block-based coding smears neighbours into each other. */
static guint
framecode_cell_mean (const GstVideoFrame * frame, guint bit)
{
  const guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  gint x0 = bit * WHEP_FRAMECODE_CELL + WHEP_FRAMECODE_CELL / 4;
  gint y0 = WHEP_FRAMECODE_CELL / 4;
  gint n = WHEP_FRAMECODE_CELL / 2;
  guint sum = 0;
  gint row, col;

  for (row = y0; row < y0 + n; row++) {
    const guint8 *line = data + (gsize) row * stride;

    for (col = x0; col < x0 + n; col++)
      sum += line[(gsize) col * pstride];
  }

  return sum / (guint) (n * n);
}

gboolean
whep_framecode_read (const GstVideoFrame * frame, guint32 * counter)
{
  guint32 word = 0, value;
  guint bit;

  g_return_val_if_fail (frame != NULL, FALSE);

  if (!framecode_frame_usable (frame))
    return FALSE;

  for (bit = 0; bit < WHEP_FRAMECODE_BITS; bit++) {
    word <<= 1;
    if (framecode_cell_mean (frame, bit) > LUMA_THRESHOLD)
      word |= 1;
  }

  value = word >> (WHEP_FRAMECODE_BITS - COUNTER_BITS);
  if ((word & 0xff) != whep_framecode_check_byte (value))
    return FALSE;

  if (counter)
    *counter = value;
  return TRUE;
}

gboolean
whep_framecode_read_buffer (GstBuffer * buffer, const GstVideoInfo * info,
    guint32 * counter)
{
  GstVideoFrame frame;
  gboolean ret;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (info != NULL, FALSE);

  /* GstVideoInfo is not const-correct in the video frame API. */
  if (!gst_video_frame_map (&frame, (GstVideoInfo *) info, buffer,
          GST_MAP_READ))
    return FALSE;

  ret = whep_framecode_read (&frame, counter);
  gst_video_frame_unmap (&frame);

  return ret;
}
