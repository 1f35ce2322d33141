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
  /** The verifiers prepared so far (what a reload may carry over). */
  prepared(): Iterable<PreparedIssuer>;
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
 * The issuers' verifiers, each prepared when a token first names its issuer and kept: preparing all of
 * them up front cost a start or reload O(issuers) work on the event loop (10,000 issuers: ~150 ms,
 * docs/performance.md, "Reload"), for issuers most requests never name. `previous` is the registry
 * prepared for the last registry load (with the same options): an issuer it had prepared whose entry is
 * unchanged keeps its verifier, so a reload does not throw away a remote JWKS cache and refetch every
 * key set (docs/operations.md, "Reload"). Only its prepared verifiers are carried over, never a link to
 * it, so successive reloads do not chain.
 */
export function prepareIssuers(issuers: IssuerConfig[], opts: IssuerRegistryOptions = {}, previous?: IssuerRegistry): IssuerRegistry {
  const configs = new Map<string, IssuerConfig>();
  for (const cfg of issuers) configs.set(cfg.issuer, cfg);
  const prepared = new Map<string, PreparedIssuer>();
  for (const old of previous?.prepared() ?? []) {
    const cfg = configs.get(old.config.issuer);
    if (cfg && isDeepStrictEqual(old.config, cfg)) prepared.set(cfg.issuer, old);
  }
  return {
    get: (iss) => {
      const hit = prepared.get(iss);
      if (hit !== undefined) return hit;
      const cfg = configs.get(iss);
      if (cfg === undefined) return undefined;
      const p = prepareIssuer(cfg, opts);
      prepared.set(iss, p);
      return p;
    },
    prepared: () => prepared.values(),
    get size() {
      return configs.size;
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
