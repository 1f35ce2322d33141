// The Pin API error table stays in sync with its codes and maps to real gRPC / HTTP statuses.
import * as grpc from '@grpc/grpc-js';
import { createFactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { PIN_API_STATUS, PinApiError, ownersOfToken } from '../../ext-authz/src/server/pin-api';
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import { demoSetup } from '../pipeline/facts/fixtures';
import type { PinApiErrorCode } from '../../ext-authz/src/server/pin-api';

test('every code has a gRPC and an HTTP status', () => {
  const expected: Record<PinApiErrorCode, [number, number]> = {
    unauthenticated: [grpc.status.UNAUTHENTICATED, 401],
    permission_denied: [grpc.status.PERMISSION_DENIED, 403],
    invalid_argument: [grpc.status.INVALID_ARGUMENT, 400],
    not_found: [grpc.status.NOT_FOUND, 404],
    already_exists: [grpc.status.ALREADY_EXISTS, 409],
    unavailable: [grpc.status.UNAVAILABLE, 503],
    resource_exhausted: [grpc.status.RESOURCE_EXHAUSTED, 503],
  };
  expect(Object.keys(PIN_API_STATUS).sort()).toEqual(Object.keys(expected).sort());
  for (const [code, [g, h]] of Object.entries(expected)) {
    expect(PIN_API_STATUS[code as PinApiErrorCode]).toEqual({ grpc: g, http: h });
    const e = new PinApiError(code as PinApiErrorCode, 'm');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(code);
  }
});

test('bearer tokens: exact match only; a token belongs to (connection, backend) pairs, several backends may share one', () => {
  const reg = structuredClone(demoSetup().registry);
  const other = structuredClone(reg.connections[0]);
  other.name = 'other';
  other.hosts = ['other.example.com'];
  reg.connections.push(other);
  // Backend ids repeat across the two connections: their tokens are named per connection.
  reg.keys.pin_api_tokens = { 'demo/legacy': 'tok-a-0123456789', 'demo/new': 'tok-a-0123456789', 'other/legacy': 'tok-b-0123456789' };
  const deps = createFactsDeps(reg, { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore() });
  expect([...ownersOfToken(deps, 'Bearer tok-a-0123456789')].sort()).toEqual(['demo/legacy', 'demo/new']);
  expect([...ownersOfToken(deps, 'bearer tok-b-0123456789')]).toEqual(['other/legacy']);
  for (const bad of [undefined, '', 'tok-a-0123456789', 'Bearer ', 'Bearer tok-a-0123456789 ', 'Basic tok-a-0123456789', 'Bearer tok-a-012345678', 'Bearer tok-a-0123456789\u0000']) {
    expect(ownersOfToken(deps, bad).size).toBe(bad === 'Bearer tok-a-0123456789 ' ? 2 : 0);
  }
});
