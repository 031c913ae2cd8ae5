/**
 * The panel's DOM: renders PanelState and forwards user input to the controller. Nothing else.
 *
 * Inside Photoshop it uses Spectrum UXP widgets, elsewhere (Chromium tests) plain HTML controls, from the
 * same factory (widgets.ts), so the view runs unchanged.
 * Rendering is idempotent and keeps focus: elements are created once and only their properties change.
 * UXP lacks `dataset`, `float`, canvas and some CSS: attributes are set with setAttribute, layout is flex.
 */
import { deviceLongSide } from '../../../engine/src/client/index.js';
import { DEFAULT_KEYFRAME_STEPS, MAX_STEP } from '../../../engine/src/core/steps.js';
import type { SourceKind } from '../host/types.js';
import { OUTPUT_SIZES, type PanelController, type PanelState, type TimelapseSettings } from './controller.js';
import { Widgets, labelled, numberOf, setDisabled, setOptions } from './widgets.js';

export interface ViewOptions {
  /** Use Spectrum UXP widgets (true inside Photoshop). */
  readonly spectrum: boolean;
}

const SOURCES: readonly { kind: SourceKind; label: string }[] = [
  { kind: 'document', label: 'Canvas' },
  { kind: 'layer', label: 'Active layer' },
  { kind: 'selection', label: 'Selection' },
];

const MODE_NOTES: Readonly<Record<string, string>> = {
  cmyk: 'CMYK is read as sRGB for the engine; frames can only be imported into an RGB copy.',
  lab: 'Lab is read as sRGB for the engine; frames can only be imported into an RGB copy.',
  grayscale: 'Greyscale is read as RGB; frames can only be imported into an RGB copy.',
  indexed: 'Indexed colour is read as RGB; convert to RGB (Image > Mode) to import frames.',
  bitmap: 'Bitmap mode cannot be read; convert to Greyscale then RGB (Image > Mode).',
  duotone: 'Duotone is read as RGB; frames can only be imported into an RGB copy.',
  multichannel: 'Multichannel is read as RGB; frames can only be imported into an RGB copy.',
};

export class PanelView {
  private readonly c: PanelController;
  private readonly w: Widgets;
  private readonly root: HTMLElement;
  private readonly ui: ReturnType<PanelView['build']>;
  private stepEditing = false;

  constructor(root: HTMLElement, controller: PanelController, options: ViewOptions) {
    this.root = root;
    this.c = controller;
    this.w = new Widgets(options.spectrum);
    this.ui = this.build();
    controller.subscribe((s) => this.render(s));
  }

