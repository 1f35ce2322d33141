// gatherFacts over the demo registry: threat-model rows at the facts level (the policy turns these facts
// into decisions; here we assert the facts and violations it will see). Real keys, real stores.
import { createHmac } from 'node:crypto';
import { gatherFacts } from '../../../ext-authz/src/pipeline/facts/gather';
import type { FactsDeps } from '../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../ext-authz/src/pipeline/facts/keyed-hash';
import { hintSetCookie } from '../../../ext-authz/src/pipeline/pins/cookie-hint';
import { createPin, mintState } from '../../../ext-authz/src/pipeline/pins/mint';
import type { GatheredFacts } from '../../../ext-authz/src/pipeline/facts/gather';
import { fixture, get, ISS_L, ISS_N, NOW, post, signToken } from './fixtures';

/** What the pipeline's commit phase does for a forwarded request: write the request's markers. */
async function commit(deps: FactsDeps, f: GatheredFacts): Promise<void> {
  const r = await deps.replayStore.commit(f.markers.filter((m) => m.commit));
  if (!r.ok) throw new Error('commit refused');
}

const CB = '/oauth2/callback';

async function envelope(deps: FactsDeps, backend: 'new' = 'new'): Promise<string> {
  return (await mintState('demo', backend, deps, NOW)).state;
}
async function stored(deps: FactsDeps, backend: 'legacy' | 'new', mode: 'query' | 'form_post' | null = null, at = NOW): Promise<string> {
  const state = `st-${Math.random().toString(36).slice(2)}`;
  await createPin('demo', backend, state, mode, deps, at);
  return state;
}

