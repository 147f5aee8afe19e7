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
fuzz_init_glib (void)
{
  /* Criticals and warnings abort: libFuzzer records the input. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}
