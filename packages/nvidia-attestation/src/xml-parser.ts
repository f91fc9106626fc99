// A strict, non-validating XML 1.0 + Namespaces parser for signed documents such as NVIDIA's RIMs. It builds the
// XPath data model that Canonical XML needs (elements, attributes, namespace bindings in scope, text) and
// refuses everything a signed manifest has no use for and that enables attacks on XML signatures or parsers:
// DOCTYPE (so no entity expansion), processing instructions other than the XML declaration, undeclared entities,
// unbound prefixes, duplicate attributes, illegal characters. Comments are dropped (canonicalization without
// comments removes them), CDATA sections become text, adjacent text is merged.

/** The XML namespace (bound to the `xml` prefix). */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** Largest document accepted, in characters. */
export const MAX_XML_LENGTH = 4 * 1024 * 1024;
/** Deepest element nesting accepted. */
export const MAX_XML_DEPTH = 64;
const MAX_ATTRIBUTES = 256;
const MAX_ELEMENTS = 100_000;

/** An attribute (namespace declarations excluded). */
export interface XmlAttribute {
  /** Qualified name as written. */
  readonly qualifiedName: string;
  /** Local name. */
  readonly localName: string;
  /** Namespace URI, or `''` for an unprefixed attribute. */
  readonly namespaceUri: string;
  /** Normalized value. */
  readonly value: string;
}

/** A text node (character data after reference expansion and line-end normalization). */
export interface XmlText {
  /** Node kind. */
  readonly kind: 'text';
  /** The characters. */
  value: string;
}

/** An element. */
export interface XmlElement {
  /** Node kind. */
  readonly kind: 'element';
  /** Qualified name as written. */
  readonly qualifiedName: string;
  /** Local name. */
  readonly localName: string;
  /** Namespace URI, or `''` when the element is in no namespace. */
  readonly namespaceUri: string;
  /** Attributes in document order. */
  readonly attributes: readonly XmlAttribute[];
  /**
   * Namespace bindings in scope (prefix → URI, `''` for the default namespace, absent when undeclared), the
   * `xml` prefix excluded: the element's namespace axis.
   */
  readonly namespaces: ReadonlyMap<string, string>;
  /** Children in document order. */
  readonly children: Array<XmlElement | XmlText>;
  /** Parent element, undefined for the document element. */
  readonly parent: XmlElement | undefined;
}

/** Raised by the parser; callers map it to their own typed error. */
export class XmlParseError extends Error {
  override name = 'XmlParseError';
}

