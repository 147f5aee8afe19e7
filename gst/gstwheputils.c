/* whepsrc — pure helpers: HTTP header parsing, status mapping, back-off.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwheputils.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* Longest error summary we hand to the user, in characters. */
#define ERROR_SUMMARY_MAX_CHARS 200

void
gst_whep_response_free (GstWhepResponse * response)
{
  if (!response)
    return;
  g_free (response->reason);
  g_free (response->request_url);
  g_free (response->final_url);
  g_free (response->content_type);
  g_free (response->body);
  g_free (response->error_summary);
  g_free (response->location);
  g_free (response->etag);
  g_free (response->accept_patch);
  g_free (response->redirect_error);
  g_clear_pointer (&response->links, g_ptr_array_unref);
  g_clear_pointer (&response->ice_servers, g_ptr_array_unref);
  g_clear_error (&response->error);
  g_free (response);
}

void
gst_whep_ice_server_free (GstWhepIceServer * server)
{
  if (server == NULL)
    return;

  g_free (server->url);
  g_free (server->username);
  /* The credential is a secret: do not leave it lying around in freed
   * memory. */
  if (server->credential != NULL) {
    memset (server->credential, 0, strlen (server->credential));
    g_free (server->credential);
  }
  g_free (server);
}

void
gst_whep_link_free (GstWhepLink * link)
{
  if (link == NULL)
    return;

  g_free (link->uri);
  g_free (link->rel);
  if (link->params != NULL)
    g_hash_table_unref (link->params);
  g_free (link);
}

/* --- Link header (RFC 8288 §3) --- */

/* RFC 9110 §5.6.2 tchar. */
static gboolean
is_tchar (gchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c));
}

