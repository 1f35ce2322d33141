// The Pin API (proto/callbackproxy/v1/pins.proto, docs/architecture.md, "Pins" way 2), transport-neutral: bearer
// authentication per (connection, backend) (keys.pin_api_tokens, scoped like the pins themselves),
// then createPin / mintState from pipeline/pins. A pin is owned by whoever registered it first: a
// registration for another backend is refused (already_exists), logged and counted.
// The gRPC and HTTP/JSON front ends both call this and map PinApiError codes to their status codes.
import { CodedError } from '../model/errors';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FactsDeps } from '../pipeline/facts/deps';
import { createPin, mintState, MintError } from '../pipeline/pins/mint';
import type { Logger } from '../telemetry/logger';

export type PinApiErrorCode = 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'not_found' | 'already_exists' | 'unavailable' | 'resource_exhausted';

/** gRPC status code and HTTP status per error code (one table). */
export const PIN_API_STATUS: Record<PinApiErrorCode, { grpc: number; http: number }> = {
  unauthenticated: { grpc: 16, http: 401 },
  permission_denied: { grpc: 7, http: 403 },
  invalid_argument: { grpc: 3, http: 400 },
  not_found: { grpc: 5, http: 404 },
  already_exists: { grpc: 6, http: 409 },
  unavailable: { grpc: 14, http: 503 },
  /** The pin budget is full (limits.max_pins): retry later; nothing held was dropped to make room. */
  resource_exhausted: { grpc: 8, http: 503 },
};

export class PinApiError extends CodedError<PinApiErrorCode> {}

export interface CreatePinInput {
  connection: string;
  backend: string;
  state: string;
  responseMode: string;
  ttlSeconds: number;
  /** "state" (default) or "relay_state" (SAML). */
  flowKeyType: string;
}

export interface MintStateInput {
  connection: string;
  backend: string;
  responseMode: string;
  ttlSeconds: number;
}

/** Wire shapes (protojson names; int64 as string). */
export interface CreatePinOutput {
  stateHash: string;
  expiresAtMs: string;
}
export interface MintStateOutput extends CreatePinOutput {
  state: string;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The presented bearer token, or null when the header is absent or not `Bearer <token>`. */
function bearer(authorization: string | undefined): Buffer | null {
  if (!authorization) return null;
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
  return m ? digest(m[1]) : null;
}

/**
 * The (connection, backend) pairs a bearer token belongs to, as `connection/backend`. Every configured
 * token is compared, digest against digest, in constant time (tokens are scoped by connection and
 * backend, so one token never pins flows on two connections: the registry schema refuses that).
 */
export function ownersOfToken(deps: FactsDeps, authorization: string | undefined): Set<string> {
  const out = new Set<string>();
  const presented = bearer(authorization);
  if (presented === null) return out;
  for (const conn of deps.connections.values()) {
    for (const [backend, want] of conn.pinTokens) if (timingSafeEqual(presented, want)) out.add(`${conn.config.name}/${backend}`);
  }
  return out;
}

function responseMode(s: string): 'query' | 'form_post' | null {
  if (s === '' || s === undefined) return null;
  if (s === 'query' || s === 'form_post') return s;
  throw new PinApiError('invalid_argument', 'response_mode must be "query", "form_post" or empty');
}

function mapMintError(e: unknown): PinApiError {
  if (e instanceof PinApiError) return e;
  if (e instanceof MintError) {
    switch (e.code) {
      // Fixed prose: the caller's own connection / backend names are not echoed back (T-L4).
      case 'unknown_connection':
        return new PinApiError('not_found', 'no such connection');
      case 'unknown_backend':
        return new PinApiError('not_found', 'the connection has no such backend');
      case 'bad_state':
        return new PinApiError('invalid_argument', e.message);
      case 'store_unavailable':
        return new PinApiError('unavailable', e.message);
      case 'already_pinned':
        return new PinApiError('already_exists', e.message);
      case 'budget_exhausted':
        return new PinApiError('resource_exhausted', e.message);
    }
  }
  return new PinApiError('unavailable', 'the pin could not be recorded');
}

export class PinApi {
  constructor(
    private readonly getDeps: () => FactsDeps | null,
    private readonly now: () => number = Date.now,
    private readonly logger: Logger | null = null,
  ) {}

