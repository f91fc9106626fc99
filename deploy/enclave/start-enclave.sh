#!/bin/sh
# The enclave's entry point (part of the measured image; takes no input from outside the enclave).
# 1. nitriding: TLS on 443 with a certificate for "localhost" (its hash is in the attestation document), the
#    attestation document at /enclave/attestation, every other path proxied to the gateway on 127.0.0.1:8000;
#    the enclave-internal API on 127.0.0.1:8080, where the gateway registers the hash of its signing key.
#    -wait-for-app: nothing is served publicly before the gateway says it is ready.
# 2. The key-injection relay: the host forwards its own 127.0.0.1:8000 (and nothing public) to port 8001 here,
#    and the relay hands each connection to the gateway from 127.0.0.1. POST /v1/keys accepts only loopback
#    peers without forwarding headers, so the public path through nitriding (which adds X-Forwarded-For) is
#    refused and the host's loopback is the one way in, as in the reference.
# 3. The gateway, unprivileged, in the foreground.
set -eu
nitriding -fqdn localhost -appwebsrv http://127.0.0.1:8000 -ext-pub-port 443 -intport 8080 -wait-for-app &
node /usr/local/lib/confidential-ai/loopback-relay.mjs 8001 8000 &
exec setpriv --reuid=node --regid=node --init-groups \
  node /app/node_modules/@confidential-ai/tee-gateway/bin/tee-gateway.js --host 127.0.0.1 --port 8000 --register-with-nitriding
