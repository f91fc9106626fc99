import { type EvidenceTransport, errorMessageOf, getEvidence } from './http.js';
import type { VerdictBuilder } from './verdict.js';

/** How to ask a service for its attestation report: the evidence transport and the service's Bearer key. */
export interface AttestationReportRequest extends EvidenceTransport {
  /** Sent as `authorization: Bearer …` (after `headers`), when given. */
  apiKey?: string | undefined;
}

/** The `authorization` header of a Bearer key, or no header without one. */
export function bearer(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * GETs the attestation report at `url` with the request's headers and Bearer key. When it cannot be had
 * (network failure, timeout, error status, oversized or non-UTF-8 body), records step `attestation-report` as
 * failed with `ERR_VERIFY_EVIDENCE_UNAVAILABLE` ("The <what> could not be fetched: <reason>."; evidence: the URL
 * path, the status and the server's error message) and returns `undefined`; otherwise returns the body text.
 * The one fetch-and-fail of the Chutes, Venice and vllm-proxy attestations.
 */
export async function fetchAttestationReport(
  builder: VerdictBuilder,
  url: URL,
  what: string,
  request: AttestationReportRequest,
): Promise<string | undefined> {
  const reply = await getEvidence(url.toString(), {
    ...request,
    headers: { ...request.headers, ...bearer(request.apiKey) },
  });
  if (reply.ok) return reply.text;
  const serverMessage = errorMessageOf(reply.text);
  builder.fail(
    'attestation-report',
    'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
    `The ${what} could not be fetched: ${reply.reason}.`,
    {
      url: url.pathname,
      status: reply.status ?? null,
      ...(serverMessage ? { serverMessage } : {}),
    },
  );
  return undefined;
}
