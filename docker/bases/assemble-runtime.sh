#!/bin/sh
# Assembles the root filesystem of the distroless-like runtime base in ROOT (see
# node-runtime.Dockerfile): NODE at /nodejs/bin/node, every file of the Debian packages that
# own the libraries NODE links (ldd, then dpkg -S), with their copyright and dpkg status (so
# scanners see the packages), Debian's CA bundle, os-release, and users root, nonroot (65532)
# and nobody. Nothing executable besides the loader, the libraries and node.
set -eu
root="$1"
node="$2"
license="$3"

mkdir -p "$root/etc/ssl/certs" "$root/nodejs/bin" "$root/tmp" "$root/home/nonroot" \
  "$root/var/lib/dpkg/status.d" "$root/usr/lib" "$root/usr/lib64"
# Debian's merged /usr: the loader path the binary names (/lib64/ld-linux-x86-64.so.2) resolves.
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

copy_package() {
  pkg="$1"
  dpkg-query -L "$pkg" | while read -r f; do
    if [ -d "$f" ] && [ ! -L "$f" ]; then continue; fi
    case "$f" in
      /usr/share/doc/*/copyright) ;;
      # iconv modules: Node.js converts encodings with its own ICU.
      */gconv/*) continue ;;
      /usr/share/* | /etc/* | /usr/bin/* | /usr/sbin/* | /bin/* | /sbin/*) continue ;;
    esac
    if [ ! -e "$f" ] && [ ! -L "$f" ]; then continue; fi
    # Canonical /usr path: copying through /lib would replace the /lib -> usr/lib link.
    dir="$(readlink -f "$(dirname "$f")")"
    mkdir -p "$root$dir"
    cp -a "$dir/$(basename "$f")" "$root$dir/"
  done
  dpkg-query -s "$pkg" > "$root/var/lib/dpkg/status.d/$pkg"
}

packages="$(ldd "$node" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")"
done | cut -d: -f1 | sort -u)"
for pkg in $packages; do copy_package "$pkg"; done

# CA certificates: the generated bundle only (no update-ca-certificates, no openssl).
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
mkdir -p "$root/usr/share/doc/ca-certificates"
cp /usr/share/doc/ca-certificates/copyright "$root/usr/share/doc/ca-certificates/"
dpkg-query -s ca-certificates > "$root/var/lib/dpkg/status.d/ca-certificates"
cp /usr/lib/os-release "$root/etc/os-release"

install -m 0755 "$node" "$root/nodejs/bin/node"
install -m 0644 "$license" "$root/nodejs/LICENSE"

printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\nnobody:x:65534:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"
chown 65532:65532 "$root/home/nonroot"
chmod 0700 "$root/home/nonroot"

echo "runtime root filesystem: node, $(echo $packages | wc -w) packages ($(echo $packages)), CA bundle, users root/nonroot/nobody"
