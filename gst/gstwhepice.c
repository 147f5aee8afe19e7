/* whepsrc — a session's ICE conversation over PATCH (see gstwhepice.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepice.h"
#include "gstwhepsdp.h"
#include "gstwheputils.h"

#include <string.h>
#include <agent.h>

GST_DEBUG_CATEGORY_STATIC (whep_ice_debug);
#define GST_CAT_DEFAULT whep_ice_debug

#define SDPFRAG_TYPE "application/trickle-ice-sdpfrag"
/* libnice numbers a component's streams from 1; with max-bundle webrtcbin
 * makes one, but a restart covers every stream the agent has. */
#define MAX_NICE_STREAMS 8

struct _GstWhepIce
{
  GstObject parent;

  /* Immutable after new(). */
  GstWhepClient *client;        /* ref held */
  GCancellable *cancellable;
  GWeakRef owner;               /* the session: never a raw pointer, a
                                 * completion may outlive it */
  GstWhepIceListener listener;

  /* Protected by lock, a leaf: never held while calling the client,
   * webrtcbin, libnice or the listener. */
  GMutex lock;
  GstElement *webrtcbin;        /* ref held */
  gboolean closed;
  gboolean trickle;             /* PATCH local candidates */
  gchar *ufrag;                 /* of our offer, then of our last restart */
  gchar *pwd;                   /* a secret: never logged */
  gchar *mid;                   /* the bundle's first m-line */
  GPtrArray *pending;           /* "candidate:…" not yet PATCHed */
  gboolean end_pending;         /* end-of-candidates not yet PATCHed */
  gboolean patch_in_flight;     /* one trickle PATCH at a time */
  gchar *resource_url;          /* NULL until the 201 */
  gchar *etag;                  /* latest ETag, or NULL */
  guint trickled;               /* candidates PATCHed */
  guint restart_generation;     /* answers to older restarts are ignored */
};

G_DEFINE_TYPE (GstWhepIce, gst_whep_ice, GST_TYPE_OBJECT);

/* Tells the owner, if it still exists. */
static void
notify (GstWhepIce * self, GstWhepIceEvent event, guint status,
    const gchar * detail)
{
  GstObject *owner = g_weak_ref_get (&self->owner);

  if (!owner) {
    GST_DEBUG_OBJECT (self, "event %d after the session's end: dropped", event);
    return;
  }
  if (self->listener)
    self->listener (self, owner, event, status, detail);
  gst_object_unref (owner);
}

static const gchar *
strip_attribute_prefix (const gchar * candidate)
{
  return g_str_has_prefix (candidate, "a=") ? candidate + 2 : candidate;
}

/* --- trickle --- */

static void flush_trickle (GstWhepIce * self);

/* A 4xx (405 and 501 above all) says this server does not take trickle
 * PATCHes; a 5xx or a transport error only that this one failed. */
static gboolean
status_refuses_patch (guint status)
{
  return status == 501 || (status >= 400 && status < 500);
}

static void
on_trickle_patched (GObject * source, GAsyncResult * result, gpointer data)
{
  g_autoptr (GstWhepIce) self = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);
  g_autofree gchar *detail = NULL;
  gboolean refused;

  g_mutex_lock (&self->lock);
  self->patch_in_flight = FALSE;
  if (self->closed) {
    g_mutex_unlock (&self->lock);
    return;
  }
  if (resp && resp->status >= 200 && resp->status < 300) {
    /* Trickle answers carry no ETag (WHEP); a server that sends one
     * anyway expects it back. */
    if (resp->etag) {
      g_free (self->etag);
      self->etag = g_strdup (resp->etag);
    }
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "trickle PATCH answered %u", resp->status);
    flush_trickle (self);
    return;
  }

  self->trickle = FALSE;
  g_ptr_array_set_size (self->pending, 0);
  g_mutex_unlock (&self->lock);

  refused = resp && status_refuses_patch (resp->status);
  detail = resp ? g_strdup_printf ("trickle PATCH answered %u %s%s%s",
      resp->status, GST_STR_NULL (resp->reason),
      resp->error_summary ? ": " : "", resp->error_summary ?
      resp->error_summary : "") : g_strdup_printf ("trickle PATCH failed: %s",
      err ? err->message : "no answer");
  if (err && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  GST_INFO_OBJECT (self, "%s: no more trickling in this session", detail);
  if (refused)
    notify (self, GST_WHEP_ICE_EVENT_TRICKLE_REFUSED, resp->status, detail);
}

