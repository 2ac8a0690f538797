#!/usr/bin/env bash
# Runs the README's quick start in a clean Debian 12 (bookworm) made with
# debootstrap, as a new user would on a fresh machine: a clone of this
# repository's HEAD (without ../shared), `make deps demo`, then `make check`.
# Needs root and debootstrap (apt-get install debootstrap); takes a while.
#
#   tests/fresh-debian.sh [DIR]    (DIR: where the chroot goes; default a
#                                   new directory under /var/tmp, kept after)
# Environment: MIRROR (default http://deb.debian.org/debian), BASE (an
# existing minbase chroot to copy instead of running debootstrap again).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d /var/tmp/nk-fresh.XXXXXX)}
mirror=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "fresh-debian: run as root (chroot)" >&2; exit 2; }
if [ -n "${BASE:-}" ]; then
    cp -a "$BASE/." "$dir/"
else
    debootstrap --variant=minbase bookworm "$dir" "$mirror"
fi
cp /etc/resolv.conf "$dir/etc/resolv.conf"
git clone -q "$src" "$dir/root/notation-keystore"

mount -t proc proc "$dir/proc"
mount --rbind /dev "$dir/dev"
mount -t sysfs sys "$dir/sys"
mount -t tmpfs tmp "$dir/tmp"
trap 'umount -R "$dir/dev" "$dir/proc" "$dir/sys" "$dir/tmp" 2>/dev/null || umount -l "$dir/dev"' EXIT

# minbase has neither make nor git: the README says to install them first.
chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c '
    set -e
    apt-get update -qq
    apt-get install -y -qq make git >/dev/null
    cd /root/notation-keystore
    make deps demo
    make check'
