import {
  constants,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { base64ToBytes, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  canonicalJson,
  computeTeeId,
  createOpenGradientSigner,
  exportPublicKeyPem,
  exportSpki,
  heartbeatMessageHash,
  importRsaPrivateKey,
  importRsaPublicKey,
  parsePythonJson,
  responseContentForHash,
  signTeeMessageHash,
  teeSignatureHeaders,
  verifyResponse,
  verifyTeeMessageHashSignature,
} from '../src/index.js';
import { codeOf, loadVector } from './helpers.js';

interface PythonCase {
  name: string;
  endpoint: 'chat' | 'completions';
  requestText: string;
  canonical: string;
  responseText: string;
  outputContent: string;
  msgHash: string;
}
interface PythonVectors {
  publicKeyPem: string;
  publicKeyPemPkcs1: string;
  privateKeyPem: string;
  privateKeyPemPkcs1: string;
  spkiHex: string;
  teeId: string;
  cases: PythonCase[];
  heartbeat: { timestamp: number; msgHash: string; signature: string };
}
const py = loadVector<PythonVectors>('opengradient-responses.json');

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

describe('responses signed by CPython + pyca/cryptography', () => {
  it('tee_id and SPKI match the Python key for every key format', async () => {
    expect(bytesToHex(await exportSpki(py.publicKeyPem))).toBe(py.spkiHex);
    expect(await computeTeeId(py.publicKeyPem)).toBe(py.teeId);
    expect(await computeTeeId(py.publicKeyPemPkcs1)).toBe(py.teeId);
    expect(await computeTeeId(py.privateKeyPem)).toBe(py.teeId);
    expect(await computeTeeId(py.privateKeyPemPkcs1)).toBe(py.teeId);
    expect(await computeTeeId(hexToBytes(py.spkiHex))).toBe(py.teeId);
    const jwk = createPublicKey(py.publicKeyPem).export({ format: 'jwk' });
    expect(await computeTeeId(jwk as JsonWebKey)).toBe(py.teeId);
    expect(await exportPublicKeyPem(py.publicKeyPemPkcs1)).toBe(py.publicKeyPem);
  });

  for (const vector of py.cases) {
    it(`${vector.name}: canonical request, output content and signature verify`, async () => {
      const canonical =
        vector.endpoint === 'chat'
          ? buildChatCanonicalRequest(vector.requestText)
          : buildCompletionsCanonicalRequest(vector.requestText);
      expect(canonicalJson(canonical)).toBe(vector.canonical);
      const proof = await verifyResponse({
        request: vector.requestText,
        response: vector.responseText,
        signingKey: py.publicKeyPem,
      });
      expect(proof.responseContent).toBe(vector.outputContent);
      expect(proof.teeId).toBe(py.teeId);
      expect(proof.source).toBe(vector.responseText.startsWith('data:') ? 'sse' : 'json');
      // Parsed-object and bytes forms work too, and expectedTeeId is honoured.
      const responseObject = vector.responseText.startsWith('data:')
        ? vector.responseText
        : parsePythonJson(vector.responseText);
      await verifyResponse({
        request: new TextEncoder().encode(vector.requestText),
        response: responseObject,
        signingKey: py.publicKeyPemPkcs1,
        expectedTeeId: py.teeId.toUpperCase().replace('0X', ''),
      });
      expect(
        await codeOf(() =>
          verifyResponse({
            request: vector.requestText,
            response: vector.responseText,
            signingKey: py.publicKeyPem,
            expectedTeeId: `0x${'00'.repeat(32)}`,
          }),
        ),
      ).toBe('ERR_TEE_ID_MISMATCH');
    });

    it(`${vector.name}: node:crypto verifies the same signature (independent check)`, () => {
      const fields = vector.responseText.startsWith('data:')
        ? (JSON.parse(vector.responseText.split('\n\n').at(-3)!.slice(6)) as Record<string, string>)
        : (JSON.parse(vector.responseText) as Record<string, string>);
      const ok = nodeVerify(
        'sha256',
        hexToBytes(vector.msgHash),
        { key: py.publicKeyPem, ...PSS },
        base64ToBytes(fields['tee_signature']!),
      );
      expect(ok).toBe(true);
    });
  }

  it('tampering is detected with the right code', async () => {
    const chat = py.cases.find((c) => c.name === 'chat-json-text')!;
    const body = JSON.parse(chat.responseText);
    const base = { request: chat.requestText, signingKey: py.publicKeyPem };
    // content changed
    const content = structuredClone(body);
    content.choices[0].message.content += '!';
    expect(await codeOf(() => verifyResponse({ ...base, response: content }))).toBe(
      'ERR_OUTPUT_HASH_MISMATCH',
    );
    // request changed (a hashed field), and an unhashed field (still fine)
    const request = JSON.parse(chat.requestText);
    expect(
      await codeOf(() =>
        verifyResponse({ ...base, request: { ...request, max_tokens: 257 }, response: body }),
      ),
    ).toBe('ERR_REQUEST_HASH_MISMATCH');
    await verifyResponse({
      ...base,
      request: chat.requestText.replace('"tool_choice": "auto"', '"tool_choice": "none"'),
      response: body,
    });
    // JSON.parse + JSON.stringify loses float kinds ("maximum": 1e3 becomes 1000): the hash then differs,
    // which is why raw text/bytes should be given.
    expect(
      await codeOf(() => verifyResponse({ ...base, request: JSON.stringify(request), response: body })),
    ).toBe('ERR_REQUEST_HASH_MISMATCH');
    // timestamp changed
    expect(
      await codeOf(() =>
        verifyResponse({ ...base, response: { ...body, tee_timestamp: body.tee_timestamp + 1 } }),
      ),
    ).toBe('ERR_SIGNATURE_INVALID');
    // numeric-string timestamp is accepted like int(str)
    await verifyResponse({ ...base, response: { ...body, tee_timestamp: String(body.tee_timestamp) } });
    // signature bit flipped
    const signature = base64ToBytes(body.tee_signature);
    signature[10]! ^= 1;
    expect(
      await codeOf(() =>
        verifyResponse({
          ...base,
          response: { ...body, tee_signature: Buffer.from(signature).toString('base64') },
        }),
      ),
    ).toBe('ERR_SIGNATURE_INVALID');
    expect(
      await codeOf(() => verifyResponse({ ...base, response: { ...body, tee_signature: 'not base64!' } })),
    ).toBe('ERR_SIGNATURE_MALFORMED');
    expect(
      await codeOf(() => verifyResponse({ ...base, response: { ...body, tee_signature: 'AAAA' } })),
    ).toBe('ERR_SIGNATURE_INVALID');
    // wrong key
    const other = await createOpenGradientSigner();
    expect(await codeOf(() => verifyResponse({ ...base, signingKey: other.publicKey, response: body }))).toBe(
      'ERR_TEE_ID_MISMATCH',
    );
    expect(
      await codeOf(() =>
        verifyResponse({ ...base, signingKey: other.publicKey, response: { ...body, tee_id: other.teeId } }),
      ),
    ).toBe('ERR_SIGNATURE_INVALID');
    // missing / malformed fields
    for (const key of ['tee_signature', 'tee_request_hash', 'tee_output_hash', 'tee_timestamp', 'tee_id']) {
      const copy = { ...body };
      delete copy[key];
      expect(await codeOf(() => verifyResponse({ ...base, response: copy })), key).toBe(
        'ERR_RESPONSE_MALFORMED',
      );
    }
    for (const bad of [true, 1.5, -1, '12x', null, [1]]) {
      expect(
        await codeOf(() => verifyResponse({ ...base, response: { ...body, tee_timestamp: bad } })),
        String(bad),
      ).toBe('ERR_RESPONSE_MALFORMED');
    }
    expect(await codeOf(() => verifyResponse({ ...base, response: '{"truncated": ' }))).toBe(
      'ERR_RESPONSE_MALFORMED',
    );
    expect(await codeOf(() => verifyResponse({ ...base, response: 42 }))).toBe('ERR_RESPONSE_MALFORMED');
    expect(await codeOf(() => verifyResponse({ ...base, response: body, signingKey: 'garbage' }))).toBe(
      'ERR_KEY_INVALID',
    );
  });

  it('SSE: tampered deltas, error frames, missing final frame', async () => {
    const stream = py.cases.find((c) => c.name === 'chat-sse-text')!;
    const base = { request: stream.requestText, signingKey: py.publicKeyPem };
    expect(
      await codeOf(() => verifyResponse({ ...base, response: stream.responseText.replace('Hel', 'Hal') })),
    ).toBe('ERR_OUTPUT_HASH_MISMATCH');
    const withoutFinal = stream.responseText
      .split('\n\n')
      .filter((frame) => !frame.includes('tee_signature'))
      .join('\n\n');
    expect(await codeOf(() => verifyResponse({ ...base, response: withoutFinal }))).toBe(
      'ERR_RESPONSE_MALFORMED',
    );
    expect(
      await codeOf(() =>
        verifyResponse({ ...base, response: 'data: {"error": "Stream processing failed"}\n\n' }),
      ),
    ).toBe('ERR_RESPONSE_MALFORMED');
    // CRLF framing is fine
    await verifyResponse({ ...base, response: stream.responseText.replaceAll('\n', '\r\n') });
    // responseContent override (e.g. accumulated by the caller) is used as is
    expect(
      await codeOf(() =>
        verifyResponse({ ...base, response: stream.responseText, responseContent: 'something else' }),
      ),
    ).toBe('ERR_OUTPUT_HASH_MISMATCH');
    const tools = py.cases.find((c) => c.name === 'chat-sse-tool-calls')!;
    expect(
      await codeOf(() =>
        verifyResponse({
          request: tools.requestText,
          signingKey: py.publicKeyPem,
          response: tools.responseText.replace('call_a', 'call_z'),
        }),
      ),
    ).toBe('ERR_OUTPUT_HASH_MISMATCH');
  });

  it('heartbeat message hash and signature', async () => {
    expect(bytesToHex(heartbeatMessageHash(py.teeId, py.heartbeat.timestamp))).toBe(py.heartbeat.msgHash);
    expect(
      await verifyTeeMessageHashSignature(
        py.publicKeyPem,
        hexToBytes(py.heartbeat.msgHash),
        py.heartbeat.signature,
      ),
    ).toBe(true);
  });

  it('responseContentForHash follows the reference rules', () => {
    expect(
      responseContentForHash({ choices: [{ message: { content: [{ text: 'a' }, { text: 'b' }, 'c'] } }] }),
    ).toBe('abc');
    expect(
      responseContentForHash({
        choices: [{ message: { content: null, tool_calls: [] }, finish_reason: 'stop' }],
      }),
    ).toBe('');
    expect(responseContentForHash({ choices: [] })).toBe('');
    expect(responseContentForHash({ choices: [{ text: 'done' }] })).toBe('done');
    expect(responseContentForHash('x')).toBe('');
  });
});

describe('our RSA-PSS signatures, checked by node:crypto', () => {
  it('signer output verifies with node:crypto and the Python public key format', async () => {
    const signer = await createOpenGradientSigner({
      privateKey: py.privateKeyPemPkcs1,
      now: () => 1_747_000_000_999,
    });
    expect(signer.teeId).toBe(py.teeId);
    expect(signer.publicKeyPem).toBe(py.publicKeyPem);
    const vector = py.cases[0]!;
    const fields = await signer.signResponse({
      canonicalRequest: buildChatCanonicalRequest(vector.requestText),
      responseContent: vector.outputContent,
    });
    expect(fields.tee_timestamp).toBe(1_747_000_000);
    expect(teeSignatureHeaders(fields)).toEqual({
      'X-TEE-Signature': fields.tee_signature,
      'X-TEE-ID': py.teeId,
      'X-TEE-Timestamp': '1747000000',
      'X-TEE-Request-Hash': fields.tee_request_hash,
      'X-TEE-Output-Hash': fields.tee_output_hash,
    });
    expect(teeSignatureHeaders({ ...fields, tee_id: 'placeholder' })['X-TEE-ID']).toBeUndefined();
    expect(fields.tee_id).toBe(py.teeId);
    const original = JSON.parse(vector.responseText);
    const resigned = { ...original, ...fields };
    await verifyResponse({ request: vector.requestText, response: resigned, signingKey: py.publicKeyPem });
    const hashes = await import('../src/index.js').then((m) =>
      m.computeTeeMessageHash(vector.canonical, vector.outputContent, fields.tee_timestamp),
    );
    expect(
      nodeVerify(
        'sha256',
        hashes.msgHash,
        { key: py.publicKeyPem, ...PSS },
        base64ToBytes(fields.tee_signature),
      ),
    ).toBe(true);
    // PSS is randomised: two signatures of the same hash differ but both verify.
    const again = await signer.signMessageHash(hashes.msgHash);
    expect(again).not.toBe(fields.tee_signature);
    expect(await verifyTeeMessageHashSignature(signer.publicKey, hashes.msgHash, again)).toBe(true);
  });

  it('node:crypto signatures verify with ours; salt-length mismatch does not', async () => {
    const key = createPrivateKey(py.privateKeyPem);
    const msgHash = hexToBytes(py.cases[0]!.msgHash);
    const good = nodeSign('sha256', msgHash, { key, ...PSS });
    expect(await verifyTeeMessageHashSignature(py.publicKeyPem, msgHash, good)).toBe(true);
    const wrongSalt = nodeSign('sha256', msgHash, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 20,
    });
    expect(await verifyTeeMessageHashSignature(py.publicKeyPem, msgHash, wrongSalt)).toBe(false);
    const pkcs1v15 = nodeSign('sha256', msgHash, key);
    expect(await verifyTeeMessageHashSignature(py.publicKeyPem, msgHash, pkcs1v15)).toBe(false);
    expect(await verifyTeeMessageHashSignature(py.publicKeyPem, msgHash, good.subarray(1))).toBe(false);
  });

  it('generated signers, key import variants and key errors', async () => {
    const signer = await createOpenGradientSigner();
    expect(signer.teeId).toMatch(/^0x[0-9a-f]{64}$/);
    const nodeKey = createPublicKey(signer.publicKeyPem);
    expect(nodeKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(nodeKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    const heartbeat = await signer.signHeartbeat(1747000100);
    expect(
      nodeVerify(
        'sha256',
        heartbeatMessageHash(signer.teeId, 1747000100),
        { key: nodeKey, ...PSS },
        base64ToBytes(heartbeat.signature),
      ),
    ).toBe(true);
    const jwk = createPrivateKey(py.privateKeyPem).export({ format: 'jwk' }) as JsonWebKey;
    const fromJwk = await importRsaPrivateKey({ ...jwk, key_ops: ['sign'], alg: 'RS256' });
    const signature = await signTeeMessageHash(fromJwk, new Uint8Array(32));
    expect(
      await verifyTeeMessageHashSignature(
        await importRsaPublicKey(py.publicKeyPem),
        new Uint8Array(32),
        signature,
      ),
    ).toBe(true);
    expect(
      await codeOf(() => importRsaPublicKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')),
    ).toBe('ERR_KEY_INVALID');
    expect(
      await codeOf(() => importRsaPublicKey('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----')),
    ).toBe('ERR_KEY_INVALID');
    expect(await codeOf(() => importRsaPublicKey(new Uint8Array([1, 2, 3])))).toBe('ERR_KEY_INVALID');
    expect(
      await codeOf(() =>
        importRsaPrivateKey(
          '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----',
        ),
      ),
    ).toBe('ERR_KEY_INVALID');
    const small = createPublicKey(
      (await import('node:crypto'))
        .generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'pem' }),
    );
    expect(
      await codeOf(() => importRsaPublicKey(small.export({ type: 'spki', format: 'pem' }) as string)),
    ).toBe('ERR_KEY_INVALID');
    const ec = (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(
      await codeOf(() => importRsaPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string)),
    ).toBe('ERR_KEY_INVALID');
    // Signer from PKCS#8 DER bytes and from a private JWK: same tee_id as Python's.
    const der = createPrivateKey(py.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
    expect((await createOpenGradientSigner({ privateKey: new Uint8Array(der) })).teeId).toBe(py.teeId);
    expect((await createOpenGradientSigner({ privateKey: jwk })).teeId).toBe(py.teeId);
    const nonExtractable = await importRsaPrivateKey(py.privateKeyPem);
    expect(nonExtractable.extractable).toBe(false);
    expect(await codeOf(() => createOpenGradientSigner({ privateKey: nonExtractable }))).toBe(
      'ERR_KEY_INVALID',
    );
    expect(
      (await createOpenGradientSigner({ privateKey: nonExtractable, publicKey: py.publicKeyPem })).teeId,
    ).toBe(py.teeId);
    const mismatch = await createOpenGradientSigner();
    expect(
      await codeOf(() =>
        createOpenGradientSigner({ privateKey: py.privateKeyPem, publicKey: mismatch.publicKeyPem }),
      ),
    ).toBe('ERR_KEY_INVALID');
  });
});
