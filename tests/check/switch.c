/* whepsrc — unit tests for the output switch (gstwhepswitch.c).
 *
 * The switch alone, between GstHarnesses: one on its src pad collects the
 * output, one per request sink pad plays a session.  Every frame carries
 * its input and its number (in its payload, and the number in its offset
 * too), so that a test states exactly which frames went out, in which
 * order, and which were repeated: "A0-12 B13-27" is frames 0 to 12 of
 * input A, then 13 to 27 of input B.
 *
 * Time is a GstTestClock, given to the switch as its timer clock (and as
 * the element's clock, which the harnesses then share); the hold thread
 * sleeps in single-shot waits on it.  Live runs move it along with the
 * frames, one frame interval per step, and let the hold thread look at
 * every tick it asks for on the way, as it would in real time.  Non-live
 * runs push everything at time 0, faster than real time: no timeout may
 * play a part there, and every takeover must come out the same.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include "gstwhepswitch.h"

#define FRAME (GST_SECOND / 25)
#define VIDEO_CAPS "video/x-raw, format=(string)RGBA, width=(int)4, " \
    "height=(int)4, framerate=(fraction)25/1"
#define VIDEO_FRAME_SIZE (4 * 4 * 4)
/* Pictures with content of their own (for the content signature): luma
 * that depends on the frame number only, the label in the chroma. */
#define YUV_CAPS "video/x-raw, format=(string)I420, width=(int)32, " \
    "height=(int)32, framerate=(fraction)25/1"
#define YUV_LUMA_SIZE (32 * 32)
#define YUV_FRAME_SIZE (YUV_LUMA_SIZE * 3 / 2)
#define AUDIO_RATE 48000
#define AUDIO_BUFFER (20 * GST_MSECOND)
#define AUDIO_CAPS "audio/x-raw, format=(string)S16LE, " \
    "layout=(string)interleaved, rate=(int)48000, channels=(int)1"
#define ONE_SAMPLE (GST_SECOND / AUDIO_RATE)

/* The switch's own timeouts (gstwhepswitch.c). */
#define HOLD_AFTER (200 * GST_MSECOND)
#define MAX_FROZEN (250 * GST_MSECOND)
#define WAIT_FOR_REFERENCE (1500 * GST_MSECOND)

/* Capture times (NTP, since 1900) of one sender clock, in 2023. */
#define NTP_BASE (G_GUINT64_CONSTANT (3900000000) * GST_SECOND)

#define MAX_INPUTS 3
#define IN_A (1 << 0)
#define IN_B (1 << 1)
#define IN_C (1 << 2)

/* Where an input's segment starts: each its own, so that a switch that
 * forgot running time would show it. */
static const GstClockTime segment_starts[MAX_INPUTS] = {
  100 * GST_SECOND, 7 * GST_SECOND, 0
};

typedef struct
{
  GstHarness *h;
  GstPad *pad;                  /* the switch's sink pad (ref held) */
  /* At step k, the input delivers its frame k + lead. */
  gint lead;
  /* Frame n's running time: n * period + pts_offset. */
  GstClockTimeDiff pts_offset;
  /* Frame n's capture time: capture_base + n * period (NONE: none); frames
   * before no_capture_before carry none (no sender report yet). */
  GstClockTime capture_base;
  gint64 no_capture_before;
} Input;

typedef struct
{
  gchar input;                  /* 'A', 'B', 'C'; '~' for silence */
  guint64 number;
  GstClockTime pts, duration;
  gsize size;
} OutFrame;

typedef struct
{
  GstElement *sw;
  GstHarness *out;
  Input in[MAX_INPUTS];
  guint n_inputs;
  GstTestClock *clock;
  gboolean live;
  gboolean audio;
  gboolean yuv;                 /* I420 pictures with content */
  gboolean still;               /* yuv: every picture the same */
  GstClockTime period;          /* a frame, or an audio buffer */
  GstCaps *ntp_caps;

  /* What came out, as pulled from the output harness. */
  GArray *frames;               /* OutFrame */
  GArray *gaps;                 /* OutFrame: GAP events ('G') */
  GstClockTime last_pts;

  /* Written by the signal handlers and the src pad probe (any thread). */
  GMutex lock;
  GString *switched;            /* pads named by "switched" */
  GString *holding;             /* "on" / "off" per "holding" */
  GString *events;              /* "type@buffers-before" per event out */
  guint buffers_seen;
} Fixture;

/* ------------------------------------------------------------------ */
/* fixture                                                             */
/* ------------------------------------------------------------------ */

static void
switched_cb (GstElement * sw, GstPad * pad, Fixture * f)
{
  g_mutex_lock (&f->lock);
  g_string_append_printf (f->switched, "%s%s", f->switched->len ? " " : "",
      GST_PAD_NAME (pad));
  g_mutex_unlock (&f->lock);
}

static void
holding_cb (GstElement * sw, gboolean holding, Fixture * f)
{
  g_mutex_lock (&f->lock);
  g_string_append_printf (f->holding, "%s%s", f->holding->len ? " " : "",
      holding ? "on" : "off");
  g_mutex_unlock (&f->lock);
}

/* Logs the order of events and buffers as they leave the switch (the
 * harness keeps them in separate queues). */
static GstPadProbeReturn
output_probe (GstPad * pad, GstPadProbeInfo * info, Fixture * f)
{
  g_mutex_lock (&f->lock);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    f->buffers_seen++;
  } else if (GST_PAD_PROBE_INFO_TYPE (info) &
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    const gchar *name = GST_EVENT_TYPE_NAME (event);

    g_string_append_printf (f->events, "%s%s", f->events->len ? " " : "", name);
    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gint width = 0;

      gst_event_parse_caps (event, &caps);
      if (gst_structure_get_int (gst_caps_get_structure (caps, 0), "width",
              &width))
        g_string_append_printf (f->events, ":%d", width);
    }
    g_string_append_printf (f->events, "@%u", f->buffers_seen);
  }
  g_mutex_unlock (&f->lock);
  return GST_PAD_PROBE_OK;
}

static void
send_segment (Fixture * f, guint i)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = segment.time = segment_starts[i];
  fail_unless (gst_harness_push_event (f->in[i].h,
          gst_event_new_segment (&segment)));
}

static void
send_caps (Fixture * f, guint i, const gchar * caps_str)
{
  g_autoptr (GstCaps) caps = gst_caps_from_string (caps_str);

  fail_unless (gst_harness_push_event (f->in[i].h, gst_event_new_caps (caps)));
}

/* A switch with @n_inputs sessions (A, B, C: sink_0, sink_1, sink_2),
 * none of them active yet, each with @caps and a segment of its own. */
