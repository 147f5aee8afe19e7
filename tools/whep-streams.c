/* whep-streams — plays N WHEP streams through N whepsrc in one process and
 * reports what one process can carry (bench/streams.sh).
 *
 *   whep-streams --endpoint URL --streams N [--seconds 30]
 *                [--stagger-ms 100] [--setup-timeout 60]
 *                [--server-pid PID] [--ice-local-addresses 127.0.0.1]
 *                [--decoder-threads N]
 *
 * Each stream is its own pipeline, whepsrc → fakesink (sync=true: frames
 * are rendered in real time against the pipeline clock).  The streams are
 * started one after another, @stagger-ms apart; once every stream showed a
 * picture (or the set-up timeout passed) a window of @seconds is measured:
 *
 *  - frames per second per stream; how many streams keep the source's
 *    rate (≥ 95 % of its 30 fps), and how many of those are real time (at
 *    most 5 % of their frames rendered more than 40 ms late against the
 *    clock: a sink with sync=true renders a late frame at once, so the
 *    lateness is how far the stream's decoding lags);
 *  - CPU of this process (and of @server-pid), as % of one core, in all
 *    and per stream;
 *  - RSS and threads (/proc/self/task) above the process's own before the
 *    first stream, per stream, with every thread name (digits folded to #)
 *    and how many threads carry it;
 *  - after NULL: how long stopping all took, and the whepsrc threads
 *    (whep-http, whepsrc-ctl) still alive.
 *
 * The last line is one machine-readable summary ("RESULT key=value …").
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

#define SOURCE_FPS 30.0
#define LATE_NS (40 * GST_MSECOND)

typedef struct
{
  GstElement *pipeline;
  gint frames;                  /* atomic */
  gint late;                    /* atomic: rendered > LATE_NS late */
  gint errors;                  /* atomic */
  gint frames_at_start;         /* window start */
  gint late_at_start;
} Stream;

/* utime + stime of @pid ("self" for this process) in clock ticks. */
static gdouble
cpu_ticks (const gchar * pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree gchar *stat = NULL;
  const gchar *p;
  guint64 utime = 0, stime = 0;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return -1;
  /* Fields after the command name (which may hold spaces): state is the
   * 3rd field, utime the 14th, stime the 15th. */
  p = strrchr (stat, ')');
  if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
          "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &utime, &stime) != 2)
    return -1;
  return (gdouble) (utime + stime);
}

/* Thread name → count, names with digits folded ("nicesrc12:src" →
 * "nicesrc#:src"). */
static GHashTable *
thread_names (guint * total)
{
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;

  *total = 0;
  while (dir && (tid = g_dir_read_name (dir))) {
    g_autofree gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    g_autofree gchar *comm = NULL;
    GString *folded = g_string_new (NULL);
    const gchar *c;
    gpointer count;

    if (!g_file_get_contents (path, &comm, NULL, NULL)) {
      g_string_free (folded, TRUE);
      continue;
    }
    g_strchomp (comm);
    for (c = comm; *c; c++) {
      if (g_ascii_isdigit (*c)) {
        if (folded->len == 0 || folded->str[folded->len - 1] != '#')
          g_string_append_c (folded, '#');
      } else {
        g_string_append_c (folded, *c);
      }
    }
    count = g_hash_table_lookup (names, folded->str);
    g_hash_table_insert (names, g_string_free (folded, FALSE),
        GINT_TO_POINTER (GPOINTER_TO_INT (count) + 1));
    (*total)++;
  }
  if (dir)
    g_dir_close (dir);
  return names;
}

static gint
compare_counts (gconstpointer a, gconstpointer b, gpointer user_data)
{
  GHashTable *names = user_data;
  gint ca = GPOINTER_TO_INT (g_hash_table_lookup (names, *(gchar **) a));
  gint cb = GPOINTER_TO_INT (g_hash_table_lookup (names, *(gchar **) b));

  return ca != cb ? cb - ca : strcmp (*(gchar **) a, *(gchar **) b);
}

