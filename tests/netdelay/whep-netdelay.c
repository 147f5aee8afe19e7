/* whep-netdelay — a wire with delay and jitter between two network
 * namespaces, for the network lab (this kernel has neither netem nor
 * NFQUEUE).
 *
 * Each namespace has a TUN device of the same name (made by the lab,
 * persistent, with its point-to-point address); whep-netdelay attaches to
 * both and copies every IP packet from one to the other after
 * --delay MS ± --jitter MS (uniform, never below 0), each direction on its
 * own.  With jitter, packets overtake each other as on a real path.
 * Nothing else links the two namespaces: the wire is the only way.
 *
 * With --control, the delay can be changed while it runs: a line
 * "DELAY MS JITTER" on standard input, and the end of standard input stops
 * it (the lab holds the pipe: a test process that dies takes the wire
 * down).  Prints "READY" once both ends are attached.  Stops on
 * SIGTERM/SIGINT or after --seconds (a bound: a forgotten lab cannot run
 * for ever); packets still held then are dropped, as a cut cable would.
 *
 *   whep-netdelay --ns-a /var/run/netns/A --ns-b /var/run/netns/B
 *                 --dev wire [--delay MS] [--jitter MS] [--seconds S]
 *                 [--control]
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <glib.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#define MAX_PACKET 65536
/* A bound on what is held (a few hundred packets a second for at most a
 * second or so): beyond it packets are dropped, as a full queue would. */
#define MAX_HELD 20000

typedef struct
{
  gint64 due_us;
  gint to;                      /* index of the end to write to */
  GBytes *packet;
} Held;

typedef struct
{
  gint fd[2];
  GArray *held;                 /* Held, sorted by due_us */
  gint delay_ms, jitter_ms;
  guint64 packets, dropped;
} Wire;

static volatile sig_atomic_t stop_requested;

static void
on_signal (int sig)
{
  stop_requested = 1;
}

/* A TUN device @dev of namespace @ns_path, opened from inside it (the fd
 * stays bound to it after we leave). */
static gint
attach (const gchar * ns_path, const gchar * dev, gint home)
{
  struct ifreq ifr = { 0 };
  gint ns = open (ns_path, O_RDONLY | O_CLOEXEC);
  gint fd = -1;

  if (ns < 0 || setns (ns, CLONE_NEWNET) < 0) {
    fprintf (stderr, "whep-netdelay: cannot enter %s: %s\n", ns_path,
        g_strerror (errno));
    goto out;
  }
  fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  g_strlcpy (ifr.ifr_name, dev, IFNAMSIZ);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (fd < 0 || ioctl (fd, TUNSETIFF, &ifr) < 0) {
    fprintf (stderr, "whep-netdelay: cannot attach %s in %s: %s\n", dev,
        ns_path, g_strerror (errno));
    if (fd >= 0)
      close (fd);
    fd = -1;
  }
out:
  if (ns >= 0)
    close (ns);
  setns (home, CLONE_NEWNET);
  return fd;
}

static void
hold (Wire * w, gint to, const guint8 * data, gsize size)
{
  gint64 ms = w->delay_ms;
  Held h;
  guint i;

  if (w->held->len >= MAX_HELD) {
    w->dropped++;
    return;
  }
  if (w->jitter_ms > 0)
    ms += g_random_int_range (-w->jitter_ms, w->jitter_ms + 1);
  h.due_us = g_get_monotonic_time () + MAX (ms, 0) * 1000;
  h.to = to;
  h.packet = g_bytes_new (data, size);
  /* Mostly in order: insert from the end. */
  i = w->held->len;
  while (i > 0 && g_array_index (w->held, Held, i - 1).due_us > h.due_us)
    i--;
  g_array_insert_val (w->held, i, h);
  w->packets++;
}

static void
release_due (Wire * w)
{
  gint64 now = g_get_monotonic_time ();
  guint n = 0;

  while (n < w->held->len && g_array_index (w->held, Held, n).due_us <= now) {
    Held *h = &g_array_index (w->held, Held, n);
    gsize size;
    gconstpointer data = g_bytes_get_data (h->packet, &size);

    /* A full device queue drops the packet, as a busy link would. */
    if (write (w->fd[h->to], data, size) < 0)
      w->dropped++;
    g_bytes_unref (h->packet);
    n++;
  }
  if (n)
    g_array_remove_range (w->held, 0, n);
}

