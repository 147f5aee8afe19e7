/* whepsrc — the supervisor's decisions (gst/gstwheppolicy.c), driven
 * without a network, a session or a clock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "gstwheppolicy.h"

/* --- status --- */

static GstWhepSrcStatus
status_of (gboolean running, gboolean gave_up, gboolean inactive,
    gboolean holding, gboolean played, gboolean waiting)
{
  GstWhepStatusFacts facts = {
    .running = running,.gave_up = gave_up,.server_inactive = inactive,
    .holding = holding,.ever_played = played,.waiting_for_server = waiting,
  };

  return gst_whep_status_from_facts (&facts);
}

GST_START_TEST (test_status_stopped_wins)
{
  fail_unless_equals_int (status_of (FALSE, TRUE, TRUE, TRUE, TRUE, TRUE),
      GST_WHEP_SRC_STATUS_STOPPED);
}

GST_END_TEST;

GST_START_TEST (test_status_error_after_giving_up)
{
  fail_unless_equals_int (status_of (TRUE, TRUE, FALSE, TRUE, TRUE, FALSE),
      GST_WHEP_SRC_STATUS_ERROR);
}

GST_END_TEST;

/* After an EOS from the application: "ended", whatever else is true —
 * but an error posted before stays the last word. */
GST_START_TEST (test_status_ended_after_eos)
{
  GstWhepStatusFacts facts = {
    .running = TRUE,.ended = TRUE,.holding = TRUE,.ever_played = TRUE,
    .server_inactive = TRUE,
  };

  fail_unless_equals_int (gst_whep_status_from_facts (&facts),
      GST_WHEP_SRC_STATUS_ENDED);
  facts.gave_up = TRUE;
  fail_unless_equals_int (gst_whep_status_from_facts (&facts),
      GST_WHEP_SRC_STATUS_ERROR);
  facts.running = FALSE;
  fail_unless_equals_int (gst_whep_status_from_facts (&facts),
      GST_WHEP_SRC_STATUS_STOPPED);
}

GST_END_TEST;

GST_START_TEST (test_status_connecting_then_playing)
{
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, FALSE, FALSE,
          FALSE), GST_WHEP_SRC_STATUS_CONNECTING);
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, FALSE, TRUE, FALSE),
      GST_WHEP_SRC_STATUS_PLAYING);
}

GST_END_TEST;

GST_START_TEST (test_status_waiting_for_a_server_that_says_not_yet)
{
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, FALSE, FALSE, TRUE),
      GST_WHEP_SRC_STATUS_WAITING);
  /* Once something played, a later "not yet" shows as a held picture or,
   * when the output plays again, as playing. */
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, TRUE, TRUE, TRUE),
      GST_WHEP_SRC_STATUS_DISCONNECTED);
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, FALSE, TRUE, TRUE),
      GST_WHEP_SRC_STATUS_PLAYING);
}

GST_END_TEST;

GST_START_TEST (test_status_disconnected_only_while_holding)
{
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, TRUE, TRUE, FALSE),
      GST_WHEP_SRC_STATUS_DISCONNECTED);
  fail_unless_equals_int (status_of (TRUE, FALSE, FALSE, FALSE, TRUE, FALSE),
      GST_WHEP_SRC_STATUS_PLAYING);
}

GST_END_TEST;

GST_START_TEST (test_status_inactive_publication_is_waiting_not_lost)
{
  fail_unless_equals_int (status_of (TRUE, FALSE, TRUE, TRUE, TRUE, FALSE),
      GST_WHEP_SRC_STATUS_WAITING);
}

GST_END_TEST;

/* --- retries --- */

GST_START_TEST (test_retry_not_retryable_gives_up_at_once)
{
  guint delay = 12345;

  fail_if (gst_whep_retry_decide (0, 10, FALSE, FALSE, -1, NULL, &delay));
  fail_unless_equals_int (delay, 12345);
}

GST_END_TEST;

GST_START_TEST (test_retry_counts_up_to_max_retries)
{
  guint delay, attempt;

  for (attempt = 0; attempt < 3; attempt++)
    fail_unless (gst_whep_retry_decide (attempt, 3, TRUE, FALSE, -1, NULL,
            &delay));
  fail_if (gst_whep_retry_decide (3, 3, TRUE, FALSE, -1, NULL, &delay));
  fail_if (gst_whep_retry_decide (0, 0, TRUE, FALSE, -1, NULL, &delay));
  /* -1: for ever. */
  fail_unless (gst_whep_retry_decide (100000, -1, TRUE, FALSE, -1, NULL,
          &delay));
  fail_unless_equals_int (delay, GST_WHEP_RETRY_MAX_MS);
}