/* Sends what is buffered, in one aggregated fragment (WHEP: SHOULD), once
 * the resource exists and no other trickle PATCH is under way. */
static void
flush_trickle (GstWhepIce * self)
{
  g_autoptr (GstWhepSdpFrag) frag = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *etag = NULL;
  GstObject *owner;
  guint n;

  g_mutex_lock (&self->lock);
  if (self->closed || !self->trickle || self->patch_in_flight
      || !self->resource_url || (!self->pending->len && !self->end_pending)) {
    g_mutex_unlock (&self->lock);
    return;
  }
  frag = gst_whep_sdp_frag_new ();
  frag->ice_ufrag = g_strdup (self->ufrag);
  frag->ice_pwd = g_strdup (self->pwd);
  frag->mid = g_strdup (self->mid);
  n = self->pending->len;
  g_ptr_array_extend_and_steal (frag->candidates,
      g_steal_pointer (&self->pending));
  self->pending = g_ptr_array_new_with_free_func (g_free);
  frag->end_of_candidates = self->end_pending;
  self->end_pending = FALSE;
  self->patch_in_flight = TRUE;
  self->trickled += n;
  url = g_strdup (self->resource_url);
  etag = g_strdup (self->etag);
  g_mutex_unlock (&self->lock);

  body = gst_whep_sdp_frag_to_string (frag);
  /* Never the fragment: it carries the ICE password. */
  GST_DEBUG_OBJECT (self, "trickling %u candidate(s)%s", n,
      frag->end_of_candidates ? " and end-of-candidates" : "");
  owner = g_weak_ref_get (&self->owner);
  gst_whep_client_patch_async (self->client, owner, url, SDPFRAG_TYPE, body,
      etag, self->cancellable, on_trickle_patched, gst_object_ref (self));
  gst_clear_object (&owner);
}

/* --- ICE restart --- */

static NiceAgent *
dup_nice_agent (GstElement * webrtcbin)
{
  g_autoptr (GObject) ice = NULL;
  GObject *agent = NULL;

  g_object_get (webrtcbin, "ice-agent", &ice, NULL);
  if (!ice || !g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    return NULL;
  g_object_get (ice, "agent", &agent, NULL);
  return agent ? NICE_AGENT (agent) : NULL;
}

/* Streams the agent has.  libnice has no list, and its credential getter
 * answers even for a stream it does not have: a stream exists when it
 * has local candidates (webrtcbin gathered before anything is restarted). */
static GArray *
nice_streams (NiceAgent * agent)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));
  guint id;

  for (id = 1; id <= MAX_NICE_STREAMS; id++) {
    GSList *locals = nice_agent_get_local_candidates (agent, id, 1);

    if (locals)
      g_array_append_val (ids, id);
    g_slist_free_full (locals, (GDestroyNotify) nice_candidate_free);
  }
  return ids;
}

typedef struct
{
  GstWhepIce *ice;
  guint generation;
} RestartCall;

static void
restart_call_free (RestartCall * call)
{
  gst_object_unref (call->ice);
  g_free (call);
}

/* The server's new credentials and candidates replace the old ones on
 * every stream (WHEP: both sides MUST replace the remote candidates). */
