/* whepsrc — unit tests for the pure helpers (gstwheputils, gstwhepsdp).
 *
 * No network, no elements: every test calls a pure function with inputs
 * written here and checks its result precisely.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "gstwheputils.h"
#include "gstwhepsdp.h"
#include "gstwhepfailure.h"

/* ------------------------------------------------------------------ */
/* helpers of the tests                                                */
/* ------------------------------------------------------------------ */

static GPtrArray *
links_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) gst_whep_link_free);
}

static GPtrArray *
ice_servers_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_whep_ice_server_free);
}

static GstWhepLink *
link_at (GPtrArray * links, guint i)
{
  fail_unless (i < links->len);
  return g_ptr_array_index (links, i);
}

static const gchar *
link_param (GPtrArray * links, guint i, const gchar * name)
{
  return g_hash_table_lookup (link_at (links, i)->params, name);
}

/* Parses @value and checks that exactly @expected links came out. */
static GPtrArray *
parse_links (const gchar * value, guint expected)
{
  GPtrArray *links = links_new ();
  guint n = gst_whep_parse_link_header (value, links);

  fail_unless_equals_int (n, expected);
  fail_unless_equals_int (links->len, expected);
  return links;
}

static GstWhepIceServer *
ice_server (const gchar * url, const gchar * username, const gchar * credential)
{
  GstWhepIceServer *s = g_new0 (GstWhepIceServer, 1);

  s->url = g_strdup (url);
  s->username = g_strdup (username);
  s->credential = g_strdup (credential);
  return s;
}

static gchar *
webrtc_uri (const gchar * url, const gchar * username, const gchar * credential)
{
  g_autoptr (GstWhepIceServer) s = ice_server (url, username, credential);

  return gst_whep_ice_server_to_webrtc_uri (s);
}

static GDateTime *
utc (gint y, gint mo, gint d, gint h, gint mi, gdouble s)
{
  GDateTime *dt = g_date_time_new_utc (y, mo, d, h, mi, s);

  fail_unless (dt != NULL);
  return dt;
}

static gchar *
resolve (const gchar * base, const gchar * location)
{
  GError *error = NULL;
  gchar *r = gst_whep_resolve_location (base, location, &error);

  fail_unless (r != NULL, "resolving %s against %s failed: %s", location,
      base, error ? error->message : "?");
  return r;
}

static gchar *
summary_of (const gchar * content_type, const gchar * text)
{
  g_autoptr (GBytes) body = NULL;

  if (text != NULL)
    body = g_bytes_new (text, strlen (text));
  return gst_whep_error_body_summary (content_type, body);
}

/* Returns a copy of @text with every occurrence of @from replaced. */
static gchar *
replace (const gchar * text, const gchar * from, const gchar * to)
{
  GString *s = g_string_new (text);
  guint n = g_string_replace (s, from, to, 0);

  fail_unless (n > 0, "\"%s\" not found in the SDP", from);
  return g_string_free (s, FALSE);
}

/* Returns a copy of SDP @text without the lines starting with @prefix. */
static gchar *
drop_lines (const gchar * text, const gchar * prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\r\n", -1);
  GString *s = g_string_new (NULL);
  guint i, dropped = 0;

  for (i = 0; lines[i] != NULL; i++) {
    if (g_str_has_prefix (lines[i], prefix)) {
      dropped++;
      continue;
    }
    if (*lines[i] != '\0')
      g_string_append_printf (s, "%s\r\n", lines[i]);
  }
  fail_unless (dropped > 0, "no line \"%s…\" in the SDP", prefix);
  return g_string_free (s, FALSE);
}

static GstSDPMessage *
sdp (const gchar * text)
{
  GstSDPMessage *msg = NULL;
  GError *error = NULL;

  fail_unless (gst_whep_sdp_parse (text, &msg, &error),
      "SDP did not parse: %s", error ? error->message : "?");
  fail_unless (msg != NULL);
  return msg;
}

/* ------------------------------------------------------------------ */
/* Link header                                                         */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_link_single_ice_server)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:stun.example.net:3478>; rel=\"ice-server\"", 1);

  fail_unless_equals_string (link_at (links, 0)->uri,
      "stun:stun.example.net:3478");
  fail_unless_equals_string (link_at (links, 0)->rel, "ice-server");
  fail_unless_equals_string (link_param (links, 0, "rel"), "ice-server");
}

GST_END_TEST;

GST_START_TEST (test_link_multiple_values_in_one_header)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:a.example:3478>; rel=\"ice-server\", "
      "<turn:b.example:3478?transport=udp>; rel=\"ice-server\"; "
      "username=\"u\"; credential=\"c\",<https://x.example/sse>;"
      "rel=\"urn:ietf:params:whep:ext:core:server-sent-events\"", 3);

  fail_unless_equals_string (link_at (links, 0)->uri, "stun:a.example:3478");
  fail_unless_equals_string (link_at (links, 1)->uri,
      "turn:b.example:3478?transport=udp");
  fail_unless_equals_string (link_param (links, 1, "username"), "u");
  fail_unless_equals_string (link_param (links, 1, "credential"), "c");
  fail_unless_equals_string (link_at (links, 2)->uri, "https://x.example/sse");
  fail_unless_equals_string (link_at (links, 2)->rel,
      "urn:ietf:params:whep:ext:core:server-sent-events");
}

GST_END_TEST;

GST_START_TEST (test_link_appends_to_existing_array)
{
  g_autoptr (GPtrArray) links = links_new ();

  fail_unless_equals_int (gst_whep_parse_link_header
      ("<stun:a:1>; rel=ice-server", links), 1);
  fail_unless_equals_int (gst_whep_parse_link_header
      ("<stun:b:2>; rel=ice-server", links), 1);
  fail_unless_equals_int (links->len, 2);
  fail_unless_equals_string (link_at (links, 1)->uri, "stun:b:2");
}

GST_END_TEST;

GST_START_TEST (test_link_comma_inside_uri_and_quotes)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<https://x.example/a,b>; rel=\"next\"; "
      "title=\"one, two\", <https://y.example/>; rel=\"prev\"", 2);

  fail_unless_equals_string (link_at (links, 0)->uri, "https://x.example/a,b");
  fail_unless_equals_string (link_param (links, 0, "title"), "one, two");
  fail_unless_equals_string (link_at (links, 1)->uri, "https://y.example/");
  fail_unless_equals_string (link_at (links, 1)->rel, "prev");
}

GST_END_TEST;

GST_START_TEST (test_link_quoted_string_escapes)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<turn:t.example:3478>; rel=\"ice-server\"; "
      "username=\"us\\\"er\"; credential=\"pa\\\\ss;w,rd\"", 1);

  fail_unless_equals_string (link_param (links, 0, "username"), "us\"er");
  fail_unless_equals_string (link_param (links, 0, "credential"),
      "pa\\ss;w,rd");
}

GST_END_TEST;

GST_START_TEST (test_link_token_params)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<turn:t.example:3478>;rel=ice-server;username=alice;"
      "credential=s3cr3t;credential-type=password", 1);

  fail_unless_equals_string (link_at (links, 0)->rel, "ice-server");
  fail_unless_equals_string (link_param (links, 0, "username"), "alice");
  fail_unless_equals_string (link_param (links, 0, "credential"), "s3cr3t");
  fail_unless_equals_string (link_param (links, 0, "credential-type"),
      "password");
}

GST_END_TEST;

GST_START_TEST (test_link_whitespace_around_separators)
{
  g_autoptr (GPtrArray) links =
      parse_links ("  < stun:a.example:3478 >\t ;  rel = \"ice-server\" ;"
      " username =\t\"u\"  ,  ", 1);

  fail_unless_equals_string (link_at (links, 0)->uri, "stun:a.example:3478");
  fail_unless_equals_string (link_at (links, 0)->rel, "ice-server");
  fail_unless_equals_string (link_param (links, 0, "username"), "u");
}

GST_END_TEST;

GST_START_TEST (test_link_param_names_case_insensitive)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:a:1>; REL=\"ICE-Server\"; UserName=\"Bob\"", 1);

  /* Names are folded, the rel value too, other values are kept. */
  fail_unless_equals_string (link_at (links, 0)->rel, "ice-server");
  fail_unless_equals_string (link_param (links, 0, "username"), "Bob");
  fail_unless (link_param (links, 0, "UserName") == NULL);
}

GST_END_TEST;

GST_START_TEST (test_link_first_occurrence_of_param_wins)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:a:1>; rel=\"ice-server\"; rel=\"other\"", 1);

  fail_unless_equals_string (link_at (links, 0)->rel, "ice-server");
}

GST_END_TEST;

GST_START_TEST (test_link_several_rels)
{
  g_autoptr (GPtrArray) links = parse_links ("<stun:a:1>; rel=\"Alternate "
      "ICE-server\"", 1);
  g_autoptr (GPtrArray) servers = ice_servers_new ();

  fail_unless_equals_string (link_at (links, 0)->rel, "alternate ice-server");
  fail_unless_equals_int (gst_whep_ice_servers_from_links (links, servers), 1);
}

GST_END_TEST;

GST_START_TEST (test_link_param_without_value)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<https://x.example/>; rel=\"next\"; crossorigin", 1);

  fail_unless_equals_string (link_param (links, 0, "crossorigin"), "");
}

GST_END_TEST;

GST_START_TEST (test_link_missing_rel_skipped)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:a:1>; username=\"u\", <stun:b:2>; rel=\"\", "
      "<stun:c:3>; rel=\"ice-server\"", 1);

  fail_unless_equals_string (link_at (links, 0)->uri, "stun:c:3");
}

GST_END_TEST;

GST_START_TEST (test_link_malformed_values_skipped)
{
  /* No '<'; unterminated '<'; garbage after '>'; a parameter without a
   * name: each broken link-value is dropped, the good ones survive. */
  g_autoptr (GPtrArray) links =
      parse_links ("stun:a:1; rel=\"ice-server\", <stun:b:2> junk; "
      "rel=\"ice-server\", <stun:c:3>; =x; rel=\"ice-server\", "
      "<stun:d:4>; rel=\"ice-server\", <stun:e:5", 1);

  fail_unless_equals_string (link_at (links, 0)->uri, "stun:d:4");
}

GST_END_TEST;

GST_START_TEST (test_link_unterminated_quote_skipped)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:a:1>; rel=\"ice-server\", <stun:b:2>; "
      "rel=\"ice-server, <stun:c:3>; rel=\"ice-server\"", 1);

  /* The open quote swallows the rest of the header. */
  fail_unless_equals_string (link_at (links, 0)->uri, "stun:a:1");
}

GST_END_TEST;

GST_START_TEST (test_link_relative_uri_kept_as_written)
{
  g_autoptr (GPtrArray) links =
      parse_links ("</whep/abc/sse>; rel=\"urn:ietf:params:whep:ext:core:"
      "server-sent-events\"; events=\"active,inactive,layers\"", 1);

  fail_unless_equals_string (link_at (links, 0)->uri, "/whep/abc/sse");
  fail_unless_equals_string (link_param (links, 0, "events"),
      "active,inactive,layers");
}

GST_END_TEST;

GST_START_TEST (test_link_null_and_empty)
{
  g_autoptr (GPtrArray) links = links_new ();

  fail_unless_equals_int (gst_whep_parse_link_header (NULL, links), 0);
  fail_unless_equals_int (gst_whep_parse_link_header ("", links), 0);
  fail_unless_equals_int (gst_whep_parse_link_header (" , ,, ", links), 0);
  fail_unless_equals_int (links->len, 0);
}

GST_END_TEST;

GST_START_TEST (test_link_free_accepts_null)
{
  gst_whep_link_free (NULL);
  gst_whep_ice_server_free (NULL);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* ICE servers from links                                              */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_ice_servers_filter_rel_and_scheme)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:s.example:3478>; rel=\"ice-server\", "
      "<https://h.example/>; rel=\"ice-server\", "
      "<stuns:s.example:5349>; rel=\"ice-server\", "
      "<turn:t.example:3478>; rel=\"other\", "
      "<TURNS:t.example:5349?transport=tcp>; rel=\"ice-server\"; "
      "username=\"u\"; credential=\"c\"", 5);
  g_autoptr (GPtrArray) servers = ice_servers_new ();
  GstWhepIceServer *s;

  fail_unless_equals_int (gst_whep_ice_servers_from_links (links, servers), 3);
  fail_unless_equals_int (servers->len, 3);

  s = g_ptr_array_index (servers, 0);
  fail_unless_equals_string (s->url, "stun:s.example:3478");
  fail_unless (s->username == NULL && s->credential == NULL);
  s = g_ptr_array_index (servers, 1);
  fail_unless_equals_string (s->url, "stuns:s.example:5349");
  s = g_ptr_array_index (servers, 2);
  fail_unless_equals_string (s->url, "TURNS:t.example:5349?transport=tcp");
}

GST_END_TEST;

GST_START_TEST (test_ice_servers_turn_with_credentials)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<turn:turn.example.net:3478?transport=udp>; "
      "rel=\"ice-server\"; username=\"1700000000:viewer\"; "
      "credential=\"bXlzZWNyZXQ=\"; credential-type=\"password\"", 1);
  g_autoptr (GPtrArray) servers = ice_servers_new ();
  GstWhepIceServer *s;

  fail_unless_equals_int (gst_whep_ice_servers_from_links (links, servers), 1);
  s = g_ptr_array_index (servers, 0);
  fail_unless_equals_string (s->url,
      "turn:turn.example.net:3478?transport=udp");
  fail_unless_equals_string (s->username, "1700000000:viewer");
  fail_unless_equals_string (s->credential, "bXlzZWNyZXQ=");
}

GST_END_TEST;

GST_START_TEST (test_ice_servers_turn_without_credentials)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<turn:turn.example.net:3478>; rel=\"ice-server\"", 1);
  g_autoptr (GPtrArray) servers = ice_servers_new ();
  GstWhepIceServer *s;
  g_autofree gchar *uri = NULL;

  fail_unless_equals_int (gst_whep_ice_servers_from_links (links, servers), 1);
  s = g_ptr_array_index (servers, 0);
  fail_unless (s->username == NULL);
  fail_unless (s->credential == NULL);
  /* webrtcbin cannot use a TURN server without credentials. */
  uri = gst_whep_ice_server_to_webrtc_uri (s);
  fail_unless (uri == NULL);
}

GST_END_TEST;

