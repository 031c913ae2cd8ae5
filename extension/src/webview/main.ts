/**
 * The timeline editor's UI (runs in the webview). It renders what the host sends and asks the host for
 * frames and exports through WebviewRpc; it never talks to the engine itself.
 *
 * Slider requests are debounced and only the newest answer is shown; frames already seen show at once
 * (frames.ts). The controls are built in layout.ts.
 * UI state (step, seed, backend, export options) is saved with the webview state API so that a hidden
 * and re-shown tab comes back where it was.
 */
import { KEYFRAME_PRESETS, MAX_STEP, type BackendChoice, type EngineState, type ExportSpec, type HostMessage, type InitMessage, type WebviewMessage } from '../core/messages.js';
import { RequestError, WebviewRpc } from '../core/rpc.js';
import { deviceLongSide } from '../../../engine/src/client/display.js';
import { Frames } from './frames.js';
import { buildLayout, el } from './layout.js';

interface VsCodeWebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeWebviewApi;

interface ViewState {
  step: number;
  seed: number;
  backend: string;
  format: 'mp4' | 'webm' | 'gif';
  frames: number;
  fps: number;
  size: number;
  label: boolean;
}

const DEBOUNCE_MS = 40;
const ENGINE_TROUBLE = new Set(['DISCONNECTED', 'NOT_CONNECTED', 'TIMEOUT', 'INTERNAL', 'SHUTTING_DOWN', 'ENGINE_NOT_FOUND', 'ENGINE_START_FAILED', 'FFMPEG_MISSING', 'BAD_RESPONSE']);
/** Steps per played frame: 999 -> 0 in 50 frames, a preview of the drawing order, not the export. */
const PLAY_STRIDE = 20;
const PLAY_FRAME_MS = 80;

const vscode = acquireVsCodeApi();

function isViewState(value: unknown): value is ViewState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.step === 'number' && typeof v.seed === 'number' && typeof v.backend === 'string' && typeof v.frames === 'number';
}

const saved = vscode.getState();
let state: ViewState | undefined = isViewState(saved) ? saved : undefined;
let init: InitMessage | undefined;

const {
  title,
  notice,
  engineLine,
  errorBox,
  errorText,
  errorHint,
  restartButton,
  preview,
  busy,
  slider,
  stepNumber,
  playButton,
  presets,
  backendSelect,
  seedInput,
  newSeedButton,
  formatSelect,
  framesInput,
  fpsInput,
  sizeInput,
  labelInput,
  exportTimelapse,
  exportKeyframes,
  exportLayers,
  progress,
  statusLine,
} = buildLayout();

// ---------------------------------------------------------------------------------------------
// State

const rpc = new WebviewRpc((message: WebviewMessage) => vscode.postMessage(message));
const frames = new Frames(rpc, (on) => (busy.hidden = !on), () => deviceLongSide(preview.parentElement ?? preview));
let debounceTimer: ReturnType<typeof setTimeout> | undefined;
let playing = false;
let exporting = false;

function currentState(): ViewState {
  return (
    state ?? {
      step: 0,
      seed: init?.defaults.seed ?? 12345,
      backend: init?.defaults.backend ?? 'classic',
      format: init?.defaults.format ?? 'mp4',
      frames: init?.defaults.frames ?? 100,
      fps: init?.defaults.fps ?? 25,
      size: init?.defaults.size ?? 0,
      label: false,
    }
  );
}

function update(patch: Partial<ViewState>): void {
  state = { ...currentState(), ...patch };
  vscode.setState(state);
}

function show(step: number, url: string): void {
  preview.src = url;
  preview.dataset.step = String(step);
  busy.hidden = true;
}

/** Shows an error; `from` says what it is about: an export's error stays until the next export or restart, a frame's goes with the next frame. */
function showError(error: unknown, from: 'frames' | 'export' = 'frames'): void {
  const e = error instanceof RequestError ? error : new RequestError({ code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) });
  errorBox.hidden = false;
  errorBox.dataset.code = e.code;
  errorBox.dataset.from = from;
  errorText.textContent = e.message;
  errorHint.textContent = e.hint ?? '';
  // Restarting helps when the engine is the problem, not when the image or an option is.
  restartButton.hidden = !ENGINE_TROUBLE.has(e.code);
}

