// OPA configuration → bundle sources: one HttpBundleSource per `bundles.<name>` with a service (its
// polling, resource and size limit), a LocalBundleSource for a `file://` resource, and the signature
// verification built from `bundles.<name>.signing` and the top-level `keys` (OPA's precedence: the
// bundle's scope over the key's).
import { OpaServiceClient } from '../../config/opa-service-client';
import type { OpaBundleConfig, OpaConfig, OpaKeyConfig } from '../../config/opa-config';
import { LocalBundleSource } from './bundle-source';
import { HttpBundleSource } from './http-bundle-source';
import type { Timers } from '../../model/backoff';
import type { BundleHttpClient } from './http-bundle-source';
import type { LoadedBundle } from './load-bundle';
import type { BundleError } from './bundle-errors';
import type { VerificationConfig } from './signature';

/** The verification for one configured bundle, or undefined when it has no `signing` section. */
export function verificationForBundle(b: OpaBundleConfig, keys: Readonly<Record<string, OpaKeyConfig>>): VerificationConfig | undefined {
  if (!b.signing) return undefined;
  const out: VerificationConfig = { keys: {}, excludeFiles: b.signing.excludeFiles };
  for (const [id, k] of Object.entries(keys)) {
    if (k.key !== undefined) out.keys[id] = { key: k.key, algorithm: k.algorithm, scope: k.scope };
  }
  if (b.signing.keyId !== undefined) out.keyId = b.signing.keyId;
  if (b.signing.scope !== undefined) out.scope = b.signing.scope;
  return out;
}

export type ConfiguredBundleSource = { kind: 'http'; source: HttpBundleSource } | { kind: 'local'; source: LocalBundleSource };

export interface BundleSourcesDeps {
  /** Puts a downloaded bundle in use; throwing keeps the previous one. */
  activate: (name: string, bundle: LoadedBundle) => void | Promise<void>;
  onError?: (name: string, error: BundleError) => void;
  /** A client per service name (default: an OpaServiceClient from the config). */
  clientFor?: (service: string) => BundleHttpClient;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

/** Builds (does not start) the sources for every configured bundle, and the clients it created. */
export function bundleSourcesFromConfig(cfg: OpaConfig, deps: BundleSourcesDeps): { sources: ConfiguredBundleSource[]; clients: OpaServiceClient[] } {
  const clients = new Map<string, OpaServiceClient>();
  const clientFor = deps.clientFor ?? ((name: string): BundleHttpClient => {
    let c = clients.get(name);
    if (!c) {
      c = new OpaServiceClient(cfg.services[name], deps.now);
      clients.set(name, c);
    }
    return c;
  });
  const sources: ConfiguredBundleSource[] = [];
  for (const b of Object.values(cfg.bundles)) {
    const read = {
      verification: verificationForBundle(b, cfg.keys),
      limits: b.sizeLimitBytes !== undefined ? { maxFileBytes: b.sizeLimitBytes } : undefined,
    };
    if (b.resource.startsWith('file://')) {
      const path = decodeURIComponent(new URL(b.resource).pathname);
      sources.push({ kind: 'local', source: new LocalBundleSource({ name: b.name, path, read, now: deps.now }) });
      continue;
    }
    sources.push({
      kind: 'http',
      source: new HttpBundleSource({
        name: b.name,
        client: clientFor(b.service as string),
        resource: b.resource,
        polling: b.polling,
        read,
        activate: (bundle) => deps.activate(b.name, bundle),
        onError: deps.onError ? (e) => deps.onError?.(b.name, e) : undefined,
        timers: deps.timers,
        now: deps.now,
        random: deps.random,
      }),
    });
  }
  return { sources, clients: [...clients.values()] };
}