static Fixture *
fixture_new (gboolean live, const gchar * caps, GstClockTime period,
    guint n_inputs)
{
  Fixture *f = g_new0 (Fixture, 1);
  GstPad *srcpad;
  guint i;

  f->live = live;
  f->audio = g_str_has_prefix (caps, "audio/");
  f->yuv = strstr (caps, "I420") != NULL;
  f->period = period;
  f->n_inputs = n_inputs;
  f->ntp_caps = gst_caps_new_empty_simple ("timestamp/x-ntp");
  f->frames = g_array_new (FALSE, TRUE, sizeof (OutFrame));
  f->gaps = g_array_new (FALSE, TRUE, sizeof (OutFrame));
  f->last_pts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&f->lock);
  f->switched = g_string_new (NULL);
  f->holding = g_string_new (NULL);
  f->events = g_string_new (NULL);

  f->sw = gst_object_ref_sink (gst_whep_switch_new ("switch", "test/video"));
  f->clock = GST_TEST_CLOCK (gst_test_clock_new ());
  /* Before the first harness: it sets the switch playing. */
  gst_whep_switch_set_timer_clock (GST_WHEP_SWITCH (f->sw),
      GST_CLOCK (f->clock));
  gst_element_set_clock (f->sw, GST_CLOCK (f->clock));
  g_signal_connect (f->sw, "switched", G_CALLBACK (switched_cb), f);
  g_signal_connect (f->sw, "holding", G_CALLBACK (holding_cb), f);

  srcpad = gst_element_get_static_pad (f->sw, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      (GstPadProbeCallback) output_probe, f, NULL);
  gst_object_unref (srcpad);

  f->out = gst_harness_new_with_element (f->sw, NULL, "src");
  for (i = 0; i < n_inputs; i++) {
    Input *in = &f->in[i];

    in->h = gst_harness_new_with_element (f->sw, "sink_%u", NULL);
    in->pad = gst_pad_get_peer (in->h->srcpad);
    in->capture_base = GST_CLOCK_TIME_NONE;
    send_caps (f, i, caps);
    send_segment (f, i);
  }
  fail_unless_equals_int (GST_STATE (f->sw), GST_STATE_PLAYING);
  return f;
}

/* Releases input @i's pad, as whepsrc does when a session goes. */
static void
remove_input (Fixture * f, guint i)
{
  gst_harness_teardown (f->in[i].h);
  f->in[i].h = NULL;
}

static void
fixture_free (Fixture * f)
{
  guint i;

  for (i = 0; i < f->n_inputs; i++) {
    if (f->in[i].h)
      gst_harness_teardown (f->in[i].h);
    gst_object_unref (f->in[i].pad);
  }
  /* The last harness sets the switch to NULL: the hold thread ends. */
  gst_harness_teardown (f->out);
  gst_object_unref (f->sw);
  gst_object_unref (f->clock);
  gst_caps_unref (f->ntp_caps);
  g_array_free (f->frames, TRUE);
  g_array_free (f->gaps, TRUE);
  g_string_free (f->switched, TRUE);
  g_string_free (f->holding, TRUE);
  g_string_free (f->events, TRUE);
  g_mutex_clear (&f->lock);
  g_free (f);
}

static GstWhepSwitch *
sw (Fixture * f)
{
  return GST_WHEP_SWITCH (f->sw);
}

static void
set_pending (Fixture * f, guint i)
{
  gst_whep_switch_set_pending_pad (sw (f), f->in[i].pad, i + 1);
}

/* ------------------------------------------------------------------ */
/* time                                                                */
/* ------------------------------------------------------------------ */

static GstClockTime
now (Fixture * f)
{
  return gst_clock_get_time (GST_CLOCK (f->clock));
}

/* Moves the clock on to the tick the hold thread waits for and lets it
 * look; returns that tick's time once the look is over (the thread then
 * waits for its next tick). */
static GstClockTime
tick (Fixture * f)
{
  GstClockID id;
  GstClockTime when;

  gst_test_clock_wait_for_next_pending_id (f->clock, &id);
  when = gst_clock_id_get_time (id);
  if (when > now (f))
    gst_test_clock_set_time (f->clock, when);
  /* Takes the reference. */
  fail_unless (gst_test_clock_process_id (f->clock, id));
  gst_test_clock_wait_for_next_pending_id (f->clock, NULL);
  return when;
}

/* Moves the clock on to @t, letting the hold thread look at every tick it
 * asks for on the way. */
static void
advance_to (Fixture * f, GstClockTime t)
{
  for (;;) {
    GstClockID id;
    GstClockTime when;

    gst_test_clock_wait_for_next_pending_id (f->clock, &id);
    when = gst_clock_id_get_time (id);
    gst_clock_id_unref (id);
    if (when > t)
      break;
    tick (f);
  }
  if (t > now (f))
    gst_test_clock_set_time (f->clock, t);
}

/* ------------------------------------------------------------------ */
/* input                                                               */
/* ------------------------------------------------------------------ */

static GstBuffer *
make_buffer (Fixture * f, guint i, gint64 n)
{
  Input *in = &f->in[i];
  GstClockTime running_time = n * f->period + in->pts_offset;
  GstBuffer *buffer;
  GstMapInfo map;

  fail_unless (n >= 0);
  if (f->audio) {
    gsize samples = gst_util_uint64_scale (f->period, AUDIO_RATE, GST_SECOND);
    gint16 *data;
    gsize s;

    buffer = gst_buffer_new_allocate (NULL, samples * 2, NULL);
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    data = (gint16 *) map.data;
    /* Never 0: silence is the switch's. */
    for (s = 0; s < samples; s++)
      data[s] = (i + 1) * 1000;
  } else if (f->yuv) {
    guint32 label[2] = { i, n };
    guint p;

    /* The same frame number is the same picture on every input. */
    buffer = gst_buffer_new_allocate (NULL, YUV_FRAME_SIZE, NULL);
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    memset (map.data, 0x80, map.size);
    for (p = 0; p < YUV_LUMA_SIZE; p++)
      map.data[p] = 16 + ((f->still ? 0 : n) * 37 + p * 13) % 200;
    memcpy (map.data + YUV_LUMA_SIZE, label, sizeof label);
  } else {
    guint32 label[2] = { i, n };

    buffer = gst_buffer_new_allocate (NULL, VIDEO_FRAME_SIZE, NULL);
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    memset (map.data, 0x80, map.size);
    memcpy (map.data, label, sizeof label);
  }
  gst_buffer_unmap (buffer, &map);

  GST_BUFFER_PTS (buffer) = segment_starts[i] + running_time;
  GST_BUFFER_DURATION (buffer) = f->period;
  GST_BUFFER_OFFSET (buffer) = n;
  if (GST_CLOCK_TIME_IS_VALID (in->capture_base)
      && n >= in->no_capture_before)
    gst_buffer_add_reference_timestamp_meta (buffer, f->ntp_caps,
        in->capture_base + n * f->period, GST_CLOCK_TIME_NONE);
  return buffer;
}

/* Input @i delivers its frame @n. */
static void
deliver (Fixture * f, guint i, gint64 n)
{
  fail_unless_equals_int (gst_harness_push (f->in[i].h, make_buffer (f, i,
              n)), GST_FLOW_OK);
}

