/**
 * Test illustrations the project draws itself (SVG rendered by sharp), for the cases the shared samples
 * do not cover: three simple synthetic pieces (transparency, an extreme aspect ratio, a monochrome ink
 * drawing) and one piece per style the classic backend must handle (art.ts).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { animeSoftSvg, flatVectorSvg, inkFigureSvg, painterlySvg, photoRenderSvg, stickerSvg, webtoonSvg, widePanoramaSvg } from './art.js';

/** A character head with clean outlines on a transparent background. */
const TRANSPARENT = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="520">
  <path d="M120 260 C100 120 380 100 360 260 L380 420 L100 420 Z" fill="#5a3a2a" stroke="#111" stroke-width="5"/>
  <ellipse cx="240" cy="270" rx="110" ry="125" fill="#f6d3b3" stroke="#111" stroke-width="5"/>
  <path d="M130 230 C160 140 320 140 350 230 C300 190 200 190 130 230 Z" fill="#6b4432" stroke="#111" stroke-width="4"/>
  <ellipse cx="200" cy="280" rx="16" ry="22" fill="#3a6ea5" stroke="#111" stroke-width="4"/>
  <ellipse cx="282" cy="280" rx="16" ry="22" fill="#3a6ea5" stroke="#111" stroke-width="4"/>
  <path d="M220 345 Q242 360 262 345" fill="none" stroke="#111" stroke-width="4" stroke-linecap="round"/>
  <ellipse cx="178" cy="322" rx="18" ry="8" fill="#f2a0a0" opacity="0.7"/>
  <ellipse cx="304" cy="322" rx="18" ry="8" fill="#f2a0a0" opacity="0.7"/>
  <path d="M170 400 L310 400 L340 510 L140 510 Z" fill="#d9534f" stroke="#111" stroke-width="5"/>
</svg>`;

/** A wide landscape strip (16:5) with outlined mountains, a sun and a lake. */
const PANORAMA = `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="300">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#7fb6e6"/><stop offset="1" stop-color="#f4e1c1"/></linearGradient></defs>
  <rect width="960" height="300" fill="url(#sky)"/>
  <circle cx="780" cy="80" r="40" fill="#ffd35c" stroke="#222" stroke-width="3"/>
  <path d="M0 230 L140 90 L260 200 L380 60 L520 210 L640 120 L800 220 L960 140 L960 300 L0 300 Z" fill="#6f8f5a" stroke="#222" stroke-width="4"/>
  <path d="M380 60 L420 100 L400 98 L380 120 L360 96 L345 100 Z" fill="#f7f7f7" stroke="#222" stroke-width="3"/>
  <path d="M0 250 C200 235 400 265 600 245 C760 232 880 250 960 242 L960 300 L0 300 Z" fill="#4a86b8" stroke="#222" stroke-width="3"/>
  <path d="M90 250 L90 200 M70 215 L90 185 L110 215 Z" fill="#2f5d2f" stroke="#222" stroke-width="3"/>
</svg>`;

/** An ink drawing: black lines and hatching on white, no colour. */
const INK = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="600">
  <rect width="480" height="600" fill="#fff"/>
  <path d="M240 560 C230 440 250 360 236 260" fill="none" stroke="#000" stroke-width="14" stroke-linecap="round"/>
  <path d="M236 300 C180 250 120 240 80 180 M238 280 C300 230 360 220 410 150 M236 260 C230 200 250 140 240 80" fill="none" stroke="#000" stroke-width="7" stroke-linecap="round"/>
  <circle cx="240" cy="180" r="140" fill="none" stroke="#000" stroke-width="3" stroke-dasharray="14 10"/>
  <g stroke="#000" stroke-width="2">
    <path d="M40 560 L440 560"/><path d="M60 575 L420 575"/><path d="M90 590 L390 590"/>
    <path d="M150 520 L120 560"/><path d="M170 520 L140 560"/><path d="M190 520 L160 560"/><path d="M290 520 L260 560"/><path d="M310 520 L280 560"/><path d="M330 520 L300 560"/>
  </g>
  <path d="M250 420 C300 400 330 430 360 410" fill="none" stroke="#555" stroke-width="4"/>
</svg>`;

export interface TestImage {
  readonly name: string;
  readonly path: string;
}

/** Every test illustration by name: the simple synthetic ones first, then one per style. */
export const TEST_IMAGES: Readonly<Record<string, () => string>> = {
  transparent: () => TRANSPARENT,
  panorama: () => PANORAMA,
  ink: () => INK,
  'anime-soft': animeSoftSvg,
  'flat-vector': flatVectorSvg,
  painterly: () => painterlySvg(),
  'ink-figure': inkFigureSvg,
  'photo-render': photoRenderSvg,
  sticker: stickerSvg,
  'wide-panorama': () => widePanoramaSvg(),
  webtoon: webtoonSvg,
};

/** Writes the test illustrations (all, or those named) as PNG into `dir` (default: a fresh temp folder). */
export async function writeTestImages(names: readonly string[] = Object.keys(TEST_IMAGES), dir?: string): Promise<TestImage[]> {
  const folder = dir ?? (await mkdtemp(join(tmpdir(), 'paints-undo-quality-')));
  const out: TestImage[] = [];
  for (const name of names) {
    const svg = TEST_IMAGES[name];
    if (!svg) throw new Error(`no test image ${name}; known: ${Object.keys(TEST_IMAGES).join(', ')}`);
    const path = join(folder, `${name}.png`);
    await writeFile(path, await sharp(Buffer.from(svg())).png().toBuffer());
    out.push({ name, path });
  }
  return out;
}
