/* whepsrc — a GstBin that plays a WHEP stream and keeps playing.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WHEP_SRC (gst_whep_src_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepSrc, gst_whep_src, GST, WHEP_SRC, GstBin);

GST_ELEMENT_REGISTER_DECLARE (whepsrc);
GST_ELEMENT_REGISTER_DECLARE (rotatingwhepsrc);

G_END_DECLS
