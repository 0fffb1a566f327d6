#!/usr/bin/env bash
# Downloads (apt-get download, nothing is installed) the Debian packages that
# n4d needs to build and run on a machine without the system -dev packages,
# e.g. a GPU machine that cannot download anything, into .gpukit/
# (ignored by git). scripts/gpu-check.sh unpacks them there into a private
# prefix (dpkg -x) and builds against them. See bench/README-gpu.md.
#
#   ./scripts/gpu-kit.sh            run here (Debian 12, amd64, with network)
#
# The kit: -dev and runtime packages of HDF5 (serial), jansson, cmocka and
# zlib, pkg-config (pkgconf), and every shared library they need at run time
# beyond glibc and the compiler's own runtime (libhdf5 pulls libcurl, libsz,
# OpenSSL, GnuTLS, Kerberos, LDAP, ...). The script checks that closure on
# the unpacked files (readelf NEEDED) and fails when a library is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
KIT=.gpukit

# build: headers, link-time .so symlinks, .pc files, pkg-config
DEV=(libhdf5-dev libjansson-dev libcmocka-dev zlib1g-dev libaec-dev pkgconf pkgconf-bin)
# run time: the libraries above and everything they load (ldd of libn4d.so
# and the test programs on Debian 12), glibc excepted
RUNTIME=(libhdf5-103-1 libhdf5-hl-100 libjansson4 libcmocka0 zlib1g libaec0 libsz2 libpkgconf3
         libcurl4 libssl3 libnghttp2-14 libidn2-0 librtmp1 libssh2-1 libpsl5
         libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2
         libldap-2.5-0 libsasl2-2 libzstd1 libbrotli1 libunistring2 libgnutls30 libhogweed6
         libnettle8 libgmp10 libp11-kit0 libtasn1-6 libffi8)
# sonames the target provides itself: glibc and the compiler's runtime
BASE_SONAMES='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libnsl|ld-linux-x86-64|libgcc_s|libstdc\+\+|libgomp|libatomic)\.so'

die() { echo "gpu-kit: error: $*" >&2; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found (this script runs on Debian 12)"
arch=$(dpkg --print-architecture)
[[ "$arch" == amd64 ]] || die "the kit is for amd64 (x86-64) machines; this one is $arch"
if [[ -r /etc/os-release ]] && ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
    echo "gpu-kit: warning: not Debian 12 (bookworm): the packages may need a newer glibc" >&2
fi

apt_opts=()
if [[ $(id -u) -eq 0 ]]; then
    apt_opts=(-o APT::Sandbox::User=root) # root downloading into a folder _apt cannot write
fi

download() {
    (cd "$KIT" && apt-get "${apt_opts[@]}" download "${DEV[@]}" "${RUNTIME[@]}")
}

rm -rf "$KIT"
mkdir -p "$KIT"
echo "gpu-kit: downloading ${#DEV[@]} + ${#RUNTIME[@]} packages into $KIT/"
if ! download >"$KIT/download.log" 2>&1; then
    echo "gpu-kit: apt-get download failed (stale package lists?); running apt-get update" >&2
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update >>"$KIT/download.log" 2>&1 || true
    elif command -v sudo >/dev/null; then
        sudo apt-get update >>"$KIT/download.log" 2>&1 || true
    fi
    rm -f "$KIT"/*.deb
    download >>"$KIT/download.log" 2>&1 || { tail -20 "$KIT/download.log" >&2; die "apt-get download failed"; }
fi
rm -f "$KIT/download.log"

# ---- check: every library in the kit finds its dependencies in the kit ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$KIT"/*.deb; do
    dpkg-deb -x "$f" "$tmp"
done
declare -A have=()
while IFS= read -r -d '' f; do
    have[$(basename "$f")]=1
done < <(find "$tmp" \( -type f -o -type l \) -name 'lib*.so*' -print0)
missing=()
checked=0
while IFS= read -r -d '' f; do
    [[ -L "$f" ]] && continue
    head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
    checked=$((checked + 1))
    while read -r so; do
        [[ -n "${have[$so]:-}" ]] && continue
        [[ "$so" =~ $BASE_SONAMES ]] && continue
        missing+=("$so (needed by ${f#"$tmp"})")
    done < <(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$tmp/usr/lib" "$tmp/lib" "$tmp/usr/bin" -type f \( -name '*.so*' -o -perm -u+x \) -print0 2>/dev/null)
if [[ ${#missing[@]} -gt 0 ]]; then
    printf '  %s\n' "${missing[@]}" | sort -u >&2
    die "the kit lacks the libraries above: add their packages (dpkg -S SONAME) to RUNTIME"
fi
for h in hdf5/serial/hdf5.h jansson.h cmocka.h zlib.h; do
    [[ -e "$tmp/usr/include/$h" ]] || die "header $h missing from the kit"
done
for l in lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so lib/x86_64-linux-gnu/libjansson.so \
         lib/x86_64-linux-gnu/libcmocka.so lib/x86_64-linux-gnu/pkgconfig/jansson.pc \
         lib/x86_64-linux-gnu/pkgconfig/cmocka.pc bin/pkgconf; do
    [[ -e "$tmp/usr/$l" || -L "$tmp/usr/$l" ]] || die "$l missing from the kit"
done

# ---- manifest and size -----------------------------------------------------
for f in "$KIT"/*.deb; do
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$f"
done >"$KIT/MANIFEST"
n=$(ls "$KIT"/*.deb | wc -l)
bytes=$(cat "$KIT"/*.deb | wc -c)
echo "gpu-kit: $n packages, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }') in $KIT/ (list: $KIT/MANIFEST); dependencies of $checked ELF files checked"
echo "gpu-kit: next, on the GPU machine (copy .gpukit along): scripts/gpu-check.sh  (bench/README-gpu.md)"
