/* whepsrc network tests: TURN (UDP, TCP, TLS, time-limited credentials,
 * wrong credentials, servers from Link headers) and NATs (symmetric,
 * short UDP mappings), in network namespaces made for each test
 * (netlab.c) with coturn (turnlab.c) and the project's WHEP test server.
 *
 * Each test runs in its own process (CK_FORK), which moves into the
 * client's namespace before anything else starts: whepsrc, webrtcbin,
 * libnice and libsoup then see nothing but the lab.  Nothing leaves the
 * machine: the lab's addresses exist only inside its namespaces.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "netlab.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- one test's lab: namespaces, coturn, WHEP server, player --- */

static void
print_duration (const gchar * test, gint64 started)
{
  g_print ("network: %s took %.1f s\n", test,
      (g_get_monotonic_time () - started) / 1e6);
}

typedef struct
{
  const gchar *test;
  gint64 started;
  NetLab *lab;
  TurnServer *turn;
  TestServer *server;
  Player *p;
} Lab;

/* The process enters the client's namespace first: every thread made
 * afterwards (GSubprocess's, GStreamer's) is born there. */
static Lab *
lab_enter (const gchar * test, NetLab * netlab, const TurnOptions * turn)
{
  Lab *lab = g_new0 (Lab, 1);

  lab->test = test;
  lab->started = g_get_monotonic_time ();
  lab->lab = netlab;
  netlab_enter (lab->lab, NETLAB_CLIENT);
  if (turn)
    lab->turn = turn_start (lab->lab, NETLAB_PUBLIC, turn);
  return lab;
}

/* The WHEP server in its namespace, and a player for it that uses the
 * client's address only. */
static void
lab_start_server_argv (Lab * lab, const gchar * const *args)
{
  g_autofree gchar *endpoint = NULL;

  lab->server = server_start_in_netns_argv (netlab_ns (lab->lab,
          NETLAB_SERVER), netlab_address (lab->lab, NETLAB_SERVER), args);
  endpoint = netlab_public_url (lab->lab, lab->server->endpoint);
  lab->p = player_new (endpoint);
  g_object_set (lab->p->src, "ice-local-addresses",
      netlab_address (lab->lab, NETLAB_CLIENT), NULL);
}

/* The libwebrtc server of the interop suite ("wrtc-server.js" and its
 * options in @args) in the server's namespace, on its address; TRUE, or
 * FALSE with a SKIP line when node or its npm packages are missing. */
static gboolean
interop_server_available (const gchar * test)
{
  const gchar *dir = g_getenv ("WHEP_INTEROP_DIR");
  g_autofree gchar *node = g_find_program_in_path ("node");
  g_autofree gchar *wrtc = dir ? g_build_filename (dir, "node_modules",
      "@roamhq", "wrtc", "package.json", NULL) : NULL;

  if (dir && node && g_file_test (wrtc, G_FILE_TEST_EXISTS))
    return TRUE;
  g_print ("SKIP: %s: no node or no npm packages in tests/interop "
      "(scripts/install-deps.sh installs them)\n", test);
  return FALSE;
}

static void
lab_start_interop_server (Lab * lab, const gchar * const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *endpoint = NULL;
  const gchar *address = netlab_address (lab->lab, NETLAB_SERVER);
  const gchar *const *arg;

  g_ptr_array_add (argv, g_strdup ("ip"));
  g_ptr_array_add (argv, g_strdup ("netns"));
  g_ptr_array_add (argv, g_strdup ("exec"));
  g_ptr_array_add (argv, g_strdup (netlab_ns (lab->lab, NETLAB_SERVER)));
  g_ptr_array_add (argv, g_find_program_in_path ("node"));
  g_ptr_array_add (argv, g_build_filename (g_getenv ("WHEP_INTEROP_DIR"),
          args[0], NULL));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup ("0"));
  g_ptr_array_add (argv, g_strdup ("--address"));
  g_ptr_array_add (argv, g_strdup (address));
  g_ptr_array_add (argv, g_strdup ("--ice-address"));
  g_ptr_array_add (argv, g_strdup (address));
  for (arg = args + 1; *arg; arg++)
    g_ptr_array_add (argv, g_strdup (*arg));
  g_ptr_array_add (argv, NULL);
  lab->server = server_start_program ((const gchar * const *) argv->pdata,
      20000);
  endpoint = netlab_public_url (lab->lab, lab->server->endpoint);
  lab->p = player_new (endpoint);
  g_object_set (lab->p->src, "ice-local-addresses",
      netlab_address (lab->lab, NETLAB_CLIENT), NULL);
}

static void
lab_start_server (Lab * lab, const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  lab_start_server_argv (lab, (const gchar * const *) args->pdata);
}

static void
lab_set_turn (Lab * lab, const gchar * uri, gboolean relay_only)
{
  g_object_set (lab->p->src, "turn-server", uri, NULL);
  if (relay_only)
    gst_util_set_object_arg (G_OBJECT (lab->p->src), "ice-transport-policy",
        "relay");
}

/* Stops the player (whepsrc DELETEs), checks that the server kept no
 * session, and takes the lab down. */
