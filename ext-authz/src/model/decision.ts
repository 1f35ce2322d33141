// The decision contract (docs/architecture.md, "The decision"): what a policy's `data.callback.decision`
// becomes after validation, the one record of a decision (its event), and what the pipeline hands back
// to the adapters.
import type { ConnectionConfig } from './registry';
import type { ReasonCode } from './reasons';
import type { PolicyInput } from './facts';

export type Action = 'allow' | 'rewrite' | 'deny';

/** `data.callback.decision` after validation. */
export interface Decision {
  action: Action;
  backend: string | null;
  reasons: ReasonCode[];
  http_status: number;
  /** Extra upstream request headers (never the routing header: that one is ours). */
  headers: Record<string, string>;
  /** Headers added to the response to the client (e.g. the cookie hint on login start). */
  response_headers: Record<string, string>;
  /** A pin to write (login start), by flow-key hash. */
  pin: { backend: string } | null;
  dynamic_metadata: Record<string, unknown>;
}

/** Phase timings of one decision, in ns. */
export interface Timings {
  facts: number;
  policy: number;
  total: number;
}

/** What the pipeline returns: the decision plus what the adapters need to build a response. */
export interface PipelineResult {
  decision: Decision;
  decisionId: string;
  connection: ConnectionConfig | null;
  /** Request headers to remove before upstream (client routing/forwarding headers). */
  headersToRemove: string[];
  /** Timings in ns for telemetry. */
  timings: Timings;
  /** The record of the decision for telemetry (decision log, traces); absent for adapter-local denies. */
  event?: DecisionEvent;
}

/**
 * The one record of a decision: everything the pipeline knew when it decided, for the decision log,
 * metrics and traces. Consumers mask `input` before it leaves the process.
 */
export interface DecisionEvent {
  decisionId: string;
  requestId: string | undefined;
  engine: string;
  path: string;
  revision: string;
  /** OPA's decision-log `bundles` ({name: {revision}}) when the policy came from a bundle. */
  bundles?: Readonly<Record<string, { readonly revision: string }>>;
  input: PolicyInput | null;
  /** The policy's raw value (undefined when it produced none). */
  result: unknown;
  decision: Decision;
  /** The engine's failure code (policy_error, policy_timeout, policy_undefined), if it failed. */
  engineError: ReasonCode | null;
  /** Why a decision was rejected or overridden (field names only). */
  problem: string | null;
  timings: Timings;
}
