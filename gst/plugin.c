/* whepsrc — plugin entry point.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  /* The alias first: see gstwhepsrc.c. */
  gboolean ok = GST_ELEMENT_REGISTER (rotatingwhepsrc, plugin);

  ok &= GST_ELEMENT_REGISTER (whepsrc, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, whepsrc,
    "WHEP (WebRTC-HTTP Egress Protocol) source that survives session limits",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