static void
lab_finish (Lab * lab)
{
  if (lab->p) {
    gst_element_set_state (lab->p->pipeline, GST_STATE_NULL);
    server_assert_no_leak (lab->server);
    player_free (lab->p);
    server_stop (lab->server);
  }
  turn_stop (lab->turn);
  netlab_free (lab->lab);
  print_duration (lab->test, lab->started);
  g_free (lab);
}

static void
fail_with_turn_log (Lab * lab, GstMessage * error)
{
  g_autoptr (GError) err = NULL;

  gst_message_parse_error (error, &err, NULL);
  if (lab->turn)
    turn_print_log (lab->turn);
  fail ("unexpected error: %s", err->message);
}

/* The candidate pair in use: prints it, checks its local type. */
static GstStructure *
check_pair (Lab * lab, const gchar * local_type)
{
  GstStructure *pair = stats_candidate_pair (lab->p);
  g_autofree gchar *text = NULL;

  fail_unless (pair != NULL, "no candidate pair in the statistics");
  text = gst_structure_to_string (pair);
  g_print ("network: %s: %s\n", lab->test, text);
  fail_unless_equals_string (gst_structure_get_string (pair, "local-type"),
      local_type);
  return pair;
}

/* Plays @frames frames without error, hole or repeat, through a relay;
 * returns the candidate pair (free it). */
static GstStructure *
play_via_relay (Lab * lab, guint frames)
{
  GstMessage *error = player_run (lab->p, frames_at_least,
      GUINT_TO_POINTER (frames), 20000);

  if (error)
    fail_with_turn_log (lab, error);
  fail_unless (player_video_frames (lab->p) >= frames, "only %u frames",
      player_video_frames (lab->p));
  g_mutex_lock (&lab->p->lock);
  fail_unless (lab->p->counted + 2 >= lab->p->video_frames,
      "frame counter unreadable");
  fail_unless_equals_int (lab->p->gaps, 0);
  fail_unless_equals_int (lab->p->repeats, 0);
  g_mutex_unlock (&lab->p->lock);
  return check_pair (lab, "relay");
}

/* Stops the player: whepsrc DELETEs its session before the state change
 * returns.  (A session whose ICE failed may have been ended by the server
 * first: lab_finish() counts it as gone all the same.) */
static void
stop_player (Lab * lab)
{
  gst_element_set_state (lab->p->pipeline, GST_STATE_NULL);
  fail_unless (server_count (lab->server, "EVENT deleted") >= 1,
      "no DELETE seen by the server when whepsrc stopped");
}

/* Runs until whepsrc posts an error; returns it and how long it took. */
static GstMessage *
run_until_error (Lab * lab, guint bound_ms, gdouble * seconds)
{
  gint64 start = g_get_monotonic_time ();
  GstMessage *error = player_run (lab->p, NULL, NULL, bound_ms);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;

  *seconds = (g_get_monotonic_time () - start) / 1e6;
  fail_unless (error != NULL, "no error within %u ms (hang?)", bound_ms);
  gst_message_parse_error (error, &err, &debug);
  g_print ("network: %s: error after %.1f s: \"%s\" (%s)\n", lab->test,
      *seconds, err->message, GST_STR_NULL (debug));
  return error;
}

/* Whether a TCP connection to @port is established in the client's
 * namespace (the test process's). */
static gboolean
tcp_established_to (Lab * lab, guint port)
{
  g_autofree gchar *out = NULL;
  g_autofree gchar *dport = g_strdup_printf (":%u", port);
  g_autoptr (GError) error = NULL;

  fail_unless (netlab_run (lab->lab, NETLAB_CLIENT, &out, &error, "ss",
          "-Htn", "state", "established", "dport", "=", dport, NULL),
      "%s", error ? error->message : "");
  return out && *g_strstrip (out);
}

/* --- the lab itself --- */

static guint16
received_from (gint fd, gchar ** address)
{
  struct sockaddr_in from;
  socklen_t len = sizeof (from);
  struct pollfd pfd = { fd, POLLIN, 0 };
  gchar buf[64];
  gchar text[INET_ADDRSTRLEN];

  if (poll (&pfd, 1, 500) != 1)
    return 0;
  if (recvfrom (fd, buf, sizeof (buf), 0, (struct sockaddr *) &from, &len) < 0)
    return 0;
  if (address)
    *address = g_strdup (inet_ntop (AF_INET, &from.sin_addr, text,
            sizeof (text)));
  return ntohs (from.sin_port);
}

static void
send_to (gint fd, const gchar * address, guint16 port)
{
  struct sockaddr_in to = { 0, };

  to.sin_family = AF_INET;
  to.sin_port = htons (port);
  inet_pton (AF_INET, address, &to.sin_addr);
  fail_unless (sendto (fd, "x", 1, 0, (struct sockaddr *) &to,
          sizeof (to)) == 1);
}

/* The source port @to_fd sees for a datagram from @from_fd (0: none
 * arrived); checks the source address. */
static guint16
mapped_port (gint from_fd, gint to_fd, const gchar * to_address,
    guint16 to_port, const gchar * expected_source)
{
  g_autofree gchar *source = NULL;
  guint16 port;

  send_to (from_fd, to_address, to_port);
  port = received_from (to_fd, &source);
  if (port)
    fail_unless_equals_string (source, expected_source);
  return port;
}

