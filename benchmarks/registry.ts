/**
 * Benchmark suites, by module name (benchmarks/<name>.ts exporting `suite`). To add one (e.g. a model's
 * UNet step), write the module and list it here; `npm run bench <name>` runs only the suites whose
 * name contains the filter.
 */
import type { BenchmarkSuite } from './types.js';

export const SUITES = ['timelapse', 'slider', 'models'] as const;
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
          async run() {
            const r = await b.run();
            return { median: r.median, min: r.min };
          },
        })),
      };
    }
  }
}
