// The renderers every request value goes through before a log (telemetry/redact.ts): parameters of
// every kind masked by construction, an allow-list of names and headers, exact pino redaction paths.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { maskPairs, PINO_REDACT_PATHS, renderForm, renderHeaders, renderParams, renderTarget, SHOWN_PARAMS } from '../../ext-authz/src/telemetry/redact';
import { createLogger } from '../../ext-authz/src/telemetry/logger';

describe('renderTarget', () => {
  test('query values become REDACTED, keys stay; allow-listed names show their value', () => {
    expect(renderTarget('/cb?code=CANARYCODE123&state=CANARYSTATE&flag')).toBe('/cb?code=REDACTED&state=REDACTED&REDACTED');
    expect(renderTarget('/cb?iss=https%3A%2F%2Fidp&error=access_denied&client_id=c1&login_hint=CANARYUSER')).toBe(
      '/cb?iss=https%3A%2F%2Fidp&error=access_denied&client_id=c1&login_hint=REDACTED',
    );
    expect(renderTarget('/cb')).toBe('/cb');
    // An allow-listed name shows only a value shaped like one: `;` or `=` inside it is masked whole
    // (a backend that splits queries on `;` would read `code` out of this iss).
    expect(renderTarget('/cb?iss=x;code=CANARYSEMI&error=a%20b')).toBe('/cb?iss=REDACTED&error=a%20b');
    expect(renderTarget('/cb?error=access denied')).toBe('/cb?error=REDACTED');
  });

  test('T-P3: path parameters are masked like query parameters (literal and escaped ;)', () => {
    expect(renderTarget('/oauth2/callback;jsessionid=CANARYSESSION')).toBe('/oauth2/callback;jsessionid=REDACTED');
    expect(renderTarget('/webhooks/idp;state=CANARYSTATE?code=CANARYCODE')).toBe('/webhooks/idp;state=REDACTED?code=REDACTED');
    expect(renderTarget('/a;x=CANARY1;y=CANARY2/b;z=CANARY3/c')).toBe('/a;x=REDACTED;y=REDACTED/b;z=REDACTED/c');
    expect(renderTarget('/cb%3Bjsessionid=CANARY4')).toBe('/cb%3Bjsessionid=REDACTED');
    expect(renderTarget('/cb/..;/admin')).toBe('/cb/..;/admin');
  });

  test('fragments are masked; absolute-form userinfo is masked', () => {
    expect(renderTarget('/cb#access_token=CANARYAT&state=CANARYS')).toBe('/cb#access_token=REDACTED&state=REDACTED');
    expect(renderTarget('https://user:CANARYPASS@auth.example.com/cb?code=CANARYC')).toBe('https://REDACTED@auth.example.com/cb?code=REDACTED');
  });

  test('bounded: a long path is cut, many pairs stop at 32, a bare "name" that looks like a value is masked', () => {
    expect(renderTarget(`/${'a'.repeat(400)}`).length).toBeLessThanOrEqual(258);
    const many = Array.from({ length: 100 }, (_, i) => `p${i}=v`).join('&');
    expect(renderTarget(`/cb?${many}`).split('&')).toHaveLength(33);
    expect(renderTarget('/cb?eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.c2ln')).toBe('/cb?REDACTED');
    expect(renderTarget(`/cb?${'x'.repeat(80)}=1`)).toBe('/cb?REDACTED=REDACTED');
  });

  test('property: a canary value in any parameter position never survives rendering', () => {
    const name = fc.stringMatching(/^[A-Za-z_]{1,10}$/).filter((n) => !SHOWN_PARAMS.has(n));
    const junk = fc.stringMatching(/^[A-Za-z0-9=%;&#?/.]{0,12}$/);
    fc.assert(
      fc.property(name, junk, junk, fc.constantFrom('?', ';', '#', '%3B', '?a=1&', '?a=1;'), (n, before, after, sep) => {
        const canary = 'CANARYQZX';
        const target = `/cb${before.replace(/CANARYQZX/g, '')}${sep}${n}=${canary}${after.startsWith('=') ? '' : after}`;
        expect(renderTarget(target)).not.toContain(canary);
      }),
      { numRuns: 500 },
    );
  });
});

test('forms and parsed parameters use the same rule', () => {
  expect(renderForm('SAMLResponse=PHNhbWw%2B&RelayState=CANARYRELAY&iss=x')).toBe('SAMLResponse=REDACTED&RelayState=REDACTED&iss=x');
  expect(maskPairs('jsessionid=CANARY', ';')).toBe('jsessionid=REDACTED');
  expect(JSON.stringify(renderParams({ code: ['CANARY'], iss: ['https://idp'], error: 'x' }))).toBe('{"code":["REDACTED"],"iss":["https://idp"],"error":"x"}');
  expect(JSON.stringify(renderParams({ iss: ['x;code=CANARY'] }))).toBe('{"iss":["REDACTED"]}');
});

test('only allow-listed headers are shown; :path is rendered; the authority only when asked', () => {
  const h = { 'user-agent': 'ua', authorization: 'Bearer x', cookie: 'a=b', 'webhook-signature': 's', 'x-request-id': 'r', ':path': '/cb;s=CANARY?c=CANARY', ':authority': 'auth.example.com' };
  expect(renderHeaders(h)).toEqual({ 'user-agent': 'ua', 'x-request-id': 'r', ':path': '/cb;s=REDACTED?c=REDACTED' });
  expect(renderHeaders(h, { authority: true })).toMatchObject({ ':authority': 'auth.example.com' });
});

describe('pino redaction paths', () => {
  async function lines(fn: (log: ReturnType<typeof createLogger>) => void): Promise<string> {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c) => chunks.push(String(c)));
    fn(createLogger({ stream: out, level: 'debug' }));
    await new Promise((r) => setImmediate(r));
    return chunks.join('');
  }

  test('mask secret headers and parameters that slip into a log object', async () => {
    const text = await lines((log) => {
      log.info({ headers: { authorization: 'Bearer SECRETTOKEN', cookie: 'sid=SECRETCOOKIE', 'stripe-signature': 'SIG1', 'x-hub-signature-256': 'SIG2' } }, 'x');
      log.info({ req: { headers: { 'webhook-signature': 'SIG3' } }, state: 'CANARYSTATE' }, 'y');
      log.info({ query: { code: 'CANARYCODE', state: 'CANARYSTATE2' }, form: { SAMLResponse: 'CANARYSAML', RelayState: 'CANARYRELAY' } }, 'z');
    });
    for (const s of ['SECRETTOKEN', 'SECRETCOOKIE', 'SIG1', 'SIG2', 'SIG3', 'CANARYSTATE', 'CANARYCODE', 'CANARYSAML', 'CANARYRELAY']) expect(text).not.toContain(s);
    expect(text).toContain('[REDACTED]');
  });

  test('are exact: our own error_code / code fields are not erased by the OAuth `code` rule', async () => {
    const text = await lines((log) => log.error({ event: 'policy_reload_failed', error_code: 'rego_parse_error', code: 'tls_file_unreadable' }, 'failed'));
    const line = JSON.parse(text.trim());
    expect(line.error_code).toBe('rego_parse_error');
    expect(line.code).toBe('tls_file_unreadable');
    // No bare generic names among the paths.
    expect(PINO_REDACT_PATHS).not.toContain('code');
    expect(PINO_REDACT_PATHS).not.toContain('token');
    expect(PINO_REDACT_PATHS).toContain('query.code');
  });
});
