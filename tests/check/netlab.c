/* whepsrc tests — a network lab made of Linux network namespaces.
 *
 * Every namespace is named "whep<pid>-<n>-<host>" after the test process
 * that made it, so that what a dead process left behind can be told from
 * what a running one uses.  Nothing here touches the machine's own
 * namespace: links are made inside the lab's namespaces, addresses are
 * private or documentation ranges, and what is sent to an address the lab
 * does not have vanishes inside it.
 *
 * Commands run with g_spawn_sync(), which starts no thread: the test
 * process must still be single-threaded when it enters its namespace.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include "netlab.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/var/run/netns"
#define NS_PREFIX "whep"

struct _NetLab
{
  gchar *prefix;                /* whep<pid>-<n> */
  gchar *ns[NETLAB_N_ROLES];
  const gchar *address[NETLAB_N_ROLES];
  GPtrArray *namespaces;        /* distinct names, in creation order */
  GPid wire;                    /* whep-netdelay (wire labs), or 0 */
  gint wire_control;            /* its standard input */
  gint wire_output;             /* its standard output */
};

static void start_wire (NetLab * lab);
static void stop_wire (NetLab * lab);

/* --- commands --- */

static gboolean
run_argv (const gchar * const *argv, gchar ** output, GError ** error)
{
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *line = NULL;
  gint status = 0;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
          NULL, &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL)) {
    line = g_strjoinv (" ", (gchar **) argv);
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
        "'%s' failed: %s", line, g_strstrip (err));
    return FALSE;
  }
  if (output)
    *output = g_steal_pointer (&out);
  return TRUE;
}

/* Runs a command given as one line of words (none of ours has spaces) and
 * fails the test when it fails. */
/* *INDENT-OFF* */
static void must (const gchar * format, ...) G_GNUC_PRINTF (1, 2);
/* *INDENT-ON* */

static void
must (const gchar * format, ...)
{
  g_autofree gchar *line = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  va_list ap;

  va_start (ap, format);
  line = g_strdup_vprintf (format, ap);
  va_end (ap);
  argv = g_strsplit (line, " ", -1);
  fail_unless (run_argv ((const gchar * const *) argv, NULL, &error),
      "network lab: %s", error->message);
}

/* Loads an nftables ruleset into @ns (through a file: g_spawn_sync has no
 * standard input to write to). */
static void
nft_load (const gchar * ns, const gchar * ruleset)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  gint fd = g_file_open_tmp ("whep-nft-XXXXXX", &path, &error);

  fail_unless (fd >= 0, "network lab: %s", error ? error->message : "?");
  close (fd);
  fail_unless (g_file_set_contents (path, ruleset, -1, &error),
      "network lab: %s", error ? error->message : "?");
  must ("ip netns exec %s nft -f %s", ns, path);
  g_unlink (path);
}

gboolean
netlab_run (NetLab * lab, NetLabRole role, gchar ** output, GError ** error,
    const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) "ip");
  g_ptr_array_add (argv, (gpointer) "netns");
  g_ptr_array_add (argv, (gpointer) "exec");
  g_ptr_array_add (argv, lab->ns[role]);
  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, gchar *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  return run_argv ((const gchar * const *) argv->pdata, output, error);
}

/* --- availability --- */

/* Root, and NETLAB_NOT_ROOT_ENV unset. */
static gboolean
have_root (void)
{
  return geteuid () == 0 && !g_getenv (NETLAB_NOT_ROOT_ENV);
}