/* Steps @from to @to - 1: in a live run the clock goes to the step's time
 * (step × period) first; then every input in @inputs delivers its frame
 * for the step, A before B before C. */
static void
run (Fixture * f, gint from, gint to, guint inputs)
{
  gint k;
  guint i;

  for (k = from; k < to; k++) {
    if (f->live)
      advance_to (f, k * f->period);
    for (i = 0; i < f->n_inputs; i++)
      if (inputs & (1 << i))
        deliver (f, i, k + f->in[i].lead);
  }
}

/* ------------------------------------------------------------------ */
/* output                                                              */
/* ------------------------------------------------------------------ */

static void
pull_output (Fixture * f)
{
  GstBuffer *buffer;
  GstEvent *event;

  while ((buffer = gst_harness_try_pull (f->out))) {
    OutFrame frame = { 0, };
    GstMapInfo map;

    frame.pts = GST_BUFFER_PTS (buffer);
    frame.duration = GST_BUFFER_DURATION (buffer);
    frame.size = gst_buffer_get_size (buffer);
    fail_unless (GST_CLOCK_TIME_IS_VALID (frame.pts));
    /* Downstream sees time go forward, whatever the inputs do. */
    if (GST_CLOCK_TIME_IS_VALID (f->last_pts))
      fail_unless (frame.pts > f->last_pts, "pts %" GST_TIME_FORMAT
          " after %" GST_TIME_FORMAT, GST_TIME_ARGS (frame.pts),
          GST_TIME_ARGS (f->last_pts));
    f->last_pts = frame.pts;

    gst_buffer_map (buffer, &map, GST_MAP_READ);
    if (f->audio) {
      const gint16 *data = (const gint16 *) map.data;
      gsize s;

      for (s = 1; s < map.size / 2; s++)
        fail_unless_equals_int (data[s], data[0]);
      if (data[0] == 0) {
        frame.input = '~';
      } else {
        frame.input = 'A' + data[0] / 1000 - 1;
        frame.number = GST_BUFFER_OFFSET (buffer);
      }
    } else {
      guint32 label[2];

      gsize at = f->yuv ? YUV_LUMA_SIZE : 0;

      fail_unless (map.size >= at + sizeof label);
      memcpy (label, map.data + at, sizeof label);
      frame.input = 'A' + label[0];
      frame.number = label[1];
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buffer), frame.number);
    }
    gst_buffer_unmap (buffer, &map);
    gst_buffer_unref (buffer);
    g_array_append_val (f->frames, frame);
  }

  while ((event = gst_harness_try_pull_event (f->out))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
      OutFrame gap = { 'G', 0, };

      gst_event_parse_gap (event, &gap.pts, &gap.duration);
      g_array_append_val (f->gaps, gap);
    }
    gst_event_unref (event);
  }
}

static OutFrame *
out_frame (Fixture * f, guint i)
{
  fail_unless (i < f->frames->len, "only %u frames out", f->frames->len);
  return &g_array_index (f->frames, OutFrame, i);
}

static gboolean
same_frame (const OutFrame * a, const OutFrame * b)
{
  return a->input == b->input && a->number == b->number;
}

/* The frames out so far: "A0-12" for consecutive frames of one input,
 * "*n" after a frame repeated n times, "~n" for n silent buffers. */
static gchar *
describe (Fixture * f)
{
  GString *s = g_string_new (NULL);
  guint i = 0, len = f->frames->len;

  while (i < len) {
    OutFrame *first = out_frame (f, i);
    guint j = i + 1, repeats = 0;

    if (s->len)
      g_string_append_c (s, ' ');
    if (first->input == '~') {
      while (j < len && out_frame (f, j)->input == '~')
        j++;
      g_string_append_printf (s, "~%u", j - i);
      i = j;
      continue;
    }
    while (j < len && out_frame (f, j)->input == first->input
        && out_frame (f, j)->number == out_frame (f, j - 1)->number + 1)
      j++;
    g_string_append_printf (s, "%c%" G_GUINT64_FORMAT, first->input,
        first->number);
    if (j - 1 > i)
      g_string_append_printf (s, "-%" G_GUINT64_FORMAT,
          out_frame (f, j - 1)->number);
    while (j < len && same_frame (out_frame (f, j), out_frame (f, j - 1))) {
      repeats++;
      j++;
    }
    if (repeats)
      g_string_append_printf (s, "*%u", repeats);
    i = j;
  }
  return g_string_free (s, FALSE);
}

static void
assert_output (Fixture * f, const gchar * expected)
{
  g_autofree gchar *got = NULL;

  pull_output (f);
  got = describe (f);
  fail_unless_equals_string (got, expected);
}

static void
assert_signals (Fixture * f, const gchar * switched, const gchar * holding)
{
  g_mutex_lock (&f->lock);
  fail_unless_equals_string (f->switched->str, switched);
  fail_unless_equals_string (f->holding->str, holding);
  g_mutex_unlock (&f->lock);
}

static void
assert_events (Fixture * f, const gchar * expected)
{
  g_mutex_lock (&f->lock);
  fail_unless_equals_string (f->events->str, expected);
  g_mutex_unlock (&f->lock);
}

/* Every frame out at the running time it had on its input: frame n of
 * any input at n × period (+ that input's offset). */
static void
assert_running_times (Fixture * f)
{
  guint i;

  pull_output (f);
  for (i = 0; i < f->frames->len; i++) {
    OutFrame *frame = out_frame (f, i);
    Input *in = &f->in[frame->input - 'A'];

    fail_unless_equals_uint64 (frame->pts,
        frame->number * f->period + in->pts_offset);
    fail_unless_equals_uint64 (frame->duration, f->period);
  }
}

static guint64
stat_uint64 (Fixture * f, const gchar * name)
{
  GstStructure *s = gst_structure_new_empty ("stats");
  g_autofree gchar *field = g_strconcat ("x-", name, NULL);
  guint64 value = G_MAXUINT64;

  gst_whep_switch_add_stats (sw (f), s, "x-");
  fail_unless (gst_structure_get_uint64 (s, field, &value), "no %s", field);
  gst_structure_free (s);
  return value;
}

static gdouble
stat_double (Fixture * f, const gchar * name)
{
  GstStructure *s = gst_structure_new_empty ("stats");
  g_autofree gchar *field = g_strconcat ("x-", name, NULL);
  gdouble value = -1;

  gst_whep_switch_add_stats (sw (f), s, "x-");
  fail_unless (gst_structure_get_double (s, field, &value), "no %s", field);
  gst_structure_free (s);
  return value;
}

/* Loop tests: even index live, odd non-live. */
#define LIVE (__i__ % 2 == 0)

