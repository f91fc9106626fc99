#!/usr/bin/env bash
# Runs the gateway's EIF on the Nitro-enabled EC2 host (the parent instance):
#   1. gvproxy (containers/gvisor-tap-vsock, the vsock bridge nitriding expects) forwards the public :443 to
#      nitriding in the enclave, and the host's 127.0.0.1:8000, loopback only, to the enclave's key relay (8001);
#   2. `nitro-cli run-enclave` with fixed resources (never --debug-mode: it zeroes the PCRs in attestations);
#      prints the running enclave's PCRs and compares them with measurements.txt next to the EIF, if present;
#   3. if the env file exists: waits for GET /health through the loopback forward (60 tries, 2 s apart), then
#      POSTs the provider keys once to /v1/keys. The values go from the file through jq to curl's standard
#      input: never on a command line, never in a log. The gateway accepts the first injection only.
# Stops the enclave and gvproxy when interrupted or when the enclave stops.
# Usage: run-enclave.sh <tee-gateway.eif> [env-file]       (default env-file: deploy/enclave/.env)
#        run-enclave.sh --check-env <env-file>            (prints the /v1/keys fields the file would set)
# Environment: CPU_COUNT (2), MEMORY_MIB (4096), ENCLAVE_CID (4), GVPROXY_SOCKET (/run/confidential-ai-gvproxy.sock)
set -euo pipefail

# The .env names (those of the reference's .env.example) and the /v1/keys fields they set.
keys_json() {
  jq -Rn '
    ([inputs | select(test("^[A-Z0-9_]+=")) | capture("^(?<name>[A-Z0-9_]+)=(?<value>.*)$")
      | {(.name): (.value | sub("^\"(?<v>.*)\"$"; "\(.v)"))}] | add) // {} | . as $env
    | {
        openai_api_key: $env.OPENAI_API_KEY, anthropic_api_key: $env.ANTHROPIC_API_KEY,
        google_api_key: $env.GOOGLE_API_KEY, xai_api_key: $env.XAI_API_KEY, bytedance_api_key: $env.ARK_API_KEY,
        nous_api_key: $env.NOUS_API_KEY, zai_api_key: $env.ZAI_API_KEY, openrouter_api_key: $env.OPENROUTER_API_KEY,
        facilitator_url: $env.FACILITATOR_URL, heartbeat_contract_address: $env.HEARTBEAT_CONTRACT_ADDRESS,
        tee_heartbeat_interval: $env.TEE_HEARTBEAT_INTERVAL, tee_heartbeat_buffer: $env.TEE_HEARTBEAT_BUFFER
      }
    | with_entries(select(.value != null and .value != ""))' <"$1"
}

if [ "${1:-}" = --check-env ]; then
  keys_json "${2:?usage: run-enclave.sh --check-env <env-file>}" | jq -r 'keys[]'
  exit 0
fi

eif=${1:?usage: run-enclave.sh <tee-gateway.eif> [env-file]}
env_file=${2:-$(dirname "$0")/.env}
cpu_count=${CPU_COUNT:-2}
memory_mib=${MEMORY_MIB:-4096}
enclave_cid=${ENCLAVE_CID:-4}
socket=${GVPROXY_SOCKET:-/run/confidential-ai-gvproxy.sock}
for tool in nitro-cli gvproxy curl jq; do
  command -v "$tool" >/dev/null || { echo "run-enclave: $tool is required" >&2 && exit 1; }
done

enclave_id=''
gvproxy_pid=''
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [ -n "$enclave_id" ]; then nitro-cli terminate-enclave --enclave-id "$enclave_id" >/dev/null || true; fi
  if [ -n "$gvproxy_pid" ]; then kill "$gvproxy_pid" 2>/dev/null || true; fi
  rm -f "$socket"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -f "$socket"
gvproxy -listen vsock://:1024 -listen "unix://$socket" &
gvproxy_pid=$!
for _ in $(seq 20); do
  if [ -S "$socket" ]; then break; fi
  sleep 0.5
done
[ -S "$socket" ] || { echo "run-enclave: gvproxy did not open $socket" >&2 && exit 1; }
expose() {
  curl -fsS --unix-socket "$socket" -X POST -d "$1" http://gvproxy/services/forwarder/expose >/dev/null
}
# 192.168.127.2 is nitriding's fixed address on the gvproxy network.
expose '{"local":":443","remote":"192.168.127.2:443"}'
expose '{"local":"127.0.0.1:8000","remote":"192.168.127.2:8001"}'

enclave_id=$(nitro-cli run-enclave --cpu-count "$cpu_count" --memory "$memory_mib" --enclave-cid "$enclave_cid" \
  --eif-path "$eif" | jq -r .EnclaveID)
running=$(nitro-cli describe-enclaves | jq --arg id "$enclave_id" '.[] | select(.EnclaveID == $id) | {Measurements: .Measurements}')
printf 'enclave %s\n%s\n' "$enclave_id" "$running"
expected="$(dirname "$eif")/measurements.txt"
if [ -f "$expected" ]; then
  if [ "$(jq -S . <<<"$running")" = "$(jq -S . "$expected")" ]; then
    echo "PCRs match $expected"
  else
    echo "run-enclave: the running enclave's PCRs differ from $expected" >&2
    exit 1
  fi
fi

if [ -f "$env_file" ]; then
  ready=false
  for _ in $(seq 60); do
    if curl -fsS -o /dev/null http://127.0.0.1:8000/health; then ready=true && break; fi
    sleep 2
  done
  [ "$ready" = true ] || { echo "run-enclave: /health did not answer; keys not injected" >&2 && exit 1; }
  keys_json "$env_file" |
    curl -fsS -X POST -H 'content-type: application/json' --data-binary @- http://127.0.0.1:8000/v1/keys |
    jq -c '{status, providers_initialized, heartbeat_enabled}'
else
  echo "no $env_file: inject the provider keys with POST http://127.0.0.1:8000/v1/keys (once)"
fi

echo "serving on :443 (nitriding TLS); stop with Ctrl-C"
while nitro-cli describe-enclaves | jq -e --arg id "$enclave_id" 'any(.[]; .EnclaveID == $id)' >/dev/null; do
  sleep 5
done
echo "the enclave stopped" >&2
enclave_id=''
exit 1