static gboolean
probe (gchar ** reason)
{
  static const gchar *const tools[] = { "ip", "nft", "sysctl", "turnserver",
    "openssl", NULL
  };
  g_autofree gchar *name = g_strdup_printf (NS_PREFIX "%d-probe",
      (gint) getpid ());
  g_autoptr (GError) error = NULL;
  const gchar *const *tool;
  const gchar *fork_mode = g_getenv ("CK_FORK");

  if (!have_root ()) {
    *reason = g_strdup (geteuid () != 0 ? "network namespaces need root" :
        "network namespaces need root (" NETLAB_NOT_ROOT_ENV " is set)");
    return FALSE;
  }
  /* The test process moves into a namespace for good: one process per
   * test, or the next test would start inside the last one's lab. */
  if (fork_mode && g_str_equal (fork_mode, "no")) {
    *reason = g_strdup ("CK_FORK=no: the lab needs one process per test");
    return FALSE;
  }
  for (tool = tools; *tool; tool++) {
    g_autofree gchar *path = g_find_program_in_path (*tool);
    if (!path) {
      *reason = g_strdup_printf ("%s is not installed "
          "(scripts/install-deps.sh)", *tool);
      return FALSE;
    }
  }
  {
    const gchar *add[] = { "ip", "netns", "add", name, NULL };
    const gchar *del[] = { "ip", "netns", "del", name, NULL };

    if (!run_argv (add, NULL, &error)) {
      *reason = g_strdup_printf ("cannot make a network namespace: %s",
          error->message);
      return FALSE;
    }
    run_argv (del, NULL, NULL);
  }
  return TRUE;
}

gboolean
netlab_available (gchar ** reason)
{
  static gsize done = 0;
  static gboolean available;
  static gchar *why;

  if (g_once_init_enter (&done)) {
    available = probe (&why);
    g_once_init_leave (&done, 1);
  }
  if (reason)
    *reason = g_strdup (why);
  return available;
}

gboolean
netlab_skip (const gchar * test)
{
  g_autofree gchar *reason = NULL;

  if (netlab_available (&reason))
    return FALSE;
  g_printerr ("SKIP: %s: %s\n", test, reason);
  return TRUE;
}

/* --- what dead test processes left --- */

/* The pid in a name "<prefix><pid>-…", or 0. */
static pid_t
owner_pid (const gchar * name, const gchar * prefix)
{
  const gchar *digits;
  gchar *end = NULL;
  guint64 pid;

  if (!g_str_has_prefix (name, prefix))
    return 0;
  digits = name + strlen (prefix);
  pid = g_ascii_strtoull (digits, &end, 10);
  if (end == digits || *end != '-' || pid == 0 || pid > G_MAXINT)
    return 0;
  return (pid_t) pid;
}

static gboolean
owner_is_gone (const gchar * name, const gchar * prefix)
{
  pid_t pid = owner_pid (name, prefix);

  return pid > 0 && kill (pid, 0) < 0 && errno == ESRCH;
}

static void
remove_flat_dir (const gchar * path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *entry;

  while (dir && (entry = g_dir_read_name (dir))) {
    g_autofree gchar *file = g_build_filename (path, entry, NULL);
    g_unlink (file);
  }
  g_rmdir (path);
}

static void
cleanup_stale_namespaces (void)
{
  g_autoptr (GDir) dir = g_dir_open (NETNS_DIR, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    const gchar *del[] = { "ip", "netns", "del", name, NULL };

    if (owner_is_gone (name, NS_PREFIX))
      run_argv (del, NULL, NULL);
  }
}

/* A TURN directory still there belongs to a test that failed (turn_stop()
 * removes it): its log is what explains the failure. */
static void
cleanup_stale_turn_dirs (void)
{
  const gchar *tmp = g_get_tmp_dir ();
  g_autoptr (GDir) dir = g_dir_open (tmp, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree gchar *path = NULL;
    g_autofree gchar *log_path = NULL;
    g_autofree gchar *log = NULL;

    if (!owner_is_gone (name, "whep-turn-"))
      continue;
    path = g_build_filename (tmp, name, NULL);
    log_path = g_build_filename (path, "coturn.log", NULL);
    if (g_file_get_contents (log_path, &log, NULL, NULL))
      g_printerr ("---- coturn log left by a failed test (%s) ----\n%s"
          "---- end of coturn log ----\n", path, log);
    remove_flat_dir (path);
  }
}

void
netlab_cleanup_stale (void)
{
  if (!have_root ())
    return;
  cleanup_stale_namespaces ();
  cleanup_stale_turn_dirs ();
}

/* --- building labs --- */

static NetLab *
lab_new (void)
{
  static guint counter;
  NetLab *lab = g_new0 (NetLab, 1);

  netlab_cleanup_stale ();
  lab->prefix = g_strdup_printf (NS_PREFIX "%d-%u", (gint) getpid (),
      counter++);
  lab->namespaces = g_ptr_array_new_with_free_func (g_free);
  return lab;
}