static void
handoff_cb (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  Stream *stream = user_data;
  GstClock *clock;
  GstSegment *segment;
  GstClockTime rt;

  g_atomic_int_inc (&stream->frames);
  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return;
  clock = gst_element_get_clock (sink);
  if (!clock)
    return;
  segment = &GST_BASE_SINK (sink)->segment;
  rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buffer));
  if (GST_CLOCK_TIME_IS_VALID (rt)) {
    GstClockTimeDiff late = GST_CLOCK_DIFF (gst_element_get_base_time (sink) +
        rt + gst_base_sink_get_latency (GST_BASE_SINK (sink)),
        gst_clock_get_time (clock));

    if (late > (GstClockTimeDiff) LATE_NS)
      g_atomic_int_inc (&stream->late);
  }
  gst_object_unref (clock);
}

static void
pad_added_cb (GstElement * src, GstPad * pad, Stream * stream)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autofree gchar *name = gst_pad_get_name (pad);
  GstPad *sinkpad;

  g_object_set (sink, "sync", TRUE, "async", FALSE, NULL);
  if (g_str_has_prefix (name, "video")) {
    g_object_set (sink, "signal-handoffs", TRUE, NULL);
    g_signal_connect (sink, "handoff", G_CALLBACK (handoff_cb), stream);
  }
  gst_bin_add (GST_BIN (stream->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

/* --decoder-threads: what an application can do without whepsrc's help
 * (decoders are made inside whepsrc's sessions; deep-element-added reaches
 * the pipeline). */
static void
deep_element_added_cb (GstBin * pipeline, GstBin * sub_bin,
    GstElement * element, gpointer user_data)
{
  gint threads = GPOINTER_TO_INT (user_data);
  GstElementFactory *factory = gst_element_get_factory (element);

  if (!factory || !gst_element_factory_list_is_type (factory,
          GST_ELEMENT_FACTORY_TYPE_DECODER))
    return;
  /* vp8dec, vp9dec: "threads"; avdec_*: "max-threads" */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), "threads"))
    g_object_set (element, "threads", threads, NULL);
  else if (g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "max-threads"))
    g_object_set (element, "max-threads", threads, NULL);
}

static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Stream *stream = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) e = NULL;

    gst_message_parse_error (msg, &e, NULL);
    if (g_atomic_int_add (&stream->errors, 1) == 0)
      g_printerr ("error in %s: %s\n", GST_ELEMENT_NAME (stream->pipeline),
          e->message);
  }
  return G_SOURCE_CONTINUE;
}

