/**
 * The facts `paints-undo doctor` reports: the NVIDIA GPU (nvidia-smi), the onnxruntime-node binding and
 * whether its CUDA provider is installed and actually opens a session, and the model files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from './graph/builder.js';
import { resolveModelsDir } from './manifest.js';
import type { ModelsDirChoice } from './manifest.js';
import { CUDA_INSTALL_COMMAND, OrtRuntime, float32Tensor } from './runtime/onnxruntime.js';
import type { ProviderReport } from './runtime/onnxruntime.js';
import { verify } from './verify.js';
import type { VerifyReport } from './verify.js';

export interface DoctorReport {
  readonly node: string;
  readonly gpu: { readonly found: boolean; readonly description: string };
  readonly onnxruntime: ProviderReport | { readonly error: string };
  /** Result of opening a one-node session on CUDA (only tried when the provider library is installed). */
  readonly cudaSession: 'ok' | 'not-installed' | { readonly error: string };
  /** CUDA runtime / cuBLAS / cuDNN libraries the dynamic loader can see (ldconfig and LD_LIBRARY_PATH), e.g. libcudart.so.12. */
  readonly cudaLibraries: readonly string[];
  readonly models: ModelsDirChoice & { readonly report: VerifyReport };
  readonly advice: readonly string[];
}

function nvidiaSmi(): Promise<{ found: boolean; description: string }> {
  return new Promise((resolvePromise) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeout: 10_000 }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolvePromise({ found: false, description: code === 'ENOENT' ? 'nvidia-smi not found (no NVIDIA driver)' : `nvidia-smi failed: ${error.message.split('\n')[0] ?? ''}` });
        return;
      }
      resolvePromise({ found: stdout.trim().length > 0, description: stdout.trim() || 'no GPU listed' });
    });
  });
}

const CUDA_LIBRARY = /^lib(cudart|cublas|cublasLt|cudnn|cufft|curand)\.so\.\d+$/;

/** Versioned CUDA libraries visible to the loader: `ldconfig -p` plus the LD_LIBRARY_PATH folders. */
async function cudaLibraries(): Promise<string[]> {
  const found = new Set<string>();
  const fromLdconfig = await new Promise<string>((res) => execFile('ldconfig', ['-p'], { timeout: 10_000 }, (error, stdout) => res(error ? '' : stdout)));
  for (const line of fromLdconfig.split('\n')) {
    const name = line.trim().split(' ')[0] ?? '';
    if (CUDA_LIBRARY.test(name)) found.add(name);
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '')) {
    try {
      for (const name of readdirSync(dir)) if (CUDA_LIBRARY.test(name)) found.add(name);
    } catch {
      // A folder in LD_LIBRARY_PATH that does not exist is not our concern here.
    }
  }
  return [...found].sort();
}

async function tryCuda(runtime: OrtRuntime): Promise<'ok' | { error: string }> {
  const g = new GraphBuilder('float32');
  const x = g.input('x', 'float32', [1]);
  g.output(g.op('Add', [x, g.scalar(1)]), 'y', 'float32', [1]);
  const folder = mkdtempSync(join(tmpdir(), 'pu-doctor-'));
  try {
    const session = await runtime.createSession({ model: g.toBytes('doctor'), externalDataFolder: folder, device: 'cuda' });
    await session.run({ x: float32Tensor(new Float32Array([1]), [1]) });
    await session.release();
    return 'ok';
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function runDoctor(modelsFlag?: string): Promise<DoctorReport> {
  const gpu = await nvidiaSmi();
  const runtime = OrtRuntime.start();
  let onnxruntime: DoctorReport['onnxruntime'];
  let cudaSession: DoctorReport['cudaSession'] = 'not-installed';
  try {
    onnxruntime = await runtime.providers();
    if (onnxruntime.cudaLibraryInstalled) cudaSession = await tryCuda(runtime);
  } catch (error) {
    onnxruntime = { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await runtime.dispose();
  }
  const libraries = await cudaLibraries();
  const choice = resolveModelsDir(modelsFlag);
  const report = verify(choice.dir);
  const advice: string[] = [];
  if ('error' in onnxruntime) advice.push(`onnxruntime-node does not load (${onnxruntime.error}); reinstall with \`npm ci\`.`);
  if (gpu.found && cudaSession === 'not-installed') {
    advice.push(`An NVIDIA GPU is present but the onnxruntime CUDA provider is not installed (npm 11 skips it). Run: ${CUDA_INSTALL_COMMAND}`);
  }
  if (typeof cudaSession === 'object') {
    advice.push(
      `The CUDA provider is installed but failed to start: ${cudaSession.error.split('\n')[0] ?? ''}. Install the CUDA runtime and cuDNN versions this onnxruntime build expects (CUDA 12 + cuDNN 9 for the cuda12 package; newer builds may expect CUDA 13) and make them visible in LD_LIBRARY_PATH.`,
    );
  }
  if (!gpu.found) advice.push('No NVIDIA GPU: the model backends run on the CPU (minutes per keyframe batch); the classic backend needs no GPU.');
  if (!report.ok) advice.push(`The single-frame model is incomplete in ${choice.dir}; on a connected machine run: ${report.downloadCommands.slice(1).join(' && ')}`);
  if (report.tagger.status !== 'present') advice.push('Optional: the WD14 tagger writes prompts automatically; without it the prompt is empty.');
  if (report.multiFrame !== undefined && !report.multiFrame.ok) {
    advice.push(`Optional: the multi-frame model (--backend paintsundo: process videos) is incomplete; on a connected machine run: ${report.multiFrame.downloadCommand}`);
  }
  return { node: process.version, gpu, onnxruntime, cudaSession, cudaLibraries: libraries, models: { ...choice, report }, advice };
}

export function formatDoctor(report: DoctorReport): string[] {
  const lines = [`Node.js ${report.node}`, `GPU: ${report.gpu.found ? report.gpu.description : `none (${report.gpu.description})`}`];
  if ('error' in report.onnxruntime) {
    lines.push(`onnxruntime-node: failed to load: ${report.onnxruntime.error}`);
  } else {
    lines.push(`onnxruntime-node ${report.onnxruntime.ortVersion}: backends ${report.onnxruntime.backends.join(', ')}`);
    lines.push(`CUDA provider library: ${report.onnxruntime.cudaLibraryInstalled ? 'installed' : 'not installed'} (${report.onnxruntime.bindingFolder})`);
  }
  lines.push(`CUDA libraries visible: ${report.cudaLibraries.length > 0 ? report.cudaLibraries.join(', ') : 'none'}`);
  lines.push(`CUDA session: ${typeof report.cudaSession === 'string' ? report.cudaSession : `failed: ${report.cudaSession.error.split('\n')[0] ?? ''}`}`);
  const components = report.models.report.snapshot.components.map((c) => `${c.name} ${c.status}`).join(', ');
  lines.push(`Models (${report.models.source}): ${report.models.dir}: ${components}; tagger ${report.models.report.tagger.status}`);
  const multiFrame = report.models.report.multiFrame;
  if (multiFrame !== undefined) lines.push(`Multi-frame model (--backend paintsundo): ${multiFrame.components.map((c) => `${c.name} ${c.status}`).join(', ')}`);
  if (report.advice.length === 0) lines.push('Everything the model backends need is in place.');
  for (const a of report.advice) lines.push(`- ${a}`);
  return lines;
}