static guint
apply_remote_restart (GstWhepIce * self, NiceAgent * agent,
    const GstWhepSdpFrag * frag)
{
  g_autoptr (GArray) streams = nice_streams (agent);
  guint s, i, applied = 0;

  for (s = 0; s < streams->len; s++) {
    guint id = g_array_index (streams, guint, s);
    GSList *candidates = NULL;

    nice_agent_set_remote_credentials (agent, id, frag->ice_ufrag,
        frag->ice_pwd);
    for (i = 0; i < frag->candidates->len; i++) {
      g_autofree gchar *line = g_strdup_printf ("a=%s",
          strip_attribute_prefix (g_ptr_array_index (frag->candidates, i)));
      NiceCandidate *c = nice_agent_parse_remote_candidate_sdp (agent, id,
          line);

      if (c)
        candidates = g_slist_prepend (candidates, c);
      else
        GST_DEBUG_OBJECT (self, "libnice cannot use candidate %s", line);
    }
    if (candidates) {
      gint n = nice_agent_set_remote_candidates (agent, id, 1, candidates);
      applied += MAX (n, 0);
    }
    g_slist_free_full (candidates, (GDestroyNotify) nice_candidate_free);
  }
  return applied;
}

static gchar *
restart_failure (const GstWhepResponse * resp, const GError * err)
{
  if (!resp)
    return g_strdup_printf ("ICE restart PATCH failed: %s",
        err ? err->message : "no answer");
  return g_strdup_printf ("ICE restart PATCH answered %u %s%s%s",
      resp->status, GST_STR_NULL (resp->reason),
      resp->error_summary ? ": " : "", resp->error_summary ?
      resp->error_summary : "");
}

