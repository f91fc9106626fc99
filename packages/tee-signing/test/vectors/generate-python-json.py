#!/usr/bin/env python3
"""Generates python-json.json: expected outputs of CPython's json module for tricky inputs.

Run from this folder with `python3 generate-python-json.py > python-json.json`. Not needed at test time.
Every expected value is produced by the standard library (json.dumps / json.loads / repr), never typed by
hand. The random float corpus uses a fixed seed so the file is reproducible.
"""
import json
import random
import struct
import sys


def bits(x):
    return struct.pack(">d", x).hex()


# 1. Floats: IEEE-754 bit pattern -> repr() and json.dumps() output.
floats = [
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 0.7, 1.5, 100.0, 1e-4, 1e-5, 1.5e-5, 1e-7, 0.00012345,
    123456789.0, 1e15, 999999999999999.9, 1e16, 1.5e16, 9007199254740993.0, 1.2345678901234568e17,
    1e21, 1e22, 1e100, 1e308, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1e-300,
    3.141592653589793, 2.718281828459045, 1 / 3, 2 / 3, 0.5, 0.25, 1e-6, 123e-20, 4.35, 0.3,
    -1e16, -1e-5, 1e16 - 2, 2.0 ** 53, 2.0 ** 63, 2.0 ** 64, 12345.678, 9.999999999999999e15,
]
rng = random.Random(20261130)
for _ in range(1500):
    # Random finite doubles over the whole exponent range.
    while True:
        x = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if x == x and x not in (float("inf"), float("-inf")):
            break
    floats.append(x)
for _ in range(1500):
    # Random doubles near the fixed/scientific switch (1e-5 .. 1e17) with short and long digit strings.
    e = rng.randint(-7, 18)
    digits = rng.randint(1, 17)
    mantissa = rng.randint(10 ** (digits - 1), 10 ** digits - 1)
    x = float(f"{mantissa}e{e - digits + 1}")
    if rng.random() < 0.5:
        x = -x
    floats.append(x)

float_cases = [{"bits": bits(x), "repr": repr(x), "dumps": json.dumps(x)} for x in floats]
float_cases += [
    {"bits": bits(float("nan")), "repr": "nan", "dumps": json.dumps(float("nan"))},
    {"bits": bits(float("inf")), "repr": "inf", "dumps": json.dumps(float("inf"))},
    {"bits": bits(float("-inf")), "repr": "-inf", "dumps": json.dumps(float("-inf"))},
]

# 2. JSON texts -> json.dumps(json.loads(text), sort_keys=True) (and without sort_keys).
texts = [
    '{"b": 1, "a": 2, "c": {"z": [], "y": {}}}',
    '{"model":"gpt-4.1","temperature":0.7,"max_tokens":100}',
    '[1, 1.0, 1.50, 1e2, 1E2, -0, -0.0, 0.1, 1e-7, 1e16, 1e400, -1e400, 123456789012345678901234567890]',
    '[9007199254740993, -9007199254740993, 18446744073709551616, 1.0e+16, 2.5E-3, 100000000000000000000.0]',
    '["\\u00e9", "H\\u00e9llo \\ud83d\\udc4b", "\\ud800", "\\udfff", "\\ud800x", "\\u2028\\u2029", "\\u007f\\u0080"]',
    '["tab\\there", "nl\\n", "cr\\r", "bs\\b", "ff\\f", "\\u0000\\u0001\\u001f", "quote\\"", "back\\\\slash", "/"]',
    '{"\\ue000": 1, "\\ud83d\\ude00": 2, "a": 3, "B": 4, "\\u00e9": 5, "": 6, "aa": 7, "a\\u0000": 8}',
    '{"\\uffff": 1, "\\ud800\\udc00": 2, "\\ud7ff": 3, "\\ud800": 4}',
    '[true, false, null, {"k": [true, {"n": null}]}]',
    '{"nested": {"b": {"d": 1, "c": 2}, "a": [{"y": 1, "x": 2}]}}',
    '{"__proto__": {"polluted": 1}, "constructor": 2, "toString": 3}',
    '{"a": 1, "a": 2}',
    '[NaN, Infinity, -Infinity]',
    '"just a string \\u00fc\\ud83c\\udf89"',
    '3.0',
    '-12',
    '{"2": "two", "10": "ten", "1": "one", "b": "bee", "a": "ay"}',
    '{"emoji": "\\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67", "cjk": "\\u4e2d\\u6587", "rtl": "\\u05e9\\u05dc\\u05d5\\u05dd"}',
    '[0.1, 0.2, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 4.9406564584124654e-324]',
    '{"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "number", "minimum": 0.0, "maximum": 1e3}}}}}]}',
    ' \t\n\r{ "spaced" : [ 1 , 2 ] } \n',
]
# Raw (unescaped) non-ASCII text as input too.
texts.append(json.dumps({"raw": "Grüße 👋 中文"}, ensure_ascii=False))
text_cases = []
for t in texts:
    v = json.loads(t)
    text_cases.append({
        "text": t,
        "sorted": json.dumps(v, sort_keys=True),
        "unsorted": json.dumps(v),
    })

# 3. Texts Python's json.loads rejects.
invalid = ['', '{', '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', '"\\x"', '"\\u12"', "'a'", '[1] x',
           '{"a" 1}', 'tru', 'nan', '"a\tb"', '"a\nb"', '{1: 2}', '-', '1e', '--1', '[', '"\\ud83d', '0x10']
invalid_cases = []
for t in invalid:
    try:
        json.loads(t)
    except ValueError:
        invalid_cases.append(t)
    else:
        raise SystemExit(f"expected {t!r} to be rejected")

out = {
    "description": "Outputs of CPython json.dumps/json.loads/repr for tricky inputs; see README.md.",
    "python": sys.version.split()[0],
    "generator": "generate-python-json.py",
    "floats": float_cases,
    "texts": text_cases,
    "invalid": invalid_cases,
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
