/**
 * METRICS.md against the list of metrics in engine/src/eval/metrics.ts: every metric documented with
 * its definition word for word, every documented metric in the list, the same thresholds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_THRESHOLDS, INFORMATIVE, METRICS, type ListedMetric } from '../../engine/src/eval/metrics.js';
import type { Informative } from '../../engine/src/eval/metrics/metric.js';

const DOC = readFileSync(new URL('../../engine/src/eval/METRICS.md', import.meta.url), 'utf8');

const normalize = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** "≤ 1 level" -> 1, "≤ 5% of counted operations" -> 0.05, "lines first." -> null. */
function leadingLimit(text: string): number | null {
  const m = /^\s*(?:≤\s*)?(\d+(?:\.\d+)?)\s*(%?)/.exec(text);
  if (!m) return null;
  return m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

/** Every disagreement between a METRICS.md text and the lists, as sentences. */
function docProblems(doc: string, metrics: readonly ListedMetric[], informative: readonly Informative[]): string[] {
  const problems: string[] = [];
  const rows = [...doc.matchAll(/^\|\s*`(\w+)`\s*\|[^|]*\|([^|]*)\|\s*$/gm)].map((m) => ({ id: m[1]!, limit: m[2]!.trim() }));
  const tableIds = rows.map((r) => r.id);
  const listIds = metrics.map((m) => m.id);
  if (tableIds.join(',') !== listIds.join(',')) problems.push(`table lists ${tableIds.join(', ')}; METRICS lists ${listIds.join(', ')} (same ids, same order)`);

  const sections = new Map<string, string>();
  for (const part of doc.split(/^### /m).slice(1)) {
    const heading = part.slice(0, part.indexOf('\n'));
    const id = /\(`(\w+)`/.exec(heading)?.[1];
    if (id === undefined) problems.push(`section "${heading}" names no metric id in backquotes`);
    else sections.set(id, normalize(part.slice(heading.length)));
  }
  const known = new Set([...listIds, ...informative.map((i) => i.id)]);
  for (const id of new Set([...tableIds, ...sections.keys()])) if (!known.has(id)) problems.push(`${id} is documented but is not in METRICS or INFORMATIVE`);

  for (const metric of [...metrics, ...informative]) {
    const section = sections.get(metric.id);
    if (section === undefined) {
      problems.push(`${metric.id} has no section in METRICS.md`);
      continue;
    }
    const what = /\*What\*: (.*?)(?= \*Why\*:| \*Threshold\*:|$)/.exec(section)?.[1] ?? '';
    if (what !== normalize(metric.definition)) problems.push(`${metric.id}: METRICS.md's *What* differs from the module's definition:\n  doc:    ${what}\n  module: ${normalize(metric.definition)}`);
  }
  for (const metric of metrics) {
    const row = rows.find((r) => r.id === metric.id);
    const rowLimit = row ? leadingLimit(row.limit) : null;
    const section = sections.get(metric.id) ?? '';
    const thresholdText = /\*Threshold\*: (.*)$/.exec(section)?.[1];
    const sectionLimit = thresholdText === undefined ? null : leadingLimit(thresholdText);
    if (thresholdText === undefined) problems.push(`${metric.id}: its section has no *Threshold*`);
    if (metric.threshold === null) {
      if (rowLimit !== null && row?.limit.startsWith('≤')) problems.push(`${metric.id} is pass/fail but the table gives a limit (${row.limit})`);
      continue;
    }
    if (rowLimit === null || !close(rowLimit, metric.threshold)) problems.push(`${metric.id}: table limit "${row?.limit ?? 'none'}", module threshold ${metric.threshold}`);
    if (sectionLimit === null || !close(sectionLimit, metric.threshold)) problems.push(`${metric.id}: *Threshold* "${thresholdText ?? 'none'}", module threshold ${metric.threshold}`);
  }
  return problems;
}

test('METRICS.md documents every metric of the list, with its definition and threshold, and nothing else', () => {
  assert.deepEqual(docProblems(DOC, METRICS, INFORMATIVE), []);
});

test('the thresholds object is the metrics\' thresholds, one key per metric with a limit', () => {
  const fromList = Object.fromEntries(METRICS.filter((m) => m.thresholdKey !== null).map((m) => [m.thresholdKey, m.threshold]));
  assert.deepEqual(fromList, { ...DEFAULT_THRESHOLDS });
});

test('a METRICS.md that disagrees with the list is caught', () => {
  const changedLimit = DOC.replace('| `idle` | operations that change nothing visible | ≤ 2% of all 999 operations |', '| `idle` | operations that change nothing visible | ≤ 3% of all 999 operations |');
  assert.notEqual(changedLimit, DOC);
  assert.match(docProblems(changedLimit, METRICS, INFORMATIVE).join('\n'), /idle: table limit "≤ 3% of all 999 operations", module threshold 0.02/);

  const withoutDust = DOC.replace(/### Compactness \(`dust`\)[\s\S]*?(?=### )/, '');
  assert.match(docProblems(withoutDust, METRICS, INFORMATIVE).join('\n'), /dust has no section/);

  const extra = `${DOC}\n### Sharpness (\`sharpness\`)\n*What*: made up.\n`;
  assert.match(docProblems(extra, METRICS, INFORMATIVE).join('\n'), /sharpness is documented but is not in METRICS/);

  const reworded = DOC.replace('the fraction of pixels at step 999 that differ from white by more than 2 levels', 'the share of non-white pixels at step 999');
  assert.match(docProblems(reworded, METRICS, INFORMATIVE).join('\n'), /blank: METRICS.md's \*What\* differs/);
});
