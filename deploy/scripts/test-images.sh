#!/usr/bin/env bash
# `npm run test:images` (and its own step of .ci/run, after `npm test`): installs the container tools when
# absent, builds every image (build-images.sh), runs deploy/test (the images, the compose stack, the static
# checks, then a second, clean build whose image IDs must equal the first), prints the digests and the times,
# and leaves nothing running: every container, pod and network the tests start carries the "ca-test-" prefix
# and is removed here as well, whatever happened.
# shellcheck source=deploy/scripts/common.sh
source "$(dirname "$0")/common.sh"

work=$(mktemp -d /var/tmp/confidential-ai-test-images.XXXXXX)
# shellcheck disable=SC2317 # run by the EXIT trap
remove_test_leftovers() {
  local containers networks
  containers=$(podman ps -aq --filter name=ca-test- 2>/dev/null || true)
  if [ -n "$containers" ]; then
    # shellcheck disable=SC2086 # one ID per word
    podman rm -f -t 0 $containers >/dev/null 2>&1 || true
  fi
  networks=$(podman network ls --format '{{.Name}}' 2>/dev/null | grep '^ca-test-' || true)
  if [ -n "$networks" ]; then
    # shellcheck disable=SC2086 # one name per word
    podman network rm -f $networks >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap remove_test_leftovers EXIT

started=$SECONDS
ensure_tools
# The tests' own dependencies (openai, the E2EE client code): the workspace install and the build of the packages
# they import (turbo's cache: after `npm test`, as in CI, nothing is rebuilt).
(cd "$repo_dir" && node scripts/pnpm.mjs install --frozen-lockfile >/dev/null &&
  node scripts/pnpm.mjs exec turbo run build --filter=@confidential-ai/deploy... >/dev/null)
tools_seconds=$((SECONDS - started))

started=$SECONDS
"$deploy_dir/scripts/build-images.sh" --json "$work/first-build.json" >"$work/first-build.txt"
build_seconds=$((SECONDS - started))

started=$SECONDS
status=0
(cd "$repo_dir" && IMAGES_FIRST_BUILD="$work/first-build.json" IMAGES_SECOND_BUILD="$work/second-build.json" \
  node scripts/pnpm.mjs --filter @confidential-ai/deploy run test:images) || status=1
test_seconds=$((SECONDS - started))

echo
echo "Image digests (first build):"
cat "$work/first-build.txt"
if [ -f "$work/second-build.json" ]; then echo "(the clean second build gave the same IDs and digests: reproducible.test.ts)"; fi
echo "times: tools and workspace ${tools_seconds} s, first build ${build_seconds} s, tests (stack, static, clean rebuild) ${test_seconds} s"
exit "$status"
