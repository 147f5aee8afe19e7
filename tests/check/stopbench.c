/* whep-stop-bench: how long set_state(NULL) takes while a misbehaving
 * server holds whepsrc's POST (bench/stop.sh).  One line per run: the
 * mode, the milliseconds, and whepsrc's threads left right after NULL.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
  static const struct
  {
    const gchar *name;
    guint mode;
  } modes[] = {
    {"hold-post", RAW_WHEP_HOLD_POST},
    {"continue-flood", RAW_WHEP_CONTINUE_FLOOD},
    {"stalled-201-unanswered-delete",
        RAW_WHEP_CREATED_STALLED | RAW_WHEP_HOLD_DELETE},
  };
  guint runs = argc > 1 ? atoi (argv[1]) : 10;
  guint m, i;

  harness_init_before_gst ();
  gst_init (&argc, &argv);
  for (m = 0; m < G_N_ELEMENTS (modes); m++) {
    for (i = 0; i < runs; i++) {
      RawWhepServer *srv = raw_whep_server_new (modes[m].mode);
      g_autofree gchar *desc = g_strdup_printf ("whepsrc whep-endpoint=%s "
          "timeout=30 ! fakesink", raw_whep_server_endpoint (srv));
      GstElement *pipeline = gst_parse_launch (desc, NULL);
      gint64 t0;

      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      if (!raw_whep_server_wait (srv, "POST /whep", 10000))
        g_error ("no POST came");
      g_usleep (200 * 1000);
      t0 = g_get_monotonic_time ();
      gst_element_set_state (pipeline, GST_STATE_NULL);
      printf ("%s %.0f ms, whepsrc threads left %u\n", modes[m].name,
          (g_get_monotonic_time () - t0) / 1000.0, count_whep_threads ());
      fflush (stdout);
      gst_object_unref (pipeline);
      raw_whep_server_free (srv);
    }
  }
  return 0;
}
