// The one strict YAML reading for the files config/ loads (registry, key files): duplicate keys are an
// error, and a syntax error is reported by position and yaml's own error code only — some of yaml's
// messages quote the source line, and that line may hold a secret.
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './registry-errors';

/** YAML text → plain data; throws ConfigError `config_yaml` naming `file`. */
export function readYamlText(text: string, file: string, maxAliasCount: number): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError('config_yaml', file, doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return { path: '', message: `YAML ${e.code} at line ${at.line}, column ${at.col}` };
    }));
  }
  return doc.toJS({ maxAliasCount });
}