GST_START_TEST (test_lab_single_has_only_loopback)
{
  struct ifaddrs *ifs = NULL, *i;
  NetLab *lab;
  gint64 started = g_get_monotonic_time ();

  if (netlab_skip (__func__))
    return;
  lab = netlab_new_single ();
  netlab_enter (lab, NETLAB_CLIENT);
  fail_unless (getifaddrs (&ifs) == 0);
  for (i = ifs; i; i = i->ifa_next)
    fail_unless_equals_string (i->ifa_name, "lo");
  freeifaddrs (ifs);
  netlab_free (lab);
  print_duration (__func__, started);
}

GST_END_TEST;

/* Mappings: symmetric on the client's side, port-preserving on the
 * server's; inbound only for existing mappings; no route between the
 * private sides; and mappings that expire after the UDP timeout. */
GST_START_TEST (test_lab_nat_maps_filters_and_expires)
{
  NetLabNat nat = { TRUE, FALSE, 2 };
  NetLab *lab;
  gint pub1, pub2, pub3, client, server;
  guint16 mapped, port;
  g_autofree gchar *timeout = NULL;
  gint64 started = g_get_monotonic_time ();

  if (netlab_skip (__func__))
    return;
  lab = netlab_new_nat (&nat);
  pub1 = netlab_socket (lab, NETLAB_PUBLIC, SOCK_DGRAM, "203.0.113.1", 40001);
  pub2 = netlab_socket (lab, NETLAB_PUBLIC, SOCK_DGRAM, "203.0.113.1", 40002);
  pub3 = netlab_socket (lab, NETLAB_PUBLIC, SOCK_DGRAM, "203.0.113.1", 40003);
  client = netlab_socket (lab, NETLAB_CLIENT, SOCK_DGRAM, "10.1.0.2", 5000);
  server = netlab_socket (lab, NETLAB_SERVER, SOCK_DGRAM, "10.2.0.2", 5000);

  /* Symmetric: one mapping per destination, kept while in use. */
  mapped = mapped_port (client, pub1, "203.0.113.1", 40001, "203.0.113.2");
  fail_unless (mapped != 0);
  fail_unless_equals_int (mapped_port (client, pub1, "203.0.113.1", 40001,
          "203.0.113.2"), mapped);
  port = mapped_port (client, pub2, "203.0.113.1", 40002, "203.0.113.2");
  fail_unless (port != 0 && port != mapped, "not symmetric: %u, %u", mapped,
      port);
  /* The peer answers through the mapping. */
  send_to (pub1, "203.0.113.2", mapped);
  fail_unless_equals_int (received_from (client, NULL), 40001);

  /* Port-preserving: the same public port for every destination; but
   * only the peers it sent to get in. */
  fail_unless_equals_int (mapped_port (server, pub1, "203.0.113.1", 40001,
          "203.0.113.3"), 5000);
  fail_unless_equals_int (mapped_port (server, pub2, "203.0.113.1", 40002,
          "203.0.113.3"), 5000);
  send_to (pub3, "203.0.113.3", 5000);
  fail_unless_equals_int (received_from (server, NULL), 0);

  /* No way between the private sides. */
  send_to (client, "10.2.0.2", 5000);
  fail_unless_equals_int (received_from (server, NULL), 0);

  /* Idle longer than the timeout: a new mapping. */
  g_usleep (3 * G_USEC_PER_SEC);
  port = mapped_port (client, pub1, "203.0.113.1", 40001, "203.0.113.2");
  fail_unless (port != 0 && port != mapped, "mapping did not expire");

  /* The timeout is the routers' own. */
  fail_unless (netlab_run (lab, NETLAB_CLIENT, &timeout, NULL, "sysctl", "-n",
          "net.netfilter.nf_conntrack_udp_timeout", NULL));
  fail_if (atoi (timeout) == 2);

  close (pub1);
  close (pub2);
  close (pub3);
  close (client);
  close (server);
  netlab_free (lab);
  print_duration (__func__, started);
}

GST_END_TEST;

GST_START_TEST (test_lab_block_udp_keeps_tcp)
{
  NetLab *lab;
  gint a, b, dns, listener, conn, accepted;
  struct sockaddr_in to = { 0, };
  gchar c = 0;
  gint64 started = g_get_monotonic_time ();

  if (netlab_skip (__func__))
    return;
  lab = netlab_new_single ();
  a = netlab_socket (lab, NETLAB_CLIENT, SOCK_DGRAM, "127.0.0.1", 40001);
  b = netlab_socket (lab, NETLAB_CLIENT, SOCK_DGRAM, "127.0.0.1", 40002);
  dns = netlab_socket (lab, NETLAB_CLIENT, SOCK_DGRAM, "127.0.0.1", 53);
  send_to (a, "127.0.0.1", 40002);
  fail_unless_equals_int (received_from (b, NULL), 40001);

  netlab_block_udp (lab, NETLAB_CLIENT, TRUE);
  send_to (a, "127.0.0.1", 40002);
  fail_unless_equals_int (received_from (b, NULL), 0);
  send_to (a, "127.0.0.1", 53);
  fail_unless_equals_int (received_from (dns, NULL), 40001);

  listener = netlab_socket (lab, NETLAB_CLIENT, SOCK_STREAM, "127.0.0.1",
      40003);
  fail_unless (listen (listener, 1) == 0);
  conn = netlab_socket (lab, NETLAB_CLIENT, SOCK_STREAM, "127.0.0.1", 0);
  to.sin_family = AF_INET;
  to.sin_port = htons (40003);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  fail_unless (connect (conn, (struct sockaddr *) &to, sizeof (to)) == 0);
  accepted = accept (listener, NULL, NULL);
  fail_unless (accepted >= 0);
  fail_unless (write (conn, "t", 1) == 1 && read (accepted, &c, 1) == 1);
  fail_unless_equals_int (c, 't');

  netlab_block_udp (lab, NETLAB_CLIENT, FALSE);
  send_to (a, "127.0.0.1", 40002);
  fail_unless_equals_int (received_from (b, NULL), 40001);

  close (accepted);
  close (conn);
  close (listener);
  close (dns);
  close (a);
  close (b);
  netlab_free (lab);
  print_duration (__func__, started);
}

