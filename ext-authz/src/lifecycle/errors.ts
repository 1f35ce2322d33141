// Admin API and stage-control failures (docs/stages.md, "Refusals"): one class, a union of stable codes,
// and one table mapping each code to its HTTP status. Messages name fields and stages, never a token.
import { CodedError } from '../model/errors';

export type LifecycleErrorCode =
  | 'unauthenticated' // no or an unknown admin token / session
  | 'forbidden' // the token's role may not do this
  | 'approval_required' // require_approval: this target stage needs an approver
  | 'csrf_failed' // a cookie-authenticated POST without the session's CSRF token or from another origin
  | 'invalid_argument' // a malformed body or field
  | 'not_found' // no such connection
  | 'illegal_transition' // the transition table forbids from → to
  | 'no_change' // the requested stage is already in effect
  | 'ticket_required' // a rollback through the API names no ticket (incident id)
  | 'change_frozen' // a freeze window is active
  | 'not_removable' // decommissioned while the removal report is not clean
  | 'conflict' // the stage changed meanwhile (another replica or operator); read and retry
  | 'unavailable'; // the shared store cannot be read or written: nothing was changed

export const LIFECYCLE_STATUS: Record<LifecycleErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  approval_required: 403,
  csrf_failed: 403,
  invalid_argument: 400,
  not_found: 404,
  illegal_transition: 409,
  no_change: 409,
  ticket_required: 400,
  change_frozen: 423,
  not_removable: 409,
  conflict: 409,
  unavailable: 503,
};

export class LifecycleError extends CodedError<LifecycleErrorCode> {}
