// Token phase, prepared at load: one verifier per issuer (jose local JWKS for inline keys, remote JWKS
// with cooldown and cache for jwks_uri). Keys come only from here, never from a token (RFC 8725 §3.1).
import { isDeepStrictEqual } from 'node:util';
import { createLocalJWKSet, createRemoteJWKSet, customFetch } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { IssuerConfig } from '../../model/registry';

export type JwksFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface PreparedIssuer {
  config: IssuerConfig;
  getKey: JWTVerifyGetKey;
  algs: ReadonlySet<string>;
  /** kids of an inline JWKS (exact map keys, T-J3); null for remote sets (jose resolves). */
  kids: ReadonlySet<string> | null;
  remote: boolean;
}

export interface IssuerRegistry {
  get(issuer: string): PreparedIssuer | undefined;
  readonly size: number;
}

export interface IssuerRegistryOptions {
  fetch?: JwksFetch;
  /** Remote JWKS: minimum time between refetches on an unknown kid (jose `cooldownDuration`). */
  cooldownMs?: number;
  /** Remote JWKS: how long fetched keys are used before a refetch (jose `cacheMaxAge`). */
  cacheMaxAgeMs?: number;
  timeoutMs?: number;
}

/**
 * Prepares every issuer. `previous` is the registry prepared for the last registry load (with the same
 * options): an issuer whose entry is unchanged keeps its prepared verifier, so a reload does not throw
 * away a remote JWKS cache and refetch every key set (docs/operations.md, "Reload").
 */
export function prepareIssuers(issuers: IssuerConfig[], opts: IssuerRegistryOptions = {}, previous?: IssuerRegistry): IssuerRegistry {
  const map = new Map<string, PreparedIssuer>();
  for (const cfg of issuers) {
    const old = previous?.get(cfg.issuer);
    map.set(cfg.issuer, old && isDeepStrictEqual(old.config, cfg) ? old : prepareIssuer(cfg, opts));
  }
  return {
    get: (iss) => map.get(iss),
    get size() {
      return map.size;
    },
  };
}

function prepareIssuer(cfg: IssuerConfig, opts: IssuerRegistryOptions): PreparedIssuer {
  const algs = new Set(cfg.algs);
  if (cfg.jwks) {
    const kids = new Set<string>();
    for (const k of cfg.jwks.keys) if (typeof k.kid === 'string') kids.add(k.kid);
    // jose's local set also binds key type to alg: an RSA key never satisfies HS256 (T-J2).
    const local = createLocalJWKSet({ keys: cfg.jwks.keys as never });
    return { config: cfg, getKey: local as JWTVerifyGetKey, algs, kids, remote: false };
  }
  if (!cfg.jwks_uri) throw new Error(`issuer ${cfg.issuer}: needs jwks or jwks_uri`);
  const remoteOpts: Parameters<typeof createRemoteJWKSet>[1] = {
    cooldownDuration: opts.cooldownMs ?? 30_000,
    cacheMaxAge: opts.cacheMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: opts.timeoutMs ?? 2_000,
  };
  if (opts.fetch) (remoteOpts as Record<symbol, unknown>)[customFetch] = opts.fetch;
  const remote = createRemoteJWKSet(new URL(cfg.jwks_uri), remoteOpts);
  return { config: cfg, getKey: remote as JWTVerifyGetKey, algs, kids: null, remote: true };
}