GST_END_TEST;

/* --- TURN on loopback (one namespace) --- */

static void
check_relay_plays (const gchar * test, const TurnOptions * options,
    const gchar * scheme, const gchar * transport, guint tcp_port)
{
  Lab *lab;
  g_autofree gchar *uri = NULL;

  if (netlab_skip (test))
    return;
  lab = lab_enter (test, netlab_new_single (), options);
  lab_start_server (lab, NULL);
  uri = turn_uri (lab->turn, scheme, transport);
  lab_set_turn (lab, uri, TRUE);
  gst_structure_free (play_via_relay (lab, 60));
  if (tcp_port)
    fail_unless (tcp_established_to (lab, tcp_port),
        "no TCP connection to the TURN server's port %u", tcp_port);
  fail_unless (turn_log_count (lab->turn, "ALLOCATE processed, success") > 0);
  fail_unless_equals_int (turn_log_count (lab->turn,
          "Cannot find credentials"), 0);
  stop_player (lab);
  lab_finish (lab);
}

GST_START_TEST (test_relay_on_loopback)
{
  TurnOptions options = { TURN_AUTH_PASSWORD, FALSE, FALSE };

  check_relay_plays (__func__, &options, "turn", NULL, 0);
}

GST_END_TEST;

GST_START_TEST (test_relay_over_tcp)
{
  TurnOptions options = { TURN_AUTH_PASSWORD, FALSE, FALSE };

  check_relay_plays (__func__, &options, "turn", "tcp", 3478);
}

GST_END_TEST;

/* turns:// to a self-signed certificate: libnice does not check it. */
GST_START_TEST (test_relay_over_tls)
{
  TurnOptions options = { TURN_AUTH_PASSWORD, FALSE, TRUE };

  check_relay_plays (__func__, &options, "turns", NULL, 5349);
}

GST_END_TEST;

/* "<expiry>:whep" as user name: the ':' goes percent-encoded into the
 * URI, and webrtcbin (1.22 too) decodes it after splitting user from
 * password. */
GST_START_TEST (test_relay_time_limited_credentials)
{
  TurnOptions options = { TURN_AUTH_SECRET, FALSE, FALSE };

  check_relay_plays (__func__, &options, "turn", "udp", 0);
}

GST_END_TEST;

GST_START_TEST (test_wrong_turn_credentials_error)
{
  TurnOptions options = { TURN_AUTH_PASSWORD, FALSE, FALSE };
  g_autofree gchar *uri = NULL;
  g_autoptr (GError) err = NULL;
  GstMessage *error;
  gdouble seconds;
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_single (), &options);
  lab_start_server (lab, NULL);
  uri = turn_uri_with (lab->turn, "turn", TURN_USER, "wrong", "udp");
  lab_set_turn (lab, uri, TRUE);

  /* Default max-retries: a password that is wrong stays wrong, so nothing
   * having ever played, the error comes at once, after one WHEP session
   * (created and deleted), not after ten. */
  error = run_until_error (lab, 20000, &seconds);
  fail_unless (seconds < 5, "the error took %.1f s", seconds);
  fail_unless_equals_int (server_count (lab->server, "EVENT created"), 1);
  fail_unless_equals_int (stats_uint64 (lab->p, "sessions-created"), 1);
  fail_unless (turn_log_count (lab->turn, "error 401") > 0,
      "coturn never refused the credentials");
  gst_message_parse_error (error, &err, NULL);
  fail_unless (strstr (err->message, "TURN") != NULL,
      "the error does not name TURN: %s", err->message);
  gst_message_unref (error);
  lab_finish (lab);
}

GST_END_TEST;

/* Time-limited credentials whose password holds '/' or '+' as well as
 * '=': all of base64 that a URI must carry escaped or may carry as is. */
static void
awkward_rest_credentials (gchar ** user, gchar ** password)
{
  gint64 expiry = g_get_real_time () / G_USEC_PER_SEC + 3600;
  guint i;

  for (i = 0; i < 10000; i++) {
    g_autofree gchar *name = g_strdup_printf ("whep%u", i);

    turn_rest_credentials (TURN_SECRET, name, expiry, user, password);
    if (strchr (*password, '/') && strchr (*password, '+'))
      return;
    g_free (*user);
    g_free (*password);
  }
  fail ("no credentials with '/' and '+'");
}

static gboolean
frames_past (Player * p, gpointer data)
{
  return player_video_frames (p) >= GPOINTER_TO_UINT (data);
}

