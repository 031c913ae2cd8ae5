/**
 * PNG export with provenance. sharp encodes the pixels; png-chunks-extract/encode splice text chunks in
 * before IEND (sharp cannot write tEXt/iTXt):
 *   tEXt "Software"    = "paints-undo <version>"
 *   tEXt "Description" = the human-readable provenance sentence (Latin-1 safe)
 *   iTXt "paints-undo" = the Provenance object as UTF-8 JSON
 */
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import type { Image8 } from '../core/image.js';
import { provenanceSummary, type Provenance } from './provenance.js';

export const PROVENANCE_KEYWORD = 'paints-undo';

export async function encodePng(image: Image8, provenance?: Provenance): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png({ compressionLevel: 6, adaptiveFiltering: true })
    .toBuffer();
  return provenance === undefined ? new Uint8Array(png) : addPngText(png, provenanceChunks(provenance));
}

export function provenanceChunks(p: Provenance): { keyword: string; text: string; international?: boolean }[] {
  return [
    { keyword: 'Software', text: `paints-undo ${p.generatorVersion}` },
    { keyword: 'Description', text: toLatin1(provenanceSummary(p)) },
    { keyword: PROVENANCE_KEYWORD, text: JSON.stringify(p), international: true },
  ];
}

/** The 12 bytes of an IEND chunk: length 0, "IEND", its CRC. */
const IEND = Uint8Array.of(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82);
const SIGNATURE_BYTES = 8;

/**
 * Inserts text chunks before IEND. Keywords must be 1-79 Latin-1 characters (PNG spec 11.3.4).
 * Only the new chunks are encoded: when the PNG ends with its IEND chunk (as every encoder writes it)
 * they are spliced in before those last 12 bytes, instead of parsing and re-encoding (and CRC-checking)
 * every image chunk, which cost tens of milliseconds per 1024 px slider frame.
 */
export function addPngText(png: Uint8Array, entries: readonly { keyword: string; text: string; international?: boolean }[]): Uint8Array {
  const added = entries.map((e) => {
    if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(e.keyword)) throw new RangeError(`invalid PNG text keyword ${JSON.stringify(e.keyword)}`);
    const keyword = Buffer.from(e.keyword, 'latin1');
    if (e.international) {
      // iTXt: keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text.
      return { name: 'iTXt', data: new Uint8Array(Buffer.concat([keyword, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(e.text, 'utf8')])) };
    }
    return { name: 'tEXt', data: new Uint8Array(Buffer.concat([keyword, Buffer.from([0]), Buffer.from(e.text, 'latin1')])) };
  });
  const tail = png.length - IEND.length;
  if (tail >= SIGNATURE_BYTES && IEND.every((byte, i) => png[tail + i] === byte)) {
    // encodeChunks writes a signature first; the chunks (with their CRCs) follow it.
    const inserted = encodeChunks(added).subarray(SIGNATURE_BYTES);
    const out = new Uint8Array(png.length + inserted.length);
    out.set(png.subarray(0, tail), 0);
    out.set(inserted, tail);
    out.set(IEND, tail + inserted.length);
    return out;
  }
  // Anything after IEND, or no IEND at the end: take the PNG apart chunk by chunk.
  const chunks = extractChunks(png);
  const end = chunks.findIndex((c) => c.name === 'IEND');
  if (end < 0) throw new RangeError('not a complete PNG (no IEND chunk)');
  chunks.splice(end, 0, ...added);
  return encodeChunks(chunks);
}

/** Reads all tEXt and uncompressed iTXt chunks of a PNG: keyword -> text. */
export function readPngText(png: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const chunk of extractChunks(png)) {
    const data = Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = data.subarray(0, nul).toString('latin1');
    if (chunk.name === 'tEXt') {
      out.set(keyword, data.subarray(nul + 1).toString('latin1'));
    } else if (chunk.name === 'iTXt' && data[nul + 1] === 0) {
      const lang = data.indexOf(0, nul + 3);
      const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
      if (translated >= 0) out.set(keyword, data.subarray(translated + 1).toString('utf8'));
    }
  }
  return out;
}

/** Keyframe file name: step 400 -> "step-0400.png" (four digits keep folders sorted by step). */
export function keyframeFileName(step: number): string {
  return `step-${String(step).padStart(4, '0')}.png`;
}

function toLatin1(text: string): string {
  return text.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
}
