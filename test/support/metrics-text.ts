// Reading the Prometheus text exposition in tests: metric families from `# TYPE` lines and the sample
// names each one produces (a histogram's _bucket/_sum/_count).

export interface Family {
  name: string;
  type: string;
  help: string;
}

export function families(text: string): Family[] {
  const help = new Map<string, string>();
  for (const m of text.matchAll(/^# HELP (\S+) (.*)$/gm)) help.set(m[1], m[2]);
  return [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => ({ name: m[1], type: m[2], help: help.get(m[1]) ?? '' }));
}

/** Every sample name a scrape can be queried by. */
export function sampleNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    out.add(line.slice(0, line.search(/[{ ]/)));
  }
  return out;
}

/** Label names used by each sample name. */
export function labelNames(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} /.exec(line);
    if (!m) continue;
    const set = out.get(m[1]) ?? new Set<string>();
    for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(l[1]);
    out.set(m[1], set);
  }
  return out;
}

/** callback_proxy_* names used by the Grafana dashboard's queries and template variables. */
export function dashboardMetricNames(dash: any): Set<string> {
  const used = new Set<string>();
  const scan = (s: string): void => {
    for (const m of s.matchAll(/callback_proxy_[a-z0-9_]+/g)) used.add(m[0]);
  };
  for (const p of dash.panels) for (const t of p.targets) scan(t.expr);
  for (const v of dash.templating.list) scan(String(v.query ?? ''));
  return used;
}