  private build() {
    const { w } = this;
    const root = this.root;
    root.classList.add('pu-panel');
    root.textContent = '';

    // Connection
    const conn = w.el('section', 'conn');
    const connRow = w.el('div', 'row conn-row');
    const dot = w.el('span', 'dot');
    const connLabel = w.el('span', 'conn-label');
    connLabel.setAttribute('data-testid', 'conn-label');
    const version = w.el('span', 'muted version');
    connRow.append(dot, connLabel, version);
    const connFix = w.el('p', 'fix');
    connFix.setAttribute('data-testid', 'conn-fix');
    const pairRow = w.el('div', 'row pair');
    const tokenField = w.textfield('password', 'token', 'Pairing token');
    tokenField.setAttribute('placeholder', 'Paste the engine token');
    const pairButton = w.button('Pair', 'primary', 'pair');
    pairRow.append(tokenField, pairButton);
    conn.append(connRow, connFix, pairRow);

    // Source
    const src = w.el('section', 'source');
    const srcRow = w.el('div', 'row seg');
    srcRow.setAttribute('role', 'radiogroup');
    const srcButtons = new Map<SourceKind, HTMLElement>();
    for (const s of SOURCES) {
      const b = w.el('button', 'seg-btn', s.label);
      b.setAttribute('data-testid', `source-${s.kind}`);
      b.setAttribute('role', 'radio');
      b.addEventListener('click', () => this.c.setSource(s.kind));
      srcButtons.set(s.kind, b);
      srcRow.append(b);
    }
    const refresh = w.el('button', 'icon-btn', '↻');
    refresh.title = 'Read the document again';
    refresh.setAttribute('data-testid', 'refresh');
    refresh.addEventListener('click', () => void this.c.refreshDocument());
    srcRow.append(refresh);
    const docLine = w.el('p', 'muted doc');
    docLine.setAttribute('data-testid', 'doc');
    const modeNote = w.el('p', 'note');
    const engineNote = w.el('p', 'note');
    engineNote.setAttribute('data-testid', 'source-notice');
    src.append(srcRow, docLine, modeNote, engineNote);

    // Preview + step
    const pv = w.el('section', 'preview');
    const frame = w.el('div', 'frame');
    const img = w.el('img', 'frame-img');
    img.alt = 'Undo frame preview';
    img.setAttribute('data-testid', 'preview');
    const badge = w.el('span', 'badge');
    badge.setAttribute('data-testid', 'preview-step');
    const spinner = w.el('span', 'spinner', '…');
    frame.append(img, badge, spinner);
    const stepRow = w.el('div', 'row step');
    const stepLabel = w.el('label', 'label', 'Step');
    const slider = w.slider(0, MAX_STEP, 'slider', 'Operation step (0 = finished, 999 = blank)');
    const stepField = w.textfield('number', 'step', 'Step number');
    stepField.setAttribute('min', '0');
    stepField.setAttribute('max', String(MAX_STEP));
    stepRow.append(stepLabel, slider, stepField);
    const presets = w.el('div', 'row presets');
    for (const s of DEFAULT_KEYFRAME_STEPS) {
      const b = w.el('button', 'chip', String(s));
      b.setAttribute('data-testid', `preset-${s}`);
      b.addEventListener('click', () => this.c.setStep(s));
      presets.append(b);
    }
    const hint = w.el('p', 'muted hint', '0 = your finished piece · 999 = blank canvas · ←/→ ±1, Shift ±10, PgUp/PgDn ±100');
    pv.append(frame, stepRow, presets, hint);

    // Backend and seed
    const opts = w.el('section', 'opts');
    const backendRow = w.el('div', 'row');
    const backend = w.select([], 'backend', 'Backend');
    backendRow.append(w.el('label', 'label', 'Backend'), backend);
    const seedRow = w.el('div', 'row');
    const seed = w.textfield('number', 'seed', 'Seed');
    const variation = w.button('New variation', 'secondary', 'variation');
    seedRow.append(w.el('label', 'label', 'Seed'), seed, variation);
    const outRow = w.el('div', 'row');
    const outSize = w.select(
      [...OUTPUT_SIZES.map((s) => ({ value: String(s), label: `${s} px` })), { value: '0', label: 'Full resolution' }],
      'output-size',
      'Output size for imports',
    );
    outRow.append(w.el('label', 'label', 'Output'), outSize);
    opts.append(backendRow, seedRow, outRow);

    // Actions
    const act = w.el('section', 'actions');
    const addStep = w.button('Add this step as a layer', 'cta', 'add-step');
    const keyframes = w.button('Import keyframes as layers', 'primary', 'import-keyframes');
    const processLayers = w.button('Import process layers', 'primary', 'import-layers');
    act.append(addStep, keyframes, processLayers);

    // Timelapse
    const tl = w.el('section', 'timelapse');
    tl.append(w.el('h3', 'heading', 'Timelapse'));
    const tlRow = w.el('div', 'row wrap');
    const format = w.select(
      [
        { value: 'mp4', label: 'MP4' },
        { value: 'webm', label: 'WebM' },
        { value: 'gif', label: 'GIF' },
      ],
      'tl-format',
      'Video format',
    );
    const frames = w.textfield('number', 'tl-frames', 'Frames');
    const fps = w.textfield('number', 'tl-fps', 'Frames per second');
    const size = w.select(
      [
        { value: '', label: 'Auto size' },
        { value: '720', label: '720 px' },
        { value: '1080', label: '1080 px' },
        { value: '1920', label: '1920 px' },
      ],
      'tl-size',
      'Video size',
    );
    tlRow.append(format, labelled(w, 'Frames', frames), labelled(w, 'FPS', fps), size);
    const exportBtn = w.button('Export timelapse…', 'primary', 'export');
    const historyBtn = w.button('Timelapse from History…', 'secondary', 'export-history');
    historyBtn.title = 'Encodes the history states Photoshop still has (your real process) in the format chosen above, labelled as recorded.';
    const leadLabel = w.el('label', 'inline check');
    const lead = w.el('input');
    lead.type = 'checkbox';
    lead.setAttribute('data-testid', 'history-lead');
    leadLabel.append(lead, w.el('span', 'muted', 'Start from a blank canvas (generated lead-in)'));
    tl.append(tlRow, exportBtn, historyBtn, leadLabel);

    // Progress and messages
    const busy = w.el('section', 'busy');
    busy.setAttribute('data-testid', 'busy');
    const busyLabel = w.el('p', 'busy-label');
    const bar = w.progress('progress');
    const cancel = w.button('Cancel', 'secondary', 'cancel');
    busy.append(busyLabel, bar, cancel);
    const message = w.el('p', 'message');
    message.setAttribute('data-testid', 'message');
    message.setAttribute('role', 'status');

    root.append(conn, src, pv, opts, act, tl, busy, message);

    // Input wiring
    pairButton.addEventListener('click', () => void this.c.pair(String(tokenField.value)));
    slider.addEventListener('input', () => this.c.setStep(numberOf(slider)));
    slider.addEventListener('keydown', (e) => this.onStepKey(e as KeyboardEvent));
    stepField.addEventListener('focus', () => (this.stepEditing = true));
    stepField.addEventListener('blur', () => {
      this.stepEditing = false;
      this.render(this.c.state);
    });
    stepField.addEventListener('change', () => this.c.setStep(numberOf(stepField)));
    stepField.addEventListener('keydown', (e) => this.onStepKey(e as KeyboardEvent));
    backend.addEventListener('change', () => this.c.setBackend(backend.value));
    seed.addEventListener('change', () => this.c.setSeed(numberOf(seed)));
    variation.addEventListener('click', () => this.c.newVariation());
    outSize.addEventListener('change', () => this.c.setOutputSize(Number(outSize.value)));
    addStep.addEventListener('click', () => void this.c.addStepAsLayer());
    keyframes.addEventListener('click', () => void this.c.importKeyframes());
    processLayers.addEventListener('click', () => void this.c.importProcessLayers());
    exportBtn.addEventListener('click', () => void this.c.exportTimelapse());
    historyBtn.addEventListener('click', () => void this.c.exportHistoryTimelapse());
    lead.addEventListener('change', () => this.c.setHistoryLead(lead.checked));
    cancel.addEventListener('click', () => this.c.cancel());
    const tlChange = (): void => {
      const patch: Partial<TimelapseSettings> = {
        format: format.value as TimelapseSettings['format'],
        frames: clampInt(numberOf(frames), 2, 3000, this.c.state.timelapse.frames),
        fps: clampInt(numberOf(fps), 1, 60, this.c.state.timelapse.fps),
        size: size.value ? Number(size.value) : undefined,
      };
      this.c.setTimelapse(patch);
    };
    for (const e of [format, frames, fps, size]) e.addEventListener('change', tlChange);

    return {
      dot, connLabel, version, connFix, pairRow, tokenField, srcButtons, docLine, modeNote, engineNote, img, badge, spinner, frame,
      slider, stepField, backend, seed, outSize, addStep, keyframes, processLayers, exportBtn, historyBtn, lead, format, frames, fps, size,
      busy, busyLabel, bar, message,
    };
  }

