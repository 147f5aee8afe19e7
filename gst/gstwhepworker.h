/* whepsrc — a worker: work for one owner on a thread shared with every
 * other worker of the same name in the process, whose thread-default
 * context is the thread's GMainContext.
 *
 * The HTTP client (libsoup 3 wants every call on the thread that made the
 * SoupSession) and the session supervisor (one thread owns the run state)
 * both need exactly this; this is the one place that starts, drains and
 * joins such threads.  With many whepsrc in one process, all their HTTP
 * clients share one thread ("whep-http") and all their supervisors another
 * ("whepsrc-ctl"): the thread starts with the first worker of its name and
 * is stopped and joined when the last one stops (no whepsrc thread
 * outlives the last whepsrc in NULL).
 *
 * Work is handed over with gst_whep_worker_invoke() (always later, never
 * inline, so a caller never runs its own callback with its locks held) or
 * timers.  Stopping a worker touches its own work only: its queued invokes
 * run, its timers are dropped, then its teardown runs on the thread, and
 * stop returns — without waiting for other workers' work beyond the
 * callback that is running.  Stopping from the shared thread itself (a
 * last reference dropped by a callback, of this worker or of another one)
 * waits for nothing: the finish runs once the current callback returns.
 * So every callback on a shared thread must be short and never wait for
 * another whepsrc.
 *
 * Sources attached directly to the context (libsoup's, timers of sessions)
 * are not the worker's: their owners cancel them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstWhepWorker GstWhepWorker;

/* Runs on the shared thread when the worker is made; returns what the
 * teardown gets (e.g. an object that must be made and dropped on that
 * thread). */
typedef gpointer (*GstWhepWorkerSetup) (gpointer data);
/* Runs on the shared thread once the worker stopped and its queued work
 * ran, with what setup returned.  The owner of @data may be gone by then:
 * use only @state. */
typedef void (*GstWhepWorkerTeardown) (gpointer state);

/* Joins the thread @name (starting it if it has no worker) and returns
 * once @setup (nullable) has run on it. */
GstWhepWorker *gst_whep_worker_new (const gchar * name,
    GstWhepWorkerSetup setup, GstWhepWorkerTeardown teardown, gpointer data);

/* The shared thread's context (no reference given; valid until the
 * worker is freed, not only until it stops). */
GMainContext *gst_whep_worker_get_context (GstWhepWorker * worker);

/* TRUE when called on the worker's (shared) thread, until stop. */
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
