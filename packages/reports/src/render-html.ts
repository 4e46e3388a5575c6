import { imageToRgb, encodePng, perturbationToRgb, pngDataUri } from './png.js';
import { buildReport, type Block, type Figure, type ReportDocument, type Series, type Span, type TradeoffPoint } from './report-model.js';
import { buildLeaderboard } from './leaderboard.js';
import type { AdversarialExample, GradientHistogram, ResultsFile } from './schema.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#6a4c93', '#00798c', '#8d6a9f', '#444444'];

const W = 420;
const H = 260;
const M = { left: 48, right: 12, top: 12, bottom: 40 };

function ticks(min: number, max: number, n = 5): number[] {
  if (max === min) return [min];
  return Array.from({ length: n + 1 }, (_, i) => min + ((max - min) * i) / n);
}

/** Whole-number ticks (epochs): no "epoch 0.4". */
function integerTicks(min: number, max: number, n = 5): number[] {
  const step = Math.max(1, Math.ceil((max - min) / n));
  const out: number[] = [];
  for (let v = Math.ceil(min); v <= max; v += step) out.push(v);
  return out;
}

function tickLabel(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Math.round(v * 100) / 100);
}

/** An SVG line chart with axes, a legend and one polyline plus circles per series. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], yRange?: [number, number]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p class="empty">${escapeHtml(title)}: no data</p>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) === Math.min(...xs) ? Math.min(...xs) + 1 : Math.max(...xs)];
  const [y0, y1] = yRange ?? [Math.min(0, ...ys), Math.max(...ys) === Math.min(0, ...ys) ? 1 : Math.max(...ys)];
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const parts = [
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${W} ${H + 20 * series.length}" width="${W}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(title)}</title>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
    ...(xs.every(Number.isInteger) ? integerTicks(x0, x1) : ticks(x0, x1)).map((t) => `<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 14}" font-size="10" text-anchor="middle">${escapeHtml(tickLabel(t))}</text>`),
    ...ticks(y0, y1).map((t) => `<text x="${M.left - 4}" y="${(sy(t) + 3).toFixed(1)}" font-size="10" text-anchor="end">${escapeHtml(tickLabel(t))}</text><line x1="${M.left}" x2="${W - M.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`),
    `<text x="${(W + M.left) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${(H - M.bottom + M.top) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(H - M.bottom + M.top) / 2})">${escapeHtml(yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(`${s.label}: (${p[0]}, ${p[1]})`)}</title></circle>`);
    parts.push(`<rect x="${M.left}" y="${H + 20 * i + 2}" width="10" height="10" fill="${color}"/><text x="${M.left + 16}" y="${H + 20 * i + 11}" font-size="11">${escapeHtml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** An SVG bar chart of a log10 gradient histogram (exact zeros as a separate bar at the left). */
