/* whepsrc — the output switch (see gstwhepswitch.h).
 *
 * Threads: each sink pad is pushed by its session's streaming thread; a
 * hold thread of the switch's own repeats the last frame when the active
 * input falls silent.  All output decisions and pushes happen with the src
 * pad's stream lock held, so they are serialised; `lock` guards the state
 * they share and is never held while pushing.
 *
 * Time: every timeout (the hold, its repeat interval, a takeover's waits)
 * is measured on `timer_clock`, the system's monotonic clock, and the hold
 * thread sleeps in single-shot waits on it, so that a test can put a
 * GstTestClock in its place and step through a hold deterministically.
 * Not the pipeline's clock: that may be an audio device's, and silence of
 * the input is a matter of wall time.
 *
 * Lock order: src stream lock → lock.  Signals are emitted with neither.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepswitch.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (whep_switch_debug);
#define GST_CAT_DEFAULT whep_switch_debug

#define DEFAULT_FRAME_DURATION (GST_SECOND / 30)
/* How long the active input may be silent before the output holds: longer
 * than any normal frame interval or jitter, short enough to be invisible. */
#define HOLD_AFTER (200 * GST_MSECOND)
/* Frames of a pending session kept while it is ahead of the active one. */
#define MAX_PENDING_QUEUE 90
/* Frames a pending session may stay behind before the old one is frozen
 * so that the new one can catch up. */
#define MAX_BEHIND_FRAMES 3
/* How long a takeover waits for the new session's first RTCP sender report
 * (its frames' capture times) when the frames on air have one. */
#define WAIT_FOR_REFERENCE (1500 * GST_MSECOND)
/* How long a frozen takeover waits for the new session to catch up. */
#define MAX_FROZEN (250 * GST_MSECOND)
/* How long an audio takeover waits for the video switch it follows to
 * decide how the same session's pictures line up with the old one's (it
 * looks for a matching picture for up to ALIGN_MAX_UNMATCHED frames). */
#define WAIT_FOR_LEADER (2000 * GST_MSECOND)
/* How often the hold thread looks at an audio output whose buffers have no
 * duration. */
#define AUDIO_HOLD_INTERVAL (20 * GST_MSECOND)
/* The largest shift that makes a new session's audio continue exactly
 * where the old one's ended: the video's alignment of the two sessions
 * (its frames are 33 ms apart, the sessions' clocks jitter) plus the
 * remainder of the last such shift.  A hold is longer (200 ms of silence
 * at least) and stays a gap. */
#define AUDIO_RETIME_MAX (150 * GST_MSECOND)
/* How fast that shift returns to zero, per buffer: 1 ms in 20 ms of audio
 * is inaudible, and puts the sound back on the session's own timing (in
 * step with its pictures) within seconds. */
#define AUDIO_RETIME_SLEW (1 * GST_MSECOND)

enum
{
  SIGNAL_SWITCHED,
  SIGNAL_HOLDING,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* Content signatures (video): the mean luma of a grid of cells.  The same
 * camera frame decoded from two sessions gives nearly the same means (the
 * same bitstream relayed: the very same), two different frames do not. */
#define SIG_GRID 16
#define SIG_CELLS (SIG_GRID * SIG_GRID)
/* Frames shown whose signatures are kept, to find a new session's frames
 * among them (a standby is at most about a second away). */
#define SIG_HISTORY 64
/* Distances are sums of squared cell differences: two decodings of one
 * frame differ by a level or so in every cell (nothing at all when a
 * server relays one encoding), two frames of a scene by a lot in a few
 * (a frame counter's one changed bit: 4,000 and more).  A match is at most
 * an rms of 2 levels a cell, and clearly closer than the runner-up. */
#define SIG_MATCH_MAX (4 * SIG_CELLS)
#define SIG_UNIQUE_FACTOR 2
#define SIG_UNIQUE_MARGIN (4 * SIG_CELLS)
/* Pending frames tried without a content match before the takeover aligns
 * by time (capture time, else running time). */
#define ALIGN_MAX_UNMATCHED 45
/* The same for encoded frames, which match byte for byte or not at all:
 * a server that relays one encoding gives the new session the frames the
 * old one shows within its jitterbuffer's spread (a few frames), and one
 * that encodes per session never matches — and its takeover waits for a
 * key frame next, within the rotation's lead. */
#define ALIGN_MAX_UNMATCHED_ENCODED 10

/* Encoded frames are matched by their bytes: a server that relays one
 * encoding (or encodes once for every viewer) sends every session the
 * very same frames; a distance is 0 for the same bytes and this for any
 * other. */
#define SIG_HASH_MISMATCH (G_MAXUINT / 4)

typedef struct
{
  gboolean is_hash;             /* an encoded frame: hash, not cells */
  guint64 hash;
  guint8 cells[SIG_CELLS];
} Signature;

typedef enum
{
  ALIGN_UNDECIDED,              /* looking for the same picture in both */
  ALIGN_CONTENT,                /* found: align_delta maps the new session's
                                 * running times onto the old one's */
  ALIGN_TIME,                   /* by capture time, else running time */
} AlignMethod;

typedef struct
{
  GstBuffer *buffer;            /* timestamps already in running time */
  GstClockTime ref;             /* capture time, or NONE */
  gboolean has_sig;
  Signature sig;
} QueuedFrame;

struct _GstWhepSwitch
{
  GstElement parent;

  GstPad *srcpad;
  gchar *stream_id;             /* immutable */
  GstCaps *ntp_caps;            /* immutable: "timestamp/x-ntp" */
  /* Ref held; replaced only in the NULL state (set_timer_clock), before
   * any thread uses it, immutable otherwise. */
  GstClock *timer_clock;
  /* The (video) switch whose alignment this one adopts, ref held, or
   * NULL.  Set once, under lock, by gst_whep_switch_follow(); the output
   * side reads it without the lock once `following` (set under the lock
   * after it) says so. */
  GstWhepSwitch *leader;

  GMutex lock;

  /* Protected by lock. */
  GstPad *active;               /* ref held; one of our sink pads, or NULL */
  GstPad *pending;              /* ref held; the pad that takes over next */
  guint pending_origin;         /* the session it belongs to, 0 unknown */
  /* What this switch decided for the takeover to decided_origin, for
   * followers: ALIGN_UNDECIDED until it knows. */
  guint decided_origin;
  AlignMethod decided_align;
  GstClockTimeDiff decided_delta;
  GQueue queue;                 /* QueuedFrame*: pending frames ahead of us */
  guint behind;                 /* pending frames dropped as already shown */
  gboolean freeze_active;       /* drop the active input: pending catches up */
  GstClockTime freeze_start;    /* timer clock, when freeze_active was set */
  GstClockTime pending_since;   /* timer clock, when the pending pad was set */
  GstClockTime pending_last;    /* timer clock, last buffer from pending */
  gboolean gap_mode;
  gboolean align_reset;         /* a new pending pad: forget the alignment */
  guint next_pad_id;
  gint64 last_input_us;         /* monotonic, last buffer out (watchdog) */
  GstClockTime last_input;      /* timer clock, the same moment (hold) */
  GstClockTime hold_interval;   /* how often the hold thread looks */
  GThread *hold_thread;
  GstClockID hold_wait;         /* ref held by the hold thread, or NULL */
  gboolean hold_running;

  /* Protected by the src stream lock (output side) and lock (readers). */
  gboolean sent_stream_start;
  gboolean sent_segment;
  GstCaps *sent_caps;
  gboolean is_audio;
  /* Encoded output (not x-raw): a hold sends GAP events (there is no
   * picture to repeat), and a video session goes on air only at one of its
   * key frames, unless it sends the very same frames as the one before. */
  gboolean encoded;
  gboolean need_key;            /* encoded video: the next frame out must be
                                 * a key frame */
  gboolean pending_keyed;       /* encoded video: the pending session's
                                 * frames are taken from its key frame on */
  guint key_drops;              /* frames dropped waiting for a key frame
                                 * since the last request for one */
  /* Encoded video, another encoding waiting for its key frame: the old
   * session's last frame, held back until the new session's frame of the
   * same moment arrives (a hair later, as a rule) or the old session's
   * next one does — so that a key frame of that very picture can take
   * over in its place.  Ref held, or NULL. */
  GstBuffer *held_old;
  GstClockTime held_old_ref;
  GstPad *held_old_pad;
  GstAudioInfo audio_info;
  GstClockTime frame_duration;
  GstBuffer *last_buffer;       /* last real buffer pushed */
  GstClockTime last_out_pts;    /* running time of the last pushed buffer */
  GstClockTime last_real_pts;   /* the same, of the last real one */
  GstClockTime last_out_ref;    /* capture time of the last real frame */
  gboolean holding;
  gboolean ended;               /* EOS sent (gst_whep_switch_end_stream):
                                 * nothing goes out any more; written with
                                 * the stream lock and lock, read with
                                 * either */
  GstClockTime hold_start;      /* timer clock */
  gboolean retime_next;         /* audio: align the next buffer to the last */
  /* Encoded audio (Opus as depayloaded) has no durations: the step
   * between two buffers of one input stands in for them, so that a
   * takeover can continue the sound exactly.  NONE until known. */
  GstClockTime audio_step;
  GstPad *audio_step_pad;       /* the input it was measured on (no ref:
                                 * compared only) */
  GstClockTime audio_step_last_pts;
  GstClockTimeDiff audio_offset;        /* added to the active pad's audio */
  /* Signatures of the last frames shown (ring; video only). */
  Signature history[SIG_HISTORY];
  GstClockTime history_pts[SIG_HISTORY];
  guint history_len, history_next;
  /* The takeover under way: how its frames are matched with the old ones.
   * Reset when a pending pad is set. */
  AlignMethod align;
  GstClockTimeDiff align_delta; /* old running time − new, same picture */
  gboolean following;           /* waiting for the leader's alignment */
  guint align_unmatched;
  GstClockTime skip_until;      /* after such a takeover: the active input's
                                 * frames up to this are repeats */