/* "DELAY MS JITTER" lines; FALSE at the end of input. */
static gboolean
read_control (Wire * w, GString * line)
{
  gchar buf[256];
  ssize_t n = read (STDIN_FILENO, buf, sizeof buf);
  gchar *nl;

  if (n <= 0)
    return n < 0 && errno == EAGAIN;
  g_string_append_len (line, buf, n);
  while ((nl = strchr (line->str, '\n'))) {
    gint delay, jitter;

    *nl = '\0';
    if (sscanf (line->str, "DELAY %d %d", &delay, &jitter) == 2
        && delay >= 0 && jitter >= 0) {
      w->delay_ms = delay;
      w->jitter_ms = jitter;
      printf ("DELAY %d %d\n", delay, jitter);
      fflush (stdout);
    }
    g_string_erase (line, 0, nl - line->str + 1);
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  gchar *ns_a = NULL, *ns_b = NULL, *dev = NULL;
  gint seconds = 900, home, i;
  gboolean control_input = FALSE;
  Wire w = { {-1, -1}, };
  GOptionEntry entries[] = {
    {"ns-a", 0, 0, G_OPTION_ARG_FILENAME, &ns_a, "One namespace", "PATH"},
    {"ns-b", 0, 0, G_OPTION_ARG_FILENAME, &ns_b, "The other", "PATH"},
    {"dev", 0, 0, G_OPTION_ARG_STRING, &dev, "TUN device in both", "NAME"},
    {"delay", 0, 0, G_OPTION_ARG_INT, &w.delay_ms, "Delay (ms)", "MS"},
    {"jitter", 0, 0, G_OPTION_ARG_INT, &w.jitter_ms,
        "Uniform jitter around the delay (± ms)", "MS"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
        "Stop after this long (default 900)", "S"},
    {"control", 0, 0, G_OPTION_ARG_NONE, &control_input,
        "Read DELAY lines on standard input; stop at its end", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("— a delaying wire between two namespaces");
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) control = g_string_new (NULL);
  guint8 *buf = g_malloc (MAX_PACKET);
  gboolean input_open = TRUE;
  gint64 end;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !ns_a || !ns_b
      || !dev || w.delay_ms < 0 || w.jitter_ms < 0 || seconds <= 0) {
    fprintf (stderr, "whep-netdelay: %s\n", error ? error->message :
        "--ns-a, --ns-b and --dev are needed; times must be positive");
    return 2;
  }
  home = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  w.fd[0] = attach (ns_a, dev, home);
  w.fd[1] = attach (ns_b, dev, home);
  if (w.fd[0] < 0 || w.fd[1] < 0)
    return 1;
  w.held = g_array_new (FALSE, FALSE, sizeof (Held));
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  signal (SIGPIPE, SIG_IGN);
  fcntl (STDIN_FILENO, F_SETFL, fcntl (STDIN_FILENO, F_GETFL) | O_NONBLOCK);
  printf ("READY\n");
  fflush (stdout);

  end = g_get_monotonic_time () + (gint64) seconds *G_USEC_PER_SEC;
  while (!stop_requested && input_open && g_get_monotonic_time () < end) {
    struct pollfd pfd[3] = {
      {w.fd[0], POLLIN, 0}, {w.fd[1], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}
    };
    gint timeout_ms = 100;

    if (w.held->len) {
      gint64 wait = g_array_index (w.held, Held, 0).due_us -
          g_get_monotonic_time ();
      timeout_ms = (gint) CLAMP ((wait + 999) / 1000, 0, 100);
    }
    if (poll (pfd, control_input ? 3 : 2, timeout_ms) > 0) {
      for (i = 0; i < 2; i++) {
        ssize_t n;

        /* Everything that is there now, each packet to the other end. */
        while ((pfd[i].revents & POLLIN)
            && (n = read (w.fd[i], buf, MAX_PACKET)) > 0)
          hold (&w, 1 - i, buf, n);
      }
      if (control_input && (pfd[2].revents & (POLLIN | POLLHUP)))
        input_open = read_control (&w, control);
    }
    release_due (&w);
  }
  fprintf (stderr, "whep-netdelay: %" G_GUINT64_FORMAT " packets carried, %"
      G_GUINT64_FORMAT " dropped\n", w.packets, w.dropped);
  for (i = 0; i < (gint) w.held->len; i++)
    g_bytes_unref (g_array_index (w.held, Held, i).packet);
  g_array_free (w.held, TRUE);
  g_free (buf);
  return 0;
}