static void
on_restart_patched (GObject * source, GAsyncResult * result, gpointer data)
{
  RestartCall *call = data;
  GstWhepIce *self = call->ice;
  g_autoptr (GError) err = NULL;
  g_autoptr (GstWhepResponse) resp =
      gst_whep_client_request_finish (GST_WHEP_CLIENT (source), result, &err);
  g_autoptr (GstWhepSdpFrag) frag = NULL;
  g_autoptr (GstElement) webrtcbin = NULL;
  g_autoptr (GObject) agent_ref = NULL;
  NiceAgent *agent;
  g_autofree gchar *detail = NULL;
  gboolean current;
  guint applied;

  g_mutex_lock (&self->lock);
  current = !self->closed && call->generation == self->restart_generation;
  if (current && self->webrtcbin)
    webrtcbin = gst_object_ref (self->webrtcbin);
  g_mutex_unlock (&self->lock);
  /* WHEP: answers to earlier restarts are ignored. */
  if (!current || !webrtcbin)
    goto done;

  if (!resp || resp->status != 200) {
    detail = restart_failure (resp, err);
    if (!(err && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
      notify (self, GST_WHEP_ICE_EVENT_RESTART_REFUSED, resp ? resp->status :
          0, detail);
    goto done;
  }
  frag = gst_whep_sdp_frag_parse (resp->body, NULL);
  if (!frag || !frag->ice_ufrag || !frag->ice_pwd) {
    notify (self, GST_WHEP_ICE_EVENT_RESTART_REFUSED, resp->status,
        "the answer to the ICE restart PATCH holds no ICE credentials");
    goto done;
  }
  agent_ref = (GObject *) dup_nice_agent (webrtcbin);
  agent = (NiceAgent *) agent_ref;
  if (!agent)
    goto done;

  applied = apply_remote_restart (self, agent, frag);
  g_mutex_lock (&self->lock);
  if (resp->etag) {
    g_free (self->etag);
    self->etag = g_strdup (resp->etag);
  }
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "ICE restart answered: %u remote candidate(s), "
      "ETag %s", applied, GST_STR_NULL (resp->etag));
  notify (self, GST_WHEP_ICE_EVENT_RESTART_ANSWERED, resp->status, NULL);

done:
  restart_call_free (call);
}

/* New credentials on every stream; returns our fragment (candidates
 * gathered before stay valid: a restart keeps the local candidates). */
static GstWhepSdpFrag *
restart_local (GstWhepIce * self, NiceAgent * agent)
{
  g_autoptr (GArray) streams = nice_streams (agent);
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_new ();
  guint s;

  for (s = 0; s < streams->len; s++) {
    guint id = g_array_index (streams, guint, s);
    GSList *locals, *l;

    if (!nice_agent_restart_stream (agent, id)) {
      GST_WARNING_OBJECT (self, "libnice cannot restart stream %u", id);
      return NULL;
    }
    if (!frag->ice_ufrag)
      nice_agent_get_local_credentials (agent, id, &frag->ice_ufrag,
          &frag->ice_pwd);
    locals = nice_agent_get_local_candidates (agent, id, 1);
    for (l = locals; l; l = l->next) {
      gchar *sdp = nice_agent_generate_local_candidate_sdp (agent, l->data);

      if (sdp)
        g_ptr_array_add (frag->candidates,
            g_strdup (strip_attribute_prefix (sdp)));
      g_free (sdp);
    }
    g_slist_free_full (locals, (GDestroyNotify) nice_candidate_free);
  }
  if (!frag->ice_ufrag) {
    GST_WARNING_OBJECT (self, "libnice has no ICE stream to restart (%u "
        "probed)", streams->len);
    return NULL;
  }
  frag->end_of_candidates = TRUE;
  return g_steal_pointer (&frag);
}

gboolean
gst_whep_ice_restart (GstWhepIce * self)
{
  g_autoptr (GstElement) webrtcbin = NULL;
  g_autoptr (GObject) agent_ref = NULL;
  NiceAgent *agent;
  g_autoptr (GstWhepSdpFrag) frag = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *body = NULL;
  GstObject *owner;
  RestartCall *call;

  g_return_val_if_fail (GST_IS_WHEP_ICE (self), FALSE);

  g_mutex_lock (&self->lock);
  if (!self->closed && self->resource_url && self->webrtcbin) {
    webrtcbin = gst_object_ref (self->webrtcbin);
    url = g_strdup (self->resource_url);
  }
  g_mutex_unlock (&self->lock);
  if (webrtcbin)
    agent_ref = (GObject *) dup_nice_agent (webrtcbin);
  agent = (NiceAgent *) agent_ref;
  if (!agent)
    return FALSE;

  frag = restart_local (self, agent);
  if (!frag) {
    GST_WARNING_OBJECT (self, "libnice could not restart the ICE stream");
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  frag->mid = g_strdup (self->mid);
  g_free (self->ufrag);
  self->ufrag = g_strdup (frag->ice_ufrag);
  g_free (self->pwd);
  self->pwd = g_strdup (frag->ice_pwd);
  /* Trickling is over once a restart is made: every candidate is in it. */
  g_ptr_array_set_size (self->pending, 0);
  self->end_pending = FALSE;
  call = g_new0 (RestartCall, 1);
  call->ice = gst_object_ref (self);
  call->generation = ++self->restart_generation;
  g_mutex_unlock (&self->lock);

  body = gst_whep_sdp_frag_to_string (frag);
  GST_INFO_OBJECT (self, "ICE restart %u: new ufrag %s, %u local "
      "candidate(s)", call->generation, frag->ice_ufrag, frag->candidates->len);
  /* WHEP: a restart carries If-Match: "*" whatever the last ETag. */
  owner = g_weak_ref_get (&self->owner);
  gst_whep_client_patch_async (self->client, owner, url, SDPFRAG_TYPE, body,
      "\"*\"", self->cancellable, on_restart_patched, call);
  gst_clear_object (&owner);
  return TRUE;
}

/* --- public --- */

GstWhepIce *
gst_whep_ice_new (GstWhepClient * client, gboolean trickle,
    GstObject * owner, GstWhepIceListener listener)
{
  g_autofree gchar *name = owner && GST_OBJECT_NAME (owner) ?
      g_strdup_printf ("%s-ice", GST_OBJECT_NAME (owner)) : NULL;
  GstWhepIce *self = g_object_new (GST_TYPE_WHEP_ICE, "name", name, NULL);

  gst_object_ref_sink (self);
  self->client = g_object_ref (client);
  self->trickle = trickle;
  g_weak_ref_set (&self->owner, owner);
  self->listener = listener;
  return self;
}

static gchar *
find_attribute (const GstSDPMessage * sdp, const gchar * key)
{
  const gchar *value = gst_sdp_message_get_attribute_val (sdp, key);

  if (!value && gst_sdp_message_medias_len (sdp) > 0)
    value = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
            0), key);
  return g_strdup (value);
}

