/**
 * THE ONLY module that imports onnxruntime-node. It picks execution providers (CUDA when its
 * provider library is installed, else CPU), creates and releases sessions and runs inference.
 *
 * `InferenceSession.run` blocks the calling thread, so sessions live in a worker thread: this same
 * file is the worker's entry point (it detects `workerData.role`). The main thread talks to it with a
 * typed request/response protocol; tensors cross as transferable typed arrays.
 *
 * Weights are ONNX external data pointing into the original .safetensors files; ORT refuses locations
 * outside the model folder (`..`, absolute paths, symlinks out of it — the Hugging Face cache layout), so
 * the real folder of the files is resolved and passed as `model_external_initializers_file_folder_path`.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';

export type Device = 'cpu' | 'cuda';
export type TensorType = 'float32' | 'int64' | 'uint8' | 'float16';

export interface TensorData {
  readonly type: TensorType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Uint8Array | Uint16Array;
}

export interface SessionSpec {
  /** Serialized ModelProto. */
  readonly model: Uint8Array;
  /** Folder of the external-data files (resolved through symlinks here). */
  readonly externalDataFolder: string;
  readonly device: Device;
  /** Intra-op threads on CPU (0 = ORT default). */
  readonly threads?: number;
  /**
   * Graph optimisation level (default 'all'). 'extended' skips the CPU-only layout transforms (NCHWc),
   * whose kernels round differently enough to matter for deep float32 graphs (see multi-frame/components.ts).
   */
  readonly optimization?: 'all' | 'extended';
}

export interface ProviderReport {
  /** Backends the installed onnxruntime-node binding reports. */
  readonly backends: readonly string[];
  /** Whether libonnxruntime_providers_cuda.so sits next to the binding (the opt-in CUDA install). */
  readonly cudaLibraryInstalled: boolean;
  readonly bindingFolder: string;
  readonly ortVersion: string;
}

type Request =
  | { readonly id: number; readonly kind: 'create'; readonly spec: SessionSpec }
  | { readonly id: number; readonly kind: 'run'; readonly session: number; readonly feeds: Record<string, TensorData> }
  | { readonly id: number; readonly kind: 'release'; readonly session: number }
  | { readonly id: number; readonly kind: 'providers' };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Response =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string };

