/* whepsrc — public enums.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepenums.h"

GType
gst_whep_src_status_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHEP_SRC_STATUS_STOPPED, "Not started", "stopped"},
    {GST_WHEP_SRC_STATUS_CONNECTING, "Setting up a session", "connecting"},
    {GST_WHEP_SRC_STATUS_WAITING,
        "Waiting for the server (nothing published yet, or busy)", "waiting"},
    {GST_WHEP_SRC_STATUS_PLAYING, "Playing", "playing"},
    {GST_WHEP_SRC_STATUS_DISCONNECTED,
          "Session lost: holding the last picture while reconnecting",
        "disconnected"},
    {GST_WHEP_SRC_STATUS_ERROR, "Gave up (error posted)", "error"},
    {GST_WHEP_SRC_STATUS_ENDED, "Ended (EOS sent, sessions closed)",
        "ended"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhepSrcStatus", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_whep_src_hold_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHEP_SRC_HOLD_REPEAT,
        "Repeat the last frame, play silence", "repeat"},
    {GST_WHEP_SRC_HOLD_GAP, "Send GAP events", "gap"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhepSrcHoldMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_whep_src_trickle_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHEP_SRC_TRICKLE_AUTO, "Trickle over PATCH until the server "
          "refuses a PATCH, then gather fully before POSTing", "auto"},
    {GST_WHEP_SRC_TRICKLE_OFF, "Always gather fully before POSTing", "off"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhepSrcTrickleMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_whep_src_fec_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHEP_SRC_FEC_AUTO, "Offer ULPFEC in RED for video; used where the "
          "server's answer keeps it", "auto"},
    {GST_WHEP_SRC_FEC_OFF, "Offer no forward error correction", "off"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhepSrcFecMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_whep_src_output_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHEP_SRC_OUTPUT_AUTO, "Encoded or RTP where downstream names it, "
          "else raw", "auto"},
    {GST_WHEP_SRC_OUTPUT_RAW, "Decoded video/x-raw and audio/x-raw", "raw"},
    {GST_WHEP_SRC_OUTPUT_ENCODED, "The encoded stream, parsed", "encoded"},
    {GST_WHEP_SRC_OUTPUT_RTP, "application/x-rtp, one continuous RTP stream",
        "rtp"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhepSrcOutput", values);
    g_once_init_leave (&type, t);
  }
  return type;
}
