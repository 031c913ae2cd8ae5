/**
 * Worker thread of the engine service: decodes uploads and runs jobs (backends + exporters) so the
 * main thread's event loop only routes messages and never starves. Backends stay warm per worker, so a
 * slider scrubbing one image reuses the backend's plan of that image.
 *
 * Cancellation: a backend busy in a long synchronous loop would never see the main thread's 'cancel'
 * message (its event loop is blocked), so each job also gets a one-slot SharedArrayBuffer flag that the
 * main thread sets. The job's AbortSignal reads that flag through an own `aborted` getter, so every
 * `throwIfCancelled(signal)` between strokes/steps sees the cancel at once; when the message arrives the
 * controller is aborted for real, firing 'abort' listeners (ffmpeg, file writes).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Backend, Progress, SourceImage } from '../core/backend.js';
import { PaintsUndoError, isPaintsUndoError, throwIfCancelled } from '../core/errors.js';
import { MemoryLedger } from '../core/memory.js';
import type { JobInput } from '../core/job.js';
import type { RgbImage } from '../core/image.js';
import { DEFAULT_BACKEND, createBackend } from '../backends/registry.js';
import { decodeImageBuffer, decodeRawPixels } from '../io/decode.js';
import { renderFrame } from '../jobs/kinds/frame.js';
import { jobKindOf } from '../jobs/kinds.js';
import { runJob, type JobEnvironment } from '../jobs/run.js';
import { addPngText, provenanceChunks } from '../io/png.js';
import { asOutputError } from '../io/write-errors.js';
import { readAhead, takeHashedAhead } from './upload-ahead.js';
import { planKey, planOf, WARM_UP, type MainToWorker, type PlanName, type WorkerData, type WorkerFile, type WorkerToMain, type WireError } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('service/worker.ts must run in a worker thread');

/**
 * Backends added with registerBackend (the official-model ones, and any the main process registered with
 * their module, see BackendEntry.module) register themselves when their module is imported; a worker has
 * its own module graph, so it imports them too. The official models are imported even when the main
 * thread did not (e.g. an engine started by a test). A broken or missing module must not take the
 * classic backend down with it.
 */
const start = startData();
const registered: Promise<void> = Promise.all([
  registering('the official-model backends', import('../../../models/src/backends/register.js')),
  ...start.backendModules.map((module) => registering(module, import(module))),
]).then(() => undefined);

function registering(what: string, imported: Promise<unknown>): Promise<void> {
  return imported.then(
    () => undefined,
    (error: unknown) => {
      process.stderr.write(`[paints-undo] ${what} unavailable in worker: ${String(error)}\n`);
    },
  );
}

/** The start data the pool sends (worker-protocol.ts WorkerData), checked: a worker must start whatever it gets. */
function startData(): WorkerData {
  const data = workerData as Partial<Record<keyof WorkerData, unknown>> | null | undefined;
  const modules = data?.backendModules;
  const memory = data?.memory as Partial<Record<keyof NonNullable<WorkerData['memory']>, unknown>> | undefined;
  return {
    backendModules: Array.isArray(modules) ? modules.filter((m): m is string => typeof m === 'string') : [],
    ...(data?.warmUpFlag instanceof SharedArrayBuffer && data.warmUpFlag.byteLength >= 4 ? { warmUpFlag: data.warmUpFlag } : {}),
    ...(memory?.buffer instanceof SharedArrayBuffer && typeof memory.budgetBytes === 'number' && typeof memory.slot === 'number'
      ? { memory: { buffer: memory.buffer, budgetBytes: memory.budgetBytes, slot: memory.slot } }
      : {}),
  };
}

/** This worker's part of the engine's memory budget (core/memory.ts), when the pool gave it one. */
const memory = start.memory
  ? new MemoryLedger(start.memory.budgetBytes, start.memory.buffer).thread(start.memory.slot, () => send({ type: 'over-budget' }))
  : undefined;

const backends = new Map<string, Promise<Backend>>();
const controllers = new Map<string, AbortController>();

function backend(id: string): Promise<Backend> {
  let b = backends.get(id);
  if (!b) {
    b = createBackend(id, memory ? { memory: memory.share() } : {});
    backends.set(id, b);
    // A failed creation (e.g. models missing) must not stick: the user may install them and retry.
    b.catch(() => backends.delete(id));
  }
  return b;
}

/**
 * The default backend and sharp (which encodes every slider frame) are loaded while the worker is
 * otherwise idle after start-up: their modules take about 0.1 s each to load and compile, which would
 * otherwise land on the first interactive frame a client waits for. A failure is not reported here; the
 * first job that needs them reports it (and retries the load). Then, when the engine asks for it, the
 * default backend warms up (see warmUpDefault).
 */
