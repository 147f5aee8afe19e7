/* whepsrc — worker threads shared by every whepsrc of a process (see
 * gstwhepworker.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhepworker.h"

/* One thread of a name, shared by every worker of that name.
 * Reference-counted (g_atomic_rc_box): the thread holds a reference of its
 * own, so that it can run out alone when its last user released it from a
 * callback on this very thread. */
typedef struct
{
  /* Immutable after shared_thread_acquire() made it. */
  gchar *name;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;              /* owned by whoever makes users 0 */

  /* Protected by shared_lock. */
  guint users;                  /* workers using the thread */
} SharedThread;

/* Lock order: a worker's lock → shared_lock; neither is held while running
 * a callback, a setup or a teardown, or while joining. */
static GMutex shared_lock;
static GHashTable *shared_threads;      /* name → SharedThread (users > 0) */

static void
shared_thread_clear (SharedThread * shared)
{
  g_free (shared->name);
  g_main_loop_unref (shared->loop);
  g_main_context_unref (shared->context);
}

static void
shared_thread_unref (SharedThread * shared)
{
  g_atomic_rc_box_release_full (shared, (GDestroyNotify) shared_thread_clear);
}

static gpointer
shared_thread_main (gpointer data)
{
  SharedThread *shared = data;  /* the thread's own reference */

  g_main_context_push_thread_default (shared->context);
  g_main_loop_run (shared->loop);
  /* The last user is gone: what is still queued runs now (completions
   * reporting cancellation, destroy notifies, a teardown from a stop made
   * on this thread). */
  while (g_main_context_iteration (shared->context, FALSE));
  g_main_context_pop_thread_default (shared->context);
  shared_thread_unref (shared);
  return NULL;
}

