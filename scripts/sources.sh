#!/usr/bin/env bash
# Fetches a Debian source package once into ~/.cache/pagedb/src/ (never into the repo) and
# prints the unpacked directory. Used by the wasm builds for libsodium and jansson.
# Usage: scripts/sources.sh PACKAGE
set -euo pipefail
pkg="$1"
cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}/src"
mkdir -p "$cache"
existing=$(find "$cache" -maxdepth 1 -mindepth 1 -type d -name "${pkg}-*" | sort | tail -n 1)
if [ -n "$existing" ]; then echo "$existing"; exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    | $SUDO tee /etc/apt/sources.list.d/pagedb-src.sources >/dev/null
  $SUDO apt-get update -qq >&2
fi
command -v dpkg-source >/dev/null || { $SUDO apt-get install -y -qq dpkg-dev >&2; }
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
( cd "$tmp" && apt-get source -qq "$pkg" >&2 ) || { apt-get update -qq >&2 || $SUDO apt-get update -qq >&2; ( cd "$tmp" && apt-get source -qq "$pkg" >&2 ); }
dir=$(find "$tmp" -maxdepth 1 -mindepth 1 -type d -name "${pkg}-*" | head -n 1)
[ -n "$dir" ] || { echo "could not fetch source of $pkg" >&2; exit 1; }
mv "$dir" "$cache/"
rm -rf "$tmp"
echo "$cache/$(basename "$dir")"
