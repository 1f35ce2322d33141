// PipelineResult → CheckResponse, encoded with the real Envoy protos to prove it is wire-valid.
import { loadProtos } from '../../ext-authz/src/check/protos';
import { toCheckResponse, denyBody, denyHintHeaders } from '../../ext-authz/src/check/check-response';
import { toHttpReply } from '../../ext-authz/src/check/forward-auth';
import { structToJson } from '../../ext-authz/src/check/attributes-json';
import type { DecodedStruct } from '../../ext-authz/src/check/check-request-types';
import { result } from './fixtures';

const check = loadProtos().authorizationService.Check;
const opts = { routingHeader: 'x-callback-backend' };
function wire(o: unknown): any {
  return check.responseDeserialize(check.responseSerialize(o));
}

describe('toCheckResponse', () => {
  test('allow: OK, routing header overwritten, client routing headers removed, response headers added', () => {
    const r = result(
      { action: 'allow', backend: 'legacy', headers: { 'x-extra': '1', 'X-Callback-Backend': 'new' }, response_headers: { 'set-cookie': '__Host-h=v; Secure' } },
      { headersToRemove: ['x-backend', 'X-Forwarded-Host', 'x-callback-backend', ':path'] },
    );
    const resp = wire(toCheckResponse(r, opts));
    expect(resp.status.code).toBe(0);
    expect(resp.deniedResponse).toBeUndefined();
    const hs = resp.okResponse.headers;
    expect(hs[0]).toEqual({ header: { key: 'x-callback-backend', value: 'legacy' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
    // The policy cannot smuggle a second routing header in through decision.headers.
    expect(hs.filter((h: any) => h.header.key === 'x-callback-backend')).toHaveLength(1);
    expect(hs[1]).toEqual({ header: { key: 'x-extra', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
    // Overwrite replaces the inbound copy; listing it for removal would also drop ours.
    expect(resp.okResponse.headersToRemove).toEqual(['x-backend', 'x-forwarded-host']);
    expect(resp.okResponse.responseHeadersToAdd).toEqual([
      { header: { key: 'set-cookie', value: '__Host-h=v; Secure' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    const md = structToJson(resp.dynamicMetadata as DecodedStruct);
    expect(md).toMatchObject({ decision_id: 'd-123', action: 'allow', backend: 'legacy', reasons: ['pinned_legacy'], stage: 'canary', connection: 'demo' });
  });

  test('rewrite is forwarded like allow', () => {
    const resp = wire(toCheckResponse(result({ action: 'rewrite', backend: 'new', reasons: ['stage_new'] }), opts));
    expect(resp.status.code).toBe(0);
    expect(resp.okResponse.headers[0].header).toEqual({ key: 'x-callback-backend', value: 'new' });
  });

  test('deny: PERMISSION_DENIED, status from the decision, generic body, reason header', () => {
    const r = result({ action: 'deny', backend: null, reasons: ['duplicate_param'], http_status: 400, headers: { 'x-leak': 'CANARYSTATE' } });
    const resp = wire(toCheckResponse(r, opts));
    expect(resp.status.code).toBe(7);
    expect(resp.okResponse).toBeUndefined();
    expect(resp.deniedResponse.status.code).toBe('BadRequest');
    expect(JSON.parse(resp.deniedResponse.body)).toEqual({ error: 'request_denied', reason: 'duplicate_param', decision_id: 'd-123' });
    const h = Object.fromEntries(resp.deniedResponse.headers.map((x: any) => [x.header.key, x.header.value]));
    expect(h['x-callback-reason']).toBe('duplicate_param');
    expect(h['content-type']).toBe('application/json');
    expect(JSON.stringify(resp)).not.toContain('CANARYSTATE');
    expect(structToJson(resp.dynamicMetadata)).toMatchObject({ action: 'deny', backend: null, reasons: ['duplicate_param'] });
  });

  test('status falls back to the reason table; unusual statuses (431, 503) encode', () => {
    expect(wire(toCheckResponse(result({ action: 'deny', backend: null, reasons: ['headers_too_large'], http_status: 0 }), opts)).deniedResponse.status.code).toBe(
      'RequestHeaderFieldsTooLarge',
    );
    expect(wire(toCheckResponse(result({ action: 'deny', backend: null, reasons: ['store_unavailable'], http_status: 503 }), opts)).deniedResponse.status.code).toBe(
      'ServiceUnavailable',
    );
  });

  test('an allow without a backend, or an unknown reason, is a deny (fail closed)', () => {
    const resp = wire(toCheckResponse(result({ action: 'allow', backend: null }), opts));
    expect(resp.status.code).toBe(7);
    const bogus = result({ action: 'deny', backend: null, reasons: ['<script>' as never] });
    expect(JSON.parse(denyBody(bogus)).reason).toBe('internal_error');
  });
});

describe('deny hint header (restart after a drained or expired flow)', () => {
  test('the policy hint reaches the client on deny, over gRPC and forward-auth', () => {
    const r = result({ action: 'deny', backend: null, reasons: ['drain_expired'], response_headers: { 'X-Callback-Hint': 'restart-login', 'set-cookie': 'a=b' } });
    const hs = wire(toCheckResponse(r, opts)).deniedResponse.headers.map((h: any) => [h.header.key, h.header.value]);
    expect(hs).toContainEqual(['x-callback-hint', 'restart-login']);
    // Nothing else the policy asked for is attached to a deny.
    expect(hs.map((h: string[]) => h[0])).not.toContain('set-cookie');
    expect(toHttpReply(r, 'nginx', 'x-callback-backend').headers['x-callback-hint']).toBe('restart-login');
  });

  test('a hint that is not a short lower-case token is dropped (no reflection, threat model T-L4)', () => {
    for (const v of ['https://evil.example/', 'Restart', 'restart login', 'x'.repeat(80)]) {
      const r = result({ action: 'deny', backend: null, reasons: ['state_expired'], response_headers: { 'x-callback-hint': v } });
      expect(denyHintHeaders(r)).toEqual({});
      const hs = wire(toCheckResponse(r, opts)).deniedResponse.headers.map((h: any) => h.header.key);
      expect(hs).not.toContain('x-callback-hint');
    }
  });
});