describe('gatherFacts: happy paths and pins (docs/architecture.md, "Pins")', () => {
  it('acceptance 1/4: an envelope state for new is found once, then consumed_before', async () => {
    const { deps } = fixture();
    const s = await envelope(deps);
    const q = `${CB}?code=c1&state=${encodeURIComponent(s)}&iss=${encodeURIComponent(ISS_N)}`;
    const f = await gatherFacts(get(q), deps, NOW);
    expect(f.connection?.name).toBe('demo');
    expect(f.input.callback).toMatchObject({ kind: 'oauth_query', route: CB, response_mode: 'query', iss: ISS_N, violations: [] });
    expect(f.input.pin).toMatchObject({ found: true, backend: 'new', issuer: ISS_N, source: 'envelope', consumed_before: false, error: null });
    expect(f.flowKeyHash).toBe(keyedHash(deps.keys.hash, 'state', s));
    // Facts only read: without a commit (a refused request), the state stays usable.
    expect((await gatherFacts(get(q.replace('c1', 'c3')), deps, NOW)).input.pin.consumed_before).toBe(false);
    await commit(deps, f);
    const again = await gatherFacts(get(q.replace('c1', 'c2')), deps, NOW + 1000);
    expect(again.input.pin.consumed_before).toBe(true); // T-S4 → state_replayed
  });

  it('acceptance 3: a store pin for legacy', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'legacy');
    const f = await gatherFacts(get(`${CB}?code=c&state=${s}&iss=${encodeURIComponent(ISS_L)}`), deps, NOW);
    expect(f.input.pin).toMatchObject({ found: true, backend: 'legacy', issuer: ISS_L, source: 'store', consumed_before: false });
    expect(f.input.migration).toMatchObject({ connection: 'demo', stage: 'canary', percent: 50, legacy: 'legacy', new: 'new' });
    expect(f.input.migration?.issuers[ISS_N]).toEqual({ backend: 'new', iss_parameter_supported: true });
  });

  it('T-S4: a store pin replayed', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'new');
    await commit(deps, await gatherFacts(get(`${CB}?code=a&state=${s}`), deps, NOW));
    const f = await gatherFacts(get(`${CB}?code=b&state=${s}`), deps, NOW);
    expect(f.input.pin).toMatchObject({ found: true, consumed_before: true });
  });

  it('T-S1/T-S7: no state', async () => {
    const { deps } = fixture();
    for (const q of ['?code=c', '?error=server_error']) {
      const f = await gatherFacts(get(CB + q), deps, NOW);
      expect(f.input.callback.state_present).toBe(false);
      expect(f.input.pin.found).toBe(false);
      expect(f.input.callback.violations).toEqual([]);
    }
  });

  it('T-S2/T-Q4: an unknown state resolves to nothing', async () => {
    const { deps } = fixture();
    for (const q of ['?code=c&state=random', '?state=A%26code%3DB']) {
      const f = await gatherFacts(get(CB + q), deps, NOW);
      expect(f.input.pin).toMatchObject({ found: false, error: null });
      expect(f.input.callback.violations).toEqual([]);
    }
  });

  it('T-S3: an expired store pin and an expired envelope', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'legacy', null, NOW - 700_000);
    const f = await gatherFacts(get(`${CB}?code=c&state=${s}`), deps, NOW);
    expect(f.input.pin).toMatchObject({ found: true, expired: true, error: 'state_expired' });
    const e = await envelope(deps);
    const g = await gatherFacts(get(`${CB}?code=c2&state=${e}`), deps, NOW + 601_000);
    expect(g.input.pin).toMatchObject({ found: true, expired: true, error: 'state_expired', source: 'envelope' });
  });

  it('T-S5: a tampered envelope is state_bad_mac, never a store lookup', async () => {
    const { deps } = fixture();
    const e = await envelope(deps);
    const parts = e.split('.');
    const bad = [parts[0], parts[1], parts[2], parts[3], parts[4].slice(0, -2) + (parts[4].endsWith('AA') ? 'BB' : 'AA')].join('.');
    for (const s of [bad, `v1.new.${parts[2]}.badmac.x`, `v1.legacy.${parts[2]}.${parts[3]}.${parts[4]}`, e.replace('v1.new.', 'v1.new.9')]) {
      const f = await gatherFacts(get(`${CB}?code=c&state=${encodeURIComponent(s)}`), deps, NOW);
      expect(f.input.pin.error).toBe('state_bad_mac');
      expect(f.input.callback.violations).toContain('state_bad_mac');
    }
  });

  it('T-S6: an error callback keeps its pin facts', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'legacy');
    const f = await gatherFacts(get(`${CB}?error=access_denied&state=${s}&iss=${encodeURIComponent(ISS_L)}`), deps, NOW);
    expect(f.input.callback.error).toBe('access_denied');
    expect(f.input.pin.backend).toBe('legacy');
  });

  it('T-S8: response mode of the pin vs the request', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'new', 'form_post');
    const f = await gatherFacts(get(`${CB}?code=c&state=${s}`), deps, NOW);
    expect(f.input.pin.response_mode).toBe('form_post');
    expect(f.input.callback.response_mode).toBe('query');
  });

  it('T-T1: a pin of another connection is reported with its connection', async () => {
    const { deps } = fixture((r) => {
      const other = structuredClone(r.connections[0]);
      other.name = 'tenant-b';
      other.hosts = ['b.example.com'];
      r.connections.push(other);
    });
    const state = 'tenant-b-state';
    await createPin('tenant-b', 'legacy', state, null, deps, NOW);
    const f = await gatherFacts(get(`${CB}?code=c&state=${state}`), deps, NOW);
    expect(f.connection?.name).toBe('demo');
    expect(f.input.pin.connection).toBe('tenant-b');
    // Envelopes are MAC-bound to their connection.
    const env = (await mintState('tenant-b', 'new', deps, NOW)).state;
    const g = await gatherFacts(get(`${CB}?code=c2&state=${env}`), deps, NOW);
    expect(g.input.pin.error).toBe('state_bad_mac');
  });

  it('cookie hint: a valid __Host-cbp_hint is reported as a hint only', async () => {
    const { deps } = fixture();
    const cookie = hintSetCookie(deps.keys.cookie, 'demo', 'new', NOW, 600).split(';')[0];
    const f = await gatherFacts(get(`${CB}?code=c&state=unknown`, { headers: { cookie: `a=b; ${cookie}` } }), deps, NOW);
    expect(f.input.pin).toMatchObject({ found: false, hint_backend: 'new' });
    // Forged: every other last character. This used to flip 'A' ↔ 'B' and fail in ~6 % of runs: the
    // MAC's 43rd character carries 4 data bits and 2 unused ones, so a minted MAC ends in one of the 16
    // characters with zero low bits; when that was 'A' (1 in 16) the "forgery" 'B' differed only in the
    // unused bits and the lenient base64url decoder read the genuine MAC out of it. The MAC is now
    // decoded strictly (pipeline/encoding/strict-codecs.ts), so no other spelling verifies, and the
    // test tries all 63 other characters instead of one picked by chance.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = cookie[cookie.length - 1];
    let tried = 0;
    for (const c of alphabet) {
      if (c === last) continue;
      const forged = cookie.slice(0, -1) + c;
      // Each from its own source: 63 unknown states from one would pass its unknown-state allowance
      // (rate_limited before the pin provider reads the hint; docs/threat-model.md T-C6).
      const g = await gatherFacts(get(`${CB}?code=c${tried}&state=unknown`, { headers: { cookie: forged }, sourceIp: `198.51.100.${tried + 1}` }), deps, NOW);
      expect(g.input.pin.hint_backend).toBeNull();
      tried++;
    }
    expect(tried).toBe(63);
  });

  it('T-S4: a used envelope re-sent with another spelling of its MAC is refused, never a fresh pin', async () => {
    const { deps } = fixture();
    const s = await envelope(deps);
    const q = (state: string, code: string): string => `${CB}?code=${code}&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(ISS_N)}`;
    const first = await gatherFacts(get(q(s, 'c1')), deps, NOW);
    expect(first.input.pin).toMatchObject({ found: true, consumed_before: false, error: null });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s[s.length - 1]);
    const dot = s.lastIndexOf('.');
    const otherAlphabet = s.slice(0, dot + 1) + s.slice(dot + 1).replace(/-/g, '+').replace(/_/g, '/');
    const spellings = [1, 2, 3].map((low) => s.slice(0, -1) + alphabet[last | low]).concat([`${s}=`, otherAlphabet]).filter((v) => v !== s);
    expect(spellings.length).toBeGreaterThanOrEqual(4);
    for (const [i, v] of spellings.entries()) {
      const f = await gatherFacts(get(q(v, `c${i + 2}`)), deps, NOW + 1000);
      expect(f.input.pin).toMatchObject({ found: false, error: 'non_canonical_encoding' });
      expect(f.input.callback.violations).toContain('non_canonical_encoding');
    }
  });
});

