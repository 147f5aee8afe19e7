/* whepsrc tests — shared harness (see harness.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gio/gio.h>

#include "rawserver.h"

/* The project's WHEP test server, run as a process on 127.0.0.1; its
 * stdout event log is collected line by line. */
typedef struct
{
  GSubprocess *process;
  GThread *reader;
  GMutex lock;
  GCond cond;
  GPtrArray *lines;             /* every stdout line */
  gboolean eof;
  gchar *base_url;              /* http://127.0.0.1:PORT */
  gchar *endpoint;              /* base_url + /whep/cam */
  GArray *line_times;           /* gint64: monotonic µs each line was read */
} TestServer;

/* A pipeline: whepsrc ! fakesink per pad, counting frames and reading the
 * frame counter the test server draws into every picture. */
typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GMutex lock;
  guint video_frames;
  guint audio_buffers;
  guint counted;
  guint gaps;
  guint repeats;
  guint unreadable;             /* pictures whose counter cannot be read:
                                 * broken (or too small) */
  guint backwards;              /* counters lower than the one before */
  gint64 last_counter;
  GstClockTime last_pts;
  gboolean pts_backwards;
  GPtrArray *pads;              /* names of exposed pads */
  guint eos_events;
  guint flush_events;
  GPtrArray *warnings;          /* texts of warning messages */
  guint stream_starts[2];       /* per kind (0 video, 1 audio) */
  guint gap_events[2];
  guint caps_events[2];
  GstClockTime audio_next_pts;  /* end of the last audio buffer */
  GstClockTimeDiff audio_max_jump;      /* largest |gap or overlap| seen */
  GstClockTime audio_max_jump_pts;      /* the pts of the buffer after it */
  gint64 last_arrival_us;       /* monotonic, last video frame */
  gint64 max_arrival_gap_us;    /* longest wait between two frames */
  /* The picture itself (the counter in it), repeats of a hold aside. */
  gint64 last_new_us;           /* monotonic, last frame with a new counter */
  gint64 max_freeze_us;         /* longest time without a new counter */
  gint64 max_freeze_end_us;     /* when that freeze ended */
  /* Elements between a whepsrc pad and its fakesink (gst-launch syntax,
   * e.g. "rtpvp8depay ! vp8dec"), or NULL: set before the pads come. */
  const gchar *video_chain;
  const gchar *audio_chain;
} Player;

/* Call before gst_check_init(), in every test program that plays through
 * webrtcbin (WHEP_CHECK_MAIN does).  GstCheck joins GStreamer's pooled
 * streaming threads in an atexit handler (gst_deinit); OpenSSL 3 frees
 * its global state in an atexit handler of its own, registered when DTLS
 * first runs, so later, so it runs first.  A DTLS thread that then ends
 * runs OpenSSL's thread-local destructor on freed memory: the "(after
 * this point) Received signal 11/6" crashes of test processes as they
 * exit, with MALLOC_PERTURB_ set (as meson does).  OpenSSL is told not to
 * clean up at exit: the process is ending, the kernel frees its memory. */
void harness_init_before_gst (void);

/* Call after gst_check_init().  Under GStreamer's leaks tracer
 * (GST_TRACERS=leaks, tests/check/leaks.sh), the tracer's warning at exit
 * ("Leaks detected…") is not made a failure by GstCheck: leaks.sh judges
 * the objects the tracer lists, some of which GStreamer keeps for the
 * process's life by design. */
void harness_init_after_gst (void);