export function histogramChart(title: string, histogram: GradientHistogram): string {
  const bars = [{ label: '0', count: histogram.zeros + histogram.underflow }, ...histogram.counts.map((count, i) => ({ label: `1e${histogram.binEdges[i]}`, count }))];
  const max = Math.max(1, ...bars.map((b) => b.count));
  const width = (W - M.left - M.right) / bars.length;
  const parts = [
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${W} ${H}" width="${W}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(title)}</title>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<text x="${M.left - 4}" y="${M.top + 8}" font-size="10" text-anchor="end">${max}</text>`,
  ];
  bars.forEach((b, i) => {
    const h = (b.count / max) * (H - M.top - M.bottom);
    const x = M.left + i * width;
    parts.push(`<path class="bar" d="M${x.toFixed(1)},${H - M.bottom} v${(-h).toFixed(1)} h${Math.max(0.5, width - 1).toFixed(1)} v${h.toFixed(1)} z" fill="${i === 0 ? '#999' : '#1b6ca8'}"><title>${escapeHtml(`${b.label}: ${b.count}`)}</title></path>`);
    if (i === 0 || i % 10 === 0) parts.push(`<text x="${(x + width / 2).toFixed(1)}" y="${H - M.bottom + 14}" font-size="9" text-anchor="middle">${escapeHtml(b.label)}</text>`);
  });
  parts.push(`<text x="${(W + M.left) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${escapeHtml(`${histogram.norm.toUpperCase()} norm of ∇x ${histogram.quantity} at T=${histogram.temperature} (log10 bins; grey: exactly 0)`)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function exampleImages(example: AdversarialExample, range: [number, number]): string {
  const scale = Math.max(1, Math.round(84 / Math.max(1, example.shape[1] ?? example.shape[0] ?? 28)));
  const clean = imageToRgb(example.clean, example.shape, range[0], range[1], scale);
  const adversarial = imageToRgb(example.adversarial, example.shape, range[0], range[1], scale);
  const delta = example.adversarial.map((v, i) => v - example.clean[i]!);
  const perturbation = perturbationToRgb(delta, example.shape, scale);
  const img = (image: { width: number; height: number; rgb: Uint8Array }, alt: string) =>
    `<img src="${pngDataUri(encodePng(image.width, image.height, image.rgb))}" width="${image.width}" height="${image.height}" alt="${escapeHtml(alt)}">`;
  const caption = `#${example.index}: ${example.label} → ${example.adversarialPrediction}${example.target !== undefined ? ` (target ${example.target})` : ''}`;
  return `<figure class="example">${img(clean, `clean #${example.index}`)}${img(perturbation, `perturbation #${example.index}`)}${img(adversarial, `adversarial #${example.index}`)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:12px;margin:12px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
td.left,th.left{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
.verdicts .flagged{color:#a4161a}.verdicts .flagged .status{font-weight:bold}.verdicts .passed{color:#2e6b30}.verdicts .not-run{color:#555}figure.example{display:inline-block;margin:4px 8px;text-align:center}
figure.example img{image-rendering:pixelated;margin:1px;border:1px solid #ddd}figcaption{font-size:11px}.empty{color:#777}`;

/**
 * The clean vs robust trade-off: one point per model at (robust, clean accuracy) with its 95 %
 * intervals as bars on both axes; teachers are squares, students circles.
 */
export function tradeoffChart(title: string, points: readonly TradeoffPoint[]): string {
  if (points.length === 0) return `<p class="empty">${escapeHtml(title)}: no data</p>`;
  const size = 300;
  const m = { left: 48, right: 12, top: 12, bottom: 40 };
  const sx = (v: number) => m.left + v * (size - m.left - m.right);
  const sy = (v: number) => size - m.bottom - v * (size - m.top - m.bottom);
  const parts = [
    `<svg class="chart tradeoff" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${size} ${size + 18 * points.length}" width="${size}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(title)}</title>`,
    `<line x1="${m.left}" y1="${size - m.bottom}" x2="${size - m.right}" y2="${size - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${size - m.bottom}" stroke="#333"/>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${size - m.bottom + 14}" font-size="10" text-anchor="middle">${t * 100}</text>`);
    parts.push(`<text x="${m.left - 4}" y="${(sy(t) + 3).toFixed(1)}" font-size="10" text-anchor="end">${t * 100}</text>`);
  }
  parts.push(`<text x="${(size + m.left) / 2}" y="${size - 8}" font-size="11" text-anchor="middle">worst-case robust accuracy (%)</text>`);
  parts.push(`<text x="12" y="${(size - m.bottom + m.top) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(size - m.bottom + m.top) / 2})">clean accuracy (%)</text>`);
  points.forEach((p, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const [x, y] = [sx(p.robust), sy(p.clean)];
    if (p.robustInterval) parts.push(`<line class="interval" x1="${sx(p.robustInterval[0]).toFixed(1)}" y1="${y.toFixed(1)}" x2="${sx(p.robustInterval[1]).toFixed(1)}" y2="${y.toFixed(1)}" stroke="${color}"/>`);
    if (p.cleanInterval) parts.push(`<line class="interval" x1="${x.toFixed(1)}" y1="${sy(p.cleanInterval[0]).toFixed(1)}" x2="${x.toFixed(1)}" y2="${sy(p.cleanInterval[1]).toFixed(1)}" stroke="${color}"/>`);
    const label = `${p.model}${p.teacher ? ' (teacher)' : ''}: clean ${(p.clean * 100).toFixed(1)} %, robust ${(p.robust * 100).toFixed(1)} %`;
    parts.push(
      p.teacher
        ? `<rect class="teacher" x="${(x - 5).toFixed(1)}" y="${(y - 5).toFixed(1)}" width="10" height="10" fill="${color}"><title>${escapeHtml(label)}</title></rect>`
        : `<circle class="student" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${color}"><title>${escapeHtml(label)}</title></circle>`,
    );
    const key = p.teacher ? `<rect x="${m.left}" y="${size + 18 * i + 2}" width="10" height="10" fill="${color}"/>` : `<circle cx="${m.left + 5}" cy="${size + 18 * i + 7}" r="4" fill="${color}"/>`;
    parts.push(`${key}<text x="${m.left + 16}" y="${size + 18 * i + 11}" font-size="11">${escapeHtml(`${p.model}${p.teacher ? ' (teacher)' : ''}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function spans(items: readonly Span[]): string {
  return items.map((s) => (typeof s === 'string' ? escapeHtml(s) : 'strong' in s ? `<strong>${escapeHtml(s.strong)}</strong>` : `<code>${escapeHtml(s.code)}</code>`)).join('');
}

const STATUS_LABEL = { flagged: 'Flagged', passed: 'Passed', 'not-run': 'Not run' } as const;

function figure(f: Figure): string {
  switch (f.type) {
    case 'tradeoff':
      return `<div>${tradeoffChart(f.title, f.points)}</div>`;
    case 'lines':
      return `<div>${f.heading ? `<h3>${escapeHtml(f.heading)}</h3>` : ''}${lineChart(f.title, f.xLabel, f.yLabel, f.series, f.yRange ? [f.yRange[0], f.yRange[1]] : undefined)}</div>`;
    case 'histogram':
      return `<div>${f.heading ? `<h3>${escapeHtml(f.heading)}</h3>` : ''}${histogramChart(f.title, f.histogram)}</div>`;
    case 'examples':
      return `<div class="grid"><h3>${escapeHtml(f.heading)} <small>(${escapeHtml(f.note)})</small></h3>${f.examples.map((e) => exampleImages(e, [0, 1])).join('')}</div>`;
  }
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`;
    case 'paragraph':
      return `<p>${spans(b.spans)}</p>`;
    case 'list':
      return `<ul>${b.items.map((item) => `<li>${spans(item)}</li>`).join('')}</ul>`;
    case 'table':
      return (
        `<table><thead><tr>${b.header.map((h, i) => `<th${i < b.leftColumns ? ' class="left"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
        b.rows.map((r) => `<tr>${r.map((c, i) => `<td${i < b.leftColumns ? ' class="left"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') +
        '</tbody></table>'
      );
    case 'verdicts':
      return `<ul class="verdicts">${b.items
        .map((v) => `<li class="${v.status}" data-status="${v.status}"><span class="status">${STATUS_LABEL[v.status]}</span> (${escapeHtml(v.id)}): ${escapeHtml(v.message)}</li>`)
        .join('')}</ul>`;
    case 'figures': {
      if (b.figures.length === 0) return `<p class="empty">${escapeHtml(b.empty)}</p>`;
      const grids = b.figures.every((f) => f.type === 'examples');
      return grids ? b.figures.map(figure).join('') : `<div class="charts">${b.figures.map(figure).join('')}</div>`;
    }
  }
}

/** A report document as the body of an HTML page. */
export function documentToHtml(doc: ReportDocument): string {
  return [`<h1>${escapeHtml(doc.title)}</h1>`, ...doc.blocks.map(block)].join('\n');
}

/**
 * A self-contained HTML page (inline CSS and SVG, PNGs as data: URIs, no network) of a document,
 * `pageTitle` in the tab and `heading` as its first heading.
 */
export function htmlPage(doc: ReportDocument, pageTitle: string, heading: string = doc.title): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(pageTitle)}</title><style>${STYLE}</style></head>
<body data-images-loaded="pending">
${documentToHtml({ ...doc, title: heading })}
<script>
(function () {
  var images = Array.prototype.slice.call(document.images);
  Promise.all(images.map(function (img) {
    return img.decode ? img.decode().then(function () { return img.naturalWidth > 0; }, function () { return false; })
                      : Promise.resolve(img.complete && img.naturalWidth > 0);
  })).then(function (ok) {
    var decoded = ok.filter(Boolean).length;
    document.body.setAttribute('data-images-decoded', String(decoded));
    document.body.setAttribute('data-images-loaded', decoded === images.length ? 'all' : 'failed');
  });
})();
</script>
</body></html>
`;
}

/** report.html: one self-contained page from the same document as report.md (see {@link htmlPage}). */
export function renderHtml(results: ResultsFile): string {
  const doc = buildReport(results);
  return htmlPage(doc, `Tempered robustness report — ${results.dataset.name}`, `${doc.title} — ${results.dataset.name}`);
}

/** leaderboard.html: the page of the same document as leaderboard.md (see buildLeaderboard). */
export function renderLeaderboardHtml(results: ResultsFile): string {
  const doc = buildLeaderboard(results);
  return htmlPage(doc, doc.title);
}
