/* whepsrc — what every libFuzzer target of tests/fuzz shares.
 *
 * libFuzzer hands a target bytes that are not NUL-terminated: the
 * parsers that take C strings get a copy (fuzz_strdup()), which also
 * stops at the first NUL exactly as the HTTP client's NUL-terminated
 * body would.  A GLib critical or warning means a parser broke a
 * precondition: it aborts the run, so libFuzzer keeps the input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* A NUL-terminated copy of @data (free with g_free). */
static inline gchar *
fuzz_strdup (const uint8_t * data, size_t size)
{
  gchar *s = g_malloc (size + 1);

  if (size > 0)
    memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* Splits @data at the first NUL byte into two NUL-terminated strings:
 * two inputs from one (a header and a body, a base URL and a Location).
 * Without a NUL, @first is "" and @second the whole input. */
static inline void
fuzz_split (const uint8_t * data, size_t size, gchar ** first,
    gchar ** second)
{
  const uint8_t *nul = size ? memchr (data, '\0', size) : NULL;

  if (nul == NULL) {
    *first = g_strdup ("");
    *second = fuzz_strdup (data, size);
  } else {
    *first = fuzz_strdup (data, nul - data);
    *second = fuzz_strdup (nul + 1, size - (nul - data) - 1);
  }
}

static inline void
fuzz_log_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  g_log_default_handler (domain, level, message, user_data);
  /* abort(), not GLib's fatal breakpoint: libFuzzer catches SIGABRT and
   * keeps the input, a SIGTRAP would end the run without it. */
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL))
    abort ();
}

/* Call at the end of LLVMFuzzerInitialize, after what the target loads
 * once (a TLS backend, types). */
static inline void
fuzz_init_glib (void)
{
  /* A critical or a warning means a parser broke a precondition (its
   * own or a library's): a finding. */
  g_log_set_default_handler (fuzz_log_handler, NULL);
}

/* The LLVMFuzzerInitialize of a target that loads nothing of its own
 * (the declaration at its end takes the caller's semicolon). */
#define FUZZ_INITIALIZE_GLIB_ONLY()                   \
int                                                   \
LLVMFuzzerInitialize (int *argc, char ***argv)        \
{                                                     \
  fuzz_init_glib ();                                  \
  return 0;                                           \
}                                                     \
extern int fuzz_initialize_glib_only_
