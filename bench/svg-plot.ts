/**
 * A minimal hand-written SVG line chart (no dependencies): a few series of points with optional
 * vertical ranges (e.g. 1st..99th percentile), linear axes, a legend. Enough for the simulator's
 * figures; the numbers themselves are in the tables next to each plot.
 */

export interface Series {
  name: string;
  points: { x: number; y: number; lo?: number; hi?: number }[];
  /** Dashed line (used for reference curves such as the paper's). */
  dashed?: boolean;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Tick labels on x: the value shown at each x (defaults to the x values of the first series). */
  xTicks?: { x: number; label: string }[];
  /** Force the y range to start at 0. @default true */
  yFromZero?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 640;
const H = 400;
const M = { left: 64, right: 170, top: 40, bottom: 52 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(2));

/** The chart as an SVG document. */
export function renderChart(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = c.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = c.yFromZero === false ? Math.min(...ys) : Math.min(0, ...ys);
  const y1raw = Math.max(...ys);
  const y1 = y1raw === y0 ? y0 + 1 : y1raw * 1.05;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + (x1 === x0 ? pw / 2 : ((x - x0) / (x1 - x0)) * pw);
  const sy = (y: number): number => M.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="14">${esc(c.title)}</text>`);
  // axes and grid
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="black"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = y0 + ((y1 - y0) * i) / 5;
    const y = sy(v);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  const ticks = c.xTicks ?? (c.series[0]?.points ?? []).map((p) => ({ x: p.x, label: fmt(p.x) }));
  for (const t of ticks) out.push(`<text x="${sx(t.x)}" y="${M.top + ph + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text x="16" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of s.points) {
      if (p.lo !== undefined && p.hi !== undefined) {
        const x = sx(p.x);
        out.push(`<line x1="${x}" y1="${sy(p.lo)}" x2="${x}" y2="${sy(p.hi)}" stroke="${color}"/>`);
        out.push(`<line x1="${x - 4}" y1="${sy(p.lo)}" x2="${x + 4}" y2="${sy(p.lo)}" stroke="${color}"/>`);
        out.push(`<line x1="${x - 4}" y1="${sy(p.hi)}" x2="${x + 4}" y2="${sy(p.hi)}" stroke="${color}"/>`);
      }
      if (!s.dashed) out.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${color}"/>`);
    }
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 12}" y1="${ly}" x2="${W - M.right + 36}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
