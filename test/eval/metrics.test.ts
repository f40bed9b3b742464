import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type CaseResult,
  compareToBaseline,
  computeMetrics,
  distribution,
  type GotVerdict,
  renderHtmlReport,
  techniqueBreakdown,
} from '../../src/eval/index.js';

let next = 0;
function result(
  expected: 'malicious' | 'benign',
  got: GotVerdict,
  extra: Partial<CaseResult> = {},
): CaseResult {
  next++;
  return {
    caseId: `c${next}`,
    runId: got === 'failed' ? null : `run-${next}`,
    dataset: 'd.zip',
    alertTitle: `alert ${next} <b>`,
    expected,
    expectedTechniques: expected === 'malicious' ? ['T1218.005'] : [],
    got,
    status: got === 'failed' ? 'failed' : 'completed',
    confidence: 0.8,
    techniques: [],
    toolCalls: next,
    tokens: 100 * next,
    costUsd: 0.01,
    ms: 10 * next,
    error: null,
    ...extra,
  };
}

const results = [
  result('malicious', 'malicious'),
  result('malicious', 'suspicious'),
  result('malicious', 'benign'),
  result('malicious', 'failed', { expectedTechniques: ['T1003.001'] }),
  result('benign', 'benign'),
  result('benign', 'benign'),
  result('benign', 'benign'),
  result('benign', 'suspicious'),
];

describe('eval metrics', () => {
  it('scores suspicious as caught, benign and failed as missed, and counts false positives', () => {
    const metrics = computeMetrics(results);
    expect(metrics.confusion.malicious).toEqual({ malicious: 1, suspicious: 1, benign: 1, failed: 1 });
    expect(metrics.confusion.benign).toEqual({ malicious: 0, suspicious: 1, benign: 3, failed: 0 });
    expect(metrics.recall).toBe(0.5);
    expect(metrics.strictRecall).toBe(0.25);
    expect(metrics.precision).toBeCloseTo(2 / 3);
    expect(metrics.falsePositiveRate).toBe(0.25);
    expect(metrics.escalationRate).toBe(3 / 8);
    expect(metrics.costUsd.total).toBeCloseTo(0.08);
  });

  it('leaves ratios without a denominator undefined rather than perfect', () => {
    const metrics = computeMetrics([result('benign', 'benign')]);
    expect(metrics.recall).toBeNull();
    expect(metrics.precision).toBeNull();
    expect(metrics.falsePositiveRate).toBe(0);
  });

  it('takes nearest-rank medians and 95th percentiles', () => {
    expect(distribution([5, 1, 3, 2, 4])).toMatchObject({ median: 3, p95: 5, total: 15, mean: 3 });
    expect(distribution([])).toMatchObject({ median: 0, p95: 0, mean: 0 });
  });

  it('breaks recall down per technique, sub-techniques counting for their parent', () => {
    const rows = techniqueBreakdown(results);
    expect(rows.find((row) => row.technique === 'T1218.005')).toMatchObject({
      cases: 3,
      caught: 2,
      strict: 1,
    });
    expect(rows.find((row) => row.technique === 'T1218')).toMatchObject({ cases: 3, caught: 2 });
    expect(rows.find((row) => row.technique === 'T1003.001')).toMatchObject({ cases: 1, caught: 0 });
  });

  it('lists false negatives with the command that shows their audit trail', () => {
    const report = buildReport({
      suite: 's',
      provider: 'offline',
      home: '/h',
      results,
      auditCommand: (runId) => `warden --home /h audit show ${runId}`,
    });
    expect(report.falseNegatives.map((link) => link.got)).toEqual(['benign', 'failed']);
    expect(report.falseNegatives[0]?.audit).toMatch(/^warden --home \/h audit show run-/);
    expect(report.falseNegatives[1]?.audit).toBeNull();
    expect(report.falsePositives).toHaveLength(1);
  });

  it('renders a self-contained HTML page with the untrusted titles escaped', () => {
    const html = renderHtmlReport(
      buildReport({ suite: 's', provider: 'offline', home: '/h', results, auditCommand: (id) => id }),
    );
    expect(html).toContain('<svg');
    expect(html).toContain('alert 3 &#60;b&#62;');
    expect(html).not.toContain('alert 3 <b>');
    expect(html).not.toMatch(/(src|href)=/);
  });
});

describe('regression gate', () => {
  const baseline = {
    format: 'warden-eval-report/1' as const,
    suite: 's',
    metrics: { recall: 0.99, precision: 0.9, falsePositiveRate: 0.05 },
  };
  const current = computeMetrics(results);

  it('names each metric that got worse beyond the tolerance', () => {
    expect(compareToBaseline(current, baseline, 0.02).map((regression) => regression.metric)).toEqual([
      'recall',
      'precision',
      'falsePositiveRate',
    ]);
  });

  it('passes within the tolerance', () => {
    const same = { ...baseline, metrics: { recall: 0.51, precision: 0.66, falsePositiveRate: 0.24 } };
    expect(compareToBaseline(current, same, 0.02)).toEqual([]);
    expect(compareToBaseline(current, same, 0).map((regression) => regression.metric)).toEqual([
      'recall',
      'falsePositiveRate',
    ]);
  });
});