describe('gatherFacts: mix-up facts (docs/threat-model.md §1)', () => {
  it.each([
    ['T-M3 trailing slash', `${ISS_N}/`],
    ['T-M3 case', 'HTTPS://NEW-IDP.example.com'],
    ['T-M5 attacker AS', 'https://attacker.example'],
  ])('%s: iss is reported exactly and is not a registry issuer', async (_n, iss) => {
    const { deps } = fixture();
    const s = await envelope(deps);
    const f = await gatherFacts(get(`${CB}?code=c&state=${s}&iss=${encodeURIComponent(iss)}`), deps, NOW);
    expect(f.input.callback.iss).toBe(iss);
    expect(f.input.migration?.issuers[iss]).toBeUndefined();
    expect(f.input.pin.issuer).toBe(ISS_N);
  });

  it('T-M6/T-Q1/T-Q2: duplicates are violations and consume nothing', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'new');
    for (const q of [`iss=${ISS_L}&iss=${ISS_N}&state=${s}`, `state=${s}&state=other`, `code=a&code=b&state=${s}`]) {
      const f = await gatherFacts(get(`${CB}?${q}`), deps, NOW);
      expect(f.input.callback.violations).toContain('duplicate_param');
      expect(f.input.pin.found).toBe(false);
    }
    const ok = await gatherFacts(get(`${CB}?code=z&state=${s}`), deps, NOW);
    expect(ok.input.pin.consumed_before).toBe(false);
  });

  it('T-M4 facts: a verified id_token from the new issuer in a form_post', async () => {
    const { deps, setup } = fixture();
    const s = await stored(deps, 'legacy', 'form_post');
    const tok = await signToken(setup, { backend: 'new' });
    const f = await gatherFacts(post(CB, `state=${s}&id_token=${tok}`), deps, NOW);
    expect(f.input.callback).toMatchObject({ kind: 'oidc_form_post', response_mode: 'form_post', token_location: 'id_token', violations: [] });
    expect(f.input.token).toMatchObject({ present: true, verified: true, issuer: ISS_N, backend: 'new', use: 'id_token' });
    expect(f.input.pin.issuer).toBe(ISS_L);
    expect(JSON.stringify(f.input.token)).not.toContain(tok);
  });
});

