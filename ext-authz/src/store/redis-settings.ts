// Redis settings that decide whether replay markers survive (docs/operations.md, "Redis"), read once
// at start-up with CONFIG GET:
//   * maxmemory-policy other than `noeviction` lets Redis evict markers and pins under memory pressure.
//     An evicted marker reopens a used flow and nothing can notice: the one setting that breaks
//     one-time use outright.
//   * no AOF and no RDB: every Redis restart loses every marker. The service detects that (a new epoch)
//     and refuses what was issued before, so it stays safe, but every login in flight has to restart.
//   * RDB snapshots only: a crash rolls back to the last snapshot. Detected when any replica saw a later
//     write (the sequence went backwards); logins in flight restart.
// A managed Redis may disable or rename CONFIG: then the settings cannot be checked, which is a warning.
import type { SettingsWarningCode } from './observer';

export interface RedisSettings {
  maxmemoryPolicy: string;
  appendonly: string;
  save: string;
}

export interface SettingsWarning {
  code: SettingsWarningCode;
  message: string;
}

/** The subset of a Redis client this needs (ioredis `config`). */
export interface ConfigReader {
  config(op: 'GET', name: string): Promise<unknown>;
}

async function getOne(client: ConfigReader, name: string): Promise<string> {
  const r = await client.config('GET', name);
  // CONFIG GET answers [name, value] (RESP2 array).
  if (!Array.isArray(r) || r.length < 2) throw new Error(`CONFIG GET ${name}: unexpected reply`);
  return String(r[1]);
}

export async function readRedisSettings(client: ConfigReader): Promise<RedisSettings> {
  return {
    maxmemoryPolicy: await getOne(client, 'maxmemory-policy'),
    appendonly: await getOne(client, 'appendonly'),
    save: await getOne(client, 'save'),
  };
}

export function settingsWarnings(s: RedisSettings): SettingsWarning[] {
  const out: SettingsWarning[] = [];
  if (s.maxmemoryPolicy !== 'noeviction') {
    out.push({
      code: 'redis_eviction_policy',
      message: `Redis maxmemory-policy is ${s.maxmemoryPolicy}: under memory pressure it evicts replay markers, and an evicted marker lets a used flow through again; set maxmemory-policy noeviction`,
    });
  }
  const aof = s.appendonly === 'yes';
  const rdb = s.save.trim() !== '';
  if (!aof && !rdb) {
    out.push({ code: 'redis_no_persistence', message: 'Redis persists nothing (appendonly no, save ""): a Redis restart loses every replay marker and pin; the service refuses flows issued before it and logins in flight restart; enable appendonly yes' });
  } else if (!aof) {
    out.push({ code: 'redis_snapshot_only', message: 'Redis persists RDB snapshots only: a crash rolls markers back to the last snapshot; the service refuses flows issued before it and logins in flight restart; enable appendonly yes' });
  }
  return out;
}

/** Reads the settings and turns them into warnings; a CONFIG that cannot be read is a warning too. */
export async function checkRedisSettings(client: ConfigReader): Promise<SettingsWarning[]> {
  let s: RedisSettings;
  try {
    s = await readRedisSettings(client);
  } catch {
    return [{ code: 'redis_config_unreadable', message: 'Redis CONFIG GET is not available (disabled, renamed or not permitted): cannot check maxmemory-policy and persistence; make sure of maxmemory-policy noeviction and appendonly yes' }];
  }
  return settingsWarnings(s);
}
