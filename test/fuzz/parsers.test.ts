// Fuzzing the request-path parsers and decoders (fast-check): the query/form parser, the path rules,
// the cookie hint, SAMLResponse, JWT shape, state envelopes, webhook signatures, the strict decoders
// and the log renderer. For every input: nothing throws, and the outcome is either a valid fact or a
// reason code of the contract — and no forged or re-spelt MAC ever verifies. Budget: test/fuzz/budget.ts.
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { RequestView } from '../../ext-authz/src/model/request';
import { decodeBase64, decodeBase64Url, decodeHex } from '../../ext-authz/src/pipeline/encoding/strict-codecs';
import { parseForm } from '../../ext-authz/src/pipeline/facts/params';
import { checkPath, splitTarget } from '../../ext-authz/src/pipeline/facts/path-rules';
import { readSamlResponse } from '../../ext-authz/src/pipeline/facts/saml';
import { HINT_COOKIE, readHintCookie, signHint, verifyHint } from '../../ext-authz/src/pipeline/pins/cookie-hint';
import { signEnvelope, verifyEnvelope } from '../../ext-authz/src/pipeline/pins/state-envelope';
import { checkTokenShape } from '../../ext-authz/src/pipeline/tokens/token-shape';
import { prepareWebhook } from '../../ext-authz/src/pipeline/webhooks/prepare';
import { verifyWebhook } from '../../ext-authz/src/pipeline/webhooks/verify-webhook';
import { renderTarget } from '../../ext-authz/src/telemetry/redact';
import { expectCode, fcOptions, Tally } from './budget';

const tally = new Tally();
afterAll(() => tally.printIfLong('parsers'));

const NOW = Date.parse('2026-11-28T12:00:00Z');

