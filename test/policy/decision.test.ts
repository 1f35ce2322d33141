// Decision validation (docs/architecture.md, "The decision"): both accepted shapes, and every malformed variant fails
// closed with invalid_decision / backend_not_allowed.
import { validateDecision } from '../../ext-authz/src/policy/decision';
import type { DecisionContext } from '../../ext-authz/src/policy/decision';

const ctx: DecisionContext = { backends: new Set(['legacy', 'new']), reserved: new Set(['x-callback-backend']), defaultBackend: 'legacy' };
const ok = { action: 'allow', backend: 'new', reasons: ['pinned_new'] };

describe('callback-shaped decisions', () => {
  test('a complete allow is kept, with defaults filled', () => {
    const v = validateDecision({ ...ok, headers: { 'X-Extra': 'v' }, pin: { backend: 'new' }, dynamic_metadata: { a: 1 } }, ctx);
    expect(v.shape).toBe('callback');
    expect(v.decision).toEqual({
      action: 'allow', backend: 'new', reasons: ['pinned_new'], http_status: 200, headers: { 'x-extra': 'v' },
      response_headers: {}, pin: { backend: 'new' }, dynamic_metadata: { a: 1 },
    });
  });

  test('a deny takes its status from the reason table unless given', () => {
    expect(validateDecision({ action: 'deny', reasons: ['duplicate_param'] }, ctx).decision.http_status).toBe(400);
    expect(validateDecision({ action: 'deny', reasons: ['state_unknown'] }, ctx).decision.http_status).toBe(403);
    expect(validateDecision({ action: 'deny', reasons: ['state_unknown'], http_status: 429 }, ctx).decision.http_status).toBe(429);
    const d = validateDecision({ action: 'deny', backend: 'new', reasons: ['state_unknown'] }, ctx).decision;
    expect(d.backend).toBeNull();
  });

  test.each([
    ['unknown action', { ...ok, action: 'forward' }, 'invalid_decision'],
    ['missing action value', { ...ok, action: null }, 'invalid_decision'],
    ['non-string backend', { ...ok, backend: 7 }, 'invalid_decision'],
    ['empty backend', { ...ok, backend: '' }, 'invalid_decision'],
    ['backend outside the connection', { ...ok, backend: 'internal-admin' }, 'backend_not_allowed'],
    ['pin to a foreign backend', { ...ok, pin: { backend: 'elsewhere' } }, 'backend_not_allowed'],
    ['unknown reason code', { ...ok, reasons: ['because'] }, 'invalid_decision'],
    ['no reasons', { ...ok, reasons: [] }, 'invalid_decision'],
    ['reasons not a list', { ...ok, reasons: 'pinned_new' }, 'invalid_decision'],
    ['routing header set by the policy', { ...ok, headers: { 'X-Callback-Backend': 'legacy' } }, 'invalid_decision'],
    ['hop-by-hop header', { ...ok, headers: { connection: 'close' } }, 'invalid_decision'],
    ['pseudo-header', { ...ok, headers: { ':authority': 'evil' } }, 'invalid_decision'],
    ['host header', { ...ok, headers: { host: 'evil' } }, 'invalid_decision'],
    ['header value with CRLF', { ...ok, headers: { 'x-a': 'v\r\nx-b: w' } }, 'invalid_decision'],
    ['non-string header value', { ...ok, headers: { 'x-a': 1 } }, 'invalid_decision'],
    ['response header transfer-encoding', { ...ok, response_headers: { 'transfer-encoding': 'chunked' } }, 'invalid_decision'],
    ['http_status below 200', { ...ok, http_status: 101 }, 'invalid_decision'],
    ['http_status above 599', { ...ok, http_status: 600 }, 'invalid_decision'],
    ['non-integer http_status', { ...ok, http_status: 200.5 }, 'invalid_decision'],
    ['an allow with a 403', { ...ok, http_status: 403 }, 'invalid_decision'],
    ['dynamic_metadata not an object', { ...ok, dynamic_metadata: [1] }, 'invalid_decision'],
    ['a number', 42, 'invalid_decision'],
    ['a string', 'allow', 'invalid_decision'],
    ['null', null, 'invalid_decision'],
    ['an empty object', {}, 'invalid_decision'],
  ])('%s → deny %s', (_name, raw, reason) => {
    const v = validateDecision(raw, ctx);
    expect(v.shape).toBe('invalid');
    expect(v.decision.action).toBe('deny');
    expect(v.decision.backend).toBeNull();
    expect(v.decision.reasons).toEqual([reason]);
    expect(v.problem).toEqual(expect.any(String));
  });

  test('problems never quote values', () => {
    const v = validateDecision({ ...ok, headers: { 'x-a': 'SECRETVALUE\n' } }, ctx);
    expect(v.problem).not.toContain('SECRETVALUE');
  });
});

describe('OPA-Envoy-shaped decisions', () => {
  test('true → allow to the default backend (the pinned one, else legacy)', () => {
    const v = validateDecision(true, ctx);
    expect(v.shape).toBe('opa_envoy');
    expect(v.decision).toMatchObject({ action: 'allow', backend: 'legacy', reasons: ['opa_envoy_allowed'], http_status: 200 });
    expect(validateDecision(true, { ...ctx, defaultBackend: 'new' }).decision.backend).toBe('new');
  });

  test('false → deny opa_envoy_denied 403', () => {
    expect(validateDecision(false, ctx).decision).toMatchObject({ action: 'deny', backend: null, reasons: ['opa_envoy_denied'], http_status: 403 });
  });

  test('the object form maps headers, response headers, removals, status and metadata; body is dropped', () => {
    const v = validateDecision(
      {
        allowed: true, headers: { 'x-user': 'u1', 'x-multi': ['a', 'b'] }, response_headers_to_add: { 'x-r': '1' },
        request_headers_to_remove: ['X-Debug'], dynamic_metadata: { k: 'v' }, body: 'ignored',
      },
      ctx,
    );
    expect(v.decision).toMatchObject({ action: 'allow', headers: { 'x-user': 'u1', 'x-multi': 'a, b' }, response_headers: { 'x-r': '1' }, dynamic_metadata: { k: 'v' } });
    expect(v.requestHeadersToRemove).toEqual(['x-debug']);
    const denied = validateDecision({ allowed: false, http_status: 401, body: 'secret text' }, ctx);
    expect(denied.decision.http_status).toBe(401);
    expect(JSON.stringify(denied.decision)).not.toContain('secret text');
  });

  test.each([
    ['allowed not boolean', { allowed: 'yes' }, 'invalid_decision'],
    ['removing the routing header', { allowed: true, request_headers_to_remove: ['x-callback-backend'] }, 'invalid_decision'],
    ['setting the routing header', { allowed: true, headers: { 'x-callback-backend': 'new' } }, 'invalid_decision'],
    ['bad status', { allowed: false, http_status: 700 }, 'invalid_decision'],
  ])('%s → deny %s', (_n, raw, reason) => {
    expect(validateDecision(raw, ctx).decision.reasons).toEqual([reason]);
  });

  test('allow with no backend to route to → backend_not_allowed', () => {
    expect(validateDecision(true, { ...ctx, defaultBackend: null }).decision.reasons).toEqual(['backend_not_allowed']);
    expect(validateDecision(true, { ...ctx, defaultBackend: 'gone' }).decision.reasons).toEqual(['backend_not_allowed']);
  });
});