  /* Stats, protected by lock. */
  guint64 buffers_out;
  guint64 held_frames;
  guint64 holds;
  guint64 takeovers;
  guint64 takeovers_by[3];      /* indexed by AlignMethod (undecided: the
                                 * old input was gone) */
  GstClockTime longest_hold;
  guint64 freezes;              /* video: waits between two real frames */
  GstClockTime freeze_total;    /* of more than FREEZE_FRAMES intervals */
  GstClockTime longest_freeze;
};

/* A wait between two new pictures longer than this many frame intervals
 * is a freeze (a lost key frame, a silence, a hold): what a viewer sees. */
#define FREEZE_FRAMES 3
/* The frame interval when the caps and the buffers do not tell. */
#define FREEZE_DEFAULT_INTERVAL (GST_SECOND / 30)

G_DEFINE_TYPE (GstWhepSwitch, gst_whep_switch, GST_TYPE_ELEMENT);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
queued_frame_free (QueuedFrame * frame)
{
  gst_buffer_unref (frame->buffer);
  g_free (frame);
}

/* Now on the timer clock. */
static GstClockTime
timer_now (GstWhepSwitch * self)
{
  return gst_clock_get_time (self->timer_clock);
}

/* Time from @since to @now, signed: @now may have been read before another
 * thread stored a later @since. */
static GstClockTimeDiff
elapsed (GstClockTime since, GstClockTime now)
{
  return GST_CLOCK_DIFF (since, now);
}

static GstPad *
dup_active (GstWhepSwitch * self)
{
  GstPad *pad;

  g_mutex_lock (&self->lock);
  pad = self->active ? gst_object_ref (self->active) : NULL;
  g_mutex_unlock (&self->lock);
  return pad;
}

/* --- output (called with the src stream lock) --- */

static void
update_format (GstWhepSwitch * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint num = 0, den = 1;

  self->is_audio = g_str_has_prefix (gst_structure_get_name (s), "audio/");
  self->encoded = !gst_structure_has_name (s, "video/x-raw")
      && !gst_structure_has_name (s, "audio/x-raw");
  if (self->is_audio) {
    if (!gst_audio_info_from_caps (&self->audio_info, caps))
      gst_audio_info_init (&self->audio_info);
  } else if (gst_structure_get_fraction (s, "framerate", &num, &den)
      && num > 0 && den > 0) {
    self->frame_duration = gst_util_uint64_scale_int (GST_SECOND, den, num);
  }
}

/* Sends stream-start, caps and segment as needed before data from
 * @sinkpad (NULL: repeat of what was sent). */
/* A session whose caps say no frame rate (0/1: its server's SDP declared
 * none this time) after one that had a rate: the stream is the same, so
 * the rate on air stays rather than a caps change at the rotation. */
static GstCaps *
keep_known_framerate (GstWhepSwitch * self, GstCaps * caps)
{
  gint num = 0, den = 1, on_air_num, on_air_den;
  GstStructure *on_air;

  if (!caps || !self->sent_caps || gst_caps_get_size (caps) != 1
      || gst_caps_get_size (self->sent_caps) != 1)
    return caps;
  on_air = gst_caps_get_structure (self->sent_caps, 0);
  if (!gst_structure_get_fraction (on_air, "framerate", &on_air_num,
          &on_air_den) || on_air_num <= 0
      || (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
              "framerate", &num, &den) && num > 0))
    return caps;
  caps = gst_caps_make_writable (caps);
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, on_air_num,
      on_air_den, NULL);
  return caps;
}

static void
prepare_output (GstWhepSwitch * self, GstPad * sinkpad)
{
  g_autoptr (GstCaps) caps = sinkpad ?
      keep_known_framerate (self, gst_pad_get_current_caps (sinkpad)) : NULL;

  if (!self->sent_stream_start) {
    GstEvent *event = gst_event_new_stream_start (self->stream_id);
    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (self->srcpad, event);
    self->sent_stream_start = TRUE;
  }

  if (caps && (!self->sent_caps || !gst_caps_is_equal (caps, self->sent_caps))) {
    GST_INFO_OBJECT (self, "caps from %s: %" GST_PTR_FORMAT,
        GST_PAD_NAME (sinkpad), caps);
    gst_caps_replace (&self->sent_caps, caps);
    update_format (self, caps);
    gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  }

  if (!self->sent_segment) {
    /* Our timestamps are running times: one segment for the whole life. */
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
    self->sent_segment = TRUE;
  }
}

/* Ends a hold when real data flows again; returns TRUE when it did. */
static gboolean
end_hold (GstWhepSwitch * self)
{
  GstClockTime held;

  if (!self->holding)
    return FALSE;
  held = MAX (elapsed (self->hold_start, timer_now (self)), 0);
  g_mutex_lock (&self->lock);
  self->holding = FALSE;
  self->longest_hold = MAX (self->longest_hold, held);
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "hold ended after %" G_GUINT64_FORMAT " ms",
      GST_TIME_AS_MSECONDS (held));
  return TRUE;
}

static void remember_shown (GstWhepSwitch * self, GstPad * pad,
    GstBuffer * buffer);

/* Frames of encoded video dropped while waiting for a key frame before
 * the request for one is repeated (the session's own back-off decides
 * what reaches the sender). */
#define KEY_REQUEST_EVERY_DROPS 15

static gboolean
is_encoded_video (GstWhepSwitch * self)
{
  return self->encoded && !self->is_audio;
}

/* Asks the session behind @sinkpad for a key frame: the event goes up
 * through its parser and depayloader to its RTP session (PLI/FIR). */
