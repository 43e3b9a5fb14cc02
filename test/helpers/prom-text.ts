/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be
 * a HELP, a TYPE or a sample of a declared family, label values well quoted, values numbers; and
 * histograms must be cumulative with `_count` equal to the `+Inf` bucket. Throws naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** Sum of the values of `name` whose labels include every pair in `match`. */
  sum(name: string, match?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new Error(`bad value ${JSON.stringify(s)} in line ${JSON.stringify(line)}`);
  return v;
}

function parseLabels(body: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const m = LABEL.exec(body);
    if (!m) throw new Error(`bad labels in line ${JSON.stringify(line)}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The family a sample belongs to (histogram samples carry _bucket/_sum/_count suffixes). */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram' || types.get(base) === 'summary') return base;
    }
  }
  return undefined;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3] ?? '')) throw new Error(`bad type in ${JSON.stringify(line)}`);
        if (types.has(m[2]!)) throw new Error(`family ${m[2]} declared twice`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    if (!familyOf(name, types)) throw new Error(`sample ${name} has no TYPE line before it`);
    samples.push({ name, labels: m[3] ? parseLabels(m[3], line) : {}, value: parseValue(m[4]!, line) });
  }
  checkHistograms(types, samples);
  const sum = (name: string, match: Record<string, string> = {}): number =>
    samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
  return { types, samples, sum };
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
    const keyOf = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
    for (const s of samples) {
      if (s.name !== `${family}_bucket` && s.name !== `${family}_count`) continue;
      const k = keyOf(s.labels);
      const entry = series.get(k) ?? { buckets: [] };
      series.set(k, entry);
      if (s.name.endsWith('_count')) entry.count = s.value;
      else entry.buckets.push([parseValue(s.labels.le ?? '', `le of ${family}`), s.value]);
    }
    for (const [k, { buckets, count }] of series) {
      buckets.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${family}${k}: buckets not cumulative`);
      }
      const inf = buckets.at(-1);
      if (!inf || inf[0] !== Infinity) throw new Error(`${family}${k}: no +Inf bucket`);
      if (count !== inf[1]) throw new Error(`${family}${k}: _count ${count} differs from the +Inf bucket ${inf[1]}`);
    }
  }
}
