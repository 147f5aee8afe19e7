/* whepsrc tests — a network lab made of Linux network namespaces, and a
 * coturn TURN server to run in it (see netlab.c, turnlab.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

/* The hosts of a lab.  In the single topology they are all one namespace
 * (only lo, everything on 127.0.0.1). */
typedef enum
{
  NETLAB_CLIENT,                /* the test process, after netlab_enter() */
  NETLAB_SERVER,                /* the WHEP test server */
  NETLAB_PUBLIC,                /* the "internet": coturn, the routers' side */
  NETLAB_CLIENT_NAT,            /* the client's router */
  NETLAB_SERVER_NAT,            /* the server's router */
  NETLAB_N_ROLES
} NetLabRole;

/* The nat topology:
 *
 *   client 10.1.0.2 ── 10.1.0.1 [client NAT] 203.0.113.2 ─┐
 *                                                         ├ public 203.0.113.1
 *   server 10.2.0.2 ── 10.2.0.1 [server NAT] 203.0.113.3 ─┘   (bridge, coturn)
 *
 * Both routers masquerade UDP and TCP leaving on their public side; the
 * server's router forwards every TCP port of its public address to the
 * server (so HTTP reaches it), never UDP.  Client and server have no route
 * to each other's private address: what is sent there vanishes in the
 * public namespace, as on the internet. */
typedef struct
{
  gboolean client_symmetric;    /* a new port for every destination */
  gboolean server_symmetric;
  guint udp_timeout_s;          /* UDP mappings expire after this idle time
                                 * (0: the kernel's 30 s / 120 s) */
} NetLabNat;

typedef struct _NetLab NetLab;

/* Set (to anything) in the environment, it makes the tests behave as if
 * they were not root: how to see the skip paths on a machine where the
 * lab could run (WHEP_TEST_NOT_ROOT=1 bash scripts/run-tests.sh). */
#define NETLAB_NOT_ROOT_ENV "WHEP_TEST_NOT_ROOT"

/* FALSE (and why) when namespaces cannot be made here (not root…).  The
 * answer is found once per process, so a suite's main() can ask before
 * its cases are forked and they inherit it. */
gboolean netlab_available (gchar ** reason);
/* Prints "SKIP: @test: <reason>" (the line scripts/run-tests.sh counts as
 * a skipped case) and returns TRUE when the lab cannot run: the test then
 * returns early (GstCheck has no skip).  A suite all of whose cases need
 * the lab exits 77 from main() instead, so meson reports it as SKIP. */
gboolean netlab_skip (const gchar * test);

NetLab *netlab_new_single (void);
NetLab *netlab_new_nat (const NetLabNat * nat);
/* The wire topology:
 *
 *   client 10.3.0.1 ── [whep-netdelay: delay ± jitter] ── 10.3.0.2 server
 *
 * two namespaces joined by TUN devices that tests/netdelay/whep-netdelay
 * carries packets between (this kernel has neither netem nor NFQUEUE).
 * Needs netlab_can_delay(). */
NetLab *netlab_new_wire (void);
/* Deletes the lab's namespaces (the test process may be inside one: it
 * keeps it alive until it exits). */
void netlab_free (NetLab * lab);

const gchar *netlab_ns (NetLab * lab, NetLabRole role);
/* The address of @role's host in its own namespace (for the NATs: their
 * public address). */
const gchar *netlab_address (NetLab * lab, NetLabRole role);
/* @url with its host replaced by the server NAT's public address (the
 * port is forwarded): how the client reaches a server URL.  Single: a
 * copy. */
gchar *netlab_public_url (NetLab * lab, const gchar * url);

/* Moves the whole (still single-threaded) test process into @role's
 * namespace: every thread made later (webrtcbin, libnice, libsoup) is
 * born there.  Fails the test if the process already has threads. */
void netlab_enter (NetLab * lab, NetLabRole role);
/* Runs a command in @role's namespace and waits; FALSE with @error (its
 * stderr) when it fails.  @output: its stdout, may be NULL. */
gboolean netlab_run (NetLab * lab, NetLabRole role, gchar ** output,
    GError ** error, const gchar * first_arg, ...) G_GNUC_NULL_TERMINATED;
/* Drops every UDP packet (but DNS) that arrives in or passes through
 * @role's namespace, or lets them pass again.  Sending still "works", as
 * on a network that loses packets; TCP is untouched. */
void netlab_block_udp (NetLab * lab, NetLabRole role, gboolean block);
/* Drops every packet (TCP and UDP) that arrives in or passes through
 * @role's namespace — the network cut — or lets them pass again. */
void netlab_cut (NetLab * lab, NetLabRole role, gboolean cut);
/* Drops @percent % of the UDP packets (but DNS) arriving in @role's
 * namespace, at random (nftables numgen), each on its own; 0 stops.  In
 * the single topology that is every packet of both directions. */
void netlab_lose_udp (NetLab * lab, NetLabRole role, guint percent);
/* Wire labs: every packet between client and server, each direction on
 * its own, takes @delay_ms ± @jitter_ms (uniform: packets overtake each
 * other) from now on.  0, 0: at once. */
void netlab_set_delay (NetLab * lab, guint delay_ms, guint jitter_ms);
/* TRUE when whep-netdelay (WHEP_NETDELAY) is there for wire labs. */
gboolean netlab_can_delay (void);
/* A socket of @type (SOCK_DGRAM, SOCK_STREAM) bound to @address:@port in
 * @role's namespace (fd); it stays there whichever thread uses it. */
gint netlab_socket (NetLab * lab, NetLabRole role, gint type,
    const gchar * address, guint16 port);

/* Deletes namespaces and TURN directories left by test processes that
 * are gone (a failing GstCheck test exits at once, without cleaning up),
 * printing the TURN logs found there. */
void netlab_cleanup_stale (void);

/* --- coturn (turnlab.c) --- */

typedef enum
{
  TURN_AUTH_PASSWORD,           /* long-term credentials: user u, password p */
  TURN_AUTH_SECRET,             /* time-limited (REST API) credentials */
} TurnAuth;

typedef struct
{
  TurnAuth auth;
  /* coturn's server-relay: packets from peers without a permission reach
   * the client.  Needed while the test server has no STUN/TURN of its
   * own: behind a NAT its only candidate is private, so the client never
   * learns the address to permit. */
  gboolean server_relay;
  gboolean tls;                 /* also turns:// on 5349 (self-signed) */
} TurnOptions;

typedef struct _TurnServer TurnServer;

#define TURN_USER "u"
#define TURN_PASSWORD "p"
#define TURN_SECRET "whep-lab-secret"

TurnServer *turn_start (NetLab * lab, NetLabRole role,
    const TurnOptions * options);
void turn_stop (TurnServer * turn);
const gchar *turn_address (TurnServer * turn);
/* A URI for whepsrc's turn-server with valid credentials: @scheme "turn"
 * or "turns", @transport NULL, "udp" or "tcp". */
gchar *turn_uri (TurnServer * turn, const gchar * scheme,
    const gchar * transport);
/* The same with the given credentials (percent-encoded here). */
gchar *turn_uri_with (TurnServer * turn, const gchar * scheme,
    const gchar * user, const gchar * password, const gchar * transport);
/* Time-limited credentials: user "<expiry>:<name>", password
 * base64 (HMAC-SHA1 (secret, user)). */
void turn_rest_credentials (const gchar * secret, const gchar * name,
    gint64 expiry_unix, gchar ** user, gchar ** password);
/* Lines of coturn's log containing @fragment. */
guint turn_log_count (TurnServer * turn, const gchar * fragment);
void turn_print_log (TurnServer * turn);
