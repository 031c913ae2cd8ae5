/**
 * The CLIP byte-level BPE tokenizer exactly as the official app runs it: transformers' slow
 * `CLIPTokenizer` without ftfy, i.e. text normalised by `BasicTokenizer(strip_accents=False,
 * do_split_on_punc=False)` (control characters dropped, CJK characters split into words, NFC,
 * lower case), split on the added tokens of `tokenizer_config.json` first, then regex + BPE.
 *
 * Written by hand rather than through a tokenizers library: the fast tokenizers normalise
 * differently (no CJK splitting, no control-character removal, no added-token split of SD2.1's "!"),
 * which changes ids for the prompts the golden set covers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';

const AddedTokenSchema = z.object({ content: z.string() }).loose();
const TokenizerConfigSchema = z
  .object({
    added_tokens_decoder: z.record(z.string(), AddedTokenSchema).default({}),
    bos_token: z.union([z.string(), AddedTokenSchema]),
    eos_token: z.union([z.string(), AddedTokenSchema]),
    pad_token: z.union([z.string(), AddedTokenSchema]),
    unk_token: z.union([z.string(), AddedTokenSchema]),
    model_max_length: z.number().int().positive().default(77),
  })
  .loose();

const VocabSchema = z
  .record(z.string(), z.number().int().min(0))
  .refine((vocab) => Object.keys(vocab).length >= 256, 'it has fewer than the 256 byte tokens every CLIP vocabulary starts with');

/** CLIPTokenizer keeps only the first 49152 - 256 - 2 merges (the rest of merges.txt is unused). */
const MAX_MERGES = 49152 - 256 - 2;

const TOKEN_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

function tokenContent(token: string | { content: string }): string {
  return typeof token === 'string' ? token : token.content;
}

/** GPT-2's reversible byte -> printable character table. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array<string>(256);
  bs.forEach((b, i) => {
    table[b] = String.fromCodePoint(cs[i] ?? 0);
  });
  return table;
}

const BYTE_ENCODER = bytesToUnicode();

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;

/** BasicTokenizer.tokenize(...) joined by spaces (transformers' no-ftfy path). */
export function basicNormalize(text: string): string {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEPARATOR.test(ch)) {
      cleaned += ' ';
      continue;
    }
    if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    cleaned += isCjk(cp) ? ` ${ch} ` : ch;
  }
  const words = cleaned.normalize('NFC').split(/\s+/u).filter((w) => w.length > 0);
  return words.map((w) => w.toLowerCase()).join(' ').split(/\s+/u).filter((w) => w.length > 0).join(' ');
}

export interface ClipTokenizerOptions {
  readonly vocab: Record<string, number>;
  /** merges.txt lines without the "#version" header. */
  readonly merges: readonly string[];
  /** Added tokens split out of the text before BPE (content -> id). */
  readonly addedTokens: ReadonlyMap<string, number>;
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly maxLength: number;
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly added: ReadonlyMap<string, number>;
  private readonly addedByLength: string[];
  private readonly cache = new Map<string, string[]>();

  constructor(options: ClipTokenizerOptions) {
    this.vocab = new Map(Object.entries(options.vocab));
    this.ranks = new Map();
    options.merges.slice(0, MAX_MERGES).forEach((line, i) => this.ranks.set(line, i));
    this.added = options.addedTokens;
    this.addedByLength = [...options.addedTokens.keys()].sort((a, b) => b.length - a.length);
    const id = (token: string, role: string): number => {
      const value = this.added.get(token) ?? this.vocab.get(token);
      if (value === undefined) {
        throw new PaintsUndoError('MODEL_MISSING', `The tokenizer's ${role} token ${JSON.stringify(token)} is not in vocab.json.`, {
          hint: 'The tokenizer folder is inconsistent; download it again.',
        });
      }
      return value;
    };
    this.bosId = id(options.bosToken, 'bos');
    this.eosId = id(options.eosToken, 'eos');
    this.padId = id(options.padToken, 'pad');
    this.unkId = id(options.unkToken, 'unk');
    this.maxLength = options.maxLength;
    for (const special of ['<|startoftext|>', '<|endoftext|>']) this.cache.set(special, [special]);
  }