GST_END_TEST;

GST_START_TEST (test_retry_backs_off_exponentially_without_jitter)
{
  guint delay;

  fail_unless (gst_whep_retry_decide (0, -1, TRUE, FALSE, -1, NULL, &delay));
  fail_unless_equals_int (delay, GST_WHEP_RETRY_BASE_MS);
  fail_unless (gst_whep_retry_decide (1, -1, TRUE, FALSE, -1, NULL, &delay));
  fail_unless_equals_int (delay, 2 * GST_WHEP_RETRY_BASE_MS);
  fail_unless (gst_whep_retry_decide (3, -1, TRUE, FALSE, -1, NULL, &delay));
  fail_unless_equals_int (delay, 8 * GST_WHEP_RETRY_BASE_MS);
}

GST_END_TEST;

GST_START_TEST (test_retry_jitter_stays_in_the_upper_half)
{
  GRand *rand = g_rand_new_with_seed (42);
  guint i, delay;

  for (i = 0; i < 200; i++) {
    fail_unless (gst_whep_retry_decide (2, -1, TRUE, FALSE, -1, rand, &delay));
    fail_unless (delay >= 2 * GST_WHEP_RETRY_BASE_MS
        && delay <= 4 * GST_WHEP_RETRY_BASE_MS, "delay %u", delay);
  }
  g_rand_free (rand);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_a_played_session_is_immediate_once)
{
  guint delay;

  fail_unless (gst_whep_retry_decide (0, -1, TRUE, TRUE, -1, NULL, &delay));
  fail_unless_equals_int (delay, 0);
  /* The second failure in a row backs off from the base delay. */
  fail_unless (gst_whep_retry_decide (1, -1, TRUE, TRUE, -1, NULL, &delay));
  fail_unless_equals_int (delay, GST_WHEP_RETRY_BASE_MS);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_header_lengthens_and_is_capped)
{
  guint delay;

  fail_unless (gst_whep_retry_decide (0, -1, TRUE, FALSE, 7, NULL, &delay));
  fail_unless_equals_int (delay, 7000);
  /* A shorter Retry-After does not shorten the back-off. */
  fail_unless (gst_whep_retry_decide (5, -1, TRUE, FALSE, 1, NULL, &delay));
  fail_unless_equals_int (delay, 32 * GST_WHEP_RETRY_BASE_MS);
  fail_unless (gst_whep_retry_decide (0, -1, TRUE, TRUE, 999999999, NULL,
          &delay));
  fail_unless_equals_int (delay, GST_WHEP_RETRY_AFTER_MAX_S * 1000);
}

GST_END_TEST;

GST_START_TEST (test_second_session_refusals)
{
  fail_unless (gst_whep_refuses_second_session (409));
  fail_unless (gst_whep_refuses_second_session (429));
  fail_unless (gst_whep_refuses_second_session (503));
  fail_if (gst_whep_refuses_second_session (0));
  fail_if (gst_whep_refuses_second_session (404));
  fail_if (gst_whep_refuses_second_session (500));
}

GST_END_TEST;

/* --- rotation --- */

GST_START_TEST (test_rotation_due_from_the_post_less_the_lead)
{
  gint64 posted = 10 * G_USEC_PER_SEC;

  fail_unless_equals_int64 (gst_whep_rotation_due_us (posted, 30, 4000),
      posted + 26 * G_USEC_PER_SEC);
  fail_unless_equals_int64 (gst_whep_rotation_due_us (posted, 6.5, 0),
      posted + 6500000);
  fail_unless_equals_int64 (gst_whep_rotation_due_us (posted, 0, 4000), 0);
  fail_unless_equals_int64 (gst_whep_rotation_due_us (0, 30, 4000), 0);
}

GST_END_TEST;

/* --- silence --- */

#define S(x) ((gint64) (x) * 1000)      /* ms → µs */

static GstWhepSilenceFacts
playing_facts (gint64 now_ms, gint64 last_media_ms)
{
  GstWhepSilenceFacts f = {
    .now_us = S (now_ms),.on_air_until_us = S (last_media_ms),
    .first_frame_us = S (1000),.playing_since_us = S (500),
    .media_timeout_ms = 1000,.ice_restart_timeout_ms = 5000,
  };

  return f;
}

