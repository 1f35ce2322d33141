// The registry revision (callback_proxy_registry_info, the reload log line): a short keyed digest of the
// whole registry. Keyed with the registry's own hash key, because the registry holds secrets and an
// unkeyed digest would let a reader of /metrics test guesses of a weak one offline.
import { createHmac } from 'node:crypto';
import type { RegistryConfig } from '../model/registry';

/** Digests computed where the registry's JSON text already existed (the off-thread reload). */
const known = new WeakMap<RegistryConfig, string>();

/** The digest of a registry whose JSON text is `json` (JSON.stringify of it). */
export function digestOfJson(hashKey: string, json: string): string {
  return createHmac('sha256', `callback-proxy registry revision\0${hashKey}`).update(json).digest('hex').slice(0, 12);
}

/** Records a digest computed from the registry's JSON text elsewhere (config/registry-off-thread.ts). */
export function rememberDigest(reg: RegistryConfig, digest: string): void {
  known.set(reg, digest);
}

export function registryDigest(reg: RegistryConfig): string {
  return known.get(reg) ?? digestOfJson(reg.keys.hash_key, JSON.stringify(reg));
}
