/* whepsrc — a worker thread: one GThread running a GMainLoop on a
 * GMainContext of its own, which is that thread's thread-default context.
 *
 * The HTTP client (libsoup 3 wants every call on the thread that made the
 * SoupSession) and the session supervisor (one thread owns the run state)
 * both need exactly this; this is the one place that starts, drains and
 * joins such a thread.
 *
 * Work is handed over with gst_whep_worker_invoke() (always later, never
 * inline, so a caller never runs its own callback with its locks held) or
 * timers.  Stopping quits the loop, dispatches what is still queued (so
 * that every GDestroyNotify runs), calls the teardown function on the
 * worker thread and joins it; stopping from the worker thread itself (a
 * last reference dropped by a callback) lets the thread run out alone.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstWhepWorker GstWhepWorker;

/* Runs on the worker thread before its loop; returns what the teardown
 * gets (e.g. an object that must be made and dropped on that thread). */
typedef gpointer (*GstWhepWorkerSetup) (gpointer data);
/* Runs on the worker thread after its loop ended, with what setup
 * returned.  The owner of @data may be gone by then: use only @state. */
typedef void (*GstWhepWorkerTeardown) (gpointer state);

/* Starts the thread @name and returns once @setup (nullable) has run on
 * it. */
GstWhepWorker *gst_whep_worker_new (const gchar * name,
    GstWhepWorkerSetup setup, GstWhepWorkerTeardown teardown, gpointer data);

/* The worker's context (no reference given). */
GMainContext *gst_whep_worker_get_context (GstWhepWorker * worker);

/* TRUE when called on the worker thread. */
gboolean gst_whep_worker_is_current (GstWhepWorker * worker);

/* Runs @func on the worker thread at @priority, later.  After stop, @func
 * never runs and @notify runs at once. */
void gst_whep_worker_invoke (GstWhepWorker * worker, gint priority,
    GSourceFunc func, gpointer data, GDestroyNotify notify);

/* A timer on the worker thread; returns the attached source (a reference
 * for the caller, who destroys it to cancel), or NULL after stop. */
GSource *gst_whep_worker_add_timeout (GstWhepWorker * worker, guint ms,
    GSourceFunc func, gpointer data, GDestroyNotify notify);

/* Ends the thread (see above).  Idempotent. */
void gst_whep_worker_stop (GstWhepWorker * worker);

/* Stops the worker and drops the caller's reference. */
void gst_whep_worker_free (GstWhepWorker * worker);

G_END_DECLS