/* A namespace with lo up; every lab namespace starts like this. */
static gchar *
lab_add_ns (NetLab * lab, const gchar * host)
{
  gchar *name = g_strdup_printf ("%s-%s", lab->prefix, host);

  must ("ip netns add %s", name);
  g_ptr_array_add (lab->namespaces, g_strdup (name));
  must ("ip -n %s link set lo up", name);
  return name;
}

NetLab *
netlab_new_single (void)
{
  NetLab *lab = lab_new ();
  gchar *ns = lab_add_ns (lab, "one");
  gint role;

  for (role = 0; role < NETLAB_N_ROLES; role++) {
    lab->ns[role] = g_strdup (ns);
    lab->address[role] = "127.0.0.1";
  }
  g_free (ns);
  return lab;
}

/* Client 10.3.0.1 and server 10.3.0.2, each alone in its namespace with
 * a TUN device "wire"; whep-netdelay carries the packets between the two
 * (netlab_set_delay).  The other roles are the server's namespace. */
NetLab *
netlab_new_wire (void)
{
  NetLab *lab = lab_new ();
  gint role;

  lab->ns[NETLAB_CLIENT] = lab_add_ns (lab, "c");
  lab->address[NETLAB_CLIENT] = "10.3.0.1";
  lab->ns[NETLAB_SERVER] = lab_add_ns (lab, "s");
  lab->address[NETLAB_SERVER] = "10.3.0.2";
  for (role = NETLAB_SERVER + 1; role < NETLAB_N_ROLES; role++) {
    lab->ns[role] = g_strdup (lab->ns[NETLAB_SERVER]);
    lab->address[role] = lab->address[NETLAB_SERVER];
  }
  for (role = NETLAB_CLIENT; role <= NETLAB_SERVER; role++) {
    const gchar *ns = lab->ns[role];

    must ("ip -n %s tuntap add dev wire mode tun", ns);
    must ("ip -n %s addr add %s peer %s dev wire", ns, lab->address[role],
        lab->address[role == NETLAB_CLIENT ? NETLAB_SERVER : NETLAB_CLIENT]);
    must ("ip -n %s link set wire up", ns);
  }
  start_wire (lab);
  return lab;
}

/* The public segment: a bridge the routers plug into, coturn's address,
 * and a default route into a link without carrier, so that what is sent
 * to a private address vanishes instead of failing the sender (coturn
 * drops an allocation whose relay gets ENETUNREACH). */
static void
build_public (NetLab * lab)
{
  const gchar *pub = lab->ns[NETLAB_PUBLIC];

  must ("ip -n %s link add br0 type bridge", pub);
  must ("ip -n %s addr add %s/24 dev br0", pub, lab->address[NETLAB_PUBLIC]);
  must ("ip -n %s link set br0 up", pub);
  must ("ip -n %s link add void0 type veth peer name void1", pub);
  must ("ip -n %s link set void0 up", pub);
  must ("ip -n %s route add default dev void0", pub);
}

/* The router's rules: masquerade on the public side (a fresh random port
 * per destination when @symmetric), inbound packets only for existing
 * mappings (dropped silently, as home routers do), and for the server's
 * router every TCP port forwarded to the server. */
static gchar *
router_ruleset (gboolean symmetric, const gchar * forward_tcp_to)
{
  g_autofree gchar *dnat = forward_tcp_to ?
      g_strdup_printf ("iifname \"wan\" meta l4proto tcp dnat to %s",
      forward_tcp_to) : g_strdup ("");

  /* One line per nft line: indent would join them. */
  /* *INDENT-OFF* */
  return g_strdup_printf ("table ip whepnat {\n"
      "  chain prerouting {\n"
      "    type nat hook prerouting priority dstnat; policy accept;\n"
      "    %s\n"
      "  }\n"
      "  chain postrouting {\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    oifname \"wan\" masquerade%s\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority filter; policy accept;\n"
      "    iifname \"wan\" ct state established,related accept\n"
      "    iifname \"wan\" ct status dnat accept\n"
      "    iifname \"wan\" drop\n"
      "  }\n"
      "  chain input {\n"
      "    type filter hook input priority filter; policy accept;\n"
      "    iifname \"wan\" ct state established,related accept\n"
      "    iifname \"wan\" meta l4proto udp drop\n"
      "  }\n"
      "}\n", dnat, symmetric ? " random,fully-random" : "");
  /* *INDENT-ON* */
}