static const gchar *
skip_ows (const gchar * p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Moves past the rest of a broken link-value, up to and including the
 * next comma that is not inside <…> or a quoted-string, so that one bad
 * link-value does not cost us the ones after it. */
static const gchar *
skip_to_next_link_value (const gchar * p)
{
  gboolean in_quotes = FALSE, in_uri = FALSE;

  for (; *p != '\0'; p++) {
    if (in_quotes) {
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"')
        in_quotes = FALSE;
    } else if (in_uri) {
      if (*p == '>')
        in_uri = FALSE;
    } else if (*p == '"') {
      in_quotes = TRUE;
    } else if (*p == '<') {
      in_uri = TRUE;
    } else if (*p == ',') {
      return p + 1;
    }
  }
  return p;
}

/* Reads a quoted-string starting at the opening quote; backslash escapes
 * the next character.  Returns NULL when the closing quote is missing. */
static gchar *
read_quoted_string (const gchar ** pp)
{
  const gchar *p = *pp + 1;
  GString *s = g_string_new (NULL);

  for (; *p != '\0' && *p != '"'; p++) {
    if (*p == '\\' && p[1] != '\0')
      p++;
    g_string_append_c (s, *p);
  }
  if (*p != '"') {
    g_string_free (s, TRUE);
    return NULL;
  }
  *pp = p + 1;
  return g_string_free (s, FALSE);
}

/* Unquoted parameter values should be tokens, but servers write things
 * such as `username=user@example` or base64 credentials unquoted, so we
 * accept any run of characters that cannot end the parameter. */
static gchar *
read_bare_value (const gchar ** pp)
{
  const gchar *start = *pp, *p = *pp;

  while (*p != '\0' && !strchr (";, \t\"<>", *p))
    p++;
  *pp = p;
  return g_strndup (start, p - start);
}

/* Parses `;name[=value]` parameters after the URI of one link-value,
 * up to the comma that ends it (or the end).  Returns FALSE when the
 * parameters are malformed. */
static gboolean
parse_link_params (const gchar ** pp, GHashTable * params)
{
  const gchar *p = *pp;

  for (;;) {
    const gchar *name_start;
    g_autofree gchar *name = NULL;
    gchar *value = NULL;

    p = skip_ows (p);
    if (*p == '\0' || *p == ',')
      break;
    if (*p != ';')
      return FALSE;
    p = skip_ows (p + 1);
    /* RFC 8288 allows empty parameters (";;"); tolerate them. */
    if (*p == ';' || *p == ',' || *p == '\0')
      continue;

    name_start = p;
    while (is_tchar (*p))
      p++;
    if (p == name_start)
      return FALSE;
    name = g_ascii_strdown (name_start, p - name_start);

    p = skip_ows (p);
    if (*p == '=') {
      p = skip_ows (p + 1);
      if (*p == '"') {
        value = read_quoted_string (&p);
        if (value == NULL)
          return FALSE;
      } else {
        value = read_bare_value (&p);
      }
    } else {
      value = g_strdup ("");
    }

    /* RFC 8288 §3.3: occurrences after the first are ignored. */
    if (g_hash_table_contains (params, name))
      g_free (value);
    else
      g_hash_table_insert (params, g_steal_pointer (&name), value);
  }

  *pp = p;
  return TRUE;
}

/* Parses one link-value at *pp.  On success returns the link and leaves
 * *pp on the comma or NUL that ends it; on failure returns NULL (and *pp
 * is left somewhere inside the broken link-value). */
static GstWhepLink *
parse_link_value (const gchar ** pp)
{
  const gchar *p = *pp, *uri_start;
  g_autoptr (GstWhepLink) link = NULL;
  const gchar *rel;

  if (*p != '<')
    return NULL;
  uri_start = ++p;
  while (*p != '\0' && *p != '>')
    p++;
  if (*p != '>')
    return NULL;

  link = g_new0 (GstWhepLink, 1);
  link->uri = g_strstrip (g_strndup (uri_start, p - uri_start));
  link->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  p++;

  if (!parse_link_params (&p, link->params))
    return NULL;
  *pp = p;

  /* A link without a relation type says nothing we could act on. */
  rel = g_hash_table_lookup (link->params, "rel");
  if (rel == NULL || *rel == '\0')
    return NULL;
  link->rel = g_ascii_strdown (rel, -1);
  g_strstrip (link->rel);

  return g_steal_pointer (&link);
}

guint
gst_whep_parse_link_header (const gchar * value, GPtrArray * out)
{
  const gchar *p = value;
  guint n = 0;

  g_return_val_if_fail (out != NULL, 0);

  if (value == NULL)
    return 0;

  while (*p != '\0') {
    GstWhepLink *link;

    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0')
      break;

    link = parse_link_value (&p);
    if (link != NULL) {
      g_ptr_array_add (out, link);
      n++;
      if (*p == ',')
        p++;
    } else {
      p = skip_to_next_link_value (p);
    }
  }

  return n;
}

/* --- ICE servers --- */

/* The rel parameter is a space-separated list of relation types. */
static gboolean
rel_contains (const gchar * rels, const gchar * wanted)
{
  g_auto (GStrv) parts = NULL;
  guint i;

  if (rels == NULL)
    return FALSE;
  parts = g_strsplit_set (rels, " \t", -1);
  for (i = 0; parts[i] != NULL; i++) {
    if (g_ascii_strcasecmp (parts[i], wanted) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Returns the lower-cased scheme of @uri, or NULL.  Not g_uri_parse():
 * "stun:host:port" is not a hierarchical URI. */
static gchar *
uri_scheme (const gchar * uri)
{
  gchar *scheme = g_uri_parse_scheme (uri);

  if (scheme != NULL) {
    gchar *lower = g_ascii_strdown (scheme, -1);
    g_free (scheme);
    scheme = lower;
  }
  return scheme;
}

static gboolean
is_ice_scheme (const gchar * scheme)
{
  return g_strcmp0 (scheme, "stun") == 0 || g_strcmp0 (scheme, "stuns") == 0
      || g_strcmp0 (scheme, "turn") == 0 || g_strcmp0 (scheme, "turns") == 0;
}

guint
gst_whep_ice_servers_from_links (GPtrArray * links, GPtrArray * out)
{
  guint i, n = 0;

  g_return_val_if_fail (out != NULL, 0);

  if (links == NULL)
    return 0;

  for (i = 0; i < links->len; i++) {
    const GstWhepLink *link = g_ptr_array_index (links, i);
    g_autofree gchar *scheme = NULL;
    GstWhepIceServer *server;

    if (link == NULL || !rel_contains (link->rel, "ice-server"))
      continue;
    scheme = uri_scheme (link->uri);
    if (!is_ice_scheme (scheme))
      continue;

    server = g_new0 (GstWhepIceServer, 1);
    server->url = g_strdup (link->uri);
    server->username = g_strdup (g_hash_table_lookup (link->params,
            "username"));
    server->credential = g_strdup (g_hash_table_lookup (link->params,
            "credential"));
    g_ptr_array_add (out, server);
    n++;
  }

  return n;
}

/* webrtcbin splits the userinfo at the first ':' and unescapes both
 * halves, so a ':' inside the user name or password must be escaped too:
 * hence the sub-delims set, which is the userinfo set without ':'. */
static gchar *
escape_userinfo_part (const gchar * s)
{
  return g_uri_escape_string (s, G_URI_RESERVED_CHARS_SUBCOMPONENT_DELIMITERS,
      FALSE);
}

gchar *
gst_whep_ice_server_to_webrtc_uri (const GstWhepIceServer * server)
{
  g_autofree gchar *scheme = NULL;
  g_autofree gchar *user = NULL;
  g_autofree gchar *pass = NULL;
  const gchar *rest, *query;
  g_autofree gchar *hostport = NULL;

  if (server == NULL || server->url == NULL)
    return NULL;

  scheme = uri_scheme (server->url);
  if (scheme == NULL)
    return NULL;

  /* RFC 7064/7065 URIs have no "//", but tolerate servers that add it. */
  rest = server->url + strlen (scheme) + 1;
  if (g_str_has_prefix (rest, "//"))
    rest += 2;
  query = strchr (rest, '?');
  hostport = query ? g_strndup (rest, query - rest) : g_strdup (rest);
  if (*hostport == '\0' || strchr (hostport, '@') != NULL)
    return NULL;

  /* webrtcbin's stun-server takes plain "stun://" only, and has no use for
   * a query there. */
  if (g_str_equal (scheme, "stun"))
    return g_strdup_printf ("stun://%s", hostport);

  if (!g_str_equal (scheme, "turn") && !g_str_equal (scheme, "turns"))
    return NULL;
  if (server->username == NULL || *server->username == '\0'
      || server->credential == NULL)
    return NULL;

  user = escape_userinfo_part (server->username);
  pass = escape_userinfo_part (server->credential);
  return g_strdup_printf ("%s://%s:%s@%s%s", scheme, user, pass, hostport,
      query ? query : "");
}

/* --- Retry-After --- */

static gboolean
parse_delta_seconds (const gchar * s, guint * seconds)
{
  guint64 v = 0;
  const gchar *p;

  if (*s == '\0')
    return FALSE;
  for (p = s; *p != '\0'; p++) {
    if (!g_ascii_isdigit (*p))
      return FALSE;
    /* Saturate instead of wrapping: "wait forever-ish" is the intent. */
    if (v <= G_MAXUINT)
      v = v * 10 + (*p - '0');
  }
  *seconds = (guint) MIN (v, G_MAXUINT);
  return TRUE;
}

gboolean
gst_whep_parse_retry_after (const gchar * value, GDateTime * now,
    guint * seconds)
{
  g_autofree gchar *s = NULL;
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GDateTime) now_utc = NULL;
  GTimeSpan diff;
  guint result;

  if (value == NULL)
    return FALSE;

  s = g_strstrip (g_strdup (value));
  if (parse_delta_seconds (s, &result)) {
    if (seconds)
      *seconds = result;
    return TRUE;
  }

  /* An HTTP-date starts with a day name; checking that keeps soup's
   * lenient date parser from reading numbers such as "-5" as a date. */
  if (!g_ascii_isalpha (s[0]))
    return FALSE;
  date = soup_date_time_new_from_http_string (s);
  if (date == NULL)
    return FALSE;

  now_utc = now ? g_date_time_ref (now) : g_date_time_new_now_utc ();
  diff = g_date_time_difference (date, now_utc);
  if (diff <= 0)
    result = 0;
  else
    result = (guint) MIN ((diff + G_TIME_SPAN_SECOND - 1) / G_TIME_SPAN_SECOND,
        (GTimeSpan) G_MAXUINT);

  if (seconds)
    *seconds = result;
  return TRUE;
}

/* --- status classes --- */

GstWhepStatusClass
gst_whep_classify_status (guint status)
{
  if (status >= 200 && status < 300)
    return GST_WHEP_STATUS_CLASS_SUCCESS;

  switch (status) {
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
      return GST_WHEP_STATUS_CLASS_REDIRECT;
    case 401:
    case 403:
      return GST_WHEP_STATUS_CLASS_NOT_AUTHORIZED;
    case 404:
    case 410:
      return GST_WHEP_STATUS_CLASS_NOT_FOUND;
    case 409:                  /* WHEP: no live publication yet */
    case 425:
    case 429:
    case 502:                  /* a proxy in front of a restarting server */
    case 503:
    case 504:
      return GST_WHEP_STATUS_CLASS_RETRY;
    default:
      return GST_WHEP_STATUS_CLASS_FATAL;
  }
}

/* --- back-off --- */

/* min (base_ms * 2^attempt, max_ms), computed without overflow. */
static guint
backoff_cap (guint attempt, guint base_ms, guint max_ms)
{
  guint64 d = base_ms;

  if (base_ms == 0)
    return 0;
  /* Once past 32 doublings any guint base exceeds any guint cap. */
  if (attempt >= 32)
    return max_ms;
  d <<= attempt;
  return (guint) MIN (d, (guint64) max_ms);
}

guint
gst_whep_backoff_delay_ms (guint attempt, guint base_ms, guint max_ms,
    GRand * rand)
{
  guint d = backoff_cap (attempt, base_ms, max_ms);
  guint half = d / 2;
  guint64 span;

  if (rand == NULL)
    return d;

  /* Uniform in [d/2, d]: scale a 32-bit random number onto span values
   * (multiply-shift avoids the bias of a modulo). */
  span = (guint64) (d - half) + 1;
  return half + (guint) (((guint64) g_rand_int (rand) * span) >> 32);
}

/* --- Location --- */

gchar *
gst_whep_resolve_location (const gchar * base_url, const gchar * location,
    GError ** error)
{
  g_autofree gchar *loc = NULL;
  g_autoptr (GUri) base = NULL;
  g_autoptr (GUri) resolved = NULL;

  g_return_val_if_fail (base_url != NULL, NULL);

  if (location != NULL)
    loc = g_strstrip (g_strdup (location));
  if (loc == NULL || *loc == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "The server sent no usable Location header");
    return NULL;
  }

  /* ENCODED: keep percent-escapes in the path and query byte-exact; some
   * servers put tokens there that they compare as strings. */
  base = g_uri_parse (base_url, G_URI_FLAGS_ENCODED, error);
  if (base == NULL)
    return NULL;
  resolved = g_uri_parse_relative (base, loc, G_URI_FLAGS_ENCODED, error);
  if (resolved == NULL)
    return NULL;
  /* A URL without a host whose path starts with "//" cannot be written
   * out (it would read as a host): GLib 2.74 says so with a critical and
   * returns garbage.  fuzz-location found "http:/.//x", where the dot
   * segment leaves such a path; g_uri_resolve_relative() would hit it. */
  if (g_uri_get_host (resolved) == NULL
      && g_str_has_prefix (g_uri_get_path (resolved), "//")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "The server sent a Location that names no host");
    return NULL;
  }
  return g_uri_to_string (resolved);
}

/* --- error bodies --- */

/* --- text from servers --- */

gchar *
gst_whep_sanitize_text (const gchar * text, gssize len, guint max_chars)
{
  GString *out;
  const gchar *p, *end;
  guint n_chars = 0;
  gboolean cut = FALSE;

  if (text == NULL)
    return NULL;
  if (len < 0)
    len = strlen (text);
  end = text + len;
  out = g_string_sized_new (MIN ((gsize) len, (gsize) max_chars * 4) + 8);

  for (p = text; p < end;) {
    gchar piece[16];
    gsize step = 1;
    guchar byte = (guchar) * p;

    if (byte < 0x80) {
      if (byte == '\n')
        strcpy (piece, "\\n");
      else if (byte == '\r')
        strcpy (piece, "\\r");
      else if (byte == '\t')
        strcpy (piece, "\\t");
      else if (byte < 0x20 || byte == 0x7f)
        g_snprintf (piece, sizeof (piece), "\\x%02x", byte);
      else {
        piece[0] = byte;
        piece[1] = '\0';
      }
    } else {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) - 1 || c == (gunichar) - 2) {
        /* Not UTF-8 (GStreamer refuses such a debug string): show the
         * byte, which says more than U+FFFD would. */
        g_snprintf (piece, sizeof (piece), "\\x%02x", byte);
      } else {
        step = g_utf8_next_char (p) - p;
        if (c >= 0x80 && c < 0xa0)
          g_snprintf (piece, sizeof (piece), "\\u%04x", c);
        else {
          memcpy (piece, p, step);
          piece[step] = '\0';
        }
      }
    }

    /* An escape counts as the characters it shows; "…" needs one. */
    {
      guint piece_chars = g_utf8_strlen (piece, -1);

      if (n_chars + piece_chars > max_chars
          || (n_chars + piece_chars == max_chars && p + step < end)) {
        cut = TRUE;
        break;
      }
      g_string_append (out, piece);
      n_chars += piece_chars;
    }
    p += step;
  }
  if (cut && max_chars > 0)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

