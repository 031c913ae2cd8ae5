/**
 * Runs one benchmark case in this process and prints its result as the last stdout line:
 *   node --import tsx benchmarks/child.ts <suite> <case>
 * Peak RSS is this process's own maximum resident set, measured after the case.
 */
import { isSuiteName, loadSuite } from './registry.js';
import type { CaseResult } from './types.js';

async function runCase(suiteName: string, caseId: string): Promise<CaseResult> {
  if (!isSuiteName(suiteName)) return { suite: suiteName, case: caseId, measurements: {}, error: `no benchmark suite ${suiteName}` };
  const suite = await loadSuite(suiteName);
  const found = suite.cases.find((c) => c.id === caseId);
  if (!found) return { suite: suiteName, case: caseId, measurements: {}, error: `no case ${caseId} in ${suiteName}` };
  const skipped = found.unavailable?.();
  if (skipped !== undefined) return { suite: suiteName, case: caseId, measurements: {}, skipped };
  try {
    const cpuBefore = process.cpuUsage();
    const measurements = await found.run();
    const cpu = process.cpuUsage(cpuBefore);
    // resourceUsage().maxRSS is in kilobytes (KiB on Linux). CPU time is this process only (not ffmpeg):
    // unlike wall time it stays comparable when other work shares the machine.
    return {
      suite: suiteName,
      case: caseId,
      measurements: { ...measurements, cpu: (cpu.user + cpu.system) / 1e6, peakRss: process.resourceUsage().maxRSS / 1024 },
    };
  } catch (error) {
    return { suite: suiteName, case: caseId, measurements: {}, error: error instanceof Error ? error.message : String(error) };
  }
}

const [suiteName = '', caseId = ''] = process.argv.slice(2);
const result = await runCase(suiteName, caseId);
process.stdout.write(`\n${JSON.stringify(result)}\n`);
