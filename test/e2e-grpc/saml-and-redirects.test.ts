// SAML reading that refuses ambiguity (docs/threat-model.md T-M7) and same-origin https return targets
// (T-R3), over gRPC and HTTP. Each SAML shape below would otherwise route a legacy-issued assertion as
// the flow pinned to new: the proxy does not verify SAML signatures, so what it reads must be what the
// SP will trust, or the document is refused.
// Threat rows (docs/threat-model.md): T-M8, T-M9, T-M10, T-M11, T-M12, T-R6, T-R7.
import { startHarness, cb, ISS_LEGACY, ISS_NEW } from '../support/app-harness';
import type { Answer, Harness, Transport } from '../support/app-harness';
import { storePin } from './two-connections';
import { createDemoSetup } from '../../ext-authz/src/config/default';

jest.setTimeout(60_000);

const P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const response = (inner: string, extraNs = ''): string =>
  `<samlp:Response xmlns:samlp="${P}" xmlns:saml="${A}"${extraNs} ID="_r1" Version="2.0" InResponseTo="_q1" Destination="https://auth.example.com/saml/acs">${inner}</samlp:Response>`;
const assertion = (issuer: string): string => `<saml:Assertion ID="_a${issuer.length}"><saml:Issuer>${issuer}</saml:Issuer><saml:Subject/></saml:Assertion>`;
const encrypted = '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">bGVnYWN5</xenc:EncryptedData></saml:EncryptedAssertion>';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ demo: createDemoSetup() });
});
afterAll(async () => {
  await h?.close();
});

describe.each(['grpc', 'http-envoy'] as Transport[])('over %s', (t) => {
  /** POSTs a SAMLResponse whose RelayState is pinned to `pinned`. */
  const acs = async (xml: string, pinned: 'legacy' | 'new' = 'new'): Promise<Answer> => {
    const relay = await storePin(h, 'demo', pinned, 'form_post', 'relay');
    const body = `SAMLResponse=${encodeURIComponent(Buffer.from(xml).toString('base64'))}&RelayState=${encodeURIComponent(relay)}`;
    return h.ask(t, { method: 'POST', path: '/saml/acs', headers: FORM, body });
  };

  test('baseline: a plain response from the pinned IdP is routed; with no Response Issuer, the one Assertion\'s Issuer decides', async () => {
    expect(await acs(response(`<saml:Issuer>${ISS_NEW}</saml:Issuer>${assertion(ISS_NEW)}`))).toMatchObject({ allowed: true, backend: 'new' });
    expect(await acs(response(assertion(ISS_NEW)))).toMatchObject({ allowed: true, backend: 'new' });
    expect(await acs(response(assertion(ISS_LEGACY)))).toMatchObject({ allowed: false, reason: 'issuer_mismatch' });
  });

  test.each([
    ['a legacy assertion hidden inside Extensions', 'saml_assertion_misplaced',
      response(`<saml:Issuer>${ISS_NEW}</saml:Issuer><samlp:Extensions>${assertion(ISS_LEGACY)}</samlp:Extensions>`)],
    ['a fake first assertion before the legacy one', 'saml_multiple_assertions',
      response(`${assertion(ISS_NEW)}${assertion(ISS_LEGACY)}`)],
    ['an assertion next to a (legacy) EncryptedAssertion', 'saml_multiple_assertions',
      response(`${assertion(ISS_NEW)}${encrypted}`)],
    ['a Response Issuer in a foreign namespace over an EncryptedAssertion', 'saml_issuer_namespace',
      response(`<evil:Issuer>${ISS_NEW}</evil:Issuer>${encrypted}`, ' xmlns:evil="urn:example:evil"')],
    ['an Assertion Issuer in a foreign namespace', 'saml_issuer_namespace',
      response(`<saml:Assertion ID="_a"><evil:Issuer xmlns:evil="urn:example:evil">${ISS_NEW}</evil:Issuer></saml:Assertion>`)],
    ['an Assertion element in a foreign namespace', 'saml_issuer_namespace',
      response(`<saml:Issuer>${ISS_NEW}</saml:Issuer><x:Assertion xmlns:x="urn:example:evil"><saml:Issuer>${ISS_LEGACY}</saml:Issuer></x:Assertion>`)],
    ['an Issuer split by a comment', 'saml_issuer_ambiguous',
      response(`<saml:Issuer>${ISS_NEW}<!-- -->.evil</saml:Issuer>`)],
    ['two Response Issuers', 'saml_issuer_ambiguous',
      response(`<saml:Issuer>${ISS_NEW}</saml:Issuer><saml:Issuer>${ISS_LEGACY}</saml:Issuer>`)],
    ['Response and Assertion issuers that differ', 'saml_issuer_conflict',
      response(`<saml:Issuer>${ISS_NEW}</saml:Issuer>${assertion(ISS_LEGACY)}`)],
  ])('%s → %s', async (_n, reason, xml) => {
    expect(await acs(xml)).toMatchObject({ allowed: false, reason });
  });
});

describe.each(['grpc', 'http-envoy'] as Transport[])('returnTo over %s: same-origin over https only, path normalised first', (t) => {
  const withReturn = async (returnTo: string): Promise<Answer> => {
    const state = await storePin(h, 'demo', 'legacy');
    return h.ask(t, { path: cb({ code: `rt-${Math.random().toString(36).slice(2)}`, state, iss: ISS_LEGACY, returnTo }) });
  };

  test.each([
    ['an http: downgrade of the own origin', 'http://auth.example.com/home'],
    ['a dot segment hiding a protocol-relative path', '/.//evil.example'],
    ['an encoded dot segment', '/%2e//evil.example'],
    ['a parent segment at the root', '/..//evil.example'],
    ['userinfo on the own origin', 'https://user@auth.example.com/home'],
  ])('%s → open_redirect', async (_n, returnTo) => {
    expect(await withReturn(returnTo)).toMatchObject({ allowed: false, reason: 'open_redirect' });
  });

  test.each(['https://auth.example.com/home', '/account/settings?tab=1', 'account', '/a/./b/../c'])('%s is allowed', async (returnTo) => {
    expect(await withReturn(returnTo)).toMatchObject({ allowed: true, backend: 'legacy' });
  });
});