/* A line with nothing printable in it (blanks and control characters
 * only) says nothing. */
static gboolean
has_printable (const gchar * text, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if ((guchar) text[i] > 0x20 && text[i] != 0x7f)
      return TRUE;
  return FALSE;
}

/* Turns @text into one presentable line: trimmed, tabs and line ends as
 * spaces, the rest
 * as gst_whep_sanitize_text() does, at most ERROR_SUMMARY_MAX_CHARS
 * characters.  Returns NULL when nothing printable is left. */
static gchar *
sanitize_line (const gchar * text, gssize len)
{
  g_autofree gchar *copy = NULL;
  gchar *p;

  if (len < 0)
    len = strlen (text);
  if (!has_printable (text, len))
    return NULL;
  /* Not g_strndup: it would stop at a NUL byte, which is shown. */
  copy = g_malloc (len + 1);
  memcpy (copy, text, len);
  copy[len] = '\0';
  /* One line: a problem's multi-line detail reads on as one. */
  for (p = copy; p < copy + len; p++)
    if (*p == '\t' || *p == '\n' || *p == '\r')
      *p = ' ';
  /* Trim without stopping at an embedded NUL. */
  while (len > 0 && (guchar) copy[len - 1] <= ' ' && copy[len - 1] != '\0')
    len--;
  p = copy;
  while (p < copy + len && (*p == ' ' || *p == '\n' || *p == '\r'))
    p++;
  return gst_whep_sanitize_text (p, copy + len - p, ERROR_SUMMARY_MAX_CHARS);
}

