#!/usr/bin/env python3
"""Generates opengradient-responses.json: gateway responses signed by CPython + pyca/cryptography.

Run: `python3 generate-opengradient-responses.py > opengradient-responses.json` (needs `cryptography`).
Not needed at test time. The signing pipeline follows tee-gateway.md section 3 / D1 with Python's own
json.dumps, a from-the-spec Keccak-256 (checked against the spec's keccak('') vector), and
cryptography's RSA-PSS (MGF1-SHA256, salt 32) and Ed25519. The RSA key is a throwaway test key that is
generated on each run; signatures are randomised (PSS salt), so the file changes per run.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

# --- Keccak-256 (original padding 0x01), written from the Keccak reference description. ---
RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
    0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
    0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
    0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
MASK = (1 << 64) - 1


def rol(x, n):
    return ((x << n) | (x >> (64 - n))) & MASK if n else x


def keccak_f(a):
    for rc in RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = rol(a[x][y], ROT[x][y])
        a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    msg = bytearray(data) + b"\x01"
    while len(msg) % rate:
        msg.append(0)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            a[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        a = keccak_f(a)
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
private_pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
private_pem_pkcs1 = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
public_pem_pkcs1 = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
tee_id = "0x" + keccak256(spki).hex()


def sign(request_dict, content, ts):
    request_bytes = json.dumps(request_dict, sort_keys=True).encode("utf-8")
    rh = keccak256(request_bytes)
    oh = keccak256(content.encode("utf-8"))
    msg = keccak256(rh + oh + ts.to_bytes(32, "big"))
    sig = key.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    return {
        "tee_signature": base64.b64encode(sig).decode(),
        "tee_request_hash": rh.hex(),
        "tee_output_hash": oh.hex(),
        "tee_timestamp": ts,
        "tee_id": tee_id,
    }, msg.hex()


cases = []

# 1. Non-streaming chat, text answer; request exercises float/int, unicode, tools, developer role,
#    multimodal user content and unhashed fields.
chat_request_text = json.dumps({
    "model": "gpt-4.1",
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "Describe \u00e9t\u00e9 \U0001F31E"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "file", "file": {"filename": "r\u00e9sum\u00e9.pdf", "file_data": "JVBERi0="}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "42"},
    ],
    "temperature": 1,
    "max_tokens": 256,
    "stop": ["\n\n"],
    "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "number", "minimum": 0.0, "maximum": 1e3}}}}}],
    "response_format": {"type": "text"},
    "tool_choice": "auto", "top_p": 0.5, "stream": False, "n": 1, "seed": 12345678901234567890,
})
body = json.loads(chat_request_text)
canonical = {
    "model": "gpt-4.1",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "Describe \u00e9t\u00e9 \U0001F31E"},
            {"type": "image_url"},
            {"type": "file", "filename": "r\u00e9sum\u00e9.pdf"},
        ]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]},
        {"role": "tool", "content": "42", "tool_call_id": "call_0"},
    ],
    "temperature": float(body["temperature"]),
    "max_tokens": body["max_tokens"],
    "stop": body["stop"],
    "tools": body["tools"],
    "response_format": body["response_format"],
}
content = "Sunny \u2600\ufe0f \u00e9t\u00e9 \U0001F31E"
fields, msg = sign(canonical, content, 1747000001)
response = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1747000001, "model": "gpt-4.1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}, **fields}
cases.append({"name": "chat-json-text", "endpoint": "chat", "requestText": chat_request_text,
              "canonical": json.dumps(canonical, sort_keys=True), "responseText": json.dumps(response),
              "outputContent": content, "msgHash": msg})

# 2. Non-streaming chat with tool calls.
simple_request_text = '{"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Weather in Paris?"}]}'
simple_canonical = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Weather in Paris?"}],
                    "temperature": 0.0}
tool_calls = [
    {"id": "toolu_1", "type": "function",
     "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "\u00b0C", "days": 2.0})}},
    {"id": "toolu_2", "type": "function", "function": {"name": "get_time", "arguments": json.dumps({})}},
]
tool_content = json.dumps(tool_calls, sort_keys=True)
fields, msg = sign(simple_canonical, tool_content, 1747000002)
response = {"id": "chatcmpl-2", "object": "chat.completion", "created": 1747000002, "model": "claude-sonnet-4-6",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                         "finish_reason": "tool_calls"}], **fields}
cases.append({"name": "chat-json-tool-calls", "endpoint": "chat", "requestText": simple_request_text,
              "canonical": json.dumps(simple_canonical, sort_keys=True), "responseText": json.dumps(response),
              "outputContent": tool_content, "msgHash": msg})

# 3. Streaming chat, text.
deltas = ["Hel", "lo \u00fc", " \U0001F44B", "!"]
sse = ""
for d in deltas:
    frame = {"choices": [{"delta": {"content": d, "role": "assistant"}, "index": 0, "finish_reason": None}],
             "model": "claude-sonnet-4-6"}
    sse += f"data: {json.dumps(frame)}\n\n"
fields, msg = sign(simple_canonical, "".join(deltas), 1747000003)
final = {"choices": [{"delta": {}, "index": 0, "finish_reason": "stop"}], "model": "claude-sonnet-4-6", **fields,
         "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}
sse += f"data: {json.dumps(final)}\n\n" + "data: [DONE]\n\n"
cases.append({"name": "chat-sse-text", "endpoint": "chat", "requestText": simple_request_text,
              "canonical": json.dumps(simple_canonical, sort_keys=True), "responseText": sse,
              "outputContent": "".join(deltas), "msgHash": msg})

# 4. Streaming chat, tool calls: one buffered frame per call, emitted out of index order, plus text.
buffered = {
    1: {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": json.dumps({"x": [1, 2.5]})}},
    0: {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": json.dumps({"k": "v\u00e9"})}},
}
sse = "data: " + json.dumps({"choices": [{"delta": {"content": "thinking", "role": "assistant"}, "index": 0,
                                          "finish_reason": None}], "model": "gpt-4.1"}) + "\n\n"
for idx, tc in buffered.items():
    delta = {"role": "assistant", "tool_calls": [{"index": idx, "id": tc["id"], "type": "function",
                                                  "function": dict(tc["function"])}]}
    sse += "data: " + json.dumps({"choices": [{"delta": delta, "index": 0, "finish_reason": None}],
                                  "model": "gpt-4.1"}) + "\n\n"
tool_stream_content = json.dumps([buffered[k] for k in sorted(buffered)], sort_keys=True)
fields, msg = sign(simple_canonical | {"model": "gpt-4.1"}, tool_stream_content, 1747000004)
final = {"choices": [{"delta": {}, "index": 0, "finish_reason": "tool_calls"}], "model": "gpt-4.1", **fields}
sse += f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n"
cases.append({"name": "chat-sse-tool-calls", "endpoint": "chat",
              "requestText": simple_request_text.replace("claude-sonnet-4-6", "gpt-4.1"),
              "canonical": json.dumps(simple_canonical | {"model": "gpt-4.1"}, sort_keys=True), "responseText": sse,
              "outputContent": tool_stream_content, "msgHash": msg})

# 5. Completions with defaults (temperature 1.0, max_tokens 16).
comp_text = '{"model": "gpt-4.1", "prompt": "Say hi \u2713", "stop": "\\n"}'
comp_canonical = {"model": "gpt-4.1", "prompt": "Say hi \u2713", "temperature": float(1), "max_tokens": 16, "stop": "\n"}
fields, msg = sign(comp_canonical, "Hi!", 1747000005)
response = {"id": "cmpl-1", "object": "text_completion", "created": 1747000005, "model": "gpt-4.1",
            "choices": [{"text": "Hi!", "index": 0, "finish_reason": "stop"}], "usage": None, **fields}
cases.append({"name": "completions-json", "endpoint": "completions", "requestText": comp_text,
              "canonical": json.dumps(comp_canonical, sort_keys=True), "responseText": json.dumps(response),
              "outputContent": "Hi!", "msgHash": msg})

# Heartbeat: keccak256(teeId || uint256(ts)), signed like responses.
hb_ts = 1747000100
hb_msg = keccak256(bytes.fromhex(tee_id[2:]) + hb_ts.to_bytes(32, "big"))
hb_sig = key.sign(hb_msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())

# Ed25519 (vllm-proxy): deterministic signature over a signed text.
ed_seed = bytes(range(32))
ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(ed_seed)
ed_text = "a" * 64 + ":" + "b" * 64
ed_sig = ed_key.sign(ed_text.encode())
ed_pub = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

out = {
    "description": "Responses signed by CPython json + pyca/cryptography RSA-PSS; see README.md.",
    "generator": "generate-opengradient-responses.py",
    "python": sys.version.split()[0],
    "publicKeyPem": pem,
    "publicKeyPemPkcs1": public_pem_pkcs1,
    "privateKeyPem": private_pem,
    "privateKeyPemPkcs1": private_pem_pkcs1,
    "spkiHex": spki.hex(),
    "teeId": tee_id,
    "cases": cases,
    "heartbeat": {"timestamp": hb_ts, "msgHash": hb_msg.hex(), "signature": base64.b64encode(hb_sig).decode()},
    "ed25519": {"seed": ed_seed.hex(), "publicKey": ed_pub.hex(), "text": ed_text, "signature": ed_sig.hex()},
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