/* No turn-server: the first session cannot connect; the server's Link
 * header names a TURN server (time-limited credentials: ':' in the user
 * name, '/', '+' and '=' in the password), which the next session uses to
 * play through a relay, every frame from then on. */
static void
check_turn_from_link_header (Lab * lab, gboolean relay_only)
{
  g_autofree gchar *user = NULL;
  g_autofree gchar *password = NULL;
  g_autofree gchar *spec = NULL;
  GstMessage *error;
  guint frames;

  awkward_rest_credentials (&user, &password);
  spec = g_strdup_printf ("turn:%s:3478?transport=udp;username=%s;"
      "credential=%s", turn_address (lab->turn), user, password);
  g_print ("network: Link ice-server %s\n", spec);
  lab_start_server (lab, "--link-ice-server", spec, NULL);
  if (relay_only)
    gst_util_set_object_arg (G_OBJECT (lab->p->src), "ice-transport-policy",
        "relay");
  g_object_set (lab->p->src, "use-link-headers", TRUE, "max-retries", 3, NULL);

  error = player_run (lab->p, frames_at_least, GUINT_TO_POINTER (10), 40000);
  if (error)
    fail_with_turn_log (lab, error);
  fail_unless (player_video_frames (lab->p) >= 10, "nothing played in 40 s "
      "(%" G_GUINT64_FORMAT " sessions)", stats_uint64 (lab->p,
          "sessions-created"));
  fail_unless (stats_uint64 (lab->p, "sessions-created") >= 2,
      "the first session played without the Link header's TURN server");
  gst_structure_free (check_pair (lab, "relay"));
  fail_unless (turn_log_count (lab->turn, "ALLOCATE processed, success") > 0);

  player_reset_tracking (lab->p);
  frames = player_video_frames (lab->p);
  error = player_run (lab->p, frames_past, GUINT_TO_POINTER (frames + 60),
      15000);
  if (error)
    fail_with_turn_log (lab, error);
  g_mutex_lock (&lab->p->lock);
  fail_unless (lab->p->video_frames >= frames + 60);
  fail_unless_equals_int (lab->p->gaps, 0);
  fail_unless_equals_int (lab->p->repeats, 0);
  fail_unless (lab->p->max_arrival_gap_us < 500 * 1000,
      "a %" G_GINT64_FORMAT " ms wait between frames",
      lab->p->max_arrival_gap_us / 1000);
  g_mutex_unlock (&lab->p->lock);
  stop_player (lab);
}

/* Relay only: the first session has no candidate at all. */
GST_START_TEST (test_turn_from_link_header)
{
  TurnOptions options = { TURN_AUTH_SECRET, FALSE, FALSE };
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_single (), &options);
  check_turn_from_link_header (lab, TRUE);
  lab_finish (lab);
}

GST_END_TEST;

/* --- behind NATs --- */

/* The test server has no STUN or TURN of its own: behind its NAT its only
 * candidate is private, so coturn must accept it without a permission. */
static const TurnOptions nat_turn = { TURN_AUTH_PASSWORD, TRUE, FALSE };

GST_START_TEST (test_symmetric_nats_play_via_relay)
{
  NetLabNat nat = { TRUE, TRUE, 0 };
  g_autofree gchar *uri = NULL;
  GstStructure *pair;
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_nat (&nat), &nat_turn);
  lab_start_server (lab, NULL);
  uri = turn_uri (lab->turn, "turn", "udp");
  /* Every policy allowed: ICE finds the relay by itself. */
  lab_set_turn (lab, uri, FALSE);
  pair = play_via_relay (lab, 60);
  fail_unless_equals_string (gst_structure_get_string (pair,
          "local-address"), netlab_address (lab->lab, NETLAB_PUBLIC));
  /* The server, seen through its NAT. */
  fail_unless_equals_string (gst_structure_get_string (pair,
          "remote-address"), netlab_address (lab->lab, NETLAB_SERVER_NAT));
  gst_structure_free (pair);
  stop_player (lab);
  lab_finish (lab);
}

GST_END_TEST;

GST_START_TEST (test_symmetric_nats_without_turn_fail)
{
  NetLabNat nat = { TRUE, TRUE, 0 };
  GstMessage *error;
  gdouble seconds;
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_nat (&nat), NULL);
  lab_start_server (lab, NULL);
  g_object_set (lab->p->src, "timeout", 10, "max-retries", 0, NULL);
  error = run_until_error (lab, 30000, &seconds);
  assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "ICE", 0);
  gst_message_unref (error);
  fail_unless (seconds < 20, "the error took %.1f s", seconds);
  lab_finish (lab);
}

GST_END_TEST;

/* Every policy allowed: the first session's ICE fails between the
 * symmetric NATs; the next one relays through the Link header's TURN. */
GST_START_TEST (test_symmetric_nats_turn_from_link_header)
{
  NetLabNat nat = { TRUE, TRUE, 0 };
  TurnOptions options = { TURN_AUTH_SECRET, TRUE, FALSE };
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_nat (&nat), &options);
  check_turn_from_link_header (lab, FALSE);
  lab_finish (lab);
}

GST_END_TEST;

typedef struct
{
  gint playing;
  guint not_playing;            /* status checks that found anything else */
  gint sessions_lost;
} Watch;

