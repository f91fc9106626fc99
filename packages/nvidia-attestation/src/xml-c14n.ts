import { XML_NAMESPACE, type XmlElement, XmlParseError } from './xml-parser.js';

// Canonical XML (W3C C14N 1.0, https://www.w3.org/TR/2001/REC-xml-c14n-20010315, and 1.1,
// https://www.w3.org/TR/2008/REC-xml-c14n11-20080502), without comments, for the two node-sets an enveloped
// XML signature needs: a whole document minus one excluded subtree (the Signature element), and one element's
// subtree (SignedInfo) taken out of its document. The two versions differ only in how an apex element of a
// subtree inherits `xml:*` attributes from the ancestors left out; `xml:base` (whose 1.1 fix-up rules are
// involved) is refused.

/** Canonical XML 1.0 without comments. */
export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
/** Canonical XML 1.1 without comments (NVIDIA's RIMs use it). */
export const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11';

/** Options of {@link canonicalize}. */
export interface CanonicalizeOptions {
  /** C14N 1.0 or 1.1 (algorithm URI). */
  readonly algorithm: typeof C14N_10 | typeof C14N_11;
  /** A descendant whose subtree is left out (the enveloped-signature transform). */
  readonly exclude?: XmlElement;
}

/**
 * Compares strings by Unicode code point (C14N orders names by UCS code point). UTF-16 unit order differs from
 * code point order only where a surrogate (a character above U+FFFF) meets a unit from U+E000 up.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left === right) continue;
    const leftSurrogate = left >= 0xd800 && left <= 0xdfff;
    const rightSurrogate = right >= 0xd800 && right <= 0xdfff;
    if (leftSurrogate !== rightSurrogate && (leftSurrogate ? right : left) >= 0xe000)
      return leftSurrogate ? 1 : -1;
    return left - right;
  }
  return a.length - b.length;
}

function escapeText(value: string): string {
  return value.replace(/[&<>\r]/g, (character) =>
    character === '&' ? '&amp;' : character === '<' ? '&lt;' : character === '>' ? '&gt;' : '&#xD;',
  );
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (character) => {
    switch (character) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '"':
        return '&quot;';
      case '\t':
        return '&#x9;';
      case '\n':
        return '&#xA;';
      default:
        return '&#xD;';
    }
  });
}

interface OutputAttribute {
  readonly namespaceUri: string;
  readonly localName: string;
  readonly qualifiedName: string;
  readonly value: string;
}

function checkNoXmlBase(element: XmlElement): void {
  if (element.attributes.some((item) => item.namespaceUri === XML_NAMESPACE && item.localName === 'base')) {
    throw new XmlParseError('xml:base is not supported by this canonicalizer');
  }
}

/** `xml:*` attributes an apex element inherits from the ancestors outside the node-set. */
function inheritedXmlAttributes(
  apex: XmlElement,
  algorithm: CanonicalizeOptions['algorithm'],
): OutputAttribute[] {
  const inheritable = algorithm === C14N_11 ? new Set(['lang', 'space']) : new Set(['lang', 'space', 'id']);
  const own = new Set(
    apex.attributes.filter((item) => item.namespaceUri === XML_NAMESPACE).map((item) => item.localName),
  );
  const out: OutputAttribute[] = [];
  for (let ancestor = apex.parent; ancestor !== undefined; ancestor = ancestor.parent) {
    checkNoXmlBase(ancestor);
    for (const item of ancestor.attributes) {
      if (
        item.namespaceUri !== XML_NAMESPACE ||
        !inheritable.has(item.localName) ||
        own.has(item.localName)
      ) {
        continue;
      }
      own.add(item.localName);
      out.push({ ...item, qualifiedName: `xml:${item.localName}` });
    }
  }
  return out;
}

function renderElement(
  element: XmlElement,
  outputParent: XmlElement | undefined,
  options: CanonicalizeOptions,
  inherited: readonly OutputAttribute[],
  out: string[],
): void {
  checkNoXmlBase(element);
  // Namespace nodes: rendered unless the nearest output ancestor has the same binding.
  const declarations: Array<[string, string]> = [];
  for (const [prefix, uri] of element.namespaces) {
    if (outputParent?.namespaces.get(prefix) !== uri) declarations.push([prefix, uri]);
  }
  if (!element.namespaces.has('') && (outputParent?.namespaces.get('') ?? '') !== '') {
    declarations.push(['', '']);
  }
  declarations.sort(([a], [b]) => compareCodePoints(a, b));
  const attributes: OutputAttribute[] = [...element.attributes, ...inherited];
  attributes.sort(
    (a, b) =>
      compareCodePoints(a.namespaceUri, b.namespaceUri) || compareCodePoints(a.localName, b.localName),
  );
  let tag = `<${element.qualifiedName}`;
  for (const [prefix, uri] of declarations) {
    tag += prefix === '' ? ` xmlns="${escapeAttribute(uri)}"` : ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
  }
  for (const item of attributes) tag += ` ${item.qualifiedName}="${escapeAttribute(item.value)}"`;
  out.push(`${tag}>`);
  for (const child of element.children) {
    if (child.kind === 'text') out.push(escapeText(child.value));
    else if (child !== options.exclude) renderElement(child, element, options, [], out);
  }
  out.push(`</${element.qualifiedName}>`);
}

/**
 * Canonicalizes the subtree of `element` (without comments). For the document element this is the canonical
 * form of the whole document (optionally minus `exclude`'s subtree); for an inner element it is the canonical
 * form of its subtree as a document subset, with the namespace bindings and (per algorithm) `xml:*`
 * attributes it inherits from its ancestors.
 * @throws XmlParseError when the document uses `xml:base`.
 */
export function canonicalize(element: XmlElement, options: CanonicalizeOptions): string {
  const out: string[] = [];
  renderElement(element, undefined, options, inheritedXmlAttributes(element, options.algorithm), out);
  return out.join('');
}
