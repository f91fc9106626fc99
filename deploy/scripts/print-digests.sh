#!/usr/bin/env bash
# Prints the image ID (digest of the image configuration) and the manifest digest of each image, one line each:
#   <image>  id sha256:<...>  manifest sha256:<...>
# Two builds of the same commit print the same lines (deploy/test/reproducible.test.ts checks this).
# Usage: print-digests.sh [--json FILE] [image ...]     (default: every image deploy/scripts builds)
# shellcheck source=deploy/scripts/common.sh
source "$(dirname "$0")/common.sh"

json=''
if [ "${1:-}" = --json ]; then
  json=$2
  shift 2
fi
images=("$@")
if [ "${#images[@]}" -eq 0 ]; then
  images=("$node_base_image" "$services_base_image")
  for service in "${services[@]}"; do images+=("$(service_image "$service")"); done
fi

lines=()
for image in "${images[@]}"; do
  lines+=("$(podman image inspect --format "$image	sha256:{{.Id}}	{{.Digest}}" "$image")")
done
printf '%s\n' "${lines[@]}" | awk -F'\t' '{ printf "%-58s id %s  manifest %s\n", $1, $2, $3 }'
if [ -n "$json" ]; then
  # shellcheck disable=SC2016 # JavaScript, not shell
  printf '%s\n' "${lines[@]}" | node -e '
    const lines = require("node:fs").readFileSync(0, "utf8").trim().split("\n");
    const result = Object.fromEntries(lines.map((line) => { const [image, id, digest] = line.split("\t"); return [image, { id, digest }]; }));
    require("node:fs").writeFileSync(process.argv[1], `${JSON.stringify(result, null, 2)}\n`);' "$json"
fi