GST_START_TEST (test_silence_within_media_timeout_is_fine)
{
  GstWhepSilenceFacts f = playing_facts (10000, 9500);

  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f.now_us = S (10501);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_TOO_LONG);
}

GST_END_TEST;

GST_START_TEST (test_silence_expected_when_paused_inactive_or_off)
{
  GstWhepSilenceFacts f = playing_facts (20000, 9000);

  f.playing_since_us = 0;
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f = playing_facts (20000, 9000);
  f.server_inactive = TRUE;
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f = playing_facts (20000, 9000);
  f.media_timeout_ms = 0;
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
}

GST_END_TEST;

/* 300 ms of silence on air asks for a repair, long before the media
 * timeout: an ICE restart where one can be made and no RTCP shows the path
 * alive, a standby otherwise; nothing while paused, inactive, off air, or
 * with no timeout at all. */
GST_START_TEST (test_silence_wants_a_repair_early)
{
  GstWhepSilenceFacts f = playing_facts (10000, 9750);

  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  f.now_us = S (10050);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_ICE_RESTART);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_STANDBY);
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  /* The restart may wait longer than the standby would. */
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 400, TRUE),
      GST_WHEP_REPAIR_NONE);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 400, FALSE),
      GST_WHEP_REPAIR_STANDBY);

  f.playing_since_us = 0;
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
  f = playing_facts (10050, 9750);
  f.server_inactive = TRUE;
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
  f = playing_facts (10050, 9750);
  f.on_air_until_us = 0;
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
  f = playing_facts (10050, 9750);
  f.media_timeout_ms = 0;
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
  /* Resumed 100 ms ago after a long pause: not silent yet. */
  f = playing_facts (10050, 2000);
  f.playing_since_us = S (9950);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
}

GST_END_TEST;

/* An ICE restart found a working pair again (the server answered the
 * checks on the new credentials) and media still does not come 200 ms
 * later: the sender is silent, not the path — a standby now, without
 * waiting for the sender's next report (werift: one a second). */
GST_START_TEST (test_silence_after_ice_came_back_wants_a_standby)
{
  GstWhepSilenceFacts f = playing_facts (10400, 9750);

  f.ice_restart_since_us = S (10050);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  /* Ready only 100 ms ago: the media may be on its way. */
  f.ice_ready_us = S (10300);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  f.ice_ready_us = S (10150);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_STANDBY);
  /* Ready before the restart says nothing about the new path. */
  f.ice_ready_us = S (9000);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
}

GST_END_TEST;

/* Video packets still come after the last picture, RTCP too: the decoder
 * waits for a key frame after a loss — no repair, whatever RTCP says,
 * until the packets stop as well; the media timeout still judges. */
GST_START_TEST (test_silence_with_video_packets_waits_for_the_key_frame)
{
  GstWhepSilenceFacts f = playing_facts (10050, 9750);

  f.last_rtcp_us = S (9900);
  f.last_video_rtp_us = S (10040);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, FALSE),
      GST_WHEP_REPAIR_NONE);
  /* Packets stopped 300 ms ago too: a silence like any other. */
  f.last_video_rtp_us = S (9750);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_STANDBY);
  f.last_rtcp_us = 0;
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_ICE_RESTART);
  /* Packets, never a picture for the media timeout: too long. */
  f = playing_facts (11000, 9750);
  f.last_video_rtp_us = S (10990);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_TOO_LONG);
}

GST_END_TEST;

/* RTCP after the last media: the path works, the sender stopped — a
 * standby, not a restart; during a restart, a standby only once RTCP
 * comes after the restart began (the new path works, the media does not). */
GST_START_TEST (test_silence_with_rtcp_wants_a_standby)
{
  GstWhepSilenceFacts f = playing_facts (10050, 9750);

  f.last_rtcp_us = S (9900);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_STANDBY);
  f.last_rtcp_us = S (9700);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_ICE_RESTART);

  f.ice_restart_since_us = S (9960);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  f.last_rtcp_us = S (9900);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_NONE);
  f.last_rtcp_us = S (10000);
  fail_unless_equals_int (gst_whep_silence_repair (&f, 300, 300, TRUE),
      GST_WHEP_REPAIR_STANDBY);
}

GST_END_TEST;

GST_START_TEST (test_silence_counts_from_the_resume)
{
  /* Paused for a long time, resumed 300 ms ago: not silent yet. */
  GstWhepSilenceFacts f = playing_facts (20000, 9000);

  f.playing_since_us = S (19700);
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f.now_us = S (20800);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_TOO_LONG);
}

GST_END_TEST;

