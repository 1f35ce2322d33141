// Per-bundle status as OPA's status API reports it: the active revision, the last successful
// download / activation, the last request, and the last error as a code plus a message (messages come
// from BundleError, which never carries a key or a token). Read by /readyz, metrics and decision logs.
import type { BundleError } from './bundle-errors';

export interface BundleStatus {
  name: string;
  /** Revision of the bundle in use, null before the first activation. */
  activeRevision: string | null;
  /** RFC 3339 instants (ms precision), null until the event first happens. */
  lastRequest: string | null;
  lastSuccessfulRequest: string | null;
  lastSuccessfulDownload: string | null;
  lastSuccessfulActivation: string | null;
  lastError: { code: string; message: string; at: string } | null;
  /** Errors since the last success (drives backoff; 0 when healthy). */
  consecutiveErrors: number;
}

export class BundleStatusTracker {
  private s: BundleStatus;

  constructor(name: string, private readonly now: () => number = Date.now) {
    this.s = {
      name,
      activeRevision: null,
      lastRequest: null,
      lastSuccessfulRequest: null,
      lastSuccessfulDownload: null,
      lastSuccessfulActivation: null,
      lastError: null,
      consecutiveErrors: 0,
    };
  }

  private at(): string {
    return new Date(this.now()).toISOString();
  }

  request(): void {
    this.s = { ...this.s, lastRequest: this.at() };
  }

  /** A 304 or an unchanged bundle: the server answered. */
  notModified(): void {
    this.s = { ...this.s, lastSuccessfulRequest: this.at(), consecutiveErrors: 0 };
  }

  downloaded(): void {
    const t = this.at();
    this.s = { ...this.s, lastSuccessfulRequest: t, lastSuccessfulDownload: t };
  }

  activated(revision: string): void {
    this.s = { ...this.s, activeRevision: revision, lastSuccessfulActivation: this.at(), lastError: null, consecutiveErrors: 0 };
  }

  failed(err: BundleError): void {
    this.s = {
      ...this.s,
      lastError: { code: err.code, message: err.message, at: this.at() },
      consecutiveErrors: this.s.consecutiveErrors + 1,
    };
  }

  /** A frozen copy. */
  get(): BundleStatus {
    return Object.freeze({ ...this.s, lastError: this.s.lastError ? { ...this.s.lastError } : null });
  }
}

/** OPA's decision-log `bundles` field: `{name: {revision}}` for every activated bundle. */
export function decisionLogBundles(statuses: readonly BundleStatus[]): Record<string, { revision: string }> {
  const out: Record<string, { revision: string }> = {};
  for (const s of statuses) if (s.activeRevision !== null) out[s.name] = { revision: s.activeRevision };
  return out;
}

/** Ready once every bundle has been activated at least once (OPA's readiness rule for bundles). */
export function bundlesReady(statuses: readonly BundleStatus[]): boolean {
  return statuses.every((s) => s.activeRevision !== null);
}
