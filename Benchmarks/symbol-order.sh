#!/bin/bash
# Writes Sources/miniupdated/symbol-order.txt: every function of miniupdated that runs while
# the bench drives it, so that release builds link them side by side (see Package.swift).
#
# Why: the kernel maps the code of an executable around each page it touches, so a
# daemon whose few megabytes of running code are spread over 25 MiB of `.text` keeps most of
# that text resident. Grouping the functions that run makes those pages few.
#
# How: the release bench runs with a `miniupdated` that execs the real one under
# callgrind, which names every function executed, and this script keeps the names of
# those in the daemon's binary. Run it after changes that add or rename much code of the
# start-up, check, serving or download paths; a stale list only costs memory, never
# correctness.
#
# usage: Benchmarks/symbol-order.sh [BUILD_DIRECTORY]   (default .build/release)
# needs: valgrind, objcopy, and a release build of miniupdate-bench in BUILD_DIRECTORY.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/.build/release}" && pwd)
for tool in valgrind objcopy; do
    command -v "$tool" >/dev/null || { echo "symbol-order.sh: needs $tool (apt-get install valgrind binutils)" >&2; exit 1; }
done
[ -x "$build/miniupdate-bench" ] || {
    echo "symbol-order.sh: no $build/miniupdate-bench; run swift build -c release --static-swift-stdlib --product miniupdate-bench" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The bench's nginx workers run as another user when it runs as root: let them in.
chmod 755 "$work"
mkdir -p "$work/bin" "$work/profiles"
cp "$build/miniupdate-bench" "$work/bin/"
# Valgrind 3.19 cannot read the DWARF 5 that Swift emits; the symbol table is enough.
objcopy --strip-debug "$build/miniupdated" "$work/bin/miniupdated.real"
# The wrapper finds its paths in the environment, which the bench passes on to the daemon.
export SYMBOL_ORDER_WORK="$work"
cat >"$work/bin/miniupdated" <<'EOF'
#!/bin/sh
echo $$ >>"$SYMBOL_ORDER_WORK/pids"
exec valgrind --quiet --tool=callgrind --demangle=no --compress-strings=no --dump-line=no \
    --callgrind-out-file="$SYMBOL_ORDER_WORK/profiles/callgrind.%p" "$SYMBOL_ORDER_WORK/bin/miniupdated.real" "$@"
EOF
chmod +x "$work/bin/miniupdated"

# Every path the bench drives: start-up with 10,000 apps, checks, 1,000 clients
# connecting, status requests, subscriptions and events, downloads and applies. Timings
# under callgrind mean nothing; the bench only drives the daemon here.
echo "symbol-order.sh: driving miniupdated under callgrind (about 5 minutes)" >&2
"$work/bin/miniupdate-bench" --quick --only startup --only roundtrip --only fanout --only download \
    --ready-timeout 600 --work-directory "$work/bench" >"$work/bench.log" 2>&1 || true
# A daemon the bench stopped writes its profile as it exits.
for pid in $(cat "$work/pids" 2>/dev/null); do
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "symbol-order.sh: miniupdated (pid $pid) did not exit 60 s after the bench; stopping it" >&2
        kill -KILL "$pid"
        exit 1
    fi
done
if grep -qi "error:" "$work/bench.log"; then
    echo "symbol-order.sh: the bench failed under callgrind, so the profile misses paths:" >&2
    grep -i "error:" "$work/bench.log" >&2
    exit 1
fi

compgen -G "$work/profiles/callgrind.*" >/dev/null || {
    echo "symbol-order.sh: miniupdated left no profile; the bench's log:" >&2
    tail -20 "$work/bench.log" >&2
    exit 1
}
# callgrind gives each function that ran a `fn=` block, in the object named by the last
# `ob=`. `'2` marks a recursion level, not another function. Code without a symbol is
# named by its address, and valgrind's "(below main)" is no symbol either: neither can be
# ordered.
awk '
    FNR == 1 { ob = "" }
    /^ob=/ { ob = substr($0, 4); next }
    /^fn=/ { if (ob ~ /\/miniupdated\.real$/) print substr($0, 4) }
' "$work"/profiles/callgrind.* | sed "s/'[0-9]*\$//" | { grep -v -e '^0x' -e ' ' || true; } | LC_ALL=C sort -u >"$work/functions"

count=$(wc -l <"$work/functions")
if [ "$count" -lt 1000 ]; then
    echo "symbol-order.sh: only $count functions profiled; the bench failed? see its log:" >&2
    tail -20 "$work/bench.log" >&2
    exit 1
fi
{
    echo "# Functions of miniupdated that run while the bench drives it (start-up, checks, clients,"
    echo "# events, downloads, applies), linked side by side in release builds (Package.swift)."
    echo "# Written by Benchmarks/symbol-order.sh at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "an unknown commit"); $count functions;"
    echo "# $(swift --version 2>/dev/null | head -1 || echo "an unknown Swift")."
    echo "# Names change with the toolchain and the packages: regenerate after upgrading them."
    cat "$work/functions"
} >"$root/Sources/miniupdated/symbol-order.txt"
echo "symbol-order.sh: wrote $count functions to Sources/miniupdated/symbol-order.txt" >&2
# SwiftPM does not see the list as an input of the link: remove the daemons linked with
# the old one (this build's and packaging/build-deb.sh's), so the next builds link again.
for daemon in "$build/miniupdated" "${MINIUPDATE_RELEASE_BUILD_DIR:-$root/.build-release}/release/miniupdated"; do
    [ -e "$daemon" ] || continue
    rm -f "$daemon"
    echo "symbol-order.sh: removed $daemon; the next release build links it with the new list" >&2
done