static void
on_element_message (GstBus * bus, GstMessage * msg, Watch * watch)
{
  if (gst_message_has_name (msg, "whepsrc/session-lost"))
    g_atomic_int_inc (&watch->sessions_lost);
}

static gboolean
still_playing (Player * p, gpointer data)
{
  Watch *watch = data;

  if (!status_is (p, GINT_TO_POINTER (watch->playing)))
    watch->not_playing++;
  return FALSE;
}

/* How long the NAT soak plays: 30 s (two mapping lifetimes) in the
 * suite; WHEP_NAT_SOAK_S sets more (the 2 minutes of the docs). */
static guint
nat_soak_seconds (void)
{
  const gchar *env = g_getenv ("WHEP_NAT_SOAK_S");
  guint64 s = env ? g_ascii_strtoull (env, NULL, 10) : 0;

  return s >= 20 && s <= 3600 ? (guint) s : 30;
}

/* UDP mappings that expire after 15 s idle: a session must keep its own
 * alive (media, RTCP, consent checks, TURN refreshes) through several of
 * their lifetimes. */
GST_START_TEST (test_short_nat_mappings_keep_session)
{
  NetLabNat nat = { FALSE, FALSE, 15 };
  Watch watch = { 0, };
  g_autofree gchar *uri = NULL;
  GstBus *bus;
  GstMessage *error;
  guint before, played, seconds = nat_soak_seconds ();
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_nat (&nat), &nat_turn);
  lab_start_server (lab, NULL);
  uri = turn_uri (lab->turn, "turn", "udp");
  lab_set_turn (lab, uri, FALSE);
  watch.playing = status_value ("playing");
  bus = gst_element_get_bus (lab->p->pipeline);
  gst_bus_enable_sync_message_emission (bus);
  g_signal_connect (bus, "sync-message::element",
      G_CALLBACK (on_element_message), &watch);

  error = player_run (lab->p, status_is, GINT_TO_POINTER (watch.playing),
      20000);
  if (error)
    fail_with_turn_log (lab, error);
  gst_structure_free (check_pair (lab, "relay"));
  player_reset_tracking (lab->p);
  before = player_video_frames (lab->p);

  error = player_run (lab->p, still_playing, &watch, seconds * 1000);
  if (error)
    fail_with_turn_log (lab, error);
  played = player_video_frames (lab->p) - before;
  g_print ("network: %s: %u frames in %u s, longest wait %" G_GINT64_FORMAT
      " ms\n", __func__, played, seconds, lab->p->max_arrival_gap_us / 1000);
  fail_unless (played >= seconds * 30 * 9 / 10, "only %u frames in %u s",
      played, seconds);
  g_mutex_lock (&lab->p->lock);
  fail_unless_equals_int (lab->p->gaps, 0);
  fail_unless_equals_int (lab->p->repeats, 0);
  fail_unless (lab->p->max_arrival_gap_us < 1000 * 1000);
  g_mutex_unlock (&lab->p->lock);
  fail_unless_equals_int (g_atomic_int_get (&watch.sessions_lost), 0);
  fail_unless_equals_int (watch.not_playing, 0);
  fail_unless_equals_int (server_count (lab->server, "EVENT created"), 1);
  fail_unless_equals_int (stats_uint64 (lab->p, "sessions-created"), 1);
  gst_structure_free (check_pair (lab, "relay"));

  g_signal_handlers_disconnect_by_data (bus, &watch);
  gst_bus_disable_sync_message_emission (bus);
  gst_object_unref (bus);
  stop_player (lab);
  lab_finish (lab);
}

GST_END_TEST;

static gboolean
never (Player * p, gpointer data)
{
  return FALSE;
}

/* @percent % of the UDP packets lost at random, and every packet delayed
 * by @delay_ms ± @jitter_ms (packets overtaking each other), both ways,
 * for @seconds of play against the test server (with @server_args): never
 * a broken picture (every counter readable, none going backwards), and
 * the stream goes on.  Prints what was lost and how whepsrc coped. */
