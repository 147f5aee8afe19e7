#!/usr/bin/env bash
# Installs what whepsrc needs to build, test and run on Debian 12 (as root).
# Safe to run again: apt skips what is already installed.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev libsoup-3.0-dev libjson-glib-dev libnice-dev
  # tests: libcrypto, told not to clean up at exit (tests/check/harness.h)
  libssl-dev
  # run: webrtcbin, libnice, depayloaders and decoders (VP8/VP9/H.264/H.265/AV1/Opus)
  gstreamer1.0-tools gstreamer1.0-plugins-base-apps gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-nice glib-networking ca-certificates
  # tests: network namespaces (ip, ss), NAT (nft, sysctl), TURN, certificates
  iproute2 nftables procps coturn openssl
  # interop tests: Janus (Streaming plugin) behind tests/interop/janus-front.js
  janus
  # lint: GNU indent for scripts/gst-indent and the format test
  indent
  # fuzzing (scripts/fuzz.sh, the fuzz test): clang and its libFuzzer and
  # sanitizer runtimes (a recommendation of clang, which
  # --no-install-recommends would leave out)
  clang libclang-rt-dev
  # memcheck (scripts/valgrind.sh, the valgrind test) and GLib's
  # suppressions for it (in libglib2.0-dev)
  valgrind
)

# interop tests: Node.js and npm from Debian when there is no node (a node
# already installed is kept), and g++ and make for the one npm package
# that builds native code when installed (unix-dgram, under janode).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
command -v npm >/dev/null 2>&1 || packages+=(npm)
command -v g++ >/dev/null 2>&1 || packages+=(g++)
command -v make >/dev/null 2>&1 || packages+=(make)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The interop servers' npm packages, exactly as tests/interop's
# package-lock.json pins them; again only when the lockfile or node changed.
interop=$(cd "$(dirname "$0")/../tests/interop" && pwd)
stamp=$interop/node_modules/.install-deps-stamp
want="$(node --version) $(sha256sum "$interop/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install-deps: npm packages in tests/interop up to date"
else
  echo "install-deps: npm ci in tests/interop"
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
