#!/bin/sh
# The build stage shared by every service image (deploy/images/<service>/Dockerfile), run from a copy of the
# repository: installs the lockfile-pinned pnpm (deploy/base/package-lock.json), installs the workspace from
# pnpm-lock.yaml (frozen), builds <package> and its workspace dependencies (JavaScript only), and writes a
# production-only `pnpm deploy` of <package> to /app. Files for the image root go to /rootfs.
# Nothing here may depend on the time or the machine: the image layers are compared byte for byte.
# Usage: build-package.sh <package>        (e.g. @confidential-ai/proxy-server)
set -eu
package=$1
export CI=true npm_config_store_dir=/var/cache/pnpm/store
# A machine whose egress goes through a TLS-inspecting proxy passes its CA bundle as the build secret
# "build-ca" (deploy/scripts do when NODE_EXTRA_CA_CERTS is set); it never reaches an image layer.
if [ -f /run/secrets/build-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build-ca; fi
pnpm() { node /opt/pnpm/bin/pnpm.cjs "$@"; }

node deploy/base/install-pinned.mjs pnpm /opt/pnpm
pnpm install --frozen-lockfile --filter="$package..."
BUILD_DECLARATIONS=false pnpm --filter="$package..." run build
pnpm --filter="$package" deploy --prod --legacy /app
# pnpm's install-state file records when it last pruned: the one date in the output.
rm -f /app/node_modules/.modules.yaml
install -D -m 0644 deploy/images/healthcheck.mjs /rootfs/usr/local/lib/confidential-ai/healthcheck.mjs
# The checkout's umask must not leak into the image.
chmod -R u=rwX,go=rX /app /rootfs
