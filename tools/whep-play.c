/* whep-play — plays a WHEP endpoint through whepsrc for a while and reports
 * what arrived: frames, first-frame time, frame-counter gaps and repeats
 * (when the source is the project's test server), the longest wait between
 * two frames, rotations and losses, CPU time and memory, and a PNG
 * snapshot.  It is the demo player and the measuring tool of bench/.
 *
 *   whep-play --endpoint URL [--seconds 10] [--snapshot out.png]
 *             [--ice-local-addresses 127.0.0.1] [--auth-token T]
 *             [--session-lifetime S] [--media-timeout MS]
 *             [--csv arrivals.csv] [--quiet]
 *
 * Exit status: 0 when frames arrived and no error was posted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "framecode.h"

#include "procstat.h"

typedef struct
{
  GMutex lock;
  guint64 frames;
  gint64 t_playing;             /* monotonic µs when PLAYING was reached */
  gint64 t_first;
  guint64 counted;              /* frames whose counter could be read */
  guint64 gaps;                 /* frames missing between two counters */
  guint64 repeats;
  gint64 last_counter;          /* -1: none yet */
  GstSample *last_sample;
  gint64 last_arrival;
  gint64 max_gap_us;            /* longest wait between two frames */
  GString *csv;                 /* "ms,counter" per frame, or NULL */
} Stats;