GST_START_TEST (test_ice_servers_null_links)
{
  g_autoptr (GPtrArray) servers = ice_servers_new ();

  fail_unless_equals_int (gst_whep_ice_servers_from_links (NULL, servers), 0);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* webrtcbin URIs                                                      */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_webrtc_uri_stun)
{
  g_autofree gchar *a = webrtc_uri ("stun:stun.example.net:3478", NULL,
      NULL);
  g_autofree gchar *b = webrtc_uri ("stun:[2001:db8::1]:3478", NULL, NULL);
  g_autofree gchar *c = webrtc_uri ("stun:stun.example.net", "u", "p");

  fail_unless_equals_string (a, "stun://stun.example.net:3478");
  fail_unless_equals_string (b, "stun://[2001:db8::1]:3478");
  /* STUN needs no credentials: none are written. */
  fail_unless_equals_string (c, "stun://stun.example.net");
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_turn_keeps_transport)
{
  g_autofree gchar *a = webrtc_uri ("turn:turn.example.net:3478?transport=tcp",
      "user", "pass");
  g_autofree gchar *b = webrtc_uri ("turn:turn.example.net:3478", "user",
      "pass");

  fail_unless_equals_string (a,
      "turn://user:pass@turn.example.net:3478?transport=tcp");
  fail_unless_equals_string (b, "turn://user:pass@turn.example.net:3478");
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_turns)
{
  g_autofree gchar *a = webrtc_uri ("turns:turn.example.net:5349", "user",
      "pass");

  fail_unless_equals_string (a, "turns://user:pass@turn.example.net:5349");
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_escapes_credentials)
{
  g_autofree gchar *uri =
      webrtc_uri ("turn:t.example:3478?transport=udp", "1700000000:al ice",
      "p@ss/w%rd?#=+");
  g_autoptr (GstUri) parsed = NULL;
  g_auto (GStrv) userinfo = NULL;
  g_autofree gchar *user = NULL;
  g_autofree gchar *pass = NULL;

  /* ':' must be escaped in both halves: webrtcbin splits at the first. */
  fail_unless_equals_string (uri, "turn://1700000000%3Aal%20ice:"
      "p%40ss%2Fw%25rd%3F%23=+@t.example:3478?transport=udp");

  /* Read back the way webrtcbin does. */
  parsed = gst_uri_from_string_escaped (uri);
  fail_unless (parsed != NULL);
  fail_unless_equals_string (gst_uri_get_host (parsed), "t.example");
  fail_unless_equals_int (gst_uri_get_port (parsed), 3478);
  fail_unless_equals_string (gst_uri_get_query_value (parsed, "transport"),
      "udp");
  userinfo = g_strsplit (gst_uri_get_userinfo (parsed), ":", 2);
  fail_unless_equals_int (g_strv_length (userinfo), 2);
  user = g_uri_unescape_string (userinfo[0], NULL);
  pass = g_uri_unescape_string (userinfo[1], NULL);
  fail_unless_equals_string (user, "1700000000:al ice");
  fail_unless_equals_string (pass, "p@ss/w%rd?#=+");
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_turn_without_credentials_is_null)
{
  g_autofree gchar *a = webrtc_uri ("turn:t.example:3478", NULL, NULL);
  g_autofree gchar *b = webrtc_uri ("turn:t.example:3478", "user", NULL);
  g_autofree gchar *c = webrtc_uri ("turns:t.example:5349", NULL, "pass");
  g_autofree gchar *d = webrtc_uri ("turn:t.example:3478", "", "pass");

  fail_unless (a == NULL);
  fail_unless (b == NULL);
  fail_unless (c == NULL);
  fail_unless (d == NULL);
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_unsupported_is_null)
{
  g_autofree gchar *a = webrtc_uri ("stuns:s.example:5349", NULL, NULL);
  g_autofree gchar *b = webrtc_uri ("https://h.example/", "u", "p");
  g_autofree gchar *c = webrtc_uri ("no scheme here", "u", "p");
  g_autofree gchar *d = webrtc_uri ("turn:", "u", "p");

  fail_unless (a == NULL);
  fail_unless (b == NULL);
  fail_unless (c == NULL);
  fail_unless (d == NULL);
  fail_unless (gst_whep_ice_server_to_webrtc_uri (NULL) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_webrtc_uri_from_link_header)
{
  g_autoptr (GPtrArray) links =
      parse_links ("<stun:s.example:3478>; rel=\"ice-server\", "
      "<turn:t.example:3478?transport=udp>; rel=\"ice-server\"; "
      "username=\"u\"; credential=\"c:d\"", 2);
  g_autoptr (GPtrArray) servers = ice_servers_new ();
  g_autofree gchar *stun = NULL;
  g_autofree gchar *turn = NULL;

  fail_unless_equals_int (gst_whep_ice_servers_from_links (links, servers), 2);
  stun = gst_whep_ice_server_to_webrtc_uri (g_ptr_array_index (servers, 0));
  turn = gst_whep_ice_server_to_webrtc_uri (g_ptr_array_index (servers, 1));
  fail_unless_equals_string (stun, "stun://s.example:3478");
  fail_unless_equals_string (turn,
      "turn://u:c%3Ad@t.example:3478?transport=udp");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Retry-After                                                         */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_retry_after_delta_seconds)
{
  guint s = 12345;

  fail_unless (gst_whep_parse_retry_after ("120", NULL, &s));
  fail_unless_equals_int (s, 120);
  fail_unless (gst_whep_parse_retry_after ("0", NULL, &s));
  fail_unless_equals_int (s, 0);
  fail_unless (gst_whep_parse_retry_after ("  5 \t", NULL, &s));
  fail_unless_equals_int (s, 5);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_huge_delta_saturates)
{
  guint s = 0;

  fail_unless (gst_whep_parse_retry_after ("99999999999999999999999", NULL,
          &s));
  fail_unless_equals_uint64 (s, G_MAXUINT);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_http_date_future)
{
  g_autoptr (GDateTime) now = utc (1994, 11, 6, 8, 47, 37);
  guint s = 0;

  fail_unless (gst_whep_parse_retry_after ("Sun, 06 Nov 1994 08:49:37 GMT",
          now, &s));
  fail_unless_equals_int (s, 120);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_http_date_rounds_up)
{
  /* Waiting a little too long is harmless, too short gets another 503. */
  g_autoptr (GDateTime) now = utc (2025, 3, 14, 12, 0, 29.25);
  guint s = 0;

  fail_unless (gst_whep_parse_retry_after ("Fri, 14 Mar 2025 12:00:40 GMT",
          now, &s));
  fail_unless_equals_int (s, 11);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_http_date_past_is_zero)
{
  g_autoptr (GDateTime) now = utc (2025, 3, 14, 12, 0, 0);
  guint s = 77;

  fail_unless (gst_whep_parse_retry_after ("Sun, 06 Nov 1994 08:49:37 GMT",
          now, &s));
  fail_unless_equals_int (s, 0);
  s = 77;
  fail_unless (gst_whep_parse_retry_after ("Fri, 14 Mar 2025 12:00:00 GMT",
          now, &s));
  fail_unless_equals_int (s, 0);
}

GST_END_TEST;

GST_START_TEST (test_retry_after_garbage)
{
  g_autoptr (GDateTime) now = utc (2025, 3, 14, 12, 0, 0);
  const gchar *bad[] = { "", "   ", "soon", "-5", "1.5", "12abc", "+3",
    "Funday, 99 Nov 1994 08:49:37 GMT", "0x10", NULL
  };
  guint i;

  fail_if (gst_whep_parse_retry_after (NULL, now, NULL));
  for (i = 0; bad[i] != NULL; i++) {
    guint s = 4242;

    fail_if (gst_whep_parse_retry_after (bad[i], now, &s),
        "\"%s\" was accepted", bad[i]);
    fail_unless_equals_int (s, 4242);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* status classes                                                      */
/* ------------------------------------------------------------------ */

static void
check_status_class (const guint * statuses, GstWhepStatusClass expected)
{
  guint i;

  for (i = 0; statuses[i] != 0; i++) {
    fail_unless_equals_int_hex (gst_whep_classify_status (statuses[i]),
        expected);
  }
}

GST_START_TEST (test_status_success)
{
  const guint s[] = { 200, 201, 202, 204, 299, 0 };

  check_status_class (s, GST_WHEP_STATUS_CLASS_SUCCESS);
}

GST_END_TEST;

GST_START_TEST (test_status_redirect)
{
  const guint s[] = { 301, 302, 303, 307, 308, 0 };

  check_status_class (s, GST_WHEP_STATUS_CLASS_REDIRECT);
}

GST_END_TEST;

GST_START_TEST (test_status_not_authorized)
{
  const guint s[] = { 401, 403, 0 };

  check_status_class (s, GST_WHEP_STATUS_CLASS_NOT_AUTHORIZED);
}

GST_END_TEST;

GST_START_TEST (test_status_not_found)
{
  const guint s[] = { 404, 410, 0 };

  check_status_class (s, GST_WHEP_STATUS_CLASS_NOT_FOUND);
}

GST_END_TEST;

GST_START_TEST (test_status_retry)
{
  const guint s[] = { 409, 425, 429, 502, 503, 504, 0 };

  check_status_class (s, GST_WHEP_STATUS_CLASS_RETRY);
}

GST_END_TEST;

GST_START_TEST (test_status_fatal)
{
  const guint s[] = { 1, 100, 101, 199, 300, 304, 305, 306, 309, 400, 402,
    405, 406, 408, 411, 412, 415, 422, 428, 431, 451, 499, 500, 501, 505,
    511, 599, 600, 999, 0
  };

  check_status_class (s, GST_WHEP_STATUS_CLASS_FATAL);
  fail_unless_equals_int_hex (gst_whep_classify_status (0),
      GST_WHEP_STATUS_CLASS_FATAL);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* back-off                                                            */
/* ------------------------------------------------------------------ */

/* The un-jittered delay, computed the slow obvious way. */
static guint
expected_cap (guint attempt, guint base_ms, guint max_ms)
{
  guint64 d = base_ms;
  guint i;

  for (i = 0; i < attempt && d < max_ms; i++)
    d *= 2;
  return (guint) MIN (d, (guint64) max_ms);
}

GST_START_TEST (test_backoff_without_rand_is_exact)
{
  fail_unless_equals_int (gst_whep_backoff_delay_ms (0, 500, 30000, NULL), 500);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (1, 500, 30000, NULL),
      1000);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (5, 500, 30000, NULL),
      16000);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (6, 500, 30000, NULL),
      30000);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (60, 500, 30000, NULL),
      30000);
}

GST_END_TEST;

GST_START_TEST (test_backoff_jitter_bounds)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x5eed);
  guint attempt, k;

  for (attempt = 0; attempt < 200; attempt++) {
    guint d = expected_cap (attempt, 250, 60000);

    for (k = 0; k < 50; k++) {
      guint delay = gst_whep_backoff_delay_ms (attempt, 250, 60000, rand);

      fail_unless (delay >= d / 2 && delay <= d,
          "attempt %u: %u not in [%u, %u]", attempt, delay, d / 2, d);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_backoff_jitter_spreads)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  guint k, lowest = G_MAXUINT, highest = 0;

  for (k = 0; k < 1000; k++) {
    guint delay = gst_whep_backoff_delay_ms (4, 1000, 60000, rand);

    lowest = MIN (lowest, delay);
    highest = MAX (highest, delay);
  }
  /* d = 16000: the samples must cover most of [8000, 16000]. */
  fail_unless (lowest < 9000, "lowest %u", lowest);
  fail_unless (highest > 15000, "highest %u", highest);
}

GST_END_TEST;

GST_START_TEST (test_backoff_cap_is_monotonic)
{
  guint attempt, previous = 0;

  for (attempt = 0; attempt < 1000; attempt++) {
    guint d = gst_whep_backoff_delay_ms (attempt, 300, 45000, NULL);

    fail_unless (d >= previous, "attempt %u: %u < %u", attempt, d, previous);
    fail_unless (d <= 45000);
    previous = d;
  }
  fail_unless_equals_int (previous, 45000);
}

GST_END_TEST;

GST_START_TEST (test_backoff_no_overflow)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  guint d;

  fail_unless_equals_uint64 (gst_whep_backoff_delay_ms (G_MAXUINT,
          G_MAXUINT, G_MAXUINT, NULL), G_MAXUINT);
  fail_unless_equals_uint64 (gst_whep_backoff_delay_ms (31, 3, G_MAXUINT,
          NULL), G_MAXUINT);
  fail_unless_equals_uint64 (gst_whep_backoff_delay_ms (32, 1, 60000, NULL),
      60000);
  fail_unless_equals_uint64 (gst_whep_backoff_delay_ms (G_MAXUINT, 1000,
          60000, NULL), 60000);
  d = gst_whep_backoff_delay_ms (G_MAXUINT, G_MAXUINT, G_MAXUINT, rand);
  fail_unless (d >= G_MAXUINT / 2);
}

GST_END_TEST;

GST_START_TEST (test_backoff_degenerate_arguments)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);

  fail_unless_equals_int (gst_whep_backoff_delay_ms (3, 0, 1000, rand), 0);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (3, 1000, 0, rand), 0);
  /* A cap below the base wins. */
  fail_unless_equals_int (gst_whep_backoff_delay_ms (0, 5000, 2000, NULL),
      2000);
  fail_unless_equals_int (gst_whep_backoff_delay_ms (0, 1, 1000, NULL), 1);
}

GST_END_TEST;

