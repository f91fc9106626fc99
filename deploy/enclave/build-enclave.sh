#!/usr/bin/env bash
# Builds the TEE gateway's enclave: the image from deploy/enclave/Dockerfile (reproducibly, with podman), then
# the EIF with `nitro-cli build-enclave`, and writes the measurements file in the reference's format:
#   <out>/measurements.txt   {"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": ..., "PCR1": ..., "PCR2": ...}}
#                            (nitro-cli's own JSON, reduced to its Measurements object, as `jq` prints it)
#   <out>/tee-gateway.eif    the enclave image file        <out>/image.txt   the image ID and manifest digest
# Runs on the Nitro-enabled EC2 host (needs podman, docker and nitro-cli; nitro-cli reads the image from the
# docker daemon). Anyone with the same inputs gets the same PCRs: see deploy/README.md, "Reproducing the PCRs".
# Usage: deploy/enclave/build-enclave.sh [--allow-dirty] [out-dir]      (default out-dir: deploy/enclave/out)
#        deploy/enclave/build-enclave.sh --measurements <nitro-cli.json>  (prints the measurements file of a
#                                                                          saved `nitro-cli build-enclave` output)
set -euo pipefail
umask 022

# nitro-cli's JSON reduced to {"Measurements": ...}; fails unless PCR0, PCR1 and PCR2 are 48-byte hex digests.
measurements_of() {
  local pcr
  for pcr in PCR0 PCR1 PCR2; do
    jq -e --arg pcr "$pcr" '.Measurements[$pcr] | type == "string" and test("^[0-9a-f]{96}$")' "$1" >/dev/null ||
      { echo "build-enclave: no valid $pcr in $1" >&2 && return 1; }
  done
  jq '{Measurements: .Measurements}' "$1"
}

if [ "${1:-}" = --measurements ]; then
  measurements_of "${2:?usage: build-enclave.sh --measurements <nitro-cli.json>}"
  exit
fi

repo_dir=$(cd "$(dirname "$0")/../.." && pwd)
allow_dirty=false
if [ "${1:-}" = --allow-dirty ]; then
  allow_dirty=true
  shift
fi
out_dir=${1:-$repo_dir/deploy/enclave/out}

for tool in git podman docker nitro-cli jq; do
  command -v "$tool" >/dev/null || { echo "build-enclave: $tool is required" >&2 && exit 1; }
done
cd "$repo_dir"
# Uncommitted or untracked files would enter the image (and the PCRs) without being in any commit.
if [ "$allow_dirty" = false ] && [ -n "$(git status --porcelain --untracked-files=normal)" ]; then
  echo "build-enclave: the checkout has changes; commit them (or pass --allow-dirty for a throwaway build)" >&2
  exit 1
fi

commit=$(git rev-parse HEAD)
image="localhost/confidential-ai/tee-gateway-enclave:${commit:0:12}"
mkdir -p "$out_dir"

secret=()
build_ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$build_ca" ]; then secret=(--secret "id=build-ca,src=$build_ca"); fi
podman build --timestamp 0 --identity-label=false "${secret[@]}" \
  --file deploy/enclave/Dockerfile --tag "$image" .
podman image inspect --format "$image id sha256:{{.Id}} manifest {{.Digest}} commit $commit" "$image" \
  | tee "$out_dir/image.txt"

# nitro-cli builds from the docker daemon's image store.
podman save --format docker-archive "$image" | docker load
nitro-cli build-enclave --docker-uri "$image" --output-file "$out_dir/tee-gateway.eif" >"$out_dir/build-enclave.json"
measurements_of "$out_dir/build-enclave.json" >"$out_dir/measurements.txt"
cat "$out_dir/measurements.txt"