/* ------------------------------------------------------------------ */
/* going on air                                                        */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_first_pending_input_goes_on_air_at_once)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);
  gint64 before, after;

  /* Neither active nor pending: a standby's frames go nowhere. */
  run (f, 0, 3, IN_A | IN_B);
  assert_output (f, "");
  assert_events (f, "");

  set_pending (f, 0);
  before = g_get_monotonic_time ();
  run (f, 3, 8, IN_A | IN_B);
  after = g_get_monotonic_time ();
  assert_output (f, "A3-7");
  assert_running_times (f);
  assert_signals (f, "sink_0", "");
  fail_unless (gst_whep_switch_is_active_pad (sw (f), f->in[0].pad));
  fail_if (gst_whep_switch_is_active_pad (sw (f), f->in[1].pad));

  /* The output's own stream-start, then caps, then one segment in running
   * time, before the first buffer. */
  assert_events (f, "stream-start@0 caps:4@0 segment@0");
  fail_unless_equals_uint64 (gst_whep_switch_get_buffers_out (sw (f)), 5);
  fail_unless_equals_uint64 (stat_uint64 (f, "buffers"), 5);
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers"), 1);
  /* The watchdog's time stays monotonic (µs), whatever the timer clock. */
  fail_unless (gst_whep_switch_get_last_input_time (sw (f)) >= before);
  fail_unless (gst_whep_switch_get_last_input_time (sw (f)) <= after);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_output_events_are_the_switchs_own)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 1);
  GstPad *srcpad = gst_element_get_static_pad (f->sw, "src");
  GstEvent *event;
  const gchar *stream_id;
  const GstSegment *segment;

  set_pending (f, 0);
  run (f, 0, 2, IN_A);

  event = gst_pad_get_sticky_event (srcpad, GST_EVENT_STREAM_START, 0);
  fail_unless (event != NULL);
  gst_event_parse_stream_start (event, &stream_id);
  fail_unless_equals_string (stream_id, "test/video");
  gst_event_unref (event);

  /* One segment for the output's life, in running time: the input's own
   * (starting at 100 s) stays inside. */
  event = gst_pad_get_sticky_event (srcpad, GST_EVENT_SEGMENT, 0);
  fail_unless (event != NULL);
  gst_event_parse_segment (event, &segment);
  fail_unless_equals_int (segment->format, GST_FORMAT_TIME);
  fail_unless_equals_uint64 (segment->start, 0);
  fail_unless_equals_uint64 (segment->base, 0);
  fail_unless_equals_uint64 (segment->time, 0);
  gst_event_unref (event);
  assert_running_times (f);

  gst_object_unref (srcpad);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_set_active_pad_switches_at_once_without_signal)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  gst_whep_switch_set_active_pad (sw (f), f->in[0].pad);
  run (f, 0, 5, IN_A | IN_B);
  gst_whep_switch_set_active_pad (sw (f), f->in[1].pad);
  run (f, 5, 10, IN_A | IN_B);
  assert_output (f, "A0-4 B5-9");
  assert_running_times (f);
  assert_signals (f, "", "");
  fail_unless (gst_whep_switch_is_active_pad (sw (f), f->in[1].pad));

  /* NULL: nothing goes out. */
  gst_whep_switch_set_active_pad (sw (f), NULL);
  run (f, 10, 12, IN_A | IN_B);
  assert_output (f, "A0-4 B5-9");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* takeover                                                            */
/* ------------------------------------------------------------------ */

/* The new session delivers every frame three frame intervals before the
 * old one: its frames wait in the queue until the old session has shown
 * the one before the first of them. */
GST_START_TEST (test_takeover_new_input_ahead)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 12, IN_A | IN_B);
  /* B13 and B14 wait; nothing switched yet. */
  assert_output (f, "A0-11");
  assert_signals (f, "sink_0", "");

  run (f, 12, 25, IN_A | IN_B);
  assert_output (f, "A0-12 B13-27");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");
  fail_unless (gst_whep_switch_is_active_pad (sw (f), f->in[1].pad));
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers"), 2);
  fail_unless_equals_uint64 (stat_uint64 (f, "held-buffers"), 0);

  fixture_free (f);
}

GST_END_TEST;

/* The new session delivers every frame two frame intervals after the old
 * one: the old one is frozen at the last frame shown until the new one
 * gets to the next. */
GST_START_TEST (test_takeover_new_input_behind)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].lead = -2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 14, IN_A | IN_B);
  /* B8 … B12, all shown already; A13 and A14 held back for B. */
  assert_output (f, "A0-12");
  assert_signals (f, "sink_0", "");

  run (f, 14, 25, IN_A | IN_B);
  assert_output (f, "A0-12 B13-22");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");
  fail_unless_equals_uint64 (stat_uint64 (f, "held-buffers"), 0);

  fixture_free (f);
}

GST_END_TEST;

/* A new session far behind (10 frames): the output is not left frozen
 * for longer than 250 ms; after that the new one goes on air where it
 * is, even though it shows frames again. */
GST_START_TEST (test_takeover_waits_at_most_250_ms_for_a_lagging_input)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 2);
  g_autofree gchar *expected = NULL;
  GstClockTime frozen_at;

  f->in[1].lead = -10;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 13, IN_A | IN_B);
  /* B's third late frame (B2, step 12) froze A. */
  frozen_at = 12 * FRAME;
  assert_output (f, "A0-12");

  /* Up to 250 ms of freezing: only A12, repeated by the hold. */
  run (f, 13, 19, IN_A | IN_B);
  fail_unless (now (f) <= frozen_at + MAX_FROZEN);
  pull_output (f);
  expected = g_strdup_printf ("A0-12*%" G_GUINT64_FORMAT,
      stat_uint64 (f, "held-buffers"));
  assert_output (f, expected);
  g_clear_pointer (&expected, g_free);

  /* The first frame of B after 250 ms goes out: B9 (step 19). */
  run (f, 19, 25, IN_A | IN_B);
  fail_unless (19 * FRAME > frozen_at + MAX_FROZEN);
  expected = g_strdup_printf ("A0-12*%" G_GUINT64_FORMAT " B9-14",
      stat_uint64 (f, "held-buffers"));
  assert_output (f, expected);
  assert_signals (f, "sink_0 sink_1", "on off");

  fixture_free (f);
}

GST_END_TEST;

/* The new session queues two frames ahead, then stops: the takeover
 * happens at its frames all the same (the old session already went on to
 * them), and the output then holds the new session's last frame. */
GST_START_TEST (test_new_input_stops_after_queueing)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);
  g_autofree gchar *expected = NULL;
  guint64 held;

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 12, IN_A | IN_B);
  run (f, 12, 30, IN_A);
  held = stat_uint64 (f, "held-buffers");
  expected = g_strdup_printf (held ? "A0-12 B13-14*%" G_GUINT64_FORMAT :
      "A0-12 B13-14", held);
  assert_output (f, expected);
  /* Live, B was silent for 16 frame intervals (from 520 ms): a hold from
   * 720 ms on.  Non-live, no time passed. */
  if (f->live)
    fail_unless (held >= 10 && held <= 12, "%" G_GUINT64_FORMAT " held", held);
  else
    fail_unless_equals_uint64 (held, 0);

  /* B is back (the hold goes on until then). */
  run (f, 30, 35, IN_A | IN_B);
  held = stat_uint64 (f, "held-buffers");
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf (held ? "A0-12 B13-14*%" G_GUINT64_FORMAT
      " B33-37" : "A0-12 B13-14 B33-37", held);
  assert_output (f, expected);
  assert_signals (f, "sink_0 sink_1", f->live ? "on off" : "");

  fixture_free (f);
}