GST_START_TEST (test_backoff_same_seed_same_delays)
{
  g_autoptr (GRand) a = g_rand_new_with_seed (99);
  g_autoptr (GRand) b = g_rand_new_with_seed (99);
  guint attempt;

  for (attempt = 0; attempt < 20; attempt++) {
    fail_unless_equals_int (gst_whep_backoff_delay_ms (attempt, 100, 10000,
            a), gst_whep_backoff_delay_ms (attempt, 100, 10000, b));
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Location                                                            */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_location_relative_path)
{
  g_autofree gchar *r = resolve ("http://127.0.0.1:8889/cam/whep",
      "whep/3f2a");

  fail_unless_equals_string (r, "http://127.0.0.1:8889/cam/whep/3f2a");
}

GST_END_TEST;

GST_START_TEST (test_location_absolute_path)
{
  g_autofree gchar *r = resolve ("https://media.example:8443/live/cam/whep",
      "/api/whep/6c1d9a2e-0b7f-4d52-9a1e-3c2b1d0e9f8a");

  fail_unless_equals_string (r, "https://media.example:8443/api/whep/"
      "6c1d9a2e-0b7f-4d52-9a1e-3c2b1d0e9f8a");
}

GST_END_TEST;

GST_START_TEST (test_location_absolute_url)
{
  g_autofree gchar *r = resolve ("https://director.example/api/whep/acc/stream",
      "https://edge-7.example:4433/whep/session/1");
  g_autofree gchar *r2 = resolve ("https://a.example/whep",
      "//b.example/session");

  fail_unless_equals_string (r, "https://edge-7.example:4433/whep/session/1");
  fail_unless_equals_string (r2, "https://b.example/session");
}

GST_END_TEST;

GST_START_TEST (test_location_query_kept)
{
  g_autofree gchar *r = resolve ("http://srs.example:1985/rtc/v1/whep/"
      "?app=live&stream=livestream",
      "/rtc/v1/whip/?action=delete&token=a%2Fb+c%20d&app=live"
      "&stream=livestream&session=8a7b:c6d5");

  fail_unless_equals_string (r, "http://srs.example:1985/rtc/v1/whip/"
      "?action=delete&token=a%2Fb+c%20d&app=live&stream=livestream"
      "&session=8a7b:c6d5");
}

GST_END_TEST;

GST_START_TEST (test_location_dot_segments)
{
  g_autofree gchar *r = resolve ("http://h.example/a/b/c/whep",
      "../d/./e/../f");

  fail_unless_equals_string (r, "http://h.example/a/b/d/f");
}

GST_END_TEST;

GST_START_TEST (test_location_base_with_query)
{
  g_autofree gchar *r = resolve ("http://h.example/cam/whep?token=abc",
      "whep/session1");
  g_autofree gchar *r2 = resolve ("http://h.example/cam/whep?token=abc",
      "?token=xyz");

  /* The base's query belongs to the base only. */
  fail_unless_equals_string (r, "http://h.example/cam/whep/session1");
  fail_unless_equals_string (r2, "http://h.example/cam/whep?token=xyz");
}

GST_END_TEST;

GST_START_TEST (test_location_whitespace_trimmed)
{
  g_autofree gchar *r = resolve ("http://h.example/whep", "  /s/1 \t");

  fail_unless_equals_string (r, "http://h.example/s/1");
}

GST_END_TEST;

/* Found by tests/fuzz/fuzz-location: a Location whose dot segments
 * leave a path starting with "//" and no host ("http:/.//x") made GLib
 * print a critical (fatal in these tests) while resolving it.  It is
 * refused as any unusable Location is. */
GST_START_TEST (test_location_without_host_refused)
{
  GError *error = NULL;

  fail_unless (gst_whep_resolve_location ("http://h/whep", "http:/.//x",
          &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  g_clear_error (&error);
  fail_unless (gst_whep_resolve_location ("h:/.//", "x", &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  /* What is fine stays fine. */
  {
    g_autofree gchar *r = resolve ("http://h/whep", "http://h/.//x");

    fail_unless_equals_string (r, "http://h//x");
  }
}

GST_END_TEST;

GST_START_TEST (test_location_empty_is_error)
{
  GError *error = NULL;

  fail_unless (gst_whep_resolve_location ("http://h/", "", &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (gst_whep_resolve_location ("http://h/", NULL, &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (gst_whep_resolve_location ("http://h/", "http://[bad",
          &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* error body summaries                                                */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_error_summary_problem_title_and_detail)
{
  g_autofree gchar *s = summary_of ("application/problem+json",
      "{\"type\":\"https://example.com/probs/no-stream\","
      "\"title\":\"Stream not found\",\"status\":409,"
      "\"detail\":\"No publisher on path cam\"}");

  fail_unless_equals_string (s, "Stream not found: No publisher on path cam");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_problem_title_only)
{
  g_autofree gchar *s = summary_of ("application/problem+json; charset=utf-8",
      "{\"title\":\"Too many viewers\",\"status\":503}");

  fail_unless_equals_string (s, "Too many viewers");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_problem_detail_only)
{
  g_autofree gchar *s = summary_of ("Application/Problem+JSON",
      "{\"detail\":\"token expired\",\"title\":42}");

  fail_unless_equals_string (s, "token expired");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_problem_multiline_detail)
{
  g_autofree gchar *s = summary_of ("application/problem+json",
      "{\"title\":\"Bad offer\",\"detail\":\"line one\\nline\\ttwo\"}");

  /* The summary is one line: the newline and the tab become spaces. */
  fail_unless_equals_string (s, "Bad offer: line one line two");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_broken_json_falls_back_to_text)
{
  g_autofree gchar *s = summary_of ("application/problem+json",
      "{\"title\": \"oops\n\n");
  g_autofree gchar *s2 = summary_of ("application/problem+json",
      "[\"not an object\"]");

  fail_unless_equals_string (s, "{\"title\": \"oops");
  fail_unless_equals_string (s2, "[\"not an object\"]");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_text_leading_blank_lines)
{
  g_autofree gchar *s = summary_of ("text/plain",
      "\r\n   \n\t\r\n  Stream not found  \r\nsecond line\r\n");

  fail_unless_equals_string (s, "Stream not found");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_long_text_truncated)
{
  GString *text = g_string_new ("  ");
  g_autofree gchar *s = NULL;
  guint i;

  for (i = 0; i < 100; i++)
    g_string_append (text, "é0123456789");
  g_string_append (text, "\nnext");
  s = summary_of ("text/plain", text->str);
  g_string_free (text, TRUE);

  /* 200 characters, not bytes: a multi-byte character is never cut. */
  fail_unless (g_utf8_validate (s, -1, NULL));
  fail_unless_equals_int (g_utf8_strlen (s, -1), 200);
  fail_unless (g_str_has_prefix (s, "é0123456789é"));
}

GST_END_TEST;

GST_START_TEST (test_error_summary_control_chars_escaped)
{
  g_autofree gchar *s = summary_of ("text/plain; charset=utf-8",
      "\x1b[31mForbidden\x1b[0m\x07 by\tpolicy\x7f");

  /* Shown, not obeyed: a terminal escape in an error message is text. */
  fail_unless_equals_string (s,
      "\\x1b[31mForbidden\\x1b[0m\\x07 by policy\\x7f");
}

GST_END_TEST;

/* Whatever a server sends, the text that reaches an error message is
 * valid UTF-8 (GStreamer refuses other debug strings), shows control
 * characters instead of obeying them, and is bounded. */
GST_START_TEST (test_sanitize_text)
{
  g_autofree gchar *plain = gst_whep_sanitize_text ("Bad Gateway", -1, 100);
  g_autofree gchar *utf8 = gst_whep_sanitize_text ("café ✓", -1, 100);
  g_autofree gchar *bytes = gst_whep_sanitize_text ("a\xff\xfe b", -1, 100);
  g_autofree gchar *controls =
      gst_whep_sanitize_text ("1\n2\r3\t4\x1b[0m\x7f", -1, 100);
  g_autofree gchar *nul = gst_whep_sanitize_text ("v=0\0m=", 6, 100);
  g_autofree gchar *c1 = gst_whep_sanitize_text ("x\xc2\x85y", -1, 100);
  g_autofree gchar *cut = gst_whep_sanitize_text ("0123456789", -1, 5);
  g_autofree gchar *exact = gst_whep_sanitize_text ("01234", -1, 5);
  g_autofree gchar *escape_cut = gst_whep_sanitize_text ("ab\x01", -1, 4);
  GString *huge = g_string_new (NULL);
  g_autofree gchar *bounded = NULL;
  guint i;

  fail_unless_equals_string (plain, "Bad Gateway");
  fail_unless_equals_string (utf8, "café ✓");
  fail_unless_equals_string (bytes, "a\\xff\\xfe b");
  fail_unless_equals_string (controls, "1\\n2\\r3\\t4\\x1b[0m\\x7f");
  fail_unless_equals_string (nul, "v=0\\x00m=");
  fail_unless_equals_string (c1, "x\\u0085y");
  fail_unless_equals_string (cut, "0123…");
  fail_unless_equals_string (exact, "01234");
  /* An escape is never cut in half. */
  fail_unless_equals_string (escape_cut, "ab…");
  fail_unless (gst_whep_sanitize_text (NULL, -1, 10) == NULL);

  for (i = 0; i < 100000; i++)
    g_string_append (huge, "\xff\x01é");
  bounded = gst_whep_sanitize_text (huge->str, huge->len, 200);
  g_string_free (huge, TRUE);
  fail_unless (g_utf8_validate (bounded, -1, NULL));
  fail_unless (g_utf8_strlen (bounded, -1) <= 200);
}

GST_END_TEST;

GST_START_TEST (test_html_title)
{
  const gchar *page = "<html><head><title>Welcome to nginx!</title>";
  g_autofree gchar *t = gst_whep_html_title (page, strlen (page));
  g_autofree gchar *none = gst_whep_html_title ("<html><body>x</body>", 20);
  g_autofree gchar *empty = gst_whep_html_title ("<title> </title>", 16);
  g_autofree gchar *unclosed = gst_whep_html_title ("<title>Oops", 11);
  g_autofree gchar *dirty =
      gst_whep_html_title ("<title>a\x1b[1m\xff</title>", 20);

  fail_unless_equals_string (t, "Welcome to nginx!");
  fail_unless (none == NULL);
  fail_unless (empty == NULL);
  fail_unless_equals_string (unclosed, "Oops");
  fail_unless_equals_string (dirty, "a\\x1b[1m\\xff");

  fail_unless (gst_whep_is_html ("text/html; charset=utf-8", "", 0));
  fail_unless (gst_whep_is_html (NULL, "\n <!doctype HTML><p>", 20));
  fail_unless (gst_whep_is_html ("application/sdp", "<HTML>", 6));
  fail_if (gst_whep_is_html ("application/sdp", "v=0\r\n", 5));
  fail_if (gst_whep_is_html (NULL, "<htm", 4));
}

GST_END_TEST;

/* Credentials go to the endpoint's origin only: scheme, host and port. */
GST_START_TEST (test_url_origin)
{
  g_autofree gchar *a = gst_whep_url_origin ("https://Example.COM/whep?x=1");
  g_autofree gchar *b = gst_whep_url_origin ("http://example.com:8080/p");
  g_autofree gchar *c = gst_whep_url_origin ("http://[::1]/p");

  fail_unless_equals_string (a, "https://example.com:443");
  fail_unless_equals_string (b, "http://example.com:8080");
  fail_unless_equals_string (c, "http://[::1]:80");
  fail_unless (gst_whep_url_origin ("ftp://example.com/") == NULL);
  fail_unless (gst_whep_url_origin ("/relative/path") == NULL);
  fail_unless (gst_whep_url_origin ("http:///nohost") == NULL);
  fail_unless (gst_whep_url_origin (NULL) == NULL);

  fail_unless (gst_whep_same_origin ("https://h/whep",
          "https://H:443/session/1?t=2"));
  fail_unless (gst_whep_same_origin ("http://u:p@h:80/a", "http://h/b"));
  fail_if (gst_whep_same_origin ("https://h/whep", "http://h/whep"));
  fail_if (gst_whep_same_origin ("http://h:8080/", "http://h:8081/"));
  fail_if (gst_whep_same_origin ("http://h/", "http://h.evil.example/"));
  fail_if (gst_whep_same_origin ("http://h/", "file:///etc/passwd"));
  fail_if (gst_whep_same_origin (NULL, "http://h/"));
}

GST_END_TEST;

GST_START_TEST (test_error_summary_invalid_utf8)
{
  g_autofree gchar *s = summary_of ("text/plain", "bad \xff\xfe bytes");

  fail_unless (s != NULL);
  fail_unless (g_utf8_validate (s, -1, NULL));
  fail_unless (g_str_has_prefix (s, "bad "));
  fail_unless (g_str_has_suffix (s, " bytes"));
}

GST_END_TEST;

GST_START_TEST (test_error_summary_html_and_unknown_types)
{
  g_autofree gchar *html = summary_of ("text/html",
      "<html><body>502 Bad Gateway</body></html>\n");
  g_autofree gchar *titled = summary_of ("text/html; charset=utf-8",
      "<!DOCTYPE html>\n<html><head><TITLE>\n  502 Bad\n Gateway  "
      "</TITLE></head><body><h1>502</h1></body></html>\n");
  /* Typed as text, shaped as a page: still a page. */
  g_autofree gchar *untyped = summary_of ("text/plain",
      "  <html><head><title>Service Unavailable</title></head></html>");
  g_autofree gchar *unknown = summary_of (NULL, "upstream timed out\n");
  g_autofree gchar *octets = summary_of ("application/octet-stream", "x");

  /* Markup is noise in an error message: the title, or what it was. */
  fail_unless_equals_string (html, "an HTML page");
  fail_unless_equals_string (titled, "502 Bad Gateway");
  fail_unless_equals_string (untyped, "Service Unavailable");
  fail_unless_equals_string (unknown, "upstream timed out");
  fail_unless_equals_string (octets, "x");
}

GST_END_TEST;

GST_START_TEST (test_error_summary_nothing_useful)
{
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autofree gchar *a = gst_whep_error_body_summary ("text/plain", NULL);
  g_autofree gchar *b = gst_whep_error_body_summary ("text/plain", empty);
  g_autofree gchar *c = summary_of ("text/plain", " \r\n\t\n \x01\n");
  g_autofree gchar *d = summary_of ("application/problem+json", "{}\n");

  fail_unless (a == NULL);
  fail_unless (b == NULL);
  fail_unless (c == NULL);
  /* "{}" has neither title nor detail; as text it is still "{}". */
  fail_unless_equals_string (d, "{}");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* whep:// URIs and content types                                      */
/* ------------------------------------------------------------------ */

/* Every distinct scheme g_uri_peek_scheme() saw became a quark, never
 * freed (found by fuzz-location: GLib's quark table grew past its first
 * block, which LeakSanitizer then reported). */
GST_START_TEST (test_uri_to_http_makes_no_quark)
{
  GQuark before = g_quark_from_string ("whep-test-quark-before");
  guint i;

  for (i = 0; i < 100; i++) {
    g_autofree gchar *uri = g_strdup_printf ("x%u-scheme://h/w", i);
    g_autofree gchar *mapped = gst_whep_uri_to_http (uri);

    fail_unless (mapped == NULL);
  }
  fail_unless_equals_int (g_quark_from_string ("whep-test-quark-after"),
      before + 1);
}

GST_END_TEST;

GST_START_TEST (test_uri_whep_to_http)
{
  g_autofree gchar *a = gst_whep_uri_to_http ("whep://h.example/cam/whep");
  g_autofree gchar *b =
      gst_whep_uri_to_http ("whep://user:p%40ss@h.example:8889/cam/whep"
      "?token=a%2Fb&x=1");

  fail_unless_equals_string (a, "http://h.example/cam/whep");
  fail_unless_equals_string (b, "http://user:p%40ss@h.example:8889/cam/whep"
      "?token=a%2Fb&x=1");
}

GST_END_TEST;

GST_START_TEST (test_uri_wheps_to_https)
{
  g_autofree gchar *a =
      gst_whep_uri_to_http ("wheps://[2001:db8::5]:8443/api/whep/s?k=v");
  g_autofree gchar *b = gst_whep_uri_to_http ("WHEPS://H.example/x");

  fail_unless_equals_string (a, "https://[2001:db8::5]:8443/api/whep/s?k=v");
  fail_unless_equals_string (b, "https://H.example/x");
}

GST_END_TEST;

GST_START_TEST (test_uri_http_unchanged)
{
  g_autofree gchar *a = gst_whep_uri_to_http ("http://h.example:80/w?q=%20");
  g_autofree gchar *b = gst_whep_uri_to_http ("https://h.example/w");

  fail_unless_equals_string (a, "http://h.example:80/w?q=%20");
  fail_unless_equals_string (b, "https://h.example/w");
}

GST_END_TEST;

/* wheps://TOKEN@host/path#options: the token leaves the URL, the options
 * (never sent) come back as strings; a user:password stays for HTTP
 * authentication. */
GST_START_TEST (test_uri_split_token_and_options)
{
  g_autofree gchar *endpoint = NULL, *token = NULL;
  GstStructure *options = NULL;

  fail_unless (gst_whep_uri_split ("wheps://ab%2Bc@h.example:8443/w/cam"
          "?q=1#latency=100&ice-local-addresses=127.0.0.1%2C%3A%3A1",
          &endpoint, &token, &options, NULL));
  fail_unless_equals_string (endpoint, "https://h.example:8443/w/cam?q=1");
  fail_unless_equals_string (token, "ab+c");
  fail_unless (options != NULL);
  fail_unless_equals_int (gst_structure_n_fields (options), 2);
  fail_unless_equals_string (gst_structure_nth_field_name (options, 0),
      "latency");
  fail_unless_equals_string (gst_structure_get_string (options, "latency"),
      "100");
  fail_unless_equals_string (gst_structure_get_string (options,
          "ice-local-addresses"), "127.0.0.1,::1");
  gst_structure_free (options);
  g_clear_pointer (&endpoint, g_free);
  g_clear_pointer (&token, g_free);

  fail_unless (gst_whep_uri_split ("whep://user:p%40ss@[::1]:8889/cam",
          &endpoint, &token, &options, NULL));
  fail_unless_equals_string (endpoint, "http://user:p%40ss@[::1]:8889/cam");
  fail_unless (token == NULL);
  fail_unless (options == NULL);
  g_clear_pointer (&endpoint, g_free);

  /* No user-info, an '@' in the path, an empty fragment. */
  fail_unless (gst_whep_uri_split ("whep://h.example/a@b#", &endpoint,
          &token, &options, NULL));
  fail_unless_equals_string (endpoint, "http://h.example/a@b");
  fail_unless (token == NULL && options == NULL);
}

GST_END_TEST;

GST_START_TEST (test_uri_split_refuses_bad_options)
{
  const gchar *bad[] = { "whep://h.example/w#latency",
    "whep://h.example/w#=3", "whep://h.example/w#a b=1",
    "whep://h.example/w#9lives=1", "rtsp://h.example/w#latency=1"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *endpoint = NULL, *token = NULL;
    GstStructure *options = NULL;

    fail_if (gst_whep_uri_split (bad[i], &endpoint, &token, &options, &err),
        "%s accepted", bad[i]);
    fail_unless (err != NULL);
    fail_unless (endpoint == NULL && token == NULL && options == NULL);
  }
}

GST_END_TEST;

GST_START_TEST (test_uri_other_schemes_rejected)
{
  const gchar *bad[] = { "rtsp://h.example/cam", "ftp://h/", "whep:",
    "whep:///path-only", "h.example/whep", "", "wheps//h/", NULL
  };
  guint i;

  fail_unless (gst_whep_uri_to_http (NULL) == NULL);
  for (i = 0; bad[i] != NULL; i++) {
    g_autofree gchar *r = gst_whep_uri_to_http (bad[i]);

    fail_unless (r == NULL, "\"%s\" gave \"%s\"", bad[i], r);
  }
}

GST_END_TEST;

GST_START_TEST (test_content_type_ignores_params_and_case)
{
  fail_unless (gst_whep_content_type_is ("application/sdp", "application/sdp"));
  fail_unless (gst_whep_content_type_is ("Application/SDP; charset=utf-8",
          "application/sdp"));
  fail_unless (gst_whep_content_type_is (" application/sdp ;valid-until="
          "\"Sun, 06 Nov 1994 08:49:37 GMT\"", "application/sdp"));
  fail_unless (gst_whep_content_type_is ("application/trickle-ice-sdpfrag",
          "APPLICATION/TRICKLE-ICE-SDPFRAG"));
}

GST_END_TEST;

GST_START_TEST (test_content_type_mismatch)
{
  fail_if (gst_whep_content_type_is ("application/sdpx", "application/sdp"));
  fail_if (gst_whep_content_type_is ("text/plain; x=application/sdp",
          "application/sdp"));
  fail_if (gst_whep_content_type_is ("application/problem+json",
          "application/json"));
  fail_if (gst_whep_content_type_is ("", "application/sdp"));
  fail_if (gst_whep_content_type_is (";", "application/sdp"));
  fail_if (gst_whep_content_type_is (NULL, "application/sdp"));
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* codec table and offer caps                                          */
/* ------------------------------------------------------------------ */

static const GstWhepCodec *
find_codec (const gchar * name)
{
  const GstWhepCodec *c;

  for (c = gst_whep_codecs (); c->encoding_name != NULL; c++) {
    if (g_str_equal (c->encoding_name, name))
      return c;
  }
  fail ("codec %s not in the table", name);
  return NULL;
}

GST_START_TEST (test_codec_table_unique_payload_types)
{
  const GstWhepCodec *a, *b;
  guint n = 0;

  for (a = gst_whep_codecs (); a->encoding_name != NULL; a++) {
    n++;
    fail_unless (a->payload_type >= 0 && a->payload_type < 128);
    /* 72-95 would clash with RTCP packet types under rtcp-mux. */
    fail_if (a->payload_type >= 72 && a->payload_type < 96);
    for (b = a + 1; b->encoding_name != NULL; b++) {
      fail_if (a->payload_type == b->payload_type, "%s and %s share PT %d",
          a->encoding_name, b->encoding_name, a->payload_type);
      fail_if (g_str_equal (a->encoding_name, b->encoding_name));
    }
  }
  fail_unless_equals_int (n, 8);
}

GST_END_TEST;

GST_START_TEST (test_codec_table_entries)
{
  const GstWhepCodec *opus = find_codec ("OPUS");
  const GstWhepCodec *h264 = find_codec ("H264");

  fail_unless_equals_int (opus->kind, GST_WHEP_MEDIA_AUDIO);
  fail_unless_equals_int (opus->payload_type, 111);
  fail_unless_equals_int (opus->clock_rate, 48000);
  fail_unless_equals_int (opus->encoding_params, 2);
  fail_unless_equals_string (opus->fmtp, "minptime=10;useinbandfec=1");

  fail_unless_equals_int (find_codec ("VP8")->payload_type, 96);
  fail_unless_equals_int (find_codec ("VP9")->payload_type, 98);
  fail_unless_equals_string (find_codec ("VP9")->fmtp, "profile-id=0");
  fail_unless_equals_int (h264->payload_type, 102);
  fail_unless_equals_string (h264->fmtp,
      "packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1");
  fail_unless_equals_int (find_codec ("H265")->payload_type, 104);
  fail_unless_equals_int (find_codec ("AV1")->payload_type, 106);
  fail_unless_equals_int (find_codec ("PCMU")->payload_type, 0);
  fail_unless_equals_int (find_codec ("PCMU")->clock_rate, 8000);
  fail_unless_equals_int (find_codec ("PCMA")->payload_type, 8);
}

GST_END_TEST;

GST_START_TEST (test_codec_table_caps_are_consistent)
{
  const GstWhepCodec *c;

  for (c = gst_whep_codecs (); c->encoding_name != NULL; c++) {
    g_autoptr (GstCaps) depay = gst_caps_from_string (c->depayloader_caps);
    g_autoptr (GstCaps) dec = gst_caps_from_string (c->decoder_caps);
    g_autofree gchar *upper = g_ascii_strup (c->encoding_name, -1);
    const GstStructure *s;
    gint rate = 0;

    fail_unless (depay != NULL && dec != NULL, "%s", c->encoding_name);
    s = gst_caps_get_structure (depay, 0);
    fail_unless (gst_structure_has_name (s, "application/x-rtp"));
    fail_unless_equals_string (gst_structure_get_string (s, "media"),
        c->kind == GST_WHEP_MEDIA_AUDIO ? "audio" : "video");
    fail_unless_equals_string (gst_structure_get_string (s, "encoding-name"),
        c->encoding_name);
    fail_unless (gst_structure_get_int (s, "clock-rate", &rate));
    fail_unless_equals_int (rate, c->clock_rate);
    fail_unless (g_str_has_prefix (c->decoder_caps,
            c->kind == GST_WHEP_MEDIA_AUDIO ? "audio/" : "video/"));
    /* Upper case, as the table promises and webrtcbin compares. */
    fail_unless_equals_string (c->encoding_name, upper);
  }
  fail_unless_equals_string (find_codec ("H264")->decoder_caps,
      "video/x-h264, stream-format=byte-stream, alignment=au");
  fail_unless_equals_string (find_codec ("PCMA")->decoder_caps, "audio/x-alaw");
}

GST_END_TEST;

GST_START_TEST (test_codec_table_order_within_kind)
{
  const GstWhepCodec *c = gst_whep_codecs ();

  /* Preference order as documented in the table. */
  fail_unless_equals_string (c[0].encoding_name, "VP8");
  fail_unless_equals_string (c[1].encoding_name, "VP9");
  fail_unless_equals_string (c[2].encoding_name, "H264");
  fail_unless_equals_string (c[3].encoding_name, "H265");
  fail_unless_equals_string (c[4].encoding_name, "AV1");
  fail_unless_equals_string (c[5].encoding_name, "OPUS");
  fail_unless_equals_string (c[6].encoding_name, "PCMU");
  fail_unless_equals_string (c[7].encoding_name, "PCMA");
  fail_unless (c[8].encoding_name == NULL);
}

GST_END_TEST;

static gboolean
all_available (const GstWhepCodec * codec, gpointer user_data)
{
  guint *calls = user_data;

  if (calls)
    (*calls)++;
  return TRUE;
}

/* Pretends the machine has no H265 or AV1 decoder, and no PCMA. */
static gboolean
some_available (const GstWhepCodec * codec, gpointer user_data)
{
  const gchar *const *hidden = user_data;

  return !g_strv_contains (hidden, codec->encoding_name);
}

static const gchar *const hidden_codecs[] = { "H265", "AV1", "PCMA", NULL };

static const gchar *
caps_encoding_name (const GstCaps * caps, guint i)
{
  return gst_structure_get_string (gst_caps_get_structure (caps, i),
      "encoding-name");
}

static gint
caps_int (const GstCaps * caps, guint i, const gchar * field)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, i),
          field, &v), "no int field %s", field);
  return v;
}

static gboolean
caps_bool (const GstCaps * caps, guint i, const gchar * field)
{
  gboolean v = FALSE;

  fail_unless (gst_structure_get_boolean (gst_caps_get_structure (caps, i),
          field, &v), "no boolean field %s", field);
  return v;
}

GST_START_TEST (test_offer_caps_all_video)
{
  guint calls = 0;
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      NULL, all_available, &calls);
  guint i;

  fail_unless (caps != NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 5);
  fail_unless_equals_int (calls, 5);
  fail_unless_equals_string (caps_encoding_name (caps, 0), "VP8");
  fail_unless_equals_string (caps_encoding_name (caps, 1), "VP9");
  fail_unless_equals_string (caps_encoding_name (caps, 2), "H264");
  fail_unless_equals_string (caps_encoding_name (caps, 3), "H265");
  fail_unless_equals_string (caps_encoding_name (caps, 4), "AV1");

  for (i = 0; i < 5; i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);

    fail_unless (gst_structure_has_name (s, "application/x-rtp"));
    fail_unless_equals_string (gst_structure_get_string (s, "media"), "video");
    fail_unless_equals_int (caps_int (caps, i, "clock-rate"), 90000);
    fail_unless (caps_bool (caps, i, "rtcp-fb-nack"));
    fail_unless (caps_bool (caps, i, "rtcp-fb-nack-pli"));
    fail_unless (caps_bool (caps, i, "rtcp-fb-ccm-fir"));
    fail_if (gst_structure_has_field (s, "encoding-params"));
  }
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_vp8_fields_exactly)
{
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      NULL, NULL, NULL);
  g_autoptr (GstCaps) expected =
      gst_caps_from_string ("application/x-rtp, media=(string)video, "
      "encoding-name=(string)VP8, clock-rate=(int)90000, payload=(int)96, "
      "rtcp-fb-nack=(boolean)true, rtcp-fb-nack-pli=(boolean)true, "
      "rtcp-fb-ccm-fir=(boolean)true");
  g_autoptr (GstCaps) vp8 = gst_caps_copy_nth (caps, 0);

  fail_unless (gst_caps_is_equal (vp8, expected));
  fail_unless_equals_int (gst_structure_n_fields (gst_caps_get_structure
          (vp8, 0)), 7);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_fmtp_fields)
{
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      NULL, NULL, NULL);
  const GstStructure *vp9 = gst_caps_get_structure (caps, 1);
  const GstStructure *h264 = gst_caps_get_structure (caps, 2);

  fail_unless_equals_int (caps_int (caps, 1, "payload"), 98);
  fail_unless_equals_string (gst_structure_get_string (vp9, "profile-id"), "0");
  fail_unless_equals_int (caps_int (caps, 2, "payload"), 102);
  fail_unless_equals_string (gst_structure_get_string (h264,
          "packetization-mode"), "1");
  fail_unless_equals_string (gst_structure_get_string (h264,
          "profile-level-id"), "42e01f");
  fail_unless_equals_string (gst_structure_get_string (h264,
          "level-asymmetry-allowed"), "1");
  fail_unless_equals_int (gst_structure_n_fields (h264), 10);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_opus_fields)
{
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_AUDIO,
      NULL, NULL, NULL);
  const GstStructure *opus;

  fail_unless_equals_int (gst_caps_get_size (caps), 3);
  opus = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (opus, "media"), "audio");
  fail_unless_equals_string (gst_structure_get_string (opus, "encoding-name"),
      "OPUS");
  fail_unless_equals_int (caps_int (caps, 0, "clock-rate"), 48000);
  fail_unless_equals_int (caps_int (caps, 0, "payload"), 111);
  /* A string: only then does webrtcbin write OPUS/48000/2. */
  fail_unless (gst_structure_get_field_type (opus, "encoding-params") ==
      G_TYPE_STRING);
  fail_unless_equals_string (gst_structure_get_string (opus,
          "encoding-params"), "2");
  fail_unless_equals_string (gst_structure_get_string (opus, "minptime"), "10");
  fail_unless_equals_string (gst_structure_get_string (opus,
          "useinbandfec"), "1");
  fail_if (gst_structure_has_field (opus, "rtcp-fb-nack"));
  fail_unless_equals_int (gst_structure_n_fields (opus), 7);

  fail_unless_equals_string (caps_encoding_name (caps, 1), "PCMU");
  fail_unless_equals_int (caps_int (caps, 1, "payload"), 0);
  fail_unless_equals_int (caps_int (caps, 1, "clock-rate"), 8000);
  fail_if (gst_structure_has_field (gst_caps_get_structure (caps, 1),
          "encoding-params"));
  fail_unless_equals_string (caps_encoding_name (caps, 2), "PCMA");
  fail_unless_equals_int (caps_int (caps, 2, "payload"), 8);
}

GST_END_TEST;

/* What webrtcbin does with the caps: gst_sdp_media_set_media_from_caps()
 * turns each structure into rtpmap/fmtp/rtcp-fb attributes. */
GST_START_TEST (test_offer_caps_make_expected_sdp)
{
  g_autoptr (GstCaps) audio = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_AUDIO,
      NULL, NULL, NULL);
  g_autoptr (GstCaps) video = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      NULL, NULL, NULL);
  g_autoptr (GstCaps) opus = gst_caps_copy_nth (audio, 0);
  g_autoptr (GstCaps) h264 = gst_caps_copy_nth (video, 2);
  GstSDPMedia *media = NULL;
  guint i;
  gboolean pli = FALSE;

  gst_sdp_media_new (&media);
  fail_unless_equals_int (gst_sdp_media_set_media_from_caps (opus, media),
      GST_SDP_OK);
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (media,
          "rtpmap"), "111 OPUS/48000/2");
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (media, "fmtp"),
      "111 minptime=10;useinbandfec=1");
  gst_sdp_media_free (media);

  gst_sdp_media_new (&media);
  fail_unless_equals_int (gst_sdp_media_set_media_from_caps (h264, media),
      GST_SDP_OK);
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (media,
          "rtpmap"), "102 H264/90000");
  fail_unless (strstr (gst_sdp_media_get_attribute_val (media, "fmtp"),
          "profile-level-id=42e01f") != NULL);
  for (i = 0; gst_sdp_media_get_attribute_val_n (media, "rtcp-fb", i); i++) {
    if (g_str_equal (gst_sdp_media_get_attribute_val_n (media, "rtcp-fb",
                i), "102 nack pli"))
      pli = TRUE;
  }
  fail_unless (pli);
  gst_sdp_media_free (media);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_availability_hides_codecs)
{
  g_autoptr (GstCaps) video = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      NULL, some_available, (gpointer) hidden_codecs);
  g_autoptr (GstCaps) audio = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_AUDIO,
      NULL, some_available, (gpointer) hidden_codecs);

  fail_unless_equals_int (gst_caps_get_size (video), 3);
  fail_unless_equals_string (caps_encoding_name (video, 0), "VP8");
  fail_unless_equals_string (caps_encoding_name (video, 1), "VP9");
  fail_unless_equals_string (caps_encoding_name (video, 2), "H264");
  fail_unless_equals_int (gst_caps_get_size (audio), 2);
  fail_unless_equals_string (caps_encoding_name (audio, 0), "OPUS");
  fail_unless_equals_string (caps_encoding_name (audio, 1), "PCMU");
}

