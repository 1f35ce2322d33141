// Public surface of OPA bundle support: reading and verifying bundles, their sources (local and
// polled) and status. Everything else in policy/bundle/ is internal.
export { BundleError, BUNDLE_ERROR_CODES } from './bundle-errors';
export type { BundleErrorCode } from './bundle-errors';
export { loadBundlePath, loadBundleArchive, loadBundleFiles, modulePackagePath } from './load-bundle';
export type { LoadedBundle, BundleModule, BundleWasmModule, BundleReadOptions } from './load-bundle';
export { DEFAULT_BUNDLE_LIMITS } from './bundle-files';
export type { BundleLimits } from './bundle-files';
export type { BundleManifest, WasmResolver } from './manifest';
export { singleKeyVerification, DEFAULT_SIGNING_ALG, DEFAULT_KEY_ID } from './signature';
export type { VerificationConfig, VerificationKey } from './signature';
export { BundleStatusTracker, decisionLogBundles, bundlesReady } from './bundle-status';
export type { BundleStatus } from './bundle-status';
export { LocalBundleSource } from './bundle-source';
export type { BundleSource, LocalBundleSourceOptions } from './bundle-source';
export { HttpBundleSource, LONG_POLL_CONTENT_TYPE } from './http-bundle-source';
export type { HttpBundleSourceOptions, BundleHttpClient, PollOutcome, PollingOptions } from './http-bundle-source';
export { backoffDelayMs } from '../../model/backoff';
export type { Timers } from '../../model/backoff';
export { verificationForBundle, bundleSourcesFromConfig } from './bundle-config';
export type { ConfiguredBundleSource, BundleSourcesDeps } from './bundle-config';
