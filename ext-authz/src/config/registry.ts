// Migration registry loading: YAML text → validated RegistryConfig,
// with errors that name the file and the field path and never echo a value.
import { errnoCode } from '../model/errors';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { RegistryConfig } from '../model/registry';
import { keysSection, parseKeyFile } from './key-file';
import { readYamlText } from './yaml-text';
import { ConfigError, formatPath } from './registry-errors';
import type { ConfigIssue } from './registry-errors';
import { registrySchema } from './registry-schema';

export { ConfigError } from './registry-errors';
export type { ConfigErrorCode, ConfigIssue } from './registry-errors';

/** Environment variables as the CLI read them once at start (config/ never reads process state). */
export type EnvMap = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** Directory `file:` secret references are relative to (default: the registry file's directory). */
  baseDir?: string;
  /** Where `env:` secret references are looked up (default: none are set). */
  env?: EnvMap;
}

function issueMessage(i: z.core.$ZodIssue): string {
  // zod's own messages for type errors name types, not values; custom ones are ours.
  if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.join(', ')}`;
  return i.message;
}

/** Parses and validates registry text. `file` names the source in messages (e.g. `registry.yaml`). */
export function parseRegistry(text: string, file: string, opts: ParseOptions = {}): RegistryConfig {
  const baseDir = opts.baseDir ?? path.dirname(file);
  const data = withKeyFile(readYamlText(text, file, 50), baseDir, file);
  const schema = registrySchema({ baseDir, env: opts.env ?? {} });
  const r = schema.safeParse(data);
  if (!r.success) {
    const issues: ConfigIssue[] = r.error.issues.map((i) => ({ path: formatPath(i.path), message: issueMessage(i) }));
    throw new ConfigError('config_invalid', file, issues);
  }
  return r.data as RegistryConfig;
}

/**
 * `keys: file:<path>` → the key file's content as the keys section (docs/operations.md, "Keys"); any
 * other `keys` value is left for the schema to judge.
 */
function withKeyFile(data: unknown, baseDir: string, file: string): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const keys = (data as Record<string, unknown>).keys;
  if (typeof keys !== 'string' || !keys.startsWith('file:')) return data;
  const rel = keys.slice('file:'.length);
  const keyPath = path.resolve(baseDir, rel);
  let text: string;
  try {
    text = fs.readFileSync(keyPath, 'utf8');
  } catch (e) {
    const code = errnoCode(e, 'EIO');
    throw new ConfigError('config_invalid', file, [{ path: 'keys', message: `key file ${rel} is not readable (${code}); \`callback-proxy keys generate ${file}\` makes one` }]);
  }
  return { ...data, keys: keysSection(parseKeyFile(text, path.join(path.dirname(file), rel))) };
}

/** Reads and parses a registry file synchronously (start-up and `config validate`). */
export function loadRegistryFile(filePath: string, opts: ParseOptions = {}): RegistryConfig {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (e) {
    const code = errnoCode(e, 'EIO');
    throw new ConfigError('config_unreadable', filePath, [{ path: '', message: `cannot read (${code})` }]);
  }
  return parseRegistry(text, filePath, { baseDir: opts.baseDir ?? path.dirname(path.resolve(filePath)), env: opts.env });
}
