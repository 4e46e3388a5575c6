import { imageToRgb, encodePng, perturbationToRgb, pngDataUri } from './png.js';
import { attackColumns, rate, renderMarkdown } from './render-markdown.js';
import type { AdversarialExample, GradientHistogram, ResultsFile, TrainingEpoch } from './schema.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#6a4c93', '#00798c', '#8d6a9f', '#444444'];

interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

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

function inline(text: string): string {
  return escapeHtml(text.replace(/\\\|/g, '|')).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

/**
 * report.md → HTML, for the subset renderMarkdown writes (headings, tables, lists, paragraphs):
 * both views then show the same tables. Every text is escaped.
 */
export function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  const blocks = markdown.split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const first = lines[0]!;
    if (first.startsWith('# ')) continue; // the page has its own title
    if (first.startsWith('### ')) out.push(`<h3>${inline(first.slice(4))}</h3>`);
    else if (first.startsWith('## ')) out.push(`<h2>${inline(first.slice(3))}</h2>`);
    else if (first.startsWith('| ')) {
      const split = (l: string) => l.slice(2, -2).split(/(?<!\\) \| /);
      const [head, , ...body] = lines;
      out.push(
        `<table><thead><tr>${split(head!).map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${body
          .map((r) => `<tr>${split(r).map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
      );
    } else if (first.startsWith('- ')) {
      out.push(`<ul>${lines.map((l) => `<li class="${/^- \*\*Flagged/.test(l) ? 'warning' : 'info'}">${inline(l.slice(2))}</li>`).join('')}</ul>`);
    } else out.push(`<p>${inline(lines.join(' '))}</p>`);
  }
  return out.join('\n');
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:12px;margin:12px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
.warning{color:#a4161a}.info{color:#555}figure.example{display:inline-block;margin:4px 8px;text-align:center}
figure.example img{image-rendering:pixelated;margin:1px;border:1px solid #ddd}figcaption{font-size:11px}.empty{color:#777}`;

/** report.html: one self-contained page (inline CSS and SVG, PNGs as data: URIs, no network). */
export function renderHtml(results: ResultsFile): string {
  const markdown = renderMarkdown(results);
  const models = Object.entries(results.models);
  const sweep = lineChart(
    'Robust accuracy vs ε',
    'ε',
    'robust accuracy',
    models
      .filter(([, m]) => m.epsilonSweep)
      .map(([name, m]) => ({
        label: `${name} (${m.epsilonSweep!.attack}, ${m.epsilonSweep!.norm})`,
        points: m.epsilonSweep!.points.filter((p) => p.robustAccuracy !== null).map((p) => [p.epsilon, p.robustAccuracy!] as const),
      })),
    [0, 1],
  );
  // Every step's learning rate, at epoch + step/steps (one point per epoch when only that was logged).
  const learningRateSeries = (phase: string, epochs: readonly TrainingEpoch[]) => {
    const points = epochs.flatMap((e) =>
      e.learningRates?.length ? e.learningRates.map((rate, i, all) => [e.epoch + i / all.length, rate] as const) : typeof e.learningRate === 'number' ? [[e.epoch, e.learningRate] as const] : [],
    );
    return points.length ? [{ label: `${phase} learning rate`, points }] : [];
  };
  const training = models.flatMap(([name, m]) =>
    Object.entries(m.training ?? {}).map(([phase, epochs]) =>
      `<div><h3>${escapeHtml(`${name} — ${phase}`)}</h3>` +
      lineChart(`Training ${name} / ${phase}`, 'epoch', 'loss / accuracy', [
        { label: `${phase} loss`, points: epochs.map((e) => [e.epoch, e.loss] as const) },
        ...(epochs.some((e) => e.accuracy !== undefined) ? [{ label: `${phase} accuracy`, points: epochs.filter((e) => e.accuracy !== undefined).map((e) => [e.epoch, e.accuracy!] as const) }] : []),
        ...learningRateSeries(phase, epochs),
      ]) +
      '</div>',
    ),
  );
  const histograms = models.map(([name, m]) => `<div><h3>${escapeHtml(name)}</h3>${histogramChart(`Input-gradient magnitudes, ${name}`, m.gradientHistogram)}</div>`);
  const grids = models.flatMap(([name, m]) =>
    attackColumns(results)
      .filter((key) => (m.examples[key] ?? []).length > 0)
      .map(
        (key) =>
          `<h3>${escapeHtml(`${name} — ${key}`)} <small>(clean · perturbation · adversarial; success ${escapeHtml(rate(m.attacks[key]?.successRate, m.attacks[key]?.successRateInterval))} %)</small></h3>` +
          m.examples[key]!.map((e) => exampleImages(e, [0, 1])).join(''),
      ),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Tempered robustness report — ${escapeHtml(results.dataset.name)}</title><style>${STYLE}</style></head>
<body data-images-loaded="pending">
<h1>Robustness evaluation — ${escapeHtml(results.dataset.name)}</h1>
${markdownToHtml(markdown)}
<h2>Robust accuracy vs ε</h2><div class="charts">${sweep}</div>
<h2>Training curves</h2><div class="charts">${training.join('') || '<p class="empty">No training curves in results.json.</p>'}</div>
<h2>Input-gradient magnitudes (T = 1)</h2><div class="charts">${histograms.join('')}</div>
<h2>Adversarial examples</h2>${grids.join('') || '<p class="empty">No adversarial examples recorded.</p>'}
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
