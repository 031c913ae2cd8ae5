/**
 * The weights a graph builder asks for, checked against what a checkpoint holds. The same builder code
 * runs against a real .safetensors header (building a graph) or against a key list such as
 * ../shared/golden/keys/*.json (checking only): every missing tensor, every shape mismatch and every
 * tensor the builder never used is collected, so `verify` can report all of them at once.
 */
import { basename } from 'node:path';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';
import type { SafetensorsDtype, SafetensorsHeader } from '../safetensors.js';
import { elemTypeOfSafetensors } from './builder.js';
import type { GraphBuilder } from './builder.js';

export interface WeightEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset in `file`; absent for key lists (checking only). */
  readonly offset?: number;
  readonly byteLength?: number;
}

export interface WeightSource {
  /** Shown in messages, e.g. "unet/diffusion_pytorch_model.safetensors". */
  readonly label: string;
  /** File name inside the external-data folder, when the graph will be run. */
  readonly file?: string;
  readonly tensors: ReadonlyMap<string, WeightEntry>;
}

export type WeightProblem =
  | { readonly kind: 'missing'; readonly name: string; readonly expected: readonly number[] }
  | { readonly kind: 'shape'; readonly name: string; readonly expected: readonly number[]; readonly actual: readonly number[] }
  | { readonly kind: 'dtype'; readonly name: string; readonly actual: string }
  | { readonly kind: 'unexpected'; readonly name: string; readonly actual: readonly number[] };

export function sourceFromHeader(header: SafetensorsHeader, label: string): WeightSource {
  return { label, file: basename(header.path), tensors: header.tensors };
}

export function sourceFromKeyList(keys: Record<string, readonly number[]>, label: string, dtype: SafetensorsDtype = 'F16'): WeightSource {
  return { label, tensors: new Map(Object.entries(keys).map(([name, shape]) => [name, { dtype, shape }])) };
}

export function formatProblem(p: WeightProblem): string {
  const dims = (s: readonly number[]): string => `[${s.join(', ')}]`;
  switch (p.kind) {
    case 'missing':
      return `missing tensor ${p.name} (expected shape ${dims(p.expected)})`;
    case 'shape':
      return `tensor ${p.name} has shape ${dims(p.actual)}, expected ${dims(p.expected)}`;
    case 'dtype':
      return `tensor ${p.name} has unsupported dtype ${p.actual}`;
    case 'unexpected':
      return `unexpected tensor ${p.name} ${dims(p.actual)} (not used by the model described by config.json)`;
  }
}

/** Problems after which a build stops: the checkpoint and its config are too far apart to list them all. */
const MAX_PROBLEMS = 1000;

export class Weights {
  readonly source: WeightSource;
  readonly problems: WeightProblem[];
  private readonly used: Map<string, string>;
  private readonly g: GraphBuilder;
  private readonly emit: boolean;

  constructor(g: GraphBuilder, source: WeightSource, shared?: { problems: WeightProblem[]; used: Map<string, string> }) {
    this.g = g;
    this.source = source;
    this.problems = shared?.problems ?? [];
    this.used = shared?.used ?? new Map();
    this.emit = shared === undefined;
  }

  /** A view that checks and records tensors (shared report) without adding them to any graph. */
  checkingOnly(scratch: GraphBuilder): Weights {
    return new Weights(scratch, this.source, { problems: this.problems, used: this.used });
  }

  /** The stored shape of a tensor, to derive sizes the config does not state (e.g. PaintsUndo's add_embedding). */
  shapeOf(name: string): readonly number[] | undefined {
    return this.source.tensors.get(name)?.shape;
  }

  /**
   * The graph value holding tensor `name` in the compute dtype, after checking its shape.
   * `expected` entries of -1 accept any size in that dimension.
   */
  get(name: string, expected: readonly number[]): string {
    const cached = this.used.get(name);
    if (cached !== undefined) return cached;
    const entry = this.source.tensors.get(name);
    const value = `w:${name}`;
    this.used.set(name, value);
    if (entry === undefined) {
      this.problems.push({ kind: 'missing', name, expected });
      // A config that asks for far more tensors than the file has (a damaged num_hidden_layers) would keep
      // the builder looping: it stops here, with what it found so far.
      if (this.problems.length > MAX_PROBLEMS) this.assertComplete();
      return value;
    }
    const shapeOk = entry.shape.length === expected.length && expected.every((d, i) => d === -1 || d === entry.shape[i]);
    if (!shapeOk) this.problems.push({ kind: 'shape', name, expected, actual: entry.shape });
    const type = elemTypeOfSafetensors(entry.dtype);
    if (type === undefined || !(type === 'float32' || type === 'float16' || type === 'bfloat16')) {
      this.problems.push({ kind: 'dtype', name, actual: entry.dtype });
      return value;
    }
    if (!this.emit || this.source.file === undefined || entry.offset === undefined || entry.byteLength === undefined) return value;
    const stored = type === this.g.dtype ? value : `${value}:stored`;
    this.g.external(stored, type, entry.shape, { file: this.source.file, offset: entry.offset, length: entry.byteLength });
    if (stored !== value) this.g.op('Cast', [stored], { to: this.g.dtype === 'float16' ? 10 : 1 }, value);
    return value;
  }

  unexpected(): WeightProblem[] {
    const out: WeightProblem[] = [];
    for (const [name, entry] of this.source.tensors) {
      if (!this.used.has(name)) out.push({ kind: 'unexpected', name, actual: entry.shape });
    }
    return out;
  }

  /** Every problem, including tensors the model never used. */
  allProblems(): WeightProblem[] {
    return [...this.problems, ...this.unexpected()];
  }

  /** Throws MODEL_MISSING listing every problem (up to 20) when the checkpoint does not fit the config. */
  assertComplete(): void {
    const problems = this.allProblems();
    if (problems.length === 0) return;
    const shown = problems.slice(0, 20).map(formatProblem);
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    throw new PaintsUndoError(
      'MODEL_MISSING',
      `${this.source.label} does not match its config.json (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${shown.join('\n  ')}${more}`,
      {
        hint: 'Download the model again, or run `paints-undo models verify <dir>` for the full report.',
        details: { file: this.source.label, problems },
      },
    );
  }
}
