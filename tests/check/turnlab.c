/* whepsrc tests — coturn in a network lab namespace.
 *
 * Each server gets a directory of its own, "<tmp>/whep-turn-<pid>-XXXXXX",
 * holding its configuration (a file: coturn reads /etc/turnserver.conf
 * otherwise, and Debian's sends the log to syslog), its log, pid file,
 * user database and TLS certificate.  turn_stop() removes it; one left
 * behind belongs to a failed test, and netlab_cleanup_stale() prints the
 * log found there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "netlab.h"

#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define TURN_PORT 3478
#define TURNS_PORT 5349
#define TURN_REALM "whep.test"

struct _TurnServer
{
  GSubprocess *process;
  gchar *dir;
  gchar *log_path;
  gchar *address;
  TurnOptions options;
};

/* In the forked coturn, before exec: a failing test exits at once, and
 * its TURN server must not outlive it. */
static void
die_with_parent (gpointer parent_pid)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != GPOINTER_TO_INT (parent_pid))
    raise (SIGTERM);
}

static gchar *
dir_file (TurnServer * turn, const gchar * name)
{
  return g_build_filename (turn->dir, name, NULL);
}

static void
make_certificate (TurnServer * turn)
{
  g_autofree gchar *key = dir_file (turn, "key.pem");
  g_autofree gchar *cert = dir_file (turn, "cert.pem");
  const gchar *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
    "-out", cert, "-days", "1", "-subj", "/CN=" TURN_REALM, NULL
  };
  g_autoptr (GError) error = NULL;
  gint status = 0;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
          &error), "openssl: %s", error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "openssl could not make a certificate");
}

static gchar *
config_text (TurnServer * turn)
{
  GString *conf = g_string_new (NULL);
  g_autofree gchar *log = dir_file (turn, "coturn.log");
  g_autofree gchar *pid = dir_file (turn, "coturn.pid");
  g_autofree gchar *db = dir_file (turn, "turndb");
  g_autofree gchar *key = dir_file (turn, "key.pem");
  g_autofree gchar *cert = dir_file (turn, "cert.pem");

  g_string_append_printf (conf, "listening-ip=%s\nrelay-ip=%s\n"
      "listening-port=%u\ntls-listening-port=%u\nrealm=" TURN_REALM "\n"
      "fingerprint\nno-cli\nno-dtls\nno-rfc5780\nverbose\n"
      "log-file=%s\nsimple-log\npidfile=%s\nuserdb=%s\n",
      turn->address, turn->address, TURN_PORT, TURNS_PORT, log, pid, db);
  if (turn->options.auth == TURN_AUTH_SECRET)
    g_string_append (conf, "use-auth-secret\n"
        "static-auth-secret=" TURN_SECRET "\n");
  else
    g_string_append (conf, "lt-cred-mech\n"
        "user=" TURN_USER ":" TURN_PASSWORD "\n");
  if (turn->options.tls)
    g_string_append_printf (conf, "cert=%s\npkey=%s\n", cert, key);
  else
    g_string_append (conf, "no-tls\n");
  /* coturn refuses loopback peers unless told: in the single lab the
   * WHEP server is one. */
  if (g_str_has_prefix (turn->address, "127."))
    g_string_append (conf, "allow-loopback-peers\n");
  if (turn->options.server_relay)
    g_string_append (conf, "server-relay\n");
  return g_string_free (conf, FALSE);
}

