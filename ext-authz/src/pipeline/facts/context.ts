// The facts phase as a list of named fact providers (docs/architecture.md, "The facts phase"): each
// provider is a small module that reads the request and what earlier providers found, and adds its own
// facts to one per-request context. Adding a fact is adding one provider to the list in gather.ts.
//
// Providers never throw for a request-level problem (that is a reason code in `violations` or in the
// facts) and never write a store: one-time things are only registered here (`markers`), peeked by the
// one-time provider, and written by the commit phase after the decision forwarded the request.
import type { ReasonCode } from '../../model/reasons';
import type { CallbackFacts, MigrationFacts, PinFacts, TokenFacts, WebhookFacts } from '../../model/facts';
import type { RequestView } from '../../model/request';
import type { Marker } from '../../store/types';
import type { CallbackSecrets } from './callback';
import type { FactsDeps, PreparedConnection } from './deps';
import type { ParsedParams } from './params';

/** A one-time marker the request carries. */
export interface OneTimeMarker extends Marker {
  /**
   * Written by the commit phase when the request is forwarded. False for markers that are only
   * checked: a code seen on a callback whose state did not verify may not write anything.
   */
  commit: boolean;
  /**
   * When the one-time thing was issued (epoch ms): the flow's pin or envelope, the token's iat, the
   * webhook's timestamp. Null when unknown. Compared with the store's epoch: anything issued before the
   * store lost its data is refused (store_data_lost), because its marker may be gone.
   */
  issuedAtMs: number | null;
}

export interface FactsContext {
  readonly req: RequestView;
  readonly deps: FactsDeps;
  readonly nowMs: number;
  /** The connection the host names (request provider), else null. */
  conn: PreparedConnection | null;
  /**
   * The request provider found a connection and no violation: the providers that read stores, verify
   * signatures or spend crypto run only then (a polluted request is denied anyway).
   */
  clean: boolean;
  /** Reasons that deny whatever the stage, in the order found (becomes `callback.violations`). */
  violations: ReasonCode[];
  parsedPath: string[];
  query: ParsedParams;
  form: ParsedParams | null;
  parsedBody: unknown;
  /** Client routing/forwarding headers stripped before upstream (names, lower-case). */
  ignoredHeaders: string[];
  callback: CallbackFacts;
  secrets: CallbackSecrets;
  pin: PinFacts;
  /** The verified flow's expiry (epoch ms): markers tied to the flow live at least until then. */
  flowExpiresAtMs: number | null;
  /**
   * The pin provider looked the flow key up and it resolved to nothing (no pin, or an envelope that
   * failed its MAC): what the unknown-state limiter counts (docs/threat-model.md T-C6).
   */
  flowKeyUnknown: boolean;
  token: TokenFacts;
  migration: MigrationFacts | null;
  webhook: WebhookFacts | null;
  markers: OneTimeMarker[];
}

/** One named fact provider (in the spirit of a phased auth pipeline: each phase small and testable). */
export interface FactsPhase {
  readonly name: string;
  /** Whether the provider has anything to do for this request (cheap; no allocation). */
  applies(ctx: FactsContext): boolean;
  /** Adds facts; returns a promise only when it has to wait (a store, a JWKS fetch). */
  run(ctx: FactsContext): void | Promise<void>;
}

export function addViolation(ctx: FactsContext, r: ReasonCode): void {
  if (!ctx.violations.includes(r)) ctx.violations.push(r);
}