function clearError(): void {
  errorBox.hidden = true;
  delete errorBox.dataset.code;
  delete errorBox.dataset.from;
}

function renderControls(): void {
  const s = currentState();
  slider.value = String(s.step);
  stepNumber.value = String(s.step);
  seedInput.value = String(s.seed);
  formatSelect.value = s.format;
  framesInput.value = String(s.frames);
  fpsInput.value = String(s.fps);
  sizeInput.value = String(s.size);
  labelInput.checked = s.label;
  const backend = init?.backends.find((b) => b.id === s.backend);
  const ready = Boolean(init?.image) && !exporting;
  for (const control of [slider, stepNumber, playButton, seedInput, newSeedButton, backendSelect, ...presets.querySelectorAll('button')]) control.disabled = !init?.image;
  exportTimelapse.disabled = !ready || backend?.timelapse === false;
  exportKeyframes.disabled = !ready || backend?.keyframes === false;
  exportLayers.disabled = !ready || backend?.layers !== true;
}

function renderBackends(backends: readonly BackendChoice[]): void {
  backendSelect.replaceChildren(...backends.map((b) => el('option', { value: b.id, textContent: b.displayName })));
  const s = currentState();
  if (backends.length > 0 && !backends.some((b) => b.id === s.backend)) update({ backend: backends[0]?.id ?? 'classic' });
  backendSelect.value = currentState().backend;
}

function renderEngine(engineState: EngineState, message: string | undefined): void {
  engineLine.dataset.state = engineState;
  engineLine.textContent = `Engine: ${engineState}${message ? ` — ${message}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Frames (cache and supersession: frames.ts)

async function showStep(step: number): Promise<void> {
  try {
    const url = await frames.fetch(step, currentState());
    if (url && currentState().step === step) {
      show(step, url);
      if (errorBox.dataset.from !== 'export') clearError();
    }
  } catch (error) {
    showError(error);
  }
}

function setStep(step: number, immediate = false): void {
  const clamped = Math.max(0, Math.min(MAX_STEP, Math.round(step)));
  update({ step: clamped });
  slider.value = String(clamped);
  stepNumber.value = String(clamped);
  const hit = frames.cached(clamped, currentState());
  if (hit) {
    show(clamped, hit);
    return;
  }
  if (debounceTimer) clearTimeout(debounceTimer);
  if (immediate) void showStep(clamped);
  else debounceTimer = setTimeout(() => void showStep(clamped), DEBOUNCE_MS);
}

async function play(): Promise<void> {
  playing = true;
  playButton.textContent = '❚❚ Pause';
  let step = currentState().step === 0 ? MAX_STEP : currentState().step;
  while (playing) {
    const started = performance.now();
    update({ step });
    slider.value = String(step);
    stepNumber.value = String(step);
    try {
      const url = await frames.fetch(step, currentState());
      if (url && playing) show(step, url);
    } catch (error) {
      showError(error);
      break;
    }
    if (step === 0) break;
    step = Math.max(0, step - PLAY_STRIDE);
    const wait = PLAY_FRAME_MS - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  playing = false;
  playButton.textContent = '▶ Play';
}

// ---------------------------------------------------------------------------------------------
// Exports

async function runExport(spec: ExportSpec): Promise<void> {
  const s = currentState();
  exporting = true;
  renderControls();
  progress.hidden = false;
  progress.value = 0;
  statusLine.textContent = `Export ${spec.what}: choose where to save…`;
  try {
    const request = rpc.request({ type: 'export', seed: s.seed, backend: s.backend, spec }, (fraction, stageName) => {
      progress.value = fraction;
      statusLine.textContent = `Exporting ${spec.what}: ${stageName} ${Math.round(fraction * 100)}%`;
    });
    const result = await request.result;
    statusLine.textContent = result.saved === null ? 'Export: no file chosen.' : `Saved ${result.saved.join(', ')}`;
    statusLine.dataset.saved = result.saved?.join('\n') ?? '';
  } catch (error) {
    if (error instanceof RequestError && error.code === 'CANCELLED') {
      statusLine.textContent = 'Export cancelled.';
    } else {
      statusLine.textContent = 'Export failed.';
      showError(error, 'export');
    }
  } finally {
    exporting = false;
    progress.hidden = true;
    renderControls();
  }
}

// ---------------------------------------------------------------------------------------------
// Events

slider.addEventListener('input', () => setStep(Number(slider.value)));
stepNumber.addEventListener('change', () => setStep(Number(stepNumber.value), true));
slider.addEventListener('keydown', (event) => {
  // Arrow keys move by 1 natively; PageUp/PageDown by 50 so a keyboard user can travel the range.
  if (event.key === 'PageUp' || event.key === 'PageDown') {
    event.preventDefault();
    setStep(Number(slider.value) + (event.key === 'PageUp' ? 50 : -50));
  }
});
presets.addEventListener('click', (event) => {
  const target = event.target;
  if (target instanceof HTMLButtonElement && target.dataset.step !== undefined) setStep(Number(target.dataset.step), true);
});
playButton.addEventListener('click', () => {
  if (playing) playing = false;
  else void play();
});
seedInput.addEventListener('change', () => {
  const seed = Number(seedInput.value);
  if (Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff) {
    update({ seed });
    setStep(currentState().step, true);
  } else {
    seedInput.value = String(currentState().seed);
  }
});
newSeedButton.addEventListener('click', () => {
  update({ seed: Math.floor(Math.random() * 0xffffffff) });
  seedInput.value = String(currentState().seed);
  setStep(currentState().step, true);
});
backendSelect.addEventListener('change', () => {
  update({ backend: backendSelect.value });
  renderControls();
  setStep(currentState().step, true);
});
const numberField = (input: HTMLInputElement, key: 'frames' | 'fps' | 'size', min: number, max: number): void => {
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (Number.isInteger(v) && v >= min && v <= max) update({ [key]: v });
    else input.value = String(currentState()[key]);
  });
};
numberField(framesInput, 'frames', 2, 3000);
numberField(fpsInput, 'fps', 1, 60);
numberField(sizeInput, 'size', 0, 4096);
formatSelect.addEventListener('change', () => update({ format: formatSelect.value === 'webm' ? 'webm' : formatSelect.value === 'gif' ? 'gif' : 'mp4' }));
labelInput.addEventListener('change', () => update({ label: labelInput.checked }));