describe('gatherFacts: code, parameters and redirects (docs/threat-model.md §3, §4, §7, §8)', () => {
  it('T-C1: the same code twice → code_replayed', async () => {
    const { deps } = fixture();
    const a = await stored(deps, 'new');
    const b = await stored(deps, 'new');
    const first = await gatherFacts(get(`${CB}?code=SAME&state=${a}`), deps, NOW);
    expect(first.input.callback.violations).toEqual([]);
    await commit(deps, first);
    expect((await gatherFacts(get(`${CB}?code=SAME&state=${b}`), deps, NOW)).input.callback.violations).toEqual(['code_replayed']);
  });

  it('T-C3/T-Q3: code/state in query and body → ambiguous_param_location', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(post(`${CB}?code=c1&state=s`, 'code=c2&state=s'), deps, NOW);
    expect(f.input.callback.violations).toContain('ambiguous_param_location');
    expect(f.input.callback.ambiguous_params).toEqual(['code', 'state']);
  });

  it.each([
    ['T-R3 //evil', '//evil.example'],
    ['T-R3 https:evil', 'https:evil.example'],
    ['T-R3 /\\evil', '/\\evil.example'],
    ['absolute off-site', 'https://evil.example/'],
  ])('%s → open_redirect', async (_n, v) => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s&returnTo=${encodeURIComponent(v)}`), deps, NOW);
    expect(f.input.callback.violations).toContain('open_redirect');
  });

  it('a same-site returnTo is fine', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s&returnTo=%2Fhome`), deps, NOW);
    expect(f.input.callback.violations).toEqual([]);
  });

  it.each([
    ['T-R4 redirect_uri', 'redirect_uri=https%3A%2F%2Fevil%2F', ['redirect_uri']],
    ['T-Q5 State', 'State=x', ['State']],
    ['T-Q5 %73tate is a twin, not state', '%73tate=x', ['%73tate']],
  ])('%s', async (_n, extra, unexpected) => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s&${extra}`), deps, NOW);
    if (unexpected) {
      expect(f.input.callback.violations).toContain('unexpected_param');
      expect(f.input.callback.unexpected_params).toEqual(unexpected);
    } else {
      expect(f.input.callback.violations).toContain('duplicate_param');
    }
  });

  it.each([
    ['state > 512 B', `code=c&state=${'s'.repeat(513)}`, 'param_too_long'],
    ['code > 2 KiB', `state=s&code=${'c'.repeat(2049)}`, 'param_too_long'],
    ['> 20 params', Array.from({ length: 21 }, (_, i) => `p${i}=1`).join('&'), 'too_many_params'],
    ['bad escape', 'code=%zz&state=s', 'malformed_request'],
  ])('T-Z4 %s', async (_n, q, reason) => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?${q}`), deps, NOW);
    expect(f.input.callback.violations).toContain(reason);
  });

  it('a truncated body on a callback route → body_truncated', async () => {
    const { deps } = fixture();
    const f = await gatherFacts({ ...post(CB, 'state=s&code=c'), bodyTruncated: true }, deps, NOW);
    expect(f.input.callback.violations).toContain('body_truncated');
    expect(f.input.truncated_body).toBe(true);
  });
});

