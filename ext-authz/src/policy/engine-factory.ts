// Builds the policy engine `serve` and `check` run (docs/architecture.md, "Layers"; docs/operations.md,
// "Bundles"): `--policy` is a Rego directory (the TypeScript Rego engine, hot reloaded), an OPA bundle
// directory or `.tar.gz` (re-read on change), or a bundle server URL (polled), or the bundle named in
// an OPA configuration file; `--engine auto|rego|wasm` picks the engine a bundle runs on. Reloads are
// logged with their outcome; a failed one keeps the last good policy.
import { safeUrl } from '../config/opa-service-client';
import type { OpaBundleConfig, OpaServiceConfig } from '../config/opa-config';
import { RegoPolicyEngine } from './rego-engine';
import { readDataFile } from './load-dir';
import type { PolicyEngine, ReloadEvent } from './engine';
import { BundlePolicyEngine, locatePolicy } from './bundle-engine';
import type { EngineChoice } from './bundle-engine';
import type { PollingOptions } from './bundle/http-bundle-source';
import type { VerificationConfig } from './bundle/signature';
import type { Logger } from '../telemetry/logger';

/** OPA's default bundle polling (seconds between downloads). */
export const DEFAULT_BUNDLE_POLLING: PollingOptions = { minDelaySeconds: 60, maxDelaySeconds: 120 };

/** A bundle from OPA's configuration (`bundles.<name>`), with its service and verification resolved. */
export interface ConfiguredBundle {
  bundle: OpaBundleConfig;
  /** The service it is downloaded from; absent for a `file://` resource. */
  service?: OpaServiceConfig;
  verification?: VerificationConfig;
}

export interface EngineFactoryOptions {
  /** A Rego directory, an OPA bundle directory or `.tar.gz`, or an http(s) bundle URL. */
  policyDir: string;
  dataFile?: string;
  decisionPath: string;
  watch: boolean;
  logger: Logger;
  deadlineMs?: number;
  /** Accept Rego v0 modules (OPA 1.x's --v0-compatible); default v1. */
  v0Compatible?: boolean;
  /** `--engine` (default auto). */
  engine?: EngineChoice;
  /** Signature verification (`--verification-key` …); a bundle must then be signed and verify. */
  verification?: VerificationConfig;
  /** An http(s) policy URL: the bearer token sent with every download (`--bundle-token`). */
  bundleToken?: string;
  /** An http(s) policy URL: polling delays (default OPA's 60–120 s). */
  polling?: PollingOptions;
  /** The bundle of an OPA configuration file; replaces `policyDir`. */
  configured?: ConfiguredBundle;
  /** File watcher poll interval for local bundles (tests). */
  watchPollMs?: number;
  /** Told about every reload after it is logged (metrics). */
  onReload?: (event: ReloadEvent) => void;
}

function logReload(logger: Logger, ev: ReloadEvent & { bundle?: string }): void {
  if (ev.ok) logger.info({ event: 'policy_reloaded', bundle: ev.bundle, revision: ev.revision, files: ev.files, duration_ms: ev.durationMs }, 'policy reloaded');
  else logger.error({ event: 'policy_reload_failed', bundle: ev.bundle, error_code: ev.code, problem: ev.message, kept_revision: ev.keptRevision }, 'policy reload failed; keeping the last good one');
}

/** Throws PolicyLoadError at start-up (bad dir or bundle, parse/compile error); reloads keep the last good. */
export async function createPolicyEngine(opts: EngineFactoryOptions): Promise<PolicyEngine> {
  const extra = opts.dataFile ? [readDataFile(opts.dataFile)] : [];
  const onReload = (ev: ReloadEvent): void => {
    logReload(opts.logger, ev);
    opts.onReload?.(ev);
  };
  const engine = opts.engine ?? 'auto';
  const common = { decision: opts.decisionPath, engine, extraData: extra, deadlineMs: opts.deadlineMs, v0Compatible: opts.v0Compatible, onReload };
  const read = (verification: VerificationConfig | undefined, sizeLimit?: number) => ({
    verification,
    skipTestModules: true,
    limits: sizeLimit !== undefined ? { maxFileBytes: sizeLimit } : undefined,
  });

  if (opts.configured) {
    const { bundle, service, verification } = opts.configured;
    if (bundle.resource.startsWith('file://')) {
      const path = decodeURIComponent(new URL(bundle.resource).pathname);
      return BundlePolicyEngine.create({ ...common, name: bundle.name, source: { kind: 'file', path, watch: opts.watch, pollMs: opts.watchPollMs }, read: read(verification, bundle.sizeLimitBytes) });
    }
    return BundlePolicyEngine.create({
      ...common,
      name: bundle.name,
      source: { kind: 'http', service: service!, resource: bundle.resource, polling: bundle.polling },
      read: read(verification, bundle.sizeLimitBytes),
    });
  }

  const where = locatePolicy(opts.policyDir, { engine, verifying: opts.verification !== undefined });
  switch (where.kind) {
    case 'url': {
      const url = new URL(where.url);
      const service: OpaServiceConfig = {
        name: 'policy',
        url: where.url,
        headers: {},
        responseHeaderTimeoutSeconds: 10,
        tls: {},
        allowInsecureTls: false,
        credentials: opts.bundleToken !== undefined ? { bearer: { token: opts.bundleToken, scheme: 'Bearer' } } : {},
      };
      return BundlePolicyEngine.create({
        ...common,
        name: safeUrl(url),
        source: { kind: 'http', service, resource: '', polling: opts.polling ?? DEFAULT_BUNDLE_POLLING },
        read: read(opts.verification),
      });
    }
    case 'archive':
    case 'dir-bundle':
      return BundlePolicyEngine.create({
        ...common,
        name: where.path,
        source: { kind: 'file', path: where.path, watch: opts.watch, pollMs: opts.watchPollMs },
        read: read(opts.verification),
      });
    case 'dir':
      return new RegoPolicyEngine({
        dir: where.path,
        decision: opts.decisionPath,
        extraData: extra,
        deadlineMs: opts.deadlineMs,
        v0Compatible: opts.v0Compatible,
        watch: opts.watch,
        onReload,
      });
  }
}
