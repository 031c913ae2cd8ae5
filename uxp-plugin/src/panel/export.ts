/**
 * Export of a generated timelapse (MP4, WebM or GIF) to a file the user picks, asked for before any work.
 */
import type { Job } from '../../../engine/src/client/index.js';
import type { SaveTarget } from '../host/types.js';
import { documentBaseName } from '../model/import-plan.js';
import type { ActionRunner } from './actions.js';
import type { PanelContext } from './context.js';
import type { SourcePart } from './source.js';
import type { TimelapseSettings } from './state.js';

/** Downloads the video a job made into the file the user chose; returns its size in bytes. */
export async function saveVideo(actions: ActionRunner, ctx: PanelContext, job: Job, target: SaveTarget): Promise<number> {
  const file = actions.firstFile(job, 'The engine finished without a video file; retry.');
  actions.progress('Saving', undefined);
  const bytes = await ctx.client.download(file);
  await target.write(bytes);
  return bytes.length;
}

export class ExportPart {
  constructor(
    private readonly ctx: PanelContext,
    private readonly source: SourcePart,
    private readonly actions: ActionRunner,
  ) {}

  setTimelapse(settings: Partial<TimelapseSettings>): void {
    this.ctx.store.update({ timelapse: { ...this.ctx.state.timelapse, ...settings } });
  }

  async exportTimelapse(): Promise<void> {
    const { ctx, actions } = this;
    const t = ctx.state.timelapse;
    const name = `${documentBaseName(ctx.state.document?.title ?? 'artwork')}-process.${t.format}`;
    const target = await actions.chooseSaveFile(name, [t.format]);
    if (!target) return;
    await actions.run(`Rendering the ${t.format.toUpperCase()} timelapse`, async (signal) => {
      const upload = await this.source.upload(signal);
      const job = await actions.runJob(
        'timelapse',
        {
          image: upload.image,
          backend: ctx.state.backend,
          seed: ctx.state.seed,
          format: t.format,
          frames: t.frames,
          fps: t.fps,
          ...(t.size ? { size: t.size } : {}),
          label: t.label,
        },
        signal,
      );
      const size = await saveVideo(actions, ctx, job, target);
      return `Saved ${target.name} (${Math.round(size / 1024)} KB), labelled as a generated reconstruction.`;
    });
  }
}