/* conntrack's UDP timeouts are per namespace: they shorten the router's
 * mappings only. */
static void
set_udp_timeout (const gchar * ns, guint seconds)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  const gchar *get[] = { "ip", "netns", "exec", ns, "sysctl", "-n",
    "net.netfilter.nf_conntrack_udp_timeout_stream", NULL
  };

  must ("ip netns exec %s sysctl -qw net.netfilter.nf_conntrack_udp_timeout=%u"
      " net.netfilter.nf_conntrack_udp_timeout_stream=%u", ns, seconds,
      seconds);
  fail_unless (run_argv (get, &out, &error), "%s", error ? error->message : "");
  fail_unless_equals_int (atoi (out), seconds);
}

/* One side: host (10.N.0.2) ── router (10.N.0.1 | public address). */
static void
build_side (NetLab * lab, NetLabRole host, NetLabRole router, guint net,
    gboolean symmetric, guint udp_timeout_s, gboolean forward_tcp)
{
  const gchar *h = lab->ns[host], *r = lab->ns[router];
  const gchar *pub = lab->ns[NETLAB_PUBLIC];
  g_autofree gchar *port = g_strdup_printf ("nat%u", net);
  g_autofree gchar *rules = router_ruleset (symmetric, forward_tcp ?
      lab->address[host] : NULL);

  must ("ip -n %s link add wan type veth peer name %s netns %s", r, port, pub);
  must ("ip -n %s link set %s master br0", pub, port);
  must ("ip -n %s link set %s up", pub, port);
  must ("ip -n %s addr add %s/24 dev wan", r, lab->address[router]);
  must ("ip -n %s link set wan up", r);
  must ("ip -n %s route add default via %s", r, lab->address[NETLAB_PUBLIC]);

  must ("ip -n %s link add lan type veth peer name eth0 netns %s", r, h);
  must ("ip -n %s addr add 10.%u.0.1/24 dev lan", r, net);
  must ("ip -n %s link set lan up", r);
  must ("ip -n %s addr add %s/24 dev eth0", h, lab->address[host]);
  must ("ip -n %s link set eth0 up", h);
  must ("ip -n %s route add default via 10.%u.0.1", h, net);

  must ("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1", r);
  nft_load (r, rules);
  if (udp_timeout_s)
    set_udp_timeout (r, udp_timeout_s);
}

NetLab *
netlab_new_nat (const NetLabNat * nat)
{
  static const gchar *const hosts[NETLAB_N_ROLES] = { "c", "s", "pub", "nc",
    "ns"
  };
  static const gchar *const addresses[NETLAB_N_ROLES] = { "10.1.0.2",
    "10.2.0.2", "203.0.113.1", "203.0.113.2", "203.0.113.3"
  };
  NetLab *lab = lab_new ();
  gint role;

  for (role = 0; role < NETLAB_N_ROLES; role++) {
    lab->ns[role] = lab_add_ns (lab, hosts[role]);
    lab->address[role] = addresses[role];
  }
  build_public (lab);
  build_side (lab, NETLAB_CLIENT, NETLAB_CLIENT_NAT, 1, nat->client_symmetric,
      nat->udp_timeout_s, FALSE);
  build_side (lab, NETLAB_SERVER, NETLAB_SERVER_NAT, 2, nat->server_symmetric,
      nat->udp_timeout_s, TRUE);
  return lab;
}

void
netlab_free (NetLab * lab)
{
  gint role;
  guint i;

  if (!lab)
    return;
  stop_wire (lab);
  for (i = lab->namespaces->len; i > 0; i--) {
    const gchar *name = g_ptr_array_index (lab->namespaces, i - 1);
    const gchar *del[] = { "ip", "netns", "del", name, NULL };
    g_autoptr (GError) error = NULL;

    if (!run_argv (del, NULL, &error))
      g_printerr ("network lab: %s\n", error->message);
  }
  for (role = 0; role < NETLAB_N_ROLES; role++)
    g_free (lab->ns[role]);
  g_ptr_array_unref (lab->namespaces);
  g_free (lab->prefix);
  g_free (lab);
}