static void
request_key_frame (GstWhepSwitch * self, GstPad * sinkpad)
{
  if (self->key_drops++ % KEY_REQUEST_EVERY_DROPS != 0)
    return;
  GST_DEBUG_OBJECT (self, "asking %s for a key frame", GST_PAD_NAME (sinkpad));
  gst_pad_push_event (sinkpad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
}

static gboolean
is_key_frame (GstBuffer * buffer)
{
  return !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
}

static void clear_queue (GstWhepSwitch * self);

static GstFlowReturn push_real (GstWhepSwitch * self, GstPad * sinkpad,
    GstBuffer * buffer, GstClockTime ref, gboolean * hold_ended);

/* Pushes the old session's frame held back (if any).  Called with the
 * stream lock. */
static GstFlowReturn
release_held_old (GstWhepSwitch * self, gboolean * hold_ended)
{
  GstBuffer *buffer = g_steal_pointer (&self->held_old);
  g_autoptr (GstPad) pad = g_steal_pointer (&self->held_old_pad);

  if (!buffer)
    return GST_FLOW_OK;
  return push_real (self, pad, buffer, self->held_old_ref, hold_ended);
}

static void
drop_held_old (GstWhepSwitch * self)
{
  gst_clear_buffer (&self->held_old);
  gst_clear_object (&self->held_old_pad);
}

/* TRUE while the old session's frames are held back one by one (see
 * held_old). */
static gboolean
holding_back_old (GstWhepSwitch * self)
{
  return is_encoded_video (self) && self->align == ALIGN_TIME
      && !self->pending_keyed;
}

/* Encoded video from another encoding than the one on air: what the
 * pending session sent so far cannot start its pictures any more (its key
 * frame was dropped, or shown by the old session already).  Its frames are
 * taken again from its next key frame, asked for now.  Called with the
 * stream lock. */
static void
wait_for_pending_key_frame (GstWhepSwitch * self, GstPad * pad)
{
  g_mutex_lock (&self->lock);
  clear_queue (self);
  g_mutex_unlock (&self->lock);
  self->pending_keyed = FALSE;
  self->key_drops = 0;
  request_key_frame (self, pad);
}

/* The largest step between two audio buffers taken for their duration. */
#define AUDIO_STEP_MAX (120 * GST_MSECOND)

/* Gives an audio buffer without a duration the step measured between the
 * buffers of its input.  Called with the stream lock. */
static GstBuffer *
give_audio_duration (GstWhepSwitch * self, GstPad * sinkpad, GstBuffer * buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (self->audio_step_pad == sinkpad
      && GST_CLOCK_TIME_IS_VALID (self->audio_step_last_pts)
      && pts > self->audio_step_last_pts
      && pts - self->audio_step_last_pts <= AUDIO_STEP_MAX)
    self->audio_step = pts - self->audio_step_last_pts;
  self->audio_step_pad = sinkpad;
  self->audio_step_last_pts = pts;
  if (GST_BUFFER_DURATION_IS_VALID (buffer)
      || !GST_CLOCK_TIME_IS_VALID (self->audio_step))
    return buffer;
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_DURATION (buffer) = self->audio_step;
  return buffer;
}

/* Pushes a real buffer from @sinkpad.  Called with the stream lock. */
static GstFlowReturn
push_real (GstWhepSwitch * self, GstPad * sinkpad, GstBuffer * buffer,
    GstClockTime ref, gboolean * hold_ended)
{
  GstClockTime pts, now, interval;

  prepare_output (self, sinkpad);
  /* Encoded video that does not continue the frames on air (another
   * encoding, or the first one) starts at a key frame: anything else
   * would be a broken picture downstream. */
  if (is_encoded_video (self) && self->need_key) {
    if (!is_key_frame (buffer)) {
      GST_LOG_OBJECT (self, "dropping a delta frame: waiting for a key frame");
      request_key_frame (self, sinkpad);
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    self->need_key = FALSE;
    self->key_drops = 0;
  }
  /* Audio from a session that just took over continues exactly where the
   * old one ended: the sessions' clocks differ by up to a frame or so, and
   * a gap or an overlap of a few ms is an audible click. */
  if (self->is_audio && GST_BUFFER_PTS_IS_VALID (buffer))
    buffer = give_audio_duration (self, sinkpad, buffer);
  if (self->is_audio && GST_BUFFER_PTS_IS_VALID (buffer)) {
    if (self->retime_next) {
      self->retime_next = FALSE;
      self->audio_offset = 0;
      if (self->last_buffer && GST_CLOCK_TIME_IS_VALID (self->last_out_pts)
          && GST_BUFFER_DURATION_IS_VALID (self->last_buffer)) {
        GstClockTime expected = self->last_out_pts +
            GST_BUFFER_DURATION (self->last_buffer);
        GstClockTimeDiff offset = GST_CLOCK_DIFF (GST_BUFFER_PTS (buffer),
            expected);
        if (ABS (offset) <= (GstClockTimeDiff) AUDIO_RETIME_MAX)
          self->audio_offset = offset;
        GST_DEBUG_OBJECT (self, "audio continues at %" GST_TIME_FORMAT
            " (offset %" GST_STIME_FORMAT ")", GST_TIME_ARGS (expected),
            GST_STIME_ARGS (self->audio_offset));
      }
    }
    if (self->audio_offset) {
      GstClockTimeDiff step = MIN (ABS (self->audio_offset),
          (GstClockTimeDiff) AUDIO_RETIME_SLEW);

      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_PTS (buffer) += self->audio_offset;
      GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
      self->audio_offset += self->audio_offset > 0 ? -step : step;
    }
  }
  pts = GST_BUFFER_PTS (buffer);
  /* Monotonic output: a new session's first frame may be stamped a hair
   * before the last repeated one. */
  if (GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (self->last_out_pts)
      && pts <= self->last_out_pts) {
    buffer = gst_buffer_make_writable (buffer);
    pts = self->last_out_pts + 1;
    GST_BUFFER_PTS (buffer) = pts;
    GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  }
  if (GST_CLOCK_TIME_IS_VALID (pts))
    self->last_out_pts = self->last_real_pts = pts;
  /* Always the last buffer's own: a capture time left over from an older
   * buffer would misplace the next takeover. */
  self->last_out_ref = ref;
  if (!self->is_audio && GST_BUFFER_DURATION_IS_VALID (buffer)
      && GST_BUFFER_DURATION (buffer) > 0 && !self->sent_caps)
    self->frame_duration = GST_BUFFER_DURATION (buffer);
  gst_buffer_replace (&self->last_buffer, buffer);
  remember_shown (self, sinkpad, buffer);
  *hold_ended |= end_hold (self);

  /* A hold repeats this buffer, so it looks as often as it lasts: audio
   * buffers of 10 or 60 ms need silence at their own pace. */
  if (!self->is_audio)
    interval = self->frame_duration;
  else if (GST_BUFFER_DURATION_IS_VALID (buffer)
      && GST_BUFFER_DURATION (buffer) > 0)
    interval = GST_BUFFER_DURATION (buffer);
  else
    interval = AUDIO_HOLD_INTERVAL;

  now = timer_now (self);
  g_mutex_lock (&self->lock);
  if (!self->is_audio && self->buffers_out > 0) {
    GstClockTime wait = now > self->last_input ? now - self->last_input : 0;
    GstClockTime frame = self->frame_duration ? self->frame_duration :
        FREEZE_DEFAULT_INTERVAL;

    if (wait > FREEZE_FRAMES * frame) {
      self->freezes++;
      self->freeze_total += wait;
      self->longest_freeze = MAX (self->longest_freeze, wait);
    }
  }
  self->buffers_out++;
  self->last_input_us = g_get_monotonic_time ();
  self->last_input = now;
  self->hold_interval = interval;
  g_mutex_unlock (&self->lock);

  return gst_pad_push (self->srcpad, buffer);
}

/* --- takeover --- */

static GstClockTime
buffer_reference (GstWhepSwitch * self, GstBuffer * buffer)
{
  GstReferenceTimestampMeta *meta =
      gst_buffer_get_reference_timestamp_meta (buffer, self->ntp_caps);

  return meta ? meta->timestamp : GST_CLOCK_TIME_NONE;
}

static GstClockTime
tolerance (GstWhepSwitch * self, GstBuffer * buffer)
{
  if (self->is_audio && GST_BUFFER_DURATION_IS_VALID (buffer))
    return GST_BUFFER_DURATION (buffer) / 2;
  return self->frame_duration / 2;
}

/* --- content signatures (video) --- */

/* The signature of an encoded frame: FNV-1a over its bytes. */
static gboolean
encoded_signature (GstBuffer * buffer, Signature * sig)
{
  GstMapInfo map;
  guint64 hash = G_GUINT64_CONSTANT (14695981039346656037);
  gsize i;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  for (i = 0; i < map.size; i++) {
    hash ^= map.data[i];
    hash *= G_GUINT64_CONSTANT (1099511628211);
  }
  gst_buffer_unmap (buffer, &map);
  sig->is_hash = TRUE;
  sig->hash = hash ^ map.size;
  return TRUE;
}

/* The signature of a raw YUV picture (or of an encoded frame) from @pad
 * (its current caps); FALSE for anything else.  Every other row and
 * column is enough for cell means, and keeps this cheap (a 640x360
 * picture: 57,600 additions).  The columns of each cell are worked out
 * once per picture, not per pixel (a division per pixel cost 18 % of the
 * CPU of 48 streams in one process, bench/streams.sh); the sums are the
 * same. */
static gboolean
caps_signature (GstCaps * caps, GstBuffer * buffer, Signature * sig)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  guint32 sums[SIG_CELLS] = { 0, }, counts[SIG_CELLS] = { 0, };
  guint width, height, stride, pstride, x, y, i, cx;
  guint starts[SIG_GRID + 1];   /* first (even) column of each cell */
  const guint8 *luma;

  if (caps && !gst_caps_is_empty (caps) && !gst_caps_is_any (caps)
      && g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure
              (caps, 0)), "video/")
      && !gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw"))
    return encoded_signature (buffer, sig);
  if (!caps || gst_caps_is_empty (caps)
      || !gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw")
      || !gst_video_info_from_caps (&info, caps)
      || !GST_VIDEO_INFO_IS_YUV (&info)
      || GST_VIDEO_INFO_WIDTH (&info) < SIG_GRID
      || GST_VIDEO_INFO_HEIGHT (&info) < SIG_GRID)
    return FALSE;
  if (!gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ))
    return FALSE;
  width = GST_VIDEO_FRAME_COMP_WIDTH (&frame, 0);
  height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, 0);
  stride = GST_VIDEO_FRAME_COMP_STRIDE (&frame, 0);
  /* Packed formats (YUY2…) have a pixel stride of 2 for luma. */
  pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0);
  luma = GST_VIDEO_FRAME_COMP_DATA (&frame, 0);
  /* Column x (even) is in cell floor (x * SIG_GRID / width): cell cx
   * starts at the first even x >= cx * width / SIG_GRID. */
  for (cx = 0; cx <= SIG_GRID; cx++) {
    guint start = (cx * width + SIG_GRID - 1) / SIG_GRID;

    starts[cx] = MIN ((start + 1) & ~1u, width + (width & 1));
  }
  for (y = 0; y < height; y += 2) {
    const guint8 *row = luma + (gsize) y * stride;
    guint base = (y * SIG_GRID / height) * SIG_GRID;

    for (cx = 0; cx < SIG_GRID; cx++) {
      guint32 sum = 0;

      for (x = starts[cx]; x < starts[cx + 1]; x += 2)
        sum += row[x * pstride];
      sums[base + cx] += sum;
      counts[base + cx] += (starts[cx + 1] - starts[cx]) / 2;
    }
  }
  gst_video_frame_unmap (&frame);
  for (i = 0; i < SIG_CELLS; i++)
    sig->cells[i] = counts[i] ? sums[i] / counts[i] : 0;
  sig->is_hash = FALSE;
  return TRUE;
}

static gboolean
frame_signature (GstPad * pad, GstBuffer * buffer, Signature * sig)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

  return caps_signature (caps, buffer, sig);
}

static guint
signature_distance (const Signature * a, const Signature * b)
{
  guint i, d = 0;

  if (a->is_hash || b->is_hash)
    return a->is_hash && b->is_hash && a->hash == b->hash ? 0 :
        SIG_HASH_MISMATCH;
  for (i = 0; i < SIG_CELLS; i++) {
    gint diff = (gint) a->cells[i] - (gint) b->cells[i];

    d += diff * diff;
  }
  return d;
}

/* Output side: a frame was shown. */
static void
remember_shown (GstWhepSwitch * self, GstPad * pad, GstBuffer * buffer)
{
  guint slot = self->history_next;

  if (self->is_audio || !GST_BUFFER_PTS_IS_VALID (buffer)
      || !frame_signature (pad, buffer, &self->history[slot]))
    return;
  self->history_pts[slot] = GST_BUFFER_PTS (buffer);
  self->history_next = (slot + 1) % SIG_HISTORY;
  self->history_len = MIN (self->history_len + 1, SIG_HISTORY);
}

/* Tells followers how the takeover under way was aligned (or that it was
 * done without alignment).  Called with the stream lock. */
static void
publish_alignment (GstWhepSwitch * self)
{
  g_mutex_lock (&self->lock);
  self->decided_origin = self->pending_origin;
  self->decided_align = self->align == ALIGN_UNDECIDED ? ALIGN_TIME :
      self->align;
  self->decided_delta = self->align_delta;
  g_mutex_unlock (&self->lock);
}

/* How the leader aligned the takeover to @origin: ALIGN_UNDECIDED while it
 * does not know yet.  Takes the leader's lock (a leaf). */
