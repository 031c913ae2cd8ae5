/**
 * What the panel shows, in one observable object, and the one place that changes it. Every part of the
 * controller (connection, source, scrub, import, export, history) reads and patches this store; the
 * view renders it.
 */
import { EngineError } from '../../../engine/src/client/index.js';
import { DEFAULT_SEED } from '../../../engine/src/core/job.js';
import { DEFAULT_KEYFRAME_STEPS } from '../../../engine/src/core/steps.js';
import { HostError, type DocumentInfo, type SourceKind } from '../host/types.js';
import { describeConnection, type ConnectionView, type PanelConnectionState } from '../model/connection.js';

export interface BackendChoice {
  readonly id: string;
  readonly name: string;
  readonly layers: boolean;
  readonly timelapse: boolean;
}

export interface TimelapseSettings {
  format: 'mp4' | 'webm' | 'gif';
  frames: number;
  fps: number;
  /** Long side in px; undefined = the engine's default (input size, capped at 1920). */
  size: number | undefined;
  label: boolean;
}

export interface PanelMessage {
  readonly tone: 'info' | 'ok' | 'error';
  readonly text: string;
}

export interface BusyState {
  readonly label: string;
  readonly fraction: number | undefined;
  readonly detail: string;
}

export interface PanelState {
  connection: PanelConnectionState;
  connectionView: ConnectionView;
  engineVersion: string | undefined;
  backends: BackendChoice[];
  backend: string;
  seed: number;
  document: DocumentInfo | undefined;
  source: SourceKind;
  /** Long side for imports and exports; 0 = full resolution. */
  outputSize: number;
  /** What the engine said of the current upload (reduced to its working size, too small to look good), if anything. */
  sourceNotice: string | undefined;
  step: number;
  preview: { step: number; url: string; cached: boolean } | undefined;
  previewPending: boolean;
  busy: BusyState | undefined;
  message: PanelMessage | undefined;
  timelapse: TimelapseSettings;
  keyframeSteps: number[];
  /** Timelapse from History: start with generated frames (blank canvas → first recorded state). */
  historyLead: boolean;
}

export type Listener = (state: Readonly<PanelState>) => void;

/** The state a panel starts in, before it has talked to Photoshop or the engine. */
export function initialState(port: number): PanelState {
  return {
    connection: 'connecting',
    connectionView: describeConnection('connecting', port),
    engineVersion: undefined,
    backends: [{ id: 'classic', name: 'Classic (no model)', layers: true, timelapse: true }],
    backend: 'classic',
    seed: DEFAULT_SEED,
    document: undefined,
    source: 'document',
    outputSize: 2048,
    sourceNotice: undefined,
    step: 500,
    preview: undefined,
    previewPending: false,
    busy: undefined,
    message: undefined,
    timelapse: { format: 'mp4', frames: 100, fps: 25, size: undefined, label: true },
    keyframeSteps: [...DEFAULT_KEYFRAME_STEPS],
    historyLead: true,
  };
}

/** The observable panel state: patch it with `update`, listen with `subscribe`. */
export class PanelStore {
  readonly state: PanelState;
  private readonly listeners = new Set<Listener>();

  constructor(state: PanelState) {
    this.state = state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  update(patch: Partial<PanelState>): void {
    Object.assign(this.state, patch);
    for (const l of this.listeners) l(this.state);
  }

  /** Shows an error in plain words, with the action to take. */
  fail(error: unknown): void {
    this.update({ message: { tone: 'error', text: explain(error) } });
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** An error in plain words with the action to take. */
export function explain(error: unknown): string {
  if (error instanceof HostError) return error.message;
  if (error instanceof EngineError) {
    const hint = error.hint && !error.message.includes(error.hint) ? ` ${error.hint}` : '';
    return `${error.message}${hint}`;
  }
  if (error instanceof Error) return `Something went wrong: ${error.message}. Try again; if it persists, restart the engine.`;
  return `Something went wrong: ${String(error)}.`;
}