  /**
   * The long side, in device pixels, the preview area shows frames at: the slider asks the engine for
   * frames of this size. 0 while the panel is not laid out (the controller then uses its default).
   */
  previewDisplaySize(): number {
    return deviceLongSide(this.ui.frame);
  }

  private onStepKey(e: KeyboardEvent): void {
    const big = e.shiftKey ? 10 : 1;
    const deltas: Record<string, number> = { ArrowLeft: -big, ArrowDown: -big, ArrowRight: big, ArrowUp: big, PageDown: -100, PageUp: 100 };
    const d = deltas[e.key];
    if (d !== undefined) {
      e.preventDefault();
      this.c.nudge(d);
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      this.c.setStep(e.key === 'Home' ? 0 : MAX_STEP);
    }
  }

  render(s: Readonly<PanelState>): void {
    const u = this.ui;
    const view = s.connectionView;
    this.root.setAttribute('data-connection', s.connection);
    u.dot.className = `dot tone-${view.tone}`;
    u.connLabel.textContent = view.label;
    u.version.textContent = s.engineVersion && s.connection === 'connected' ? `engine ${s.engineVersion}` : '';
    u.connFix.textContent = view.fix;
    u.connFix.hidden = view.fix === '';
    u.pairRow.hidden = !(s.connection === 'unpaired' || s.connection === 'unauthorized');

    for (const [kind, b] of u.srcButtons) {
      const on = kind === s.source;
      b.classList.toggle('on', on);
      b.setAttribute('aria-checked', String(on));
    }
    const d = s.document;
    u.docLine.textContent = d ? `${d.title} · ${d.width}×${d.height} · ${d.mode.toUpperCase()} ${d.bitsPerChannel}-bit` : 'No document open';
    const note = d ? (MODE_NOTES[d.mode] ?? (d.bitsPerChannel === 32 ? '32-bit is read as 8-bit sRGB; import into a 16- or 8-bit copy.' : '')) : '';
    u.modeNote.textContent = note;
    u.modeNote.hidden = note === '';
    u.engineNote.textContent = s.sourceNotice ?? '';
    u.engineNote.hidden = s.sourceNotice === undefined;

    if (s.preview) {
      if (u.img.getAttribute('src') !== s.preview.url) u.img.setAttribute('src', s.preview.url);
      u.badge.textContent = `Step ${s.preview.step}${s.preview.cached ? ' · cached' : ''}`;
    } else {
      u.img.removeAttribute('src');
      u.badge.textContent = s.connection === 'connected' ? (d ? '' : 'Open a document') : 'No engine';
    }
    u.frame.classList.toggle('empty', !s.preview);
    u.spinner.hidden = !s.previewPending;

    if (numberOf(u.slider) !== s.step) u.slider.value = s.step;
    if (!this.stepEditing && numberOf(u.stepField) !== s.step) u.stepField.value = String(s.step);

    setOptions(u.backend, s.backends.map((b) => ({ value: b.id, label: b.name })));
    u.backend.value = s.backend;
    if (numberOf(u.seed) !== s.seed) u.seed.value = String(s.seed);
    u.outSize.value = String(s.outputSize);
    u.format.value = s.timelapse.format;
    if (numberOf(u.frames) !== s.timelapse.frames) u.frames.value = String(s.timelapse.frames);
    if (numberOf(u.fps) !== s.timelapse.fps) u.fps.value = String(s.timelapse.fps);
    u.size.value = s.timelapse.size ? String(s.timelapse.size) : '';

    const ready = s.connection === 'connected' && d !== undefined && s.busy === undefined;
    const backend = s.backends.find((b) => b.id === s.backend);
    setDisabled(u.addStep, !ready);
    setDisabled(u.keyframes, !ready);
    setDisabled(u.processLayers, !ready || backend?.layers === false);
    setDisabled(u.exportBtn, !ready || backend?.timelapse === false);
    // Not disabled on the history count: Photoshop sends no event per brush stroke, the action checks.
    setDisabled(u.historyBtn, !ready);
    u.lead.checked = s.historyLead;

    u.busy.hidden = s.busy === undefined;
    if (s.busy) {
      u.busyLabel.textContent = s.busy.detail ? `${s.busy.label} — ${s.busy.detail}` : s.busy.label;
      if (s.busy.fraction === undefined) u.bar.removeAttribute('value');
      else u.bar.value = Math.round(s.busy.fraction * 100);
    }
    u.message.textContent = s.message?.text ?? '';
    u.message.className = `message tone-${s.message?.tone ?? 'info'}`;
    u.message.hidden = s.message === undefined;
  }
}

function clampInt(v: number, min: number, max: number, fallback: number): number {
  return Number.isFinite(v) ? Math.max(min, Math.min(max, Math.round(v))) : fallback;
}