describe('gatherFacts: SAML (threat model T-R1, T-R2, T-R5, T-M7)', () => {
  const xml = (issuer: string, irt?: string): string =>
    Buffer.from(
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1"${irt ? ` InResponseTo="${irt}"` : ''} Destination="https://auth.example.com/saml/acs"><saml:Issuer>${issuer}</saml:Issuer><saml:Assertion><saml:Issuer>${issuer}</saml:Issuer></saml:Assertion></samlp:Response>`,
    ).toString('base64');

  it('reads Issuer / InResponseTo / Destination and the RelayState pin', async () => {
    const { deps } = fixture();
    await createPin('demo', 'legacy', 'relay-1', 'form_post', deps, NOW, 'relay');
    const f = await gatherFacts(post('/saml/acs', `SAMLResponse=${encodeURIComponent(xml(ISS_N, 'req-1'))}&RelayState=relay-1`), deps, NOW);
    expect(f.input.callback.kind).toBe('saml_post');
    expect(f.input.callback.saml).toEqual({ issuer: ISS_N, in_response_to: 'req-1', destination: 'https://auth.example.com/saml/acs' });
    expect(f.input.pin).toMatchObject({ found: true, backend: 'legacy', issuer: ISS_L }); // T-M7: policy → issuer_mismatch
    expect(f.flowKeyHash).toBe(keyedHash(deps.keys.hash, 'relay', 'relay-1'));
  });

  it('T-R5: IdP-initiated (no RelayState, no InResponseTo)', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(post('/saml/acs', `SAMLResponse=${encodeURIComponent(xml(ISS_N))}`), deps, NOW);
    expect(f.input.callback.relay_state_present).toBe(false);
    expect(f.input.callback.saml?.in_response_to).toBeNull();
    expect(f.input.migration?.idp_initiated_saml).toEqual([]);
  });

  it.each([
    ['T-R1', 'https://evil.example/', 'relaystate_not_opaque'],
    ['T-R2', 'r'.repeat(81), 'relaystate_too_long'],
  ])('%s RelayState', async (_n, relay, reason) => {
    const { deps } = fixture();
    const f = await gatherFacts(post('/saml/acs', `SAMLResponse=${encodeURIComponent(xml(ISS_N))}&RelayState=${encodeURIComponent(relay)}`), deps, NOW);
    expect(f.input.callback.violations).toContain(reason);
  });

  it('a DOCTYPE in the SAMLResponse is refused', async () => {
    const { deps } = fixture();
    const evil = Buffer.from('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Issuer>&x;</Issuer></Response>').toString('base64');
    const f = await gatherFacts(post('/saml/acs', `SAMLResponse=${encodeURIComponent(evil)}&RelayState=r`), deps, NOW);
    expect(f.input.callback.violations).toContain('saml_malformed');
  });
});

