/* loopback-ice.so — LD_PRELOAD'ed into Janus by tests/interop/start-janus.sh
 * so that Janus offers a 127.0.0.1 host candidate, and only that one.
 *
 * Janus 1.1.2 builds its ICE address list from getifaddrs() and skips every
 * interface flagged IFF_LOOPBACK before it looks at ice_enforce_list; with
 * nothing added, libnice then gathers on every other interface by itself.
 * So a Janus told to use only 127.0.0.1 offers the machine's other
 * addresses instead.  This wrapper clears IFF_LOOPBACK in what getifaddrs()
 * returns: Janus then adds 127.0.0.1 (ice_enforce_list = "127.0.0.1") as its
 * one local address, and libnice gathers nothing else.  Nothing else in the
 * process changes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>

int getifaddrs (struct ifaddrs **ifap);

int
getifaddrs (struct ifaddrs **ifap)
{
  static int (*real_getifaddrs) (struct ifaddrs **) = NULL;
  struct ifaddrs *ifa;
  int result;

  if (real_getifaddrs == NULL)
    real_getifaddrs = (int (*)(struct ifaddrs **)) dlsym (RTLD_NEXT,
        "getifaddrs");
  if (real_getifaddrs == NULL)
    return -1;

  result = real_getifaddrs (ifap);
  if (result == 0) {
    for (ifa = *ifap; ifa != NULL; ifa = ifa->ifa_next)
      ifa->ifa_flags &= ~IFF_LOOPBACK;
  }
  return result;
}