gboolean
gst_whep_is_html (const gchar * content_type, const gchar * text, gsize len)
{
  gsize i = 0;

  if (gst_whep_content_type_is (content_type, "text/html")
      || gst_whep_content_type_is (content_type, "application/xhtml+xml"))
    return TRUE;
  if (text == NULL)
    return FALSE;
  if (len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  while (i < len && g_ascii_isspace (text[i]))
    i++;
  return (len - i >= 14 && g_ascii_strncasecmp (text + i, "<!doctype html",
          14) == 0) || (len - i >= 5
      && g_ascii_strncasecmp (text + i, "<html", 5) == 0);
}

/* Case-insensitive search for ASCII @needle in @hay (not NUL-terminated). */
static const gchar *
find_ascii_nocase (const gchar * hay, gsize len, const gchar * needle)
{
  gsize n = strlen (needle), i;

  for (i = 0; i + n <= len; i++)
    if (g_ascii_strncasecmp (hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

gchar *
gst_whep_html_title (const gchar * text, gsize len)
{
  const gchar *end = text ? text + len : NULL;
  const gchar *open, *start, *close;
  GString *title;
  gchar *result;
  gboolean blank = FALSE;

  if (text == NULL)
    return NULL;
  open = find_ascii_nocase (text, len, "<title");
  if (open == NULL)
    return NULL;
  start = memchr (open, '>', end - open);
  if (start == NULL)
    return NULL;
  start++;
  close = find_ascii_nocase (start, end - start, "</title");
  if (close == NULL)
    close = end;

  /* Blanks collapsed: titles are often spread over lines. */
  title = g_string_new (NULL);
  for (; start < close; start++) {
    if (g_ascii_isspace (*start)) {
      blank = title->len > 0;
      continue;
    }
    if (blank)
      g_string_append_c (title, ' ');
    blank = FALSE;
    g_string_append_c (title, *start);
  }
  if (title->len == 0) {
    g_string_free (title, TRUE);
    return NULL;
  }
  result = gst_whep_sanitize_text (title->str, title->len,
      ERROR_SUMMARY_MAX_CHARS);
  g_string_free (title, TRUE);
  return result;
}

static gchar *
text_summary (const gchar * text, gsize len)
{
  const gchar *line = text, *end = text + len;

  while (line < end) {
    const gchar *eol = line;
    gchar *summary;

    while (eol < end && *eol != '\n' && *eol != '\r')
      eol++;
    summary = sanitize_line (line, eol - line);
    if (summary != NULL)
      return summary;
    line = eol + 1;
  }
  return NULL;
}

/* The deepest nesting of arrays and objects a server's JSON may have.
 * json-glib 1.6 parses by recursion without a limit of its own: a
 * problem body or an event of 256 KiB of '[' took the thread's stack
 * (found while writing tests/fuzz/fuzz-error-body and fuzz-sse).  A
 * problem document or a WHEP event is an object of strings. */
#define JSON_MAX_DEPTH 32

static const gchar *
skip_json_blanks (const gchar * p, const gchar * end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* TRUE when @text (@len bytes, or -1) is one JSON object with nothing but
 * blanks around it, whose arrays and objects nest no deeper than
 * JSON_MAX_DEPTH (brackets inside strings do not count).  json-glib 1.6
 * accepts a sequence of values ("{} {} {}", "\"x\" {}") and leaks every
 * value but the last: 16 KB per event of a stream the sse fuzz target
 * grew, without bound over an event stream.  The object need not be
 * valid JSON: json-glib judges that. */
static gboolean
json_is_one_object (const gchar * text, gssize len)
{
  const gchar *p, *end;
  gboolean in_string = FALSE;
  guint depth = 0;

  if (len < 0)
    len = strlen (text);
  end = text + len;
  p = skip_json_blanks (text, end);
  if (p == end || *p != '{')
    return FALSE;
  for (; p < end; p++) {
    if (in_string) {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        in_string = FALSE;
    } else if (*p == '"') {
      in_string = TRUE;
    } else if (*p == '[' || *p == '{') {
      if (++depth > JSON_MAX_DEPTH)
        return FALSE;
    } else if ((*p == ']' || *p == '}') && --depth == 0) {
      /* The object is closed: only blanks may follow. */
      return skip_json_blanks (p + 1, end) == end;
    }
  }
  return TRUE;                  /* unfinished: json-glib's error */
}

static const gchar *
json_member_string (JsonObject * obj, const gchar * name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* RFC 9457 problem details: "title: detail".  NULL when the body is not
 * such a JSON object or carries neither member. */
static gchar *
problem_summary (const gchar * text, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *obj;
  const gchar *title, *detail;
  g_autofree gchar *joined = NULL;

  if (!json_is_one_object (text, len)
      || !json_parser_load_from_data (parser, text, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  obj = json_node_get_object (root);

  title = json_member_string (obj, "title");
  detail = json_member_string (obj, "detail");
  if (title != NULL && *title == '\0')
    title = NULL;
  if (detail != NULL && *detail == '\0')
    detail = NULL;

  if (title != NULL && detail != NULL)
    joined = g_strdup_printf ("%s: %s", title, detail);
  else if (title != NULL || detail != NULL)
    joined = g_strdup (title ? title : detail);
  else
    return NULL;

  return sanitize_line (joined, -1);
}

gchar *
gst_whep_error_body_summary (const gchar * content_type, GBytes * body)
{
  const gchar *data;
  gsize size;
  gchar *summary = NULL;

  if (body == NULL)
    return NULL;
  data = g_bytes_get_data (body, &size);
  if (data == NULL || size == 0)
    return NULL;

  /* A proxy's error page: its title is the message, the markup noise. */
  if (gst_whep_is_html (content_type, data, size)) {
    summary = gst_whep_html_title (data, size);
    return summary ? summary : g_strdup ("an HTML page");
  }

  if (gst_whep_content_type_is (content_type, "application/problem+json")
      || gst_whep_content_type_is (content_type, "application/json"))
    summary = problem_summary (data, size);

  /* Broken or unexpected JSON still says more than nothing. */
  if (summary == NULL)
    summary = text_summary (data, size);
  return summary;
}

/* --- URIs and media types --- */

gchar *
gst_whep_uri_to_http (const gchar * uri)
{
  g_autofree gchar *raw = NULL;
  g_autofree gchar *scheme = NULL;
  const gchar *http_scheme;
  g_autoptr (GUri) parsed = NULL;

  if (uri == NULL)
    return NULL;

  /* Not g_uri_peek_scheme(): it interns every scheme it sees, a quark
   * that is never freed — one per distinct text (fuzz-location). */
  raw = g_uri_parse_scheme (uri);
  if (raw == NULL)
    return NULL;
  scheme = g_ascii_strdown (raw, -1);
  if (g_str_equal (scheme, "http") || g_str_equal (scheme, "https"))
    return g_strdup (uri);
  if (g_str_equal (scheme, "whep"))
    http_scheme = "http";
  else if (g_str_equal (scheme, "wheps"))
    http_scheme = "https";
  else
    return NULL;

  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL
      || *g_uri_get_host (parsed) == '\0')
    return NULL;

  /* Swap the scheme textually: everything after it (userinfo, port,
   * path, query, escapes) stays byte-exact. */
  return g_strconcat (http_scheme, uri + strlen (scheme), NULL);
}

/* The fragment's pairs (percent-encoded) as a structure of strings. */
static GstStructure *
parse_uri_options (const gchar * fragment, GError ** error)
{
  g_auto (GStrv) pairs = g_strsplit (fragment, "&", -1);
  GstStructure *options = gst_structure_new_empty ("options");
  gchar **pair;

  for (pair = pairs; *pair; pair++) {
    const gchar *eq = strchr (*pair, '=');
    g_autofree gchar *name = NULL;
    g_autofree gchar *value = NULL;

    if (**pair == '\0')
      continue;
    if (eq != NULL) {
      name = g_uri_unescape_segment (*pair, eq, NULL);
      value = g_uri_unescape_string (eq + 1, NULL);
    }
    if (name == NULL || value == NULL || *name == '\0'
        || !g_ascii_isalpha (*name)
        || strspn (name, "abcdefghijklmnopqrstuvwxyz"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen (name)) {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_FAILED,
          "the URI's option '%s' is not name=value (a property name)", *pair);
      gst_structure_free (options);
      return NULL;
    }
    gst_structure_set (options, name, G_TYPE_STRING, value, NULL);
  }
  return options;
}

gboolean
gst_whep_uri_split (const gchar * uri, gchar ** endpoint, gchar ** token,
    GstStructure ** options, GError ** error)
{
  g_autofree gchar *http = gst_whep_uri_to_http (uri);
  const gchar *authority, *authority_end, *at, *hash;
  g_autofree gchar *userinfo = NULL;
  GString *out;

  *endpoint = *token = NULL;
  *options = NULL;
  if (http == NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
        "'%s' is not a whep://, wheps://, http:// or https:// URI with a "
        "host", uri);
    return FALSE;
  }
  /* Textual surgery, so that the rest stays byte-exact. */
  authority = strstr (http, "://") + 3;
  authority_end = authority + strcspn (authority, "/?#");
  at = g_strstr_len (authority, authority_end - authority, "@");
  /* The last '@' of the authority ends the user-info. */
  while (at && g_strstr_len (at + 1, authority_end - at - 1, "@"))
    at = g_strstr_len (at + 1, authority_end - at - 1, "@");
  hash = strchr (authority_end, '#');

  if (hash && hash[1] != '\0') {
    *options = parse_uri_options (hash + 1, error);
    if (*options == NULL)
      return FALSE;
  }
  if (at)
    userinfo = g_strndup (authority, at - authority);
  out = g_string_new_len (http, authority - http);
  if (userinfo && strchr (userinfo, ':') == NULL && *userinfo != '\0') {
    *token = g_uri_unescape_string (userinfo, NULL);
    g_string_append_len (out, at + 1, hash ? hash - (at + 1) :
        (gssize) strlen (at + 1));
  } else {
    g_string_append_len (out, authority, hash ? hash - authority :
        (gssize) strlen (authority));
  }
  *endpoint = g_string_free (out, FALSE);
  return TRUE;
}

gboolean
gst_whep_content_type_is (const gchar * content_type, const gchar * expected)
{
  const gchar *semi;
  g_autofree gchar *media_type = NULL;
  g_autofree gchar *want = NULL;

  if (content_type == NULL || expected == NULL)
    return FALSE;

  semi = strchr (content_type, ';');
  media_type = semi ? g_strndup (content_type, semi - content_type)
      : g_strdup (content_type);
  g_strstrip (media_type);
  want = g_strstrip (g_strdup (expected));

  return *media_type != '\0' && g_ascii_strcasecmp (media_type, want) == 0;
}

/* --- session rotation policy --- */

guint
gst_whep_rotation_lead_ms (guint configured_ms, gdouble lifetime_s,
    gdouble slowest_setup_ms)
{
  gdouble lead;

  if (configured_ms)
    return configured_ms;
  lead = MAX (2.0 * MAX (slowest_setup_ms, 0.0) + 1000.0, 2000.0);
  if (lifetime_s > 0)
    lead = MIN (lead, lifetime_s * 1000.0 / 2.0);
  return (guint) lead;
}

gdouble
gst_whep_learn_session_limit (gdouble previous_age_s, gdouble age_s)
{
  gdouble shorter, longer;

  if (previous_age_s < 1.0 || age_s < 1.0)
    return 0;
  shorter = MIN (previous_age_s, age_s);
  longer = MAX (previous_age_s, age_s);
  /* Sessions that end at about the same age are ended by a clock, not by
   * chance. */
  if (longer - shorter > 0.15 * longer)
    return 0;
  return shorter;
}

/* --- what may be logged --- */

gchar *
gst_whep_redact_url (const gchar * url)
{
  const gchar *end, *authority, *host, *path, *at;
  GString *out;

  if (url == NULL)
    return NULL;

  /* Everything from the first '?' or '#' on may carry a token. */
  end = url + strcspn (url, "?#");
  out = g_string_new (NULL);

  /* The authority runs from "//" to the next '/'; its userinfo ends at
   * the last '@' in it (a password may hold '@' only escaped, but be
   * generous). */
  authority = strstr (url, "//");
  if (authority != NULL && authority < end) {
    authority += 2;
    path = authority + strcspn (authority, "/");
    if (path > end)
      path = end;
    host = authority;
    for (at = authority; at < path; at++)
      if (*at == '@')
        host = at + 1;
    g_string_append_len (out, url, authority - url);
    g_string_append_len (out, host, end - host);
  } else {
    g_string_append_len (out, url, end - url);
  }

  if (*end == '?')
    g_string_append (out, "?…");
  else if (*end == '#')
    g_string_append (out, "#…");
  {
    /* A Location comes from the server: anything may be in it. */
    gchar *shown = gst_whep_sanitize_text (out->str, out->len, 300);

    g_string_free (out, TRUE);
    return shown;
  }
}

/* --- origins --- */

gchar *
gst_whep_url_origin (const gchar * url)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *host = NULL;
  const gchar *scheme;
  gint port;

  if (url == NULL)
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || *g_uri_get_host (uri) == '\0')
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") == 0)
    scheme = "http";
  else if (g_ascii_strcasecmp (scheme, "https") == 0)
    scheme = "https";
  else
    return NULL;
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = g_str_equal (scheme, "https") ? 443 : 80;
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  /* GUri gives an IPv6 literal without its brackets. */
  return g_strdup_printf ("%s://%s%s%s:%d", scheme, strchr (host, ':') ? "[" :
      "", host, strchr (host, ':') ? "]" : "", port);
}

gboolean
gst_whep_same_origin (const gchar * a, const gchar * b)
{
  g_autofree gchar *origin_a = gst_whep_url_origin (a);
  g_autofree gchar *origin_b = gst_whep_url_origin (b);

  return origin_a && origin_b && g_str_equal (origin_a, origin_b);
}

/* Longest media kind or codec name a summary quotes. */
#define SUMMARY_NAME_MAX_CHARS 24

typedef struct
{
  gchar *kind;
  gboolean rejected;
  GPtrArray *codecs;            /* unique encoding names */
} SummaryMedia;

static void
summary_media_free (SummaryMedia * media)
{
  g_free (media->kind);
  g_ptr_array_unref (media->codecs);
  g_free (media);
}

/* "PT NAME/rate…" → "NAME" (NULL when malformed). */
static gchar *
rtpmap_encoding (const gchar * value)
{
  const gchar *name = strchr (value, ' ');
  gsize len;

  if (name == NULL)
    return NULL;
  while (*name == ' ')
    name++;
  len = strcspn (name, "/ \r");
  return len ? gst_whep_sanitize_text (name, len, SUMMARY_NAME_MAX_CHARS) :
      NULL;
}

static gboolean
has_string (GPtrArray * array, const gchar * s)
{
  guint i;

  for (i = 0; i < array->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (array, i), s) == 0)
      return TRUE;
  return FALSE;
}

gchar *
gst_whep_sdp_summary (const gchar * text)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) medias = NULL;
  SummaryMedia *current = NULL;
  guint i, candidates = 0;
  gboolean sdp_lines = FALSE, end_of_candidates = FALSE, credentials = FALSE;
  GString *out;

  if (text == NULL || *text == '\0')
    return g_strdup ("no body");

  medias = g_ptr_array_new_with_free_func ((GDestroyNotify)
      summary_media_free);
  lines = g_strsplit_set (text, "\r\n", -1);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i];

    while (*line == ' ' || *line == '\t')
      line++;
    if (g_ascii_isalpha (line[0]) && line[1] == '=')
      sdp_lines = TRUE;
    if (g_str_has_prefix (line, "m=")) {
      const gchar *kind = line + 2;
      const gchar *port = kind + strcspn (kind, " ");

      current = g_new0 (SummaryMedia, 1);
      /* The media kind and the codec names are the server's text and go
       * into error details: sanitised like any (fuzz-sdp-answer found
       * "m=\xff" making a debug string GStreamer refuses). */
      current->kind = gst_whep_sanitize_text (kind, port - kind,
          SUMMARY_NAME_MAX_CHARS);
      while (*port == ' ')
        port++;
      current->rejected = port[0] == '0' && (port[1] == ' ' || !port[1]);
      current->codecs = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (medias, current);
    } else if (g_str_has_prefix (line, "a=rtpmap:") && current) {
      gchar *name = rtpmap_encoding (line + strlen ("a=rtpmap:"));

      if (name && !has_string (current->codecs, name))
        g_ptr_array_add (current->codecs, name);
      else
        g_free (name);
    } else if (g_str_has_prefix (line, "a=candidate:")) {
      candidates++;
    } else if (g_str_has_prefix (line, "a=end-of-candidates")) {
      end_of_candidates = TRUE;
    } else if (g_str_has_prefix (line, "a=ice-pwd:")
        || g_str_has_prefix (line, "a=ice-ufrag:")) {
      credentials = TRUE;
    }
  }

  out = g_string_new (NULL);
  g_string_append_printf (out, "%" G_GSIZE_FORMAT " bytes", strlen (text));
  if (!sdp_lines) {
    g_string_append (out, ", not SDP");
    return g_string_free (out, FALSE);
  }
  for (i = 0; i < medias->len; i++) {
    SummaryMedia *media = g_ptr_array_index (medias, i);
    guint c;

    g_string_append_printf (out, "%s %s[", i ? "" : ":", media->kind);
    if (media->rejected)
      g_string_append (out, "rejected");
    for (c = 0; !media->rejected && c < media->codecs->len; c++)
      g_string_append_printf (out, "%s%s", c ? "," : "",
          (const gchar *) g_ptr_array_index (media->codecs, c));
    g_string_append_c (out, ']');
  }
  if (medias->len == 0)
    g_string_append (out, ", no m-line");
  g_string_append_printf (out, ", %u candidate%s", candidates,
      candidates == 1 ? "" : "s");
  if (end_of_candidates)
    g_string_append (out, ", end-of-candidates");
  if (credentials)
    g_string_append (out, ", ICE credentials");
  return g_string_free (out, FALSE);
}

