// The admin listener's extension contract (docs/operations.md, "Admin listener"): the listener itself
// serves /metrics, /healthz and /readyz; every other admin feature (the stage API, the removal report,
// the cockpit) is a route handler mounted on it, tried in order until one answers.
import type * as http from 'node:http';

/**
 * Answers one admin request and returns true, or returns false to let the next handler try.
 * A handler reads the body itself, sets its own status and headers (always `cache-control: no-store`),
 * and never throws: an error is answered as a JSON error with a code.
 */
export type AdminHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean>;

/** A named group of admin routes, for logs and `--help` (e.g. "stage-api", "cockpit"). */
export interface AdminRoutes {
  name: string;
  handle: AdminHandler;
  close?(): Promise<void>;
}
