// SAML facts (SAML 2.0 Bindings §3.5 HTTP-POST): decode SAMLResponse, refuse any DTD/entity before
// parsing (XXE, billion laughs), then read Issuer / InResponseTo / Destination namespace-aware and
// refuse every document a service provider could read differently from us (docs/threat-model.md T-M7).
// The proxy does not verify SAML signatures; what it routes by must be what the SP will trust, so
// ambiguity is a deny, never a guess:
//   * the root is samlp:Response (protocol namespace), the document well-formed, every prefix bound;
//   * at most one Assertion or EncryptedAssertion in the whole document, and only as a direct child of
//     the Response (never inside Extensions, Advice or anything else);
//   * every Issuer is in the assertion namespace, at most one per Response / Assertion, nowhere else,
//     and its text is one plain run (no comment or CDATA splitting it);
//   * a Response Issuer and an Assertion Issuer that differ are refused; with no Response Issuer, the
//     one top-level Assertion's Issuer decides (an EncryptedAssertion's is unreadable: none).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ReasonCode } from '../../model/reasons';
import { decodeBase64, encodingReason } from '../encoding/strict-codecs';

export interface SamlFacts {
  issuer: string | null;
  in_response_to: string | null;
  destination: string | null;
}

export type SamlResult = { ok: true; facts: SamlFacts } | { ok: false; reason: ReasonCode };

/** SAML Core §2.2 (assertion) and §3.2 (protocol) namespace names. */
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

// One parser, configured once: no entity expansion, prefixes kept (resolved below against the xmlns
// declarations in scope), every element a list, comments and CDATA kept apart so they can be refused.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  alwaysCreateTextNode: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

type XmlNode = Record<string, unknown>;
type Scope = ReadonlyMap<string, string>;

class Refusal {
  constructor(readonly reason: ReasonCode) {}
}

function isElementKey(k: string): boolean {
  return !k.startsWith('@_') && k !== '#text' && k !== '#comment' && k !== '#cdata';
}

/** The element's namespace scope: the parent's plus its own xmlns / xmlns:p declarations. */
function scopeOf(node: XmlNode, parent: Scope): Scope {
  let scope: Map<string, string> | null = null;
  for (const k of Object.keys(node)) {
    if (k !== '@_xmlns' && !k.startsWith('@_xmlns:')) continue;
    scope ??= new Map(parent);
    scope.set(k === '@_xmlns' ? '' : k.slice('@_xmlns:'.length), String(node[k]));
  }
  return scope ?? parent;
}

/** `p:Local` → {ns, local}; an unbound prefix is malformed (a namespace-aware parser rejects it). */
function qname(name: string, scope: Scope): { ns: string | null; local: string } {
  const colon = name.indexOf(':');
  if (colon < 0) return { ns: scope.get('') ?? null, local: name };
  const prefix = name.slice(0, colon);
  const ns = prefix === 'xml' ? XML_NS : scope.get(prefix);
  if (ns === undefined) throw new Refusal('saml_malformed');
  return { ns, local: name.slice(colon + 1) };
}

interface Found {
  assertions: { node: XmlNode; scope: Scope; encrypted: boolean }[];
  responseIssuers: XmlNode[];
}

/**
 * Walks the whole tree under the Response. `depth` 1 = a direct child of the Response, 2 = a child of
 * a top-level Assertion.
 */
function walk(node: XmlNode, scope: Scope, depth: number, parentLocal: string, found: Found, budget: { n: number }): void {
  for (const k of Object.keys(node)) {
    if (!isElementKey(k)) continue;
    const list = node[k];
    if (!Array.isArray(list)) continue;
    for (const child of list as XmlNode[]) {
      if (--budget.n < 0) throw new Refusal('saml_malformed');
      if (!child || typeof child !== 'object') continue;
      const s = scopeOf(child, scope);
      const { ns, local } = qname(k, s);
      if (local === 'Assertion' || local === 'EncryptedAssertion') {
        if (ns !== SAML_ASSERTION_NS) throw new Refusal('saml_issuer_namespace');
        if (depth !== 1) throw new Refusal('saml_assertion_misplaced');
        found.assertions.push({ node: child, scope: s, encrypted: local === 'EncryptedAssertion' });
        if (found.assertions.length > 1) throw new Refusal('saml_multiple_assertions');
      } else if (local === 'Issuer') {
        if (ns !== SAML_ASSERTION_NS) throw new Refusal('saml_issuer_namespace');
        // Issuers belong directly under the Response or directly under the top-level Assertion.
        if (depth === 1) found.responseIssuers.push(child);
        else if (!(depth === 2 && parentLocal === 'Assertion')) throw new Refusal('saml_issuer_ambiguous');
      }
      walk(child, s, depth + 1, local, found, budget);
    }
  }
}

