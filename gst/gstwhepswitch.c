/* whepsrc — the output switch (see gstwhepswitch.h).
 *
 * Threads: each sink pad is pushed by its session's streaming thread; the
 * src pad is pushed from whichever of them is active, one at a time: the
 * src pad's stream lock serialises them (taken around every push).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepswitch.h"

GST_DEBUG_CATEGORY_STATIC (whep_switch_debug);
#define GST_CAT_DEFAULT whep_switch_debug

struct _GstWhepSwitch
{
  GstElement parent;

  GstPad *srcpad;
  gchar *stream_id;             /* immutable */

  /* Protected by the object lock.  Never held while pushing, sending
   * events or querying: take it, copy what is needed, drop it. */
  GstPad *active;               /* ref held; one of our sink pads, or NULL */
  guint next_pad_id;

  /* Protected by the src pad's stream lock (only the pushing thread
   * touches them). */
  gboolean sent_stream_start;
  gboolean sent_segment;
  GstCaps *sent_caps;
  GstPad *last_input;           /* the sink pad that pushed last (no ref) */
  guint64 buffers_out;
};

G_DEFINE_TYPE (GstWhepSwitch, gst_whep_switch, GST_TYPE_ELEMENT);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static gboolean
pad_is_active (GstWhepSwitch * self, GstPad * pad)
{
  gboolean active;

  GST_OBJECT_LOCK (self);
  active = self->active == pad;
  GST_OBJECT_UNLOCK (self);
  return active;
}

static GstPad *
dup_active (GstWhepSwitch * self)
{
  GstPad *pad;

  GST_OBJECT_LOCK (self);
  pad = self->active ? gst_object_ref (self->active) : NULL;
  GST_OBJECT_UNLOCK (self);
  return pad;
}

/* Sends stream-start, caps and segment as needed before data from
 * @sinkpad.  Called with the src stream lock. */
static void
prepare_output (GstWhepSwitch * self, GstPad * sinkpad)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (sinkpad);

  if (!self->sent_stream_start) {
    GstEvent *event = gst_event_new_stream_start (self->stream_id);
    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (self->srcpad, event);
    self->sent_stream_start = TRUE;
  }

  if (caps && (!self->sent_caps || !gst_caps_is_equal (caps,
              self->sent_caps))) {
    GST_INFO_OBJECT (self, "caps from %s: %" GST_PTR_FORMAT,
        GST_PAD_NAME (sinkpad), caps);
    gst_caps_replace (&self->sent_caps, caps);
    gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  }

  if (!self->sent_segment) {
    /* Our timestamps are running times: one segment for the whole life. */
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
    self->sent_segment = TRUE;
  }

  if (self->last_input != sinkpad) {
    if (self->last_input)
      GST_INFO_OBJECT (self, "output switched from %s to %s",
          GST_PAD_NAME (self->last_input), GST_PAD_NAME (sinkpad));
    self->last_input = sinkpad;
  }
}

static GstClockTime
to_running_time (const GstSegment * segment, GstClockTime ts)
{
  if (!GST_CLOCK_TIME_IS_VALID (ts) || !segment
      || segment->format != GST_FORMAT_TIME)
    return ts;
  return gst_segment_to_running_time (segment, GST_FORMAT_TIME, ts);
}

static const GstSegment *
pad_segment (GstPad * pad, GstEvent ** holder)
{
  const GstSegment *segment = NULL;

  *holder = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (*holder)
    gst_event_parse_segment (*holder, &segment);
  return segment;
}

static GstFlowReturn
gst_whep_switch_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  GstEvent *segment_event = NULL;
  const GstSegment *segment;
  GstFlowReturn ret;

  if (!pad_is_active (self, pad) || GST_STATE (self) != GST_STATE_PLAYING) {
    /* A standby session keeps decoding so that it is ready at once; and a
     * live source produces nothing while paused (sessions keep running so
     * that they stay alive). */
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }

  segment = pad_segment (pad, &segment_event);
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_PTS (buffer) = to_running_time (segment, GST_BUFFER_PTS (buffer));
  GST_BUFFER_DTS (buffer) = to_running_time (segment, GST_BUFFER_DTS (buffer));
  if (segment_event)
    gst_event_unref (segment_event);

  GST_PAD_STREAM_LOCK (self->srcpad);
  prepare_output (self, pad);
  self->buffers_out++;
  ret = gst_pad_push (self->srcpad, buffer);
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  /* Downstream flow problems are downstream's; a session must never be
   * stopped by "not-linked" while the application relinks. */
  if (ret == GST_FLOW_NOT_LINKED)
    ret = GST_FLOW_OK;
  return ret;
}