GST_END_TEST;

static gboolean
none_available (const GstWhepCodec * codec, gpointer user_data)
{
  return FALSE;
}

GST_START_TEST (test_offer_caps_nothing_available_is_null)
{
  fail_unless (gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO, NULL,
          none_available, NULL) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_filter_decoder_caps)
{
  g_autoptr (GstCaps) filter = gst_caps_from_string ("video/x-vp8");
  g_autoptr (GstCaps) filter2 =
      gst_caps_from_string ("video/x-h264; video/x-av1");
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      filter, NULL, NULL);
  g_autoptr (GstCaps) caps2 = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      filter2, some_available, (gpointer) hidden_codecs);

  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  fail_unless_equals_string (caps_encoding_name (caps, 0), "VP8");
  fail_unless_equals_int (caps_int (caps, 0, "payload"), 96);
  /* AV1 is wanted but not available: only H264 remains. */
  fail_unless_equals_int (gst_caps_get_size (caps2), 1);
  fail_unless_equals_string (caps_encoding_name (caps2, 0), "H264");
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_filter_rtp_caps)
{
  g_autoptr (GstCaps) filter =
      gst_caps_from_string ("application/x-rtp,encoding-name=VP8");
  g_autoptr (GstCaps) audio_filter =
      gst_caps_from_string ("application/x-rtp,media=audio,"
      "encoding-name=PCMU");
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO,
      filter, NULL, NULL);
  g_autoptr (GstCaps) audio = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_AUDIO,
      audio_filter, NULL, NULL);
  const GstStructure *s;

  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "encoding-name"),
      "VP8");
  fail_unless (caps_bool (caps, 0, "rtcp-fb-nack-pli"));
  fail_unless_equals_int (gst_caps_get_size (audio), 1);
  fail_unless_equals_string (caps_encoding_name (audio, 0), "PCMU");
  fail_unless_equals_int (caps_int (audio, 0, "payload"), 0);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_filter_other_kind_is_null)
{
  g_autoptr (GstCaps) filter = gst_caps_from_string ("audio/x-opus");
  g_autoptr (GstCaps) rtp =
      gst_caps_from_string ("application/x-rtp,encoding-name=H264,"
      "profile-level-id=(string)640028");

  fail_unless (gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO, filter, NULL,
          NULL) == NULL);
  /* A fmtp value the table does not offer does not match either. */
  fail_unless (gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_VIDEO, rtp, NULL,
          NULL) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_offer_caps_filter_any)
{
  g_autoptr (GstCaps) any = gst_caps_new_any ();
  g_autoptr (GstCaps) caps = gst_whep_sdp_offer_caps (GST_WHEP_MEDIA_AUDIO,
      any, NULL, NULL);

  fail_unless_equals_int (gst_caps_get_size (caps), 3);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* SDP answers                                                         */
/* ------------------------------------------------------------------ */

/* An offer the way webrtcbin writes it for a recvonly video + audio pair
 * (shortened to three codecs per m-line). */
static const gchar offer_sdp[] =
    "v=0\r\n"
    "o=- 4611731400430051336 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 98 102\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:Rk8vYbq2N0cLZ4uT\r\n"
    "a=ice-pwd:Jp3xQ7mWf2HsL9aVd0EeKgRt5YcNb1Uz\r\n"
    "a=rtcp-mux-only\r\n"
    "a=rtcp-rsize\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;"
    "level-asymmetry-allowed=1\r\n"
    "a=fingerprint:sha-256 7A:1F:3C:9E:22:B8:05:D4:6E:81:0F:AB:93:C7:5D:"
    "E2:18:4B:A6:30:FD:57:C9:0E:62:BB:14:8D:F3:29:A0:7C\r\n"
    "a=mid:video0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:Rk8vYbq2N0cLZ4uT\r\n"
    "a=ice-pwd:Jp3xQ7mWf2HsL9aVd0EeKgRt5YcNb1Uz\r\n"
    "a=bundle-only\r\n"
    "a=rtcp-mux-only\r\n"
    "a=rtcp-rsize\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:111 OPUS/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=fingerprint:sha-256 7A:1F:3C:9E:22:B8:05:D4:6E:81:0F:AB:93:C7:5D:"
    "E2:18:4B:A6:30:FD:57:C9:0E:62:BB:14:8D:F3:29:A0:7C\r\n" "a=mid:audio1\r\n";

/* A server's answer (in the style of a pion-based server). */
static const gchar answer_sdp[] =
    "v=0\r\n"
    "o=- 8156309245816375103 1712000000 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=fingerprint:sha-256 C4:0B:76:E1:9A:3F:58:D2:07:AE:61:9C:B5:2D:"
    "F0:83:4E:17:CA:69:3B:D8:05:F2:A7:1E:90:6C:B4:28:DD:53\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:passive\r\n"
    "a=mid:video0\r\n"
    "a=ice-ufrag:hGfTqWxPzKsNvBcL\r\n"
    "a=ice-pwd:mYtRaQeWsDfGhJkLzXcVbNmPoIuYtReW\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
    "profile-level-id=42e01f\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=ssrc:3506420551 cname:whep-server\r\n"
    "a=msid:stream0 video0\r\n"
    "a=sendonly\r\n"
    "a=candidate:3027462183 1 udp 2130706431 192.0.2.10 8189 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:passive\r\n"
    "a=mid:audio1\r\n"
    "a=ice-ufrag:hGfTqWxPzKsNvBcL\r\n"
    "a=ice-pwd:mYtRaQeWsDfGhJkLzXcVbNmPoIuYtReW\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:1924083375 cname:whep-server\r\n"
    "a=msid:stream0 audio1\r\n" "a=sendonly\r\n";

/* Checks that @answer_text fails against the offer with a message
 * containing @fragment. */
static void
check_answer_fails (const gchar * answer_text, const gchar * fragment)
{
  GstSDPMessage *offer = sdp (offer_sdp);
  GstSDPMessage *answer = sdp (answer_text);
  GError *error = NULL;

  fail_if (gst_whep_sdp_check_answer (offer, answer, &error),
      "answer accepted, expected \"%s\"", fragment);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  fail_unless (strstr (error->message, fragment) != NULL,
      "message \"%s\" lacks \"%s\"", error->message, fragment);
  g_clear_error (&error);
  gst_sdp_message_free (offer);
  gst_sdp_message_free (answer);
}

static void
check_answer_passes (const gchar * answer_text)
{
  GstSDPMessage *offer = sdp (offer_sdp);
  GstSDPMessage *answer = sdp (answer_text);
  GError *error = NULL;

  fail_unless (gst_whep_sdp_check_answer (offer, answer, &error),
      "answer refused: %s", error ? error->message : "?");
  fail_unless (error == NULL);
  gst_sdp_message_free (offer);
  gst_sdp_message_free (answer);
}

GST_START_TEST (test_answer_valid_passes)
{
  check_answer_passes (answer_sdp);
}

GST_END_TEST;

/* Janus behind a WHEP front that puts the server's own offer in a 201:
 * said as it is, not as webrtcbin's "Cannot intersect direction". */
GST_START_TEST (test_answer_that_is_an_offer_is_named)
{
  g_autofree gchar *media_level = replace (answer_sdp, "a=setup:passive",
      "a=setup:actpass");
  g_autofree gchar *session_level = replace (answer_sdp, "a=extmap-allow-mixed",
      "a=setup:actpass");
  g_autofree gchar *active = replace (answer_sdp, "a=setup:passive",
      "a=setup:active");

  check_answer_fails (media_level, "the server sent an offer where an "
      "answer was expected");
  check_answer_fails (media_level, "406");
  check_answer_fails (session_level, "offer where an answer");
  check_answer_passes (active);
}

GST_END_TEST;

GST_START_TEST (test_answer_sendrecv_and_inactive_accepted)
{
  g_autofree gchar *sendrecv = replace (answer_sdp, "a=sendonly",
      "a=sendrecv");
  g_autofree gchar *no_direction = drop_lines (answer_sdp, "a=sendonly");
  g_autofree gchar *inactive = NULL;

  check_answer_passes (sendrecv);
  /* No direction attribute means sendrecv (RFC 3264). */
  check_answer_passes (no_direction);
  inactive = replace (answer_sdp, "a=msid:stream0 audio1\r\na=sendonly",
      "a=msid:stream0 audio1\r\na=inactive");
  check_answer_passes (inactive);
}

GST_END_TEST;

GST_START_TEST (test_answer_several_payload_types_one_known)
{
  g_autofree gchar *a = replace (answer_sdp, "UDP/TLS/RTP/SAVPF 102",
      "UDP/TLS/RTP/SAVPF 127 102");

  check_answer_passes (a);
}

GST_END_TEST;

GST_START_TEST (test_answer_session_level_transport_passes)
{
  g_autofree gchar *a = drop_lines (answer_sdp, "a=ice-");
  g_autofree gchar *b = replace (a, "t=0 0\r\n", "t=0 0\r\n"
      "a=ice-ufrag:hGfTqWxPzKsNvBcL\r\n"
      "a=ice-pwd:mYtRaQeWsDfGhJkLzXcVbNmPoIuYtReW\r\n");

  check_answer_passes (b);
}

GST_END_TEST;

GST_START_TEST (test_answer_transport_in_first_bundled_mline_only_passes)
{
  /* RFC 8843: the transport attributes may live in the tagged m-line. */
  g_autofree gchar *a = replace (answer_sdp,
      "a=mid:audio1\r\na=ice-ufrag:hGfTqWxPzKsNvBcL\r\n"
      "a=ice-pwd:mYtRaQeWsDfGhJkLzXcVbNmPoIuYtReW\r\n", "a=mid:audio1\r\n");

  check_answer_passes (a);
}

GST_END_TEST;

GST_START_TEST (test_answer_one_rejected_mline_passes)
{
  g_autofree gchar *a = replace (answer_sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "m=audio 0 UDP/TLS/RTP/SAVPF 0");
  /* A rejected m-line is not checked any further. */
  g_autofree gchar *b = replace (a, "a=msid:stream0 audio1\r\na=sendonly",
      "a=msid:stream0 audio1\r\na=recvonly");

  check_answer_passes (b);
}

GST_END_TEST;

GST_START_TEST (test_answer_unknown_payload_type)
{
  g_autofree gchar *a = replace (answer_sdp, "UDP/TLS/RTP/SAVPF 111",
      "UDP/TLS/RTP/SAVPF 120");
  g_autofree gchar *b = replace (a, ":111 ", ":120 ");

  check_answer_fails (b, "m-line 1 (audio): the answer picked payload type "
      "120, which the offer did not contain");
}

GST_END_TEST;

GST_START_TEST (test_answer_no_payload_type)
{
  g_autofree gchar *a = replace (answer_sdp, "m=video 9 UDP/TLS/RTP/SAVPF 102",
      "m=video 9 UDP/TLS/RTP/SAVPF");

  check_answer_fails (a, "m-line 0 (video): the answer lists no payload type");
}

GST_END_TEST;

GST_START_TEST (test_answer_mline_count_mismatch)
{
  /* Drop the whole audio m-line. */
  const gchar *audio = strstr (answer_sdp, "m=audio");
  g_autofree gchar *a = g_strndup (answer_sdp, audio - answer_sdp);

  check_answer_fails (a, "the answer has 1 m-lines, but the offer had 2");
}

GST_END_TEST;

GST_START_TEST (test_answer_kind_mismatch)
{
  g_autofree gchar *a = replace (answer_sdp, "m=audio 9", "m=application 9");

  check_answer_fails (a, "m-line 1: the offer had audio there, but the "
      "answer has application");
}

GST_END_TEST;

GST_START_TEST (test_answer_swapped_order)
{
  const gchar *audio = strstr (answer_sdp, "m=audio");
  const gchar *video = strstr (answer_sdp, "m=video");
  g_autofree gchar *session = g_strndup (answer_sdp, video - answer_sdp);
  g_autofree gchar *video_part = g_strndup (video, audio - video);
  g_autofree gchar *a = g_strconcat (session, audio, video_part, NULL);

  check_answer_fails (a, "m-line 0: the offer had video there, but the "
      "answer has audio");
}

GST_END_TEST;

GST_START_TEST (test_answer_recvonly_refused)
{
  g_autofree gchar *a = replace (answer_sdp,
      "a=msid:stream0 video0\r\na=sendonly",
      "a=msid:stream0 video0\r\na=recvonly");

  check_answer_fails (a, "m-line 0 (video): the answer is recvonly");
}

GST_END_TEST;

GST_START_TEST (test_answer_session_level_recvonly_refused)
{
  g_autofree gchar *a = drop_lines (answer_sdp, "a=sendonly");
  g_autofree gchar *b = replace (a, "t=0 0\r\n", "t=0 0\r\na=recvonly\r\n");

  check_answer_fails (b, "m-line 0 (video): the answer is recvonly");
}

GST_END_TEST;

GST_START_TEST (test_answer_missing_ice_ufrag)
{
  g_autofree gchar *a = drop_lines (answer_sdp, "a=ice-ufrag");

  check_answer_fails (a, "the answer has no ICE credentials");
}

GST_END_TEST;

GST_START_TEST (test_answer_missing_ice_pwd)
{
  g_autofree gchar *a = drop_lines (answer_sdp, "a=ice-pwd");

  check_answer_fails (a, "the answer has no ICE credentials");
}

GST_END_TEST;

GST_START_TEST (test_answer_missing_fingerprint)
{
  g_autofree gchar *a = drop_lines (answer_sdp, "a=fingerprint");

  check_answer_fails (a, "the answer has no DTLS fingerprint");
}

GST_END_TEST;

GST_START_TEST (test_answer_all_rejected)
{
  g_autofree gchar *a = replace (answer_sdp, "m=audio 9", "m=audio 0");
  g_autofree gchar *b = replace (a, "m=video 9", "m=video 0");

  check_answer_fails (b, "the answer rejected every m-line");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* counter-offers (WHEP 406)                                           */
/* ------------------------------------------------------------------ */

static const gchar counter_offer_sdp[] =
    "v=0\r\n"
    "o=- 1656229522 1656229522 IN IP4 203.0.113.7\r\n"
    "s=Janus WHEP\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 D2:B9:31:8F:DF:24:D8:0E:ED:D2:EF:25:9E:AF:6F:"
    "B8:34:AE:53:9C:E6:F3:8F:F2:64:15:FA:E8:7F:53:2D:38\r\n"
    "a=ice-lite\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 203.0.113.7\r\n"
    "a=sendonly\r\n"
    "a=mid:0\r\n"
    "a=rtcp-mux\r\n"
    "a=ice-ufrag:3a5F\r\n"
    "a=ice-pwd:lMAr4uI9Xz0kPbg0dZqyT7\r\n"
    "a=setup:actpass\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=candidate:1 1 udp 2015363327 203.0.113.7 40000 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 203.0.113.7\r\n"
    "a=sendonly\r\n"
    "a=mid:1\r\n"
    "a=rtcp-mux\r\n"
    "a=ice-ufrag:3a5F\r\n"
    "a=ice-pwd:lMAr4uI9Xz0kPbg0dZqyT7\r\n"
    "a=setup:actpass\r\n"
    "a=rtpmap:96 VP8/90000\r\n" "a=rtcp-fb:96 nack pli\r\n";

static void
check_counter_offer (const gchar * text, const gchar * fragment)
{
  GstSDPMessage *msg = sdp (text);
  GError *error = NULL;
  gboolean ok = gst_whep_sdp_check_counter_offer (msg, &error);

  if (fragment == NULL) {
    fail_unless (ok, "counter-offer refused: %s", error ? error->message : "?");
  } else {
    fail_if (ok, "counter-offer accepted, expected \"%s\"", fragment);
    fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
    fail_unless (strstr (error->message, fragment) != NULL,
        "message \"%s\" lacks \"%s\"", error->message, fragment);
  }
  g_clear_error (&error);
  gst_sdp_message_free (msg);
}

GST_START_TEST (test_counter_offer_valid_passes)
{
  g_autofree gchar *sendrecv = replace (counter_offer_sdp, "a=sendonly",
      "a=sendrecv");

  check_counter_offer (counter_offer_sdp, NULL);
  check_counter_offer (sendrecv, NULL);
}

GST_END_TEST;

GST_START_TEST (test_counter_offer_recvonly_refused)
{
  g_autofree gchar *a = replace (counter_offer_sdp,
      "a=sendonly\r\na=mid:1", "a=recvonly\r\na=mid:1");

  check_counter_offer (a, "m-line 1 (video): the counter-offer is recvonly");
}

GST_END_TEST;

GST_START_TEST (test_counter_offer_without_media_refused)
{
  g_autofree gchar *a = replace (counter_offer_sdp, "m=audio 9 UDP/TLS/RTP/"
      "SAVPF 111", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel");
  g_autofree gchar *b = replace (a, "m=video 9", "m=video 0");

  check_counter_offer (b, "the counter-offer has no audio or video m-line");
}

GST_END_TEST;

GST_START_TEST (test_counter_offer_missing_transport_refused)
{
  g_autofree gchar *a = drop_lines (counter_offer_sdp, "a=fingerprint");
  g_autofree gchar *b = drop_lines (counter_offer_sdp, "a=ice-pwd");

  check_counter_offer (a, "the counter-offer has no DTLS fingerprint");
  check_counter_offer (b, "the counter-offer has no ICE credentials");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* count_media and parse                                               */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_count_media)
{
  GstSDPMessage *answer = sdp (answer_sdp);
  g_autofree gchar *rejected_text = replace (answer_sdp, "m=audio 9",
      "m=audio 0");
  GstSDPMessage *rejected = sdp (rejected_text);
  g_autofree gchar *two_video_text = replace (answer_sdp, "m=audio 9",
      "m=video 9");
  GstSDPMessage *two_video = sdp (two_video_text);

  fail_unless_equals_int (gst_whep_sdp_count_media (answer,
          GST_WHEP_MEDIA_VIDEO), 1);
  fail_unless_equals_int (gst_whep_sdp_count_media (answer,
          GST_WHEP_MEDIA_AUDIO), 1);
  fail_unless_equals_int (gst_whep_sdp_count_media (rejected,
          GST_WHEP_MEDIA_AUDIO), 0);
  fail_unless_equals_int (gst_whep_sdp_count_media (rejected,
          GST_WHEP_MEDIA_VIDEO), 1);
  fail_unless_equals_int (gst_whep_sdp_count_media (two_video,
          GST_WHEP_MEDIA_VIDEO), 2);
  fail_unless_equals_int (gst_whep_sdp_count_media (two_video,
          GST_WHEP_MEDIA_AUDIO), 0);

  gst_sdp_message_free (answer);
  gst_sdp_message_free (rejected);
  gst_sdp_message_free (two_video);
}

GST_END_TEST;

GST_START_TEST (test_sdp_parse_valid)
{
  GstSDPMessage *msg = NULL;
  GError *error = NULL;
  g_autofree gchar *lf = replace (answer_sdp, "\r\n", "\n");

  fail_unless (gst_whep_sdp_parse (answer_sdp, &msg, &error));
  fail_unless (error == NULL);
  fail_unless_equals_int (gst_sdp_message_medias_len (msg), 2);
  gst_sdp_message_free (msg);
  msg = NULL;

  fail_unless (gst_whep_sdp_parse (lf, &msg, &error));
  fail_unless_equals_int (gst_sdp_message_medias_len (msg), 2);
  fail_unless_equals_string (gst_sdp_media_get_format
      (gst_sdp_message_get_media (msg, 0), 0), "102");
  gst_sdp_message_free (msg);
}

GST_END_TEST;

static void
check_sdp_parse_fails (const gchar * text)
{
  GstSDPMessage *msg = NULL;
  GError *error = NULL;

  fail_if (gst_whep_sdp_parse (text, &msg, &error), "\"%s\" parsed", text);
  fail_unless (msg == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  g_clear_error (&error);
}

GST_START_TEST (test_sdp_parse_refuses_non_sdp)
{
  check_sdp_parse_fails (NULL);
  check_sdp_parse_fails ("");
  check_sdp_parse_fails ("<html><body>404 Not Found</body></html>");
  check_sdp_parse_fails ("{\"title\":\"not sdp\"}");
  check_sdp_parse_fails ("v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 RTP/AVP 0\r\n");
}

GST_END_TEST;

GST_START_TEST (test_sdp_parse_refuses_no_mline)
{
  check_sdp_parse_fails ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "a=ice-lite\r\n");
}

GST_END_TEST;

static gboolean
framerate_of (const gchar * video_attrs, const gchar * session_attrs,
    gint * num, gint * den)
{
  g_autofree gchar *text = g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 0.0.0.0"
      "\r\ns=-\r\nt=0 0\r\n%sm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "a=framerate:5\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n%s",
      session_attrs, video_attrs);
  GstSDPMessage *msg = NULL;
  gboolean found;

  fail_unless (gst_whep_sdp_parse (text, &msg, NULL));
  *num = *den = 0;
  found = gst_whep_sdp_video_framerate (msg, num, den);
  gst_sdp_message_free (msg);
  return found;
}

static gboolean
media_has_attribute (const GstSDPMedia * media, const gchar * key,
    const gchar * value)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);

    if (!g_strcmp0 (a->key, key) && !g_strcmp0 (a->value, value))
      return TRUE;
  }
  return FALSE;
}