const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NCNAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
const NAME_AT = new RegExp(`[${NAME_START}:][${NAME_CHAR}:]*`, 'uy');
const ILLEGAL_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const WHITESPACE = /[ \t\n]/;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isLegalCharacter(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

interface RawAttribute {
  name: string;
  value: string;
}

class Parser {
  readonly #text: string;
  #position = 0;
  #elements = 0;
  /** Names already checked against NCName (documents repeat a few names many times). */
  readonly #validNames = new Set<string>();

  constructor(text: string) {
    this.#text = text;
  }

  #fail(message: string): never {
    throw new XmlParseError(`${message} at offset ${this.#position}`);
  }

  #startsWith(token: string): boolean {
    return this.#text.startsWith(token, this.#position);
  }

  #expect(token: string): void {
    if (!this.#startsWith(token)) this.#fail(`expected "${token}"`);
    this.#position += token.length;
  }

  #skipWhitespace(): boolean {
    const start = this.#position;
    for (;;) {
      const code = this.#text.charCodeAt(this.#position);
      if (code !== 0x20 && code !== 0x0a && code !== 0x09) break;
      this.#position++;
    }
    return this.#position > start;
  }

  #isNcName(name: string): boolean {
    if (this.#validNames.has(name)) return true;
    if (!NCNAME.test(name)) return false;
    this.#validNames.add(name);
    return true;
  }

  #name(): string {
    NAME_AT.lastIndex = this.#position;
    const match = NAME_AT.exec(this.#text);
    if (match === null) this.#fail('expected a name');
    this.#position += match[0].length;
    return match[0];
  }

  /** Expands one reference starting at `&`; returns the characters it stands for. */
  #reference(): string {
    this.#expect('&');
    const end = this.#text.indexOf(';', this.#position);
    if (end < 0 || end - this.#position > 16) this.#fail('unterminated reference');
    const body = this.#text.slice(this.#position, end);
    this.#position = end + 1;
    if (body.startsWith('#')) {
      const code = /^#x[0-9a-fA-F]+$/.test(body)
        ? Number.parseInt(body.slice(2), 16)
        : /^#[0-9]+$/.test(body)
          ? Number.parseInt(body.slice(1), 10)
          : Number.NaN;
      if (!isLegalCharacter(code)) this.#fail(`character reference &${body}; is not a legal character`);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[body];
    if (value === undefined) this.#fail(`undeclared entity &${body};`);
    return value;
  }

  #attributeValue(): string {
    const quote = this.#text[this.#position];
    if (quote !== '"' && quote !== "'") this.#fail('expected a quoted attribute value');
    this.#position++;
    const end = this.#text.indexOf(quote, this.#position);
    if (end < 0) this.#fail('unterminated attribute value');
    const literal = this.#text.slice(this.#position, end);
    if (!/[<&\t\n]/.test(literal)) {
      this.#position = end + 1;
      return literal;
    }
    let value = '';
    for (;;) {
      const character = this.#text[this.#position];
      if (character === undefined) this.#fail('unterminated attribute value');
      if (character === quote) break;
      if (character === '<') this.#fail('"<" in an attribute value');
      if (character === '&') value += this.#reference();
      else {
        // Attribute-value normalization for CDATA attributes (there is no DTD): white space becomes a space.
        value += character === '\t' || character === '\n' ? ' ' : character;
        this.#position++;
      }
    }
    this.#position++;
    return value;
  }

  #skipMisc(): void {
    for (;;) {
      this.#skipWhitespace();
      if (this.#startsWith('<!--')) this.#comment();
      else if (this.#startsWith('<?')) this.#fail('processing instructions are not accepted');
      else if (this.#startsWith('<!DOCTYPE') || this.#startsWith('<!doctype'))
        this.#fail('DOCTYPE is not accepted');
      else return;
    }
  }

  #comment(): void {
    this.#expect('<!--');
    const end = this.#text.indexOf('--', this.#position);
    if (end < 0) this.#fail('unterminated comment');
    if (this.#text[end + 2] !== '>') this.#fail('"--" inside a comment');
    this.#position = end + 3;
  }

  #xmlDeclaration(): void {
    if (!this.#startsWith('<?xml') || !WHITESPACE.test(this.#text[this.#position + 5] ?? '')) return;
    const end = this.#text.indexOf('?>', this.#position);
    if (end < 0) this.#fail('unterminated XML declaration');
    const declaration = this.#text.slice(this.#position, end + 2);
    const match =
      /^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>$/.exec(
        declaration,
      );
    if (match === null) this.#fail('malformed XML declaration');
    const encoding = match[3];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding))
      this.#fail(`encoding ${encoding} is not UTF-8`);
    this.#position = end + 2;
  }

  parse(): XmlElement {
    if (this.#text.length > MAX_XML_LENGTH) this.#fail('document too large');
    const illegal = ILLEGAL_CHARACTER.exec(this.#text);
    if (illegal !== null) {
      this.#position = illegal.index;
      this.#fail('illegal character');
    }
    this.#xmlDeclaration();
    this.#skipMisc();
    if (!this.#startsWith('<')) this.#fail('expected the document element');
    const root = this.#element(undefined, new Map(), 1);
    this.#skipMisc();
    if (this.#position !== this.#text.length) this.#fail('content after the document element');
    return root;
  }

  #element(parent: XmlElement | undefined, bindings: ReadonlyMap<string, string>, depth: number): XmlElement {
    if (depth > MAX_XML_DEPTH) this.#fail('elements nested too deeply');
    if (++this.#elements > MAX_ELEMENTS) this.#fail('too many elements');
    this.#expect('<');
    const qualifiedName = this.#name();
    const raw: RawAttribute[] = [];
    for (;;) {
      const spaced = this.#skipWhitespace();
      if (this.#startsWith('/>') || this.#startsWith('>')) break;
      if (!spaced) this.#fail('expected white space before an attribute');
      const name = this.#name();
      this.#skipWhitespace();
      this.#expect('=');
      this.#skipWhitespace();
      raw.push({ name, value: this.#attributeValue() });
      if (raw.length > MAX_ATTRIBUTES) this.#fail('too many attributes');
    }
    const declares = raw.some((item) => item.name === 'xmlns' || item.name.startsWith('xmlns:'));
    // Bindings are shared with the parent unless this element declares some (maps never change afterwards).
    const scope = declares ? new Map(bindings) : (bindings as Map<string, string>);
    const declared = new Set<string>();
    const plain: RawAttribute[] = [];
    for (const attribute of raw) {
      if (attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) {
        const prefix = attribute.name === 'xmlns' ? '' : attribute.name.slice(6);
        if (declared.has(prefix)) this.#fail(`namespace ${prefix || '(default)'} declared twice`);
        declared.add(prefix);
        if (prefix !== '' && !NCNAME.test(prefix)) this.#fail(`invalid prefix ${prefix}`);
        if (prefix === 'xmlns' || attribute.value === XMLNS_NAMESPACE)
          this.#fail('the xmlns namespace is reserved');
        if ((prefix === 'xml') !== (attribute.value === XML_NAMESPACE))
          this.#fail('the xml prefix is reserved');
        if (prefix !== '' && attribute.value === '') this.#fail(`prefix ${prefix} cannot be undeclared`);
        if (prefix === 'xml') continue; // binding xml to its own namespace is allowed and changes nothing
        if (prefix === '' && attribute.value === '') scope.delete('');
        else scope.set(prefix, attribute.value);
      } else plain.push(attribute);
    }
    const resolve = (name: string, isElement: boolean): { localName: string; namespaceUri: string } => {
      const colon = name.indexOf(':');
      if (colon < 0) {
        if (!this.#isNcName(name)) this.#fail(`invalid name ${name}`);
        return { localName: name, namespaceUri: isElement ? (scope.get('') ?? '') : '' };
      }
      const prefix = name.slice(0, colon);
      const localName = name.slice(colon + 1);
      if (!this.#isNcName(prefix) || !this.#isNcName(localName)) this.#fail(`invalid qualified name ${name}`);
      if (prefix === 'xml') {
        if (isElement) this.#fail('the xml prefix is reserved');
        return { localName, namespaceUri: XML_NAMESPACE };
      }
      const namespaceUri = scope.get(prefix);
      if (namespaceUri === undefined) this.#fail(`unbound prefix ${prefix}`);
      return { localName, namespaceUri };
    };
    const elementName = resolve(qualifiedName, true);
    const attributes: XmlAttribute[] = [];
    const seen = new Set<string>();
    for (const attribute of plain) {
      const name = resolve(attribute.name, false);
      const key = `${name.namespaceUri}|${name.localName}`;
      if (seen.has(key) || seen.has(`#${attribute.name}`))
        this.#fail(`duplicate attribute ${attribute.name}`);
      seen.add(key);
      seen.add(`#${attribute.name}`);
      attributes.push({ qualifiedName: attribute.name, ...name, value: attribute.value });
    }
    const element: XmlElement = {
      kind: 'element',
      qualifiedName,
      ...elementName,
      attributes,
      namespaces: scope,
      children: [],
      parent,
    };
    if (this.#startsWith('/>')) {
      this.#position += 2;
      return element;
    }
    this.#expect('>');
    this.#content(element, scope, depth);
    this.#expect('</');
    if (this.#name() !== qualifiedName) this.#fail(`end tag does not match <${qualifiedName}>`);
    this.#skipWhitespace();
    this.#expect('>');
    return element;
  }

  #content(element: XmlElement, scope: ReadonlyMap<string, string>, depth: number): void {
    const appendText = (value: string) => {
      if (value.length === 0) return;
      const last = element.children[element.children.length - 1];
      if (last?.kind === 'text') last.value += value;
      else element.children.push({ kind: 'text', value });
    };
    for (;;) {
      if (this.#position >= this.#text.length) this.#fail(`unterminated element <${element.qualifiedName}>`);
      if (this.#startsWith('</')) return;
      if (this.#startsWith('<!--')) this.#comment();
      else if (this.#startsWith('<![CDATA[')) {
        const end = this.#text.indexOf(']]>', this.#position + 9);
        if (end < 0) this.#fail('unterminated CDATA section');
        appendText(this.#text.slice(this.#position + 9, end));
        this.#position = end + 3;
      } else if (this.#startsWith('<?')) this.#fail('processing instructions are not accepted');
      else if (this.#startsWith('<!')) this.#fail('markup declarations are not accepted');
      else if (this.#startsWith('<')) element.children.push(this.#element(element, scope, depth + 1));
      else if (this.#startsWith('&')) appendText(this.#reference());
      else {
        const lessThan = this.#text.indexOf('<', this.#position);
        const ampersand = this.#text.indexOf('&', this.#position);
        let end = lessThan < 0 ? this.#text.length : lessThan;
        if (ampersand >= 0 && ampersand < end) end = ampersand;
        const chunk = this.#text.slice(this.#position, end);
        if (chunk.includes(']]>')) this.#fail('"]]>" in character data');
        appendText(chunk);
        this.#position = end;
      }
    }
  }
}

/**
 * Parses an XML document (text already decoded from UTF-8; a leading BOM is allowed). Line ends are normalized
 * to `\n` first, as XML 1.0 section 2.11 requires.
 * @throws XmlParseError for anything that is not a well-formed, namespace-well-formed document of the
 *   accepted subset.
 */
export function parseXml(text: string): XmlElement {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return new Parser(body.replace(/\r\n?/g, '\n')).parse();
}

/** The element children of an element. */
export function childElements(element: XmlElement): XmlElement[] {
  return element.children.filter((child): child is XmlElement => child.kind === 'element');
}

/** The concatenated text children of an element. */
export function textContent(element: XmlElement): string {
  return element.children.map((child) => (child.kind === 'text' ? child.value : '')).join('');
}

/** The value of an attribute by namespace URI (`''` for none) and local name. */
export function attribute(element: XmlElement, localName: string, namespaceUri = ''): string | undefined {
  return element.attributes.find((item) => item.localName === localName && item.namespaceUri === namespaceUri)
    ?.value;
}
