#!/usr/bin/env bash
# deb_install_test.sh BUILD_DIR CPACK VERSION
# cpack -G DEB, then for each package: unpack into a fresh root, check its files and metadata, and run
# every program it ships with --version from that root. Fails on the first problem, saying which.
set -euo pipefail
build=$1 cpack=$2 version=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || {
    cat "$work/cpack.log"; echo "FAIL: cpack -G DEB failed"; exit 1; }

declare -A programs=(
    [raven-contributor]="raven-contributor"
    [raven-console]="raven-console"
    [raven-server]="raven-coordinator raven-worker raven"
)
for pkg in "${!programs[@]}"; do
    deb=$(ls "$work/out/${pkg}_${version}"_*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || { ls "$work/out"; echo "FAIL: no package $pkg"; exit 1; }
    depends=$(dpkg-deb -f "$deb" Depends)
    case "$depends" in *libqt6core6*) ;; *) echo "FAIL: $pkg Depends lacks Qt (shlibdeps did not run): '$depends'"; exit 1;; esac
    root="$work/root-$pkg"
    dpkg-deb -x "$deb" "$root"
    for prog in ${programs[$pkg]}; do
        bin="$root/usr/bin/$prog"
        [ -x "$bin" ] || { echo "FAIL: $pkg lacks /usr/bin/$prog"; exit 1; }
        out=$(QT_QPA_PLATFORM=offscreen "$bin" --version 2>/dev/null) || { echo "FAIL: $prog --version: $out"; exit 1; }
        case "$out" in *"$version"*) ;; *) echo "FAIL: $prog --version printed '$out', not $version"; exit 1;; esac
        echo "ok: $pkg: $prog --version -> $out"
    done
done

# Desktop integration of the GUI packages.
for pair in raven-contributor:org.raven.Contributor raven-console:org.raven.Console; do
    pkg=${pair%%:*} id=${pair#*:}
    root="$work/root-$pkg"
    desktop="$root/usr/share/applications/$id.desktop"
    [ -f "$desktop" ] || { echo "FAIL: $pkg lacks $id.desktop"; exit 1; }
    desktop-file-validate "$desktop"
    icon=$(sed -n 's/^Icon=//p' "$desktop")
    [ -f "$root/usr/share/icons/hicolor/scalable/apps/$icon.svg" ] || { echo "FAIL: $pkg lacks icon $icon"; exit 1; }
    appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/$id.metainfo.xml" >"$work/as.log" 2>&1 || {
        cat "$work/as.log"; echo "FAIL: AppStream metadata of $pkg"; exit 1; }
    echo "ok: $pkg: desktop file, icon and AppStream metadata"
done
for unit in raven-coordinator raven-worker; do
    [ -f "$work/root-raven-server/usr/lib/systemd/system/$unit.service" ] || { echo "FAIL: raven-server lacks $unit.service"; exit 1; }
done
echo "PASS"
