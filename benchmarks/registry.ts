/**
 * Benchmark suites, by module name (benchmarks/<name>.ts exporting `suite`). To add one (e.g. a model's
 * UNet step), write the module and list it here; `npm run bench <name>` runs only the suites whose
 * name contains the filter.
 */
import { existsSync } from 'node:fs';
import type { BenchmarkSuite } from './types.js';
import { goldenDir } from './paths.js';

export const SUITES = ['timelapse', 'slider', 'service', 'canvas', 'load', 'models'] as const;
export type SuiteName = (typeof SUITES)[number];

export function isSuiteName(name: string): name is SuiteName {
  return (SUITES as readonly string[]).includes(name);
}

export async function loadSuite(name: SuiteName): Promise<BenchmarkSuite> {
  switch (name) {
    case 'timelapse':
      return (await import('./timelapse.js')).suite;
    case 'slider':
      return (await import('./slider.js')).suite;
    case 'service':
      return (await import('./service.js')).suite;
    case 'canvas':
      return (await import('./canvas.js')).suite;
    case 'load':
      return (await import('./load.js')).suite;
    case 'models': {
      // models.ts (owned by the models work) exposes plain benchmark functions; adapt them to the table.
      const { modelBenchmarks } = await import('./models.js');
      const { multiFrameBenchmarks } = await import('./multi-frame.js');
      return {
        id: 'models',
        title: 'Models: tiny UNet steps on CPU (golden fixture weights: single-frame, 3D multi-frame)',
        columns: [
          { key: 'median', label: 'median', unit: 'ms' },
          { key: 'min', label: 'min', unit: 'ms' },
        ],
        cases: [...modelBenchmarks, ...multiFrameBenchmarks].map((b) => ({
          id: b.name,
          label: b.name,
          // A fresh clone has no ../shared: that is "not run here", not a failure.
          unavailable: () => (existsSync(goldenDir) ? undefined : `no golden fixtures at ${goldenDir} (set GOLDEN_DIR)`),
          async run() {
            const r = await b.run();
            return { median: r.median, min: r.min };
          },
        })),
      };
    }
  }
}