/** Where the onnxruntime-node binding and its provider libraries live. */
function bindingFolder(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaLibraryInstalled(): boolean {
  try {
    return existsSync(join(bindingFolder(), 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** The device used when the user does not choose: CUDA when its provider library is installed. */
export function defaultDevice(): Device {
  return cudaLibraryInstalled() ? 'cuda' : 'cpu';
}

/** The command that installs the CUDA provider libraries (npm 11 skips it unless approved). */
export const CUDA_INSTALL_COMMAND = 'node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12';

// ---------------------------------------------------------------------------------------------
// Worker side.

async function workerMain(): Promise<void> {
  const ort = await import('onnxruntime-node');
  const port = parentPort;
  if (port === null) return;
  const sessions = new Map<number, InferenceSession>();
  let nextSession = 1;

  const toOrt = (t: TensorData): Tensor => new ort.Tensor(t.type, t.data, [...t.dims]);

  port.on('message', (request: Request) => {
    void (async (): Promise<void> => {
      try {
        switch (request.kind) {
          case 'providers': {
            const report: ProviderReport = {
              backends: ort.listSupportedBackends().map((b) => b.name),
              cudaLibraryInstalled: cudaLibraryInstalled(),
              bindingFolder: bindingFolder(),
              ortVersion: ort.env.versions.common,
            };
            port.postMessage({ id: request.id, ok: true, value: report } satisfies Response);
            return;
          }
          case 'create': {
            const { spec } = request;
            const session = await ort.InferenceSession.create(spec.model, {
              executionProviders: spec.device === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'],
              graphOptimizationLevel: spec.optimization ?? 'all',
              intraOpNumThreads: spec.threads ?? 0,
              extra: {
                session: {
                  model_external_initializers_file_folder_path: spec.externalDataFolder,
                  // Prepacking copies every MatMul/Conv weight; the memory-mapped originals are enough.
                  disable_prepacking: '1',
                },
              },
            });
            const handle = nextSession++;
            sessions.set(handle, session);
            const value = { handle, inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
            port.postMessage({ id: request.id, ok: true, value } satisfies Response);
            return;
          }
          case 'run': {
            const session = sessions.get(request.session);
            if (session === undefined) throw new Error(`session ${request.session} was released`);
            const feeds: Record<string, Tensor> = {};
            for (const [name, t] of Object.entries(request.feeds)) feeds[name] = toOrt(t);
            const results = await session.run(feeds);
            const out: Record<string, TensorData> = {};
            const transfer: ArrayBuffer[] = [];
            for (const [name, t] of Object.entries(results)) {
              const data = t.data as TensorData['data'];
              out[name] = { type: t.type as TensorType, dims: t.dims, data };
              if (data.buffer instanceof ArrayBuffer) transfer.push(data.buffer);
            }
            port.postMessage({ id: request.id, ok: true, value: out } satisfies Response, transfer);
            return;
          }
          case 'release': {
            await sessions.get(request.session)?.release();
            sessions.delete(request.session);
            port.postMessage({ id: request.id, ok: true, value: null } satisfies Response);
            return;
          }
        }
      } catch (error) {
        port.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies Response);
      }
    })();
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'paints-undo-ort') void workerMain();

// ---------------------------------------------------------------------------------------------
// Main-thread side.

/** A running onnxruntime worker. One per backend; sessions are created and released through it. */
export class OrtRuntime {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  private constructor() {
    const self = fileURLToPath(import.meta.url);
    const workerData = { role: 'paints-undo-ort' };
    if (self.endsWith('.ts')) {
      // Under tsx (tests, benchmarks) a worker does not inherit the TypeScript loader: register it first.
      const api = import.meta.resolve('tsx/esm/api');
      const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
      this.worker = new Worker(code, { eval: true, workerData });
    } else {
      // Workers inherit the parent's execArgv; entry-point-only flags (--input-type) would make it fail.
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
      this.worker = new Worker(self, { workerData, execArgv });
    }
    this.worker.unref();
    this.worker.on('message', (response: Response) => {
      const entry = this.pending.get(response.id);
      if (entry === undefined) return;
      this.pending.delete(response.id);
      if (response.ok) entry.resolve(response.value);
      else entry.reject(new PaintsUndoError('INTERNAL', `onnxruntime: ${response.message}`));
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => {
      this.closed = true;
      this.failAll(new Error(`the onnxruntime worker exited with code ${code}`));
    });
  }

  static start(): OrtRuntime {
    return new OrtRuntime();
  }

  private failAll(error: Error): void {
    for (const entry of this.pending.values()) entry.reject(new PaintsUndoError('INTERNAL', error.message, { cause: error }));
    this.pending.clear();
  }

  private call<T>(request: DistributiveOmit<Request, 'id'>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new PaintsUndoError('INTERNAL', 'The onnxruntime worker has stopped.'));
    const id = this.nextId++;
    this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (v) => {
          if (this.pending.size === 0) this.worker.unref();
          resolve(v as T);
        },
        reject: (e) => {
          if (this.pending.size === 0) this.worker.unref();
          reject(e);
        },
      });
      this.worker.postMessage({ ...request, id } as Request, transfer);
    });
  }

  providers(): Promise<ProviderReport> {
    return this.call<ProviderReport>({ kind: 'providers' });
  }

  async createSession(spec: SessionSpec): Promise<OrtSession> {
    const folder = realpathSync(spec.externalDataFolder);
    const created = await this.call<{ handle: number; inputNames: string[]; outputNames: string[] }>({
      kind: 'create',
      spec: { ...spec, externalDataFolder: folder },
    });
    return new OrtSession(this, created.handle, spec.device, created.inputNames, created.outputNames);
  }

  /** @internal */
  runSession(handle: number, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    return this.call<Record<string, TensorData>>({ kind: 'run', session: handle, feeds });
  }

  /** @internal */
  releaseSession(handle: number): Promise<void> {
    return this.call<void>({ kind: 'release', session: handle });
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}

export class OrtSession {
  readonly device: Device;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly runtime: OrtRuntime;
  private readonly handle: number;
  private released = false;

  constructor(runtime: OrtRuntime, handle: number, device: Device, inputNames: readonly string[], outputNames: readonly string[]) {
    this.runtime = runtime;
    this.handle = handle;
    this.device = device;
    this.inputNames = inputNames;
    this.outputNames = outputNames;
  }

  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    if (this.released) return Promise.reject(new PaintsUndoError('INTERNAL', 'The session was released.'));
    return this.runtime.runSession(this.handle, feeds);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.runtime.releaseSession(this.handle);
  }
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): TensorData {
  return { type: 'float32', dims, data };
}

export function int64Tensor(values: ArrayLike<number> | BigInt64Array, dims: readonly number[]): TensorData {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values), (v) => BigInt(v));
  return { type: 'int64', dims, data };
}

/**
 * Fails when a model's result holds NaN or infinity, which would otherwise come out as a black or noise
 * image that looks like a result: weights damaged in a way their shapes do not show, or half precision
 * that overflowed on the GPU. `what` names the result ("the single-frame model's latents").
 */
export function assertFinite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) continue;
    throw new PaintsUndoError('MODEL_MISSING', `${what.charAt(0).toUpperCase()}${what.slice(1)} hold ${Number.isNaN(values[i]!) ? 'NaN' : 'infinite'} values: the weights may be damaged, or half precision overflowed on the GPU.`, {
      hint: 'Run `paints-undo models verify` and download any file it flags again; if every file verifies, run on the CPU (PAINTS_UNDO_DEVICE=cpu).',
      details: { index: i, length: values.length },
    });
  }
}

/** The float32 data of an output, with a precise error when it is missing or of another type. */
export function outputFloat32(outputs: Record<string, TensorData>, name: string): Float32Array {
  const t = outputs[name];
  if (t === undefined || !(t.data instanceof Float32Array)) throw new PaintsUndoError('INTERNAL', `The model output ${name} is missing or not float32.`);
  return t.data;
}
