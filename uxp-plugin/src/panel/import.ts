/**
 * Imports into the document: one step as a layer, keyframes as a group of Step layers, or the process
 * layers; each in one history state, nothing half-imported after a cancel or an error.
 */
import { EngineError, LAYERS_COMPOSITE_FILE, LAYERS_MANIFEST_FILE, parseLayersManifest, type ResultFile } from '../../../engine/src/client/index.js';
import { MAX_STEP } from '../../../engine/src/core/steps.js';
import { HostError } from '../host/types.js';
import { importRefusal, keyframesPlan, processLayersPlan, singleStepPlan, type ProcessLayer, type StepFrame } from '../model/import-plan.js';
import type { ActionRunner } from './actions.js';
import type { PanelContext } from './context.js';
import type { SourcePart, Upload } from './source.js';

export class ImportPart {
  constructor(
    private readonly ctx: PanelContext,
    private readonly source: SourcePart,
    private readonly actions: ActionRunner,
  ) {}

  /** The upload an import works on, once the document is known to take the imported layers: a CMYK document is refused before anything is read or rendered. */
  private async uploadForImport(signal: AbortSignal): Promise<Upload> {
    const doc = await this.ctx.host.activeDocument();
    const refusal = doc && importRefusal(doc.mode, doc.bitsPerChannel);
    if (refusal) throw new HostError('UNSUPPORTED_MODE', refusal);
    return this.source.upload(signal);
  }

  setKeyframeSteps(steps: number[]): void {
    const clean = [...new Set(steps.filter((s) => Number.isInteger(s) && s >= 0 && s <= MAX_STEP))].sort((a, b) => a - b);
    if (clean.length > 0) this.ctx.store.update({ keyframeSteps: clean });
  }

  async addStepAsLayer(): Promise<void> {
    const { ctx, actions } = this;
    const step = ctx.state.step;
    await actions.run(`Adding step ${step} as a layer`, async (signal) => {
      const upload = await this.uploadForImport(signal);
      const job = await actions.runJob('frame', { image: upload.image, step, backend: ctx.state.backend, seed: ctx.state.seed }, signal);
      const file = actions.firstFile(job, 'The engine finished without a frame file; retry, and report it with the engine log if it persists.');
      const pixels = await actions.downloadPixels(file, signal);
      actions.progress('Writing the layer', undefined);
      await ctx.host.importLayers(singleStepPlan(upload.region, { step, pixels }), signal);
      return `Added “Step ${step}” above ${upload.region.source === 'layer' ? 'its layer' : 'the layers'}.`;
    });
  }

  async importKeyframes(): Promise<void> {
    const { ctx, actions } = this;
    const steps = ctx.state.keyframeSteps;
    await actions.run(`Importing ${steps.length} keyframes`, async (signal) => {
      const upload = await this.uploadForImport(signal);
      const job = await actions.runJob('keyframes', { image: upload.image, steps, backend: ctx.state.backend, seed: ctx.state.seed }, signal);
      const frames: StepFrame[] = [];
      const files = job.result?.files ?? [];
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        if (!file) continue;
        actions.progress(`Downloading frame ${i + 1} of ${files.length}`, (i + 1) / files.length);
        const step = file.step ?? stepFromName(file.name);
        if (step === undefined) continue;
        frames.push({ step, pixels: await actions.downloadPixels(file, signal) });
      }
      if (frames.length !== steps.length) {
        throw new EngineError('INTERNAL', `The engine returned ${frames.length} of ${steps.length} keyframes; nothing was imported. Retry.`);
      }
      actions.progress('Writing layers', 0);
      const plan = keyframesPlan(upload.region, frames);
      await ctx.host.importLayers(plan, signal, (p) => actions.progress('Writing layers', p.fraction));
      return `Imported ${frames.length} keyframes into “${plan.groupName ?? ''}” (one Ctrl+Z undoes it).`;
    });
  }

  async importProcessLayers(): Promise<void> {
    const { ctx, actions } = this;
    await actions.run('Importing process layers', async (signal) => {
      const backend = ctx.state.backends.find((b) => b.id === ctx.state.backend);
      if (backend && !backend.layers) {
        throw new EngineError('UNSUPPORTED', `The ${backend.name} backend cannot split an image into process layers; choose Classic.`);
      }
      const upload = await this.uploadForImport(signal);
      const job = await actions.runJob('layers', { image: upload.image, backend: ctx.state.backend, seed: ctx.state.seed, format: 'png' }, signal);
      const layers: ProcessLayer[] = [];
      const entries = await layerEntries(job.result?.files ?? [], async (file) => new TextDecoder().decode(await actions.download(file, signal)));
      for (const entry of entries) {
        layers.push({ name: entry.name, blend: entry.blend, visible: entry.visible, pixels: await actions.downloadPixels(entry.file, signal) });
      }
      // The engine lists layers bottom-up (paint order); the plan wants the top first.
      layers.reverse();
      await ctx.host.importLayers(processLayersPlan(upload.region, layers), signal, (p) => actions.progress('Writing layers', p.fraction));
      return `Imported ${layers.length} process layers.`;
    });
  }
}

/**
 * The layer files of a layers job, bottom first, with how each stacks: from the job's manifest
 * (layers.json). An engine from before manifests lists only the PNGs ("01-sketch.png"…, in paint
 * order, and the composite, which is no layer): their names then come from the file names, and each
 * is a visible normal layer.
 */
export async function layerEntries(
  files: readonly ResultFile[],
  readManifest: (file: ResultFile) => Promise<string>,
): Promise<{ file: ResultFile; name: string; blend: ProcessLayer['blend']; visible: boolean }[]> {
  const manifestFile = files.find((f) => f.name === LAYERS_MANIFEST_FILE);
  if (!manifestFile) {
    return files
      .filter((f) => f.mime === 'image/png' && f.name !== LAYERS_COMPOSITE_FILE)
      .map((file) => ({ file, name: layerNameFromFile(file.name), blend: 'normal' as const, visible: true }));
  }
  const parsed = parseLayersManifest(await readManifest(manifestFile));
  if ('error' in parsed) throw new EngineError('INTERNAL', `The engine sent a broken layer list (${parsed.error}); retry, and report it with the engine log if it persists.`);
  return parsed.manifest.layers.map((layer) => {
    const file = files.find((f) => f.name === layer.file);
    if (!file) throw new EngineError('INTERNAL', `The engine's layer list names ${layer.file}, which its result does not have; retry, and report it with the engine log if it persists.`);
    return { file, name: layer.name, blend: layer.blend, visible: layer.visible };
  });
}

function stepFromName(name: string): number | undefined {
  const m = /step-(\d+)/.exec(name);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** "02-line-art.png" → "Line art". */
export function layerNameFromFile(name: string): string {
  const base = name.replace(/\.[a-z0-9]+$/i, '').replace(/^\d+[-_ ]*/, '').replace(/[-_]+/g, ' ').trim();
  return base ? base.charAt(0).toUpperCase() + base.slice(1) : name;
}
