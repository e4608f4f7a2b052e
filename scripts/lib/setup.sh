# Shared by scripts/demo and scripts/test: finds the Swift toolchain and installs the
# Debian packages the build and the tests need, saying which and why. Sourced, not run.
#
# Where it cannot install (not root, no sudo, or sudo would ask for a password with no
# terminal to ask on), it stops at once with the exact command to run.

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Swift toolchain: on PATH, or where the Swift project's Debian images put it.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$dir/swift" ] && export PATH="$dir:$PATH" && break
        done
    fi
    command -v swift >/dev/null 2>&1 \
        || die "no Swift toolchain found: install Swift 6 from https://www.swift.org/install/linux/ and put its usr/bin on PATH"
}

# ensure_packages WHY PACKAGE...: installs the packages that are missing.
ensure_packages() {
    local why=$1 missing=() package
    shift
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: make sure these are installed ($why): $*"
        return 0
    fi
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    local command=(apt-get install -y --no-install-recommends "${missing[@]}")
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            die "missing ${missing[*]} ($why), and this user cannot install them: as root, run
    apt-get update && ${command[*]}"
        fi
        # With no terminal, sudo must not wait for a password nobody can type.
        if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    say "installing ${missing[*]}: $why"
    # A fresh machine may have empty package lists: update them when a package is unknown.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 \
            || die "apt-get update failed; run
    ${sudo[*]:+sudo }apt-get update && ${sudo[*]:+sudo }${command[*]}"
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${command[@]}" >&2 \
        || die "could not install ${missing[*]}; run
    ${sudo[*]:+sudo }apt-get update && ${sudo[*]:+sudo }${command[*]}"
}

# What building needs, whatever is run afterwards.
ensure_build_dependencies() {
    ensure_swift
    ensure_packages "the headers of libarchive (the package format) and libsystemd (sd_notify, socket activation, the journal), and pkg-config, through which SwiftPM finds both" \
        libarchive-dev libsystemd-dev pkg-config
}