describe('gatherFacts: host and headers (docs/threat-model.md §5)', () => {
  it('T-H1: an internal host name → host_not_allowed, no connection', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s`, { host: 'legacy-backend.internal' }), deps, NOW);
    expect(f.connection).toBeNull();
    expect(f.input.migration).toBeNull();
    expect(f.input.callback.violations).toContain('host_not_allowed');
  });

  it.each(['AUTH.EXAMPLE.COM', 'auth.example.com:443', 'auth.example.com.'])('normalises %s to the demo host', async (host) => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s`, { host }), deps, NOW);
    expect(f.connection?.name).toBe('demo');
  });

  it('auth.example.com:8443 is another authority', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s`, { host: 'auth.example.com:8443' }), deps, NOW);
    expect(f.input.callback.violations).toContain('host_not_allowed');
  });

  it('T-H2: duplicate Host', async () => {
    const { deps } = fixture();
    const a = await gatherFacts(get(`${CB}?code=c&state=s`, { duplicateHeaders: ['host'] }), deps, NOW);
    const b = await gatherFacts(get(`${CB}?code=c&state=s`, { host: 'auth.example.com,evil.example.com' }), deps, NOW);
    expect(a.input.callback.violations).toContain('duplicate_host');
    expect(b.input.callback.violations).toContain('duplicate_host');
  });

  it('T-H3/T-H4: forwarding and routing headers are reported and removed, decision facts unchanged', async () => {
    const { deps } = fixture();
    const s = await stored(deps, 'legacy');
    const headers = { 'x-forwarded-host': 'new-backend.internal', forwarded: 'host=new', 'x-original-url': '/admin', 'x-rewrite-url': '/x', 'x-cbp-target': 'new', 'x-backend': 'new', 'x-callback-backend': 'new', 'x-idp': 'new' };
    const f = await gatherFacts(get(`${CB}?code=c&state=${s}`, { headers }), deps, NOW);
    expect(f.input.callback.violations).toEqual([]);
    expect(new Set(f.headersToRemove)).toEqual(new Set(Object.keys(headers)));
    expect(f.input.ignored_headers).toEqual(f.headersToRemove);
    expect(f.input.pin.backend).toBe('legacy'); // acceptance 7
  });

  it('T-H5: absolute-form target with another authority', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`https://cb.example${CB}?code=c&state=s`), deps, NOW);
    expect(f.input.callback.violations).toContain('authority_mismatch');
    const same = await gatherFacts(get(`https://auth.example.com${CB}?code=c2&state=s`), deps, NOW);
    expect(same.input.callback.violations).toEqual([]);
  });

  it('T-H7: underscore header names → bad_header (and stripped when they alias a stripped header)', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${CB}?code=c&state=s`, { headers: { x_forwarded_host: 'evil' } }), deps, NOW);
    expect(f.input.callback.violations).toContain('bad_header');
    expect(f.headersToRemove).toContain('x_forwarded_host');
  });

  it('T-H6: the source IP comes from the peer address, never X-Forwarded-For', async () => {
    const { deps, setup } = fixture((r) => {
      r.connections[0].webhook!.source_cidrs = ['10.0.0.0/8'];
    });
    const body = '{"type":"user.deleted"}';
    const id = 'msg_1';
    const ts = String(Math.floor(NOW / 1000));
    const key = Buffer.from(setup.webhookSecret.slice(6), 'base64');
    const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}`, 'x-forwarded-for': '10.0.0.5' };
    const f = await gatherFacts(post('/webhooks/idp', body, 'application/json', { headers, sourceIp: '203.0.113.9' }), deps, NOW);
    expect(f.input.callback.violations).toContain('source_ip_denied');
    const ok = await gatherFacts(post('/webhooks/idp', body, 'application/json', { headers, sourceIp: '10.0.0.5' }), deps, NOW);
    expect(ok.input.webhook).toMatchObject({ verified: true, error: null, secret_id: 'demo' });
    expect(ok.input.parsed_body).toEqual({ type: 'user.deleted' });
  });
});

describe('gatherFacts: paths (docs/threat-model.md §6)', () => {
  it.each([
    ['T-P1', '/admin', 'not_callback_route'],
    ['T-P2', `${CB}%2F..%2Fadmin`, 'encoded_slash'],
    ['T-P3', `${CB};jsessionid=x`, 'path_param'],
    ['T-P4', `${CB}/%252e%252e/admin`, 'double_encoding'],
    ['T-P5 //cb', `/${CB}`, 'not_callback_route'],
    ['T-P5 /cb/', `${CB}/`, 'not_callback_route'],
    ['T-P6', '/OAUTH2/callback', 'not_callback_route'],
    ['T-P7 .json', `${CB}.json`, 'not_callback_route'],
    ['T-P7 %00', `${CB}%00`, 'bad_path'],
    ['T-P8', `${CB}%EF%BC%8F`, 'bad_path'],
    ['encoded letter is not the route', '/oauth2/%63allback', 'not_callback_route'],
  ])('%s %s → %s', async (_n, p, reason) => {
    const { deps } = fixture();
    const f = await gatherFacts(get(`${p}?code=c&state=s`), deps, NOW);
    expect(f.input.callback.violations).toContain(reason);
    expect(f.input.callback.route).toBeNull();
  });
});