void registered
  .then(() => backend(DEFAULT_BACKEND))
  .then(() => import('sharp'))
  .catch(() => undefined)
  .then(() => (start.warmUpFlag ? warmUpDefault(new Int32Array(start.warmUpFlag)) : undefined));

/**
 * Warms the default backend up (Backend.warmUp) as the engine's flag says (WARM_UP): while it is paused
 * (a short request waits for a worker) the warm-up stops and waits, then starts over (what V8 compiled
 * stays); once it is stopped (real work came) it ends. Work never waits behind it for more than a planning
 * step. Its garbage is collected right after, and the pool is told how it ended.
 */
async function warmUpDefault(flag: Int32Array): Promise<void> {
  const started = performance.now();
  // Paused reads as aborted too: the pass in progress ends, and the loop below waits.
  const signal = flaggedSignal(new AbortController(), flag, (value) => value !== WARM_UP.run);
  let outcome: 'done' | 'stopped' | 'failed' = 'stopped';
  let error: string | undefined;
  for (;;) {
    const state = Atomics.load(flag, 0);
    if (state === WARM_UP.stopped) break;
    if (state === WARM_UP.paused) {
      await new Promise((resolve) => setTimeout(resolve, WARM_UP_PAUSE_POLL_MS));
      continue;
    }
    try {
      await (await backend(DEFAULT_BACKEND)).warmUp?.(signal);
      outcome = 'done';
      break;
    } catch (e) {
      if (isPaintsUndoError(e) && e.code === 'CANCELLED') continue;
      outcome = 'failed';
      error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      break;
    }
  }
  collectWhenIdle();
  send({ type: 'warmed', outcome, ms: Math.round(performance.now() - started), ...(error === undefined ? {} : { error }) });
}

/** How often a paused warm-up looks whether it may go on. */
const WARM_UP_PAUSE_POLL_MS = 50;

/**
 * Released renderers are garbage, but an idle worker allocates nothing, so V8 would not collect them
 * (and return their memory) until its next job. A moment after a release, a worker that runs nothing
 * collects at once; one that runs a job leaves it to the job's own allocations. `gc` is there because
 * the pool exposes it to its workers (pool.ts).
 */
function collectWhenIdle(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) return;
  setTimeout(() => {
    if (controllers.size === 0) collect();
  }, IDLE_COLLECT_DELAY_MS).unref();
}

const IDLE_COLLECT_DELAY_MS = 500;

function send(message: WorkerToMain): void {
  port!.postMessage(message);
}

function wireError(error: unknown): WireError {
  if (isPaintsUndoError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.details ? { details: safeDetails(error.details) } : {}),
    };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: 'INTERNAL', message: 'The job failed with an unexpected internal error.', internal: message };
}

function safeDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** An AbortSignal that also reads the shared flag (see the module comment): aborted once `raised` says so of its value (a cancel flag: 1). */
function flaggedSignal(controller: AbortController, flag: Int32Array, raised: (value: number) => boolean = (value) => value === 1): AbortSignal {
  const signal = controller.signal;
  Object.defineProperty(signal, 'aborted', {
    configurable: true,
    get: () => controller.signal.reason !== undefined || raised(Atomics.load(flag, 0)),
  });
  return signal;
}

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.gif': 'image/gif',
  '.psd': 'image/vnd.adobe.photoshop',
  '.json': 'application/json',
};

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Output path for runJob inside the staging folder: the kind's file name for single-file results, else the folder. */
function outputFor(input: JobInput, staging: string): string {
  const name = jobKindOf(input).fileName(input);
  return name === undefined ? staging : join(staging, name);
}

/** Checksums of files this worker wrote from memory (slider frames), by path: no need to read them back. */
const knownHashes = new Map<string, string>();

