/**
 * Starts the worker-thread module `name` that sits next to the caller. From dist/ the module is plain JS.
 * Under tsx (tests, benchmarks) the caller is a .ts file, and Node 20 does not run the parent's
 * `--import tsx` in workers, so a tiny bootstrap registers tsx before importing the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const url = new URL(`./${name}.ts`, callerUrl).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
