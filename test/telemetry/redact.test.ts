// Redaction helpers: query values, header allow-list, pino redaction paths.
import { PassThrough } from 'node:stream';
import { loggableHeaders, redactPathQuery } from '../../ext-authz/src/telemetry/redact';
import { createLogger } from '../../ext-authz/src/telemetry/logger';

test('query values become REDACTED, keys stay, fragments go', () => {
  expect(redactPathQuery('/cb?code=CANARYCODE123&state=CANARYSTATE&flag')).toBe('/cb?code=REDACTED&state=REDACTED&flag=REDACTED');
  expect(redactPathQuery('/cb')).toBe('/cb');
  expect(redactPathQuery('/cb#frag=x')).toBe('/cb');
});

test('only allow-listed headers are loggable', () => {
  expect(loggableHeaders({ 'user-agent': 'ua', authorization: 'Bearer x', cookie: 'a=b', 'webhook-signature': 's', 'x-request-id': 'r' })).toEqual({
    'user-agent': 'ua',
    'x-request-id': 'r',
  });
});

test('pino redaction masks secret headers that slip into a log object', async () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c) => chunks.push(String(c)));
  const log = createLogger({ stream: out, level: 'info' });
  log.info({ headers: { authorization: 'Bearer SECRETTOKEN', cookie: 'sid=SECRETCOOKIE', 'stripe-signature': 'SIG1', 'x-hub-signature-256': 'SIG2' } }, 'x');
  log.info({ req: { headers: { 'webhook-signature': 'SIG3' } }, state: 'CANARYSTATE' }, 'y');
  await new Promise((r) => setImmediate(r));
  const text = chunks.join('');
  for (const s of ['SECRETTOKEN', 'SECRETCOOKIE', 'SIG1', 'SIG2', 'SIG3', 'CANARYSTATE']) expect(text).not.toContain(s);
  expect(text).toContain('[REDACTED]');
});