/* --- using labs --- */

const gchar *
netlab_ns (NetLab * lab, NetLabRole role)
{
  return lab->ns[role];
}

const gchar *
netlab_address (NetLab * lab, NetLabRole role)
{
  return lab->address[role];
}

gchar *
netlab_public_url (NetLab * lab, const gchar * url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  fail_unless (uri != NULL, "not a URL: %s", url);
  if (g_str_equal (lab->address[NETLAB_SERVER], "127.0.0.1"))
    return g_strdup (url);
  return g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri),
      g_uri_get_userinfo (uri), lab->address[NETLAB_SERVER_NAT],
      g_uri_get_port (uri), g_uri_get_path (uri), g_uri_get_query (uri),
      g_uri_get_fragment (uri));
}

static guint
thread_count (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

static gint
open_ns (const gchar * name)
{
  g_autofree gchar *path = g_build_filename (NETNS_DIR, name, NULL);
  gint fd = open (path, O_RDONLY | O_CLOEXEC);

  fail_unless (fd >= 0, "cannot open %s: %s", path, g_strerror (errno));
  return fd;
}

void
netlab_enter (NetLab * lab, NetLabRole role)
{
  g_autofree gchar *path = g_build_filename (NETNS_DIR, lab->ns[role], NULL);
  struct stat want, now;
  guint threads = thread_count ();
  gint fd;

  /* setns() moves the calling thread only; threads made later inherit
   * it.  Any thread already running would stay outside. */
  fail_unless (threads == 1, "the test process has %u threads: enter the "
      "lab before starting anything (GStreamer, GSubprocess…)", threads);
  fd = open_ns (lab->ns[role]);
  fail_unless (setns (fd, CLONE_NEWNET) == 0, "setns %s: %s", path,
      g_strerror (errno));
  close (fd);
  fail_unless (stat (path, &want) == 0 && stat ("/proc/thread-self/ns/net",
          &now) == 0);
  fail_unless (want.st_ino == now.st_ino && want.st_dev == now.st_dev,
      "setns did not move the process into %s", lab->ns[role]);
}

void
netlab_block_udp (NetLab * lab, NetLabRole role, gboolean block)
{
  /* Input and forward, never output: a sender sees no error, its packets
   * are just lost. */
  /* *INDENT-OFF* */
  static const gchar ruleset[] = "table inet whepblock {\n"
      "  chain input {\n"
      "    type filter hook input priority filter - 10; policy accept;\n"
      "    udp sport 53 accept\n"
      "    udp dport 53 accept\n"
      "    meta l4proto udp drop\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority filter - 10; policy accept;\n"
      "    udp sport 53 accept\n"
      "    udp dport 53 accept\n"
      "    meta l4proto udp drop\n"
      "  }\n"
      "}\n";
  /* *INDENT-ON* */
  const gchar *del[] = { "ip", "netns", "exec", lab->ns[role], "nft",
    "delete", "table", "inet", "whepblock", NULL
  };

  /* Idempotent both ways: the table is replaced or removed whole. */
  run_argv (del, NULL, NULL);
  if (block)
    nft_load (lab->ns[role], ruleset);
}

void
netlab_cut (NetLab * lab, NetLabRole role, gboolean cut)
{
  /* Every packet, TCP too: a cable pulled.  Input and forward only, as
   * for netlab_block_udp(). */
  /* *INDENT-OFF* */
  static const gchar ruleset[] = "table inet whepcut {\n"
      "  chain input {\n"
      "    type filter hook input priority filter - 20; policy drop;\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority filter - 20; policy drop;\n"
      "  }\n"
      "}\n";
  /* *INDENT-ON* */
  const gchar *del[] = { "ip", "netns", "exec", lab->ns[role], "nft",
    "delete", "table", "inet", "whepcut", NULL
  };

  run_argv (del, NULL, NULL);
  if (cut)
    nft_load (lab->ns[role], ruleset);
}

void
netlab_lose_udp (NetLab * lab, NetLabRole role, guint percent)
{
  const gchar *del[] = { "ip", "netns", "exec", lab->ns[role], "nft",
    "delete", "table", "inet", "wheploss", NULL
  };

  g_return_if_fail (percent <= 100);
  run_argv (del, NULL, NULL);
  if (percent > 0) {
    g_autofree gchar *ruleset = g_strdup_printf ("table inet wheploss {\n"
        "  chain input {\n"
        "    type filter hook input priority filter - 5; policy accept;\n"
        "    udp sport 53 accept\n"
        "    udp dport 53 accept\n"
        "    meta l4proto udp numgen random mod 100 < %u drop\n"
        "  }\n" "}\n", percent);

    nft_load (lab->ns[role], ruleset);
  }
}

gboolean
netlab_can_delay (void)
{
  const gchar *tool = g_getenv ("WHEP_NETDELAY");

  return tool && g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE);
}

