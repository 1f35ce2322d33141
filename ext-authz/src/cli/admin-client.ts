// The admin API client the `stage` and `audit report` commands share: --server and --token (default
// $CALLBACK_PROXY_ADMIN_TOKEN, read here: only cli/ reads the environment), JSON in and out, and the
// exit codes of docs/stages.md — 1 when the service refused by its rules, 2 for usage, auth or network.
import type { Command } from 'commander';
import { CliError, EXIT_DENY_OR_INVALID, EXIT_USAGE } from './cli-errors';

export const DEFAULT_ADMIN_SERVER = 'http://127.0.0.1:9193';
export const ADMIN_TOKEN_ENV = 'CALLBACK_PROXY_ADMIN_TOKEN';

export interface AdminFlags {
  server: string;
  token?: string;
}

/** Refusals by the stage rules: the request was understood and said no (exit 1). */
const RULE_REFUSALS = new Set(['forbidden', 'approval_required', 'illegal_transition', 'no_change', 'ticket_required', 'change_frozen', 'not_removable', 'conflict']);

export function withAdminFlags(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the admin listener', DEFAULT_ADMIN_SERVER)
    .option('--token <token>', `admin token (default: $${ADMIN_TOKEN_ENV})`);
}

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the admin API; throws CliError on a refusal (with the service's code) or a transport failure. */
export async function adminRequest(f: AdminFlags, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminReply> {
  const token = f.token ?? process.env[ADMIN_TOKEN_ENV];
  if (!token) throw new CliError('cli_usage', `no admin token: pass --token or set ${ADMIN_TOKEN_ENV}`);
  let url: URL;
  try {
    url = new URL(path, f.server);
  } catch {
    throw new CliError('cli_usage', `--server must be a URL, got ${JSON.stringify(f.server)}`);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new CliError('cli_remote', `cannot reach ${url.origin} (is the admin listener running?)`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (res.status >= 400) {
    const code = typeof parsed.error === 'string' ? parsed.error : `http_${res.status}`;
    const msg = typeof parsed.message === 'string' ? parsed.message : `HTTP ${res.status}`;
    throw new CliError('cli_remote', `refused (${code}): ${msg}`, RULE_REFUSALS.has(code) ? EXIT_DENY_OR_INVALID : EXIT_USAGE);
  }
  return { status: res.status, body: parsed };
}

/** RFC 3339 from a flag (also accepts "now+30s", "now+10m", "now+2h" for convenience). */
export function instantFlag(name: string, v: string | undefined, now: number = Date.now()): string | undefined {
  if (v === undefined) return undefined;
  const rel = /^now\+(\d+)([smhd])$/.exec(v);
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now + Number(rel[1]) * unit).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new CliError('cli_usage', `${name} must be an RFC 3339 date-time with offset (or now+30s / now+10m / now+2h), got ${JSON.stringify(v)}`);
  }
  return v;
}
