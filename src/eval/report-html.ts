import type { EvalReport } from './report.js';
import type { GotVerdict } from './types.js';

const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const percent = (value: number | null): string => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);

const columns: GotVerdict[] = ['malicious', 'suspicious', 'benign', 'failed'];

/** Expected × answered as a coloured grid: green where right, red where it hurts. */
function confusionSvg(report: EvalReport): string {
  const cell = 110;
  const left = 110;
  const top = 40;
  const colour = (expected: 'malicious' | 'benign', got: GotVerdict, share: number) => {
    const good =
      (expected === 'malicious' && (got === 'malicious' || got === 'suspicious')) ||
      (expected === 'benign' && got === 'benign');
    const alpha = (0.15 + 0.85 * share).toFixed(2);
    return good ? `rgba(46,160,67,${alpha})` : `rgba(218,54,51,${alpha})`;
  };
  const parts: string[] = [];
  columns.forEach((got, column) => {
    parts.push(
      `<text x="${left + column * cell + cell / 2}" y="${top - 12}" text-anchor="middle">${got}</text>`,
    );
  });
  (['malicious', 'benign'] as const).forEach((expected, row) => {
    const total = columns.reduce((sum, got) => sum + report.metrics.confusion[expected][got], 0);
    parts.push(
      `<text x="${left - 10}" y="${top + row * cell + cell / 2 + 5}" text-anchor="end">${expected}</text>`,
    );
    columns.forEach((got, column) => {
      const count = report.metrics.confusion[expected][got];
      const share = total === 0 ? 0 : count / total;
      const x = left + column * cell;
      const y = top + row * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell - 4}" height="${cell - 4}" fill="${colour(expected, got, share)}"/>`,
        `<text x="${x + cell / 2 - 2}" y="${y + cell / 2}" text-anchor="middle" font-size="22">${count}</text>`,
        `<text x="${x + cell / 2 - 2}" y="${y + cell / 2 + 22}" text-anchor="middle" font-size="12">${percent(total === 0 ? null : share)}</text>`,
      );
    });
  });
  return `<svg role="img" aria-label="confusion matrix" width="${left + cell * 4}" height="${top + cell * 2}" font-family="sans-serif" font-size="13">${parts.join('')}</svg>`;
}

/** One horizontal bar per technique, its length the recall. */
function techniqueSvg(report: EvalReport): string {
  const rows = report.techniques;
  if (rows.length === 0) return '<p>No malicious cases.</p>';
  const height = 22;
  const left = 120;
  const width = 360;
  const parts = rows.map((row, index) => {
    const y = index * height;
    const fill = row.recall >= 0.99 ? '#2ea043' : row.recall >= 0.8 ? '#d29922' : '#da3633';
    return (
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(row.technique)}</text>` +
      `<rect x="${left}" y="${y + 3}" width="${(row.recall * width).toFixed(1)}" height="${height - 6}" fill="${fill}"/>` +
      `<text x="${left + width + 8}" y="${y + 15}">${row.caught}/${row.cases}</text>`
    );
  });
  return `<svg role="img" aria-label="recall per technique" width="${left + width + 80}" height="${rows.length * height}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

/** Histogram of time per alert. */
function timeSvg(report: EvalReport): string {
  const times = report.results.map((result) => result.ms);
  if (times.length === 0) return '';
  const max = Math.max(...times, 1);
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (const ms of times) counts[Math.min(bins - 1, Math.floor((ms / max) * bins))]! += 1;
  const tallest = Math.max(...counts, 1);
  const width = 24;
  const height = 120;
  const bars = counts.map((count, index) => {
    const barHeight = (count / tallest) * height;
    return `<rect x="${index * width + 40}" y="${height - barHeight + 10}" width="${width - 3}" height="${barHeight.toFixed(1)}" fill="#388bfd"><title>${count} alerts</title></rect>`;
  });
  return `<svg role="img" aria-label="time per alert" width="${bins * width + 60}" height="${height + 40}" font-family="sans-serif" font-size="12">${bars.join('')}<text x="40" y="${height + 30}">0 ms</text><text x="${bins * width + 40}" y="${height + 30}" text-anchor="end">${Math.round(max)} ms</text></svg>`;
}

function linksTable(title: string, links: EvalReport['falseNegatives']): string {
  if (links.length === 0) return `<h2>${title}</h2><p>None.</p>`;
  const rows = links
    .map(
      (link) =>
        `<tr><td>${escapeHtml(link.caseId)}</td><td>${escapeHtml(link.title)}</td><td>${escapeHtml(link.got)}</td><td>${escapeHtml(link.dataset ?? '')}</td><td><code>${escapeHtml(link.audit ?? '(no run)')}</code></td></tr>`,
    )
    .join('');
  return `<h2>${title} (${links.length})</h2><table><tr><th>case</th><th>alert</th><th>answer</th><th>dataset</th><th>audit trail</th></tr>${rows}</table>`;
}

/** A self-contained HTML page (inline CSS and SVG, no external assets) for people. */
export function renderHtmlReport(report: EvalReport): string {
  const m = report.metrics;
  const figure = (label: string, value: string) =>
    `<div class="figure"><div>${value}</div><span>${label}</span></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warden eval: ${escapeHtml(report.suite)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328;max-width:1100px}
.figures{display:flex;flex-wrap:wrap;gap:1rem}.figure{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:120px}
.figure div{font-size:1.6rem;font-weight:600}.figure span{color:#57606a;font-size:.85rem}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}code{font-size:.8rem}
</style></head><body>
<h1>Warden eval: ${escapeHtml(report.suite)}</h1>
<p>Provider <b>${escapeHtml(report.provider)}</b>, Warden ${escapeHtml(report.wardenVersion)}, ${escapeHtml(report.createdAt)}; ${m.cases} cases (${m.malicious} malicious, ${m.benign} benign).</p>
<div class="figures">
${figure('malicious recall', percent(m.recall))}
${figure('strict recall', percent(m.strictRecall))}
${figure('precision', percent(m.precision))}
${figure('false-positive rate', percent(m.falsePositiveRate))}
${figure('escalation rate', percent(m.escalationRate))}
${figure('median time / alert', `${Math.round(m.ms.median)} ms`)}
${figure('p95 time / alert', `${Math.round(m.ms.p95)} ms`)}
${figure('median tool calls', String(m.toolCalls.median))}
${figure('tokens / alert (mean)', String(Math.round(m.tokens.mean)))}
${figure('cost total', `$${m.costUsd.total.toFixed(4)}`)}
</div>
<h2>Expected × answered</h2>${confusionSvg(report)}
<h2>Recall per technique</h2>${techniqueSvg(report)}
<h2>Time per alert</h2>${timeSvg(report)}
${linksTable('False negatives', report.falseNegatives)}
${linksTable('False positives', report.falsePositives)}
</body></html>
`;
}
