#!/bin/sh
# The build stage shared by every service image (deploy/images/<service>/Dockerfile), run from a copy of the
# repository. The three Dockerfiles run this same step on the same context, so it is built once and its layer is
# shared (build-images.sh builds the first image, the others take the step from the layer cache). It installs
# the lockfile-pinned pnpm (deploy/base/package-lock.json), installs the part of the workspace the services need
# from pnpm-lock.yaml (frozen), builds it (JavaScript only), and writes for each service:
#   /out/<service>/app      a production-only `pnpm deploy` of its package: its own dependency closure, nothing else
#   /out/<service>/rootfs   its files for the image root (the health check, its configuration file)
# service              package                          configuration
# confidential-proxy   @confidential-ai/proxy-server    /etc/confidential-proxy/config.toml
# tee-gateway          @confidential-ai/tee-gateway     /etc/tee-gateway/config.toml
#                      (through deploy/images/tee-gateway/package.json, which adds its optional x402 peers)
# venice-e2ee-proxy    @confidential-ai/venice-proxy    /etc/venice-e2ee-proxy/config.toml (the package's default.toml)
# Nothing here may depend on the time or the machine: the image layers are compared byte for byte.
set -eu
export CI=true npm_config_store_dir=/var/cache/pnpm/store
# A machine whose egress goes through a TLS-inspecting proxy passes its CA bundle as the build secret
# "build-ca" (deploy/scripts do when NODE_EXTRA_CA_CERTS is set); it never reaches an image layer.
if [ -f /run/secrets/build-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build-ca; fi
pnpm() { node /opt/pnpm/bin/pnpm.cjs "$@"; }

# The composed server depends on the two other service packages: its closure is every package built here.
node deploy/base/install-pinned.mjs pnpm /opt/pnpm
pnpm install --frozen-lockfile --filter='@confidential-ai/proxy-server...' --filter='@confidential-ai/tee-gateway-image...'
BUILD_DECLARATIONS=false pnpm --filter='@confidential-ai/proxy-server...' run build

platform=$(node -p 'process.platform + "-" + process.arch')

# Usage: deploy_service <service> <package> <configuration source> <configuration path in the image>
deploy_service() {
  pnpm --filter="$2" deploy --prod --legacy "/out/$1/app"
  # pnpm's install-state file records when it last pruned: the one date in the output.
  rm -f "/out/$1/app/node_modules/.modules.yaml"
  # Native addons (venice-e2ee's optional secp256k1 and sodium-native) carry prebuilds for every platform: keep
  # this image's (e.g. linux-x64), about 20 MB less.
  find "/out/$1/app/node_modules/.pnpm" -path '*/node_modules/*/prebuilds/*' -prune -type d \
    ! -name "$platform" -exec rm -rf {} +
  install -D -m 0644 deploy/images/healthcheck.mjs "/out/$1/rootfs/usr/local/lib/confidential-ai/healthcheck.mjs"
  install -D -m 0644 "$3" "/out/$1/rootfs$4"
}
deploy_service confidential-proxy @confidential-ai/proxy-server \
  deploy/images/confidential-proxy/config.toml /etc/confidential-proxy/config.toml
deploy_service tee-gateway @confidential-ai/tee-gateway-image \
  deploy/images/tee-gateway/config.toml /etc/tee-gateway/config.toml
deploy_service venice-e2ee-proxy @confidential-ai/venice-proxy \
  packages/venice-proxy/config/default.toml /etc/venice-e2ee-proxy/config.toml
# The checkout's umask must not leak into the image.
chmod -R u=rwX,go=rX /out
