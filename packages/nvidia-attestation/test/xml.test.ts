import { bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { sha384 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { C14N_10, C14N_11, canonicalize, compareCodePoints } from '../src/xml-c14n.js';
import { childElements, parseXml, XmlParseError } from '../src/xml-parser.js';
import { rimSamples, vector } from './vectors.js';

const libxml2 = vector<{
  cases: Array<{ name: string; input: string; canonical: string }>;
  rims: Array<{ file: string; canonicalSha384: string; canonicalLength: number }>;
}>('c14n11-libxml2.json');

describe('Canonical XML 1.1 equals libxml2 (xmllint --c14n11) byte for byte', () => {
  for (const { name, input, canonical } of libxml2.cases) {
    it(name, () => {
      expect(canonicalize(parseXml(input), { algorithm: C14N_11 })).toBe(canonical);
    });
  }
  it('on every real NVIDIA RIM (whole document, signature included)', () => {
    expect(libxml2.rims).toHaveLength(Object.keys(rimSamples.rims).length);
    for (const { file, canonicalSha384, canonicalLength } of libxml2.rims) {
      const bytes = utf8ToBytes(canonicalize(parseXml(rimSamples.rims[file]!), { algorithm: C14N_11 }));
      expect(bytes.length, file).toBe(canonicalLength);
      expect(bytesToHex(sha384(bytes)), file).toBe(canonicalSha384);
    }
  });
});

describe('document subsets (the SignedInfo case)', () => {
  const text =
    '<r xmlns="urn:d" xmlns:a="urn:a" xml:lang="en" xml:space="preserve" xml:id="r1"><s xmlns:b="urn:b"><i a:x="1"><c/></i></s></r>';
  const inner = () => childElements(childElements(parseXml(text))[0]!)[0]!;
  it('renders every namespace in scope and inherits xml:lang / xml:space on the apex (1.1), attributes ordered by namespace URI', () => {
    expect(canonicalize(inner(), { algorithm: C14N_11 })).toBe(
      '<i xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" xml:lang="en" xml:space="preserve" a:x="1"><c></c></i>',
    );
  });
  it('also inherits xml:id under C14N 1.0', () => {
    expect(canonicalize(inner(), { algorithm: C14N_10 })).toBe(
      '<i xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" xml:id="r1" xml:lang="en" xml:space="preserve" a:x="1"><c></c></i>',
    );
  });
  it('refuses xml:base', () => {
    const doc = parseXml('<r xml:base="http://x/"><s/></r>');
    expect(() => canonicalize(childElements(doc)[0]!, { algorithm: C14N_11 })).toThrow(XmlParseError);
    expect(() => canonicalize(doc, { algorithm: C14N_11 })).toThrow(XmlParseError);
  });
  it('drops comments, and outside the document element their line breaks too', () => {
    expect(
      canonicalize(parseXml('<!-- a -->\n<r>x<!-- b -->y</r>\n<!-- c -->'), { algorithm: C14N_11 }),
    ).toBe('<r>xy</r>');
  });
  it('leaves out an excluded subtree (enveloped signature) but keeps the text around it', () => {
    const doc = parseXml('<r>a<sig><x/></sig>b</r>');
    expect(canonicalize(doc, { algorithm: C14N_11, exclude: childElements(doc)[0]! })).toBe('<r>ab</r>');
  });
});

describe('strict parser', () => {
  const refused: Array<[string, string]> = [
    ['DOCTYPE', '<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'],
    ['undeclared entity', '<r>&nbsp;</r>'],
    ['processing instruction', '<r><?pi x?></r>'],
    ['processing instruction before the root', '<?pi x?><r/>'],
    ['non-UTF-8 declaration', '<?xml version="1.0" encoding="ISO-8859-1"?><r/>'],
    ['unbound prefix', '<p:r/>'],
    ['unbound attribute prefix', '<r p:a="1"/>'],
    ['duplicate attribute', '<r a="1" a="2"/>'],
    ['duplicate expanded attribute', '<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" q:a="2"/>'],
    ['undeclared prefix binding', '<r xmlns:p=""/>'],
    ['xml prefix rebound', '<r xmlns:xml="urn:x"/>'],
    ['xmlns prefix declared', '<r xmlns:xmlns="urn:x"/>'],
    ['mismatched end tag', '<r></s>'],
    ['unterminated', '<r><s></s>'],
    ['content after the root', '<r/><s/>'],
    ['text after the root', '<r/>x'],
    ['illegal character', '<r>\u0001</r>'],
    ['illegal character reference', '<r>&#1;</r>'],
    ['"<" in an attribute', '<r a="<"/>'],
    ['"]]>" in text', '<r>]]></r>'],
    ['"--" in a comment', '<r><!-- a -- b --></r>'],
    ['missing space between attributes', '<r a="1"b="2"/>'],
    ['two colons in a name', '<r xmlns:a="urn:a"><a:b:c/></r>'],
    ['empty document', ''],
    ['deep nesting', `${'<a>'.repeat(70)}${'</a>'.repeat(70)}`],
  ];
  for (const [name, text] of refused) {
    it(`refuses ${name}`, () => expect(() => parseXml(text)).toThrow(XmlParseError));
  }
  it('normalizes line ends and attribute white space, keeps character references', () => {
    const root = parseXml('\uFEFF<r a="x\ty\r\nz" b="&#10;">1\r\n2\r3&#13;</r>');
    expect(root.attributes.map((item) => item.value)).toEqual(['x y z', '\n']);
    expect(root.children[0]).toEqual({ kind: 'text', value: '1\n2\n3\r' });
  });
  it('resolves namespaces', () => {
    const root = parseXml('<r xmlns="urn:d" xmlns:p="urn:p"><p:c p:a="1" b="2"/><e xmlns=""/></r>');
    const [c, e] = childElements(root) as [ReturnType<typeof parseXml>, ReturnType<typeof parseXml>];
    expect([c.namespaceUri, c.localName]).toEqual(['urn:p', 'c']);
    expect(c.attributes.map((item) => [item.namespaceUri, item.localName])).toEqual([
      ['urn:p', 'a'],
      ['', 'b'],
    ]);
    expect(e.namespaceUri).toBe('');
    expect(e.namespaces.has('')).toBe(false);
  });
  it('orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\u{10000}', '\uFFFF')).toBeGreaterThan(0);
    expect('\u{10000}' < '\uFFFF').toBe(true);
  });
});

describe('compareCodePoints equals a code point comparison', () => {
  test.prop([fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })], {
    numRuns: 2000,
  })('on arbitrary Unicode strings', (a, b) => {
    const left = [...a].map((character) => character.codePointAt(0)!);
    const right = [...b].map((character) => character.codePointAt(0)!);
    let expected = left.length - right.length;
    for (let index = 0; index < Math.min(left.length, right.length); index++) {
      if (left[index] !== right[index]) {
        expected = left[index]! - right[index]!;
        break;
      }
    }
    expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(expected));
  });
});
