#!/bin/sh
# install-deps.sh [LIST] - installs the Debian packages of LIST (default
# deploy/debian-packages.txt; `make bench-peers` passes deploy/bench-packages.txt) that are missing.
# Only what is missing: a machine that has everything is left alone (no apt-get at all).
set -eu
here=$(dirname "$0")
list=${1:-$here/debian-packages.txt}
missing=""
for pkg in $(grep -v '^[[:space:]]*#' "$list"); do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: not root and no sudo; install as root:$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
