#!/usr/bin/env bash
# System test: boots a real systemd 252 (Debian 12) as PID 1 in a systemd-nspawn
# container, installs the .deb there with apt, and checks the product as an admin and an
# app would (see inside.sh for the list).
#
# Usage: Tests/System/run.sh path/to/miniupdate_VERSION_ARCH.deb
#   MINIUPDATE_ROOTFS=DIR  reuse a rootfs made by an earlier run (default: debootstrap
#                          one into a temporary folder, ~3 min, removed afterwards)
# Needs root. Exit status: 0 pass, 1 fail, 77 cannot run here (skipped).
set -euo pipefail

DEB=$(realpath "${1:?usage: $0 path/to/miniupdate.deb}")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/miniupdate-system.XXXXXX)
LOG=$WORK/logs
mkdir -p "$LOG" "$WORK/payload"
T0=$(date +%s)
log() { echo "[system +$(( $(date +%s) - T0 ))s] $*"; }
skip() { log "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
missing=()
for package in debootstrap systemd-container; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1 || skip "cannot install ${missing[*]}"
fi

# ---------------------------------------------------------------- rootfs
ROOTFS=${MINIUPDATE_ROOTFS:-$WORK/rootfs}
if [ ! -e "$ROOTFS/.miniupdate-rootfs-ok" ]; then
    # Either sources format may be absent: a missing file is not an error here.
    mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^[[:space:]]*URIs:/{print $2}'
                cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                    awk '/^[[:space:]]*deb[[:space:]]/{for(i=2;i<=NF;i++) if($i ~ /^(https?|file):/){print $i; break}}'; } |
              awk '!/-security/ && /debian/ {print; exit}') || true
    [ -n "$mirror" ] || skip "no Debian mirror in /etc/apt/sources.list*"
    log "debootstrap bookworm from $mirror into $ROOTFS (about 3 minutes)"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,nginx-light,passwd,adduser,procps,iproute2,man-db \
        bookworm "$ROOTFS" "$mirror" >"$LOG/debootstrap.log" 2>&1 || { tail -5 "$LOG/debootstrap.log"; skip "debootstrap failed"; }
    touch "$ROOTFS/.miniupdate-rootfs-ok"
fi
# The package's dependencies, installed while the host's network is at hand: the
# container itself runs without a network.
depends=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/[[:space:]]//g' | grep -v '^$' | tr '\n' ' ')
log "installing the package's dependencies into the rootfs: $depends"
mount --bind /proc "$ROOTFS/proc" 2>/dev/null || true
chroot "$ROOTFS" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $depends >"$LOG/rootfs-deps.log" 2>&1 \
    || { umount "$ROOTFS/proc" 2>/dev/null; tail -5 "$LOG/rootfs-deps.log"; exit 1; }
umount "$ROOTFS/proc" 2>/dev/null || true

cp "$DEB" "$WORK/payload/miniupdate.deb"
cp "$HERE/inside.sh" "$WORK/payload/inside.sh"

# ---------------------------------------------------------------- boot
# Keep the container's cgroups out of the host's root cgroup.
cg_dirs() { if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "/sys/fs/cgroup/$1";
            else for h in unified systemd; do [ -d "/sys/fs/cgroup/$h" ] && echo "/sys/fs/cgroup/$h/$1"; done; fi; }
cg_enter() { local d; for d in $(cg_dirs "$1"); do mkdir -p "$d"; echo "$BASHPID" >"$d/cgroup.procs"; done; }
cg_cleanup() { local d; for d in $(cg_dirs "$1"); do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done; }
# The container's init: the first descendant that is PID 1 of its own pid namespace.
ns_init() { local queue=("$1") pid child
    while [ ${#queue[@]} -gt 0 ]; do pid=${queue[0]}; queue=("${queue[@]:1}")
        for child in $(ps -o pid= --ppid "$pid"); do
            awk '/^NSpid:/{exit !(NF>2 && $NF==1)}' "/proc/$child/status" 2>/dev/null && { echo "$child"; return 0; }
            queue+=("$child"); done; done; return 1; }
inside() { nsenter --target "$INIT" --all --root --wd "$@"; }
wait_pid() { local i; for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }

LAUNCHER="" INIT="" CGROUP=miniupdate-system-$$
cleanup() {
    set +e
    if [ -n "$LAUNCHER" ] && kill -0 "$LAUNCHER" 2>/dev/null; then
        [ -n "$INIT" ] && kill -KILL "$INIT" 2>/dev/null
        wait_pid "$LAUNCHER" 5 || kill -KILL "$LAUNCHER" 2>/dev/null
    fi
    cg_cleanup "$CGROUP"
    rm -f "/run/systemd/nspawn/locks/$(stat -c 'inode-%d:%i' "$ROOTFS" 2>/dev/null)"
    rmdir /run/systemd/nspawn/locks /run/systemd/nspawn/propagate/* /run/systemd/nspawn/propagate /run/systemd/nspawn 2>/dev/null
    [ -n "${MINIUPDATE_ROOTFS:-}" ] || rm -rf "$WORK/rootfs"
    rm -rf "$WORK/payload"
}
trap cleanup EXIT

log "booting systemd in systemd-nspawn"
( cg_enter "$CGROUP"
  exec systemd-nspawn --quiet --register=no --keep-unit --console=read-only --volatile=overlay --private-network \
       --machine="miniupdate-test-$$" --bind-ro="$WORK/payload:/payload" -D "$ROOTFS" -b ) </dev/null >"$LOG/console.log" 2>&1 &
LAUNCHER=$!
for ((i = 0; i < 300; i++)); do INIT=$(ns_init "$LAUNCHER") && break; sleep 0.1; done
[ -n "$INIT" ] || { tail -20 "$LOG/console.log"; skip "systemd-nspawn did not start a container here"; }
state=""
for ((i = 0; i < 600; i++)); do
    state=$(inside systemctl is-system-running 2>/dev/null) || true
    case $state in running|degraded) break;; esac
    sleep 0.1
done
log "container up ($state), init pid $INIT"

rc=0
inside /payload/inside.sh 2>&1 | tee "$LOG/inside.log" || rc=1
grep -q 'SYSTEM-RESULT: PASS' "$LOG/inside.log" || rc=1
inside systemctl poweroff >/dev/null 2>&1 || true
wait_pid "$LAUNCHER" 60 || rc=1
log "result: $([ $rc = 0 ] && echo PASS || echo FAIL) (logs in $LOG)"
exit $rc
