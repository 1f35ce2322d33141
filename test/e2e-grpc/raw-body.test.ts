// Raw bytes end to end (docs/threat-model.md T-W3): a Standard Webhooks message is verified over the
// exact bytes the sender signed, through the real App over gRPC (raw_body as Envoy sends it with
// pack_as_bytes, and the `body` string when it does not), Envoy's http_service and Traefik/Caddy
// forward-auth. Bodies that are not valid UTF-8, or valid but not in NFC, used to be verified over
// re-encoded text; a one-byte change must still fail.
import { createHmac, randomBytes } from 'node:crypto';
import { startHarness } from '../support/app-harness';
import type { Harness, Transport } from '../support/app-harness';

jest.setTimeout(60_000);

let h: Harness;
let key: Buffer;
beforeAll(async () => {
  h = await startHarness();
  key = Buffer.from((h.app.demo?.webhookSecret ?? '').replace(/^whsec_/, ''), 'base64');
});
afterAll(async () => {
  await h.close();
});

function signed(body: Buffer): Record<string, string> {
  const id = `msg_${randomBytes(9).toString('base64url')}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}`, 'content-type': 'application/json' };
}

/** `{"name":"Ame\u0301lie"}`: valid UTF-8, decomposed (NFD), so NFC normalisation would change it. */
const NOT_NFC = Buffer.from('{"name":"Ame\u0301lie","city":"Mu\u0308nchen"}', 'utf8');
/** Latin-1 bytes and a lone continuation byte: no UTF-8 decoder keeps these. */
const NOT_UTF8 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0x41, 0x6d, 0xe9, 0x6c, 0x69, 0x65, 0x80, 0xff]), Buffer.from('"}')]);

test('the bodies are what they claim to be', () => {
  expect(NOT_NFC.toString('utf8').normalize('NFC')).not.toBe(NOT_NFC.toString('utf8'));
  expect(() => new TextDecoder('utf-8', { fatal: true }).decode(NOT_UTF8)).toThrow();
  expect(Buffer.from(NOT_UTF8.toString('utf8'), 'utf8').equals(NOT_UTF8)).toBe(false);
});

const cases: [string, Transport, Buffer, 'bytes' | 'string'][] = [
  ['gRPC raw_body, not UTF-8', 'grpc', NOT_UTF8, 'bytes'],
  ['gRPC raw_body, not NFC', 'grpc', NOT_NFC, 'bytes'],
  ['gRPC body string, not NFC', 'grpc', NOT_NFC, 'string'],
  ['Envoy http_service, not UTF-8', 'http-envoy', NOT_UTF8, 'bytes'],
  ['Envoy http_service, not NFC', 'http-envoy', NOT_NFC, 'bytes'],
  ['Traefik/Caddy forward-auth, not UTF-8', 'http-traefik', NOT_UTF8, 'bytes'],
];

test.each(cases)('%s: verifies; any one-byte change fails', async (_name, t, body, as) => {
  const send = (b: Buffer, headers: Record<string, string>) =>
    h.ask(t, { method: 'POST', path: '/webhooks/idp', headers, body: as === 'string' ? b.toString('utf8') : b });
  const ok = await send(body, signed(body));
  expect(ok).toMatchObject({ allowed: true });
  // One byte changed at three places (start, inside the odd bytes, end): the MAC no longer matches.
  for (const at of [1, Math.floor(body.length / 2), body.length - 2]) {
    const changed = Buffer.from(body);
    changed[at] ^= 0x01;
    if (as === 'string' && Buffer.from(changed.toString('utf8'), 'utf8').equals(body)) continue;
    const denied = await send(changed, signed(body));
    expect(denied).toMatchObject({ allowed: false, reason: 'bad_signature' });
  }
});