exportTimelapse.addEventListener('click', () => {
  const s = currentState();
  // 0 or anything below the engine's minimum means "the image's own size".
  void runExport({ what: 'timelapse', format: s.format, frames: s.frames, fps: s.fps, label: s.label, ...(s.size >= 64 ? { size: s.size } : {}) });
});
exportKeyframes.addEventListener('click', () => void runExport({ what: 'keyframes', steps: [...KEYFRAME_PRESETS] }));
exportLayers.addEventListener('click', () => void runExport({ what: 'layers' }));
restartButton.addEventListener('click', () => {
  restartButton.disabled = true;
  statusLine.textContent = 'Restarting the engine…';
  rpc
    .request({ type: 'restartEngine' })
    .result.then(() => {
      statusLine.textContent = 'Engine restarted.';
      clearError();
    })
    .catch(showError)
    .finally(() => {
      restartButton.disabled = false;
    });
});

function onHostMessage(message: HostMessage): void {
  if (message.type === 'engine') {
    renderEngine(message.state, message.message);
  } else if (message.type === 'init') {
    // A later init means the image may have changed (edited on disk, or the engine restarted).
    if (init) frames.clear();
    init = message;
    title.textContent = `PaintsUndo Timeline — ${message.fileName}${message.image ? ` (${message.image.width}×${message.image.height})` : ''}`;
    notice.textContent = message.image?.notices.join(' ') ?? '';
    notice.hidden = notice.textContent === '';
    renderEngine(message.engine.state, message.engine.message);
    renderBackends(message.backends);
    if (!state) update({});
    renderControls();
    if (message.error) {
      showError(new RequestError(message.error));
    } else {
      clearError();
      setStep(currentState().step, true);
    }
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = rpc.receive(event.data);
  if (message) onHostMessage(message);
});

renderControls();
vscode.postMessage({ type: 'ready' } satisfies WebviewMessage);
