#!/bin/sh
# runtime-packages.sh - prints the Debian packages that hold the shared libraries a binary loads
# (ldd, then dpkg -S), one a line, sorted: what the runtime stage of deploy/Containerfile
# installs, derived from the build instead of kept by hand (libssl3, libcurl4, libuv1, ...).
# usage: deploy/runtime-packages.sh path/to/easload
set -eu
bin=${1:?usage: runtime-packages.sh BINARY}
[ -x "$bin" ] || { echo "runtime-packages.sh: $bin is not an executable" >&2; exit 2; }
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "runtime-packages.sh: ldd lists no library of $bin" >&2; exit 1; }
pkgs=$(for lib in $libs; do
        # merged /usr: dpkg knows a library under /lib or /usr/lib, whichever its package ships
        pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null ||
            dpkg -S "${lib#/usr}" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
            true)
        if [ -z "$pkg" ]; then
            echo "runtime-packages.sh: no Debian package holds $lib" >&2
            exit 1
        fi
        printf '%s\n' "$pkg" | head -n1 | cut -d: -f1
    done)
printf '%s\n' "$pkgs" | sort -u
