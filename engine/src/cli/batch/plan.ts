/**
 * Where each input of a batch writes, decided before any work: `<out>/<sub-folder>/<image name><ext>`,
 * a file (video, PSD) or a folder (keyframes, layer PNGs). Refused up front, with what to do: two inputs
 * that would write the same output (a.png and a.jpg), compared as a case-insensitive file system would,
 * and an output that would replace an input. Left out, as the results of an earlier run when the output
 * folder is among the inputs: files inside this batch's own output folders, and files of the batch's output
 * format inside `-o` that paints-undo wrote (a GIF timelapse, a PSD of layers: they carry its provenance).
 * An output that is already there marks its input as done, so a rerun resumes an interrupted batch.
 */
import { stat } from 'node:fs/promises';
import { dirname, extname, join, parse } from 'node:path';
import { PaintsUndoError } from '../../core/errors.js';
import { carriesProvenance } from '../../io/provenance.js';
import { displayPath } from '../job-runner.js';
import { inputStem } from '../options.js';
import type { BatchInput } from './inputs.js';

/** What one input writes: a file with this extension ('.mp4'), or a folder. */
export type OutputShape = { readonly kind: 'file'; readonly extension: string } | { readonly kind: 'folder' };

export interface PlannedInput extends BatchInput {
  /** Absolute path of its output. */
  readonly output: string;
  readonly outputDisplay: string;
  /** An output of the right kind (file or folder) is already there. */
  readonly done: boolean;
}

export interface BatchPlan {
  readonly planned: readonly PlannedInput[];
  /** Inputs that lie inside an output folder of this batch: outputs of an earlier run, not inputs. */
  readonly leftOut: readonly BatchInput[];
}

/** Two paths that name one file on a case-insensitive or normalising file system (macOS, Windows). */
function sameFileKey(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

function outputOf(input: BatchInput, folder: string, shape: OutputShape): string {
  return join(folder, input.subfolder, shape.kind === 'file' ? `${inputStem(input.path)}${shape.extension}` : inputStem(input.path));
}

/** Whether `path` lies inside one of `folders` (keys from sameFileKey). */
function insideAny(path: string, folders: ReadonlySet<string>): boolean {
  const root = parse(path).root;
  for (let dir = dirname(path); dir !== root && dir !== '.'; dir = dirname(dir)) {
    if (folders.has(sameFileKey(dir))) return true;
  }
  return false;
}

async function outputDone(path: string, shape: OutputShape): Promise<boolean> {
  try {
    const info = await stat(path);
    return shape.kind === 'file' ? info.isFile() : info.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Outputs that would replace an input: by name (as a case-insensitive file system compares), by file
 * identity (an output reaching an input through a symlink or hard link), and, for folder outputs that
 * are replaced as a whole, an existing folder that holds an input (symlinks resolved).
 */
async function replacedInputs(kept: readonly { input: BatchInput; output: string }[], shape: OutputShape): Promise<string[]> {
  const { fileIdentityAt, filesInside } = await import('../../io/input-file.js');
  const inputByKey = new Map(kept.map(({ input }) => [sameFileKey(input.path), input]));
  const inputById = new Map<string, BatchInput>();
  for (const { input } of kept) {
    const id = await fileIdentityAt(input.path);
    if (id !== undefined) inputById.set(id, input);
  }
  const inputPaths = kept.map(({ input }) => input.path);
  const replaced: string[] = [];
  for (const { input, output } of kept) {
    let victims: BatchInput[];
    if (shape.kind === 'file') {
      const id = await fileIdentityAt(output);
      const victim = inputByKey.get(sameFileKey(output)) ?? (id === undefined ? undefined : inputById.get(id));
      victims = victim ? [victim] : [];
    } else {
      const inside = new Set(await filesInside(output, inputPaths));
      victims = kept.filter((k) => inside.has(k.input.path)).map((k) => k.input);
    }
    for (const victim of victims) replaced.push(`${input.display} would write ${displayPath(output)}, which ${shape.kind === 'file' ? 'is' : 'holds'} the input ${victim.display}`);
  }
  return replaced;
}

function listed(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join('; ');
  return items.length > max ? `${shown}; and ${items.length - max} more` : shown;
}

/** Whether `input` is an earlier output of this batch (see the module comment); `outFolder`: -o, as a key set. */
async function earlierOutput(input: BatchInput, outFolder: ReadonlySet<string>, ownFolders: ReadonlySet<string>, shape: OutputShape): Promise<boolean> {
  if (insideAny(input.path, ownFolders)) return true;
  if (shape.kind !== 'file' || extname(input.path).toLowerCase() !== shape.extension.toLowerCase()) return false;
  return insideAny(input.path, outFolder) && (await carriesProvenance(input.path));
}

export async function planOutputs(inputs: readonly BatchInput[], folder: string, shape: OutputShape): Promise<BatchPlan> {
  const outputs = inputs.map((input) => outputOf(input, folder, shape));
  const ownFolders = new Set(shape.kind === 'folder' ? outputs.map(sameFileKey) : []);
  const kept: { input: BatchInput; output: string }[] = [];
  const leftOut: BatchInput[] = [];
  const outFolder = new Set([sameFileKey(folder)]);
  const earlier = await Promise.all(inputs.map((input) => earlierOutput(input, outFolder, ownFolders, shape)));
  inputs.forEach((input, i) => (earlier[i] ? leftOut.push(input) : kept.push({ input, output: outputs[i]! })));

  const replaced = await replacedInputs(kept, shape);
  if (replaced.length > 0) {
    throw new PaintsUndoError('INVALID_OPTION', `An output of this batch would replace one of its inputs: ${listed(replaced)}.`, {
      hint: 'Choose an -o folder that holds none of the input images.',
      details: { conflicts: replaced },
    });
  }

  const byOutput = new Map<string, { output: string; inputs: string[] }>();
  for (const { input, output } of kept) {
    const key = sameFileKey(output);
    const group = byOutput.get(key) ?? { output, inputs: [] };
    group.inputs.push(input.display);
    byOutput.set(key, group);
  }
  const clashes = [...byOutput.values()].filter((g) => g.inputs.length > 1).map((g) => `${g.inputs.join(' and ')} would all write ${displayPath(g.output)}`);
  if (clashes.length > 0) {
    throw new PaintsUndoError('INVALID_OPTION', `Several inputs of this batch have the same name and would overwrite each other's output: ${listed(clashes)}.`, {
      hint: 'Rename the images so their names differ by more than the extension or letter case, or run them as separate batches with different -o folders.',
      details: { conflicts: clashes },
    });
  }

  const planned = await Promise.all(
    kept.map(async ({ input, output }) => ({ ...input, output, outputDisplay: displayPath(output), done: await outputDone(output, shape) })),
  );
  return { planned, leftOut };
}
