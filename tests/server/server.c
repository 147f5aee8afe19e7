/* whep-test-server — session registry and the event log.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "server.h"

#include <stdio.h>

#include "session.h"
#include "sse.h"

void
whep_server_event (const gchar * format, ...)
{
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  /* Tests read these lines as they come: one write, then flush. */
  fprintf (stdout, "EVENT %s\n", text);
  fflush (stdout);
}

gdouble
whep_server_seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
}

void
whep_server_add_session (WhepServer * server, WhepSession * session)
{
  g_hash_table_insert (server->sessions,
      g_strdup (whep_session_get_id (session)), whep_session_ref (session));
  if (server->opts->sse)
    whep_sse_add_session (server, whep_session_get_id (session));
}

WhepSession *
whep_server_find_session (WhepServer * server, const gchar * id)
{
  if (id == NULL)
    return NULL;
  return g_hash_table_lookup (server->sessions, id);
}

void
whep_server_session_ended (WhepServer * server, WhepSession * session)
{
  server->teardowns++;
  /* Its event streams close with it, whatever ended it. */
  whep_sse_session_ended (server, whep_session_get_id (session));
  g_hash_table_remove (server->sessions, whep_session_get_id (session));
}

void
whep_server_teardown_done (WhepServer * server)
{
  g_return_if_fail (server->teardowns > 0);

  server->teardowns--;
  if (server->stopping && server->teardowns == 0
      && g_hash_table_size (server->sessions) == 0)
    g_main_loop_quit (server->loop);
}

guint
whep_server_end_all (WhepServer * server, gint kind)
{
  g_autoptr (GPtrArray) sessions =
      g_ptr_array_new_with_free_func ((GDestroyNotify) whep_session_unref);
  GHashTableIter iter;
  gpointer value;
  guint i;

  /* Ending a session removes it from the table: iterate over a copy. */
  g_hash_table_iter_init (&iter, server->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, whep_session_ref (value));

  for (i = 0; i < sessions->len; i++)
    whep_session_end (g_ptr_array_index (sessions, i), kind, NULL);

  return sessions->len;
}
