#!/usr/bin/env bash
# Builds every image reproducibly with podman and prints their IDs and manifest digests: the two local bases
# (build-base.sh), then deploy/images/<service>/Dockerfile for each service on the local Node base.
# Reproducible: --timestamp 0 (image dates and every file's mtime), --identity-label=false (no buildah version
# label), one tag per base, no build step that writes the time. The same commit gives the same image IDs.
# Usage: build-images.sh [--clean] [--json FILE]
#   (default)    builds a base only when it is missing, and uses the layer cache
#   --clean      a clean build: the Node base anew from debootstrap, and the first service image without the
#                layer cache, so the build stage all images share is made anew; the others reuse what this run
#                made (their build stage is the same instructions on the same context). The haproxy/redis base
#                of the test stack, which no shipped image uses, is built only when missing.
#   --json FILE  also write {"<image>": {"id": ..., "digest": ...}} to FILE
# shellcheck source=deploy/scripts/common.sh
source "$(dirname "$0")/common.sh"

no_cache=() clean=false json=''
while [ $# -gt 0 ]; do
  case $1 in
  --clean) no_cache=(--no-cache) clean=true ;;
  --json) json=$2 && shift ;;
  *) echo "usage: $0 [--clean] [--json FILE]" >&2 && exit 2 ;;
  esac
  shift
done

# The build stage trusts this machine's CA bundle too (needed behind a TLS-inspecting egress proxy). It is a
# build secret: it never enters a layer, so it changes no image ID.
secret=()
build_ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$build_ca" ]; then secret=(--secret "id=build-ca,src=$build_ca"); fi

started=$SECONDS
bases=()
if [ "$clean" = true ] || ! podman image exists "$node_base_image"; then bases+=(node); fi
if ! podman image exists "$services_base_image"; then bases+=(services); fi
if [ "${#bases[@]}" -gt 0 ]; then "$deploy_dir/scripts/build-base.sh" "${bases[@]}" >/dev/null; fi
log "bases ready in $((SECONDS - started)) s"

for service in "${services[@]}"; do
  started=$SECONDS
  podman build --quiet --timestamp 0 --identity-label=false "${no_cache[@]}" "${secret[@]}" \
    --build-arg "BASE=$node_base_image" \
    --file "$deploy_dir/images/$service/Dockerfile" --tag "$(service_image "$service")" "$repo_dir" >/dev/null
  log "$service built in $((SECONDS - started)) s"
  no_cache=()
done

images=("$node_base_image" "$services_base_image")
for service in "${services[@]}"; do images+=("$(service_image "$service")"); done
"$deploy_dir/scripts/print-digests.sh" ${json:+--json "$json"} "${images[@]}"