static gboolean
gst_whep_switch_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (parent);
  gboolean active = pad_is_active (self, pad);

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
      GST_DEBUG_OBJECT (pad, "dropping %s from a session",
          GST_EVENT_TYPE_NAME (event));
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_GAP:{
      GstClockTime ts, duration;
      GstEvent *segment_event = NULL;
      const GstSegment *segment;
      gboolean ret;

      if (!active) {
        gst_event_unref (event);
        return TRUE;
      }
      gst_event_parse_gap (event, &ts, &duration);
      segment = pad_segment (pad, &segment_event);
      ts = to_running_time (segment, ts);
      if (segment_event)
        gst_event_unref (segment_event);
      gst_event_unref (event);
      GST_PAD_STREAM_LOCK (self->srcpad);
      prepare_output (self, pad);
      ret = gst_pad_push_event (self->srcpad, gst_event_new_gap (ts,
              duration));
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      return ret;
    }
    default:
      break;
  }

  if (!active || !GST_EVENT_IS_DOWNSTREAM (event)) {
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
       * buffers from downstream's pool while another session uses it. */
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

static GstPad *
gst_whep_switch_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (element);
  g_autofree gchar *pad_name = NULL;
  GstPad *pad;

  GST_OBJECT_LOCK (self);
  pad_name = g_strdup_printf ("sink_%u", self->next_pad_id++);
  GST_OBJECT_UNLOCK (self);

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

  GST_OBJECT_LOCK (self);
  if (self->active == pad)
    gst_clear_object (&self->active);
  GST_OBJECT_UNLOCK (self);

  /* Wait for a push from this pad to finish before it goes. */
  GST_PAD_STREAM_LOCK (self->srcpad);
  if (self->last_input == pad)
    self->last_input = NULL;
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

void
gst_whep_switch_set_active_pad (GstWhepSwitch * self, GstPad * sinkpad)
{
  g_return_if_fail (GST_IS_WHEP_SWITCH (self));
  g_return_if_fail (sinkpad == NULL
      || GST_OBJECT_PARENT (sinkpad) == GST_OBJECT (self));

  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->active, GST_OBJECT (sinkpad));
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "active input: %s",
      sinkpad ? GST_PAD_NAME (sinkpad) : "none");
}

guint64
gst_whep_switch_get_buffers_out (GstWhepSwitch * self)
{
  guint64 n;

  GST_PAD_STREAM_LOCK (self->srcpad);
  n = self->buffers_out;
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  return n;
}

GstElement *
gst_whep_switch_new (const gchar * name, const gchar * stream_id)
{
  GstWhepSwitch *self = g_object_new (GST_TYPE_WHEP_SWITCH, "name", name,
      NULL);

  self->stream_id = g_strdup (stream_id);
  return GST_ELEMENT (self);
}

static GstStateChangeReturn
gst_whep_switch_change_state (GstElement * element, GstStateChange transition)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (element);
  GstStateChangeReturn ret;

  ret = GST_ELEMENT_CLASS (gst_whep_switch_parent_class)->change_state
      (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* The pads are inactive now: nobody pushes. */
    self->sent_stream_start = FALSE;
    self->sent_segment = FALSE;
    gst_caps_replace (&self->sent_caps, NULL);
    self->last_input = NULL;
  }
  return ret;
}

static void
gst_whep_switch_finalize (GObject * object)
{
  GstWhepSwitch *self = GST_WHEP_SWITCH (object);

  gst_clear_object (&self->active);
  gst_caps_replace (&self->sent_caps, NULL);
  g_free (self->stream_id);
  G_OBJECT_CLASS (gst_whep_switch_parent_class)->finalize (object);
}

static void
gst_whep_switch_init (GstWhepSwitch * self)
{
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

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "WHEP output switch", "Generic",
      "Keeps whepsrc's output continuous across sessions (internal)",
      "whepsrc developers");

  GST_DEBUG_CATEGORY_INIT (whep_switch_debug, "whepswitch", 0,
      "whepsrc output switch");
}