  private authorize(authorization: string | undefined, connection: string, backend: string): FactsDeps {
    const deps = this.getDeps();
    if (!deps) throw new PinApiError('unavailable', 'the service is not ready');
    const callers = ownersOfToken(deps, authorization);
    if (callers.size === 0) throw new PinApiError('unauthenticated', 'a valid bearer token is required');
    if (typeof connection !== 'string' || connection === '') throw new PinApiError('invalid_argument', 'connection is required');
    if (typeof backend !== 'string' || backend === '') throw new PinApiError('invalid_argument', 'backend is required');
    const conn = deps.connections.get(connection);
    // Fixed prose: the caller's own connection / backend names are not echoed back (T-L4).
    if (!conn) throw new PinApiError('not_found', 'no such connection');
    if (!conn.backends.has(backend)) throw new PinApiError('not_found', 'the connection has no such backend');
    // A token pins flows to its own backend on its own connection only: one compromised backend
    // cannot steer another's flows, here or on another connection.
    if (!callers.has(`${connection}/${backend}`)) throw new PinApiError('permission_denied', 'the token does not belong to this backend of this connection');
    return deps;
  }

  /** A refused re-pin is a security event: logged (keyed hash only) here, counted by the front ends. */
  private refused(e: unknown, connection: string, backend: string): void {
    if (!(e instanceof MintError) || e.code !== 'already_pinned' || this.logger === null) return;
    try {
      this.logger.warn({ event: 'pin_takeover_refused', connection, backend, state_hash: e.flowKeyHash ?? null }, 'a pin for another backend was refused');
    } catch {
      // a logger that throws must not change the answer
    }
  }

  async createPin(authorization: string | undefined, input: CreatePinInput): Promise<CreatePinOutput> {
    const deps = this.authorize(authorization, input.connection, input.backend);
    if (typeof input.state !== 'string' || input.state === '') throw new PinApiError('invalid_argument', 'state is required');
    const purpose = flowKeyPurpose(input.flowKeyType);
    try {
      const mode = purpose === 'relay' ? 'form_post' : responseMode(input.responseMode);
      const pin = await createPin(input.connection, input.backend, input.state, mode, deps, this.now(), purpose);
      return { stateHash: pin.flow_key_hash, expiresAtMs: String(pin.expires_at) };
    } catch (e) {
      this.refused(e, input.connection, input.backend);
      throw mapMintError(e);
    }
  }

  async mintState(authorization: string | undefined, input: MintStateInput): Promise<MintStateOutput> {
    const deps = this.authorize(authorization, input.connection, input.backend);
    try {
      const r = await mintState(input.connection, input.backend, deps, this.now(), responseMode(input.responseMode));
      return { state: r.state, stateHash: r.pin.flow_key_hash, expiresAtMs: String(r.pin.expires_at) };
    } catch (e) {
      throw mapMintError(e);
    }
  }
}

/** Reads a JSON/proto request object accepting protojson and snake_case names. */
export function readPinInput(o: unknown): CreatePinInput {
  const r = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
  const s = (a: string, b: string): string => {
    const v = r[a] ?? r[b];
    return typeof v === 'string' ? v : '';
  };
  const ttlRaw = r.ttlSeconds ?? r.ttl_seconds ?? 0;
  const ttl = typeof ttlRaw === 'number' ? ttlRaw : Number(ttlRaw);
  return {
    connection: s('connection', 'connection'),
    backend: s('backend', 'backend'),
    state: s('state', 'state'),
    responseMode: s('responseMode', 'response_mode'),
    ttlSeconds: Number.isFinite(ttl) && ttl >= 0 ? ttl : 0,
    flowKeyType: s('flowKeyType', 'flow_key_type'),
  };
}

/** `flow_key_type` → the keyed-hash purpose the callback side looks the pin up by. */
function flowKeyPurpose(t: string): 'state' | 'relay' {
  if (t === '' || t === 'state') return 'state';
  if (t === 'relay_state') return 'relay';
  throw new PinApiError('invalid_argument', 'flow_key_type must be "state" or "relay_state"');
}
