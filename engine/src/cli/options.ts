/**
 * Options shared by the commands, in one place. Commander collects raw strings; `toNumber` turns
 * numeric strings into numbers and leaves anything else as it was, so the job schema (core/job.ts)
 * names every bad value at once in its own words ("Expected number for fps but received "x" (string)").
 */
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BACKEND } from '../backends/registry.js';

export interface CommonFlags {
  readonly seed?: string;
  readonly backend?: string;
  readonly json?: boolean;
}

export interface TimelapseFlags extends CommonFlags {
  readonly output?: string;
  readonly format?: string;
  readonly frames?: string;
  readonly duration?: string;
  readonly fps?: string;
  readonly size?: string;
  readonly intro?: string;
  readonly hold?: string;
  readonly direction?: string;
  readonly label?: string | boolean;
}

/** The flags of a batch (several inputs, a folder or a pattern); see cli/batch/. */
export interface BatchFlags {
  readonly jobs?: string;
  readonly force?: boolean;
  readonly recursive?: boolean;
}

export const DEFAULT_SEED_TEXT = '12345';

export function addCommonOptions(command: Command): Command {
  return command
    .option('--seed <n>', `random seed, 0..4294967295: the same seed gives the same result (default ${DEFAULT_SEED_TEXT})`)
    .option('--backend <name>', `backend that reconstructs the process (default ${DEFAULT_BACKEND}; see \`paints-undo backends\`)`)
    .option('--json', 'print one JSON object on stdout instead of text, and no progress bar');
}

export function addTimelapseOptions(command: Command): Command {
  return command
    .option('--format <format>', 'mp4, webm or gif (default: from the output extension, else mp4)')
    .option('--frames <n>', 'process frames, first and last included, 2..3000 (default 100)')
    .option('--duration <seconds>', 'length of the process part, e.g. 15, 30 or 60; overrides --frames (frames = duration x fps)')
    .option('--fps <n>', 'frames per second, 1..60 (default 25)')
    .option('--size <px>', 'long side of the video in pixels, 64..4096 (default: the input size, at most 1920; 640 for GIF)')
    .option('--intro <seconds>', 'show the finished artwork for this long before the process starts (default 0)')
    .option('--hold <seconds>', 'hold the last frame this long at the end (default 1.5)')
    .option('--direction <direction>', 'draw: blank canvas to finished (default); undo: finished to blank')
    .option('--label [text]', 'burn a small caption into the video ("Generated reconstruction - not a recording", or your text)');
}

export function addBatchOptions(command: Command): Command {
  return command
    .option('--jobs <n>', 'batch: inputs processed at once, 1..64 (default: one per CPU core, fewer when memory is short)')
    .option('--force', 'batch: redo inputs whose output already exists (default: skip them, so a stopped batch resumes)')
    .option('--recursive', 'batch: also take images in sub-folders of a folder input, mirroring them in the output folder');
}

/** How a message names a field the flags gave (schema path "steps.1" is the flag --steps). */
export function flagName(path: readonly PropertyKey[]): string {
  return `--${String(path[0])}`;
}

/** "12" -> 12, "1.5" -> 1.5; anything else (including "") is returned unchanged for the schema to report. */
export function toNumber(raw: string | undefined): number | string | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (trimmed !== '' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return Number(trimmed);
  return raw;
}

/** --size of frame and keyframes: the long side of the PNGs (the job schema checks the range). */
export function addFrameSizeOption(command: Command): Command {
  return command.option('--size <px>', 'long side of the PNGs in pixels, 16..16384 (default: the input size; never enlarged)');
}

/**
 * Undo steps from --steps: "400,600,800", ranges "0-999" (inclusive, either direction) and "all" (0-999),
 * mixed freely. Whatever is not a number or a range stays a string so the job schema names it.
 */
export function toStepList(raw: string): (number | string)[] {
  // Each step once, in the order first named: "all,0" or "999-0,5" are the 1000 steps, not 1001.
  const out = new Set<number | string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const range = part.toLowerCase() === 'all' ? ['0', '999'] : /^(\d+)\s*-\s*(\d+)$/.exec(part)?.slice(1);
    if (range) {
      const [from, to] = range.map(Number) as [number, number];
      const step = from <= to ? 1 : -1;
      // A huge range stops after 2001 values: the schema refuses more than 1000 steps and names the first bad one.
      for (let s = from; step > 0 ? s <= Math.min(to, from + 2000) : s >= Math.max(to, from - 2000); s += step) out.add(s);
      continue;
    }
    out.add(toNumber(part) ?? part);
  }
  return [...out];
}

/** Drops undefined values so schema defaults apply. */
export function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function commonJobFields(flags: CommonFlags): Record<string, unknown> {
  return defined({ seed: toNumber(flags.seed), backend: flags.backend });
}

/** "art/cat.final.png" -> "cat.final": the stem used for default output names. */
export function inputStem(input: string): string {
  return basename(input, extname(input)) || 'artwork';
}
