/**
 * The timeline editor's controls, built once into the page's #app: the preview, the step slider and
 * presets, backend and seed, the export row, progress, status and the engine line. Element ids are what
 * the tests (tests/extension/webview-ui.test.ts) and the stylesheet address.
 */
import { KEYFRAME_PRESETS, MAX_STEP } from '../core/messages.js';

/** document.createElement with properties, data attributes and children in one call. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  if (dataset) for (const [k, v] of Object.entries(dataset)) node.dataset[k] = v;
  for (const c of children) node.append(c);
  return node;
}

/** Builds the layout into #app (or the body) and returns its controls. */
export function buildLayout() {
  const app = document.getElementById('app') ?? document.body;
  const title = el('h1', { id: 'title', textContent: app.dataset.title ?? 'PaintsUndo Timeline' });
  const engineLine = el('div', { id: 'engine', className: 'engine', role: 'status' });
  const notice = el('div', { id: 'notice', className: 'notice', hidden: true });
  const errorBox = el('div', { id: 'error', className: 'error', role: 'alert', hidden: true });
  const errorText = el('div', { className: 'error-text' });
  const errorHint = el('div', { className: 'error-hint' });
  const restartButton = el('button', { id: 'restart', textContent: 'Restart engine', className: 'secondary' });
  errorBox.append(errorText, errorHint, restartButton);

  const preview = el('img', { id: 'preview', alt: 'Undo frame' });
  const stage = el('div', { className: 'stage' }, [preview]);
  const busy = el('div', { id: 'busy', className: 'busy', hidden: true, textContent: 'rendering…' });
  stage.append(busy);

  const slider = el('input', { id: 'step', type: 'range', min: '0', max: String(MAX_STEP), step: '1', value: '0' });
  slider.setAttribute('aria-label', 'Undo step (0 = finished artwork, 999 = blank canvas)');
  const stepNumber = el('input', { id: 'step-number', type: 'number', min: '0', max: String(MAX_STEP), step: '1', value: '0' });
  stepNumber.setAttribute('aria-label', 'Undo step');
  const playButton = el('button', { id: 'play', textContent: '▶ Play', title: 'Play the drawing process (blank to finished)' });
  const sliderRow = el('div', { className: 'row slider-row' }, [playButton, el('span', { className: 'end', textContent: 'finished' }), slider, el('span', { className: 'end', textContent: 'blank' }), stepNumber]);

  const presets = el('div', { className: 'row presets' }, [el('span', { className: 'label', textContent: 'Steps:' })]);
  for (const s of [0, ...KEYFRAME_PRESETS]) {
    presets.append(el('button', { className: 'preset secondary', textContent: String(s), dataset: { step: String(s) }, title: s === 0 ? 'The finished artwork' : s === MAX_STEP ? 'The blank canvas' : `Undo step ${s}` }));
  }

  const backendSelect = el('select', { id: 'backend' });
  backendSelect.setAttribute('aria-label', 'Backend');
  const seedInput = el('input', { id: 'seed', type: 'number', min: '0', max: String(0xffffffff), step: '1' });
  seedInput.setAttribute('aria-label', 'Seed');
  const newSeedButton = el('button', { id: 'new-seed', textContent: 'New variation', className: 'secondary', title: 'Pick another seed: a different, equally plausible drawing order' });
  const optionsRow = el('div', { className: 'row' }, [el('label', {}, ['Backend ', backendSelect]), el('label', {}, ['Seed ', seedInput]), newSeedButton]);

  const formatSelect = el('select', { id: 'format' }, [el('option', { value: 'mp4', textContent: 'MP4' }), el('option', { value: 'webm', textContent: 'WebM' }), el('option', { value: 'gif', textContent: 'GIF' })]);
  const framesInput = el('input', { id: 'frames', type: 'number', min: '2', max: '3000', step: '1' });
  const fpsInput = el('input', { id: 'fps', type: 'number', min: '1', max: '60', step: '1' });
  const sizeInput = el('input', { id: 'size', type: 'number', min: '0', max: '4096', step: '2', title: 'Long side in pixels; 0 = the image size' });
  const labelInput = el('input', { id: 'label', type: 'checkbox', title: 'Burn a "generated reconstruction" caption into the video' });
  const exportTimelapse = el('button', { id: 'export-timelapse', textContent: 'Export timelapse…' });
  const exportKeyframes = el('button', { id: 'export-keyframes', textContent: 'Export keyframes…', className: 'secondary', title: `PNG frames at steps ${KEYFRAME_PRESETS.join(', ')}` });
  const exportLayers = el('button', { id: 'export-layers', textContent: 'Export layers (PSD)…', className: 'secondary' });
  const exportRow = el('div', { className: 'row export' }, [
    el('label', {}, ['Format ', formatSelect]),
    el('label', {}, ['Frames ', framesInput]),
    el('label', {}, ['FPS ', fpsInput]),
    el('label', {}, ['Size ', sizeInput]),
    el('label', {}, [labelInput, ' caption']),
    exportTimelapse,
    exportKeyframes,
    exportLayers,
  ]);
  const progress = el('progress', { id: 'progress', max: 1, value: 0, hidden: true });
  const statusLine = el('div', { id: 'status', className: 'status' });

  app.append(title, notice, errorBox, stage, sliderRow, presets, optionsRow, exportRow, progress, statusLine, engineLine);

  return { app, title, notice, engineLine, errorBox, errorText, errorHint, restartButton, preview, busy, slider, stepNumber, playButton, presets, backendSelect, seedInput, newSeedButton, formatSelect, framesInput, fpsInput, sizeInput, labelInput, exportTimelapse, exportKeyframes, exportLayers, progress, statusLine };
}

export type Layout = ReturnType<typeof buildLayout>;
