#!/bin/sh
# run.sh - runs every benchmark built in BUILD_DIR/bench (make bench calls it) and prints the
# context bench/RESULTS.md records: date, commit, machine. Output is also kept in
# BUILD_DIR/bench/last-run.txt. BENCH_SECONDS sets the time per figure (default 2); the server
# benchmark (bench/server.sh, its own settings in its header) runs last, BENCH_SKIP_SERVER=1
# leaves it out.
#   bench/run.sh BUILD_DIR
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$build/bench/last-run.txt
{
    echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# commit: $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
        git -C "$src" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "# machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "# compiler: $(sed -n 's/^CMAKE_C_COMPILER:[^=]*=//p' "$build/CMakeCache.txt")," \
        "build type $(sed -n 's/^CMAKE_BUILD_TYPE:[^=]*=//p' "$build/CMakeCache.txt")"
    for b in "$build"/bench/bench_*; do
        [ -x "$b" ] || continue
        # bench_hold and bench_curl_floor need a running server: bench/server.sh and
        # bench/engine.sh drive them
        case "$(basename "$b")" in bench_hold | bench_curl_floor) continue ;; esac
        echo "# running $(basename "$b")"
        "$b"
    done
    if [ "${BENCH_SKIP_SERVER:-0}" != 1 ]; then
        echo "# running bench/server.sh"
        "$src/bench/server.sh" "$build"
    fi
} 2>&1 | tee "$out"
