/* whepsrc — the session supervisor: the one owner of a run's state.
 *
 * A run lasts from whepsrc's READY→PAUSED to its PAUSED→READY.  For that
 * time the supervisor decides everything about sessions: when one starts
 * (first, as a standby before the session limit, after a loss, after a
 * back-off), which one is on air, when one is lost (session events, the
 * watchdog, errors of its elements), when to restart ICE, when to give up
 * and post the error, and what `status` and `statistics` say.
 *
 * One owner: every input — session events, the switches' signals, child
 * errors and warnings caught by whepsrc's handle_message, timers, the
 * pipeline going to PLAYING or PAUSED, run-time property changes — is
 * turned into an event on the supervisor's own thread ("whepsrc-ctl", a
 * GstWhepWorker), and only that thread reads or writes the run state.  The
 * state is allocated on that thread when the run starts and freed on it
 * when the run stops (after every session was DELETEd).  Other threads see
 * a snapshot (status, statistics) published after each event.
 *
 * What whepsrc learns about the server (GstWhepServerKnowledge) outlives
 * the run: the element keeps it between runs and hands it to the next.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstwhepclient.h"
#include "gstwhepenums.h"
#include "gstwhepsdp.h"
#include "gstwhepsession.h"

G_BEGIN_DECLS

/* What whepsrc learnt about the server from its answers.  Lifetime: the
 * element's, across stop and start — the same server will answer the same
 * way — and forgotten when whep-endpoint changes (another server).  During
 * a run the supervisor works on its own copy and hands it back at stop. */
typedef struct
{
  gboolean one_session_only;    /* refused a second, overlapping session */
  gboolean no_trickle;          /* refused a trickle PATCH */
  gboolean no_ice_restart;      /* refused an ICE restart, or has no PATCH */
  gdouble learned_lifetime_s;   /* the session limit it enforces, 0: none */
  gdouble last_loss_age_s;      /* age of the last session it ended */
  gdouble slowest_setup_ms;     /* slowest recent set-up, decaying */
  GstWhepLiveness liveness;     /* what its answers to GET on a session
                                 * mean (ask / trusted / off) */
} GstWhepServerKnowledge;

/* The run-time settings the supervisor acts on (the properties that are
 * mutable while playing, and those it needs at every decision). */
typedef struct
{
  gint max_retries;
  guint session_lifetime_s;
  guint rotation_lead_ms;
  guint media_timeout_ms;
  guint ice_restart_timeout_ms;
} GstWhepRunSettings;

/* What the supervisor needs from the element; every function may be
 * called from the supervisor's thread, the first two from streaming
 * threads too. */
typedef struct
{
  /* The output switch for @kind, made (with its src pad) on first use. */
  GstElement *(*ensure_output) (GstElement * element, GstWhepMediaKind kind);
  /* The output switch for @kind, or NULL while there is none. */
  GstElement *(*dup_output) (GstElement * element, GstWhepMediaKind kind);
  void (*read_settings) (GstElement * element, GstWhepRunSettings * settings);
  /* A session's configuration from the properties (endpoint, ICE servers,
   * caps, latency…); the supervisor adds what the run knows. */
  void (*fill_session_config) (GstElement * element,
      GstWhepSessionConfig * config, gboolean * use_link_headers);
} GstWhepSupervisorHost;

#define GST_TYPE_WHEP_SUPERVISOR (gst_whep_supervisor_get_type ())
G_DECLARE_FINAL_TYPE (GstWhepSupervisor, gst_whep_supervisor, GST,
    WHEP_SUPERVISOR, GstObject);

/* Starts a run for @element (a GstBin: sessions are added to it, messages
 * are posted from it; not referenced — it owns the supervisor).  @client
 * is the run's HTTP client (ref taken). */
GstWhepSupervisor *gst_whep_supervisor_new (GstElement * element,
    const GstWhepSupervisorHost * host, GstWhepClient * client,
    const GstWhepServerKnowledge * known);

/* The pipeline went to PLAYING (sessions start then: they need its base
 * time) or left it. */
void gst_whep_supervisor_set_playing (GstWhepSupervisor * sup,
    gboolean playing);

/* The application sent EOS: the outputs end with EOS and the sessions
 * are DELETEd; nothing starts again until the next run. */
void gst_whep_supervisor_end_of_stream (GstWhepSupervisor * sup);

/* A run-time property changed: the settings are read again. */
void gst_whep_supervisor_settings_changed (GstWhepSupervisor * sup);

/* An ERROR or WARNING posted inside @session (from handle_message). */
void gst_whep_supervisor_child_message (GstWhepSupervisor * sup,
    GstWhepSession * session, GstMessage * message);

/* A switch's signals. */
void gst_whep_supervisor_output_switched (GstWhepSupervisor * sup,
    GstWhepMediaKind kind, GstPad * sinkpad);
void gst_whep_supervisor_output_holding (GstWhepSupervisor * sup,
    GstWhepMediaKind kind, gboolean holding);

/* Ends the run: no more sessions start, every session is DELETEd (bounded),
 * the thread is joined.  Returns what was learnt in @known and the run's
 * final statistics (caller owns).  Not from the supervisor's thread. */
GstStructure *gst_whep_supervisor_stop (GstWhepSupervisor * sup,
    GstWhepServerKnowledge * known);

/* Snapshots, never blocking: the status and a copy of the statistics
 * (without the outputs' counters, which the element adds). */
GstWhepSrcStatus gst_whep_supervisor_get_status (GstWhepSupervisor * sup);
GstStructure *gst_whep_supervisor_dup_statistics (GstWhepSupervisor * sup);
/* The statistics of a run that has not started yet (all counters 0). */
GstStructure *gst_whep_supervisor_statistics_before_run (const
    GstWhepServerKnowledge * known);

G_END_DECLS