void
gst_whep_ice_set_local (GstWhepIce * self, GstElement * webrtcbin,
    const GstSDPMessage * offer)
{
  g_return_if_fail (GST_IS_WHEP_ICE (self));

  g_mutex_lock (&self->lock);
  gst_object_replace ((GstObject **) & self->webrtcbin,
      (GstObject *) webrtcbin);
  g_free (self->ufrag);
  self->ufrag = find_attribute (offer, "ice-ufrag");
  g_free (self->pwd);
  self->pwd = find_attribute (offer, "ice-pwd");
  g_free (self->mid);
  self->mid = find_attribute (offer, "mid");
  g_mutex_unlock (&self->lock);
}

void
gst_whep_ice_add_local_candidate (GstWhepIce * self, const gchar * candidate)
{
  gboolean trickle;

  g_return_if_fail (GST_IS_WHEP_ICE (self));

  g_mutex_lock (&self->lock);
  trickle = self->trickle && !self->closed;
  /* An empty candidate is webrtcbin's end of gathering, not a candidate. */
  if (trickle && candidate && *strip_attribute_prefix (candidate))
    g_ptr_array_add (self->pending,
        g_strdup (strip_attribute_prefix (candidate)));
  g_mutex_unlock (&self->lock);
  if (trickle)
    flush_trickle (self);
}

void
gst_whep_ice_end_of_candidates (GstWhepIce * self)
{
  gboolean trickle;

  g_return_if_fail (GST_IS_WHEP_ICE (self));

  g_mutex_lock (&self->lock);
  trickle = self->trickle && !self->closed;
  if (trickle)
    self->end_pending = TRUE;
  g_mutex_unlock (&self->lock);
  if (trickle)
    flush_trickle (self);
}

void
gst_whep_ice_set_resource (GstWhepIce * self, const gchar * url,
    const gchar * etag)
{
  g_return_if_fail (GST_IS_WHEP_ICE (self));

  g_mutex_lock (&self->lock);
  g_free (self->resource_url);
  self->resource_url = g_strdup (url);
  g_free (self->etag);
  self->etag = g_strdup (etag);
  g_mutex_unlock (&self->lock);
  flush_trickle (self);
}

gboolean
gst_whep_ice_is_trickling (GstWhepIce * self)
{
  gboolean trickle;

  g_return_val_if_fail (GST_IS_WHEP_ICE (self), FALSE);
  g_mutex_lock (&self->lock);
  trickle = self->trickle;
  g_mutex_unlock (&self->lock);
  return trickle;
}

guint
gst_whep_ice_get_trickled_candidates (GstWhepIce * self)
{
  guint n;

  g_return_val_if_fail (GST_IS_WHEP_ICE (self), 0);
  g_mutex_lock (&self->lock);
  n = self->trickled;
  g_mutex_unlock (&self->lock);
  return n;
}

void
gst_whep_ice_close (GstWhepIce * self)
{
  g_return_if_fail (GST_IS_WHEP_ICE (self));

  g_mutex_lock (&self->lock);
  self->closed = TRUE;
  g_ptr_array_set_size (self->pending, 0);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
}

static void
gst_whep_ice_finalize (GObject * object)
{
  GstWhepIce *self = GST_WHEP_ICE (object);

  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_weak_ref_clear (&self->owner);
  gst_clear_object (&self->webrtcbin);
  g_free (self->ufrag);
  g_free (self->pwd);
  g_free (self->mid);
  g_ptr_array_unref (self->pending);
  g_free (self->resource_url);
  g_free (self->etag);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (gst_whep_ice_parent_class)->finalize (object);
}

static void
gst_whep_ice_init (GstWhepIce * self)
{
  g_mutex_init (&self->lock);
  g_weak_ref_init (&self->owner, NULL);
  self->cancellable = g_cancellable_new ();
  self->pending = g_ptr_array_new_with_free_func (g_free);
}

static void
gst_whep_ice_class_init (GstWhepIceClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_whep_ice_finalize;
  GST_DEBUG_CATEGORY_INIT (whep_ice_debug, "whepice", 0,
      "whepsrc ICE over PATCH (trickle, restart)");
}