static AlignMethod
leader_alignment (GstWhepSwitch * leader, guint origin,
    GstClockTimeDiff * delta)
{
  AlignMethod method = ALIGN_UNDECIDED;

  g_mutex_lock (&leader->lock);
  if (origin != 0 && leader->decided_origin == origin) {
    method = leader->decided_align;
    *delta = leader->decided_delta;
  }
  g_mutex_unlock (&leader->lock);
  return method;
}

/* An audio takeover following the video's: adopts the video's alignment
 * once known — a session's audio and video running times are synchronised
 * by its sender reports, so the same offset maps both onto the old
 * session's.  Returns FALSE while the buffer must wait (dropped: the old
 * session still plays).  Called with the stream lock. */
static gboolean
follow_leader (GstWhepSwitch * self, GstClockTime pending_since,
    GstClockTime now)
{
  GstClockTimeDiff delta = 0;
  guint origin;
  AlignMethod method;

  g_mutex_lock (&self->lock);
  origin = self->pending_origin;
  g_mutex_unlock (&self->lock);
  method = leader_alignment (self->leader, origin, &delta);
  if (method == ALIGN_UNDECIDED
      && elapsed (pending_since, now) < (GstClockTimeDiff) WAIT_FOR_LEADER)
    return FALSE;
  self->following = FALSE;
  if (method == ALIGN_CONTENT) {
    self->align = ALIGN_CONTENT;
    self->align_delta = delta;
    GST_INFO_OBJECT (self, "takeover follows the video's alignment: the "
        "new session's running times are %" GST_STIME_FORMAT " off",
        GST_STIME_ARGS (-delta));
  } else {
    GST_DEBUG_OBJECT (self, "takeover by time (the video's was %s)",
        method == ALIGN_TIME ? "by time too" : "not decided in time");
  }
  return TRUE;
}

/* The running time at which the picture @sig was shown, when exactly one
 * frame shown lately is that picture (a still scene matches many: no
 * answer then). */
static gboolean
find_shown (GstWhepSwitch * self, const Signature * sig, GstClockTime * pts)
{
  guint i, best = G_MAXUINT, second = G_MAXUINT, best_slot = 0;

  for (i = 0; i < self->history_len; i++) {
    guint d = signature_distance (&self->history[i], sig);

    if (d < best) {
      second = best;
      best = d;
      best_slot = i;
    } else if (d < second) {
      second = d;
    }
  }
  if (best > SIG_MATCH_MAX || (second != G_MAXUINT
          && second < SIG_UNIQUE_FACTOR * best + SIG_UNIQUE_MARGIN))
    return FALSE;
  *pts = self->history_pts[best_slot];
  return TRUE;
}

/* The new session's frame @pending_pts is the old one's @shown_pts: from
 * now on its frames are compared on the old one's timeline. */
static void
align_by_content (GstWhepSwitch * self, GstClockTime shown_pts,
    GstClockTime pending_pts)
{
  self->align = ALIGN_CONTENT;
  self->align_delta = GST_CLOCK_DIFF (pending_pts, shown_pts);
  GST_INFO_OBJECT (self, "takeover aligned by content: the new session's "
      "running times are %" GST_STIME_FORMAT " off the old one's",
      GST_STIME_ARGS (-self->align_delta));
  publish_alignment (self);
}

/* Capture times of two sessions can be compared only when the sender
 * maps both to one clock; some senders (GStreamer's rtpbin among them)
 * give every session its own NTP offset.  Frames compared during a
 * takeover are a few frames apart, so capture times further apart than
 * this come from different clocks and are not used.  (Running times are
 * no perfect identity either: a jitterbuffer that starts on a burst can
 * be off by several frames.) */
#define REFERENCE_PROXIMITY GST_SECOND

/* Orders a frame against the last one shown: < 0 already shown (or
 * older), 0 the same frame, > 0 newer.  By capture time when both have a
 * comparable one, by running time otherwise.  Repeats of a hold are not
 * frames shown: a new session's frame in the slot of a repeat has not
 * been seen (capture times, which a hold does not advance, agree). */
static gint
compare_with_last (GstWhepSwitch * self, GstBuffer * buffer, GstClockTime ref,
    gboolean from_pending)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime tol = tolerance (self, buffer);
  gboolean have_pts = GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (self->last_real_pts);

  gboolean have_ref = GST_CLOCK_TIME_IS_VALID (ref)
      && GST_CLOCK_TIME_IS_VALID (self->last_out_ref);
  GstClockTimeDiff diff;

  /* The last shown is on the output's timeline: the active session's audio
   * went out shifted by audio_offset (its own takeover), so a pending
   * buffer is compared where it lands with the same shift. */
  if (from_pending && self->is_audio && have_pts)
    pts += self->audio_offset;

  if (have_ref)
    have_ref = ABS (GST_CLOCK_DIFF (self->last_out_ref, ref)) <
        (GstClockTimeDiff) REFERENCE_PROXIMITY;

  /* A takeover aligned by content: the new session's frame is where its
   * running time lands on the old one's timeline (capture times of the two
   * disagree, or they would have matched too). */
  if (from_pending && self->align == ALIGN_CONTENT && have_pts) {
    Signature sig;
    GstClockTime shown;

    diff = GST_CLOCK_DIFF (self->last_real_pts, pts) + self->align_delta;
    /* The picture itself says whether it was shown: running times of two
     * sessions jitter by more than half a frame now and then, pictures do
     * not.  One not among the last shown is new — unless the timeline
     * puts it before all of them. */
    if (caps_signature (self->sent_caps, buffer, &sig)) {
      if (find_shown (self, &sig, &shown))
        return shown == self->last_real_pts ? 0 : -1;
      /* A picture not shown lately, about where the timeline expects the
       * next ones: new, even if its running time jittered onto the last. */
      if (diff > -(GstClockTimeDiff) (2 * self->frame_duration))
        return 1;
    }
    if (ABS (diff) <= (GstClockTimeDiff) tol)
      return 0;
    return diff < 0 ? -1 : 1;
  }

  if (have_ref)
    diff = GST_CLOCK_DIFF (self->last_out_ref, ref);
  else if (have_pts)
    diff = GST_CLOCK_DIFF (self->last_real_pts, pts);
  else
    return 1;
  if (ABS (diff) <= (GstClockTimeDiff) tol)
    return 0;
  return diff < 0 ? -1 : 1;
}

/* Orders a pending frame against the old session's frame held back (see
 * held_old), as compare_with_last() against the last one shown.  Called
 * with the stream lock. */
static gint
compare_with_held (GstWhepSwitch * self, GstBuffer * buffer, GstClockTime ref)
{
  GstClockTime saved_pts = self->last_real_pts;
  GstClockTime saved_ref = self->last_out_ref;
  gint order;

  self->last_real_pts = GST_BUFFER_PTS (self->held_old);
  self->last_out_ref = self->held_old_ref;
  order = compare_with_last (self, buffer, ref, TRUE);
  self->last_real_pts = saved_pts;
  self->last_out_ref = saved_ref;
  return order;
}

/* The pending pad becomes the active one.  Called with the stream lock;
 * takes the lock itself. */
static void
take_over (GstWhepSwitch * self)
{
  g_mutex_lock (&self->lock);
  GST_INFO_OBJECT (self, "takeover: %s → %s",
      self->active ? GST_PAD_NAME (self->active) : "none",
      GST_PAD_NAME (self->pending));
  gst_object_replace ((GstObject **) & self->active,
      GST_OBJECT (self->pending));
  gst_clear_object (&self->pending);
  /* Switched without aligning (nothing was on air): followers need not
   * wait for a decision that will not come. */
  if (self->decided_origin != self->pending_origin) {
    self->decided_origin = self->pending_origin;
    self->decided_align = ALIGN_TIME;
    self->decided_delta = 0;
  }
  self->behind = 0;
  self->freeze_active = FALSE;
  self->takeovers++;
  self->takeovers_by[self->align]++;
  g_mutex_unlock (&self->lock);
  /* Called with the stream lock: the output side is ours. */
  self->retime_next = TRUE;
  /* Only the very same frames (matched by content) may continue a
   * picture that another session's frames built up. */
  if (self->align != ALIGN_CONTENT)
    self->need_key = TRUE;
  /* Aligned by content, the new session's frames up to the last one shown
   * are known to be repeats, whatever path they come by. */
  self->skip_until = GST_CLOCK_TIME_NONE;
  if (self->align == ALIGN_CONTENT
      && GST_CLOCK_TIME_IS_VALID (self->last_real_pts)
      && (GstClockTimeDiff) self->last_real_pts > self->align_delta)
    self->skip_until = self->last_real_pts - self->align_delta;
}

/* A frame of the active input that a content-aligned takeover knows was
 * shown already (by the old session).  Called with the stream lock. */
static gboolean
already_shown (GstWhepSwitch * self, GstBuffer * buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (!GST_CLOCK_TIME_IS_VALID (self->skip_until)
      || !GST_CLOCK_TIME_IS_VALID (pts))
    return FALSE;
  if (pts <= self->skip_until + tolerance (self, buffer))
    return TRUE;
  self->skip_until = GST_CLOCK_TIME_NONE;
  return FALSE;
}

/* Pushes the queued frames of the (now active) pad that come after the
 * last one shown.  Called with the stream lock. */
static GstFlowReturn
flush_queue (GstWhepSwitch * self, GstPad * pad, gboolean * hold_ended)
{
  GstFlowReturn ret = release_held_old (self, hold_ended);
  QueuedFrame *frame;
  gboolean passed = FALSE;

  for (;;) {
    g_mutex_lock (&self->lock);
    frame = g_queue_pop_head (&self->queue);
    g_mutex_unlock (&self->lock);
    if (!frame)
      break;
    /* Queued frames are in order: once one is newer than what was shown,
     * so are all after it (comparing them with the new session's own
     * last frame would mix two timelines). */
    passed = passed
        || compare_with_last (self, frame->buffer, frame->ref, TRUE) > 0;
    if (ret == GST_FLOW_OK && passed)
      ret = push_real (self, pad, gst_buffer_ref (frame->buffer), frame->ref,
          hold_ended);
    queued_frame_free (frame);
  }
  return ret;
}