/** Pieces that matter to these parsers: separators, escapes (good and bad), names, odd characters. */
const TOKENS = [
  'a', 'Z', '0', '9', '=', '&', '%', '%2', '%41', '%C3%A9', '%ZZ', '%2F', '%5C', '%25', '%3B', '%00', '%C0%AF', '%EF%BC%8F', '+', ';', '#', '?', '/', '//',
  '..', '.', '~', '-', '_', 'state', 'code', 'iss', 'SAMLResponse', 'RelayState', 'id_token', 'v1', 'é', '\u0000', '\u007f', '\uD800', '\u{1F600}', ' ', '\t',
  '\r\n', ',', '"', '<', '>', '\\', 'https://', '__proto__', 'constructor',
];
const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((a) => a.join(''));
const text = fc.oneof(soup, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** Edits of a genuine value: replace, insert or delete one character, or append junk. */
function mutate(s: string): fc.Arbitrary<string> {
  const ch = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. %\n'.split(''));
  return fc.oneof(
    fc.tuple(fc.nat(s.length), ch).map(([i, c]) => s.slice(0, i) + c + s.slice(i + 1)),
    fc.tuple(fc.nat(s.length), ch).map(([i, c]) => s.slice(0, i) + c + s.slice(i)),
    fc.nat(s.length).map((i) => s.slice(0, i) + s.slice(i + 1)),
    soup.map((j) => s + j),
    fc.constant(s),
  );
}

test('query / form: parseForm never throws; names and values are strings; malformed is a flag', () => {
  fc.assert(
    fc.property(text, (s) => {
      const p = parseForm(s, 20);
      for (const [k, vs] of p.values) {
        if (typeof k !== 'string' || vs.length === 0 || vs.some((v) => typeof v !== 'string')) throw new Error(`bad pair for ${JSON.stringify(s)}`);
      }
      if (p.count < Math.min(p.values.size, 80)) throw new Error('count below the number of names');
      tally.hit('query/form', p.malformed ? 'malformed' : p.values.size === 0 ? 'empty' : 'params');
    }),
    fcOptions(10),
  );
});

test('path: checkPath over any target never throws; violations are reason codes; a clean path is origin-form', () => {
  fc.assert(
    fc.property(fc.oneof(text, soup.map((s) => `/oauth2/callback${s}`), soup.map((s) => `https://${s}`)), (s) => {
      const t = splitTarget(s);
      const c = checkPath(t.path);
      for (const v of c.violations) expectCode(v);
      if (c.violations.length === 0) {
        expect(t.path.startsWith('/')).toBe(true);
        for (const seg of c.segments) expect(typeof seg).toBe('string');
      }
      tally.hit('path', c.violations[0] ?? 'clean');
    }),
    fcOptions(10),
  );
});

describe('cookie hint', () => {
  const key = randomBytes(32);
  const genuine = signHint(key, 'demo', 'new', NOW, 600);
  test('readHintCookie + verifyHint: only the minted value verifies, whatever the Cookie header', () => {
    const header = fc.oneof(
      text,
      mutate(genuine).map((v) => `${HINT_COOKIE}=${v}`),
      fc.tuple(soup, mutate(genuine), soup).map(([a, v, b]) => `${a}; ${HINT_COOKIE}=${v}; ${b}`),
    );
    fc.assert(
      fc.property(header, (h) => {
        const value = readHintCookie(h);
        const backend = verifyHint(key, 'demo', value, NOW);
        if (backend !== null) {
          expect(backend).toBe('new');
          expect(value).toBe(genuine);
        }
        tally.hit('cookie', value === null ? 'no_hint' : backend === null ? 'ignored' : 'verified');
      }),
      fcOptions(10),
    );
  });
});

describe('SAMLResponse', () => {
  const xml = fc.oneof(
    soup,
    soup.map((s) => `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="${s}"><saml:Issuer xmlns:saml="urn:x">${s}</saml:Issuer></samlp:Response>`),
    soup.map((s) => `<!DOCTYPE r [<!ENTITY x "${s}">]><Response>&x;</Response>`),
  );
  const value = fc.oneof(
    text,
    xml.map((x) => Buffer.from(x).toString('base64')),
    xml.chain((x) => mutate(Buffer.from(x).toString('base64'))),
    xml.map((x) => Buffer.from(x).toString('base64').replace(/(.{20})/g, '$1\r\n')),
  );
  test('readSamlResponse never throws: facts of strings, or a reason code', () => {
    fc.assert(
      fc.property(value, (v) => {
        const r = readSamlResponse(v, 4096);
        if (r.ok) {
          for (const f of [r.facts.issuer, r.facts.in_response_to, r.facts.destination]) expect(f === null || typeof f === 'string').toBe(true);
          tally.hit('saml', 'facts');
        } else tally.hit('saml', expectCode(r.reason));
      }),
      fcOptions(10),
    );
  });
});

describe('JWT shape', () => {
  const b64u = (s: string): string => Buffer.from(s).toString('base64url');
  const json = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.constantFrom('{"alg":"RS256","kid":"k"}', '{"alg":"none"}', '{"alg":"HS256","jku":"https://x"}', '{"alg":"ES256","crit":["b64"]}', '[[[[[[[[[[1]]]]]]]]]]'),
  );
  const token = fc.oneof(
    text,
    fc.tuple(json, json, fc.uint8Array({ maxLength: 80 })).map(([h, p, s]) => `${b64u(h)}.${b64u(p)}.${Buffer.from(s).toString('base64url')}`),
    fc.tuple(json, json).chain(([h, p]) => mutate(`${b64u(h)}.${b64u(p)}.${randomBytes(64).toString('base64url')}`)),
  );
  test('checkTokenShape never throws: a decoded header and payload, or a reason code', () => {
    fc.assert(
      fc.property(token, (t) => {
        const r = checkTokenShape(t, 16384);
        if (typeof r === 'string') tally.hit('jwt', expectCode(r));
        else {
          expect(typeof r.header).toBe('object');
          expect(typeof r.payload).toBe('object');
          expect(typeof r.header.alg).toBe('string');
          tally.hit('jwt', 'shape_ok');
        }
      }),
      fcOptions(10),
    );
  });
});

describe('state envelopes', () => {
  const key = randomBytes(32);
  const keys = new Map([['new', key]]);
  test('verifyEnvelope: only the exact minted string verifies; every refusal is coded', () => {
    const minted = fc.integer({ min: 0, max: 1_000_000 }).map((dt) => signEnvelope(key, 'demo', 'new', NOW + dt, 600));
    const state = fc.oneof(
      minted.map((s) => ({ original: s, sent: s })),
      minted.chain((s) => mutate(s).map((m) => ({ original: s, sent: m }))),
      soup.map((s) => ({ original: null, sent: `v1.${s}` })),
      text.map((s) => ({ original: null, sent: s })),
    );
    fc.assert(
      fc.property(state, ({ original, sent }) => {
        const r = verifyEnvelope(sent, keys, 'demo', NOW);
        if (r.kind === 'ok') {
          expect(sent).toBe(original);
          tally.hit('state', 'verified');
        } else if (r.kind === 'bad_mac') tally.hit('state', expectCode(r.reason));
        else tally.hit('state', 'not_envelope');
      }),
      fcOptions(10),
    );
  });
});