static gdouble
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
      (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static GstPadProbeReturn
frame_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stats *stats = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  guint32 counter;
  gboolean have_counter = FALSE;
  gint64 now = g_get_monotonic_time ();

  if (caps && gst_video_info_from_caps (&vinfo, caps))
    have_counter = whep_framecode_read_buffer (buffer, &vinfo, &counter);

  g_mutex_lock (&stats->lock);
  if (stats->frames++ == 0)
    stats->t_first = now;
  if (stats->last_arrival)
    stats->max_gap_us = MAX (stats->max_gap_us, now - stats->last_arrival);
  stats->last_arrival = now;
  if (stats->csv)
    g_string_append_printf (stats->csv, "%.1f,%" G_GINT64_FORMAT "\n",
        (now - stats->t_playing) / 1000.0, have_counter ? (gint64) counter :
        (gint64) - 1);
  if (have_counter) {
    stats->counted++;
    if (stats->last_counter >= 0) {
      if ((gint64) counter == stats->last_counter)
        stats->repeats++;
      else if ((gint64) counter > stats->last_counter + 1)
        stats->gaps += counter - stats->last_counter - 1;
    }
    stats->last_counter = counter;
  }
  if (caps) {
    if (stats->last_sample)
      gst_sample_unref (stats->last_sample);
    stats->last_sample = gst_sample_new (buffer, caps, NULL, NULL);
  }
  g_mutex_unlock (&stats->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_pad_added (GstElement * src, GstPad * pad, GstElement * pipeline)
{
  g_autofree gchar *name = gst_pad_get_name (pad);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *sinkpad;

  /* Audio is consumed too, so that a stream with audio plays as it would
   * in an application. */
  g_object_set (sink, "sync", TRUE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_printerr ("could not link %s\n", name);
  if (g_str_has_prefix (name, "video"))
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, frame_probe,
        g_object_get_data (G_OBJECT (pipeline), "stats"), NULL);
  gst_object_unref (sinkpad);
  g_print ("whepsrc exposed %s\n", name);
}

static gboolean
write_snapshot (Stats * stats, const gchar * path)
{
  g_autoptr (GstCaps) png_caps = gst_caps_new_empty_simple ("image/png");
  g_autoptr (GError) err = NULL;
  GstSample *sample, *png;
  GstMapInfo map;
  gboolean ok;

  g_mutex_lock (&stats->lock);
  sample = stats->last_sample ? gst_sample_ref (stats->last_sample) : NULL;
  g_mutex_unlock (&stats->lock);
  if (!sample)
    return FALSE;
  png = gst_video_convert_sample (sample, png_caps, 5 * GST_SECOND, &err);
  gst_sample_unref (sample);
  if (!png) {
    g_printerr ("snapshot failed: %s\n", err ? err->message : "?");
    return FALSE;
  }
  gst_buffer_map (gst_sample_get_buffer (png), &map, GST_MAP_READ);
  ok = g_file_set_contents (path, (const gchar *) map.data, map.size, &err);
  gst_buffer_unmap (gst_sample_get_buffer (png), &map);
  gst_sample_unref (png);
  if (!ok)
    g_printerr ("could not write %s: %s\n", path, err->message);
  return ok;
}

static gboolean
first_frame_seen (Stats * stats)
{
  gboolean seen;

  g_mutex_lock (&stats->lock);
  seen = stats->frames > 0;
  g_mutex_unlock (&stats->lock);
  return seen;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *endpoint = NULL, *snapshot = NULL, *addresses = NULL;
  g_autofree gchar *token = NULL, *csv = NULL;
  g_auto (GStrv) settings = NULL;
  gboolean until_first_frame = FALSE;
  gdouble seconds = 10;
  gint lifetime = 0, media_timeout = -1;
  gboolean quiet = FALSE;
  guint rotations = 0, losses = 0;
  glong rss_start = -1, rss_end;
  gdouble cpu_start = 0;
  GOptionEntry entries[] = {
    {"endpoint", 'e', 0, G_OPTION_ARG_STRING, &endpoint, "WHEP endpoint URL",
        "URL"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to play",
        "S"},
    {"snapshot", 'o', 0, G_OPTION_ARG_FILENAME, &snapshot,
        "Write the last picture as PNG", "FILE"},
    {"ice-local-addresses", 0, 0, G_OPTION_ARG_STRING, &addresses,
        "Local addresses ICE may use", "LIST"},
    {"auth-token", 0, 0, G_OPTION_ARG_STRING, &token, "Bearer token", "T"},
    {"session-lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime,
        "whepsrc session-lifetime (s)", "S"},
    {"media-timeout", 0, 0, G_OPTION_ARG_INT, &media_timeout,
        "whepsrc media-timeout (ms)", "MS"},
    {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv,
        "Write 'ms since start,frame counter' per frame", "FILE"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No bus messages", NULL},
    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &settings,
          "Set a whepsrc property (repeatable), e.g. trickle-ice=off",
        "NAME=VALUE"},
    {"until-first-frame", 0, 0, G_OPTION_ARG_NONE, &until_first_frame,
        "Stop at the first picture (for set-up benchmarks)", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— play a WHEP "
      "endpoint through whepsrc and report");
  g_autoptr (GError) err = NULL;
  GstElement *pipeline, *src;
  GstBus *bus;
  Stats stats = { 0, };
  gboolean failed = FALSE;
  gint64 deadline;
  GstStructure *statistics = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !endpoint) {
    g_printerr ("%s\n", err ? err->message : "--endpoint is required");
    return 2;
  }

  g_mutex_init (&stats.lock);
  stats.last_counter = -1;
  pipeline = gst_pipeline_new ("whep-play");
  src = gst_element_factory_make ("whepsrc", NULL);
  if (!src) {
    g_printerr ("whepsrc not found: set GST_PLUGIN_PATH to the build's gst "
        "folder\n");
    return 2;
  }
  g_object_set (src, "whep-endpoint", endpoint, NULL);
  if (addresses)
    g_object_set (src, "ice-local-addresses", addresses, NULL);
  if (token)
    g_object_set (src, "auth-token", token, NULL);
  if (lifetime > 0)
    g_object_set (src, "session-lifetime", lifetime, NULL);
  if (media_timeout >= 0)
    g_object_set (src, "media-timeout", media_timeout, NULL);
  for (gchar ** set = settings; set && *set; set++) {
    g_auto (GStrv) kv = g_strsplit (*set, "=", 2);

    if (!kv[0] || !kv[1] || !g_object_class_find_property
        (G_OBJECT_GET_CLASS (src), kv[0])) {
      g_printerr ("--set %s: not a whepsrc property=value\n", *set);
      return 2;
    }
    gst_util_set_object_arg (G_OBJECT (src), kv[0], kv[1]);
  }
  if (csv)
    stats.csv = g_string_new ("ms,counter\n");
  g_object_set_data (G_OBJECT (pipeline), "stats", &stats);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), pipeline);
  gst_bin_add (GST_BIN (pipeline), src);

  bus = gst_element_get_bus (pipeline);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    failed = TRUE;
  stats.t_playing = g_get_monotonic_time ();
  deadline = stats.t_playing + (gint64) (seconds * G_USEC_PER_SEC);

  while (!failed && g_get_monotonic_time () < deadline
      && !(until_first_frame && first_frame_seen (&stats))) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) e = NULL;
      g_autofree gchar *dbg = NULL;
      gst_message_parse_error (msg, &e, &dbg);
      g_printerr ("ERROR from %s: %s\n  %s\n", GST_OBJECT_NAME (msg->src),
          e->message, GST_STR_NULL (dbg));
      failed = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      g_autoptr (GError) e = NULL;
      gst_message_parse_warning (msg, &e, NULL);
      g_printerr ("warning: %s\n", e->message);
    } else {
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "whepsrc/session-rotated"))
        rotations++;
      if (s && gst_structure_has_name (s, "whepsrc/session-lost"))
        losses++;
      if (s && gst_structure_has_name (s, "whepsrc/session-started")
          && rss_start < 0) {
        /* Memory and CPU from the first picture on: set-up costs
         * (registry, first webrtcbin) are not growth. */
        rss_start = proc_rss_kib ();
        cpu_start = cpu_seconds ();
      }
      if (s && !quiet
          && g_str_has_prefix (gst_structure_get_name (s), "whepsrc/")) {
        g_autofree gchar *text = gst_structure_to_string (s);
        g_print ("%s\n", text);
      }
    }
    gst_message_unref (msg);
  }

  g_object_get (src, "statistics", &statistics, NULL);
  if (snapshot && write_snapshot (&stats, snapshot))
    g_print ("snapshot written to %s\n", snapshot);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  rss_end = proc_rss_kib ();
  g_print ("frames received: %" G_GUINT64_FORMAT "\n", stats.frames);
  g_print ("rotations: %u, sessions lost: %u\n", rotations, losses);
  g_print ("longest wait between two frames: %.1f ms\n",
      stats.max_gap_us / 1000.0);
  g_print ("cpu: %.2f s after the first frame; rss: %ld KiB at the first "
      "frame, %ld KiB at the end (%+.1f KiB per rotation)\n",
      cpu_seconds () - cpu_start, rss_start, rss_end, rotations ?
      (rss_end - rss_start) / (gdouble) rotations : 0.0);
  if (stats.csv) {
    g_file_set_contents (csv, stats.csv->str, stats.csv->len, NULL);
    g_string_free (stats.csv, TRUE);
  }
  if (stats.frames)
    g_print ("first frame after: %.0f ms\n",
        (stats.t_first - stats.t_playing) / 1000.0);
  if (stats.counted)
    g_print ("frame counter: %" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT
        " missing, %" G_GUINT64_FORMAT " repeated\n", stats.counted,
        stats.gaps, stats.repeats);
  if (statistics) {
    g_autofree gchar *text = gst_structure_to_string (statistics);
    if (!quiet)
      g_print ("statistics: %s\n", text);
    gst_structure_free (statistics);
  }

  if (stats.last_sample)
    gst_sample_unref (stats.last_sample);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return (!failed && stats.frames > 0) ? 0 : 1;
}