/* The wire's end of the control pipe closes: whep-netdelay stops. */
static void
stop_wire (NetLab * lab)
{
  if (!lab->wire)
    return;
  close (lab->wire_control);
  waitpid (lab->wire, NULL, 0);
  g_spawn_close_pid (lab->wire);
  lab->wire = 0;
}

static void
start_wire (NetLab * lab)
{
  g_autofree gchar *a = g_build_filename (NETNS_DIR, lab->ns[NETLAB_CLIENT],
      NULL);
  g_autofree gchar *b = g_build_filename (NETNS_DIR, lab->ns[NETLAB_SERVER],
      NULL);
  const gchar *argv[] = { g_getenv ("WHEP_NETDELAY"), "--ns-a", a, "--ns-b",
    b, "--dev", "wire", "--control", "--seconds", "900", NULL
  };
  g_autoptr (GError) error = NULL;
  gchar ready[6] = { 0 };

  fail_unless (netlab_can_delay (), "no whep-netdelay (WHEP_NETDELAY)");
  /* A process, not a thread: the test process may still enter a
   * namespace afterwards. */
  fail_unless (g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &lab->wire,
          &lab->wire_control, &lab->wire_output, NULL, &error),
      "whep-netdelay: %s", error ? error->message : "?");
  fail_unless (read (lab->wire_output, ready, 6) == 6
      && !strncmp (ready, "READY\n", 6), "whep-netdelay did not start");
}

void
netlab_set_delay (NetLab * lab, guint delay_ms, guint jitter_ms)
{
  g_autofree gchar *line = g_strdup_printf ("DELAY %u %u\n", delay_ms,
      jitter_ms);
  gchar echo[64] = { 0 };
  gsize len = strlen (line);

  fail_unless (lab->wire != 0, "netlab_set_delay: not a wire lab");
  fail_unless (write (lab->wire_control, line, len) == (gssize) len);
  /* It says the line back once it applies it. */
  fail_unless (read (lab->wire_output, echo, len) == (gssize) len
      && !strncmp (echo, line, len), "whep-netdelay did not take '%s'",
      g_strstrip (line));
}

gint
netlab_socket (NetLab * lab, NetLabRole role, gint type,
    const gchar * address, guint16 port)
{
  const gint on = 1;
  struct sockaddr_in sin = { 0, };
  gint here = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  gint there = open_ns (lab->ns[role]);
  gint fd;

  /* A socket belongs to the namespace it was made in, whatever thread
   * uses it later: make it there, and come back. */
  fail_unless (here >= 0 && setns (there, CLONE_NEWNET) == 0);
  fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);
  fail_unless (setns (here, CLONE_NEWNET) == 0);
  close (here);
  close (there);
  fail_unless (fd >= 0);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof (on));

  sin.sin_family = AF_INET;
  sin.sin_port = htons (port);
  fail_unless (inet_pton (AF_INET, address, &sin.sin_addr) == 1);
  fail_unless (bind (fd, (struct sockaddr *) &sin, sizeof (sin)) == 0,
      "bind %s:%u: %s", address, port, g_strerror (errno));
  return fd;
}