/* webrtcbin 1.22 offers RTX for the first codec only: every other video
 * codec gets its own, on free payload types, once; audio and an m-line
 * without NACK are left alone. */
GST_START_TEST (test_sdp_add_rtx_for_every_video_codec)
{
  g_autofree gchar *with_rtx = replace (offer_sdp,
      "m=video 9 UDP/TLS/RTP/SAVPF 96 98 102\r\n",
      "m=video 9 UDP/TLS/RTP/SAVPF 96 98 102 97\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n");
  g_autoptr (GError) error = NULL;
  GstSDPMessage *msg = NULL;
  const GstSDPMedia *video, *audio;
  guint audio_attrs;

  fail_unless (gst_whep_sdp_parse (with_rtx, &msg, &error));
  audio_attrs = gst_sdp_media_attributes_len (gst_sdp_message_get_media (msg,
          1));
  fail_unless_equals_int (gst_whep_sdp_add_rtx (msg, 0), 2);
  video = gst_sdp_message_get_media (msg, 0);
  audio = gst_sdp_message_get_media (msg, 1);
  fail_unless_equals_int (gst_sdp_media_formats_len (video), 6);
  fail_unless (media_has_attribute (video, "rtpmap", "99 rtx/90000"));
  fail_unless (media_has_attribute (video, "fmtp", "99 apt=98"));
  fail_unless (media_has_attribute (video, "rtpmap", "100 rtx/90000"));
  fail_unless (media_has_attribute (video, "fmtp", "100 apt=102"));
  fail_unless (media_has_attribute (video, "fmtp", "97 apt=96"));
  fail_unless_equals_int (gst_sdp_media_attributes_len (audio), audio_attrs);
  /* Once only. */
  fail_unless_equals_int (gst_whep_sdp_add_rtx (msg, 0), 0);
  /* rtx-time: the RTX formats say how long a retransmission helps. */
  fail_unless_equals_int (gst_whep_sdp_add_rtx (msg, 200), 0);
  fail_unless (media_has_attribute (video, "fmtp", "97 apt=96;rtx-time=200"));
  fail_unless (media_has_attribute (video, "fmtp", "100 apt=102;rtx-time=200"));
  fail_unless_equals_int (gst_whep_sdp_add_rtx (msg, 200), 0);
  fail_unless (media_has_attribute (video, "fmtp", "99 apt=98;rtx-time=200"));
  gst_sdp_message_free (msg);

  /* No NACK offered: no retransmission either. */
  {
    g_autofree gchar *no_nack = replace (offer_sdp,
        "a=rtcp-fb:96 nack\r\n", "");

    msg = NULL;
    fail_unless (gst_whep_sdp_parse (no_nack, &msg, NULL));
    fail_unless_equals_int (gst_whep_sdp_add_rtx (msg, 200), 0);
    gst_sdp_message_free (msg);
  }
}

GST_END_TEST;

/* The answer's video payload types, for the jitterbuffers' NACK. */
GST_START_TEST (test_sdp_video_payload_types)
{
  GstSDPMessage *msg = NULL;
  gboolean video[128];

  fail_unless (gst_whep_sdp_parse (answer_sdp, &msg, NULL));
  fail_unless_equals_int (gst_whep_sdp_count_candidates (msg), 1);
  gst_whep_sdp_video_payload_types (msg, video);
  fail_unless (video[102]);
  fail_if (video[111]);
  fail_if (video[96]);
  gst_sdp_message_free (msg);
}

GST_END_TEST;

/* a=framerate of the video m-line (the audio one's is not the video's),
 * else the session's; NTSC rates exact; nonsense ignored. */
