/**
 * Timelapse from History: the document's own history states (a real, recorded process) encoded by the
 * engine (`video.encode`) as MP4, WebM or GIF with the timelapse settings, optionally led in by frames
 * generated from a blank canvas to the first recorded state. The engine writes into the file which
 * frames are recorded and which are generated.
 */
import { HostError } from '../host/types.js';
import { pickHistoryStates, recordedSequence } from '../model/history.js';
import { documentBaseName } from '../model/import-plan.js';
import { encodePng } from '../model/pixels.js';
import type { ActionRunner } from './actions.js';
import type { PanelContext } from './context.js';
import { saveVideo } from './export.js';

/** History timelapses: how many states at most (the engine takes 600), their default long side, and an fps cap. */
export const HISTORY_MAX_FRAMES = 300;
export const HISTORY_SIZE = 720;
export const HISTORY_MAX_FPS = 30;
/** Generated lead-in frames: blank canvas to the first recorded state. */
export const HISTORY_LEAD_FRAMES = 10;

export class HistoryPart {
  constructor(
    private readonly ctx: PanelContext,
    private readonly actions: ActionRunner,
  ) {}

  setHistoryLead(on: boolean): void {
    this.ctx.store.update({ historyLead: on });
  }

  async exportHistoryTimelapse(): Promise<void> {
    const { ctx, actions } = this;
    const { store, host, client } = ctx;
    const doc = await host.activeDocument();
    if (!doc) {
      store.fail(new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.'));
      return;
    }
    const info = client.info;
    if (ctx.state.connection === 'connected' && !info?.methods?.includes('video.encode')) {
      // Engines before video.encode send no method list; the panel no longer encodes videos itself.
      store.update({ message: { tone: 'error', text: `This engine (${info?.version ?? 'unknown version'}) cannot encode history timelapses. Update the engine to the panel's release (git pull && npm ci), restart it, and try again.` } });
      return;
    }
    const ids = pickHistoryStates(doc.history, doc.activeHistoryId, HISTORY_MAX_FRAMES);
    if (ids.length < 2) {
      store.update({ message: { tone: 'error', text: 'This document has fewer than two history states to play. Paint a little (or raise Preferences > Performance > History States) and try again.' } });
      return;
    }
    const t = ctx.state.timelapse;
    const target = await actions.chooseSaveFile(`${documentBaseName(doc.title)}-history.${t.format}`, [t.format]);
    if (!target) return;
    const lead = ctx.state.historyLead;
    await actions.run(`Timelapse from History (${t.format.toUpperCase()})`, async (signal) => {
      actions.progress('Reading history states', 0);
      // The engine caps the total pixels of one encode; reading at most sqrt(cap / states) px on the long
      // side keeps any aspect ratio under it. The video's `size` still scales the result.
      const cap = info?.limits.maxEncodePixels;
      const wanted = t.size ?? HISTORY_SIZE;
      const readSize = cap ? Math.max(16, Math.min(wanted, Math.floor(Math.sqrt(cap / ids.length)))) : wanted;
      const states = await host.readHistory(doc.id, ids, readSize, signal, (p) => actions.progress('Reading history states', p.fraction));
      const recorded = recordedSequence(states);
      if (recorded.frames.length === 0) throw new HostError('EMPTY_SOURCE', 'The history states have no pixels to play.');
      // Repeated uploads of an unchanged state are free: the engine answers `reused` by content id.
      const images: string[] = [];
      for (const [i, frame] of recorded.frames.entries()) {
        if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was saved.');
        actions.progress(`Uploading history state ${i + 1} of ${recorded.frames.length}`, (i + 1) / recorded.frames.length);
        images.push((await client.putImage(encodePng(frame))).image);
      }
      const leadIn = lead ? HISTORY_LEAD_FRAMES : 0;
      const job = await actions.runJob(
        'video.encode',
        {
          images,
          provenance: 'recorded',
          from: 'Photoshop history states',
          leadIn,
          backend: ctx.state.backend,
          seed: ctx.state.seed,
          format: t.format,
          // History states are coarse steps: more than HISTORY_MAX_FPS of them a second is a blur.
          fps: Math.min(t.fps, HISTORY_MAX_FPS),
          ...(t.size ? { size: t.size } : {}),
          hold: 1.5,
          label: t.label,
        },
        signal,
      );
      await saveVideo(actions, ctx, job, target);
      const dropped = recorded.dropped > 0 ? ` (${recorded.dropped} history state${recorded.dropped === 1 ? '' : 's'} without visible change skipped)` : '';
      return `Saved ${target.name}: ${recorded.frames.length} recorded frames${leadIn ? ` after ${leadIn} generated ones` : ''}${dropped}, labelled as recorded.`;
    });
  }
}
