/* whepsrc — a worker thread (see gstwhepworker.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepworker.h"

/* Reference-counted (g_atomic_rc_box): the thread holds a reference of its
 * own, so that it can wind down after its owner freed the worker from a
 * callback on this very thread. */
struct _GstWhepWorker
{
  /* Immutable after new(). */
  GMainContext *context;
  GMainLoop *loop;
  GstWhepWorkerSetup setup;
  GstWhepWorkerTeardown teardown;
  gpointer data;

  /* Protected by lock (a leaf). */
  GMutex lock;
  GCond cond;
  GThread *thread;              /* NULL once stopped */
  gboolean ready;               /* setup has run */
  gboolean stopped;
};

static void
worker_clear (GstWhepWorker * worker)
{
  g_main_loop_unref (worker->loop);
  g_main_context_unref (worker->context);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
}

static void
worker_release (GstWhepWorker * worker)
{
  g_atomic_rc_box_release_full (worker, (GDestroyNotify) worker_clear);
}

static gpointer
worker_main (gpointer data)
{
  GstWhepWorker *worker = data; /* the thread's own reference */
  gpointer state = NULL;

  g_main_context_push_thread_default (worker->context);
  if (worker->setup)
    state = worker->setup (worker->data);

  g_mutex_lock (&worker->lock);
  worker->ready = TRUE;
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);

  g_main_loop_run (worker->loop);

  /* What is still queued runs now (completions reporting cancellation,
   * destroy notifies), then the teardown, then what the teardown queued. */
  while (g_main_context_iteration (worker->context, FALSE));
  if (worker->teardown)
    worker->teardown (state);
  while (g_main_context_iteration (worker->context, FALSE));

  g_main_context_pop_thread_default (worker->context);
  worker_release (worker);
  return NULL;
}

GstWhepWorker *
gst_whep_worker_new (const gchar * name, GstWhepWorkerSetup setup,
    GstWhepWorkerTeardown teardown, gpointer data)
{
  GstWhepWorker *worker = g_atomic_rc_box_new0 (GstWhepWorker);

  g_mutex_init (&worker->lock);
  g_cond_init (&worker->cond);
  worker->context = g_main_context_new ();
  worker->loop = g_main_loop_new (worker->context, FALSE);
  worker->setup = setup;
  worker->teardown = teardown;
  worker->data = data;

  g_mutex_lock (&worker->lock);
  worker->thread = g_thread_new (name, worker_main,
      g_atomic_rc_box_acquire (worker));
  while (!worker->ready)
    g_cond_wait (&worker->cond, &worker->lock);
  g_mutex_unlock (&worker->lock);
  return worker;
}

GMainContext *
gst_whep_worker_get_context (GstWhepWorker * worker)
{
  return worker->context;
}

gboolean
gst_whep_worker_is_current (GstWhepWorker * worker)
{
  gboolean current;

  g_mutex_lock (&worker->lock);
  current = worker->thread && worker->thread == g_thread_self ();
  g_mutex_unlock (&worker->lock);
  return current;
}

/* Attaches @source unless stopped (then its callback never runs and the
 * caller frees what it carries). */
static gboolean
attach_unless_stopped (GstWhepWorker * worker, GSource * source)
{
  gboolean attached;

  g_mutex_lock (&worker->lock);
  attached = !worker->stopped;
  if (attached)
    g_source_attach (source, worker->context);
  g_mutex_unlock (&worker->lock);
  return attached;
}

void
gst_whep_worker_invoke (GstWhepWorker * worker, gint priority,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  /* Once stopped, dropping the unattached source runs @notify. */
  attach_unless_stopped (worker, source);
  g_source_unref (source);
}

GSource *
gst_whep_worker_add_timeout (GstWhepWorker * worker, guint ms,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, notify);
  if (!attach_unless_stopped (worker, source)) {
    g_source_unref (source);
    return NULL;
  }
  return source;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
gst_whep_worker_stop (GstWhepWorker * worker)
{
  GSource *quit;
  GThread *thread;

  g_mutex_lock (&worker->lock);
  thread = g_steal_pointer (&worker->thread);
  worker->stopped = TRUE;
  g_mutex_unlock (&worker->lock);
  if (!thread)
    return;

  /* Attached directly: invoke() refuses once stopped. */
  quit = g_idle_source_new ();
  g_source_set_priority (quit, G_PRIORITY_HIGH);
  g_source_set_callback (quit, quit_cb, g_main_loop_ref (worker->loop),
      (GDestroyNotify) g_main_loop_unref);
  g_source_attach (quit, worker->context);
  g_source_unref (quit);

  /* A thread cannot join itself: stopped from one of its own callbacks,
   * it runs out on its own once that callback returns. */
  if (thread == g_thread_self ())
    g_thread_unref (thread);
  else
    g_thread_join (thread);
}

void
gst_whep_worker_free (GstWhepWorker * worker)
{
  if (!worker)
    return;
  gst_whep_worker_stop (worker);
  worker_release (worker);
}
