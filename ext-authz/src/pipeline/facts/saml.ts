// SAML facts (SAML 2.0 Bindings §3.5 HTTP-POST): decode SAMLResponse, refuse any DTD/entity before
// parsing (XXE, billion laughs), read Issuer / InResponseTo / Destination — read, never trusted alone.
import { XMLParser } from 'fast-xml-parser';
import type { ReasonCode } from '../../model/reasons';
import { decodeBase64, encodingReason } from '../encoding/strict-codecs';

export interface SamlFacts {
  issuer: string | null;
  in_response_to: string | null;
  destination: string | null;
}

export type SamlResult = { ok: true; facts: SamlFacts; issuerConflict: boolean } | { ok: false; reason: ReasonCode };

// One parser, configured once: no entity expansion, attributes kept, namespace prefixes dropped so
// `samlp:Response` and `saml2p:Response` read the same.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

function text(node: unknown): string | null {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.length === 1 ? text(node[0]) : null;
  if (node && typeof node === 'object') {
    const t = (node as Record<string, unknown>)['#text'];
    return typeof t === 'string' ? t : null;
  }
  return null;
}

function attr(node: unknown, name: string): string | null {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null;
  const v = (node as Record<string, unknown>)[`@_${name}`];
  return typeof v === 'string' ? v : null;
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
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return { ok: false, reason: 'saml_malformed' };
  }
  const resp = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).Response : undefined;
  if (!resp || typeof resp !== 'object' || Array.isArray(resp)) return { ok: false, reason: 'saml_malformed' };
  const r = resp as Record<string, unknown>;
  const respIssuer = text(r.Issuer);
  const assertion = Array.isArray(r.Assertion) ? r.Assertion[0] : r.Assertion;
  const asIssuer = assertion && typeof assertion === 'object' ? text((assertion as Record<string, unknown>).Issuer) : null;
  return {
    ok: true,
    facts: { issuer: respIssuer ?? asIssuer, in_response_to: attr(r, 'InResponseTo'), destination: attr(r, 'Destination') },
    // Two issuers that disagree inside one response are an attack or a broken IdP either way.
    issuerConflict: respIssuer !== null && asIssuer !== null && respIssuer !== asIssuer,
  };
}