  /** Loads a transformers CLIPTokenizer folder (vocab.json, merges.txt, tokenizer_config.json). */
  static fromFolder(folder: string): ClipTokenizer {
    const read = (name: string): string => {
      try {
        return readFileSync(join(folder, name), 'utf8');
      } catch (cause) {
        throw new PaintsUndoError('MODEL_MISSING', `The tokenizer file ${join(folder, name)} is missing.`, {
          hint: 'Run `paints-undo models verify <dir>` to see which files are missing and how to download them.',
          details: { path: join(folder, name) },
          cause,
        });
      }
    };
    const malformed = (name: string, why: string): PaintsUndoError =>
      new PaintsUndoError('MODEL_MISSING', `${join(folder, name)} is malformed: ${why}.`, {
        hint: 'Download the tokenizer files again; `paints-undo models verify <dir>` checks them.',
        details: { path: join(folder, name), file: name },
      });
    const parse = <T>(schema: z.ZodType<T>, name: string): T => {
      let json: unknown;
      try {
        json = JSON.parse(read(name));
      } catch (error) {
        if (error instanceof PaintsUndoError) throw error;
        throw malformed(name, `it is not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      const result = schema.safeParse(json);
      if (!result.success) throw malformed(name, result.error.issues[0]?.message ?? 'unexpected content');
      return result.data;
    };
    const config = parse(TokenizerConfigSchema, 'tokenizer_config.json');
    const vocab = parse(VocabSchema, 'vocab.json');
    const mergeLines = read('merges.txt').trim().split('\n').slice(1);
    const addedTokens = new Map<string, number>();
    for (const [id, token] of Object.entries(config.added_tokens_decoder)) addedTokens.set(token.content, Number(id));
    return new ClipTokenizer({
      vocab,
      merges: mergeLines,
      addedTokens,
      bosToken: tokenContent(config.bos_token),
      eosToken: tokenContent(config.eos_token),
      padToken: tokenContent(config.pad_token),
      unkToken: tokenContent(config.unk_token),
      maxLength: config.model_max_length,
    });
  }

  /** BPE token strings of a prompt (no bos/eos, untruncated), like `tokenizer.tokenize(p)`. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of this.splitAdded(text)) {
      if (piece.added) {
        out.push(piece.text);
        continue;
      }
      const normalized = basicNormalize(piece.text);
      for (const match of normalized.matchAll(TOKEN_PATTERN)) {
        const bytes = Buffer.from(match[0], 'utf8');
        let mapped = '';
        for (const b of bytes) mapped += BYTE_ENCODER[b] ?? '';
        out.push(...this.bpe(mapped));
      }
    }
    return out;
  }

  /** [bos] + ids (truncated to maxLength - 2) + [eos] + pad up to maxLength: `encode_cropped_prompt_77tokens`. */
  encode(text: string): number[] {
    const ids = this.tokenize(text).map((t) => this.added.get(t) ?? this.vocab.get(t) ?? this.unkId);
    const body = ids.slice(0, this.maxLength - 2);
    const out = [this.bosId, ...body, this.eosId];
    while (out.length < this.maxLength) out.push(this.padId);
    return out;
  }

  /** Splits on added tokens, leftmost then longest match, like transformers' Trie.split. */
  private splitAdded(text: string): { text: string; added: boolean }[] {
    const pieces: { text: string; added: boolean }[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.addedByLength.find((t) => text.startsWith(t, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      if (i > start) pieces.push({ text: text.slice(start, i), added: false });
      pieces.push({ text: hit, added: true });
      i += hit.length;
      start = i;
    }
    if (start < text.length) pieces.push({ text: text.slice(start), added: false });
    return pieces;
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    const chars = [...token];
    let word = chars.slice(0, -1);
    word.push(`${chars[chars.length - 1] ?? ''}</w>`);
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best] ?? '';
      const second = word[best + 1] ?? '';
      // Merge every occurrence of the best pair, left to right, without overlapping.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i] ?? '');
          i++;
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }
}
