/* whepsrc tools — what /proc says of this process (Linux).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Resident memory of this process in KiB, or -1. */
static inline glong
proc_rss_kib (void)
{
  g_autofree gchar *status = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line ? strtol (line + 6, NULL, 10) : -1;
}