GST_END_TEST;

/* The new session lags (the old one is frozen for it) and then stops: the
 * old one must not stay frozen.  After 250 ms without a frame of the new
 * session, the old one goes on. */
GST_START_TEST (test_new_input_stops_while_the_old_one_is_frozen)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 2);
  g_autofree gchar *expected = NULL;
  guint64 held;

  f->in[1].lead = -2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  /* B8, B9, B10: A is frozen at A12 (step 12), then B stops. */
  run (f, 10, 13, IN_A | IN_B);
  run (f, 13, 30, IN_A);
  held = stat_uint64 (f, "held-buffers");
  /* A frozen from 480 ms, B silent from 480 ms: A's first frame after
   * 730 ms (A19, at 760 ms) goes out; until then, the hold. */
  expected = g_strdup_printf ("A0-12*%" G_GUINT64_FORMAT " A19-29", held);
  assert_output (f, expected);
  fail_unless (held >= 1);
  fail_unless (gst_whep_switch_is_active_pad (sw (f), f->in[0].pad));

  /* B is back, ahead now: the takeover it was waiting for happens. */
  f->in[1].lead = 3;
  run (f, 30, 40, IN_A | IN_B);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("A0-12*%" G_GUINT64_FORMAT " A19-32 B33-42",
      held);
  assert_output (f, expected);
  assert_signals (f, "sink_0 sink_1", "on off");

  fixture_free (f);
}

GST_END_TEST;

/* The old session stops while the new one waits with frames queued: when
 * the output starts to hold, the new one goes on air at once, from the
 * first frame after the last one shown. */
GST_START_TEST (test_old_input_stops_while_the_new_one_waits)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 2);
  g_autofree gchar *expected = NULL;
  guint64 held;

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 13, IN_A | IN_B);
  run (f, 13, 30, IN_B);
  held = stat_uint64 (f, "held-buffers");
  fail_unless (held >= 1);
  expected = g_strdup_printf ("A0-12*%" G_GUINT64_FORMAT " B13-32", held);
  assert_output (f, expected);
  assert_signals (f, "sink_0 sink_1", "on off");

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_releasing_the_pending_pad_cancels_the_takeover)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 12, IN_A | IN_B);
  /* B13, B14 are queued; B goes. */
  remove_input (f, 1);
  run (f, 12, 20, IN_A);
  assert_output (f, "A0-19");
  assert_running_times (f);
  assert_signals (f, "sink_0", "");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* matching frames: capture time vs running time                       */
/* ------------------------------------------------------------------ */

/* Both sessions carry the sender's capture times; the new one's running
 * times are 60 ms (1.5 frames) later for the same frame.  Capture times
 * decide: no frame lost, none shown twice. */
GST_START_TEST (test_capture_times_match_frames)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE;
  f->in[1].pts_offset = 60 * GST_MSECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-11 B12-21");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");

  fixture_free (f);
}

GST_END_TEST;

/* The same sessions without capture times: running times decide, and
 * frame 12 (at 480 ms on A, at 540 ms on B) looks like two frames. */
GST_START_TEST (test_running_times_match_frames_without_capture_times)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].pts_offset = 60 * GST_MSECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-12 B12-21");
  assert_running_times (f);

  fixture_free (f);
}

GST_END_TEST;

/* Capture times an hour apart come from two sender clocks (a sender that
 * gives each session its own NTP offset): they are not compared, running
 * times are. */
GST_START_TEST (test_capture_times_of_different_clocks_are_not_compared)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE + 3600 * GST_SECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-11 B12-21");
  assert_running_times (f);

  fixture_free (f);
}

GST_END_TEST;

/* Only the old session's frames carry capture times: with frames on air
 * that have one, the new session's frames wait for its first sender
 * report rather than be matched by running time. */
/* A relaying server: each session's sender reports come from its own
 * transport, so capture times are close (600 ms here) yet wrong across
 * sessions.  The pictures themselves say which frame is which: no frame
 * lost, none shown twice — where capture times would have put B 15 frames
 * off. */
GST_START_TEST (test_content_aligns_when_capture_times_disagree)
{
  Fixture *f = fixture_new (LIVE, YUV_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE + 600 * GST_MSECOND;
  f->in[1].pts_offset = 60 * GST_MSECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-11 B12-21");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers-by-content"), 1);

  fixture_free (f);
}

GST_END_TEST;

/* The new session behind the old one, its capture times off as well: its
 * pictures already shown are found among those shown and dropped. */
GST_START_TEST (test_content_aligns_a_new_session_that_lags)
{
  Fixture *f = fixture_new (LIVE, YUV_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE - 700 * GST_MSECOND;
  f->in[1].pts_offset = 30 * GST_MSECOND;
  f->in[1].lead = -2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 24, IN_A | IN_B);
  assert_output (f, "A0-12 B13-21");
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers-by-content"), 1);

  fixture_free (f);
}

GST_END_TEST;

/* A still picture matches every frame shown: no content alignment, the
 * takeover falls back to time (here capture times that agree). */
GST_START_TEST (test_still_pictures_fall_back_to_time)
{
  Fixture *f = fixture_new (LIVE, YUV_CAPS, FRAME, 2);

  f->still = TRUE;
  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE;
  f->in[1].pts_offset = 60 * GST_MSECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 80, IN_A | IN_B);
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers-by-content"), 0);
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers-by-time"), 1);
  /* Frame-exact all the same. */
  {
    g_autofree gchar *got = NULL;
    guint i;

    pull_output (f);
    for (i = 1; i < f->frames->len; i++)
      fail_unless_equals_uint64 (out_frame (f, i)->number,
          out_frame (f, i - 1)->number + 1);
  }

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_takeover_waits_for_the_first_capture_time)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].capture_base = NTP_BASE;
  f->in[1].no_capture_before = 22;
  f->in[1].pts_offset = 60 * GST_MSECOND;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  /* B12 … B21 (no capture time) are dropped, not queued. */
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-19");
  run (f, 20, 30, IN_A | IN_B);
  assert_output (f, "A0-21 B22-31");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");

  fixture_free (f);
}

GST_END_TEST;

/* A new session that never gets a sender report goes on air by running
 * time after 1.5 s. */
GST_START_TEST (test_takeover_by_running_time_after_1500_ms)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 2);

  f->in[0].capture_base = NTP_BASE;
  f->in[1].lead = 2;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  /* Pending from 360 ms (step 9): B's frames are dropped until 1860 ms,
   * queued from step 47 (1880 ms) on. */
  fail_unless (46 * FRAME < 9 * FRAME + WAIT_FOR_REFERENCE);
  fail_unless (47 * FRAME >= 9 * FRAME + WAIT_FOR_REFERENCE);
  run (f, 10, 47, IN_A | IN_B);
  assert_output (f, "A0-46");
  run (f, 47, 60, IN_A | IN_B);
  assert_output (f, "A0-48 B49-61");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1", "");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* holding                                                             */
