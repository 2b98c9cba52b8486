/**
 * Small dependency-free SVG charts for run reports: line charts (training curves), a confusion
 * matrix heat map, and grouped bars with error bars (the experiment's means ± spread).
 * SVG keeps them diffable, viewable on any forge, and byte-identical for identical inputs.
 */

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const font = (size = 11) => `font-family="sans-serif" font-size="${size}"`;

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

/** Roughly five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export function lineChartSvg(spec: LineChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 360;
  const m = { l: 60, r: 150, t: 30, b: 45 };
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys, 0), Math.max(...ys, 1e-9)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  [x0, x1, y0, y1] = [x0, x1, y0, y1 + (y1 - y0) * 0.05];
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2 - m.r / 2}" y="18" text-anchor="middle" ${font(13)}>${esc(spec.title)}</text>`);
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 5}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" ${font()}>${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1)) {
    parts.push(`<text x="${px(t).toFixed(1)}" y="${H - m.b + 15}" text-anchor="middle" ${font()}>${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" ${font()}>${esc(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" ${font()}>${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 1) {
      const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    for (const [x, y] of pts.length <= 40 ? pts : []) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = m.t + 10 + i * 16;
    parts.push(`<line x1="${W - m.r + 10}" x2="${W - m.r + 28}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - m.r + 32}" y="${ly + 4}" ${font()}>${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Heat map of counts[true][predicted], rows normalised for colour; counts printed when they fit. */
export function confusionMatrixSvg(counts: readonly (readonly number[])[], labels: readonly string[], title: string): string {
  const n = counts.length;
  const cell = Math.max(6, Math.min(28, Math.floor(560 / Math.max(n, 1))));
  const labelW = n <= 60 ? 190 : 40;
  const W = labelW + n * cell + 20;
  const H = 40 + n * cell + labelW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" ${font(13)}>${esc(title)} (rows: true, columns: predicted)</text>`);
  const top = 30;
  counts.forEach((row, r) => {
    const total = row.reduce((s, x) => s + x, 0);
    row.forEach((c, p) => {
      const frac = total > 0 ? c / total : 0;
      const shade = Math.round(255 * (1 - frac));
      const fill = r === p ? `rgb(${shade},${shade},255)` : `rgb(255,${shade},${shade})`;
      parts.push(`<rect x="${labelW + p * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="${c ? fill : '#fafafa'}" stroke="#ddd" stroke-width="0.5"><title>${esc(labels[r] ?? String(r))} → ${esc(labels[p] ?? String(p))}: ${c}</title></rect>`);
      if (c && cell >= 16) parts.push(`<text x="${labelW + p * cell + cell / 2}" y="${top + r * cell + cell / 2 + 4}" text-anchor="middle" ${font(9)}>${c}</text>`);
    });
    if (labelW > 40) {
      parts.push(`<text x="${labelW - 4}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end" ${font(9)}>${esc(truncate(labels[r] ?? String(r)))}</text>`);
    }
  });
  if (labelW > 40) {
    labels.forEach((l, p) => {
      const x = labelW + p * cell + cell / 2 + 3;
      const y = top + n * cell + 4;
      parts.push(`<text transform="translate(${x} ${y}) rotate(-60)" text-anchor="end" ${font(9)}>${esc(truncate(l))}</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function truncate(s: string): string {
  return s.length > 32 ? s.slice(0, 31) + '…' : s;
}

export interface BarGroup {
  /** Group label on the x axis (e.g. a source granularity). */
  readonly label: string;
  /** One bar per series name, with a mean and a spread (e.g. standard deviation). */
  readonly bars: readonly { readonly series: string; readonly mean: number; readonly spread: number }[];
}

export function barChartSvg(title: string, yLabel: string, groups: readonly BarGroup[]): string {
  const seriesNames = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const W = 820;
  const H = 400;
  const m = { l: 60, r: 230, t: 30, b: 80 };
  const yMax = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => b.mean + (Number.isFinite(b.spread) ? b.spread : 0)))) * 1.08;
  const py = (y: number) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const gw = (W - m.l - m.r) / Math.max(1, groups.length);
  const bw = (gw * 0.8) / Math.max(1, seriesNames.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${(W - m.r) / 2}" y="18" text-anchor="middle" ${font(13)}>${esc(title)}</text>`);
  for (const t of ticks(0, yMax)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 5}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" ${font()}>${fmt(t)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" ${font()}>${esc(yLabel)}</text>`);
  groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + gw * 0.1;
    g.bars.forEach((b) => {
      const si = seriesNames.indexOf(b.series);
      const x = gx + si * bw;
      const color = PALETTE[si % PALETTE.length];
      parts.push(`<rect x="${x.toFixed(1)}" y="${py(b.mean).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(py(0) - py(b.mean)).toFixed(1)}" fill="${color}"><title>${esc(g.label)} / ${esc(b.series)}: ${fmt(b.mean)} ± ${fmt(b.spread)}</title></rect>`);
      if (Number.isFinite(b.spread) && b.spread > 0) {
        const cx = x + (bw - 2) / 2;
        const lo = py(Math.max(0, b.mean - b.spread)).toFixed(1);
        const hi = py(b.mean + b.spread).toFixed(1);
        parts.push(`<path d="M${cx.toFixed(1)},${lo}V${hi}M${(cx - 3).toFixed(1)},${hi}h6M${(cx - 3).toFixed(1)},${lo}h6" stroke="black"/>`);
      }
    });
    parts.push(`<text transform="translate(${(gx + gw * 0.4).toFixed(1)} ${H - m.b + 14}) rotate(-25)" text-anchor="end" ${font()}>${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(0)}" y2="${py(0)}" stroke="#888"/>`);
  seriesNames.forEach((s, i) => {
    const ly = m.t + 10 + i * 16;
    parts.push(`<rect x="${W - m.r + 10}" y="${ly - 6}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${W - m.r + 28}" y="${ly + 4}" ${font()}>${esc(s)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