/* The thread @name, started when it has no user yet. */
static SharedThread *
shared_thread_acquire (const gchar * name)
{
  SharedThread *shared;

  g_mutex_lock (&shared_lock);
  if (!shared_threads)
    shared_threads = g_hash_table_new (g_str_hash, g_str_equal);
  shared = g_hash_table_lookup (shared_threads, name);
  if (!shared) {
    /* The box's first reference is the thread's. */
    shared = g_atomic_rc_box_new0 (SharedThread);
    shared->name = g_strdup (name);
    shared->context = g_main_context_new ();
    shared->loop = g_main_loop_new (shared->context, FALSE);
    shared->thread = g_thread_new (name, shared_thread_main, shared);
    g_hash_table_insert (shared_threads, shared->name, shared);
  }
  shared->users++;
  g_atomic_rc_box_acquire (shared);
  g_mutex_unlock (&shared_lock);
  return shared;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Drops a user (not the caller's reference); the last one ends the thread: joined, or — released on
 * the thread itself — left to run out once the current callback returns.
 * Either way it dispatches what is queued before it ends. */
static void
shared_thread_release (SharedThread * shared)
{
  GThread *thread = NULL;

  g_mutex_lock (&shared_lock);
  if (--shared->users == 0) {
    g_hash_table_remove (shared_threads, shared->name);
    thread = shared->thread;
  }
  g_mutex_unlock (&shared_lock);

  if (thread) {
    GSource *quit = g_idle_source_new ();

    /* After what the last user queued (its teardown), not before. */
    g_source_set_priority (quit, G_PRIORITY_LOW);
    g_source_set_callback (quit, quit_cb, g_main_loop_ref (shared->loop),
        (GDestroyNotify) g_main_loop_unref);
    g_source_attach (quit, shared->context);
    g_source_unref (quit);
    if (thread == g_thread_self ())
      g_thread_unref (thread);
    else
      g_thread_join (thread);
  }
}

/* One piece of a worker's work on the shared thread: an invoke or a timer.
 * Reference-counted: one reference for the worker's list, one for the
 * source's callback (dropped when the source is destroyed). */
typedef struct
{
  gint ref;
  GSource *source;              /* ref held */
  gboolean is_timer;
  GSourceFunc func;
  gpointer data;
  GDestroyNotify notify;
  gint destroyed;               /* atomic: the source was destroyed */
} WorkItem;

static void
work_item_unref (WorkItem * item)
{
  if (g_atomic_int_dec_and_test (&item->ref)) {
    g_source_unref (item->source);
    g_free (item);
  }
}

static gboolean
work_item_dispatch (gpointer data)
{
  WorkItem *item = data;

  return item->func (item->data);
}

/* The source's destroy notify: on whichever thread destroyed it. */
static void
work_item_destroyed (gpointer data)
{
  WorkItem *item = data;

  g_atomic_int_set (&item->destroyed, 1);
  if (item->notify)
    item->notify (item->data);
  work_item_unref (item);
}

/* Reference-counted (g_atomic_rc_box): a stop made on the shared thread
 * finishes later, with a reference of its own. */
struct _GstWhepWorker
{
  /* Immutable after new(). */
  SharedThread *shared;         /* a reference; a user until stop() */
  GstWhepWorkerSetup setup;
  GstWhepWorkerTeardown teardown;
  gpointer data;

  /* The shared thread only. */
  gpointer state;               /* what setup returned */

  /* Protected by lock (taken before shared_lock, never while running a
   * callback). */
  GMutex lock;
  GCond cond;
  gboolean ready;               /* setup has run */
  gboolean stopped;             /* no new work; the finish is queued */
  gboolean finished;            /* the teardown has run */
  gboolean released;            /* the shared thread was released */
  GList *items;                 /* WorkItem, attached and maybe still
                                 * pending (destroyed ones pruned) */
};

static void
worker_clear (GstWhepWorker * worker)
{
  g_list_free_full (worker->items, (GDestroyNotify) work_item_unref);
  shared_thread_unref (worker->shared);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
}

static void
worker_release (GstWhepWorker * worker)
{
  g_atomic_rc_box_release_full (worker, (GDestroyNotify) worker_clear);
}

static gboolean
on_shared_thread (GstWhepWorker * worker)
{
  return worker->shared->thread == g_thread_self ();
}

static gboolean
setup_cb (gpointer data)
{
  GstWhepWorker *worker = data;
  gpointer state = worker->setup ? worker->setup (worker->data) : NULL;

  g_mutex_lock (&worker->lock);
  worker->state = state;
  worker->ready = TRUE;
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
  return G_SOURCE_REMOVE;
}

/* Attaches a source at @priority that runs @func on the shared thread
 * with a reference to @worker. */
static void
attach_with_worker (GstWhepWorker * worker, gint priority, GSourceFunc func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, g_atomic_rc_box_acquire (worker),
      (GDestroyNotify) worker_release);
  g_source_attach (source, worker->shared->context);
  g_source_unref (source);
}

GstWhepWorker *
gst_whep_worker_new (const gchar * name, GstWhepWorkerSetup setup,
    GstWhepWorkerTeardown teardown, gpointer data)
{
  GstWhepWorker *worker = g_atomic_rc_box_new0 (GstWhepWorker);

  g_mutex_init (&worker->lock);
  g_cond_init (&worker->cond);
  worker->setup = setup;
  worker->teardown = teardown;
  worker->data = data;
  worker->shared = shared_thread_acquire (name);

  if (on_shared_thread (worker)) {
    setup_cb (worker);
  } else {
    attach_with_worker (worker, G_PRIORITY_HIGH, setup_cb);
    g_mutex_lock (&worker->lock);
    while (!worker->ready)
      g_cond_wait (&worker->cond, &worker->lock);
    g_mutex_unlock (&worker->lock);
  }
  return worker;
}

GMainContext *
gst_whep_worker_get_context (GstWhepWorker * worker)
{
  return worker->shared->context;
}

gboolean
gst_whep_worker_is_current (GstWhepWorker * worker)
{
  gboolean current;

  g_mutex_lock (&worker->lock);
  current = !worker->released && on_shared_thread (worker);
  g_mutex_unlock (&worker->lock);
  return current;
}

/* Called with the worker's lock. */
static void
prune_items (GstWhepWorker * worker)
{
  GList *l, *next;

  for (l = worker->items; l; l = next) {
    WorkItem *item = l->data;

    next = l->next;
    if (g_atomic_int_get (&item->destroyed)) {
      work_item_unref (item);
      worker->items = g_list_delete_link (worker->items, l);
    }
  }
}

/* Attaches @source for @func unless stopped; returns the item (the list's
 * reference is the worker's), or NULL when stopped (then @notify ran). */
static WorkItem *
attach_item (GstWhepWorker * worker, GSource * source, gboolean is_timer,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  WorkItem *item;

  g_mutex_lock (&worker->lock);
  if (worker->stopped) {
    g_mutex_unlock (&worker->lock);
    if (notify)
      notify (data);
    return NULL;
  }
  item = g_new0 (WorkItem, 1);
  item->ref = 2;
  item->source = g_source_ref (source);
  item->is_timer = is_timer;
  item->func = func;
  item->data = data;
  item->notify = notify;
  g_source_set_callback (source, work_item_dispatch, item, work_item_destroyed);
  prune_items (worker);
  worker->items = g_list_append (worker->items, item);
  g_source_attach (source, worker->shared->context);
  g_mutex_unlock (&worker->lock);
  return item;
}

void
gst_whep_worker_invoke (GstWhepWorker * worker, gint priority,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  attach_item (worker, source, FALSE, func, data, notify);
  g_source_unref (source);
}

GSource *
gst_whep_worker_add_timeout (GstWhepWorker * worker, guint ms,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_timeout_source_new (ms);

  if (!attach_item (worker, source, TRUE, func, data, notify)) {
    g_source_unref (source);
    return NULL;
  }
  return source;
}

static gint
compare_priority (gconstpointer a, gconstpointer b)
{
  const WorkItem *ia = a, *ib = b;

  return g_source_get_priority (ia->source) -
      g_source_get_priority (ib->source);
}

/* On the shared thread, once stopped: this worker's queued invokes run
 * (by priority, then in order), its timers are dropped, then the teardown;
 * other workers' work is not touched. */
static gboolean
finish_cb (gpointer data)
{
  GstWhepWorker *worker = data;
  GList *items, *l;

  g_mutex_lock (&worker->lock);
  items = g_steal_pointer (&worker->items);
  g_mutex_unlock (&worker->lock);

  items = g_list_sort (items, compare_priority);        /* stable */
  for (l = items; l; l = l->next) {
    WorkItem *item = l->data;

    if (g_atomic_int_get (&item->destroyed))
      continue;
    if (!item->is_timer)
      item->func (item->data);
    g_source_destroy (item->source);
  }
  g_list_free_full (items, (GDestroyNotify) work_item_unref);

  if (worker->teardown)
    worker->teardown (worker->state);
  worker->state = NULL;

  g_mutex_lock (&worker->lock);
  worker->finished = TRUE;
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
  return G_SOURCE_REMOVE;
}

void
gst_whep_worker_stop (GstWhepWorker * worker)
{
  gboolean here;

  g_mutex_lock (&worker->lock);
  if (worker->stopped) {
    g_mutex_unlock (&worker->lock);
    return;
  }
  worker->stopped = TRUE;
  g_mutex_unlock (&worker->lock);

  /* Before any release: a last user's quit comes after it. */
  here = on_shared_thread (worker);
  attach_with_worker (worker, G_PRIORITY_HIGH, finish_cb);
  if (!here) {
    g_mutex_lock (&worker->lock);
    while (!worker->finished)
      g_cond_wait (&worker->cond, &worker->lock);
    g_mutex_unlock (&worker->lock);
  }
  /* On the shared thread (a callback of this worker or of another one)
   * nothing is waited for: the finish runs once the current callback
   * returns. */

  g_mutex_lock (&worker->lock);
  worker->released = TRUE;
  g_mutex_unlock (&worker->lock);
  shared_thread_release (worker->shared);
}

void
gst_whep_worker_free (GstWhepWorker * worker)
{
  if (!worker)
    return;
  gst_whep_worker_stop (worker);
  worker_release (worker);
}