describe('gatherFacts: classification', () => {
  it.each([
    ['GET', CB, 'oauth_query'],
    ['POST', CB, 'oidc_form_post'],
    ['POST', '/saml/acs', 'saml_post'],
    ['GET', '/saml/acs', 'other'],
    ['GET', '/login', 'login_start'],
    ['POST', '/backchannel-logout', 'logout'],
    ['PUT', CB, 'other'],
  ])('%s %s → %s', async (method, p, kind) => {
    const { deps } = fixture();
    const req = method === 'GET' ? get(p) : { ...post(p, 'x=1'), method };
    const f = await gatherFacts(req, deps, NOW);
    expect(f.input.callback.kind).toBe(kind);
  });

  it('login start: cohort bucket from the client_id, keyed', async () => {
    const { deps } = fixture();
    const a = await gatherFacts(get('/login?client_id=demo-client&redirect_uri=https%3A%2F%2Fapp.example%2Fcb'), deps, NOW);
    expect(a.input.callback.violations).toEqual([]);
    const b = a.input.migration?.cohort_bucket;
    expect(typeof b).toBe('number');
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(100);
    const again = await gatherFacts(get('/login?client_id=demo-client'), deps, NOW);
    expect(again.input.migration?.cohort_bucket).toBe(b);
    expect((await gatherFacts(get('/login'), deps, NOW)).input.migration?.cohort_bucket).toBeNull();
  });

  it('now facts', async () => {
    const { deps } = fixture();
    const f = await gatherFacts(get('/login'), deps, NOW);
    expect(f.input.now).toEqual({ rfc3339: '2026-11-28T12:00:00.000Z', ns: `${NOW}000000` });
  });

});

describe('gatherFacts: tokens on logout routes (threat model T-W9, T-J11)', () => {
  const BCL = { 'http://schemas.openid.net/event/backchannel-logout': {} };
  it('a logout token verifies once; its jti replayed → jti_replayed', async () => {
    const { deps, setup } = fixture();
    const tok = await signToken(setup, { backend: 'legacy', header: { typ: 'logout+jwt' }, claims: { events: BCL, jti: 'j1', sid: 's1' } });
    const f = await gatherFacts(post('/backchannel-logout', `logout_token=${tok}`), deps, NOW);
    expect(f.input.token).toMatchObject({ verified: true, use: 'logout_token', backend: 'legacy' });
    await commit(deps, f);
    const g = await gatherFacts(post('/backchannel-logout', `logout_token=${tok}`), deps, NOW);
    expect(g.input.token.error).toBe('jti_replayed');
    expect(g.input.callback.violations).toContain('jti_replayed');
  });

  it('T-W9: a logout token with nonce → typ_mismatch', async () => {
    const { deps, setup } = fixture();
    const tok = await signToken(setup, { backend: 'legacy', header: { typ: 'logout+jwt' }, claims: { events: BCL, jti: 'j2', nonce: 'n' } });
    const f = await gatherFacts(post('/backchannel-logout', `logout_token=${tok}`), deps, NOW);
    expect(f.input.token.error).toBe('typ_mismatch');
  });
});

describe('gatherFacts: downgrade attempts (threat model T-D1 facts)', () => {
  it('client hints for legacy change neither the cohort nor the facts; x-idp is stripped', async () => {
    const { deps } = fixture();
    const plain = await gatherFacts(get('/login?client_id=demo-client'), deps, NOW);
    const forced = await gatherFacts(
      get('/login?client_id=demo-client&idp=legacy&domain_hint=legacy.example', { headers: { 'x-idp': 'legacy', cookie: 'idp=legacy' } }),
      deps,
      NOW,
    );
    expect(forced.input.migration?.cohort_bucket).toBe(plain.input.migration?.cohort_bucket);
    expect(forced.input.pin).toEqual(plain.input.pin);
    expect(forced.headersToRemove).toEqual(['x-idp']);
  });
});