/* --- server-sent events --- */

typedef struct
{
  gchar *event;
  gchar *data;
} SseEvent;

struct _GstWhepSseParser
{
  gboolean started;             /* a first line was seen (BOM check) */
  gchar *event;                 /* name of the event being read, or NULL */
  GString *data;
  gboolean have_data;           /* a data field was seen (it may be "") */
  gboolean overflowed;          /* an event outgrew the limit: deaf */
  GQueue complete;              /* SseEvent*, oldest first */
};

GstWhepSseParser *
gst_whep_sse_parser_new (void)
{
  GstWhepSseParser *parser = g_new0 (GstWhepSseParser, 1);

  parser->data = g_string_new (NULL);
  g_queue_init (&parser->complete);
  return parser;
}

static void
sse_event_free (SseEvent * ev)
{
  g_free (ev->event);
  g_free (ev->data);
  g_free (ev);
}

void
gst_whep_sse_parser_free (GstWhepSseParser * parser)
{
  if (parser == NULL)
    return;
  g_free (parser->event);
  g_string_free (parser->data, TRUE);
  g_queue_clear_full (&parser->complete, (GDestroyNotify) sse_event_free);
  g_free (parser);
}

static void
sse_dispatch (GstWhepSseParser * parser)
{
  SseEvent *ev;

  if (parser->event == NULL && !parser->have_data)
    return;                     /* blank lines between events */
  ev = g_new0 (SseEvent, 1);
  ev->event = parser->event ? g_steal_pointer (&parser->event) :
      g_strdup ("message");
  ev->data = g_strdup (parser->data->str);
  g_queue_push_tail (&parser->complete, ev);
  g_string_truncate (parser->data, 0);
  parser->have_data = FALSE;
}

