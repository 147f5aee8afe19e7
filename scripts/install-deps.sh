#!/usr/bin/env bash
# Installs what whepsrc needs to build, test and run on Debian 12 (as root).
# Safe to run again: apt skips what is already installed.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev libsoup-3.0-dev libjson-glib-dev libnice-dev
  # run: webrtcbin, libnice, depayloaders and decoders (VP8/VP9/H.264/H.265/AV1/Opus)
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-nice glib-networking ca-certificates
  # tests: network namespaces (ip, ss), NAT (nft, sysctl), TURN, certificates
  iproute2 nftables procps coturn openssl
  # interop tests: Janus (Streaming plugin) behind tests/interop/janus-front.js
  janus
  # lint: GNU indent for scripts/gst-indent and the format test
  indent
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
