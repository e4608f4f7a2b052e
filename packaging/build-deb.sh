#!/usr/bin/env bash
# Builds miniupdate_<version>_<arch>.deb with dpkg-deb: the three commands in release mode
# with the Swift runtime linked statically (the package needs no Swift toolchain), the
# systemd units and sysusers entry, the default configuration as a conffile, man pages,
# bash/zsh/fish completions and the documentation.
#
# Usage: packaging/build-deb.sh [OUTPUT_DIR]      (default: the current directory)
# Needs: swift, dpkg-dev (dpkg-shlibdeps), binutils; lintian is run when installed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$PWD}" && cd "${1:-$PWD}" && pwd)
# The version is written once, in Swift (every command's --version reads it); the
# changelog's newest entry and the man pages must say the same.
VERSION=$(sed -n 's/^ *public static let version = "\([^"]*\)".*/\1/p' "$ROOT/Sources/MiniupdateCore/Release.swift")
CHANGELOG_VERSION=$(sed -n '1s/^miniupdate (\([^)]*\)).*/\1/p' "$ROOT/packaging/debian/changelog")
[ -n "$VERSION" ] || { echo "error: no version in Sources/MiniupdateCore/Release.swift" >&2; exit 1; }
if [ "$VERSION" != "$CHANGELOG_VERSION" ]; then
    echo "error: Sources/MiniupdateCore/Release.swift says $VERSION, packaging/debian/changelog's newest entry $CHANGELOG_VERSION; add a changelog entry" >&2
    exit 1
fi
ARCH=$(dpkg --print-architecture)
SCRATCH=${MINIUPDATE_RELEASE_BUILD_DIR:-$ROOT/.build-release}
PACKAGE="$OUT/miniupdate_${VERSION}_${ARCH}.deb"