/* One line, without any line terminator. */
static void
sse_field (GstWhepSseParser * parser, const gchar * line, gsize len)
{
  const gchar *colon = memchr (line, ':', len);
  g_autofree gchar *name = NULL;
  const gchar *value;
  gsize value_len;

  if (len == 0) {
    sse_dispatch (parser);
    return;
  }
  if (line[0] == ':')
    return;                     /* a comment (keep-alives) */

  if (colon) {
    name = g_strndup (line, colon - line);
    value = colon + 1;
    if (value < line + len && *value == ' ')
      value++;
    value_len = line + len - value;
  } else {
    name = g_strndup (line, len);
    value = "";
    value_len = 0;
  }

  /* The event being read must stay below the limit, whatever its lines. */
  if ((g_str_equal (name, "event") || g_str_equal (name, "data"))
      && parser->data->len + value_len + 1 > GST_WHEP_SSE_MAX_EVENT_BYTES) {
    parser->overflowed = TRUE;
    g_clear_pointer (&parser->event, g_free);
    g_string_free (parser->data, TRUE);
    parser->data = g_string_new (NULL);
    parser->have_data = FALSE;
    return;
  }

  if (g_str_equal (name, "event")) {
    g_free (parser->event);
    /* Exact names per the standard; surrounding blanks are a server's
     * slip that costs nothing to forgive. */
    parser->event = g_strstrip (g_strndup (value, value_len));
    if (*parser->event == '\0')
      g_clear_pointer (&parser->event, g_free);
  } else if (g_str_equal (name, "data")) {
    if (parser->have_data)
      g_string_append_c (parser->data, '\n');
    g_string_append_len (parser->data, value, value_len);
    parser->have_data = TRUE;
  }
  /* "id", "retry" and unknown fields: nothing to do for us. */
}

