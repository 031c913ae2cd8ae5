/**
 * `npm run bench [filter...] [--json]`: runs every benchmark suite (benchmarks/registry.ts), each case in
 * a fresh child process, and prints one table per suite with every measurement next to its target.
 * Benchmarks measure; they do not fail the build. The exit code is 1 only when a case crashed.
 *
 * `npm run bench` first compiles the benchmarks with the engine into benchmarks/build/ (tsconfig.bench.json)
 * and runs them from there: the engine then runs as plain JS, as bin/paints-undo runs it from dist/. Run
 * from its sources (`node --import tsx benchmarks/run.ts`), every case and every thread it starts compiles
 * TypeScript through tsx as it goes, which users never pay: the 1024x1280 timelapse reads ~0.5 s slower.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.js';
import { SUITES, loadSuite } from './registry.js';
import { sampleDescription } from './sample.js';
import type { BenchmarkSuite, CaseResult, Column } from './types.js';

/** Compiled (benchmarks/build/) or run from the sources through tsx: the cases run the same way as this runner. */
const compiled = !import.meta.url.endsWith('.ts');
const childModule = fileURLToPath(new URL(compiled ? './child.js' : './child.ts', import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((a) => !a.startsWith('--'));

function runChild(suite: string, caseId: string): Promise<CaseResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), childModule, suite, caseId], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as CaseResult);
      } catch {
        resolve({ suite, case: caseId, measurements: {}, error: `the benchmark process exited with ${String(code)} without a result` });
      }
    });
  });
}

/** The case run `runs` times, each in a fresh process: per measurement, the median (a failed run fails the case). */
async function runCase(suite: string, caseId: string, runs: number): Promise<CaseResult> {
  const results: CaseResult[] = [];
  for (let k = 0; k < runs; k++) {
    const result = await runChild(suite, caseId);
    if (result.error !== undefined || result.skipped !== undefined) return result;
    results.push(result);
  }
  if (results.length === 1) return results[0]!;
  const measurements: Record<string, number> = {};
  for (const key of Object.keys(results[0]!.measurements)) {
    const values = results.map((r) => r.measurements[key]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    measurements[key] = values[Math.floor(values.length / 2)]!;
  }
  return { suite, case: caseId, measurements, runs };
}

const CPU: Column = { key: 'cpu', label: 'engine CPU', unit: 's' };
const RSS: Column = { key: 'peakRss', label: 'peak RSS', unit: 'MB' };

function format(value: number | undefined, column: Column): string {
  if (value === undefined) return '-';
  switch (column.unit) {
    case 's':
      return `${value.toFixed(2)} s`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    case 'MB':
      return `${Math.round(value)} MB`;
    case 'count':
      return String(Math.round(value));
  }
}

function cell(result: CaseResult, column: Column, target: number | undefined): string {
  const value = result.measurements[column.key];
  const shown = format(value, column);
  if (target === undefined || value === undefined) return shown;
  return `${shown} (target < ${format(target, column)}: ${value < target ? 'ok' : 'MISSED'})`;
}

function printTable(suite: BenchmarkSuite, results: readonly CaseResult[]): void {
  const columns = [...suite.columns, CPU, RSS];
  const rows: string[][] = [['case', ...columns.map((c) => c.label)]];
  for (const result of results) {
    const spec = suite.cases.find((c) => c.id === result.case);
    if (result.error !== undefined) {
      rows.push([result.case, `FAILED: ${result.error}`]);
      continue;
    }
    if (result.skipped !== undefined) {
      rows.push([result.case, `not run: ${result.skipped}`]);
      continue;
    }
    const label = `${spec?.label ?? result.case}${result.runs !== undefined ? ` (median of ${result.runs})` : ''}`;
    rows.push([label, ...columns.map((c) => cell(result, c, spec?.targets?.[c.key]))]);
  }
  const widths: number[] = [];
  for (const row of rows) row.forEach((text, i) => (widths[i] = Math.max(widths[i] ?? 0, text.length)));
  process.stdout.write(`\n${suite.title}\n`);
  for (const row of rows) process.stdout.write(`${row.map((text, i) => text.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

const all: CaseResult[] = [];
const selected = SUITES.filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)));
if (selected.length === 0) {
  process.stderr.write(`No benchmark suite matches ${filters.join(' ')}. Suites: ${SUITES.join(', ')}.\n`);
  process.exit(2);
}
if (!json) {
  const cores = (await import('node:os')).cpus().length;
  const load = (await import('node:os')).loadavg()[0] ?? 0;
  process.stdout.write(`paints-undo benchmarks on ${cores} CPU core(s), Node ${process.version}; input: ${sampleDescription()}\n`);
  // Wall times are only meaningful on an otherwise idle machine; say so when it is not.
  if (load > cores) process.stdout.write(`Note: load average ${load.toFixed(1)} on ${cores} cores: wall times are inflated; compare "engine CPU".\n`);
}
for (const name of selected) {
  const suite = await loadSuite(name);
  const results: CaseResult[] = [];
  // One case at a time: parallel cases would share the CPU and spoil each other's timings.
  for (const c of suite.cases) results.push(await runCase(name, c.id, c.runs ?? 1));
  all.push(...results);
  if (!json) printTable(suite, results);
}
if (json) process.stdout.write(`${JSON.stringify(all)}\n`);
process.exitCode = all.some((r) => r.error !== undefined) ? 1 : 0;
