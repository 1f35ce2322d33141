// SAMLResponse reading (SAML Bindings §3.5): DTD/entity refusal before parsing, namespace-agnostic
// Issuer / InResponseTo / Destination, bounded size.
import { readSamlResponse } from '../../../ext-authz/src/pipeline/facts/saml';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const resp = (inner: string, attrs = ''): string => `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"${attrs}>${inner}</samlp:Response>`;

describe('readSamlResponse', () => {
  it('reads the Response Issuer and attributes', () => {
    const r = readSamlResponse(b64(resp('<saml:Issuer>https://idp</saml:Issuer>', ' InResponseTo="_req1" Destination="https://sp/acs"')), 262144);
    expect(r).toEqual({ ok: true, facts: { issuer: 'https://idp', in_response_to: '_req1', destination: 'https://sp/acs' } });
  });

  it('falls back to the Assertion Issuer, any prefix', () => {
    const xml = '<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol"><a:Assertion xmlns:a="urn:oasis:names:tc:SAML:2.0:assertion"><a:Issuer Format="urn:x">https://idp2</a:Issuer></a:Assertion></p:Response>';
    const r = readSamlResponse(b64(xml), 262144);
    expect(r.ok && r.facts.issuer).toBe('https://idp2');
  });

  it('refuses Response and Assertion issuers that disagree (saml_issuer_conflict)', () => {
    const r = readSamlResponse(b64(resp('<saml:Issuer>https://a</saml:Issuer><saml:Assertion><saml:Issuer>https://b</saml:Issuer></saml:Assertion>')), 262144);
    expect(r).toEqual({ ok: false, reason: 'saml_issuer_conflict' });
  });

  it('tolerates base64 line wrapping', () => {
    const enc = b64(resp('<saml:Issuer>https://idp</saml:Issuer>')).replace(/(.{60})/g, '$1\r\n');
    expect(readSamlResponse(enc, 262144).ok).toBe(true);
  });

  it.each([
    ['XXE', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + resp('<saml:Issuer>&x;</saml:Issuer>')],
    ['billion laughs', '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + resp('<saml:Issuer>&b;</saml:Issuer>')],
    ['lower-case doctype', '<!doctype r>' + resp('')],
    ['not a Response', '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'],
    ['not XML', 'hello'],
  ])('%s → saml_malformed', (_n, xml) => {
    expect(readSamlResponse(b64(xml), 262144)).toEqual({ ok: false, reason: 'saml_malformed' });
  });

  it('strict base64: a re-spelling (pad bits, missing padding, url alphabet, spaces) → non_canonical_encoding', () => {
    const good = b64(resp('<saml:Issuer>https://idp</saml:Issuer>', ' ID="_a?b>c"'));
    expect(readSamlResponse(good, 262144).ok).toBe(true);
    const unpadded = good.replace(/=+$/, '');
    expect(unpadded).not.toBe(good);
    for (const v of [unpadded, good.replace(/\+/g, '-').replace(/\//g, '_'), `${good.slice(0, 8)} ${good.slice(8)}`, `${good.slice(0, 8)}\t${good.slice(8)}`]) {
      if (v === good) continue;
      expect(readSamlResponse(v, 262144)).toEqual({ ok: false, reason: 'non_canonical_encoding' });
    }
  });

  it('not base64 → saml_malformed; over the limit → param_too_long', () => {
    expect(readSamlResponse('***', 262144)).toEqual({ ok: false, reason: 'saml_malformed' });
    expect(readSamlResponse(b64(resp('x'.repeat(2000))), 1000)).toEqual({ ok: false, reason: 'param_too_long' });
  });
});