static void
clear_queue (GstWhepSwitch * self)
{
  g_queue_clear_full (&self->queue, (GDestroyNotify) queued_frame_free);
}

/* A buffer from the pending pad.  Called with the stream lock. */
static GstFlowReturn
handle_pending_buffer (GstWhepSwitch * self, GstPad * pad, GstBuffer * buffer,
    GstClockTime ref, gboolean * switched, gboolean * hold_ended)
{
  gboolean nothing_on_air, have_active;
  gint order;
  GstClockTime pending_since, now = timer_now (self);

  g_mutex_lock (&self->lock);
  nothing_on_air = self->active == NULL || self->holding || self->freeze_active;
  have_active = self->active != NULL;
  pending_since = self->pending_since;
  if (self->align_reset) {
    self->align_reset = FALSE;
    self->align = self->is_audio ? ALIGN_TIME : ALIGN_UNDECIDED;
    self->align_delta = 0;
    self->align_unmatched = 0;
    self->following = self->leader != NULL && self->pending_origin != 0;
    self->pending_keyed = FALSE;
  }
  g_mutex_unlock (&self->lock);

  /* Encoded video of another encoding (not the same frames as on air):
   * the new session's frames count from a key frame (what comes before
   * cannot be shown on its own).  Until that is known, every frame is
   * kept: a relay's new session starts wherever its sender's GOP is, and
   * matches the old one's frames byte for byte long before its next key
   * frame. */
  if (is_encoded_video (self) && self->align == ALIGN_TIME
      && !self->pending_keyed) {
    gint vs_held = self->held_old ? compare_with_held (self, buffer, ref) : 1;

    if (!is_key_frame (buffer)) {
      /* Its frame of the moment held back came: no key frame this time,
       * the held one goes out (as little late as the sessions differ). */
      if (vs_held <= 0)
        release_held_old (self, hold_ended);
      request_key_frame (self, pad);
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    self->pending_keyed = TRUE;
    if (vs_held == 0) {
      /* A key frame of the very picture held back: it takes its place. */
      GST_INFO_OBJECT (self, "the new session's key frame is the picture "
          "held back: switching there");
      drop_held_old (self);
      g_mutex_lock (&self->lock);
      clear_queue (self);
      g_mutex_unlock (&self->lock);
      take_over (self);
      *switched = TRUE;
      return push_real (self, pad, buffer, ref, hold_ended);
    }
    release_held_old (self, hold_ended);
  }

  /* Audio: the video decides how the two sessions line up. */
  if (self->following && !nothing_on_air
      && !follow_leader (self, pending_since, now)) {
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }

  /* Video: look for this very picture among the frames shown.  The
   * senders' capture times cannot be trusted across sessions (a relaying
   * server's sessions each have their own RTCP clock), the pictures can. */
  if (self->align == ALIGN_UNDECIDED && !nothing_on_air) {
    QueuedFrame *frame = g_new0 (QueuedFrame, 1);
    GstClockTime shown_pts;

    frame->has_sig = frame_signature (pad, buffer, &frame->sig);
    if (frame->has_sig && find_shown (self, &frame->sig, &shown_pts))
      align_by_content (self, shown_pts, GST_BUFFER_PTS (buffer));
    else if (!frame->has_sig || ++self->align_unmatched >
        (self->encoded ? ALIGN_MAX_UNMATCHED_ENCODED : ALIGN_MAX_UNMATCHED)) {
      GST_INFO_OBJECT (self, "no picture of the new session matches one "
          "shown: aligning by time");
      self->align = ALIGN_TIME;
      publish_alignment (self);
      if (is_encoded_video (self)) {
        /* Another encoding: its frames queued so far start at a key frame
         * that is long on air by now; the switch waits for its next one
         * (this one, if it is one). */
        gboolean key = is_key_frame (buffer);

        wait_for_pending_key_frame (self, pad);
        if (!key) {
          g_free (frame);
          gst_buffer_unref (buffer);
          return GST_FLOW_OK;
        }
        self->pending_keyed = TRUE;
      }
    } else {
      /* Not shown yet, maybe: the old session may show it next. */
      frame->buffer = buffer;
      frame->ref = ref;
      g_mutex_lock (&self->lock);
      if (g_queue_get_length (&self->queue) >= MAX_PENDING_QUEUE)
        queued_frame_free (g_queue_pop_head (&self->queue));
      g_queue_push_tail (&self->queue, frame);
      g_mutex_unlock (&self->lock);
      return GST_FLOW_OK;
    }
    g_free (frame);
  }

  /* Running times of a jitterbuffer that just started can be off by a
   * frame or more; capture times are exact.  While the old session still
   * plays, wait (bounded) for the new one's first sender report. */
  if (!nothing_on_air && self->align != ALIGN_CONTENT
      && !GST_CLOCK_TIME_IS_VALID (ref)
      && GST_CLOCK_TIME_IS_VALID (self->last_out_ref)
      && elapsed (pending_since, now) < (GstClockTimeDiff) WAIT_FOR_REFERENCE) {
    if (is_encoded_video (self) && is_key_frame (buffer))
      wait_for_pending_key_frame (self, pad);
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }

  order = compare_with_last (self, buffer, ref, TRUE);
  if (order <= 0 && is_encoded_video (self) && self->align != ALIGN_CONTENT
      && have_active) {
    /* Another encoding, and its key frame was on air already: catching up
     * frame by frame is no use, its pictures can only start at a key
     * frame.  The old session stays on air, whole, until the next one. */
    GST_DEBUG_OBJECT (self, "pending %s %" GST_TIME_FORMAT " (ref %"
        GST_TIME_FORMAT ") already shown (last %" GST_TIME_FORMAT ", ref %"
        GST_TIME_FORMAT "): waiting for the new session's next key frame",
        is_key_frame (buffer) ? "key frame" : "frame",
        GST_TIME_ARGS (GST_BUFFER_PTS (buffer)), GST_TIME_ARGS (ref),
        GST_TIME_ARGS (self->last_real_pts),
        GST_TIME_ARGS (self->last_out_ref));
    wait_for_pending_key_frame (self, pad);
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  if (order <= 0) {
    gboolean give_in;

    /* Already shown by the active session. */
    g_mutex_lock (&self->lock);
    self->behind++;
    if (self->behind >= MAX_BEHIND_FRAMES && !self->freeze_active) {
      /* This session lags the old one: stop the old one so that this one
       * continues from the last frame shown. */
      GST_DEBUG_OBJECT (self, "pending input lags: freezing the active one");
      self->freeze_active = TRUE;
      self->freeze_start = now;
    }
    /* Never leave the output frozen: when the frames cannot be matched
     * (no common clock), or the old session is gone, go on with the new
     * one rather than wait.  Counted in wall-clock time, so that the burst
     * a new session starts with does not count. */
    give_in = self->active == NULL || (self->freeze_active
        && elapsed (self->freeze_start, now) > (GstClockTimeDiff) MAX_FROZEN);
    g_mutex_unlock (&self->lock);
    if (!give_in) {
      GST_LOG_OBJECT (self, "pending frame %" GST_TIME_FORMAT " (ref %"
          GST_TIME_FORMAT ") already shown (last %" GST_TIME_FORMAT ", ref %"
          GST_TIME_FORMAT ")", GST_TIME_ARGS (GST_BUFFER_PTS (buffer)),
          GST_TIME_ARGS (ref), GST_TIME_ARGS (self->last_real_pts),
          GST_TIME_ARGS (self->last_out_ref));
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    take_over (self);
    *switched = TRUE;
    if (self->align == ALIGN_CONTENT) {
      /* The new session is known to be behind: its frames up to the last
       * one shown are dropped as they come (skip_until), no repeat. */
      GST_INFO_OBJECT (self, "the new session lags by more than %"
          GST_TIME_FORMAT ": switching, its frames already shown dropped",
          GST_TIME_ARGS (MAX_FROZEN));
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    GST_WARNING_OBJECT (self, "could not align the new session's frames "
        "with the old one's (last shown %" GST_TIME_FORMAT ", new %"
        GST_TIME_FORMAT "): switching anyway",
        GST_TIME_ARGS (self->last_real_pts),
        GST_TIME_ARGS (GST_BUFFER_PTS (buffer)));
    release_held_old (self, hold_ended);
    return push_real (self, pad, buffer, ref, hold_ended);
  }

  if (nothing_on_air || self->last_buffer == NULL) {
    GstFlowReturn ret;
    /* The old session is gone or frozen: continue at once, with what was
     * queued while it still played. */
    take_over (self);
    *switched = TRUE;
    ret = flush_queue (self, pad, hold_ended);
    if (ret == GST_FLOW_OK && !already_shown (self, buffer)
        && compare_with_last (self, buffer, ref, TRUE) > 0)
      return push_real (self, pad, buffer, ref, hold_ended);
    gst_buffer_unref (buffer);
    return ret;
  }

  /* Newer than what is on air: the old session will show the frames up to
   * this one, then we continue from the queue. */
  {
    QueuedFrame *frame = g_new0 (QueuedFrame, 1);

    frame->buffer = buffer;
    frame->ref = ref;
    if (self->align == ALIGN_CONTENT)
      frame->has_sig = frame_signature (pad, buffer, &frame->sig);
    g_mutex_lock (&self->lock);
    if (g_queue_get_length (&self->queue) >= MAX_PENDING_QUEUE)
      queued_frame_free (g_queue_pop_head (&self->queue));
    g_queue_push_tail (&self->queue, frame);
  }
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

/* Aligns the takeover when exactly one queued frame of the new session is
 * the picture @buffer of the old one.  Called with the stream lock. */
static void
match_queue_with (GstWhepSwitch * self, GstPad * pad, GstBuffer * buffer)
{
  Signature shown;
  guint best = G_MAXUINT, second = G_MAXUINT, i;
  GstClockTime best_pts = GST_CLOCK_TIME_NONE;
  GList *l;

  if (!GST_BUFFER_PTS_IS_VALID (buffer)
      || !frame_signature (pad, buffer, &shown))
    return;
  g_mutex_lock (&self->lock);
  for (l = self->queue.head; l; l = l->next) {
    QueuedFrame *frame = l->data;
    guint d;

    if (!frame->has_sig)
      continue;
    d = signature_distance (&frame->sig, &shown);
    if (d < best) {
      second = best;
      best = d;
      best_pts = GST_BUFFER_PTS (frame->buffer);
    } else if (d < second) {
      second = d;
    }
  }
  g_mutex_unlock (&self->lock);
  /* The old session's picture must be distinct too: in a still scene it
   * is also its own predecessor, and a lone queued frame would match it
   * by chance. */
  for (i = 0; i < MIN (self->history_len, 2); i++) {
    guint slot = (self->history_next + SIG_HISTORY - 1 - i) % SIG_HISTORY;

    second = MIN (second, signature_distance (&self->history[slot], &shown));
  }
  if (best <= SIG_MATCH_MAX && GST_CLOCK_TIME_IS_VALID (best_pts)
      && (second == G_MAXUINT || second >= SIG_UNIQUE_FACTOR * best
          + SIG_UNIQUE_MARGIN))
    align_by_content (self, GST_BUFFER_PTS (buffer), best_pts);
}

/* A buffer from the active pad while another one is pending.  Called with
 * the stream lock. */
static GstFlowReturn
handle_active_buffer_during_takeover (GstWhepSwitch * self, GstPad * pad,
    GstBuffer * buffer, GstClockTime ref, gboolean * switched,
    gboolean * hold_ended)
{
  QueuedFrame *head;
  GstPad *pending;
  gboolean head_reached = FALSE;
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  head = g_queue_peek_head (&self->queue);
  pending = self->pending ? gst_object_ref (self->pending) : NULL;
  g_mutex_unlock (&self->lock);

  /* The new session's frames wait in the queue for this picture: is one
   * of them the frame the old session shows now? */
  if (head && self->align == ALIGN_UNDECIDED)
    match_queue_with (self, pad, buffer);
  if (pending && holding_back_old (self)) {
    /* One frame back: the new session's key frame of this very picture
     * may come a hair later and take its place. */
    ret = release_held_old (self, hold_ended);
    self->held_old = buffer;
    self->held_old_ref = ref;
    self->held_old_pad = gst_object_ref (pad);
    gst_object_unref (pending);
    return ret;
  }
  if (self->held_old) {
    ret = release_held_old (self, hold_ended);
    if (ret != GST_FLOW_OK) {
      gst_clear_object (&pending);
      gst_buffer_unref (buffer);
      return ret;
    }
  }
  if (self->align == ALIGN_UNDECIDED) {
    /* Nothing decided yet: the old session goes on, the queue waits. */
    if (pending)
      gst_object_unref (pending);
    return push_real (self, pad, buffer, ref, hold_ended);
  }

  if (head) {
    /* Does the pending session already have this frame (or the next)? */
    GstClockTime saved_pts = self->last_real_pts, saved_ref =
        self->last_out_ref;
    GstClockTime pts = GST_BUFFER_PTS (buffer);

    /* Compare the queued head with this buffer, reusing the "last shown"
     * comparison: temporarily treat this buffer as the last shown. */
    Signature sig;
    GstClockTime shown;

    if (self->align == ALIGN_CONTENT && head->has_sig
        && frame_signature (pad, buffer, &sig)) {
      /* By the pictures: the head is this very frame, or one shown. */
      head_reached = signature_distance (&head->sig, &sig) <= SIG_MATCH_MAX
          || find_shown (self, &head->sig, &shown);
    } else {
      /* Where this buffer goes out (push_real shifts the audio). */
      if (GST_CLOCK_TIME_IS_VALID (pts))
        self->last_real_pts = pts + (self->is_audio ? self->audio_offset : 0);
      self->last_out_ref = ref;
      head_reached =
          compare_with_last (self, head->buffer, head->ref, TRUE) <= 0;
      self->last_real_pts = saved_pts;
      self->last_out_ref = saved_ref;
    }
  }

  if (head_reached && pending && is_encoded_video (self)
      && self->align != ALIGN_CONTENT
      && compare_with_last (self, head->buffer, head->ref, TRUE) <= 0) {
    /* Another encoding, whose queued key frame the old session has passed
     * already (it skipped a frame): switching now would lose frames. */
    wait_for_pending_key_frame (self, pending);
    head_reached = FALSE;
  }
  if (head_reached && pending) {
    /* The pending session has this very frame queued: switch here. */
    gst_buffer_unref (buffer);
    take_over (self);
    *switched = TRUE;
    ret = flush_queue (self, pending, hold_ended);
    gst_object_unref (pending);
    return ret;
  }
  if (pending)
    gst_object_unref (pending);

  ret = push_real (self, pad, buffer, ref, hold_ended);

  /* Queued frames up to what was just shown are no longer needed. */
  g_mutex_lock (&self->lock);
  while ((head = g_queue_peek_head (&self->queue))
      && compare_with_last (self, head->buffer, head->ref, TRUE) <= 0)
    queued_frame_free (g_queue_pop_head (&self->queue));
  g_mutex_unlock (&self->lock);
  return ret;
}

static GstClockTime
to_running_time (const GstSegment * segment, GstClockTime ts)
{
  if (!GST_CLOCK_TIME_IS_VALID (ts) || !segment
      || segment->format != GST_FORMAT_TIME)
    return ts;
  return gst_segment_to_running_time (segment, GST_FORMAT_TIME, ts);
}

/* Turns the buffer's timestamps into running time (of its own pad). */
static GstBuffer *
buffer_to_running_time (GstPad * pad, GstBuffer * buffer)
{
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *segment = NULL;

  if (event)
    gst_event_parse_segment (event, &segment);
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_PTS (buffer) = to_running_time (segment, GST_BUFFER_PTS (buffer));
  GST_BUFFER_DTS (buffer) = to_running_time (segment, GST_BUFFER_DTS (buffer));
  if (event)
    gst_event_unref (event);
  return buffer;
}

static GstFlowReturn
gst_whep_switch_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  gboolean is_active, is_pending, frozen, switched = FALSE, hold_ended = FALSE;
  GstClockTime ref, now = timer_now (self);
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  if (self->ended) {
    /* The stream has ended (EOS sent): sessions still closing are not
     * told to stop with GST_FLOW_EOS, which their elements would act on. */
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  is_active = self->active == pad;
  is_pending = self->pending == pad;
  frozen = self->freeze_active;
  if (is_pending)
    self->pending_last = now;
  /* The new session lagged, and has delivered nothing since: it may never
   * catch up (a decoder waiting for a key frame, a stalled transport), and
   * the old one must not stay frozen.  Frozen by a session that still
   * delivers, the takeover gives in on its next frame instead. */
  if (is_active && frozen
      && elapsed (self->freeze_start, now) > (GstClockTimeDiff) MAX_FROZEN
      && elapsed (self->pending_last, now) > (GstClockTimeDiff) MAX_FROZEN) {
    GST_INFO_OBJECT (self, "pending input silent for %" GST_STIME_FORMAT
        ": the active one goes on",
        GST_STIME_ARGS (elapsed (self->pending_last, now)));
    self->freeze_active = frozen = FALSE;
    self->behind = 0;
  }
  g_mutex_unlock (&self->lock);

  /* A standby session keeps decoding so that it is ready at once; and a
   * live source produces nothing while paused (sessions keep running so
   * that they stay alive). */
  if ((!is_active && !is_pending) || GST_STATE (self) != GST_STATE_PLAYING
      || (is_active && frozen)) {
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }

  buffer = buffer_to_running_time (pad, buffer);
  ref = buffer_reference (self, buffer);

  GST_PAD_STREAM_LOCK (self->srcpad);
  /* Re-check: a takeover may have happened while we waited. */
  g_mutex_lock (&self->lock);
  is_active = self->active == pad;
  is_pending = self->pending == pad;
  g_mutex_unlock (&self->lock);

  if (is_pending)
    ret = handle_pending_buffer (self, pad, buffer, ref, &switched,
        &hold_ended);
  else if (is_active && self->pending)
    ret = handle_active_buffer_during_takeover (self, pad, buffer, ref,
        &switched, &hold_ended);
  else if (is_active && already_shown (self, buffer)) {
    gst_buffer_unref (buffer);
    ret = GST_FLOW_OK;
  } else if (is_active)
    ret = push_real (self, pad, buffer, ref, &hold_ended);
  else {
    gst_buffer_unref (buffer);
    ret = GST_FLOW_OK;
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  if (switched) {
    /* The pad that took over: not necessarily this one (a takeover from
     * the queue happens on the old pad's buffer). */
    GstPad *now_active = dup_active (self);
    if (now_active) {
      g_signal_emit (self, signals[SIGNAL_SWITCHED], 0, now_active);
      gst_object_unref (now_active);
    }
  }
  if (hold_ended)
    g_signal_emit (self, signals[SIGNAL_HOLDING], 0, FALSE);

  /* Downstream flow problems are downstream's; a session must never be
   * stopped by "not-linked" while the application relinks. */
  if (ret == GST_FLOW_NOT_LINKED)
    ret = GST_FLOW_OK;
  return ret;
}

/* --- hold --- */

static GstBuffer *
make_silence (GstWhepSwitch * self, GstBuffer * model)
{
  gsize size = gst_buffer_get_size (model);
  GstBuffer *silence = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;

  gst_buffer_map (silence, &map, GST_MAP_WRITE);
  if (self->audio_info.finfo)
    gst_audio_format_info_fill_silence (self->audio_info.finfo, map.data,
        map.size);
  else
    memset (map.data, 0, map.size);
  gst_buffer_unmap (silence, &map);
  GST_BUFFER_DURATION (silence) = GST_BUFFER_DURATION (model);
  return silence;
}

/* Pushes one repeated frame (or silence, or a GAP).  Called with the
 * stream lock; returns TRUE when a hold began. */
static gboolean
push_hold_item (GstWhepSwitch * self)
{
  GstClockTime duration, pts, now;
  gboolean began = FALSE, gap_mode;
  GstBuffer *item = NULL;

  if (self->held_old) {
    gboolean ended = FALSE;

    release_held_old (self, &ended);
    return FALSE;
  }
  if (!self->last_buffer || !self->sent_segment || self->ended)
    return FALSE;

  duration = (self->is_audio && GST_BUFFER_DURATION_IS_VALID
      (self->last_buffer)) ? GST_BUFFER_DURATION (self->last_buffer) :
      self->frame_duration;
  pts = GST_CLOCK_TIME_IS_VALID (self->last_out_pts) ?
      self->last_out_pts + duration : GST_CLOCK_TIME_NONE;

  now = timer_now (self);
  g_mutex_lock (&self->lock);
  gap_mode = self->gap_mode || self->encoded;
  if (!self->holding) {
    self->holding = TRUE;
    self->hold_start = now;
    self->holds++;
    began = TRUE;
  }
  self->held_frames++;
  g_mutex_unlock (&self->lock);

  self->last_out_pts = pts;
  if (gap_mode) {
    gst_pad_push_event (self->srcpad, gst_event_new_gap (pts, duration));
    return began;
  }
  if (self->is_audio)
    item = make_silence (self, self->last_buffer);
  else
    item = gst_buffer_copy (self->last_buffer);
  GST_BUFFER_PTS (item) = pts;
  GST_BUFFER_DTS (item) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (item) = duration;
  gst_pad_push (self->srcpad, item);
  return began;
}

static gpointer
hold_thread_main (gpointer data)
{
  GstWhepSwitch *self = data;

  for (;;) {
    GstClockTime interval, last, now;
    GstClockID id;
    gboolean running, began;

    g_mutex_lock (&self->lock);
    interval = self->hold_interval;
    g_mutex_unlock (&self->lock);
    id = gst_clock_new_single_shot_id (self->timer_clock,
        timer_now (self) + interval);
    g_mutex_lock (&self->lock);
    running = self->hold_running;
    if (running)
      self->hold_wait = id;
    g_mutex_unlock (&self->lock);
    if (running)
      gst_clock_id_wait (id, NULL);

    g_mutex_lock (&self->lock);
    self->hold_wait = NULL;
    running = self->hold_running;
    last = self->last_input;
    g_mutex_unlock (&self->lock);
    gst_clock_id_unref (id);
    if (!running)
      break;

    /* With or without an active pad: whepsrc releases a lost session's
     * pads at once, and the output holds until the next one delivers. */
    now = timer_now (self);
    if (!GST_CLOCK_TIME_IS_VALID (last)
        || elapsed (last, now) < (GstClockTimeDiff) HOLD_AFTER
        || GST_STATE (self) != GST_STATE_PLAYING)
      continue;

    GST_PAD_STREAM_LOCK (self->srcpad);
    began = push_hold_item (self);
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    if (began) {
      GST_INFO_OBJECT (self, "input silent for %" G_GUINT64_FORMAT " ms: "
          "holding the last %s", GST_TIME_AS_MSECONDS (now - last),
          self->is_audio ? "sample (silence)" : "frame");
      g_signal_emit (self, signals[SIGNAL_HOLDING], 0, TRUE);
    }
  }
  return NULL;
}

/* --- events and queries --- */

static gboolean
gst_whep_switch_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  g_autoptr (GstPad) active = dup_active (self);
  gboolean is_active = active == pad;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_CAPS:
      /* Returning TRUE keeps them sticky on the sink pad, where
       * prepare_output() and the chain function read them; our own
       * stream-start and segment are made once. */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_SEGMENT_DONE:
    case GST_EVENT_GAP:
      /* A session ending, flushing or idling is not the stream's business:
       * the hold covers silence. */
      GST_DEBUG_OBJECT (pad, "dropping %s from a session",
          GST_EVENT_TYPE_NAME (event));
      gst_event_unref (event);
      return TRUE;
    default:
      break;
  }

  if (!is_active || !GST_EVENT_IS_DOWNSTREAM (event)) {
    gst_event_unref (event);
    return TRUE;
  }
  if (GST_EVENT_IS_SERIALIZED (event)) {
    gboolean ret;
    GST_PAD_STREAM_LOCK (self->srcpad);
    prepare_output (self, pad);
    ret = gst_pad_push_event (self->srcpad, event);
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    return ret;
  }
  return gst_pad_push_event (self->srcpad, event);
}

static gboolean
gst_whep_switch_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_ALLOCATION:
      /* Decoders keep their own pools: a standby session must not take
       * buffers from downstream's pool while another session uses it, and
       * a held frame must stay valid. */
      return FALSE;
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      /* Negotiate every session against downstream, so that a switch does
       * not bring caps downstream cannot take. */
      return gst_pad_peer_query (self->srcpad, query)
          || gst_pad_query_default (pad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_whep_switch_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  g_autoptr (GstPad) active = dup_active (self);

  /* QoS, key-frame requests, reconfigure: for the session on air. */
  if (!active) {
    gst_event_unref (event);
    return FALSE;
  }
  return gst_pad_push_event (active, event);
}

static gboolean
gst_whep_switch_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  g_autoptr (GstPad) active = dup_active (self);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;
      gst_query_parse_caps (query, &filter);
      caps = active ? gst_pad_get_current_caps (active) : NULL;
      if (!caps)
        caps = filter ? gst_caps_ref (filter) : gst_caps_new_any ();
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_LATENCY:
      if (active && gst_pad_peer_query (active, query))
        return TRUE;
      /* Nothing on air yet: we are live, with no latency of our own. */
      gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    default:
      if (active)
        return gst_pad_peer_query (active, query);
      return gst_pad_query_default (pad, parent, query);
  }
}

/* --- pads --- */

static GstPad *
gst_whep_switch_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (element);
  g_autofree gchar *pad_name = NULL;
  GstPad *pad;

  g_mutex_lock (&self->lock);
  pad_name = g_strdup_printf ("sink_%u", self->next_pad_id++);
  g_mutex_unlock (&self->lock);

  pad = gst_pad_new_from_template (templ, pad_name);
  gst_pad_set_chain_function (pad, gst_whep_switch_chain);
  gst_pad_set_event_function (pad, gst_whep_switch_sink_event);
  gst_pad_set_query_function (pad, gst_whep_switch_sink_query);
  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_whep_switch_release_pad (GstElement * element, GstPad * pad)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (element);

  /* Wait for a push from this pad to finish before it goes. */
  GST_PAD_STREAM_LOCK (self->srcpad);
  if (self->held_old_pad == pad)
    drop_held_old (self);
  g_mutex_lock (&self->lock);
  if (self->active == pad) {
    gst_clear_object (&self->active);
    self->freeze_active = FALSE;
  }
  if (self->pending == pad) {
    gst_clear_object (&self->pending);
    clear_queue (self);
    self->behind = 0;
    self->freeze_active = FALSE;
  }
  g_mutex_unlock (&self->lock);
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

void
gst_whep_switch_set_active_pad (GstWhepSwitch * self, GstPad * sinkpad)
{
  g_return_if_fail (GST_IS_WHEP_SWITCH (self));

  g_mutex_lock (&self->lock);
  gst_object_replace ((GstObject **) & self->active, GST_OBJECT (sinkpad));
  if (self->pending == sinkpad) {
    gst_clear_object (&self->pending);
    clear_queue (self);
  }
  self->freeze_active = FALSE;
  self->behind = 0;
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "active input: %s",
      sinkpad ? GST_PAD_NAME (sinkpad) : "none");
}

void
gst_whep_switch_set_pending_pad (GstWhepSwitch * self, GstPad * sinkpad,
    guint origin)
{
  GstClockTime now;

  g_return_if_fail (GST_IS_WHEP_SWITCH (self));

  now = timer_now (self);
  g_mutex_lock (&self->lock);
  if (self->active == sinkpad) {
    g_mutex_unlock (&self->lock);
    return;
  }
  gst_object_replace ((GstObject **) & self->pending, GST_OBJECT (sinkpad));
  self->pending_origin = origin;
  clear_queue (self);
  self->behind = 0;
  self->freeze_active = FALSE;
  self->pending_since = self->pending_last = now;
  /* The output side owns the alignment: it starts afresh there. */
  self->align_reset = TRUE;
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "pending input: %s",
      sinkpad ? GST_PAD_NAME (sinkpad) : "none");
}

