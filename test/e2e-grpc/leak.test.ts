// docs/threat-model.md §10 (T-L1..T-L5): canaries sent through the real servers (gRPC and HTTP forward-auth) must
// appear nowhere in the service log, the decision log or any response (allow or deny).
import { startHarness, cb, ISS_LEGACY } from '../support/app-harness';
import type { Answer, Harness, Transport } from '../support/app-harness';

jest.setTimeout(60_000);

let h: Harness;
const answers: Answer[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const ID_TOKEN = `${b64url('{"alg":"RS256","kid":"k"}')}.${b64url('{"iss":"https://legacy-idp.example.com","sub":"CANARYSUB"}')}.CANARYJWTSIG`;
const SAML = Buffer.from(
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="CANARYSAMLID" InResponseTo="CANARYINRESPONSE">' +
    '<saml:Issuer>https://legacy-idp.example.com</saml:Issuer><saml:Assertion>CANARYASSERTION</saml:Assertion></samlp:Response>',
).toString('base64');
const SECRET_HEADERS = {
  authorization: 'Bearer CANARYBEARER',
  cookie: 'sid=CANARYCOOKIE; __Host-cbp_hint=CANARYHINT',
  'webhook-signature': 'v1,CANARYWHSIG',
  'webhook-id': 'msg_CANARYWHID',
  'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
  'stripe-signature': 't=1,v1=CANARYSTRIPE',
  'x-hub-signature-256': 'sha256=CANARYHUB',
};
const CANARIES = [
  'CANARYCODE123', 'CANARYSTATE', 'CANARYJWTSIG', ID_TOKEN, SAML, 'CANARYRELAY', 'CANARYBEARER', 'CANARYCOOKIE', 'CANARYHINT',
  'CANARYWHSIG', 'CANARYSTRIPE', 'CANARYHUB', 'CANARYBODY', 'CANARYJSESSION', 'CANARYPATHSTATE', 'CANARYESCAPED',
];

const transports: Transport[] = ['grpc', 'http-envoy', 'http-traefik', 'http-nginx'];

describe.each(transports)('over %s', (t) => {
  test('T-L1: query canaries (deny and allow paths)', async () => {
    answers.push(await h.ask(t, { path: cb({ code: 'CANARYCODE123', state: 'CANARYSTATE' }) }));
    answers.push(await h.ask(t, { path: cb({ code: 'CANARYCODE123', state: ['CANARYSTATE', 'CANARYSTATE2'] }) }));
    const minted = await h.mint('legacy');
    const ok = await h.ask(t, { path: cb({ code: `CANARYCODE123${t}`, state: minted, iss: ISS_LEGACY }) });
    expect(ok.allowed).toBe(true);
    answers.push(ok);
    // The minted state is a secret too: it may be in our test variables, nowhere else.
    await new Promise((r) => setTimeout(r, 30));
    expect(h.logs.join('') + h.decisionLines.join('')).not.toContain(minted);
  });

  test('T-L2: form_post and SAML body canaries', async () => {
    const form = `state=CANARYSTATE&code=CANARYCODE123&id_token=${encodeURIComponent(ID_TOKEN)}`;
    const hdr = { 'content-type': 'application/x-www-form-urlencoded' };
    answers.push(await h.ask(t, { method: 'POST', path: '/oauth2/callback', body: form, headers: hdr }));
    const saml = `SAMLResponse=${encodeURIComponent(SAML)}&RelayState=CANARYRELAY`;
    answers.push(await h.ask(t, { method: 'POST', path: '/saml/acs', body: saml, headers: hdr }));
  });

  test('T-P3: path parameters on a path_param deny are masked, not logged verbatim', async () => {
    const paths = ['/oauth2/callback;jsessionid=CANARYJSESSION', '/webhooks/idp;state=CANARYPATHSTATE', '/oauth2/callback%3Bjsessionid=CANARYESCAPED?code=CANARYCODE123'];
    for (const path of paths) {
      const a = await h.ask(t, { path });
      expect(a).toMatchObject({ allowed: false, reason: 'path_param' });
      answers.push(a);
    }
    await new Promise((r) => setTimeout(r, 30));
    expect(h.logs.join('')).toContain('/oauth2/callback;jsessionid=REDACTED');
  });

  test('T-L3: secret headers on a callback and on the webhook route', async () => {
    answers.push(await h.ask(t, { path: cb({ code: 'CANARYCODE123', state: 'CANARYSTATE' }), headers: SECRET_HEADERS }));
    answers.push(await h.ask(t, { method: 'POST', path: '/webhooks/idp', body: '{"type":"CANARYBODY"}', headers: { ...SECRET_HEADERS, 'content-type': 'application/json' } }));
  });
});

test('T-L4/T-L5: no canary in any response, log line or decision log event; masking recorded', async () => {
  await new Promise((r) => setTimeout(r, 50));
  expect(answers.length).toBeGreaterThanOrEqual(40);
  const logs = h.logs.join('');
  const decisions = h.decisionLines.join('');
  expect(h.decisionLines.length).toBeGreaterThanOrEqual(40);
  for (const c of CANARIES) {
    for (const a of answers) expect(a.raw).not.toContain(c);
    expect(logs).not.toContain(c);
    expect(decisions).not.toContain(c);
  }
  // Denies carry only our generic body.
  for (const a of answers.filter((x) => !x.allowed)) expect(Object.keys(JSON.parse(a.body)).sort()).toEqual(['decision_id', 'error', 'reason']);
  // T-L5: all three copies of the query were masked, and the events say so.
  const ev = h.decisionLines.map((l) => JSON.parse(l)).find((e) => e.input?.parsed_query?.code);
  expect(ev).toBeDefined();
  expect(ev.masked).toEqual(expect.arrayContaining(['/input/parsed_query', '/input/attributes/request/http/path', '/input/attributes/request/http/headers/:path']));
  expect(ev.input.parsed_query.code).toEqual(['REDACTED']);
  // Query keys remain visible in the service log (REDACTED values).
  expect(logs).toContain('/oauth2/callback?code=REDACTED&state=REDACTED');
});