GST_START_TEST (test_sdp_video_framerate)
{
  gint num, den;

  fail_unless (framerate_of ("a=framerate:30\r\n", "", &num, &den));
  fail_unless (num == 30 && den == 1, "%d/%d", num, den);
  fail_unless (framerate_of ("a=framerate:29.97\r\n", "", &num, &den));
  fail_unless (num == 30000 && den == 1001, "%d/%d", num, den);
  fail_unless (framerate_of ("a=framerate:59.94\r\n", "", &num, &den));
  fail_unless (num == 60000 && den == 1001, "%d/%d", num, den);
  fail_unless (framerate_of ("a=framerate:12.5\r\n", "", &num, &den));
  fail_unless (num == 25 && den == 2, "%d/%d", num, den);
  /* Other rates to a thousandth: a small fraction, not the closest one. */
  fail_unless (framerate_of ("a=framerate:29.9563092458\r\n", "", &num, &den));
  fail_unless (num == 7489 && den == 250, "%d/%d", num, den);
  fail_unless (framerate_of ("a=framerate:0.3333333\r\n", "", &num, &den));
  fail_unless (num == 333 && den == 1000, "%d/%d", num, den);
  fail_unless (framerate_of ("", "a=framerate:25\r\n", &num, &den));
  fail_unless (num == 25 && den == 1, "%d/%d", num, den);
  fail_unless (framerate_of ("a=framerate:24\r\n", "a=framerate:25\r\n",
          &num, &den));
  fail_unless (num == 24 && den == 1, "%d/%d", num, den);

  fail_if (framerate_of ("", "", &num, &den));
  fail_if (framerate_of ("a=framerate:0\r\n", "", &num, &den));
  fail_if (framerate_of ("a=framerate:-30\r\n", "", &num, &den));
  fail_if (framerate_of ("a=framerate:fast\r\n", "", &num, &den));
  fail_if (framerate_of ("a=framerate:30fps\r\n", "", &num, &den));
  fail_if (framerate_of ("a=framerate:100000\r\n", "", &num, &den));
  /* Below half a thousandth of a frame per second: no rate. */
  fail_if (framerate_of ("a=framerate:0.0001\r\n", "", &num, &den));
  fail_if (framerate_of ("a=framerate\r\n", "", &num, &den));
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* trickle-ICE fragments                                               */
/* ------------------------------------------------------------------ */

/* The example of the WHEP specification. */
static const gchar spec_frag[] =
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host "
    "generation 0 ufrag EsAw network-id 1\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host "
    "generation 0 ufrag EsAw network-id 2\r\n"
    "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host "
    "tcptype active generation 0 ufrag EsAw network-id 1\r\n"
    "a=candidate:2154773085 1 tcp 1518214911 198.51.100.2 9 typ host "
    "tcptype active generation 0 ufrag EsAw network-id 2\r\n"
    "a=end-of-candidates\r\n";

GST_START_TEST (test_sdpfrag_to_string_exact)
{
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_new ();
  g_autofree gchar *text = NULL;

  frag->ice_ufrag = g_strdup ("EsAw");
  frag->ice_pwd = g_strdup ("P2uYro0UCOQ4zxjKXaWCBui1");
  frag->mid = g_strdup ("0");
  g_ptr_array_add (frag->candidates, g_strdup ("candidate:1387637174 1 udp "
          "2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw "
          "network-id 1"));
  g_ptr_array_add (frag->candidates, g_strdup ("candidate:3471623853 1 udp "
          "2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw "
          "network-id 2"));
  g_ptr_array_add (frag->candidates, g_strdup ("candidate:473322822 1 tcp "
          "1518280447 192.0.2.1 9 typ host tcptype active generation 0 "
          "ufrag EsAw network-id 1"));
  g_ptr_array_add (frag->candidates, g_strdup ("candidate:2154773085 1 tcp "
          "1518214911 198.51.100.2 9 typ host tcptype active generation 0 "
          "ufrag EsAw network-id 2"));
  frag->end_of_candidates = TRUE;

  text = gst_whep_sdp_frag_to_string (frag);
  fail_unless_equals_string (text, spec_frag);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_to_string_minimal)
{
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_new ();
  g_autofree gchar *text = NULL;

  frag->mid = g_strdup ("video0");
  g_ptr_array_add (frag->candidates,
      g_strdup ("a=candidate:1 1 UDP 2015363327 10.0.0.2 50000 typ host"));
  g_ptr_array_add (frag->candidates,
      g_strdup ("2 1 UDP 1015363327 10.0.0.2 50001 typ srflx"));

  /* No credentials, no end marker; "a=" and bare values are tolerated. */
  text = gst_whep_sdp_frag_to_string (frag);
  fail_unless_equals_string (text, "m=audio 9 RTP/AVP 0\r\n"
      "a=mid:video0\r\n"
      "a=candidate:1 1 UDP 2015363327 10.0.0.2 50000 typ host\r\n"
      "a=candidate:2 1 UDP 1015363327 10.0.0.2 50001 typ srflx\r\n");
}

GST_END_TEST;

static void
check_spec_frag (const GstWhepSdpFrag * frag)
{
  fail_unless (frag != NULL);
  fail_unless_equals_string (frag->ice_ufrag, "EsAw");
  fail_unless_equals_string (frag->ice_pwd, "P2uYro0UCOQ4zxjKXaWCBui1");
  fail_unless_equals_string (frag->mid, "0");
  fail_unless_equals_int (frag->candidates->len, 4);
  fail_unless_equals_string (g_ptr_array_index (frag->candidates, 0),
      "candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host "
      "generation 0 ufrag EsAw network-id 1");
  fail_unless_equals_string (g_ptr_array_index (frag->candidates, 3),
      "candidate:2154773085 1 tcp 1518214911 198.51.100.2 9 typ host "
      "tcptype active generation 0 ufrag EsAw network-id 2");
  fail_unless (frag->end_of_candidates);
}

GST_START_TEST (test_sdpfrag_parse_crlf)
{
  GError *error = NULL;
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_parse (spec_frag, &error);

  fail_unless (error == NULL);
  check_spec_frag (frag);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_parse_lf)
{
  g_autofree gchar *lf = replace (spec_frag, "\r\n", "\n");
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_parse (lf, NULL);

  check_spec_frag (frag);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_parse_surrounding_space)
{
  g_autofree gchar *text = g_strconcat ("\r\n  \n", spec_frag, "  \n\n",
      NULL);
  g_autofree gchar *spaced = replace (text, "a=mid:0\r\n",
      "  a=mid:0  \r\n");
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_parse (spaced, NULL);

  check_spec_frag (frag);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_round_trip)
{
  g_autoptr (GstWhepSdpFrag) parsed = gst_whep_sdp_frag_parse (spec_frag, NULL);
  g_autofree gchar *text = gst_whep_sdp_frag_to_string (parsed);
  g_autoptr (GstWhepSdpFrag) reparsed = gst_whep_sdp_frag_parse (text, NULL);
  g_autofree gchar *text2 = gst_whep_sdp_frag_to_string (reparsed);

  check_spec_frag (reparsed);
  fail_unless_equals_string (text, spec_frag);
  fail_unless_equals_string (text2, text);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_parse_session_lines_and_media_credentials)
{
  /* An ICE-restart reply in the other layout RFC 8840 allows: options at
   * the top, credentials inside the m-line, no end marker. */
  const gchar *text = "a=ice-options:trickle ice2\r\n"
      "a=ice-lite\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
      "a=mid:video0\r\n"
      "a=ice-ufrag:NeWu\r\n"
      "a=ice-pwd:NewPasswordNewPassword1\r\n"
      "a=candidate:1 1 udp 2130706431 192.0.2.10 8189 typ host\r\n";
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_parse (text, NULL);

  fail_unless (frag != NULL);
  fail_unless_equals_string (frag->ice_ufrag, "NeWu");
  fail_unless_equals_string (frag->ice_pwd, "NewPasswordNewPassword1");
  fail_unless_equals_string (frag->mid, "video0");
  fail_unless_equals_int (frag->candidates->len, 1);
  fail_if (frag->end_of_candidates);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_parse_bundled_mlines_deduplicated)
{
  const gchar *text = "a=ice-ufrag:u1\na=ice-pwd:p1\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n"
      "a=candidate:1 1 udp 2130706431 192.0.2.10 8189 typ host\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:1\n"
      "a=candidate:1 1 udp 2130706431 192.0.2.10 8189 typ host\n"
      "a=candidate:2 1 tcp 1671430143 192.0.2.10 8189 typ host "
      "tcptype passive\n" "a=end-of-candidates\n";
  g_autoptr (GstWhepSdpFrag) frag = gst_whep_sdp_frag_parse (text, NULL);

  fail_unless (frag != NULL);
  fail_unless_equals_string (frag->mid, "0");
  fail_unless_equals_int (frag->candidates->len, 2);
  fail_unless (frag->end_of_candidates);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_parse_refuses_garbage)
{
  GError *error = NULL;

  fail_unless (gst_whep_sdp_frag_parse ("", &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  g_clear_error (&error);
  fail_unless (gst_whep_sdp_frag_parse (" \r\n\r\n", &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (gst_whep_sdp_frag_parse (NULL, &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (gst_whep_sdp_frag_parse ("<html>oops</html>", &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  g_clear_error (&error);
  fail_unless (gst_whep_sdp_frag_parse ("a=mid:0\r\ncandidate:1 1 udp 1 "
          "192.0.2.1 1 typ host\r\n", &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_sdpfrag_free_accepts_null)
{
  gst_whep_sdp_frag_free (NULL);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */


GST_START_TEST (test_rotation_lead_uses_configured_value)
{
  fail_unless_equals_int (gst_whep_rotation_lead_ms (3000, 60, 800), 3000);
}

GST_END_TEST;

GST_START_TEST (test_rotation_lead_grows_with_slow_setups)
{
  /* Fast set-up: the 2 s floor. */
  fail_unless_equals_int (gst_whep_rotation_lead_ms (0, 600, 300), 2000);
  /* Slow set-up (TURN): twice the set-up plus a second. */
  fail_unless_equals_int (gst_whep_rotation_lead_ms (0, 600, 4000), 9000);
  /* Never more than half the lifetime. */
  fail_unless_equals_int (gst_whep_rotation_lead_ms (0, 6, 4000), 3000);
  /* Unknown lifetime: no cap. */
  fail_unless_equals_int (gst_whep_rotation_lead_ms (0, 0, 4000), 9000);
}

GST_END_TEST;

GST_START_TEST (test_session_limit_learned_from_similar_ages)
{
  fail_unless (G_APPROX_VALUE (gst_whep_learn_session_limit (30.2, 29.8),
          29.8, 1e-9));
  fail_unless (G_APPROX_VALUE (gst_whep_learn_session_limit (10.0, 11.5),
          10.0, 1e-9));
  /* Too different: chance, not a clock. */
  fail_unless_equals_int ((gint) gst_whep_learn_session_limit (10.0, 20.0), 0);
  /* Nothing learned from nothing, or from sessions that died at once. */
  fail_unless_equals_int ((gint) gst_whep_learn_session_limit (0, 30.0), 0);
  fail_unless_equals_int ((gint) gst_whep_learn_session_limit (0.4, 0.5), 0);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* HTTP answer → failure                                               */
/* ------------------------------------------------------------------ */

/* A response as the client would fill it in for a non-success answer. */
static GstWhepResponse *
response_new (guint status, const gchar * reason, const gchar * summary,
    gint retry_after_s)
{
  GstWhepResponse *resp = g_new0 (GstWhepResponse, 1);

  resp->status = status;
  resp->reason = g_strdup (reason);
  resp->request_url = g_strdup ("https://user:pw@example.com/whep?token=t1");
  resp->final_url = g_strdup ("https://user:pw@example.com/whep?token=t1");
  resp->content_type = g_strdup ("text/plain");
  resp->body = g_strdup ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
      "a=ice-pwd:bodysecret\r\n");
  resp->body_size = strlen (resp->body);
  resp->error_summary = g_strdup (summary);
  resp->retry_after_s = retry_after_s;
  return resp;
}

static GstWhepFailure *
failure_for (guint status, const gchar * summary, gint retry_after_s)
{
  g_autoptr (GstWhepResponse) resp = response_new (status, "Reason",
      summary, retry_after_s);
  GstWhepFailure *failure = gst_whep_failure_from_response (resp,
      "the offer");

  fail_unless (failure != NULL);
  fail_unless_equals_int (failure->http_status, status);
  fail_unless_equals_int (failure->retry_after_s, retry_after_s);
  fail_unless (failure->domain == GST_RESOURCE_ERROR);
  /* Never the body, never the token or the userinfo of the URL. */
  fail_unless (strstr (failure->message, "bodysecret") == NULL);
  fail_unless (strstr (failure->debug, "bodysecret") == NULL);
  fail_unless (strstr (failure->debug, "t1") == NULL);
  fail_unless (strstr (failure->debug, "pw@") == NULL);
  fail_unless (strstr (failure->message, "t1") == NULL);
  fail_unless_equals_string (failure->url, "https://example.com/whep?…");
  fail_unless (strstr (failure->debug, "https://example.com/whep?…") != NULL);
  fail_unless (strstr (failure->debug, "Reason") != NULL);
  fail_unless (strstr (failure->debug, "text/plain") != NULL);
  return failure;
}

GST_START_TEST (test_failure_not_authorized)
{
  guint statuses[] = { 401, 403 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (statuses); i++) {
    g_autoptr (GstWhepFailure) f = failure_for (statuses[i],
        "invalid bearer token", -1);
    g_autofree gchar *code = g_strdup_printf ("(HTTP %u)", statuses[i]);

    fail_unless_equals_int (f->code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
    fail_if (f->retryable);
    fail_if (f->not_live);
    fail_unless (strstr (f->message, code) != NULL, "%s", f->message);
    fail_unless (strstr (f->message, ": invalid bearer token") != NULL);
    fail_unless (strstr (f->message, "auth-token") != NULL);
  }
}

GST_END_TEST;

GST_START_TEST (test_failure_not_found)
{
  g_autoptr (GstWhepFailure) missing = failure_for (404, NULL, -1);
  g_autoptr (GstWhepFailure) gone = failure_for (410, "gone", -1);
  g_autoptr (GstWhepFailure) later = failure_for (404, NULL, 5);
  g_autoptr (GstWhepFailure) mediamtx = failure_for (404,
      "no stream is available on path 'cam'", -1);

  fail_unless_equals_int (missing->code, GST_RESOURCE_ERROR_NOT_FOUND);
  fail_if (missing->retryable);
  fail_if (missing->not_live);
  fail_unless (strstr (missing->message, "does not exist (HTTP 404)") != NULL);
  fail_unless (strstr (missing->message, "whep-endpoint") != NULL);
  fail_unless (g_str_has_suffix (missing->message, "(HTTP 404). Check "
          "whep-endpoint."), "%s", missing->message);

  fail_unless_equals_int (gone->code, GST_RESOURCE_ERROR_NOT_FOUND);
  fail_if (gone->retryable);
  fail_unless (strstr (gone->message, "(HTTP 410): gone.") != NULL);

  /* Retry-After on a 404: nothing is published yet. */
  fail_unless_equals_int (later->code, GST_RESOURCE_ERROR_NOT_FOUND);
  fail_unless (later->retryable);
  fail_unless (later->not_live);
  fail_unless (strstr (later->message, "Nothing is published") != NULL);

  fail_unless (mediamtx->retryable);
  fail_unless (mediamtx->not_live);
  fail_unless (strstr (mediamtx->message, ": no stream is available on "
          "path 'cam'") != NULL);
}

GST_END_TEST;

GST_START_TEST (test_failure_busy_retries)
{
  guint statuses[] = { 409, 425, 429, 502, 503, 504 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (statuses); i++) {
    g_autoptr (GstWhepFailure) f = failure_for (statuses[i], "busy", 3);

    fail_unless_equals_int (f->code, GST_RESOURCE_ERROR_BUSY);
    fail_unless (f->retryable, "%u not retryable", statuses[i]);
    /* Only 409 (one viewer at a time, or not live) says "not live". */
    fail_unless_equals_int (f->not_live, statuses[i] == 409);
    fail_unless (strstr (f->message, "cannot serve this session now") != NULL);
    fail_unless (g_str_has_suffix (f->message, ": busy"));
  }
}

GST_END_TEST;

GST_START_TEST (test_failure_redirect_and_others)
{
  g_autoptr (GstWhepFailure) redirect = failure_for (307, NULL, -1);
  g_autoptr (GstWhepFailure) bad = failure_for (400, "bad offer", -1);
  g_autoptr (GstWhepFailure) unsupported = failure_for (415, NULL, -1);
  g_autoptr (GstWhepFailure) internal = failure_for (500, NULL, -1);
  g_autoptr (GstWhepFailure) unimplemented = failure_for (501, NULL, 2);
  g_autoptr (GstWhepFailure) informational = failure_for (100, NULL, -1);

  fail_unless_equals_int (redirect->code, GST_RESOURCE_ERROR_OPEN_READ);
  fail_if (redirect->retryable);
  fail_unless (strstr (redirect->message, "redirect (HTTP 307) was not "
          "followed") != NULL, "%s", redirect->message);

  fail_unless_equals_int (bad->code, GST_RESOURCE_ERROR_OPEN_READ);
  fail_if (bad->retryable);
  fail_unless_equals_string (bad->message,
      "The WHEP server answered the offer with HTTP 400 Reason: bad offer");
  fail_if (unsupported->retryable);
  fail_unless_equals_string (unsupported->message,
      "The WHEP server answered the offer with HTTP 415 Reason");
  fail_unless (internal->retryable);
  fail_unless (unimplemented->retryable);
  fail_unless_equals_int (unimplemented->retry_after_s, 2);
  fail_if (informational->retryable);
  fail_unless_equals_int (informational->code, GST_RESOURCE_ERROR_OPEN_READ);
}

GST_END_TEST;

GST_START_TEST (test_failure_problem_summary_quoted)
{
  const gchar *json = "{\"title\":\"Busy\","
      "\"detail\":\"one viewer only\",\"status\":503}";
  g_autoptr (GBytes) body = g_bytes_new_static (json, strlen (json));
  g_autofree gchar *summary =
      gst_whep_error_body_summary ("application/problem+json", body);
  g_autoptr (GstWhepFailure) f = failure_for (503, summary, -1);

  fail_unless_equals_string (summary, "Busy: one viewer only");
  fail_unless (g_str_has_suffix (f->message, "(HTTP 503): Busy: one viewer "
          "only"), "%s", f->message);
}

GST_END_TEST;

GST_START_TEST (test_failure_new_redacts_and_copies)
{
  g_autoptr (GstWhepFailure) f = gst_whep_failure_new (GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT, TRUE, "http://a:b@h:8080/p?token=x",
      g_strdup ("dbg"), "n=%d", 3);
  g_autoptr (GstWhepFailure) copy = gst_whep_failure_copy (f);
  g_autoptr (GstWhepFailure) nourl = gst_whep_failure_new (GST_CORE_ERROR,
      GST_CORE_ERROR_MISSING_PLUGIN, FALSE, NULL, NULL, "x");

  fail_unless_equals_string (f->message, "n=3");
  fail_unless_equals_string (f->debug, "dbg");
  fail_unless_equals_string (f->url, "http://h:8080/p?…");
  fail_unless_equals_int (f->retry_after_s, -1);
  fail_unless (f->retryable);
  fail_unless_equals_string (copy->message, "n=3");
  fail_unless_equals_string (copy->url, f->url);
  fail_unless (copy->url != f->url);
  fail_unless (copy->domain == GST_STREAM_ERROR);
  fail_unless (nourl->url == NULL);
  fail_unless (nourl->debug == NULL);
  gst_whep_failure_free (NULL);
}

GST_END_TEST;

GST_START_TEST (test_body_says_not_live)
{
  fail_unless (gst_whep_body_says_not_live ("no stream is available on path"));
  fail_unless (gst_whep_body_says_not_live ("Stream Not Found"));
  fail_unless (gst_whep_body_says_not_live ("the camera is OFFLINE"));
  fail_unless (gst_whep_body_says_not_live ("stream not live"));
  fail_unless (gst_whep_body_says_not_live ("not published yet"));
  fail_if (gst_whep_body_says_not_live ("no such endpoint"));
  fail_if (gst_whep_body_says_not_live ("Not Found"));
  fail_if (gst_whep_body_says_not_live (""));
  fail_if (gst_whep_body_says_not_live (NULL));
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* what may be logged                                                  */
/* ------------------------------------------------------------------ */

static void
check_redacted (const gchar * url, const gchar * expected)
{
  g_autofree gchar *got = gst_whep_redact_url (url);

  fail_unless_equals_string (got, expected);
}

GST_START_TEST (test_redact_url_sanitises)
{
  /* A Location is the server's text: shown, never obeyed or broken. */
  g_autofree gchar *ctl = gst_whep_redact_url ("http://h/a\r\nX-Evil: 1");
  g_autofree gchar *bytes = gst_whep_redact_url ("http://h/\xff\xfe?t=1");
  GString *huge = g_string_new ("http://h/");
  g_autofree gchar *bounded = NULL;
  guint i;

  fail_unless_equals_string (ctl, "http://h/a\\r\\nX-Evil: 1");
  fail_unless_equals_string (bytes, "http://h/\\xff\\xfe?…");
  for (i = 0; i < 100000; i++)
    g_string_append_c (huge, 'a');
  bounded = gst_whep_redact_url (huge->str);
  g_string_free (huge, TRUE);
  fail_unless (g_utf8_strlen (bounded, -1) <= 300);
}

GST_END_TEST;

GST_START_TEST (test_redact_url)
{
  check_redacted ("http://127.0.0.1:8889/whep/cam",
      "http://127.0.0.1:8889/whep/cam");
  check_redacted ("https://example.com/whep?token=abc&x=1",
      "https://example.com/whep?…");
  check_redacted ("https://user:secret@example.com:8443/a/b?t=1",
      "https://example.com:8443/a/b?…");
  check_redacted ("https://user@example.com/p", "https://example.com/p");
  check_redacted ("http://example.com/p#frag", "http://example.com/p#…");
  check_redacted ("http://example.com/p?q#frag", "http://example.com/p?…");
  check_redacted ("http://example.com", "http://example.com");
  check_redacted ("http://example.com?token=1", "http://example.com?…");
  check_redacted ("http://[::1]:80/p?x", "http://[::1]:80/p?…");
  /* The password of a TURN URI as webrtcbin takes it. */
  check_redacted ("turn://alice:pa%40ss@turn.example.com:3478?transport=tcp",
      "turn://turn.example.com:3478?…");
  check_redacted ("turns://u:p@h:5349", "turns://h:5349");
  /* '@' after the authority is part of the path, not userinfo. */
  check_redacted ("http://h/users/@me?x", "http://h/users/@me?…");
  /* Relative references and non-URLs are cut the same way. */
  check_redacted ("/whep/session/1?token=abc", "/whep/session/1?…");
  check_redacted ("session/1", "session/1");
  check_redacted ("not a url?secret", "not a url?…");
  check_redacted ("", "");
  fail_unless (gst_whep_redact_url (NULL) == NULL);
}

GST_END_TEST;

#define SUMMARY_OFFER \
  "v=0\r\n" \
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n" \
  "s=-\r\n" \
  "t=0 0\r\n" \
  "a=group:BUNDLE video0 audio1\r\n" \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\n" \
  "c=IN IP4 0.0.0.0\r\n" \
  "a=ice-ufrag:EsAw\r\n" \
  "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" \
  "a=mid:video0\r\n" \
  "a=rtpmap:96 VP8/90000\r\n" \
  "a=rtpmap:97 H264/90000\r\n" \
  "a=rtpmap:98 H264/90000\r\n" \
  "a=candidate:1 1 UDP 2130706431 127.0.0.1 50000 typ host\r\n" \
  "a=candidate:2 1 UDP 1694498815 192.0.2.1 50000 typ srflx raddr 0.0.0.0 rport 0\r\n" \
  "a=end-of-candidates\r\n" \
  "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n" \
  "a=mid:audio1\r\n" \
  "a=rtpmap:111 OPUS/48000/2\r\n"

GST_START_TEST (test_sdp_summary)
{
  g_autofree gchar *offer = gst_whep_sdp_summary (SUMMARY_OFFER);
  g_autofree gchar *lf = NULL;
  g_autofree gchar *frag = gst_whep_sdp_summary ("a=ice-ufrag:EsAw\r\n"
      "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
      "m=audio 9 RTP/AVP 0\r\n" "a=mid:0\r\n"
      "a=candidate:1 1 UDP 2130706431 127.0.0.1 50000 typ host\r\n");
  g_autofree gchar *garbage = gst_whep_sdp_summary ("<html>oops</html>");
  g_autofree gchar *empty = gst_whep_sdp_summary ("");
  g_autofree gchar *null = gst_whep_sdp_summary (NULL);
  g_autofree gchar *no_mline = gst_whep_sdp_summary ("v=0\r\n");
  g_autofree gchar *expected = g_strdup_printf ("%" G_GSIZE_FORMAT
      " bytes: video[VP8,H264] audio[rejected], 2 candidates, "
      "end-of-candidates, ICE credentials", strlen (SUMMARY_OFFER));
  g_auto (GStrv) parts = g_strsplit (SUMMARY_OFFER, "\r\n", -1);
  g_autofree gchar *joined = g_strjoinv ("\n", parts);

  fail_unless_equals_string (offer, expected);
  fail_unless (strstr (offer, "P2uY") == NULL);
  fail_unless (strchr (offer, '\n') == NULL);
  /* LF-only SDP reads the same. */
  lf = gst_whep_sdp_summary (joined);
  fail_unless (g_str_has_suffix (lf, " bytes: video[VP8,H264] "
          "audio[rejected], 2 candidates, end-of-candidates, "
          "ICE credentials"), "%s", lf);
  fail_unless (g_str_has_suffix (frag, " bytes: audio[], 1 candidate, "
          "ICE credentials"), "%s", frag);
  fail_unless (strstr (frag, "P2uY") == NULL);
  fail_unless_equals_string (garbage, "17 bytes, not SDP");
  fail_unless_equals_string (empty, "no body");
  fail_unless_equals_string (null, "no body");
  fail_unless_equals_string (no_mline, "5 bytes, no m-line, 0 candidates");
}

GST_END_TEST;

/* Found by tests/fuzz/fuzz-sdp-answer: the summary of a body goes into
 * an error's debug text, so what it quotes of the server's m-lines and
 * rtpmaps must be UTF-8 without control characters, and short. */
GST_START_TEST (test_sdp_summary_sanitises_server_text)
{
  g_autofree gchar *bad_kind = gst_whep_sdp_summary ("m=\xff");
  g_autofree gchar *bad_codec = gst_whep_sdp_summary ("v=0\r\n"
      "m=vi\x1b[2Jdeo 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "a=rtpmap:96 V\xc3\x28P8/90000\r\n");
  g_autofree gchar *long_kind = NULL;
  g_autofree gchar *text = g_strdup_printf ("m=%0100d 9 RTP/AVP 0", 7);

  fail_unless (g_utf8_validate (bad_kind, -1, NULL), "%s", bad_kind);
  fail_unless_equals_string (bad_kind, "3 bytes: \\xff[], 0 candidates");
  fail_unless (g_utf8_validate (bad_codec, -1, NULL), "%s", bad_codec);
  fail_unless (strchr (bad_codec, '\x1b') == NULL, "%s", bad_codec);
  fail_unless (g_str_has_suffix (bad_codec,
          ": vi\\x1b[2Jdeo[V\\xc3(P8], 0 candidates"), "%s", bad_codec);
  long_kind = gst_whep_sdp_summary (text);
  fail_unless (strlen (long_kind) < 60, "%s", long_kind);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* server-sent events                                                  */
/* ------------------------------------------------------------------ */

/* Feeds @lines (NULL-terminated) and checks that exactly the events in
 * @expected (name, data, name, data…, NULL) came out, in order. */
static void
check_sse (const gchar * const *lines, const gchar * const *expected)
{
  g_autoptr (GstWhepSseParser) parser = gst_whep_sse_parser_new ();
  const gchar *const *l;
  guint i = 0;
  gchar *event, *data;

  for (l = lines; *l; l++)
    gst_whep_sse_parser_push_line (parser, *l);
  while (gst_whep_sse_parser_pop (parser, &event, &data)) {
    fail_unless (expected[i] != NULL, "unexpected event '%s'", event);
    fail_unless_equals_string (event, expected[i]);
    fail_unless_equals_string (data, expected[i + 1]);
    g_free (event);
    g_free (data);
    i += 2;
  }
  fail_unless (expected[i] == NULL, "event '%s' missing", expected[i]);
}

GST_START_TEST (test_sse_named_event)
{
  const gchar *lines[] = { "event: reconnect", "data: {\"url\":\"/x\"}", "",
    NULL
  };
  const gchar *expected[] = { "reconnect", "{\"url\":\"/x\"}", NULL };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_multi_line_data)
{
  const gchar *lines[] = { "event: layers", "data: one", "data:two",
    "data:  three", "data", "", NULL
  };
  /* One space is dropped after the colon, no more; "data" alone adds an
   * empty line. */
  const gchar *expected[] = { "layers", "one\ntwo\n three\n", NULL };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_unnamed_is_message)
{
  const gchar *lines[] = { "data: hello", "", "data: again", "", NULL };
  const gchar *expected[] = { "message", "hello", "message", "again", NULL };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_comments_and_blank_lines)
{
  const gchar *lines[] = { ": keep-alive", "", "", ":", "event: active",
    ": a comment inside an event", "data: {}", "", "", "", NULL
  };
  const gchar *expected[] = { "active", "{}", NULL };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_name_without_data)
{
  /* Delivered (servers send bare events); a later event does not inherit
   * the name. */
  const gchar *lines[] = { "event: inactive", "", "data: x", "", NULL };
  const gchar *expected[] = { "inactive", "", "message", "x", NULL };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_cr_handling)
{
  /* CRLF lines (the LF already split off), CR-only line ends inside one
   * "line", and a lone CR as the blank line. */
  const gchar *lines[] = { "event: active\r", "data: a\r", "\r",
    "event: inactive\rdata: b\r\r", "data: c\r", "\r\r", NULL
  };
  const gchar *expected[] = { "active", "a", "inactive", "b", "message", "c",
    NULL
  };

  check_sse (lines, expected);
}

GST_END_TEST;

GST_START_TEST (test_sse_fields_ignored_and_incomplete)
{
  g_autoptr (GstWhepSseParser) parser = gst_whep_sse_parser_new ();
  gchar *event = NULL, *data = NULL;

  /* A BOM opens the stream; id, retry and unknown fields do nothing. */
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser,
          "\xEF\xBB\xBF" "event:  spaced  "), 0);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, "id: 7"), 0);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser,
          "retry: 100"), 0);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser,
          "foo: bar"), 0);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, "data:x"), 0);
  /* Not complete before the blank line. */
  fail_if (gst_whep_sse_parser_pop (parser, &event, &data));
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, ""), 1);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, "data: y"), 1);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, ""), 2);
  fail_unless (gst_whep_sse_parser_pop (parser, &event, &data));
  fail_unless_equals_string (event, "spaced");
  fail_unless_equals_string (data, "x");
  g_free (event);
  g_free (data);
  fail_unless (gst_whep_sse_parser_pop (parser, NULL, NULL));
  fail_if (gst_whep_sse_parser_pop (parser, &event, &data));
  /* An "event:" with an empty name is unnamed. */
  gst_whep_sse_parser_push_line (parser, "event:");
  gst_whep_sse_parser_push_line (parser, "data: z");
  gst_whep_sse_parser_push_line (parser, "");
  fail_unless (gst_whep_sse_parser_pop (parser, &event, &data));
  fail_unless_equals_string (event, "message");
  fail_unless_equals_string (data, "z");
  g_free (event);
  g_free (data);
  gst_whep_sse_parser_free (NULL);
}

