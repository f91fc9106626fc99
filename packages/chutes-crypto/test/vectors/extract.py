#!/usr/bin/env python3
"""Extracts the ML-KEM-768 / ChaCha20-Poly1305 / HKDF subsets checked in beside this script.

Usage: python3 extract.py <dir with the source JSON files>. The source files and their commits are listed in
README.md. Runs offline; tests never run it.
"""
import json
import sys

src = sys.argv[1]


def load(name):
    with open(f"{src}/{name}") as handle:
        return json.load(handle)


def group(doc, tg_id):
    return next(g for g in doc["testGroups"] if g["tgId"] == tg_id)


def by_id(tests):
    return {t["tcId"]: t for t in tests}


def dump(name, doc):
    with open(name, "w") as handle:
        json.dump(doc, handle, indent=1)
        handle.write("\n")


# NIST ACVP ML-KEM-768 (FIPS 203), v1.1.0.40 prompt + expectedResults joined by tcId.
kg_p, kg_r = load("keyGen_prompt.json"), load("keyGen_expectedResults.json")
ed_p, ed_r = load("encapDecap_prompt.json"), load("encapDecap_expectedResults.json")
assert group(kg_p, 2)["parameterSet"] == "ML-KEM-768"
kg_res = by_id(group(kg_r, 2)["tests"])
keygen = [{**t, **kg_res[t["tcId"]]} for t in group(kg_p, 2)["tests"][:5]]
out = {"keyGen": keygen}
for tg_id, name, count in [(2, "encapsulation", 5), (5, "decapsulation", 5), (9, "decapsulationKeyCheck", 10),
                           (10, "encapsulationKeyCheck", 10)]:
    g = group(ed_p, tg_id)
    assert g["parameterSet"] == "ML-KEM-768" and g["function"] == name, (tg_id, g["function"])
    res = by_id(group(ed_r, tg_id)["tests"])
    out[name] = [{**t, **res[t["tcId"]]} for t in g["tests"][:count]]
dump("acvp-ml-kem-768.json", out)

# Wycheproof ChaCha20-Poly1305: every 96-bit-nonce test with a message of at most 64 bytes, plus the
# invalid-nonce-size tests.
cc = load("wp_chacha20_poly1305_test.json")
tests = []
for g in cc["testGroups"]:
    for t in g["tests"]:
        if g["ivSize"] == 96 and len(t["msg"]) <= 128:
            tests.append(t)
        elif g["ivSize"] != 96 and "InvalidNonceSize" in t.get("flags", []):
            tests.append(t)
dump("wycheproof-chacha20-poly1305.json", {"algorithm": cc["algorithm"], "tests": tests})

# Wycheproof HKDF-SHA256: the first 20 tests plus every invalid one.
hk = load("wp_hkdf_sha256_test.json")
all_hk = [t for g in hk["testGroups"] for t in g["tests"]]
dump("wycheproof-hkdf-sha256.json",
     {"algorithm": hk["algorithm"], "tests": all_hk[:20] + [t for t in all_hk[20:] if t["result"] != "valid"]})

# Wycheproof ML-KEM-768: encapsulation (valid, modulus overflow, malformed) and decapsulation from seed.
en = load("wp_mlkem_768_encaps_test.json")
all_en = [t for g in en["testGroups"] for t in g["tests"]]
enc = [t for t in all_en if t["result"] == "valid"][:5]
enc += [t for t in all_en if "ModulusOverflow" in t.get("flags", [])]
enc += [t for t in all_en if t["result"] == "invalid" and not t.get("flags")][:8]
de = load("wp_mlkem_768_test.json")
all_de = [t for g in de["testGroups"] for t in g["tests"]]
def pick(comment, count):
    return [t for t in all_de if t.get("comment") == comment][:count]


dec = [t for t in all_de if t["result"] == "valid"][:3]
dec += pick("Bit flipped ciphertext", 2) + pick("Random ciphertext", 2)
dec += pick("Ciphertext too short", 2) + pick("Ciphertext too long", 2)
dump("wycheproof-ml-kem-768.json", {"encapsulation": enc, "decapsulation": dec})