describe('webhook signatures', () => {
  const secret = randomBytes(24);
  const hook = prepareWebhook({ scheme: 'standard', tolerance_s: 300, secrets: [{ id: 's', secret: `whsec_${secret.toString('base64')}` }] });
  const gh = prepareWebhook({ scheme: 'github', tolerance_s: 300, secrets: [{ id: 'g', secret: 'gh-secret' }] });
  const ts = String(NOW / 1000);
  const body = Buffer.from('{"type":"user.updated"}');
  const good = createHmac('sha256', secret).update(`msg_1.${ts}.`).update(body).digest('base64');
  const goodGh = createHmac('sha256', 'gh-secret').update(body).digest('hex');
  const view = (headers: Record<string, string>): RequestView => ({
    method: 'POST', scheme: 'https', host: 'h', path: '/wh', headers, duplicateHeaders: [], body: body.toString('utf8'), rawBody: body, bodyTruncated: false, sourceIp: '10.0.0.1',
  });
  test('Standard Webhooks: verified only with the exact genuine signature; else a reason code', async () => {
    const sigHeader = fc.oneof(
      text,
      mutate(good).map((g) => `v1,${g}`),
      fc.tuple(soup, mutate(good)).map(([a, g]) => `${a} v1,${g}`),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `v1,${Buffer.from(b).toString('base64')}`),
    );
    await fc.assert(
      fc.asyncProperty(sigHeader, fc.oneof(fc.constant('msg_1'), soup), async (sig, id) => {
        const r = await verifyWebhook(view({ 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }), hook, { hashKey: Buffer.alloc(32, 1), nowMs: NOW });
        if (r.verified) {
          expect(id).toBe('msg_1');
          expect(sig.split(' ')).toContain(`v1,${good}`);
          tally.hit('webhook-signature', 'verified');
        } else tally.hit('webhook-signature', expectCode(r.error));
      }),
      fcOptions(10),
    );
  });
  test('GitHub: verified only with the exact lower-case hex; else a reason code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, mutate(`sha256=${goodGh}`), fc.constant(`sha256=${goodGh.toUpperCase()}`)), async (sig) => {
        const r = await verifyWebhook(view({ 'x-hub-signature-256': sig, 'x-github-delivery': 'd1' }), gh, { hashKey: Buffer.alloc(32, 1), nowMs: NOW });
        if (r.verified) {
          expect(sig).toBe(`sha256=${goodGh}`);
          tally.hit('webhook-signature-github', 'verified');
        } else tally.hit('webhook-signature-github', expectCode(r.error));
      }),
      fcOptions(5),
    );
  });
});

test('strict decoders: accept exactly what Node would encode back to the same string', () => {
  const encoded = fc.uint8Array({ maxLength: 40 }).chain((b) => {
    const buf = Buffer.from(b);
    return fc.oneof(mutate(buf.toString('base64')), mutate(buf.toString('base64url')), mutate(buf.toString('hex')));
  });
  fc.assert(
    fc.property(fc.oneof(text, encoded), (s) => {
      for (const [name, d, enc] of [['base64', decodeBase64(s), 'base64'], ['base64url', decodeBase64Url(s), 'base64url'], ['hex', decodeHex(s), 'hex']] as const) {
        const canonical = s.length > 0 && Buffer.from(s, enc).toString(enc) === s;
        if (d.ok !== canonical) throw new Error(`${name}: ${JSON.stringify(s)} accepted=${d.ok}, canonical=${canonical}`);
        tally.hit(`decode-${name}`, d.ok ? 'accepted' : d.problem);
      }
    }),
    fcOptions(10),
  );
});

test('log renderer: a canary value in any parameter never survives renderTarget', () => {
  const name = fc.stringMatching(/^[a-z_]{1,8}$/).filter((n) => !['iss', 'client_id', 'error', 'response_mode'].includes(n));
  fc.assert(
    fc.property(soup, name, soup, fc.constantFrom('?', ';', '%3B', '#', '?x=1&', ';y=2;', '?x=1#'), (before, n, after, sep) => {
      const target = `/cb${before.replace(/QZXCANARY/g, '')}${sep}${n}=QZXCANARY${after.replace(/^=/, '')}`;
      // A separator earlier in `before` only moves the canary into a query or fragment: masked there too.
      if (renderTarget(target).includes('QZXCANARY')) throw new Error(`canary survived in ${JSON.stringify(target)}`);
      tally.hit('log-renderer', 'masked');
    }),
    fcOptions(10),
  );
});