GST_END_TEST;

/* An event that never ends (data lines without a blank line) stops
 * growing at the limit: the parser says so and takes nothing more. */
GST_START_TEST (test_sse_event_size_limit)
{
  g_autoptr (GstWhepSseParser) parser = gst_whep_sse_parser_new ();
  g_autofree gchar *line = NULL;
  gchar *event = NULL, *data = NULL;
  gchar *chunk = g_strnfill (1000, 'x');
  guint i;

  /* Just under the limit: delivered. */
  gst_whep_sse_parser_push_line (parser, "event: big");
  line = g_strconcat ("data:", chunk, NULL);
  for (i = 0; i < GST_WHEP_SSE_MAX_EVENT_BYTES / 1001 - 1; i++)
    gst_whep_sse_parser_push_line (parser, line);
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, ""), 1);
  fail_if (gst_whep_sse_parser_overflowed (parser));
  fail_unless (gst_whep_sse_parser_pop (parser, &event, &data));
  fail_unless_equals_string (event, "big");
  fail_unless (strlen (data) < GST_WHEP_SSE_MAX_EVENT_BYTES);
  g_free (event);
  g_free (data);

  /* No end: stops at the limit, whatever follows. */
  for (i = 0; i < 10 * GST_WHEP_SSE_MAX_EVENT_BYTES / 1000; i++)
    gst_whep_sse_parser_push_line (parser, line);
  fail_unless (gst_whep_sse_parser_overflowed (parser));
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, ""), 0);
  gst_whep_sse_parser_push_line (parser, "event: active");
  fail_unless_equals_int (gst_whep_sse_parser_push_line (parser, ""), 0);
  fail_if (gst_whep_sse_parser_pop (parser, NULL, NULL));
  g_free (chunk);
}

GST_END_TEST;

static void
check_reconnect (const gchar * data, const gchar * base, const gchar * expected)
{
  g_autofree gchar *got = gst_whep_sse_reconnect_url (data, base);

  fail_unless_equals_string (got, expected);
}

/* json-glib 1.6 recurses once per nesting level without a limit: a
 * problem body or an event of 256 KiB of '[' overflowed the stack of the
 * thread reading it (a crash).  Deeper than 32 levels is not JSON whepsrc
 * reads; shallower still is. */
GST_START_TEST (test_json_nesting_bounded)
{
  const gsize deep = 256 * 1024 - 1;
  g_autofree gchar *brackets = g_malloc (deep + 1);
  g_autofree gchar *problem = NULL;
  g_autofree gchar *reconnect = NULL;
  g_autofree gchar *nested = NULL;
  g_autofree gchar *summary = NULL;
  GString *ok = g_string_new ("{\"title\":\"Busy\",\"detail\":\"[{\","
      "\"ext\":");
  guint i;

  memset (brackets, '[', deep);
  brackets[deep] = '\0';
  problem = summary_of ("application/problem+json", brackets);
  /* Read as the text it is instead. */
  fail_unless (problem != NULL && g_str_has_prefix (problem, "[[[["));
  reconnect = gst_whep_sse_reconnect_url (brackets, "http://h/sse");
  fail_unless (reconnect == NULL);

  /* 31 levels inside the object: 32 in all. */
  for (i = 0; i < 31; i++)
    g_string_append_c (ok, '[');
  for (i = 0; i < 31; i++)
    g_string_append_c (ok, ']');
  g_string_append_c (ok, '}');
  nested = g_string_free (ok, FALSE);
  summary = summary_of ("application/problem+json", nested);
  fail_unless_equals_string (summary, "Busy: [{");
}

GST_END_TEST;

/* json-glib 1.6 takes a sequence of values as a document and leaks all
 * but the last (found by the sse fuzz target: 16 KB kept per event, an
 * event stream's worth without bound).  whepsrc reads one object, with
 * nothing but blanks around it; anything else is not JSON it reads. */
GST_START_TEST (test_json_only_one_object)
{
  const gchar *base = "http://h/sse";
  g_autofree gchar *two = NULL;
  g_autofree gchar *spaced = NULL;

  check_reconnect ("{\"url\":\"/a\"}\n{\"url\":\"/b\"}", base, NULL);
  check_reconnect ("{\"url\":\"/a\"} {}", base, NULL);
  check_reconnect ("\"x\" {\"url\":\"/a\"}", base, NULL);
  check_reconnect ("[{\"url\":\"/a\"}]", base, NULL);
  /* Brackets inside strings are text. */
  check_reconnect ("{\"url\":\"/x\",\"n\":\"}{\"} ", base, "http://h/x");
  check_reconnect (" \r\n{\"url\":\"/a\"}\t\n", base, "http://h/a");

  two = summary_of ("application/problem+json",
      "{\"title\":\"First\"} {\"title\":\"Second\"}");
  /* Read as text, not as the last of the two. */
  fail_unless (two != NULL && g_str_has_prefix (two, "{\"title\":\"First\"}"),
      "%s", two);
  spaced = summary_of ("application/problem+json",
      "\n {\"title\":\"Busy\"} \n");
  fail_unless_equals_string (spaced, "Busy");
}

GST_END_TEST;

GST_START_TEST (test_sse_reconnect_url)
{
  const gchar *base = "http://h:1/whep/session/5/sse";

  check_reconnect ("{\"url\":\"/whep/cam\"}", base, "http://h:1/whep/cam");
  check_reconnect ("{\"url\":\"other\"}", base,
      "http://h:1/whep/session/5/other");
  check_reconnect ("{\"url\":\"https://b.example/whep?token=a%20b\"}", base,
      "https://b.example/whep?token=a%20b");
  check_reconnect ("{\"url\":\"https://b.example/w\"}", NULL,
      "https://b.example/w");
  check_reconnect ("{\"url\":\"/relative\"}", NULL, NULL);
  check_reconnect ("{\"url\":\"\"}", base, NULL);
  check_reconnect ("{\"url\":42}", base, NULL);
  check_reconnect ("{\"other\":\"/x\"}", base, NULL);
  check_reconnect ("{}", base, NULL);
  check_reconnect ("[\"/x\"]", base, NULL);
  check_reconnect ("\"/x\"", base, NULL);
  check_reconnect ("{\"url\":", base, NULL);
  check_reconnect ("not json", base, NULL);
  check_reconnect ("", base, NULL);
  check_reconnect (NULL, base, NULL);
}

GST_END_TEST;

/* --- DTLS fingerprint against the certificate the peer presented --- */

/* A self-signed P-256 certificate made for this test, and its
 * fingerprints as `openssl x509 -fingerprint` prints them. */
