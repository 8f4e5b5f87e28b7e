#!/usr/bin/env bash
# Installs Debian's chromium (browser tests) and brotli (size report) when
# missing and we are root; otherwise says which package is needed. Nothing
# is skipped silently.
set -euo pipefail
need=()
command -v brotli >/dev/null || need+=(brotli)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${need[*]} — install Debian's packages: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