/* ------------------------------------------------------------------ */

static const gchar *const hold_caps[] = {
  VIDEO_CAPS,
  "video/x-raw, format=(string)RGBA, width=(int)4, height=(int)4, "
      "framerate=(fraction)50/1",
};

/* 200 ms after the last frame, the output repeats it at the frame rate of
 * the caps (25 and 50 fps), until the input delivers again. */
GST_START_TEST (test_hold_repeats_the_last_frame_at_the_frame_rate)
{
  GstClockTime period = __i__ == 0 ? FRAME : GST_SECOND / 50;
  Fixture *f = fixture_new (TRUE, hold_caps[__i__], period, 1);
  GstClockTime last_in = 9 * period, first_tick, t;
  guint n;

  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  /* Silent for just under 200 ms: nothing yet. */
  advance_to (f, last_in + HOLD_AFTER - 1);
  assert_output (f, "A0-9");
  assert_signals (f, "sink_0", "");

  /* The first look after 200 ms of silence repeats A9, one frame on. */
  first_tick = tick (f);
  fail_unless (first_tick >= last_in + HOLD_AFTER);
  fail_unless (first_tick < last_in + HOLD_AFTER + period);
  assert_output (f, "A0-9*1");
  assert_signals (f, "sink_0", "on");
  fail_unless_equals_uint64 (out_frame (f, 10)->pts, 10 * period);
  fail_unless_equals_uint64 (out_frame (f, 10)->duration, period);
  fail_unless_equals_uint64 (out_frame (f, 10)->size, VIDEO_FRAME_SIZE);

  /* Then one repeat per frame interval, each a frame later. */
  for (n = 2; n <= 5; n++) {
    g_autofree gchar *expected = g_strdup_printf ("A0-9*%u", n);

    t = tick (f);
    fail_unless_equals_uint64 (t, first_tick + (n - 1) * period);
    assert_output (f, expected);
    fail_unless_equals_uint64 (out_frame (f, 9 + n)->pts, (9 + n) * period);
  }
  fail_unless_equals_uint64 (stat_uint64 (f, "holds"), 1);
  fail_unless_equals_uint64 (stat_uint64 (f, "held-buffers"), 5);

  /* A is back: the hold ends. */
  deliver (f, 0, 30);
  assert_output (f, "A0-9*5 A30");
  assert_signals (f, "sink_0", "on off");
  fail_unless_equals_uint64 (stat_uint64 (f, "buffers"), 11);
  fail_unless_equals_uint64 (stat_uint64 (f, "held-buffers"), 5);
  fail_unless (ABS (stat_double (f, "longest-hold-ms") -
          (now (f) - first_tick) / 1e6) < 1e-6);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_hold_in_gap_mode_sends_gap_events)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 1);
  guint n;

  gst_whep_switch_set_gap_mode (sw (f), TRUE);
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  advance_to (f, 9 * FRAME + HOLD_AFTER - 1);
  for (n = 0; n < 4; n++)
    tick (f);
  /* No repeated pictures: GAP events, one frame each, on from A9. */
  assert_output (f, "A0-9");
  fail_unless_equals_int (f->gaps->len, 4);
  for (n = 0; n < 4; n++) {
    OutFrame *gap = &g_array_index (f->gaps, OutFrame, n);

    fail_unless_equals_uint64 (gap->pts, (10 + n) * FRAME);
    fail_unless_equals_uint64 (gap->duration, FRAME);
  }
  assert_signals (f, "sink_0", "on");
  fail_unless_equals_uint64 (stat_uint64 (f, "held-buffers"), 4);

  deliver (f, 0, 30);
  assert_output (f, "A0-9 A30");
  assert_signals (f, "sink_0", "on off");

  fixture_free (f);
}

GST_END_TEST;

/* whepsrc releases a lost session's pads at once; the next session takes
 * seconds.  The output holds all that time. */
