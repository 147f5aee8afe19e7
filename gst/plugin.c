#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>
static gboolean
plugin_init (GstPlugin * plugin)
{
  return TRUE;
}
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, whepsrc,
    "WHEP (WebRTC-HTTP Egress Protocol) source that survives session limits",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