static void
check_impaired_play (const gchar * test, guint percent, guint delay_ms,
    guint jitter_ms, guint seconds, const gchar * const *server_args,
    gboolean retransmits)
{
  guint64 key_frames_before;
  g_autoptr (GstStructure) stats = NULL;
  g_autofree gchar *text = NULL;
  GstMessage *error;
  guint before, played, unreadable, backwards, gaps;
  gint64 freeze_ms;
  Lab *lab;

  gboolean wire = delay_ms || jitter_ms;

  if (netlab_skip (test))
    return;
  /* Delay needs two namespaces and the wire between them; loss alone is
   * simplest on one. */
  lab = lab_enter (test, wire ? netlab_new_wire () : netlab_new_single (),
      NULL);
  if (server_args[0] && g_str_has_suffix (server_args[0], ".js"))
    lab_start_interop_server (lab, server_args);
  else
    lab_start_server_argv (lab, server_args);
  error = player_run (lab->p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  if (error)
    fail_with_turn_log (lab, error);
  player_reset_tracking (lab->p);
  before = player_video_frames (lab->p);
  key_frames_before = stats_uint64 (lab->p, "key-frames-requested");

  /* Both ways: media, retransmissions, RTCP and NACKs alike. */
  netlab_lose_udp (lab->lab, NETLAB_CLIENT, percent);
  if (wire) {
    netlab_lose_udp (lab->lab, NETLAB_SERVER, percent);
    netlab_set_delay (lab->lab, delay_ms, jitter_ms);
  }
  error = player_run (lab->p, never, NULL, seconds * 1000);
  if (wire) {
    netlab_set_delay (lab->lab, 0, 0);
    netlab_lose_udp (lab->lab, NETLAB_SERVER, 0);
  }
  netlab_lose_udp (lab->lab, NETLAB_CLIENT, 0);
  if (error)
    fail_with_turn_log (lab, error);

  g_mutex_lock (&lab->p->lock);
  played = lab->p->video_frames - before;
  unreadable = lab->p->unreadable;
  backwards = lab->p->backwards;
  gaps = lab->p->gaps;
  freeze_ms = lab->p->max_freeze_us / 1000;
  g_mutex_unlock (&lab->p->lock);
  g_object_get (lab->p->src, "statistics", &stats, NULL);
  text = gst_structure_to_string (stats);
  g_print ("network: %s: %u %% loss, delay %u +/- %u ms, %u s: %u frames "
      "out, %u lost, longest freeze %" G_GINT64_FORMAT " ms, %u unreadable, "
      "%u backwards; %s\n", test, percent, delay_ms, jitter_ms, seconds,
      played, gaps, freeze_ms, unreadable, backwards, text);
  fail_unless_equals_int (unreadable, 0);
  fail_unless_equals_int (backwards, 0);
  fail_unless (played >= seconds * 30 / 2, "only %u frames in %u s", played,
      seconds);
  if (percent == 0) {
    /* Late and reordered, never lost: every picture shows. */
    fail_unless_equals_int (gaps, 0);
    lab_finish (lab);
    return;
  }
  fail_unless (stats_uint64 (lab->p, "packets-lost") +
      stats_uint64 (lab->p, "retransmissions-received") > 0,
      "no loss seen at %u %%", percent);
  fail_unless (stats_uint64 (lab->p, "retransmission-requests") > 0,
      "no NACK sent");
  if (retransmits)
    fail_unless (stats_uint64 (lab->p, "retransmissions-received") > 0,
        "nothing was retransmitted");
  else
    fail_unless (stats_uint64 (lab->p, "key-frames-requested") >
        key_frames_before, "no key frame asked for after unrepaired losses");
  lab_finish (lab);
}

static void
check_lossy_play (const gchar * test, guint percent, guint seconds,
    const gchar * const *server_args, gboolean retransmits)
{
  check_impaired_play (test, percent, 0, 0, seconds, server_args, retransmits);
}

/* The server retransmits on NACK: losses are repaired in time. */
GST_START_TEST (test_loss_repaired_by_retransmission)
{
  const gchar *const args[] = { NULL };

  check_lossy_play (__func__, 5, 15, args, TRUE);
}

GST_END_TEST;

/* No retransmission: what is lost stays lost, and whepsrc shows no frame
 * that depends on it — it waits for the key frame it asked for. */
GST_START_TEST (test_loss_without_retransmission_shows_no_broken_picture)
{
  const gchar *const args[] = { "--no-retransmit", NULL };

  check_lossy_play (__func__, 2, 15, args, FALSE);
}

GST_END_TEST;

/* H.265: its depayloader cannot wait for a key frame on GStreamer 1.22;
 * whepsrc's own gate does (gstwhepkeygate.c).  Without it, about 300 of
 * 450 pictures were broken at 2 % loss. */
GST_START_TEST (test_loss_h265_shows_no_broken_picture)
{
  const gchar *const args[] = { "--video", "h265", "--no-retransmit", NULL };

  check_lossy_play (__func__, 2, 15, args, FALSE);
}

GST_END_TEST;

/* Bursts: every UDP packet lost for 300 ms (about 30 video packets in a
 * row, more than any retransmission can mend in time), three times: no
 * broken picture, a key frame asked for, and the picture comes back. */
GST_START_TEST (test_burst_loss_ends_with_a_key_frame)
{
  const gchar *const args[] = { "--no-retransmit", NULL };
  guint64 key_frames_before;
  guint before, after, unreadable, backwards, i;
  GstMessage *error;
  Lab *lab;

  if (netlab_skip (__func__))
    return;
  lab = lab_enter (__func__, netlab_new_single (), NULL);
  lab_start_server_argv (lab, args);
  error = player_run (lab->p, frames_at_least, GUINT_TO_POINTER (30), 15000);
  if (error)
    fail_with_turn_log (lab, error);
  player_reset_tracking (lab->p);
  key_frames_before = stats_uint64 (lab->p, "key-frames-requested");

  for (i = 0; i < 3; i++) {
    netlab_block_udp (lab->lab, NETLAB_CLIENT, TRUE);
    error = player_run (lab->p, never, NULL, 300);
    netlab_block_udp (lab->lab, NETLAB_CLIENT, FALSE);
    if (!error)
      error = player_run (lab->p, never, NULL, 2500);
    if (error)
      fail_with_turn_log (lab, error);
  }
  before = player_video_frames (lab->p);
  error = player_run (lab->p, frames_at_least,
      GUINT_TO_POINTER (before + 30), 5000);
  if (error)
    fail_with_turn_log (lab, error);
  after = player_video_frames (lab->p);

  g_mutex_lock (&lab->p->lock);
  unreadable = lab->p->unreadable;
  backwards = lab->p->backwards;
  g_mutex_unlock (&lab->p->lock);
  g_print ("network: %s: 3 bursts of 300 ms, longest freeze %" G_GINT64_FORMAT
      " ms, %u unreadable, %" G_GUINT64_FORMAT " key frames asked\n",
      __func__, lab->p->max_freeze_us / 1000, unreadable,
      stats_uint64 (lab->p, "key-frames-requested") - key_frames_before);
  fail_unless_equals_int (unreadable, 0);
  fail_unless_equals_int (backwards, 0);
  fail_unless (after >= before + 30, "the picture did not come back");
  fail_unless (stats_uint64 (lab->p, "key-frames-requested") >
      key_frames_before, "no key frame asked for after a burst");
  lab_finish (lab);
}

GST_END_TEST;

/* 60 ± 50 ms: packets overtake each other by up to 100 ms, within the
 * jitterbuffer's 200 ms.  Nothing is lost: every picture shows, in order. */
GST_START_TEST (test_jitter_reorders_without_loss)
{
  const gchar *const args[] = { NULL };

  if (!netlab_can_delay ()) {
    g_print ("SKIP: %s: no whep-netdelay (WHEP_NETDELAY)\n", __func__);
    return;
  }
  check_impaired_play (__func__, 0, 60, 50, 15, args, TRUE);
}

GST_END_TEST;

/* 2 % loss on a path with 40 ± 30 ms of jitter: retransmissions still come
 * in time, and nothing broken shows. */
GST_START_TEST (test_loss_with_jitter_repaired)
{
  const gchar *const args[] = { NULL };

  if (!netlab_can_delay ()) {
    g_print ("SKIP: %s: no whep-netdelay (WHEP_NETDELAY)\n", __func__);
    return;
  }
  check_impaired_play (__func__, 2, 40, 30, 15, args, TRUE);
}

GST_END_TEST;

/* The same against libwebrtc (the interop suite's server, npm
 * @roamhq/wrtc), which retransmits over RTX and answers PLI its own way:
 * 5 % loss, nothing broken, retransmissions received. */
GST_START_TEST (test_loss_from_libwebrtc_repaired)
{
  const gchar *const args[] = { "wrtc-server.js", NULL };

  if (!interop_server_available (__func__))
    return;
  check_impaired_play (__func__, 5, 0, 0, 15, args, TRUE);
}

GST_END_TEST;

static Suite *
network_suite (void)
{
  Suite *s = suite_create ("network");
  TCase *lab = tcase_create ("lab");
  TCase *turn = tcase_create ("turn");
  TCase *nat = tcase_create ("nat");
  TCase *soak = tcase_create ("soak");
  TCase *loss = tcase_create ("loss");

  suite_add_tcase (s, lab);
  tcase_add_test (lab, test_lab_single_has_only_loopback);
  tcase_add_test (lab, test_lab_nat_maps_filters_and_expires);
  tcase_add_test (lab, test_lab_block_udp_keeps_tcp);

  suite_add_tcase (s, turn);
  tcase_add_test (turn, test_relay_on_loopback);
  tcase_add_test (turn, test_relay_over_tcp);
  tcase_add_test (turn, test_relay_over_tls);
  tcase_add_test (turn, test_relay_time_limited_credentials);
  tcase_add_test (turn, test_wrong_turn_credentials_error);
  tcase_add_test (turn, test_turn_from_link_header);

  suite_add_tcase (s, nat);
  tcase_add_test (nat, test_symmetric_nats_play_via_relay);
  tcase_add_test (nat, test_symmetric_nats_without_turn_fail);
  tcase_add_test (nat, test_symmetric_nats_turn_from_link_header);

  suite_add_tcase (s, loss);
  tcase_add_test (loss, test_loss_repaired_by_retransmission);
  tcase_add_test (loss, test_loss_h265_shows_no_broken_picture);
  tcase_add_test (loss, test_burst_loss_ends_with_a_key_frame);
  tcase_add_test (loss, test_loss_from_libwebrtc_repaired);
  tcase_add_test (loss, test_jitter_reorders_without_loss);
  tcase_add_test (loss, test_loss_with_jitter_repaired);
  tcase_add_test (loss,
      test_loss_without_retransmission_shows_no_broken_picture);

  suite_add_tcase (s, soak);
  tcase_set_timeout (soak, 300);
  tcase_add_test (soak, test_short_nat_mappings_keep_session);

  return s;
}

/* GST_CHECK_MAIN, and afterwards what failed tests left behind (they exit
 * at the first failed check, before their clean-up).  Every case needs the
 * lab: without it the whole binary exits 77, which meson reports as SKIP,
 * rather than a row of cases that "pass" without running. */
int
main (int argc, char **argv)
{
  g_autofree gchar *reason = NULL;
  Suite *s;
  gint failed;

  if (!netlab_available (&reason)) {
    g_printerr ("SKIP: network: every test needs the network lab, which "
        "cannot run here: %s\n", reason);
    return 77;
  }
  harness_init_before_gst ();
  gst_check_init (&argc, &argv);
  s = network_suite ();
  failed = gst_check_run_suite (s, "network", __FILE__);
  netlab_cleanup_stale ();
  return failed != 0;
}