void
gst_whep_switch_end_stream (GstWhepSwitch * self)
{
  gboolean ended;

  g_return_if_fail (GST_IS_WHEP_SWITCH (self));

  GST_PAD_STREAM_LOCK (self->srcpad);
  g_mutex_lock (&self->lock);
  ended = self->ended;
  self->ended = TRUE;
  g_mutex_unlock (&self->lock);
  if (!ended) {
    /* A stream that never had data still starts before it ends. */
    prepare_output (self, NULL);
    GST_INFO_OBJECT (self, "end of stream");
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
}

void
gst_whep_switch_follow (GstWhepSwitch * self, GstWhepSwitch * leader)
{
  g_return_if_fail (GST_IS_WHEP_SWITCH (self));
  g_return_if_fail (GST_IS_WHEP_SWITCH (leader) && leader != self);

  g_mutex_lock (&self->lock);
  if (self->leader == NULL)
    self->leader = gst_object_ref (leader);
  g_mutex_unlock (&self->lock);
}

gboolean
gst_whep_switch_is_active_pad (GstWhepSwitch * self, GstPad * sinkpad)
{
  gboolean active;

  g_mutex_lock (&self->lock);
  active = self->active == sinkpad;
  g_mutex_unlock (&self->lock);
  return active;
}

void
gst_whep_switch_set_gap_mode (GstWhepSwitch * self, gboolean gap)
{
  g_mutex_lock (&self->lock);
  self->gap_mode = gap;
  g_mutex_unlock (&self->lock);
}

gint64
gst_whep_switch_get_last_input_time (GstWhepSwitch * self)
{
  gint64 t;

  g_mutex_lock (&self->lock);
  t = self->last_input_us;
  g_mutex_unlock (&self->lock);
  return t;
}

guint64
gst_whep_switch_get_buffers_out (GstWhepSwitch * self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->buffers_out;
  g_mutex_unlock (&self->lock);
  return n;
}

void
gst_whep_switch_add_stats (GstWhepSwitch * self, GstStructure * s,
    const gchar * prefix)
{
  g_autofree gchar *out = g_strconcat (prefix, "buffers", NULL);
  g_autofree gchar *held = g_strconcat (prefix, "held-buffers", NULL);
  g_autofree gchar *holds = g_strconcat (prefix, "holds", NULL);
  g_autofree gchar *longest = g_strconcat (prefix, "longest-hold-ms", NULL);
  g_autofree gchar *takeovers = g_strconcat (prefix, "takeovers", NULL);
  g_autofree gchar *by_content = g_strconcat (prefix, "takeovers-by-content",
      NULL);
  g_autofree gchar *by_time = g_strconcat (prefix, "takeovers-by-time", NULL);
  g_autofree gchar *at_once = g_strconcat (prefix, "takeovers-at-once",
      NULL);
  g_autofree gchar *freezes = g_strconcat (prefix, "freezes", NULL);
  g_autofree gchar *freeze_total = g_strconcat (prefix, "freeze-total-ms",
      NULL);
  g_autofree gchar *longest_freeze = g_strconcat (prefix,
      "longest-freeze-ms", NULL);
  GstClockTime longest_hold, current = 0, now = timer_now (self);

  g_mutex_lock (&self->lock);
  longest_hold = self->longest_hold;
  if (self->holding)
    current = MAX (elapsed (self->hold_start, now), 0);
  gst_structure_set (s, out, G_TYPE_UINT64, self->buffers_out,
      held, G_TYPE_UINT64, self->held_frames,
      holds, G_TYPE_UINT64, self->holds,
      longest, G_TYPE_DOUBLE, MAX (longest_hold, current) / 1e6,
      takeovers, G_TYPE_UINT64, self->takeovers,
      by_content, G_TYPE_UINT64, self->takeovers_by[ALIGN_CONTENT],
      by_time, G_TYPE_UINT64, self->takeovers_by[ALIGN_TIME],
      at_once, G_TYPE_UINT64, self->takeovers_by[ALIGN_UNDECIDED], NULL);
  if (!self->is_audio && self->sent_caps)
    gst_structure_set (s, freezes, G_TYPE_UINT64, self->freezes,
        freeze_total, G_TYPE_DOUBLE, self->freeze_total / 1e6,
        longest_freeze, G_TYPE_DOUBLE, self->longest_freeze / 1e6, NULL);
  g_mutex_unlock (&self->lock);
}

void
gst_whep_switch_set_timer_clock (GstWhepSwitch * self, GstClock * clock)
{
  g_return_if_fail (GST_IS_WHEP_SWITCH (self));
  g_return_if_fail (GST_IS_CLOCK (clock));
  /* The hold thread and the streaming threads read it without a lock. */
  g_return_if_fail (GST_STATE (self) == GST_STATE_NULL);

  gst_object_replace ((GstObject **) & self->timer_clock, GST_OBJECT (clock));
}

GstElement *
gst_whep_switch_new (const gchar * name, const gchar * stream_id)
{
  GstWhepSwitch *self = g_object_new (GST_TYPE_WHEP_SWITCH, "name", name,
      NULL);

  self->stream_id = g_strdup (stream_id);
  return GST_ELEMENT (self);
}

/* --- state --- */

static void
start_hold_thread (GstWhepSwitch * self)
{
  g_mutex_lock (&self->lock);
  self->hold_running = TRUE;
  self->hold_thread = g_thread_new ("whep-hold", hold_thread_main, self);
  g_mutex_unlock (&self->lock);
}

static void
stop_hold_thread (GstWhepSwitch * self)
{
  GThread *thread;
  GstClockID wait;

  g_mutex_lock (&self->lock);
  self->hold_running = FALSE;
  thread = g_steal_pointer (&self->hold_thread);
  wait = self->hold_wait ? gst_clock_id_ref (self->hold_wait) : NULL;
  g_mutex_unlock (&self->lock);
  /* A wait that has not begun yet returns at once once unscheduled; one
   * made after this sees hold_running FALSE first. */
  if (wait) {
    gst_clock_id_unschedule (wait);
    gst_clock_id_unref (wait);
  }
  if (thread)
    g_thread_join (thread);
}

static GstStateChangeReturn
gst_whep_switch_change_state (GstElement * element, GstStateChange transition)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    start_hold_thread (self);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    stop_hold_thread (self);

  ret = GST_ELEMENT_CLASS (gst_whep_switch_parent_class)->change_state
      (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* The pads are inactive now: nobody pushes. */
    self->sent_stream_start = FALSE;
    self->sent_segment = FALSE;
    gst_caps_replace (&self->sent_caps, NULL);
    gst_buffer_replace (&self->last_buffer, NULL);
    self->last_out_pts = GST_CLOCK_TIME_NONE;
    self->last_real_pts = GST_CLOCK_TIME_NONE;
    self->last_out_ref = GST_CLOCK_TIME_NONE;
    self->holding = FALSE;
    self->retime_next = FALSE;
    self->audio_offset = 0;
    self->need_key = TRUE;
    self->pending_keyed = FALSE;
    drop_held_old (self);
    self->audio_step = GST_CLOCK_TIME_NONE;
    self->audio_step_pad = NULL;
    self->audio_step_last_pts = GST_CLOCK_TIME_NONE;
    g_mutex_lock (&self->lock);
    self->ended = FALSE;
    self->last_input_us = 0;
    self->last_input = GST_CLOCK_TIME_NONE;
    clear_queue (self);
    g_mutex_unlock (&self->lock);
  }
  return ret;
}