GST_START_TEST (test_hold_goes_on_after_the_active_pad_is_released)
{
  Fixture *f = fixture_new (TRUE, VIDEO_CAPS, FRAME, 2);

  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  advance_to (f, 9 * FRAME + HOLD_AFTER - 1);
  tick (f);
  tick (f);
  assert_output (f, "A0-9*2");

  remove_input (f, 0);
  tick (f);
  tick (f);
  assert_output (f, "A0-9*4");

  /* The next session goes on air at its first frame. */
  set_pending (f, 1);
  deliver (f, 1, 20);
  deliver (f, 1, 21);
  assert_output (f, "A0-9*4 B20-21");
  assert_signals (f, "sink_0 sink_1", "on off");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* audio                                                               */
/* ------------------------------------------------------------------ */

/* How far the switch moves a re-timed session's audio back to its own
 * timing per buffer (gstwhepswitch.c, AUDIO_RETIME_SLEW). */
#define RETIME_SLEW (1 * GST_MSECOND)

/* Output pts continue where the last buffer ended: exactly (to a sample)
 * at a takeover, then within RETIME_SLEW while the re-timing shift returns
 * to zero. */
static void
assert_audio_continuous (Fixture * f)
{
  guint i;

  pull_output (f);
  for (i = 1; i < f->frames->len; i++) {
    OutFrame *prev = out_frame (f, i - 1), *cur = out_frame (f, i);
    GstClockTimeDiff jump = GST_CLOCK_DIFF (prev->pts + prev->duration,
        cur->pts);

    fail_unless (ABS (jump) <= (GstClockTimeDiff) (RETIME_SLEW + ONE_SAMPLE),
        "%c%" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT " after %c%"
        G_GUINT64_FORMAT " ending at %" GST_TIME_FORMAT, cur->input,
        cur->number, GST_TIME_ARGS (cur->pts), prev->input, prev->number,
        GST_TIME_ARGS (prev->pts + prev->duration));
  }
}

/* Audio follows the video: the new session's running times are 30 ms
 * later for the same content (audio and video alike, as its sender reports
 * synchronise them), and the video finds that by the pictures.  The audio
 * takeover waits for that decision (the old session plays on meanwhile),
 * then continues with the buffer after the last one played — by running
 * time it would have repeated one — re-timed to continue the old one's. */
GST_START_TEST (test_audio_follows_the_video_alignment)
{
  Fixture *v = fixture_new (LIVE, YUV_CAPS, FRAME, 2);
  Fixture *a = fixture_new (LIVE, AUDIO_CAPS, AUDIO_BUFFER, 2);

  gst_whep_switch_follow (sw (a), sw (v));
  v->in[1].pts_offset = a->in[1].pts_offset = 30 * GST_MSECOND;
  v->in[1].lead = 2;
  a->in[1].lead = 4;
  set_pending (v, 0);
  set_pending (a, 0);
  run (v, 0, 10, IN_A);
  run (a, 0, 20, IN_A);
  set_pending (v, 1);
  set_pending (a, 1);
  /* Before the video knows: the audio waits. */
  run (a, 20, 24, IN_A | IN_B);
  assert_output (a, "A0-23");
  run (v, 10, 20, IN_A | IN_B);
  assert_output (v, "A0-11 B12-21");
  fail_unless_equals_uint64 (stat_uint64 (v, "takeovers-by-content"), 1);
  run (a, 24, 40, IN_A | IN_B);
  assert_output (a, "A0-27 B28-43");
  assert_audio_continuous (a);
  fail_unless_equals_uint64 (stat_uint64 (a, "takeovers-by-content"), 1);

  fixture_free (a);
  fixture_free (v);
}

GST_END_TEST;

/* A video switch that never decides (its new session sends no pictures)
 * holds the audio takeover back for two seconds at most: then the audio
 * goes by time. */
GST_START_TEST (test_audio_waits_for_the_video_boundedly)
{
  Fixture *v = fixture_new (LIVE, YUV_CAPS, FRAME, 2);
  Fixture *a = fixture_new (LIVE, AUDIO_CAPS, AUDIO_BUFFER, 2);

  gst_whep_switch_follow (sw (a), sw (v));
  a->in[1].lead = 4;
  set_pending (v, 0);
  set_pending (a, 0);
  run (v, 0, 10, IN_A);
  run (a, 0, 20, IN_A);
  set_pending (v, 1);
  set_pending (a, 1);
  /* 1.9 s after the pending pad was set: still waiting. */
  run (a, 20, 115, IN_A | IN_B);
  assert_output (a, "A0-114");
  /* 2 s (step 119): by time (the same running times here), from the next
   * buffer of the new session (those that came while waiting are gone:
   * the old session played them). */
  run (a, 115, 125, IN_A | IN_B);
  assert_output (a, "A0-122 B123-128");
  assert_audio_continuous (a);
  fail_unless_equals_uint64 (stat_uint64 (a, "takeovers-by-time"), 1);

  fixture_free (a);
  fixture_free (v);
}

GST_END_TEST;

/* Sessions' audio buffers start at other times (B ±7 ms, C 5 ms after B:
 * within half a buffer of each other, so that running times tell the
 * buffers apart): after each takeover the new session's audio is re-timed
 * to continue exactly where the old one's ended.  Index: live/non-live ×
 * +7/−7 ms. */
GST_START_TEST (test_audio_continues_exactly_at_takeover)
{
  Fixture *f = fixture_new (LIVE, AUDIO_CAPS, AUDIO_BUFFER, 3);
  GstClockTimeDiff offset = (__i__ < 2 ? 7 : -7) * GST_MSECOND;

  f->in[1].pts_offset = offset;
  f->in[1].lead = 3;
  f->in[2].pts_offset = offset + 5 * GST_MSECOND;
  f->in[2].lead = 6;
  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  set_pending (f, 1);
  run (f, 10, 25, IN_A | IN_B);
  assert_output (f, "A0-12 B13-27");
  assert_audio_continuous (f);
  fail_unless_equals_uint64 (out_frame (f, 13)->pts, 13 * AUDIO_BUFFER);
  /* 1 ms a buffer: B's own timing again (in step with its pictures) after
   * seven buffers. */
  fail_unless_equals_uint64 (out_frame (f, 21)->pts, 21 * AUDIO_BUFFER +
      offset);
  fail_unless_equals_uint64 (out_frame (f, 27)->pts, 27 * AUDIO_BUFFER +
      offset);

  set_pending (f, 2);
  run (f, 25, 35, IN_A | IN_B | IN_C);
  assert_output (f, "A0-12 B13-30 C31-40");
  assert_audio_continuous (f);
  assert_signals (f, "sink_0 sink_1 sink_2", "");

  fixture_free (f);
}

GST_END_TEST;

/* While the audio input is silent, the hold fills the time with silence
 * that continues the last buffer: one buffer of its length per its length
 * of time (20 ms and 10 ms buffers). */
GST_START_TEST (test_audio_hold_fills_silence)
{
  GstClockTime period = __i__ == 0 ? AUDIO_BUFFER : 10 * GST_MSECOND;
  Fixture *f = fixture_new (TRUE, AUDIO_CAPS, period, 1);
  GstClockTime first_tick, t;
  gsize size;
  guint n;

  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  advance_to (f, 9 * period + HOLD_AFTER - 1);
  assert_output (f, "A0-9");
  size = out_frame (f, 9)->size;

  first_tick = tick (f);
  for (n = 2; n <= 10; n++) {
    t = tick (f);
    fail_unless_equals_uint64 (t, first_tick + (n - 1) * period);
  }
  assert_output (f, "A0-9 ~10");
  assert_audio_continuous (f);
  for (n = 10; n < 20; n++) {
    fail_unless_equals_uint64 (out_frame (f, n)->size, size);
    fail_unless_equals_uint64 (out_frame (f, n)->duration, period);
  }
  assert_signals (f, "sink_0", "on");

  deliver (f, 0, 60);
  assert_output (f, "A0-9 ~10 A60");
  assert_signals (f, "sink_0", "on off");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

#define VIDEO_CAPS_8 "video/x-raw, format=(string)RGBA, width=(int)8, " \
    "height=(int)8, framerate=(fraction)25/1"

GST_START_TEST (test_caps_go_out_once_and_only_when_they_change)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 5, IN_A);
  assert_events (f, "stream-start@0 caps:4@0 segment@0");

  /* The same caps again: nothing new downstream. */
  send_caps (f, 0, VIDEO_CAPS);
  run (f, 5, 8, IN_A);
  assert_events (f, "stream-start@0 caps:4@0 segment@0");

  /* The standby's caps wait for its takeover, and go out just before its
   * first frame (after A0-14: 15 buffers). */
  send_caps (f, 1, VIDEO_CAPS_8);
  run (f, 8, 12, IN_A);
  assert_events (f, "stream-start@0 caps:4@0 segment@0");
  set_pending (f, 1);
  run (f, 12, 20, IN_A | IN_B);
  assert_output (f, "A0-14 B15-22");
  assert_events (f, "stream-start@0 caps:4@0 segment@0 caps:8@15");

  /* Caps of a pad not on air stay there; the same caps again change
   * nothing; other caps go out. */
  send_caps (f, 0, VIDEO_CAPS);
  send_caps (f, 1, VIDEO_CAPS_8);
  run (f, 20, 22, IN_A | IN_B);
  assert_events (f, "stream-start@0 caps:4@0 segment@0 caps:8@15");
  send_caps (f, 1, VIDEO_CAPS);
  run (f, 22, 23, IN_B);
  assert_events (f, "stream-start@0 caps:4@0 segment@0 caps:8@15 " "caps:4@25");
  assert_output (f, "A0-14 B15-25");

  fixture_free (f);
}

GST_END_TEST;