/* GST_CHECK_MAIN, with harness_init_before_gst() first. */
#define WHEP_CHECK_MAIN(name)                                   \
int                                                             \
main (int argc, char **argv)                                    \
{                                                               \
  harness_init_before_gst ();                                   \
  gst_check_init (&argc, &argv);                                \
  harness_init_after_gst ();                                    \
  return gst_check_run_suite (name##_suite (), #name, __FILE__);\
}

guint scaled (guint timeout_ms);
gboolean realtime_checks (void);

TestServer *server_start (const gchar * first_arg, ...);
TestServer *server_start_argv (const gchar * const *extra);
/* The test server in network namespace @netns (ip netns exec), listening
 * for HTTP and doing ICE on @address only. */
TestServer *server_start_in_netns (const gchar * netns, const gchar * address,
    const gchar * first_arg, ...) G_GNUC_NULL_TERMINATED;
TestServer *server_start_in_netns_argv (const gchar * netns,
    const gchar * address, const gchar * const *extra);
/* Any WHEP server program that keeps the test server's conventions (one
 * "LISTENING http://ADDR:PORT" line on stdout when ready, then "EVENT …"
 * lines; the endpoint at /whep/cam; exits on SIGTERM): @argv is the whole
 * command line (argv[0] is looked up in PATH).  The program gets SIGTERM
 * when the test process dies.  Waits up to @listen_timeout_ms (scaled; 0:
 * 20 s) for LISTENING; stop it with server_stop(). */
TestServer *server_start_program (const gchar * const *argv,
    guint listen_timeout_ms);
guint server_count (TestServer * server, const gchar * prefix);
/* Monotonic µs at which the first line starting with @prefix was read, or
 * 0 if none has been. */
gint64 server_line_time (TestServer * server, const gchar * prefix);
gboolean server_wait (TestServer * server, const gchar * prefix, guint n,
    guint timeout_ms);
void server_assert_no_leak (TestServer * server);
/* Sends "POST @path" to the server's admin interface; returns the HTTP
 * status. */
guint server_admin_post (TestServer * server, const gchar * path);
/* Last-error text from whepsrc's statistics (may be NULL); free it. */
gchar *stats_last_error (Player * p);
void server_stop (TestServer * server);

Player *player_new (const gchar * endpoint);
void player_free (Player * p);
guint player_video_frames (Player * p);
guint player_audio_buffers (Player * p);
/* Forgets the counter/arrival history (e.g. across an expected hold). */
void player_reset_tracking (Player * p);
GstMessage *player_run (Player * p, gboolean (*done) (Player * p,
        gpointer data), gpointer data, guint timeout_ms);
gboolean frames_at_least (Player * p, gpointer data);
gboolean status_is (Player * p, gpointer data);
gint status_value (const gchar * nick);
guint64 stats_uint64 (Player * p, const gchar * field);
gboolean stats_boolean (Player * p, const gchar * field);
/* player_run() conditions: at least N (GUINT_TO_POINTER) rotations, or
 * early losses, in whepsrc's statistics. */
gboolean rotations_at_least (Player * p, gpointer data);
gboolean early_losses_at_least (Player * p, gpointer data);
/* player_run() that fails the test on an error message. */
void run_without_error (Player * p, gboolean (*done) (Player *, gpointer),
    gpointer data, guint timeout_ms);
/* The current session's candidate pair from whepsrc's statistics
 * (local-/remote- address, port, type), or NULL; free it. */
GstStructure *stats_candidate_pair (Player * p);
void assert_error (GstMessage * msg, GQuark domain, gint code,
    const gchar * fragment, guint http_status);
void play_and_check (TestServer * server, Player * p, guint frames);
/* No frame lost (nor, with @repeats_too, shown twice) where the test
 * keeps real time; p->lock held. */
void player_check_frames_exact_locked (Player * p, gboolean repeats_too);
/* Stops the pipeline (whepsrc DELETEs its sessions), checks that the
 * server has no session left, frees the player and stops the server. */
void stop_and_check_no_leak (TestServer * server, Player * p);

/* A WHEP server that misbehaves, on a raw socket of 127.0.0.1
 * (rawserver.h): what it does with a POST.  A DELETE is answered 200,
 * or held silent with RAW_WHEP_HOLD_DELETE.  Every request line is
 * recorded. */
typedef enum
{
  RAW_WHEP_HOLD_POST,           /* the POST read, then silence for
                                 * RAW_WHEP_POST_HOLD_MS (then "RELEASED"
                                 * is recorded and a 503 sent) */
  RAW_WHEP_CONTINUE_FLOOD,      /* "100 Continue" heads, as fast as they go */
  RAW_WHEP_HEADERS_TRICKLE,     /* a 201's head, one byte every 20 ms, without end */
  RAW_WHEP_CREATED_STALLED,     /* a 201 with Location /session/raw, 10 of
                                 * 1000 body bytes, then silence */
} RawWhepMode;

#define RAW_WHEP_HOLD_DELETE 0x100
#define RAW_WHEP_POST_HOLD_MS 3000

typedef struct _RawWhepServer RawWhepServer;

RawWhepServer *raw_whep_server_new (guint mode);
/* http://127.0.0.1:PORT/whep */
const gchar *raw_whep_server_endpoint (RawWhepServer * srv);
/* Waits (at most @timeout_ms) until a request line starting with @prefix
 * ("DELETE /session/raw") came; TRUE when it did. */
gboolean raw_whep_server_wait (RawWhepServer * srv, const gchar * prefix,
    guint timeout_ms);
/* Closes every connection and joins the server's threads. */
void raw_whep_server_free (RawWhepServer * srv);

/* Threads of this process whose name starts with @prefix; whepsrc's own
 * shared threads ("whep-http", "whepsrc-ctl"); the process's open
 * sockets (all from /proc/self). */
guint count_threads_named (const gchar * prefix);
guint count_whep_threads (void);
guint count_open_sockets (void);