/* *INDENT-OFF* */
static const gchar test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhjCCASugAwIBAgIUdNJvGYMjkOPsq/YPgxcXqGKSw4MwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMd2hlcHNyYy10ZXN0MCAXDTI2MTIwMzE1NTk0N1oYDzIxMjYx\n"
    "MTA5MTU1OTQ3WjAXMRUwEwYDVQQDDAx3aGVwc3JjLXRlc3QwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAARvgFwazW+Zvrskcm5wdWWrCuv1RGye0JPoJveTKKgBRRlV\n"
    "dVd5ZvRsYrvtVeZq4LKRJC7MtC9M0z35hkUudAIWo1MwUTAdBgNVHQ4EFgQUAFvn\n"
    "npt8m0FN+bjnYcA+HqGsaaswHwYDVR0jBBgwFoAUAFvnnpt8m0FN+bjnYcA+HqGs\n"
    "aaswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA0vx+TgK4XJ5H\n"
    "sRgQ5EeiiyjmJHMk+3YbgVwnBG/XxYsCIQD2zjMJXj228JbYPh8WYJdo1XMCXIIl\n"
    "I9JkJn00gSlrkg==\n"
    "-----END CERTIFICATE-----\n";
/* *INDENT-ON* */
#define TEST_CERT_SHA256 "72:A0:8E:F9:4B:97:69:32:6A:32:62:63:66:2E:C9:1E:" \
    "AB:66:AB:8D:36:09:1A:0C:D5:3D:12:8F:C6:4C:87:C9"
#define TEST_CERT_SHA1 "09:D7:82:C5:A5:38:05:E2:B2:0A:0A:EA:FF:A2:23:E6:14:3E:02:D8"

static GstSDPMessage *
sdp_with_fingerprint (const gchar * session_level, const gchar * media_level)
{
  g_autofree gchar *text = g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
      "s=-\r\nt=0 0\r\n%s%s%s"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
      "a=rtpmap:96 VP8/90000\r\n%s%s%s",
      session_level ? "a=fingerprint:" : "",
      session_level ? session_level : "", session_level ? "\r\n" : "",
      media_level ? "a=fingerprint:" : "",
      media_level ? media_level : "", media_level ? "\r\n" : "");
  GstSDPMessage *msg = NULL;

  fail_unless (gst_whep_sdp_parse (text, &msg, NULL));
  return msg;
}

GST_START_TEST (test_fingerprint_matching_certificate_passes)
{
  GstSDPMessage *msg = sdp_with_fingerprint (NULL, "sha-256 " TEST_CERT_SHA256);
  gboolean checked = FALSE;
  GError *err = NULL;

  fail_unless (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem,
          &checked, &err));
  fail_unless (checked);
  gst_sdp_message_free (msg);

  /* Session level, sha-1, lower case. */
  {
    g_autofree gchar *lower = g_ascii_strdown ("SHA-1 " TEST_CERT_SHA1, -1);
    msg = sdp_with_fingerprint (lower, NULL);
  }
  fail_unless (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem,
          &checked, &err));
  fail_unless (checked);
  gst_sdp_message_free (msg);
}

GST_END_TEST;

GST_START_TEST (test_fingerprint_of_another_certificate_fails)
{
  GstSDPMessage *msg = sdp_with_fingerprint ("sha-256 " TEST_CERT_SHA256,
      "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  gboolean checked = FALSE;
  GError *err = NULL;

  /* The media level wins over the session level. */
  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem, &checked,
          &err));
  fail_unless (checked);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  fail_unless (strstr (err->message, "00:11:22") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, TEST_CERT_SHA256) != NULL, "%s",
      err->message);
  g_clear_error (&err);
  gst_sdp_message_free (msg);
}

GST_END_TEST;

GST_START_TEST (test_fingerprint_missing_or_unreadable_fails)
{
  GstSDPMessage *msg = sdp_with_fingerprint (NULL, NULL);
  gboolean checked = TRUE;
  GError *err = NULL;

  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem, &checked,
          &err));
  fail_if (checked);
  g_clear_error (&err);
  gst_sdp_message_free (msg);

  msg = sdp_with_fingerprint (NULL, "sha-256 " TEST_CERT_SHA256);
  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, "not a certificate",
          &checked, &err));
  g_clear_error (&err);
  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, NULL, &checked, &err));
  g_clear_error (&err);
  gst_sdp_message_free (msg);

  msg = sdp_with_fingerprint (NULL, "sha-256");
  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem, &checked,
          &err));
  g_clear_error (&err);
  gst_sdp_message_free (msg);
}

GST_END_TEST;

GST_START_TEST (test_fingerprint_unknown_algorithm_is_not_checked)
{
  GstSDPMessage *msg = sdp_with_fingerprint (NULL, "md5 00:11:22:33");
  gboolean checked = TRUE;

  fail_unless (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem,
          &checked, NULL));
  fail_if (checked);
  gst_sdp_message_free (msg);
}

GST_END_TEST;

/* The a=fingerprint a server wrote is quoted in the error (shown to the
 * user as it is): sanitised.  The same check leaked a copy of it on
 * every call (fuzz-sdp-answer under LeakSanitizer; scripts/sanitize.sh
 * sees it in the fingerprint tests). */
GST_START_TEST (test_fingerprint_error_sanitised)
{
  g_autoptr (GstSDPMessage) msg = NULL;
  GError *error = NULL;
  gboolean checked = TRUE;

  gst_sdp_message_new_from_text ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"
      "t=0 0\r\na=fingerprint:sha-256 AB:\xff\x1b[2J\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", &msg);
  fail_if (gst_whep_sdp_check_fingerprint (msg, 0, test_cert_pem, &checked,
          &error));
  fail_unless (checked);
  fail_unless (g_utf8_validate (error->message, -1, NULL), "%s",
      error->message);
  fail_unless (strchr (error->message, '\x1b') == NULL, "%s", error->message);
  fail_unless (strstr (error->message, "sha-256 AB:\\xff\\x1b[2J") != NULL,
      "%s", error->message);
  g_clear_error (&error);
}

GST_END_TEST;

static Suite *
helpers_suite (void)
{
  Suite *s = suite_create ("whephelpers");
  TCase *link = tcase_create ("link");
  TCase *ice = tcase_create ("ice-servers");
  TCase *http = tcase_create ("http");
  TCase *backoff = tcase_create ("backoff");
  TCase *codecs = tcase_create ("codecs");
  TCase *answer = tcase_create ("answer");
  TCase *frag = tcase_create ("sdpfrag");
  TCase *rotation = tcase_create ("rotation");
  TCase *failures = tcase_create ("failures");
  TCase *sse = tcase_create ("sse");

  suite_add_tcase (s, link);
  tcase_add_test (link, test_link_single_ice_server);
  tcase_add_test (link, test_link_multiple_values_in_one_header);
  tcase_add_test (link, test_link_appends_to_existing_array);
  tcase_add_test (link, test_link_comma_inside_uri_and_quotes);
  tcase_add_test (link, test_link_quoted_string_escapes);
  tcase_add_test (link, test_link_token_params);
  tcase_add_test (link, test_link_whitespace_around_separators);
  tcase_add_test (link, test_link_param_names_case_insensitive);
  tcase_add_test (link, test_link_first_occurrence_of_param_wins);
  tcase_add_test (link, test_link_several_rels);
  tcase_add_test (link, test_link_param_without_value);
  tcase_add_test (link, test_link_missing_rel_skipped);
  tcase_add_test (link, test_link_malformed_values_skipped);
  tcase_add_test (link, test_link_unterminated_quote_skipped);
  tcase_add_test (link, test_link_relative_uri_kept_as_written);
  tcase_add_test (link, test_link_null_and_empty);
  tcase_add_test (link, test_link_free_accepts_null);

  suite_add_tcase (s, ice);
  tcase_add_test (ice, test_ice_servers_filter_rel_and_scheme);
  tcase_add_test (ice, test_ice_servers_turn_with_credentials);
  tcase_add_test (ice, test_ice_servers_turn_without_credentials);
  tcase_add_test (ice, test_ice_servers_null_links);
  tcase_add_test (ice, test_webrtc_uri_stun);
  tcase_add_test (ice, test_webrtc_uri_turn_keeps_transport);
  tcase_add_test (ice, test_webrtc_uri_turns);
  tcase_add_test (ice, test_webrtc_uri_escapes_credentials);
  tcase_add_test (ice, test_webrtc_uri_turn_without_credentials_is_null);
  tcase_add_test (ice, test_webrtc_uri_unsupported_is_null);
  tcase_add_test (ice, test_webrtc_uri_from_link_header);

  suite_add_tcase (s, http);
  tcase_add_test (http, test_retry_after_delta_seconds);
  tcase_add_test (http, test_retry_after_huge_delta_saturates);
  tcase_add_test (http, test_retry_after_http_date_future);
  tcase_add_test (http, test_retry_after_http_date_rounds_up);
  tcase_add_test (http, test_retry_after_http_date_past_is_zero);
  tcase_add_test (http, test_retry_after_garbage);
  tcase_add_test (http, test_status_success);
  tcase_add_test (http, test_status_redirect);
  tcase_add_test (http, test_status_not_authorized);
  tcase_add_test (http, test_status_not_found);
  tcase_add_test (http, test_status_retry);
  tcase_add_test (http, test_status_fatal);
  tcase_add_test (http, test_location_relative_path);
  tcase_add_test (http, test_location_absolute_path);
  tcase_add_test (http, test_location_absolute_url);
  tcase_add_test (http, test_location_query_kept);
  tcase_add_test (http, test_location_dot_segments);
  tcase_add_test (http, test_location_base_with_query);
  tcase_add_test (http, test_location_whitespace_trimmed);
  tcase_add_test (http, test_location_without_host_refused);
  tcase_add_test (http, test_uri_to_http_makes_no_quark);
  tcase_add_test (http, test_location_empty_is_error);
  tcase_add_test (http, test_error_summary_problem_title_and_detail);
  tcase_add_test (http, test_error_summary_problem_title_only);
  tcase_add_test (http, test_error_summary_problem_detail_only);
  tcase_add_test (http, test_error_summary_problem_multiline_detail);
  tcase_add_test (http, test_error_summary_broken_json_falls_back_to_text);
  tcase_add_test (http, test_error_summary_text_leading_blank_lines);
  tcase_add_test (http, test_error_summary_long_text_truncated);
  tcase_add_test (http, test_error_summary_control_chars_escaped);
  tcase_add_test (http, test_error_summary_invalid_utf8);
  tcase_add_test (http, test_sanitize_text);
  tcase_add_test (http, test_html_title);
  tcase_add_test (http, test_url_origin);
  tcase_add_test (http, test_error_summary_html_and_unknown_types);
  tcase_add_test (http, test_error_summary_nothing_useful);
  tcase_add_test (http, test_uri_whep_to_http);
  tcase_add_test (http, test_uri_wheps_to_https);
  tcase_add_test (http, test_uri_http_unchanged);
  tcase_add_test (http, test_uri_other_schemes_rejected);
  tcase_add_test (http, test_uri_split_token_and_options);
  tcase_add_test (http, test_uri_split_refuses_bad_options);
  tcase_add_test (http, test_content_type_ignores_params_and_case);
  tcase_add_test (http, test_content_type_mismatch);

  suite_add_tcase (s, backoff);
  tcase_add_test (backoff, test_backoff_without_rand_is_exact);
  tcase_add_test (backoff, test_backoff_jitter_bounds);
  tcase_add_test (backoff, test_backoff_jitter_spreads);
  tcase_add_test (backoff, test_backoff_cap_is_monotonic);
  tcase_add_test (backoff, test_backoff_no_overflow);
  tcase_add_test (backoff, test_backoff_degenerate_arguments);
  tcase_add_test (backoff, test_backoff_same_seed_same_delays);

  suite_add_tcase (s, codecs);
  tcase_add_test (codecs, test_codec_table_unique_payload_types);
  tcase_add_test (codecs, test_codec_table_entries);
  tcase_add_test (codecs, test_codec_table_caps_are_consistent);
  tcase_add_test (codecs, test_codec_table_order_within_kind);
  tcase_add_test (codecs, test_offer_caps_all_video);
  tcase_add_test (codecs, test_offer_caps_vp8_fields_exactly);
  tcase_add_test (codecs, test_offer_caps_fmtp_fields);
  tcase_add_test (codecs, test_offer_caps_opus_fields);
  tcase_add_test (codecs, test_offer_caps_make_expected_sdp);
  tcase_add_test (codecs, test_offer_caps_availability_hides_codecs);
  tcase_add_test (codecs, test_offer_caps_nothing_available_is_null);
  tcase_add_test (codecs, test_offer_caps_filter_decoder_caps);
  tcase_add_test (codecs, test_offer_caps_filter_rtp_caps);
  tcase_add_test (codecs, test_offer_caps_filter_other_kind_is_null);
  tcase_add_test (codecs, test_offer_caps_filter_any);

  suite_add_tcase (s, answer);
  tcase_add_test (answer, test_fingerprint_matching_certificate_passes);
  tcase_add_test (answer, test_fingerprint_of_another_certificate_fails);
  tcase_add_test (answer, test_fingerprint_missing_or_unreadable_fails);
  tcase_add_test (answer, test_fingerprint_unknown_algorithm_is_not_checked);
  tcase_add_test (answer, test_fingerprint_error_sanitised);
  tcase_add_test (answer, test_answer_valid_passes);
  tcase_add_test (answer, test_answer_that_is_an_offer_is_named);
  tcase_add_test (answer, test_answer_sendrecv_and_inactive_accepted);
  tcase_add_test (answer, test_answer_several_payload_types_one_known);
  tcase_add_test (answer, test_answer_session_level_transport_passes);
  tcase_add_test (answer,
      test_answer_transport_in_first_bundled_mline_only_passes);
  tcase_add_test (answer, test_answer_one_rejected_mline_passes);
  tcase_add_test (answer, test_answer_unknown_payload_type);
  tcase_add_test (answer, test_answer_no_payload_type);
  tcase_add_test (answer, test_answer_mline_count_mismatch);
  tcase_add_test (answer, test_answer_kind_mismatch);
  tcase_add_test (answer, test_answer_swapped_order);
  tcase_add_test (answer, test_answer_recvonly_refused);
  tcase_add_test (answer, test_answer_session_level_recvonly_refused);
  tcase_add_test (answer, test_answer_missing_ice_ufrag);
  tcase_add_test (answer, test_answer_missing_ice_pwd);
  tcase_add_test (answer, test_answer_missing_fingerprint);
  tcase_add_test (answer, test_answer_all_rejected);
  tcase_add_test (answer, test_counter_offer_valid_passes);
  tcase_add_test (answer, test_counter_offer_recvonly_refused);
  tcase_add_test (answer, test_counter_offer_without_media_refused);
  tcase_add_test (answer, test_counter_offer_missing_transport_refused);
  tcase_add_test (answer, test_count_media);
  tcase_add_test (answer, test_sdp_parse_valid);
  tcase_add_test (answer, test_sdp_parse_refuses_non_sdp);
  tcase_add_test (answer, test_sdp_parse_refuses_no_mline);
  tcase_add_test (answer, test_sdp_video_framerate);
  tcase_add_test (answer, test_sdp_add_rtx_for_every_video_codec);
  tcase_add_test (answer, test_sdp_video_payload_types);

  suite_add_tcase (s, rotation);
  tcase_add_test (rotation, test_rotation_lead_uses_configured_value);
  tcase_add_test (rotation, test_rotation_lead_grows_with_slow_setups);
  tcase_add_test (rotation, test_session_limit_learned_from_similar_ages);

  suite_add_tcase (s, frag);
  tcase_add_test (frag, test_sdpfrag_to_string_exact);
  tcase_add_test (frag, test_sdpfrag_to_string_minimal);
  tcase_add_test (frag, test_sdpfrag_parse_crlf);
  tcase_add_test (frag, test_sdpfrag_parse_lf);
  tcase_add_test (frag, test_sdpfrag_parse_surrounding_space);
  tcase_add_test (frag, test_sdpfrag_round_trip);
  tcase_add_test (frag, test_sdpfrag_parse_session_lines_and_media_credentials);
  tcase_add_test (frag, test_sdpfrag_parse_bundled_mlines_deduplicated);
  tcase_add_test (frag, test_sdpfrag_parse_refuses_garbage);
  tcase_add_test (frag, test_sdpfrag_free_accepts_null);

  suite_add_tcase (s, failures);
  tcase_add_test (failures, test_failure_not_authorized);
  tcase_add_test (failures, test_failure_not_found);
  tcase_add_test (failures, test_failure_busy_retries);
  tcase_add_test (failures, test_failure_redirect_and_others);
  tcase_add_test (failures, test_failure_problem_summary_quoted);
  tcase_add_test (failures, test_failure_new_redacts_and_copies);
  tcase_add_test (failures, test_body_says_not_live);
  tcase_add_test (failures, test_redact_url);
  tcase_add_test (failures, test_redact_url_sanitises);
  tcase_add_test (failures, test_sdp_summary);
  tcase_add_test (failures, test_sdp_summary_sanitises_server_text);

  suite_add_tcase (s, sse);
  tcase_add_test (sse, test_sse_named_event);
  tcase_add_test (sse, test_sse_multi_line_data);
  tcase_add_test (sse, test_sse_unnamed_is_message);
  tcase_add_test (sse, test_sse_comments_and_blank_lines);
  tcase_add_test (sse, test_sse_name_without_data);
  tcase_add_test (sse, test_sse_cr_handling);
  tcase_add_test (sse, test_sse_fields_ignored_and_incomplete);
  tcase_add_test (sse, test_sse_reconnect_url);
  tcase_add_test (sse, test_json_nesting_bounded);
  tcase_add_test (sse, test_json_only_one_object);
  tcase_add_test (sse, test_sse_event_size_limit);

  return s;
}

GST_CHECK_MAIN (helpers);