echo "==> building release binaries (static Swift runtime) in $SCRATCH"
# Full RELRO and immediate binding, as Debian's hardening flags ask.
BUILD=(swift build --package-path "$ROOT" -c release --static-swift-stdlib --scratch-path "$SCRATCH"
       -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
for product in miniupdated miniupdatectl miniupdate-repo; do
    "${BUILD[@]}" --product "$product"
done
BIN=$("${BUILD[@]}" --show-bin-path)
# The daemon's running functions are linked side by side from a list that goes stale as
# the code changes (Package.swift): say how much of it this build still has.
ORDER="$ROOT/Sources/miniupdated/symbol-order.txt"
LISTED=$(grep -vc '^#' "$ORDER")
FOUND=$(nm --defined-only "$BIN/miniupdated" | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u \
    | LC_ALL=C comm -12 - <(grep -v '^#' "$ORDER") | wc -l)
echo "==> symbol order: $FOUND of $LISTED listed functions are in miniupdated (Benchmarks/symbol-order.sh rewrites the list)"

STAGE=$(mktemp -d)
WORK=$(mktemp -d)
trap 'rm -rf "$STAGE" "$WORK"' EXIT
umask 022
chmod 755 "$STAGE"

echo "==> staging the package tree"
install -D -m755 "$BIN/miniupdated" "$STAGE/usr/sbin/miniupdated"
install -D -m755 "$BIN/miniupdatectl" "$STAGE/usr/bin/miniupdatectl"
install -D -m755 "$BIN/miniupdate-repo" "$STAGE/usr/bin/miniupdate-repo"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/sbin/miniupdated" "$STAGE/usr/bin/miniupdatectl" "$STAGE/usr/bin/miniupdate-repo"

for unit in miniupdated.service miniupdated.socket miniupdate-refresh.service miniupdate-refresh.timer; do
    install -D -m644 "$ROOT/systemd/$unit" "$STAGE/lib/systemd/system/$unit"
done
install -D -m644 "$ROOT/systemd/miniupdate.sysusers" "$STAGE/usr/lib/sysusers.d/miniupdate.conf"
install -D -m644 "$ROOT/packaging/miniupdate.conf" "$STAGE/etc/miniupdate/miniupdate.conf"
install -d -m755 "$STAGE/etc/miniupdate/keys"

install -D -m644 "$ROOT/packaging/man/miniupdated.8" "$STAGE/usr/share/man/man8/miniupdated.8"
install -D -m644 "$ROOT/packaging/man/miniupdatectl.1" "$STAGE/usr/share/man/man1/miniupdatectl.1"
install -D -m644 "$ROOT/packaging/man/miniupdate-repo.1" "$STAGE/usr/share/man/man1/miniupdate-repo.1"
# The header's "miniupdate X.Y.Z" is this build's version.
sed -i "1s/\"miniupdate [^\"]*\"/\"miniupdate $VERSION\"/" "$STAGE"/usr/share/man/man*/*
gzip -9n "$STAGE"/usr/share/man/man*/*

for command in miniupdated miniupdatectl miniupdate-repo; do
    executable=$(find "$STAGE" -name "$command" -type f | head -1)
    install -d "$STAGE/usr/share/bash-completion/completions" "$STAGE/usr/share/zsh/vendor-completions" "$STAGE/usr/share/fish/vendor_completions.d"
    # Completion scripts are sourced, not run: no #! line.
    "$executable" --generate-completion-script bash | sed '1{/^#!/d}' >"$STAGE/usr/share/bash-completion/completions/$command"
    "$executable" --generate-completion-script zsh >"$STAGE/usr/share/zsh/vendor-completions/_$command"
    "$executable" --generate-completion-script fish >"$STAGE/usr/share/fish/vendor_completions.d/$command.fish"
done
chmod 644 "$STAGE"/usr/share/bash-completion/completions/* "$STAGE"/usr/share/zsh/vendor-completions/* "$STAGE"/usr/share/fish/vendor_completions.d/*

DOC="$STAGE/usr/share/doc/miniupdate"
install -D -m644 "$ROOT/packaging/debian/copyright" "$DOC/copyright"
# A native package (no Debian revision): the changelog is changelog.gz.
gzip -9n -c "$ROOT/packaging/debian/changelog" >"$DOC/changelog.gz"
install -m644 "$ROOT/README.md" "$ROOT"/docs/*.md "$DOC/"
chmod 644 "$DOC/changelog.gz"
install -D -m644 "$ROOT/packaging/debian/lintian-overrides" "$STAGE/usr/share/lintian/overrides/miniupdate"

echo "==> computing dependencies"
mkdir -p "$WORK/debian"
printf 'Source: miniupdate\n\nPackage: miniupdate\nArchitecture: any\n' >"$WORK/debian/control"
DEPENDS=$(cd "$WORK" && dpkg-shlibdeps -O -e"$STAGE/usr/sbin/miniupdated" -e"$STAGE/usr/bin/miniupdatectl" -e"$STAGE/usr/bin/miniupdate-repo" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
# dpkg-shlibdeps reads the symbols a binary imports, not a version it needs without one:
# miniupdated's packed relocations (DT_RELR, see Package.swift) need glibc 2.36.
if readelf -VW "$STAGE/usr/sbin/miniupdated" | grep -q GLIBC_ABI_DT_RELR; then
    DEPENDS=$(sed -E 's/libc6 \(>= [^)]*\)/libc6 (>= 2.36)/' <<<"$DEPENDS")
fi

install -d -m755 "$STAGE/DEBIAN"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: miniupdate
Version: $VERSION
Architecture: $ARCH
Maintainer: miniupdate developers <dev@miniupdate.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $DEPENDS, systemd (>= 249)
Section: admin
Priority: optional
Homepage: https://github.com/miniupdate/miniupdate
Description: update daemon for installed mini apps
 miniupdate checks a signed, static repository for new versions of every
 installed mini app, downloads and verifies them in the background, and
 stages them on disk so that applying an update is one atomic rename.
 .
 Mini app processes subscribe over a Unix socket to onCheckForUpdate,
 onUpdateReady and onUpdateFailed, and call applyUpdate. Admins use
 systemctl, journalctl and miniupdatectl; publishers make repositories
 with miniupdate-repo and serve them from any web server or CDN.
CONTROL
echo /etc/miniupdate/miniupdate.conf >"$STAGE/DEBIAN/conffiles"
install -m755 "$ROOT/packaging/debian/postinst" "$ROOT/packaging/debian/prerm" "$ROOT/packaging/debian/postrm" "$STAGE/DEBIAN/"
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/md5sums"

dpkg-deb --build --root-owner-group -Zxz "$STAGE" "$PACKAGE" >/dev/null
echo "==> built $PACKAGE ($(du -h "$PACKAGE" | cut -f1))"
if command -v lintian >/dev/null 2>&1; then
    echo "==> lintian"
    lintian --info "$PACKAGE" || true
fi
