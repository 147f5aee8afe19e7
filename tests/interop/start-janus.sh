#!/usr/bin/env bash
# Starts Debian's Janus (1.1.2) for whepsrc's interop tests with the
# configuration in tests/interop/janus/, in a temporary folder of its own,
# listening on 127.0.0.1 and a UNIX socket only:
#   - the Janus API: a WebSocket on the UNIX socket <tmp>/janus.sock
#     (janode: ws+unix://<tmp>/janus.sock), no TCP port, no admin API;
#   - ICE host candidates on 127.0.0.1 only, no STUN/TURN: ice_enforce_list
#     plus janus/loopback-ice.c (built by meson as loopback-ice.so), without
#     which Janus skips the loopback interface and libnice gathers on every
#     other one;
#   - the Streaming plugin, and no other plugin or transport.
#
# Prints one line on stdout once Janus accepts connections:
#   JANUS ws+unix://<tmp>/janus.sock
# Janus's own log goes to stderr, or is appended to $WHEP_JANUS_LOG when
# that is set (the interop tests: a log of a few hundred lines per case
# would bury the test's own output; the file is named on stderr).  Stops Janus and removes the folder on
# SIGTERM/SIGINT, when Janus exits, and when the process that started this
# script goes away (Janus itself also gets SIGTERM if this script is killed).
# Exits 77 when Janus is not installed.
#
# usage: start-janus.sh --loopback-ice PATH/loopback-ice.so
#                       [--rtp-ports MIN-MAX] [--debug-level 0-7]
set -uo pipefail

rtp_ports=20000-40000
debug_level=4
loopback_ice=${WHEP_JANUS_LOOPBACK_ICE:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --loopback-ice) loopback_ice=$2; shift 2 ;;
    --rtp-ports) rtp_ports=$2; shift 2 ;;
    --debug-level) debug_level=$2; shift 2 ;;
    *) echo "start-janus: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

janus=$(command -v janus) || { echo "SKIP: janus is not installed (apt-get install janus)" >&2; exit 77; }
if [ -z "$loopback_ice" ] || [ ! -r "$loopback_ice" ]; then
  echo "start-janus: --loopback-ice PATH/loopback-ice.so is needed (built by meson in tests/interop): without it Janus offers this machine's other addresses" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
parent=$PPID

find_module() {
  local kind=$1 name=$2 dir
  for dir in /usr/lib/*/janus/"$kind" /usr/lib/janus/"$kind" \
      /usr/local/lib/janus/"$kind" /opt/janus/lib/janus/"$kind"; do
    if [ -e "$dir/$name" ]; then
      echo "$dir/$name"
      return 0
    fi
  done
  return 1
}
streaming=$(find_module plugins libjanus_streaming.so) || { echo "SKIP: Janus's Streaming plugin is missing" >&2; exit 77; }
websockets=$(find_module transports libjanus_websockets.so) || { echo "SKIP: Janus's WebSockets transport is missing" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/whep-janus.XXXXXX") || exit 1
janus_pid=
cleanup() {
  if [ -n "$janus_pid" ] && kill -0 "$janus_pid" 2>/dev/null; then
    kill -TERM "$janus_pid" 2>/dev/null
    # Janus takes a moment to close its sessions; then it is killed (its
    # sessions are the tests', long gone by now).
    for _ in $(seq 20); do
      kill -0 "$janus_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$janus_pid" 2>/dev/null
    wait "$janus_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap 'cleanup; exit 0' TERM INT HUP
trap cleanup EXIT

mkdir -p "$tmp/conf" "$tmp/plugins" "$tmp/transports" "$tmp/empty"
ln -s "$streaming" "$tmp/plugins/libjanus_streaming.so"
ln -s "$websockets" "$tmp/transports/libjanus_websockets.so"
socket="$tmp/janus.sock"
for file in "$here"/janus/*.jcfg; do
  sed -e "s|@CONFIGS@|$tmp/conf|g" -e "s|@PLUGINS@|$tmp/plugins|g" \
    -e "s|@TRANSPORTS@|$tmp/transports|g" -e "s|@EMPTY@|$tmp/empty|g" \
    -e "s|@SOCKET@|$socket|g" -e "s|@RTP_PORTS@|$rtp_ports|g" \
    "$file" >"$tmp/conf/$(basename "$file")"
done

# Janus's log to stderr (or $WHEP_JANUS_LOG); SIGTERM to Janus should
# this script die.
if [ -n "${WHEP_JANUS_LOG:-}" ]; then
  exec 3>>"$WHEP_JANUS_LOG"
  echo "start-janus: Janus's log is appended to $WHEP_JANUS_LOG" >&2
else
  exec 3>&2
fi
LD_PRELOAD=$loopback_ice setpriv --pdeathsig TERM "$janus" --config="$tmp/conf/janus.jcfg" \
  --configs-folder="$tmp/conf" --debug-level="$debug_level" \
  --disable-colors --debug-timestamps >&3 2>&3 </dev/null &
janus_pid=$!
exec 3>&-

for _ in $(seq 200); do
  [ -S "$socket" ] && break
  if ! kill -0 "$janus_pid" 2>/dev/null; then
    echo "start-janus: janus exited before listening" >&2
    exit 1
  fi
  sleep 0.05
done
if [ ! -S "$socket" ]; then
  echo "start-janus: janus did not listen on $socket within 10 s" >&2
  exit 1
fi
echo "JANUS ws+unix://$socket"

# Until Janus exits or the process that started us is gone.
while kill -0 "$janus_pid" 2>/dev/null && kill -0 "$parent" 2>/dev/null; do
  sleep 0.5
done
