// Decision-log upload in OPA's format against real node:http receivers on 127.0.0.1: gzip JSON array
// batches POSTed to /logs within the upload size limit, masking by OPA's rules with erased/masked
// recorded, retries with backoff and counted drops on a failing receiver, a bounded buffer, and no
// exception ever reaching the caller.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { OpaServiceClient } from '../../ext-authz/src/config/opa-service-client';
import { DecisionLogUploader } from '../../ext-authz/src/telemetry/decision-log-upload';
import type { DecisionLogUploaderOptions, UploadTimers } from '../../ext-authz/src/telemetry/decision-log-upload';
import { applyMaskRules } from '../../ext-authz/src/telemetry/decision-log-mask';

interface Receiver {
  url: string;
  batches: { path: string; headers: http.IncomingHttpHeaders; events: Record<string, unknown>[]; gzipBytes: number }[];
  status: number;
  hits: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', batches: [], status: 200, hits: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.hits++;
      if (r.status === 200) {
        const raw = Buffer.concat(chunks);
        r.batches.push({ path: req.url ?? '', headers: req.headers, events: JSON.parse(gunzipSync(raw).toString('utf8')), gzipBytes: raw.length });
      }
      res.writeHead(r.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

function client(url: string): OpaServiceClient {
  return new OpaServiceClient({ name: 'logs', url, headers: {}, responseHeaderTimeoutSeconds: 5, tls: {}, allowInsecureTls: false, credentials: {} });
}

function event(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    decision_id: `d-${i}`,
    labels: { app: 'cbp' },
    bundles: { authz: { revision: 'r1' } },
    path: 'envoy/authz/allow',
    input: { attributes: { request: { http: { path: `/p/${i}`, headers: { authorization: 'Bearer secret' } } } }, parsed_query: { code: ['c'] } },
    result: { allowed: i % 2 === 0 },
    timestamp: '2024-05-01T10:00:00.000000000Z',
    ...extra,
  };
}

describe('uploads to a receiver', () => {
  let rx: Receiver;
  let c: OpaServiceClient;
  const uploader = (o: Partial<DecisionLogUploaderOptions> = {}): DecisionLogUploader => new DecisionLogUploader({ transport: c, ...o });
  beforeEach(async () => {
    rx = await receiver();
    c = client(rx.url);
  });
  afterEach(async () => {
    c.close();
    await rx.close();
  });

  test('one gzip JSON array POSTed to /logs with the events in order', async () => {
    const u = uploader();
    for (let i = 0; i < 5; i++) u.log(event(i));
    await u.flush();
    expect(rx.batches).toHaveLength(1);
    const b = rx.batches[0];
    expect(b.path).toBe('/logs');
    expect(b.headers['content-encoding']).toBe('gzip');
    expect(b.headers['content-type']).toBe('application/json');
    expect(b.events.map((e) => e.decision_id)).toEqual(['d-0', 'd-1', 'd-2', 'd-3', 'd-4']);
    expect(b.events[0]).toEqual(event(0));
    expect(u.stats()).toMatchObject({ uploads: 1, uploadedEvents: 5, bufferedEvents: 0 });
  });

  test('batches are split so each gzip body stays within upload_size_limit_bytes, and nothing is lost', async () => {
    const u = uploader({ uploadSizeLimitBytes: 1024, resource: 'v1/logs' });
    // random-ish content so that compression cannot hide the size
    for (let i = 0; i < 60; i++) u.log(event(i, { note: Buffer.from(`${i}`.repeat(40)).toString('base64') + Math.random().toString(36) }));
    await u.flush();
    expect(rx.batches.length).toBeGreaterThan(1);
    for (const b of rx.batches) expect(b.gzipBytes).toBeLessThanOrEqual(1024);
    expect(rx.batches.flatMap((b) => b.events.map((e) => e.decision_id))).toEqual(Array.from({ length: 60 }, (_, i) => `d-${i}`));
    expect(rx.batches[0].path).toBe('/v1/logs');
  });

  test('an event that cannot fit any upload is dropped and counted, the rest go', async () => {
    const u = uploader({ uploadSizeLimitBytes: 512 });
    u.log(event(1, { blob: Array.from({ length: 400 }, (_, i) => `${i}-${Math.random()}`).join('') }));
    u.log(event(2));
    await u.flush();
    expect(u.stats().dropped.too_large).toBe(1);
    expect(rx.batches.flatMap((b) => b.events.map((e) => e.decision_id))).toEqual(['d-2']);
  });

  test('masking: the mask rules erase and upsert, recorded in erased / masked; the caller\'s event is untouched', async () => {
    const rules = ['/input/attributes/request/http/headers/authorization', { op: 'upsert', path: '/input/parsed_query/code', value: ['REDACTED'] }, '/result/missing'];
    const u = uploader({ mask: rules });
    const ev = event(0, { erased: ['/input/parsed_body'] });
    u.log(ev);
    await u.flush();
    const got = rx.batches[0].events[0] as any;
    expect(got.input.attributes.request.http.headers).toEqual({});
    expect(got.input.parsed_query.code).toEqual(['REDACTED']);
    expect(got.erased).toEqual(['/input/parsed_body', '/input/attributes/request/http/headers/authorization']);
    expect(got.masked).toEqual(['/input/parsed_query/code']);
    expect((ev.input as any).attributes.request.http.headers.authorization).toBe('Bearer secret');
  });

  test('masking by an (async) mask decision per event; a failing mask drops the event, never logs it unmasked', async () => {
    const u = uploader({
      mask: async (e) => {
        if (e.decision_id === 'd-1') throw new Error('mask policy failed');
        return ['/input'];
      },
    });
    u.log(event(0));
    u.log(event(1));
    await u.flush();
    expect(rx.batches[0].events).toHaveLength(1);
    expect(rx.batches[0].events[0]).not.toHaveProperty('input');
    expect(rx.batches[0].events[0].erased).toEqual(['/input']);
    expect(u.stats().dropped.mask_error).toBe(1);
  });
});

describe('failures', () => {
  test('a failing receiver: the batch is kept and retried with backoff, then dropped and counted after max attempts', async () => {
    const rx = await receiver();
    const c = client(rx.url);
    rx.status = 500;
    const events: string[] = [];
    const u = new DecisionLogUploader({ transport: c, maxAttempts: 3, random: () => 0.5, maxDelaySeconds: 600, onEvent: (e) => events.push(e.kind) });
    try {
      u.log(event(1));
      u.log(event(2));
      await u.flush();
      expect(u.stats()).toMatchObject({ failedUploads: 1, bufferedEvents: 2 });
      expect(Math.round(u.nextDelayMs())).toBe(160);
      await u.flush();
      expect(Math.round(u.nextDelayMs())).toBe(256);
      await u.flush();
      expect(rx.hits).toBe(3);
      expect(u.stats()).toMatchObject({ failedUploads: 3, bufferedEvents: 0, dropped: { upload_failed: 2 } });
      expect(events).toEqual(['upload_failed', 'upload_failed', 'upload_failed', 'dropped']);
      // the receiver recovers: new events go through, and the delay is back to the reporting interval
      rx.status = 200;
      u.log(event(3));
      await u.flush();
      expect(rx.batches.flatMap((b) => b.events.map((e) => e.decision_id))).toEqual(['d-3']);
      expect(u.nextDelayMs()).toBe(450_000);
    } finally {
      c.close();
      await rx.close();
    }
  });

  test('retries keep everything until the receiver comes back (no max attempts, as OPA)', async () => {
    const rx = await receiver();
    const c = client(rx.url);
    rx.status = 503;
    const u = new DecisionLogUploader({ transport: c });
    try {
      u.log(event(1));
      for (let i = 0; i < 4; i++) await u.flush();
      rx.status = 200;
      await u.flush();
      expect(rx.batches[0].events.map((e) => e.decision_id)).toEqual(['d-1']);
      expect(u.stats().dropped.upload_failed).toBe(0);
    } finally {
      c.close();
      await rx.close();
    }
  });

  test('an unreachable receiver and a throwing transport are failures, not exceptions', async () => {
    const rx = await receiver();
    const url = rx.url;
    await rx.close();
    const c = client(url);
    const u = new DecisionLogUploader({ transport: c });
    u.log(event(1));
    await expect(u.flush()).resolves.toBeUndefined();
    expect(u.stats()).toMatchObject({ failedUploads: 1, bufferedEvents: 1 });
    c.close();
    const throwing = new DecisionLogUploader({ transport: { request: () => { throw new Error('boom'); } } });
    throwing.log(event(1));
    await expect(throwing.flush()).resolves.toBeUndefined();
  });

  test('a full buffer drops the oldest events and counts them (by events and by bytes)', async () => {
    const sent: Buffer[] = [];
    const transport = { request: async (r: { body: Buffer }) => (sent.push(r.body), { status: 200 }) };
    const byEvents = new DecisionLogUploader({ transport, bufferSizeLimitEvents: 3 });
    for (let i = 0; i < 5; i++) byEvents.log(event(i));
    expect(byEvents.stats()).toMatchObject({ bufferedEvents: 3, dropped: { buffer_full: 2 } });
    await byEvents.flush();
    expect((JSON.parse(gunzipSync(sent[0]).toString()) as { decision_id: string }[]).map((e) => e.decision_id)).toEqual(['d-2', 'd-3', 'd-4']);

    const one = Buffer.byteLength(JSON.stringify(event(0)));
    const byBytes = new DecisionLogUploader({ transport, bufferSizeLimitBytes: one * 2 + 10 });
    for (let i = 0; i < 4; i++) byBytes.log(event(i));
    expect(byBytes.stats()).toMatchObject({ bufferedEvents: 2, dropped: { buffer_full: 2 } });
    expect(byBytes.stats().bufferedBytes).toBeLessThanOrEqual(one * 2 + 10);
  });

  test('events that cannot be encoded are dropped and counted', () => {
    const u = new DecisionLogUploader({ transport: { request: async () => ({ status: 200 }) } });
    const cyclic: Record<string, unknown> = { decision_id: 'x' };
    cyclic.self = cyclic;
    expect(() => u.log(cyclic)).not.toThrow();
    expect(() => u.log({ n: BigInt(1) })).not.toThrow();
    expect(u.stats().dropped.encode_error).toBe(2);
  });
});

describe('the reporting loop (manual timers)', () => {
  test('uploads on each tick within min..max delay; stop() flushes what is left', async () => {
    const scheduled: { fn: () => void; ms: number }[] = [];
    const timers: UploadTimers = { setTimeout: (fn, ms) => scheduled.push({ fn, ms }), clearTimeout: () => undefined };
    const bodies: Buffer[] = [];
    const u = new DecisionLogUploader({ transport: { request: async (r) => (bodies.push(r.body), { status: 200 }) }, timers, random: () => 0, minDelaySeconds: 5, maxDelaySeconds: 10 });
    u.start();
    expect(scheduled.map((s) => s.ms)).toEqual([5000]);
    u.log(event(1));
    scheduled[0].fn();
    for (let i = 0; i < 10 && scheduled.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(bodies).toHaveLength(1);
    expect(scheduled).toHaveLength(2);
    u.log(event(2));
    await u.stop();
    expect(bodies).toHaveLength(2);
  });
});

describe('mask rules (OPA semantics)', () => {
  const base = (): Record<string, unknown> => ({ input: { a: { b: 1, list: ['x', 'y', 'z'] }, 'k/slash': 1 }, result: true });

  test.each([
    [['/input/a/b'], { input: { a: { list: ['x', 'y', 'z'] }, 'k/slash': 1 }, result: true, erased: ['/input/a/b'] }],
    [['/input/a/list/1'], { input: { a: { b: 1, list: ['x', 'z'] }, 'k/slash': 1 }, result: true, erased: ['/input/a/list/1'] }],
    [['/input/k%2Fslash'], { input: { a: { b: 1, list: ['x', 'y', 'z'] } }, result: true, erased: ['/input/k%2Fslash'] }],
    [['/result'], { input: base().input, erased: ['/result'] }],
    [['/input/nope', '/input/a/list/9'], base()],
    [[{ op: 'upsert', path: '/input/a/c/d', value: 'new' }], { input: { a: { b: 1, list: ['x', 'y', 'z'], c: { d: 'new' } }, 'k/slash': 1 }, result: true, masked: ['/input/a/c/d'] }],
    [[{ op: 'upsert', path: '/result', value: 'hidden' }], { input: base().input, result: 'hidden', masked: ['/result'] }],
  ])('%j', (rules, want) => {
    const ev = base();
    expect(applyMaskRules(ev, rules)).toEqual([]);
    expect(ev).toEqual(want);
  });

  test('rules that do not parse are reported and skipped', () => {
    const ev = base();
    const errors = applyMaskRules(ev, ['input/a', '/labels/x', '', { op: 'replace', path: '/input/a' }, { path: 7 }, '/input/a/b']);
    expect(errors).toHaveLength(5);
    expect(ev.erased).toEqual(['/input/a/b']);
  });
});
