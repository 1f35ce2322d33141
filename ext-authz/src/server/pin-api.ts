// The Pin API (proto/callbackproxy/v1/pins.proto, DESIGN §2 "Pins" way 2), transport-neutral: bearer
// authentication per backend (keys.pin_api_tokens), then createPin / mintState from pipeline/pins.
// The gRPC and HTTP/JSON front ends both call this and map PinApiError codes to their status codes.
import { CodedError } from '../model/errors';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FactsDeps } from '../pipeline/facts/deps';
import { createPin, mintState, MintError } from '../pipeline/pins/mint';

export type PinApiErrorCode = 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'not_found' | 'unavailable';

/** gRPC status code and HTTP status per error code (one table, STYLE "one table maps code → status"). */
export const PIN_API_STATUS: Record<PinApiErrorCode, { grpc: number; http: number }> = {
  unauthenticated: { grpc: 16, http: 401 },
  permission_denied: { grpc: 7, http: 403 },
  invalid_argument: { grpc: 3, http: 400 },
  not_found: { grpc: 5, http: 404 },
  unavailable: { grpc: 14, http: 503 },
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

/**
 * The backend ids a bearer token belongs to (a deployment may give several backends one token, as the
 * demo does). Every configured token is compared, digest against digest, in constant time.
 */
export function backendsForToken(tokens: Record<string, string>, authorization: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!authorization) return out;
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
  if (!m) return out;
  const presented = digest(m[1]);
  for (const backend of Object.keys(tokens)) {
    if (timingSafeEqual(presented, digest(tokens[backend]))) out.add(backend);
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
    }
  }
  return new PinApiError('unavailable', 'the pin could not be recorded');
}

export class PinApi {
  constructor(
    private readonly getDeps: () => FactsDeps | null,
    private readonly now: () => number = Date.now,
  ) {}

  private authorize(authorization: string | undefined, connection: string, backend: string): FactsDeps {
    const deps = this.getDeps();
    if (!deps) throw new PinApiError('unavailable', 'the service is not ready');
    const callers = backendsForToken(deps.registry.keys.pin_api_tokens, authorization);
    if (callers.size === 0) throw new PinApiError('unauthenticated', 'a valid bearer token is required');
    if (typeof connection !== 'string' || connection === '') throw new PinApiError('invalid_argument', 'connection is required');
    if (typeof backend !== 'string' || backend === '') throw new PinApiError('invalid_argument', 'backend is required');
    // A backend's token pins flows to that backend only: one compromised backend cannot steer another's.
    if (!callers.has(backend)) throw new PinApiError('permission_denied', 'the token does not belong to this backend');
    return deps;
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
