/**
 * What a batch reads: the images named on the command line, directly, through folders or through glob
 * patterns (tinyglobby). A shell that expands `*.png` itself hands us many paths; a quoted pattern is
 * expanded here, the same way on every platform.
 *
 * - A path to an existing file is taken as it is, whatever its name (the decoder says what is wrong).
 * - A folder gives the image files directly in it (by extension, io/image-files.ts), or with
 *   `--recursive` those at every depth, each remembering its sub-folder so the output mirrors it.
 * - Anything else with glob syntax is a pattern; its image matches are taken (hidden files are not).
 * - A missing path, a folder without images and a pattern without matches are reported as failed inputs
 *   of the batch, so a typo among many inputs does not stop the others.
 * The same file reached twice (named twice, through a symlink or a symlinked folder) is taken once.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { PaintsUndoError } from '../../core/errors.js';
import { IMAGE_EXTENSIONS, isImageFileName } from '../../io/image-files.js';
import { displayPath } from '../job-runner.js';

export interface BatchInput {
  /** Absolute path. */
  readonly path: string;
  /** The path as the user reads it (relative to the current folder when shorter). */
  readonly display: string;
  /** The sub-folder of the output folder its output goes to: '' but under a `--recursive` folder input. */
  readonly subfolder: string;
}

/** A command-line argument that gave no image; reported as a failed input of the batch. */
export interface UnmatchedArgument {
  readonly argument: string;
  readonly error: PaintsUndoError;
}

export interface ExpandedInputs {
  readonly inputs: readonly BatchInput[];
  readonly unmatched: readonly UnmatchedArgument[];
}

type PathKind = 'folder' | 'file' | 'missing';

async function pathKind(path: string): Promise<PathKind> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

async function isPattern(argument: string): Promise<boolean> {
  const { isDynamicPattern } = await import('tinyglobby');
  return isDynamicPattern(argument);
}

/**
 * Whether the arguments make a batch: several of them, a folder, or a pattern. One existing file is a
 * single job even when its name has glob characters (`art[1].png`).
 */
export async function isBatch(args: readonly string[]): Promise<boolean> {
  if (args.length !== 1) return args.length > 1;
  const kind = await pathKind(args[0]!);
  return kind === 'folder' || (kind === 'missing' && (await isPattern(args[0]!)));
}

const EXTENSION_LIST = [...IMAGE_EXTENSIONS].join(', ');

async function globImages(pattern: string, cwd: string): Promise<string[]> {
  const { glob } = await import('tinyglobby');
  const found = await glob([pattern], { cwd, absolute: true, onlyFiles: true, dot: false, expandDirectories: false, followSymbolicLinks: true });
  // Shallowest first, so that of two paths to one file (through a symlinked folder) the direct one is kept.
  const depth = (p: string): number => p.split(sep).length;
  return found.filter(isImageFileName).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

async function folderImages(folder: string, recursive: boolean): Promise<{ path: string; subfolder: string }[]> {
  const root = resolve(folder);
  const files = await globImages(recursive ? '**/*' : '*', root);
  return files.map((path) => {
    const sub = dirname(relative(root, path));
    return { path, subfolder: sub === '.' ? '' : sub };
  });
}

function unmatched(argument: string, message: string, hint: string): UnmatchedArgument {
  return { argument, error: new PaintsUndoError('INPUT_NOT_FOUND', message, { hint, details: { path: argument } }) };
}

export async function expandInputs(args: readonly string[], options: { recursive: boolean }): Promise<ExpandedInputs> {
  const inputs: BatchInput[] = [];
  const problems: UnmatchedArgument[] = [];
  const seen = new Set<string>();
  const add = async (path: string, subfolder: string): Promise<void> => {
    const identity = await realpath(path).catch(() => path);
    if (seen.has(identity)) return;
    seen.add(identity);
    inputs.push({ path, display: displayPath(path), subfolder });
  };
  for (const argument of args) {
    const kind = await pathKind(argument);
    if (kind === 'file') {
      await add(resolve(argument), '');
    } else if (kind === 'folder') {
      const found = await folderImages(argument, options.recursive);
      if (found.length === 0) {
        problems.push(
          unmatched(argument, `The folder ${argument} holds no images${options.recursive ? '' : ' directly in it'}.`, `Put images there (${EXTENSION_LIST})${options.recursive ? '' : ', or add --recursive to take those in its sub-folders'}.`),
        );
      }
      for (const image of found) await add(image.path, image.subfolder);
    } else if (await isPattern(argument)) {
      const found = await globImages(argument, process.cwd());
      if (found.length === 0) {
        problems.push(unmatched(argument, `No image matches the pattern ${argument}.`, `Check the pattern; it matches files with these extensions: ${EXTENSION_LIST}.`));
      }
      for (const image of found) await add(image, '');
    } else {
      problems.push(unmatched(argument, `The input ${argument} does not exist.`, 'Check the path; quote a pattern ("art/*.png") so that it reaches paints-undo unexpanded.'));
    }
  }
  return { inputs, unmatched: problems };
}
