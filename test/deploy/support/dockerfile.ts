// A small Dockerfile reader for structure tests (no Docker engine on these machines): stages with their
// instructions, line continuations joined, comments dropped, JSON-form arguments decoded.
export interface Instruction {
  op: string;
  /** The text after the instruction keyword. */
  rest: string;
  /** Exec-form (JSON array) arguments, when the instruction uses that form. */
  json?: string[];
  /** `--from=…` and the like, for COPY. */
  flags: Record<string, string>;
  /** Shell-form words after the flags. */
  words: string[];
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && cur === '') continue;
    if (/\\\s*$/.test(raw)) {
      cur += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += raw;
    if (cur.trim()) lines.push(cur.trim());
    cur = '';
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read "${line}"`);
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    let json: string[] | undefined;
    if (rest.startsWith('[')) json = JSON.parse(rest) as string[];
    const flags: Record<string, string> = {};
    const words: string[] = [];
    for (const w of json ? [] : rest.split(/\s+/)) {
      const f = /^--([a-z-]+)=(.*)$/.exec(w);
      if (f && words.length === 0) flags[f[1]] = f[2];
      else words.push(w);
    }
    const ins: Instruction = { op, rest, json, flags, words };
    if (op === 'FROM') {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fm) throw new Error(`Dockerfile: bad FROM "${rest}"`);
      stages.push({ name: fm[2] ?? String(stages.length), from: fm[1], instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile: ${op} before FROM`);
    stages[stages.length - 1].instructions.push(ins);
  }
  return stages;
}

/** HEALTHCHECK's CMD: the JSON array after the options. */
export function healthcheckCommand(ins: Instruction): string[] {
  const i = ins.rest.indexOf('CMD');
  if (i < 0) throw new Error('HEALTHCHECK without CMD');
  return JSON.parse(ins.rest.slice(i + 3).trim()) as string[];
}
