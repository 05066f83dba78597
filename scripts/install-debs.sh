#!/usr/bin/env bash
# Install the Debian packages named on the command line that are missing, with
# one `apt-get update` first. Fails (exit 1, apt's message) when they cannot be
# installed, e.g. without a package registry.
#
# Packages that ship a server (postgresql, redis-server) start a system-wide
# one on install unless the system's policy-rc.d says no (Docker images do);
# the tests never use those, so a policy-rc.d that refuses is put in place for
# the install where none exists, and removed afterwards.
set -euo pipefail

missing=()
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ "${#missing[@]}" = 0 ] && exit 0

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# alweb scripts/install-debs.sh: no service starts on install\nexit 101\n' |
    "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  added_policy=1
fi
cleanup() {
  if [ "$added_policy" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

echo "install-debs: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