static gchar *
read_log (TurnServer * turn)
{
  gchar *text = NULL;

  if (!g_file_get_contents (turn->log_path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static gboolean
listening (TurnServer * turn)
{
  g_autofree gchar *log = read_log (turn);
  g_autofree gchar *udp = g_strdup_printf ("UDP listener opened on: %s:%u",
      turn->address, TURN_PORT);
  g_autofree gchar *tcp = g_strdup_printf ("TCP listener opened on : %s:%u",
      turn->address, TURN_PORT);
  g_autofree gchar *tls = g_strdup_printf ("TCP listener opened on : %s:%u",
      turn->address, TURNS_PORT);

  return strstr (log, udp) && strstr (log, tcp) && (!turn->options.tls
      || strstr (log, tls));
}

static void
wait_listening (TurnServer * turn)
{
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  while (!listening (turn)) {
    if (g_subprocess_get_identifier (turn->process) == NULL
        || g_get_monotonic_time () > end) {
      turn_print_log (turn);
      fail ("coturn did not start listening on %s", turn->address);
    }
    g_usleep (20 * 1000);
  }
}

TurnServer *
turn_start (NetLab * lab, NetLabRole role, const TurnOptions * options)
{
  TurnServer *turn = g_new0 (TurnServer, 1);
  g_autofree gchar *template = g_strdup_printf ("whep-turn-%d-XXXXXX",
      (gint) getpid ());
  g_autofree gchar *conf_path = NULL;
  g_autofree gchar *conf = NULL;
  g_autofree gchar *out = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;

  turn->options = *options;
  turn->address = g_strdup (netlab_address (lab, role));
  turn->dir = g_dir_make_tmp (template, &error);
  fail_unless (turn->dir != NULL, "%s", error ? error->message : "");
  turn->log_path = dir_file (turn, "coturn.log");
  if (options->tls)
    make_certificate (turn);
  conf_path = dir_file (turn, "turnserver.conf");
  conf = config_text (turn);
  fail_unless (g_file_set_contents (conf_path, conf, -1, &error), "%s",
      error ? error->message : "");

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  out = dir_file (turn, "stdout.txt");
  g_subprocess_launcher_set_stdout_file_path (launcher, out);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent,
      GINT_TO_POINTER (getpid ()), NULL);
  turn->process = g_subprocess_launcher_spawn (launcher, &error, "ip", "netns",
      "exec", netlab_ns (lab, role), "turnserver", "-c", conf_path, NULL);
  fail_unless (turn->process != NULL, "cannot start coturn: %s",
      error ? error->message : "");
  wait_listening (turn);
  return turn;
}

void
turn_stop (TurnServer * turn)
{
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

  if (!turn)
    return;
  /* By pid, never by name: other tests' servers may be running. */
  g_subprocess_send_signal (turn->process, SIGTERM);
  while (g_subprocess_get_identifier (turn->process) != NULL
      && g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  if (g_subprocess_get_identifier (turn->process) != NULL) {
    g_subprocess_force_exit (turn->process);
    g_subprocess_wait (turn->process, NULL, NULL);
  }
  g_object_unref (turn->process);

  {
    g_autoptr (GDir) dir = g_dir_open (turn->dir, 0, NULL);
    const gchar *entry;

    while (dir && (entry = g_dir_read_name (dir))) {
      g_autofree gchar *file = dir_file (turn, entry);
      g_unlink (file);
    }
  }
  g_rmdir (turn->dir);
  g_free (turn->dir);
  g_free (turn->log_path);
  g_free (turn->address);
  g_free (turn);
}

const gchar *
turn_address (TurnServer * turn)
{
  return turn->address;
}

gchar *
turn_uri_with (TurnServer * turn, const gchar * scheme, const gchar * user,
    const gchar * password, const gchar * transport)
{
  /* webrtcbin splits the user info at its first ':' and unescapes each
   * half: every reserved character, ':' included, is escaped. */
  g_autofree gchar *u = g_uri_escape_string (user, NULL, FALSE);
  g_autofree gchar *p = g_uri_escape_string (password, NULL, FALSE);
  guint port = g_str_equal (scheme, "turns") ? TURNS_PORT : TURN_PORT;

  return g_strdup_printf ("%s://%s:%s@%s:%u%s%s", scheme, u, p,
      turn->address, port, transport ? "?transport=" : "",
      transport ? transport : "");
}

gchar *
turn_uri (TurnServer * turn, const gchar * scheme, const gchar * transport)
{
  g_autofree gchar *user = NULL;
  g_autofree gchar *password = NULL;

  if (turn->options.auth == TURN_AUTH_PASSWORD)
    return turn_uri_with (turn, scheme, TURN_USER, TURN_PASSWORD, transport);
  turn_rest_credentials (TURN_SECRET, "whep", g_get_real_time () /
      G_USEC_PER_SEC + 3600, &user, &password);
  return turn_uri_with (turn, scheme, user, password, transport);
}

void
turn_rest_credentials (const gchar * secret, const gchar * name,
    gint64 expiry_unix, gchar ** user, gchar ** password)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1,
      (const guchar *) secret, strlen (secret));
  guint8 digest[20];
  gsize len = sizeof (digest);

  *user = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expiry_unix, name);
  g_hmac_update (hmac, (const guchar *) *user, strlen (*user));
  g_hmac_get_digest (hmac, digest, &len);
  *password = g_base64_encode (digest, len);
}

guint
turn_log_count (TurnServer * turn, const gchar * fragment)
{
  g_autofree gchar *log = read_log (turn);
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  guint i, n = 0;

  for (i = 0; lines[i]; i++)
    if (strstr (lines[i], fragment))
      n++;
  return n;
}

void
turn_print_log (TurnServer * turn)
{
  g_autofree gchar *log = read_log (turn);

  g_printerr ("---- coturn log (%s) ----\n%s---- end of coturn log ----\n",
      turn->dir, log);
}