/* Runs the main context for @ms (bus watches). */
static void
pump (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10 * 1000);
  }
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble da = *(const gdouble *) a, db = *(const gdouble *) b;

  return da < db ? -1 : da > db;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *endpoint = NULL, *addresses = NULL, *server_pid = NULL;
  gint n = 8, stagger_ms = 100, setup_timeout = 60, decoder_threads = 0;
  gdouble seconds = 30;
  GOptionEntry entries[] = {
    {"endpoint", 'e', 0, G_OPTION_ARG_STRING, &endpoint, "WHEP endpoint URL",
        "URL"},
    {"streams", 'n', 0, G_OPTION_ARG_INT, &n, "Number of streams", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds,
        "Measured window once all play", "S"},
    {"stagger-ms", 0, 0, G_OPTION_ARG_INT, &stagger_ms,
        "Between two streams' starts", "MS"},
    {"setup-timeout", 0, 0, G_OPTION_ARG_INT, &setup_timeout,
        "Longest wait for every stream's first picture", "S"},
    {"server-pid", 0, 0, G_OPTION_ARG_STRING, &server_pid,
        "Also measure this process's CPU", "PID"},
    {"ice-local-addresses", 0, 0, G_OPTION_ARG_STRING, &addresses,
        "Local addresses ICE may use", "LIST"},
    {"decoder-threads", 0, 0, G_OPTION_ARG_INT, &decoder_threads,
        "Set the video decoders' threads (vp8dec threads, avdec max-threads;"
          " 0: their default)", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— play N WHEP "
      "streams in one process and report");
  g_autoptr (GError) err = NULL;
  g_autoptr (GHashTable) names = NULL, base_names = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  Stream *streams;
  guint base_threads, threads, left_threads, i, playing = 0, realtime = 0;
  guint at_rate = 0;
  gdouble *late_shares;
  glong base_rss, rss;
  gdouble cpu0, cpu1, srv0 = 0, srv1 = 0, hz = sysconf (_SC_CLK_TCK);
  gdouble *fps, fps_sum = 0, late_max = 0;
  gint64 t0, t1, t_setup, t_stop;
  guint left_whep = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !endpoint || n < 1) {
    g_printerr ("%s\n", err ? err->message : "--endpoint and --streams N "
        "are required");
    return 2;
  }
  if (!gst_registry_check_feature_version (gst_registry_get (), "whepsrc",
          0, 0, 0)) {
    g_printerr ("whepsrc not found: set GST_PLUGIN_PATH to the build's gst "
        "folder\n");
    return 2;
  }

  /* Load what every stream needs once, so that the baseline holds the
   * process's own threads (GStreamer's, GLib's) and not the first
   * stream's. */
  {
    GstElement *probe = gst_element_factory_make ("whepsrc", NULL);
    gst_object_unref (probe);
  }
  base_names = thread_names (&base_threads);
  base_rss = proc_rss_kib ();

  streams = g_new0 (Stream, n);
  t_setup = g_get_monotonic_time ();
  for (i = 0; i < (guint) n; i++) {
    Stream *s = &streams[i];
    GstElement *src = gst_element_factory_make ("whepsrc", NULL);
    GstBus *bus;

    s->pipeline = gst_pipeline_new (NULL);
    g_object_set (src, "whep-endpoint", endpoint, NULL);
    if (addresses)
      g_object_set (src, "ice-local-addresses", addresses, NULL);
    g_signal_connect (src, "pad-added", G_CALLBACK (pad_added_cb), s);
    if (decoder_threads > 0)
      g_signal_connect (s->pipeline, "deep-element-added",
          G_CALLBACK (deep_element_added_cb),
          GINT_TO_POINTER (decoder_threads));
    gst_bin_add (GST_BIN (s->pipeline), src);
    bus = gst_element_get_bus (s->pipeline);
    gst_bus_add_watch (bus, bus_cb, s);
    gst_object_unref (bus);
    gst_element_set_state (s->pipeline, GST_STATE_PLAYING);
    pump (stagger_ms);
  }
  while (g_get_monotonic_time () - t_setup < setup_timeout * G_USEC_PER_SEC) {
    guint with_picture = 0;

    for (i = 0; i < (guint) n; i++)
      with_picture += g_atomic_int_get (&streams[i].frames) > 0;
    if (with_picture == (guint) n)
      break;
    pump (100);
  }
  /* Let the last ones settle (jitterbuffers filled, key frames in). */
  pump (2000);
  g_print ("set-up: %.1f s for %d streams (%d ms apart)\n",
      (g_get_monotonic_time () - t_setup) / 1e6, n, stagger_ms);

  /* The window. */
  for (i = 0; i < (guint) n; i++) {
    streams[i].frames_at_start = g_atomic_int_get (&streams[i].frames);
    streams[i].late_at_start = g_atomic_int_get (&streams[i].late);
  }
  cpu0 = cpu_ticks ("self");
  if (server_pid)
    srv0 = cpu_ticks (server_pid);
  t0 = g_get_monotonic_time ();
  pump (seconds * 1000);
  t1 = g_get_monotonic_time ();
  cpu1 = cpu_ticks ("self");
  if (server_pid)
    srv1 = cpu_ticks (server_pid);
  rss = proc_rss_kib ();
  names = thread_names (&threads);

  fps = g_new0 (gdouble, n);
  late_shares = g_new0 (gdouble, n);
  for (i = 0; i < (guint) n; i++) {
    Stream *s = &streams[i];
    gint frames = g_atomic_int_get (&s->frames) - s->frames_at_start;
    gint late = g_atomic_int_get (&s->late) - s->late_at_start;
    gdouble late_share = frames > 0 ? (gdouble) late / frames : 1.0;

    fps[i] = frames / ((t1 - t0) / 1e6);
    fps_sum += fps[i];
    late_max = MAX (late_max, late_share);
    late_shares[i] = late_share;
    playing += frames > 0;
    if (fps[i] >= 0.95 * SOURCE_FPS) {
      at_rate++;
      if (late_share <= 0.05)
        realtime++;
    }
  }
  qsort (fps, n, sizeof (gdouble), compare_doubles);
  qsort (late_shares, n, sizeof (gdouble), compare_doubles);

  g_print ("window: %.1f s\n", (t1 - t0) / 1e6);
  g_print ("streams: %d started, %u playing, %u at the source's rate "
      "(>= %.1f fps), %u of them in real time (<= 5 %% of frames > %d ms "
      "late)\n", n, playing, at_rate, 0.95 * SOURCE_FPS, realtime,
      (gint) (LATE_NS / GST_MSECOND));
  g_print ("fps per stream: min %.1f, median %.1f, max %.1f (source %.0f); "
      "frames > 40 ms late: %.1f %% (median stream), %.1f %% (worst)\n",
      fps[0], fps[n / 2], fps[n - 1], SOURCE_FPS, 100 * late_shares[n / 2],
      100 * late_max);
  g_print ("player CPU: %.1f %% of a core, %.2f %% per stream\n",
      100 * (cpu1 - cpu0) / hz / ((t1 - t0) / 1e6),
      100 * (cpu1 - cpu0) / hz / ((t1 - t0) / 1e6) / n);
  if (server_pid)
    g_print ("server CPU: %.1f %% of a core (pid %s)\n",
        100 * (srv1 - srv0) / hz / ((t1 - t0) / 1e6), server_pid);
  g_print ("RSS: %.1f MiB in all, %.2f MiB per stream (%.1f MiB before "
      "the first)\n", rss / 1024.0, (rss - base_rss) / 1024.0 / n,
      base_rss / 1024.0);
  g_print ("threads: %u in all, %u before the first stream, %.2f per "
      "stream\n", threads, base_threads, (threads - base_threads) /
      (gdouble) n);

  keys = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, names);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (keys, key);
  }
  g_ptr_array_sort_with_data (keys, compare_counts, names);
  g_print ("  %-18s %6s %6s %10s\n", "thread name", "count", "before",
      "per stream");
  for (i = 0; i < keys->len; i++) {
    const gchar *name = g_ptr_array_index (keys, i);
    gint count = GPOINTER_TO_INT (g_hash_table_lookup (names, name));
    gint before = GPOINTER_TO_INT (g_hash_table_lookup (base_names, name));

    g_print ("  %-18s %6d %6d %10.2f\n", name, count, before,
        (count - before) / (gdouble) n);
  }

  t_stop = g_get_monotonic_time ();
  for (i = 0; i < (guint) n; i++)
    gst_element_set_state (streams[i].pipeline, GST_STATE_NULL);
  t_stop = g_get_monotonic_time () - t_stop;
  {
    g_autoptr (GHashTable) left = thread_names (&left_threads);

    left_whep = GPOINTER_TO_INT (g_hash_table_lookup (left, "whep-http")) +
        GPOINTER_TO_INT (g_hash_table_lookup (left, "whepsrc-ctl"));
  }
  g_print ("stop: all %d to NULL in %.0f ms; whepsrc threads left: %u; "
      "threads left: %u\n", n, t_stop / 1000.0, left_whep, left_threads);
  g_print
      ("RESULT decoder_threads=%d streams=%d playing=%u realtime=%u fps_min=%.1f "
      "fps_median=%.1f at_rate=%u late_pct_median=%.1f late_pct_max=%.1f "
      "cpu_pct_per_stream=%.2f server_cpu_pct=%.1f "
      "rss_mib_per_stream=%.2f threads_per_stream=%.2f\n", decoder_threads, n,
      playing, realtime, fps[0], fps[n / 2], at_rate,
      100 * late_shares[n / 2], 100 * late_max,
      100 * (cpu1 - cpu0) / hz / ((t1 - t0) / 1e6) / n,
      server_pid ? 100 * (srv1 - srv0) / hz / ((t1 - t0) / 1e6) : -1.0,
      (rss - base_rss) / 1024.0 / n, (threads - base_threads) / (gdouble) n);

  for (i = 0; i < (guint) n; i++)
    gst_object_unref (streams[i].pipeline);
  g_free (streams);
  g_free (fps);
  g_free (late_shares);
  return realtime == (guint) n ? 0 : 1;
}