GST_START_TEST (test_silence_of_a_session_off_air_is_not_judged)
{
  GstWhepSilenceFacts f = playing_facts (20000, 0);

  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
}

GST_END_TEST;

GST_START_TEST (test_ice_restart_judged_by_the_media)
{
  GstWhepSilenceFacts f = playing_facts (12000, 9000);

  f.ice_restart_since_us = S (10000);
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f.on_air_until_us = S (11900);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_RESTART_WORKED);
  f.on_air_until_us = S (9000);
  f.now_us = S (15001);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_RESTART_FAILED);
}

GST_END_TEST;

GST_START_TEST (test_silence_with_rtcp_means_the_sender_stopped)
{
  GstWhepSilenceFacts f = playing_facts (11000, 9500);

  /* RTCP after the last media: the path works. */
  f.last_rtcp_us = S (10200);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_SENDER_STOPPED);
  /* RTCP only from before the media stopped: the path may be gone. */
  f.last_rtcp_us = S (9400);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_TOO_LONG);
  /* Within media-timeout, RTCP or not, all is well. */
  f.now_us = S (10400);
  f.last_rtcp_us = S (10200);
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
}

GST_END_TEST;

GST_START_TEST (test_ice_restart_with_rtcp_but_no_media_fails_early)
{
  GstWhepSilenceFacts f = playing_facts (10500, 9000);

  f.ice_restart_since_us = S (10000);
  f.last_rtcp_us = S (10300);
  /* The path is back: give the media a second. */
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
  f.now_us = S (11001);
  fail_unless_equals_int (gst_whep_judge_silence (&f),
      GST_WHEP_SILENCE_RESTART_FAILED);
  /* Without RTCP on the new path, the full ice-restart-timeout applies. */
  f.last_rtcp_us = S (9900);
  fail_unless_equals_int (gst_whep_judge_silence (&f), GST_WHEP_SILENCE_FINE);
}

GST_END_TEST;

static Suite *
policy_suite (void)
{
  Suite *s = suite_create ("policy");
  TCase *status = tcase_create ("status");
  TCase *retry = tcase_create ("retry");
  TCase *rotation = tcase_create ("rotation");
  TCase *silence = tcase_create ("silence");

  suite_add_tcase (s, status);
  tcase_add_test (status, test_status_stopped_wins);
  tcase_add_test (status, test_silence_after_ice_came_back_wants_a_standby);
  tcase_add_test (status, test_status_error_after_giving_up);
  tcase_add_test (status, test_status_ended_after_eos);
  tcase_add_test (status, test_status_connecting_then_playing);
  tcase_add_test (status, test_status_waiting_for_a_server_that_says_not_yet);
  tcase_add_test (status, test_status_disconnected_only_while_holding);
  tcase_add_test (status, test_status_inactive_publication_is_waiting_not_lost);

  suite_add_tcase (s, retry);
  tcase_add_test (retry, test_retry_not_retryable_gives_up_at_once);
  tcase_add_test (retry, test_retry_counts_up_to_max_retries);
  tcase_add_test (retry, test_retry_backs_off_exponentially_without_jitter);
  tcase_add_test (retry, test_retry_jitter_stays_in_the_upper_half);
  tcase_add_test (retry, test_retry_after_a_played_session_is_immediate_once);
  tcase_add_test (retry, test_retry_after_header_lengthens_and_is_capped);
  tcase_add_test (retry, test_second_session_refusals);

  suite_add_tcase (s, rotation);
  tcase_add_test (rotation, test_rotation_due_from_the_post_less_the_lead);

  suite_add_tcase (s, silence);
  tcase_add_test (silence, test_silence_within_media_timeout_is_fine);
  tcase_add_test (silence, test_silence_expected_when_paused_inactive_or_off);
  tcase_add_test (silence, test_silence_wants_a_repair_early);
  tcase_add_test (silence, test_silence_with_rtcp_wants_a_standby);
  tcase_add_test (silence,
      test_silence_with_video_packets_waits_for_the_key_frame);
  tcase_add_test (silence, test_silence_counts_from_the_resume);
  tcase_add_test (silence, test_silence_of_a_session_off_air_is_not_judged);
  tcase_add_test (silence, test_ice_restart_judged_by_the_media);
  tcase_add_test (silence, test_silence_with_rtcp_means_the_sender_stopped);
  tcase_add_test (silence, test_ice_restart_with_rtcp_but_no_media_fails_early);
  return s;
}

GST_CHECK_MAIN (policy);