/** The Issuer's text: exactly one plain text run, else ambiguous. */
function issuerText(nodes: XmlNode[]): string | null {
  if (nodes.length === 0) return null;
  if (nodes.length > 1) throw new Refusal('saml_issuer_ambiguous');
  const n = nodes[0];
  if (n['#comment'] !== undefined || n['#cdata'] !== undefined) throw new Refusal('saml_issuer_ambiguous');
  for (const k of Object.keys(n)) if (isElementKey(k)) throw new Refusal('saml_issuer_ambiguous');
  const t = n['#text'];
  return typeof t === 'string' && t.length > 0 ? t : null;
}

/** The Issuer children of a top-level Assertion (their namespace was checked by the walk). */
function assertionIssuers(a: { node: XmlNode; scope: Scope }): XmlNode[] {
  const out: XmlNode[] = [];
  for (const k of Object.keys(a.node)) {
    if (!isElementKey(k)) continue;
    const list = a.node[k];
    if (!Array.isArray(list)) continue;
    for (const child of list as XmlNode[]) {
      if (child && typeof child === 'object' && qname(k, scopeOf(child, a.scope)).local === 'Issuer') out.push(child);
    }
  }
  return out;
}

function attr(node: XmlNode, name: string): string | null {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : null;
}

function read(xml: string): SamlResult {
  // Well-formedness first: a lenient parse that differs from the SP's strict one is itself ambiguity.
  let doc: unknown;
  try {
    if (XMLValidator.validate(xml) !== true) return { ok: false, reason: 'saml_malformed' };
    doc = parser.parse(xml) as unknown;
  } catch {
    return { ok: false, reason: 'saml_malformed' }; // the parser refused the text itself
  }
  if (!doc || typeof doc !== 'object') return { ok: false, reason: 'saml_malformed' };
  const roots = Object.keys(doc).filter(isElementKey);
  const rootList = roots.length === 1 ? (doc as XmlNode)[roots[0]] : null;
  if (!Array.isArray(rootList) || rootList.length !== 1) return { ok: false, reason: 'saml_malformed' };
  const root = rootList[0] as XmlNode;
  const scope = scopeOf(root, new Map());
  const { ns, local } = qname(roots[0], scope);
  if (local !== 'Response' || ns !== SAML_PROTOCOL_NS) return { ok: false, reason: 'saml_malformed' };
  const found: Found = { assertions: [], responseIssuers: [] };
  walk(root, scope, 1, 'Response', found, { n: 10_000 });
  const respIssuer = issuerText(found.responseIssuers);
  const top = found.assertions[0];
  const asIssuer = top && !top.encrypted ? issuerText(assertionIssuers(top)) : null;
  // Two issuers that disagree inside one response are an attack or a broken IdP either way.
  if (respIssuer !== null && asIssuer !== null && respIssuer !== asIssuer) return { ok: false, reason: 'saml_issuer_conflict' };
  return { ok: true, facts: { issuer: respIssuer ?? asIssuer, in_response_to: attr(root, 'InResponseTo'), destination: attr(root, 'Destination') } };
}

/**
 * Decodes and reads a SAMLResponse value (already form-decoded). `maxBytes` bounds the XML. The base64
 * is decoded strictly (one spelling per response; only the line breaks of RFC 2045 §6.8, which some
 * IdPs still write, are skipped).
 */
export function readSamlResponse(value: string, maxBytes: number): SamlResult {
  // Four characters per three bytes, plus a CR LF per 76 characters at most.
  const maxChars = Math.ceil((maxBytes * 4) / 3) + 4;
  if (value.length > maxChars + Math.ceil(maxChars / 76) * 2) return { ok: false, reason: 'param_too_long' };
  const decoded = decodeBase64(value, { lineBreaks: true });
  if (!decoded.ok) return { ok: false, reason: encodingReason(decoded.problem, 'saml_malformed') };
  if (decoded.bytes.length > maxBytes) return { ok: false, reason: 'param_too_long' };
  const xml = decoded.bytes.toString('utf8');
  // Refused before the parser runs: SAML never needs a DTD (SAML Core §1.3, Security §6.4.5).
  if (/<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST/i.test(xml)) return { ok: false, reason: 'saml_malformed' };
  try {
    return read(xml);
  } catch (e) {
    // A refusal is the document's fault; anything else is a bug and goes to the check core.
    if (e instanceof Refusal) return { ok: false, reason: e.reason };
    throw e;
  }
}