/* Sessions flush, idle (GAP), end (EOS) and start new segments; none of
 * it is the output's business. */
GST_START_TEST (test_flush_eos_and_segments_of_inputs_stay_inside)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  f->in[1].lead = 3;
  set_pending (f, 0);
  run (f, 0, 5, IN_A);

  /* The active input flushes and starts a new segment. */
  fail_unless (gst_harness_push_event (f->in[0].h,
          gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (f->in[0].h,
          gst_event_new_flush_stop (FALSE)));
  send_segment (f, 0);
  fail_unless (gst_harness_push_event (f->in[0].h,
          gst_event_new_gap (5 * FRAME, FRAME)));
  run (f, 5, 10, IN_A);
  assert_output (f, "A0-9");

  /* So does the standby; then it takes over. */
  fail_unless (gst_harness_push_event (f->in[1].h,
          gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (f->in[1].h,
          gst_event_new_flush_stop (TRUE)));
  send_segment (f, 1);
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  assert_output (f, "A0-12 B13-22");

  /* The old session ends, the new one flushes and says the segment is
   * done. */
  fail_unless (gst_harness_push_event (f->in[0].h, gst_event_new_eos ()));
  fail_unless (gst_harness_push_event (f->in[1].h,
          gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (f->in[1].h,
          gst_event_new_flush_stop (FALSE)));
  send_segment (f, 1);
  fail_unless (gst_harness_push_event (f->in[1].h,
          gst_event_new_segment_done (GST_FORMAT_TIME, 23 * FRAME)));
  run (f, 20, 23, IN_B);
  assert_output (f, "A0-12 B13-25");
  assert_running_times (f);

  /* The session on air ends. */
  fail_unless (gst_harness_push_event (f->in[1].h, gst_event_new_eos ()));
  assert_events (f, "stream-start@0 caps:4@0 segment@0");
  assert_signals (f, "sink_0 sink_1", "");

  fixture_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* signals                                                             */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_switched_fires_once_per_takeover_with_its_pad)
{
  Fixture *f = fixture_new (LIVE, VIDEO_CAPS, FRAME, 2);

  set_pending (f, 0);
  run (f, 0, 10, IN_A);
  f->in[1].lead = 3;
  set_pending (f, 1);
  run (f, 10, 20, IN_A | IN_B);
  /* Back to A, now ahead of B. */
  f->in[0].lead = 6;
  set_pending (f, 0);
  run (f, 20, 30, IN_A | IN_B);
  f->in[1].lead = 9;
  set_pending (f, 1);
  run (f, 30, 40, IN_A | IN_B);
  assert_output (f, "A0-12 B13-25 A26-38 B39-48");
  assert_running_times (f);
  assert_signals (f, "sink_0 sink_1 sink_0 sink_1", "");
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers"), 4);

  /* The active pad as pending changes nothing; NULL cancels a pending
   * pad. */
  set_pending (f, 1);
  set_pending (f, 0);
  gst_whep_switch_set_pending_pad (sw (f), NULL, 0);
  run (f, 40, 45, IN_A | IN_B);
  assert_output (f, "A0-12 B13-25 A26-38 B39-53");
  assert_signals (f, "sink_0 sink_1 sink_0 sink_1", "");
  fail_unless_equals_uint64 (stat_uint64 (f, "takeovers"), 4);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_nothing_goes_out_while_paused)
{
  Fixture *f = fixture_new (FALSE, VIDEO_CAPS, FRAME, 1);

  set_pending (f, 0);
  run (f, 0, 3, IN_A);
  fail_unless_equals_int (gst_element_set_state (f->sw, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  run (f, 3, 6, IN_A);
  fail_unless_equals_int (gst_element_set_state (f->sw, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);
  run (f, 6, 8, IN_A);
  assert_output (f, "A0-2 A6-7");

  fixture_free (f);
}

GST_END_TEST;

static Suite *
whep_switch_suite (void)
{
  Suite *s = suite_create ("whepswitch");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  /* Loop tests: even index live, odd non-live. */
  tcase_add_loop_test (tc, test_first_pending_input_goes_on_air_at_once, 0, 2);
  tcase_add_loop_test (tc, test_output_events_are_the_switchs_own, 0, 2);
  tcase_add_loop_test (tc, test_set_active_pad_switches_at_once_without_signal,
      0, 2);
  tcase_add_loop_test (tc, test_takeover_new_input_ahead, 0, 2);
  tcase_add_loop_test (tc, test_takeover_new_input_behind, 0, 2);
  tcase_add_test (tc, test_takeover_waits_at_most_250_ms_for_a_lagging_input);
  tcase_add_loop_test (tc, test_new_input_stops_after_queueing, 0, 2);
  tcase_add_test (tc, test_new_input_stops_while_the_old_one_is_frozen);
  tcase_add_test (tc, test_old_input_stops_while_the_new_one_waits);
  tcase_add_loop_test (tc, test_releasing_the_pending_pad_cancels_the_takeover,
      0, 2);
  tcase_add_loop_test (tc, test_capture_times_match_frames, 0, 2);
  tcase_add_loop_test (tc, test_content_aligns_when_capture_times_disagree,
      0, 2);
  tcase_add_loop_test (tc, test_content_aligns_a_new_session_that_lags, 0, 2);
  tcase_add_test (tc, test_audio_follows_the_video_alignment);
  tcase_add_test (tc, test_audio_waits_for_the_video_boundedly);
  tcase_add_loop_test (tc, test_still_pictures_fall_back_to_time, 0, 2);
  tcase_add_loop_test (tc,
      test_running_times_match_frames_without_capture_times, 0, 2);
  tcase_add_loop_test (tc,
      test_capture_times_of_different_clocks_are_not_compared, 0, 2);
  tcase_add_loop_test (tc, test_takeover_waits_for_the_first_capture_time, 0,
      2);
  tcase_add_test (tc, test_takeover_by_running_time_after_1500_ms);
  /* Holds need time to pass: live only.  Index: the frame rate or the
   * audio buffer length. */
  tcase_add_loop_test (tc, test_hold_repeats_the_last_frame_at_the_frame_rate,
      0, 2);
  tcase_add_test (tc, test_hold_in_gap_mode_sends_gap_events);
  tcase_add_test (tc, test_hold_goes_on_after_the_active_pad_is_released);
  tcase_add_loop_test (tc, test_audio_continues_exactly_at_takeover, 0, 4);
  tcase_add_loop_test (tc, test_audio_hold_fills_silence, 0, 2);
  tcase_add_loop_test (tc, test_caps_go_out_once_and_only_when_they_change, 0,
      2);
  tcase_add_loop_test (tc, test_flush_eos_and_segments_of_inputs_stay_inside,
      0, 2);
  tcase_add_loop_test (tc, test_switched_fires_once_per_takeover_with_its_pad,
      0, 2);
  tcase_add_test (tc, test_nothing_goes_out_while_paused);
  return s;
}

GST_CHECK_MAIN (whep_switch);