static void
gst_whep_switch_finalize (GObject * object)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (object);

  stop_hold_thread (self);
  gst_clear_object (&self->active);
  gst_clear_object (&self->pending);
  drop_held_old (self);
  clear_queue (self);
  gst_caps_replace (&self->sent_caps, NULL);
  gst_caps_replace (&self->ntp_caps, NULL);
  gst_buffer_replace (&self->last_buffer, NULL);
  gst_clear_object (&self->timer_clock);
  gst_clear_object (&self->leader);
  g_free (self->stream_id);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (gst_whep_switch_parent_class)->finalize (object);
}

static void
gst_whep_switch_init (GstWhepSwitch * self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->queue);
  self->ntp_caps = gst_caps_new_empty_simple ("timestamp/x-ntp");
  /* A clock of our own: the shared system clock's type is the
   * application's to change. */
  self->timer_clock = g_object_new (GST_TYPE_SYSTEM_CLOCK, "name",
      "whep-switch-timer", "clock-type", GST_CLOCK_TYPE_MONOTONIC, NULL);
  gst_object_ref_sink (self->timer_clock);
  self->last_input = GST_CLOCK_TIME_NONE;
  self->skip_until = GST_CLOCK_TIME_NONE;
  self->frame_duration = DEFAULT_FRAME_DURATION;
  self->last_out_pts = GST_CLOCK_TIME_NONE;
  self->last_real_pts = GST_CLOCK_TIME_NONE;
  self->last_out_ref = GST_CLOCK_TIME_NONE;
  self->hold_interval = DEFAULT_FRAME_DURATION;
  self->need_key = TRUE;
  self->audio_step = GST_CLOCK_TIME_NONE;
  self->audio_step_last_pts = GST_CLOCK_TIME_NONE;
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad, gst_whep_switch_src_event);
  gst_pad_set_query_function (self->srcpad, gst_whep_switch_src_query);
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

static void
gst_whep_switch_class_init (GstWhepSwitchClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_whep_switch_finalize;
  element_class->request_new_pad = gst_whep_switch_request_new_pad;
  element_class->release_pad = gst_whep_switch_release_pad;
  element_class->change_state = gst_whep_switch_change_state;

  /* switched (pad): @pad took over the output.  Emitted on a streaming
   * thread, no lock held. */
  signals[SIGNAL_SWITCHED] = g_signal_new ("switched",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_TYPE_PAD);
  /* holding (gboolean): the output began (TRUE) or stopped (FALSE)
   * repeating the last frame.  Emitted on a streaming or the hold thread. */
  signals[SIGNAL_HOLDING] = g_signal_new ("holding",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "WHEP output switch", "Generic",
      "Keeps whepsrc's output continuous across sessions (internal)",
      "whepsrc developers");

  GST_DEBUG_CATEGORY_INIT (whep_switch_debug, "whepswitch", 0,
      "whepsrc output switch");
}