guint
gst_whep_sse_parser_push_line (GstWhepSseParser * parser, const gchar * line)
{
  const gchar *p, *end;

  g_return_val_if_fail (parser != NULL, 0);
  if (line == NULL || parser->overflowed)
    return g_queue_get_length (&parser->complete);

  if (!parser->started) {
    parser->started = TRUE;
    if (g_str_has_prefix (line, "\xEF\xBB\xBF"))
      line += 3;                /* a UTF-8 BOM may open the stream */
  }

  end = line + strlen (line);
  /* CRLF: the LF was the split, the CR is its first half. */
  if (end > line && end[-1] == '\r')
    end--;
  for (p = line;;) {
    const gchar *cr = memchr (p, '\r', end - p);

    sse_field (parser, p, (cr ? cr : end) - p);
    if (!cr || parser->overflowed)
      break;
    p = cr + 1;
  }
  return g_queue_get_length (&parser->complete);
}

gboolean
gst_whep_sse_parser_overflowed (GstWhepSseParser * parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  return parser->overflowed;
}

gboolean
gst_whep_sse_parser_pop (GstWhepSseParser * parser, gchar ** event,
    gchar ** data)
{
  SseEvent *ev;

  g_return_val_if_fail (parser != NULL, FALSE);
  ev = g_queue_pop_head (&parser->complete);
  if (ev == NULL)
    return FALSE;
  if (event)
    *event = g_steal_pointer (&ev->event);
  if (data)
    *data = g_steal_pointer (&ev->data);
  sse_event_free (ev);
  return TRUE;
}

gchar *
gst_whep_sse_reconnect_url (const gchar * data, const gchar * base)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  const gchar *url = NULL;

  if (data == NULL || !json_is_one_object (data, -1))
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    url = json_member_string (json_node_get_object (root), "url");
  if (url == NULL || *url == '\0')
    return NULL;
  if (base == NULL)
    return g_uri_is_valid (url, G_URI_FLAGS_ENCODED, NULL) ? g_strdup (url) :
        NULL;
  /* The event may name a relative URL: it is relative to the stream. */
  return gst_whep_resolve_location (base, url, NULL);
}

void
gst_whep_clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}