async function listFiles(staging: string, input: JobInput): Promise<WorkerFile[]> {
  const names = (await readdir(staging)).filter((n) => !n.startsWith('.')).sort();
  const files: WorkerFile[] = [];
  for (const name of names) {
    const path = join(staging, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    const file: WorkerFile = {
      name: relative(staging, path),
      mime: MIME[extname(name).toLowerCase()] ?? 'application/octet-stream',
      bytes: info.size,
      sha256: knownHashes.get(path) ?? (await sha256(path)),
    };
    knownHashes.delete(path);
    const m = /^step-(\d{4})\.png$/.exec(name);
    if (m) file.step = Number(m[1]);
    if (input.kind === 'frame') file.step = input.step;
    files.push(file);
  }
  return files;
}

/** Progress previews at most every 250 ms per job, at most 128 px on the long side. */
async function encodePreview(image: RgbImage): Promise<{ width: number; height: number; data: string }> {
  const sharp = (await import('sharp')).default;
  const scale = Math.min(1, 128 / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .png({ compressionLevel: 3 })
    .toBuffer();
  return { width, height, data: png.toString('base64') };
}

/**
 * Slider frames are encoded for latency, which includes writing them into the cache and reading them
 * back: zlib level 1 without filtering. At 1024 px it takes 7-30 ms and gives 0.4-2.4 MB, where stored
 * (level 0) takes ~5 ms but always writes 3.1 MB (50 MB at 4096 px), and the disk, not the encoder,
 * then sets the pace: under 50 clients a stored frame's write took ~40 ms, a level-1 frame's ~6 ms. The
 * export default (level 6, adaptive) takes 130-170 ms. Same provenance chunks as every other PNG.
 */
async function writeSliderFrame(jobId: string, input: Extract<JobInput, { kind: 'frame' }>, path: string, env: JobEnvironment): Promise<void> {
  const { image, provenance } = await renderFrame(input, env);
  throwIfCancelled(env.signal);
  // Before the pool picks this worker's next job: it decides from which plans each worker holds.
  await syncPlans(planOf(input));
  // What is left runs in libvips and the file system, off this thread: the pool may send the next job.
  send({ type: 'computed', jobId });
  const sharp = (await import('sharp')).default;
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
  const bytes = addPngText(png, provenanceChunks(provenance));
  await writeFile(path, bytes).catch((error: unknown) => {
    throw asOutputError(path, error);
  });
  knownHashes.set(path, createHash('sha256').update(bytes).digest('hex'));
}

/**
 * Plans this worker's backends hold that the main thread knows of (they made them and shared them, or
 * received them), by planKey: each is sent to the main thread at most once while it is held here.
 */
const known = new Map<string, PlanName>();

/**
 * Keeps the main thread's view of this worker's plans true. The plan a job rendered from, if this worker
 * made it, is handed to the main thread, which gives it to the other workers with their jobs on the same
 * image: frames of one image then render on every worker, none of them planning again (the plan is mostly
 * shared memory: snapshots, the decoded image; the rest is copied once per worker). And plans the
 * backends' small caches dropped since are reported: the pool then sends the plan along with the next
 * job here that needs it, rather than this worker planning it again.
 */
async function syncPlans(used: PlanName): Promise<void> {
  const key = planKey(used);
  if (!known.has(key)) {
    const plan = (await backend(used.backend)).exportPlan?.(used.imageId, used.seed);
    if (plan) {
      known.set(key, used);
      send({ type: 'plan', plan });
    }
  }
  const dropped: string[] = [];
  for (const [k, name] of known) {
    if ((await backend(name.backend)).exportPlan?.(name.imageId, name.seed)) continue;
    known.delete(k);
    dropped.push(k);
  }
  if (dropped.length > 0) send({ type: 'plans-dropped', keys: dropped });
}

/** Drops plans the main thread no longer shares; they are no longer known to it either (no 'plans-dropped' follows). */
async function forgetPlans(plans: readonly PlanName[]): Promise<void> {
  for (const name of plans) {
    known.delete(planKey(name));
    (await backend(name.backend)).forgetPlan?.(name.imageId, name.seed);
  }
  collectWhenIdle();
}

/** A job's AbortSignal, registered so that the main thread's 'cancel' message reaches it. */
function jobSignal(jobId: string, cancelFlag: SharedArrayBuffer): AbortSignal {
  const controller = new AbortController();
  controllers.set(jobId, controller);
  return flaggedSignal(controller, new Int32Array(cancelFlag));
}

/** Plans an uploaded image before anyone asks for it (see the 'prepare' message); a job on it joins this planning. */
async function prepare(message: Extract<MainToWorker, { type: 'prepare' }>): Promise<void> {
  const signal = jobSignal(message.jobId, message.cancelFlag);
  try {
    const b = await backend(message.backend);
    await b.preparePlan?.(message.source, message.seed, { signal, onProgress: () => undefined });
    if (signal.aborted) throw new PaintsUndoError('CANCELLED', 'Cancelled.');
    await syncPlans({ backend: message.backend, imageId: message.source.id, seed: message.seed });
    send({ type: 'done', jobId: message.jobId, files: [] });
  } catch (error) {
    send({ type: 'failed', jobId: message.jobId, error: signal.aborted ? { code: 'CANCELLED', message: 'Cancelled.' } : wireError(error) });
  } finally {
    controllers.delete(message.jobId);
  }
}

async function run(message: Extract<MainToWorker, { type: 'run' }>): Promise<void> {
  const signal = jobSignal(message.jobId, message.cancelFlag);
  let lastPreview = 0;
  // The preview being encoded, if any: awaited before 'done' so that a preview never arrives after its job ended.
  let previewInFlight: Promise<void> | undefined;
  const onProgress = (p: Progress): void => {
    send({ type: 'progress', jobId: message.jobId, fraction: p.fraction, stage: p.stage, ...(p.message ? { message: p.message } : {}) });
    const now = Date.now();
    // A preview at fraction 1 shows the result itself, which follows at once: not worth encoding.
    if (p.preview && p.fraction < 1 && !previewInFlight && now - lastPreview > 250) {
      lastPreview = now;
      previewInFlight = encodePreview(p.preview)
        .then((preview) => send({ type: 'preview', jobId: message.jobId, ...preview }))
        .catch(() => undefined)
        .finally(() => {
          previewInFlight = undefined;
        });
    }
  };
  try {
    const sources = new Map<string, SourceImage>(message.sources.map((s) => [s.id, s]));
    const env = {
      resolveImage: (id: string): SourceImage => {
        const s = sources.get(id);
        if (!s) throw new PaintsUndoError('INPUT_NOT_FOUND', `Image ${id} was not handed to the worker.`);
        return s;
      },
      backend,
      signal,
      onProgress,
    };
    for (const plan of message.plans ?? []) {
      (await backend(plan.backend)).importPlan?.(plan);
      known.set(planKey(plan), { backend: plan.backend, imageId: plan.imageId, seed: plan.seed });
    }
    if (message.input.kind === 'frame') {
      await writeSliderFrame(message.jobId, message.input, outputFor(message.input, message.staging), env);
    } else {
      await runJob(message.input, outputFor(message.input, message.staging), env);
    }
    await previewInFlight;
    if (signal.aborted) throw new PaintsUndoError('CANCELLED', 'Cancelled.');
    await syncPlans(planOf(message.input));
    send({ type: 'done', jobId: message.jobId, files: await listFiles(message.staging, message.input) });
  } catch (error) {
    send({ type: 'failed', jobId: message.jobId, error: signal.aborted ? { code: 'CANCELLED', message: 'Cancelled.' } : wireError(error) });
  } finally {
    controllers.delete(message.jobId);
    knownHashes.delete(outputFor(message.input, message.staging));
  }
}

async function decode(message: Extract<MainToWorker, { type: 'decode' }>): Promise<void> {
  try {
    // Shared memory: the main thread and every worker read the same pixels without copies.
    const options = { limits: message.limits, name: message.name ?? 'the upload', allocate: (bytes: number) => new Uint8Array(new SharedArrayBuffer(bytes)) };
    // Raw pixels read ahead here were hashed as they arrived: only their last bytes are left to hash.
    const ahead = message.ahead === undefined ? undefined : takeHashedAhead(message.ahead);
    const decoded = message.pixels
      ? await decodeRawPixels(message.bytes, message.pixels, { ...options, name: 'the uploaded image', ...(ahead ? { hashedAhead: ahead.id } : {}) })
      : await decodeImageBuffer(message.bytes, options);
    const source = decoded.source;
    send({ type: 'decoded', reqId: message.reqId, source, format: decoded.format, notices: [...decoded.notices], ...(ahead ? { sha256: ahead.sha256 } : {}) });
  } catch (error) {
    send({ type: 'decoded', reqId: message.reqId, error: wireError(error) });
  }
}

async function describe(message: Extract<MainToWorker, { type: 'describe' }>): Promise<void> {
  try {
    const b = await backend(message.backend);
    send({
      type: 'described',
      reqId: message.reqId,
      info: { id: b.id, displayName: b.displayName, version: b.version, capabilities: { ...b.capabilities } },
    });
  } catch (error) {
    send({ type: 'described', reqId: message.reqId, error: wireError(error) });
  }
}

port.on('message', (message: MainToWorker) => {
  if (message.type === 'cancel' || message.type === 'release' || message.type === 'read-ahead' || message.type === 'dispose') {
    handle(message);
  } else {
    void registered.then(() => handle(message));
  }
});

function handle(message: MainToWorker): void {
  switch (message.type) {
    case 'run':
      void run(message);
      break;
    case 'prepare':
      void prepare(message);
      break;
    case 'cancel':
      controllers.get(message.jobId)?.abort(new PaintsUndoError('CANCELLED', 'Cancelled.'));
      break;
    case 'forget-plans':
      void forgetPlans(message.plans);
      break;
    case 'release':
      if (memory && memory.release(message.bytes) > 0) collectWhenIdle();
      send({ type: 'released', requested: message.bytes });
      break;
    case 'decode':
      void decode(message);
      break;
    case 'describe':
      void describe(message);
      break;
    case 'read-ahead':
      readAhead(message);
      break;
    case 'dispose':
      void Promise.all([...backends.values()].map((b) => b.then((x) => x.dispose()).catch(() => undefined))).then(() =>
        send({ type: 'disposed' }),
      );
      break;
  }
}
