/**
 * Test illustrations in eight styles the classic backend must handle, drawn by the project itself as
 * SVG (sharp renders them): no downloads, deterministic. Each is a small but honest example of its style
 * — soft cel shading with no drawn outlines, flat vector, painterly brushwork, ink, a photo-like render,
 * a die-cut sticker, a very wide panorama and a tall webtoon strip — so that a tell that shows on real
 * art of that kind shows here too.
 */

/** A small seeded PRNG (mulberry32) for procedural brushwork. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f = (v: number): string => v.toFixed(1);

/** Soft-shaded anime portrait: cel shadows and gradients, coloured edges, no drawn line art except lashes. */
export function animeSoftSvg(): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="640">
<defs>
  <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#bcd8f2"/><stop offset="1" stop-color="#f4d6e4"/></linearGradient>
  <linearGradient id="hair" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#6b4a8e"/><stop offset="1" stop-color="#3f2c63"/></linearGradient>
  <linearGradient id="skin" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#fde6d6"/><stop offset="1" stop-color="#f7cdb6"/></linearGradient>
  <radialGradient id="iris" cx="0.5" cy="0.65" r="0.6"><stop offset="0" stop-color="#7fd3e8"/><stop offset="0.6" stop-color="#2f8fb8"/><stop offset="1" stop-color="#1d4f7a"/></radialGradient>
  <linearGradient id="shirt" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="#dfe6f5"/></linearGradient>
  <filter id="blur8"><feGaussianBlur stdDeviation="8"/></filter>
  <filter id="blur3"><feGaussianBlur stdDeviation="3"/></filter>
  <filter id="blur1"><feGaussianBlur stdDeviation="1.2"/></filter>
</defs>
<rect width="512" height="640" fill="url(#bg)"/>
<circle cx="90" cy="120" r="40" fill="#ffffff" opacity="0.45" filter="url(#blur8)"/>
<circle cx="430" cy="200" r="55" fill="#ffe9f3" opacity="0.6" filter="url(#blur8)"/>
<circle cx="400" cy="80" r="22" fill="#ffffff" opacity="0.5" filter="url(#blur8)"/>
<path d="M110 330 C90 170 170 80 260 80 C360 80 430 170 408 340 L420 520 L100 520 Z" fill="url(#hair)"/>
<path d="M180 520 C190 470 220 440 256 440 C292 440 322 470 332 520 Z" fill="#f3c4ab"/>
<path d="M70 640 C80 560 150 520 256 515 C362 520 432 560 442 640 Z" fill="url(#shirt)"/>
<path d="M256 515 C300 520 350 540 380 580 L360 640 L300 640 Z" fill="#c9d3ec"/>
<path d="M226 515 L256 560 L286 515 Z" fill="#f3c4ab"/>
<path d="M256 560 L236 600 L256 640 L276 600 Z" fill="#e0566e"/>
<path d="M150 300 C150 200 200 160 256 160 C312 160 362 200 362 300 C362 380 320 450 256 460 C192 450 150 380 150 300 Z" fill="url(#skin)"/>
<path d="M150 300 C150 330 158 360 172 385 C200 360 210 330 205 300 Z" fill="#f4c3ad" opacity="0.9"/>
<path d="M362 300 C362 330 354 360 340 385 C330 350 330 320 336 300 Z" fill="#f4c3ad" opacity="0.9"/>
<ellipse cx="196" cy="372" rx="24" ry="10" fill="#f59cae" opacity="0.55" filter="url(#blur3)"/>
<ellipse cx="316" cy="372" rx="24" ry="10" fill="#f59cae" opacity="0.55" filter="url(#blur3)"/>
<path d="M176 322 C186 296 228 292 240 318 C230 356 188 360 176 322 Z" fill="#ffffff"/>
<path d="M272 318 C284 292 326 296 336 322 C324 360 282 356 272 318 Z" fill="#ffffff"/>
<ellipse cx="208" cy="328" rx="20" ry="26" fill="url(#iris)"/>
<ellipse cx="304" cy="328" rx="20" ry="26" fill="url(#iris)"/>
<ellipse cx="208" cy="332" rx="8" ry="11" fill="#173650"/>
<ellipse cx="304" cy="332" rx="8" ry="11" fill="#173650"/>
<circle cx="200" cy="318" r="6" fill="#ffffff"/><circle cx="296" cy="318" r="6" fill="#ffffff"/>
<circle cx="216" cy="342" r="2.5" fill="#ffffff" opacity="0.8"/><circle cx="312" cy="342" r="2.5" fill="#ffffff" opacity="0.8"/>
<path d="M172 318 C184 290 230 286 244 314 C228 298 190 298 172 318 Z" fill="#3b2442"/>
<path d="M268 314 C282 286 328 290 340 318 C322 298 284 298 268 314 Z" fill="#3b2442"/>
<path d="M182 282 C196 272 222 272 236 278" stroke="#5a3f78" stroke-width="4" fill="none" stroke-linecap="round" filter="url(#blur1)"/>
<path d="M276 278 C290 272 316 272 330 282" stroke="#5a3f78" stroke-width="4" fill="none" stroke-linecap="round" filter="url(#blur1)"/>
<path d="M252 368 L258 380 L250 382 Z" fill="#eaa98f"/>
<path d="M236 408 C248 418 266 418 278 408 C268 424 246 424 236 408 Z" fill="#d9687a"/>
<path d="M130 300 C120 200 180 120 256 118 C340 120 396 200 384 300 C370 240 350 210 320 196 C330 230 320 250 306 262 C300 226 280 206 256 200 C250 236 230 256 200 266 C210 236 206 214 196 204 C170 220 150 250 130 300 Z" fill="url(#hair)"/>
<path d="M200 150 C230 134 280 134 310 150 C290 146 262 146 240 156 C224 152 212 150 200 150 Z" fill="#a78bd0" opacity="0.8"/>
<path d="M150 230 C160 190 190 160 220 150 C196 176 182 200 176 232 Z" fill="#8f70ba" opacity="0.7"/>
<path d="M256 200 C270 230 290 250 306 262 C296 244 286 226 284 206 Z" fill="#2f1f4d" opacity="0.6"/>
<path d="M120 330 C112 400 120 470 140 520 L108 520 C96 450 100 380 120 330 Z" fill="#553a78"/>
<path d="M392 330 C400 400 392 470 372 520 L404 520 C416 450 412 380 392 330 Z" fill="#553a78"/>
</svg>`;
}

/** Flat vector / UI illustration: flat fills, no outlines, no gradients, a few soft shapes. */
export function flatVectorSvg(): string {
  const bars = [60, 110, 80, 140, 120, 170]
    .map((h, k) => `<rect x="${372 + k * 30}" y="${330 - h}" width="18" height="${h}" rx="4" fill="${k % 2 ? '#6c63ff' : '#a5a0ff'}"/>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
<rect width="640" height="480" fill="#eef1fb"/>
<circle cx="560" cy="70" r="120" fill="#e2e6fa"/>
<circle cx="60" cy="440" r="90" fill="#e2e6fa"/>
<rect x="340" y="110" width="250" height="250" rx="18" fill="#d5d9f2"/>
<rect x="330" y="98" width="250" height="250" rx="18" fill="#ffffff"/>
<rect x="352" y="120" width="110" height="12" rx="6" fill="#2e2a5c"/>
<rect x="352" y="142" width="70" height="8" rx="4" fill="#b8bbd6"/>
${bars}
<circle cx="530" cy="150" r="26" fill="#ffb347"/>
<path d="M530 150 L530 124 A26 26 0 0 1 555 157 Z" fill="#ff6f61"/>
<circle cx="530" cy="150" r="12" fill="#ffffff"/>
<rect x="60" y="70" width="170" height="300" rx="22" fill="#2e2a5c"/>
<rect x="72" y="90" width="146" height="262" rx="10" fill="#ffffff"/>
<rect x="86" y="106" width="118" height="70" rx="8" fill="#6c63ff"/>
<circle cx="110" cy="200" r="14" fill="#ffb347"/><rect x="132" y="192" width="70" height="8" rx="4" fill="#b8bbd6"/><rect x="132" y="204" width="44" height="6" rx="3" fill="#d9dbea"/>
<circle cx="110" cy="240" r="14" fill="#ff6f61"/><rect x="132" y="232" width="70" height="8" rx="4" fill="#b8bbd6"/><rect x="132" y="244" width="44" height="6" rx="3" fill="#d9dbea"/>
<circle cx="110" cy="280" r="14" fill="#3ccf91"/><rect x="132" y="272" width="70" height="8" rx="4" fill="#b8bbd6"/><rect x="132" y="284" width="44" height="6" rx="3" fill="#d9dbea"/>
<rect x="96" y="316" width="98" height="24" rx="12" fill="#3ccf91"/>
<path d="M262 430 L262 300 C262 270 300 262 306 290 L318 430 Z" fill="#ff6f61"/>
<circle cx="284" cy="262" r="26" fill="#f5b895"/>
<path d="M258 258 C258 226 312 222 312 256 C300 246 276 246 258 258 Z" fill="#2e2a5c"/>
<path d="M300 320 L350 286 L360 296 L312 340 Z" fill="#f5b895"/>
<rect x="250" y="426" width="80" height="14" rx="6" fill="#2e2a5c"/>
<path d="M480 440 C470 400 476 380 490 360 C500 380 506 400 498 440 Z" fill="#3ccf91"/>
<path d="M492 440 C500 396 520 380 540 372 C536 400 524 420 506 440 Z" fill="#2aa876"/>
<path d="M486 440 C470 410 452 400 436 398 C442 420 456 434 476 440 Z" fill="#2aa876"/>
<rect x="470" y="436" width="46" height="34" rx="6" fill="#ffb347"/>
<rect x="0" y="466" width="640" height="14" fill="#d5d9f2"/>
</svg>`;
}

/** The scene a painterly piece is painted from: a still life (vase, fruit, cloth) before a warm wall. */
function stillLifeColour(x: number, y: number, w: number, h: number): [number, number, number] {
  const u = x / w;
  const v = y / h;
  if (v > 0.68) return v > 0.9 ? [120, 72, 48] : [168, 104, 66];
  const dv = (u - 0.42) / 0.17;
  const dy = (v - 0.45) / 0.25;
  if (dv * dv + dy * dy < 1) return u < 0.38 ? [66, 96, 150] : u < 0.48 ? [48, 74, 126] : [28, 44, 86];
  const fx = (u - 0.7) / 0.09;
  const fy = (v - 0.62) / 0.07;
  if (fx * fx + fy * fy < 1) return u < 0.69 ? [236, 150, 60] : [196, 98, 36];
  if (v < 0.2 && u > 0.3 && u < 0.56) return [226, 196, 90];
  return [214 - v * 60 + u * 20, 180 - v * 50, 130 - v * 40];
}

/** Painterly still life: a toned canvas, then hundreds of opaque brush strokes following the forms; no lines. */
export function painterlySvg(width = 512, height = 640): string {
  const rand = prng(7);
  const strokes: string[] = [];
  const paint = (count: number, size: number, jitter: number): void => {
    for (let k = 0; k < count; k++) {
      const x = rand() * width;
      const y = rand() * height;
      const [r, g, b] = stillLifeColour(x, y, width, height);
      const j = (): number => (rand() - 0.5) * jitter;
      const angle = (y / height > 0.68 ? 0 : Math.sin(x * 0.02) * 0.8 + 1.2) + (rand() - 0.5) * 0.6;
      const len = size * (1.5 + rand() * 2);
      const dx = Math.cos(angle) * len;
      const dy = Math.sin(angle) * len;
      const c = `rgb(${Math.round(Math.min(255, Math.max(0, r + j())))},${Math.round(Math.min(255, Math.max(0, g + j())))},${Math.round(Math.min(255, Math.max(0, b + j())))})`;
      strokes.push(
        `<path d="M${f(x - dx / 2)} ${f(y - dy / 2)} Q${f(x + dy * 0.15)} ${f(y - dx * 0.15)} ${f(x + dx / 2)} ${f(y + dy / 2)}" stroke="${c}" stroke-width="${f(size * (0.6 + rand() * 0.6))}" stroke-linecap="round" fill="none" opacity="${(0.75 + rand() * 0.25).toFixed(2)}"/>`,
      );
    }
  };
  paint(420, 26, 30);
  paint(900, 12, 36);
  paint(700, 5, 44);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><filter id="rough"><feTurbulence type="fractalNoise" baseFrequency="0.04" numOctaves="2" seed="3"/><feDisplacementMap in="SourceGraphic" scale="6"/></filter></defs>
<rect width="${width}" height="${height}" fill="#b89a72"/>
<g filter="url(#rough)">${strokes.join('')}</g>
</svg>`;
}

/** Monochrome ink: a figure in brush lines of varied weight, solid black hair, hatching, on off-white paper. */
export function inkFigureSvg(): string {
  const hatch: string[] = [];
  for (let k = 0; k < 14; k++) hatch.push(`<path d="M${296 + k * 5} 470 L${282 + k * 5} 540" stroke="#111" stroke-width="1.5"/>`);
  for (let k = 0; k < 6; k++) hatch.push(`<path d="M${300 + k * 5} 286 L${294 + k * 5} 312" stroke="#111" stroke-width="1.2"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="600">
<rect width="480" height="600" fill="#f7f4ec"/>
<path d="M150 230 C140 150 190 100 250 100 C320 100 360 160 340 240 C350 200 330 160 300 150 C290 190 250 200 210 196 C200 220 180 230 150 230 Z" fill="#0d0d0d"/>
<path d="M160 230 C160 300 200 350 248 352 C300 350 336 300 336 236" fill="none" stroke="#111" stroke-width="5" stroke-linecap="round"/>
<path d="M200 260 C212 252 228 252 236 262" fill="none" stroke="#111" stroke-width="6" stroke-linecap="round"/>
<path d="M266 262 C276 252 292 252 302 260" fill="none" stroke="#111" stroke-width="6" stroke-linecap="round"/>
<circle cx="220" cy="272" r="5" fill="#111"/><circle cx="284" cy="272" r="5" fill="#111"/>
<path d="M250 280 L242 310 L254 312" fill="none" stroke="#111" stroke-width="3" stroke-linecap="round"/>
<path d="M228 328 C240 336 258 336 270 326" fill="none" stroke="#111" stroke-width="3.5" stroke-linecap="round"/>
<path d="M220 350 L214 400 M280 348 L288 400" stroke="#111" stroke-width="4" stroke-linecap="round"/>
<path d="M100 600 C110 480 160 410 214 400 L288 400 C350 410 390 480 400 600" fill="none" stroke="#111" stroke-width="7" stroke-linecap="round"/>
<path d="M214 400 L250 450 L288 400" fill="none" stroke="#111" stroke-width="3"/>
<path d="M160 500 C170 540 176 570 178 600 M340 500 C330 540 324 570 322 600" fill="none" stroke="#111" stroke-width="3"/>
${hatch.join('')}
</svg>`;
}

/** Photo-like render: a glossy ball and a box on a table, soft shadows, gradient backdrop, film grain; no lines. */
export function photoRenderSvg(): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
<defs>
  <linearGradient id="wall" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#5d6b7a"/><stop offset="1" stop-color="#aeb8c2"/></linearGradient>
  <linearGradient id="table" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#9a7b5c"/><stop offset="1" stop-color="#4f3a27"/></linearGradient>
  <radialGradient id="ball" cx="0.36" cy="0.32" r="0.75"><stop offset="0" stop-color="#ffd4c9"/><stop offset="0.25" stop-color="#e0503a"/><stop offset="0.8" stop-color="#7a1a10"/><stop offset="1" stop-color="#3a0a06"/></radialGradient>
  <linearGradient id="boxTop" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#e9e4d8"/><stop offset="1" stop-color="#cfc8b8"/></linearGradient>
  <linearGradient id="boxSide" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#a9a290"/><stop offset="1" stop-color="#7d7767"/></linearGradient>
  <linearGradient id="boxFront" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#c8c1ae"/><stop offset="1" stop-color="#9d9684"/></linearGradient>
  <filter id="shadow"><feGaussianBlur stdDeviation="14"/></filter>
  <filter id="dof"><feGaussianBlur stdDeviation="5"/></filter>
  <filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="1" seed="5"/><feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="0.12"/></feComponentTransfer></filter>
</defs>
<rect width="640" height="480" fill="url(#wall)"/>
<g filter="url(#dof)"><rect x="470" y="60" width="110" height="200" rx="6" fill="#d9c27a" opacity="0.5"/><circle cx="110" cy="110" r="50" fill="#e8eef4" opacity="0.35"/></g>
<path d="M0 300 L640 280 L640 480 L0 480 Z" fill="url(#table)"/>
<ellipse cx="250" cy="392" rx="110" ry="22" fill="#1e140c" opacity="0.55" filter="url(#shadow)"/>
<path d="M400 380 L560 360 L600 330 L440 350 Z" fill="#1e140c" opacity="0.45" filter="url(#shadow)"/>
<circle cx="230" cy="300" r="95" fill="url(#ball)"/>
<ellipse cx="196" cy="258" rx="26" ry="16" fill="#ffffff" opacity="0.75" filter="url(#dof)"/>
<path d="M420 250 L540 236 L580 262 L458 278 Z" fill="url(#boxTop)"/>
<path d="M420 250 L458 278 L458 372 L420 342 Z" fill="url(#boxSide)"/>
<path d="M458 278 L580 262 L580 352 L458 372 Z" fill="url(#boxFront)"/>
<rect width="640" height="480" filter="url(#grain)"/>
</svg>`;
}

/** A die-cut sticker: an outlined, cel-shaded character with a thick white border, transparent around it. */
export function stickerSvg(): string {
  const body = `<path d="M150 380 C120 300 140 200 240 190 C340 200 360 300 330 380 C300 420 180 420 150 380 Z"/>
<circle cx="240" cy="170" r="100"/><path d="M160 110 L150 40 L210 80 Z"/><path d="M320 110 L330 40 L270 80 Z"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480">
<defs><filter id="drop"><feGaussianBlur stdDeviation="6"/></filter></defs>
<g fill="#000" opacity="0.3" filter="url(#drop)" transform="translate(6 10)">${body}</g>
<g fill="#ffffff" stroke="#ffffff" stroke-width="36" stroke-linejoin="round">${body}</g>
<path d="M150 380 C120 300 140 200 240 190 C340 200 360 300 330 380 C300 420 180 420 150 380 Z" fill="#f0a04b"/>
<path d="M240 190 C320 200 350 290 330 380 C310 400 290 408 270 410 C300 330 300 250 240 190 Z" fill="#d07f2e"/>
<path d="M150 380 C120 300 140 200 240 190 C340 200 360 300 330 380 C300 420 180 420 150 380 Z" fill="none" stroke="#3a2314" stroke-width="5"/>
<path d="M160 110 L150 40 L210 80 Z" fill="#f0a04b" stroke="#3a2314" stroke-width="5" stroke-linejoin="round"/>
<path d="M320 110 L330 40 L270 80 Z" fill="#f0a04b" stroke="#3a2314" stroke-width="5" stroke-linejoin="round"/>
<circle cx="240" cy="170" r="100" fill="#f0a04b"/>
<path d="M290 90 C340 130 345 210 300 255 C330 200 320 140 290 90 Z" fill="#d07f2e"/>
<circle cx="240" cy="170" r="100" fill="none" stroke="#3a2314" stroke-width="5"/>
<ellipse cx="240" cy="205" rx="55" ry="40" fill="#fff3e0"/>
<ellipse cx="205" cy="160" rx="11" ry="15" fill="#3a2314"/><ellipse cx="275" cy="160" rx="11" ry="15" fill="#3a2314"/>
<circle cx="209" cy="154" r="4" fill="#fff"/><circle cx="279" cy="154" r="4" fill="#fff"/>
<path d="M232 190 L248 190 L240 200 Z" fill="#3a2314"/>
<path d="M222 210 C230 222 240 214 240 204 C240 214 250 222 258 210" fill="none" stroke="#3a2314" stroke-width="4" stroke-linecap="round"/>
<ellipse cx="185" cy="195" rx="14" ry="8" fill="#f77a7a" opacity="0.6"/><ellipse cx="295" cy="195" rx="14" ry="8" fill="#f77a7a" opacity="0.6"/>
<ellipse cx="240" cy="330" rx="50" ry="45" fill="#fff3e0" stroke="#3a2314" stroke-width="4"/>
</svg>`;
}

/** A very wide panorama (16:3): a city at dusk over water, silhouettes, lit windows, a reflection; no outlines. */
export function widePanoramaSvg(width = 1600, height = 300): string {
  const rand = prng(11);
  const towers: string[] = [];
  const windows: string[] = [];
  for (let x = 0; x < width; ) {
    const w = 30 + rand() * 60;
    const h = 50 + rand() * 130;
    const top = 210 - h;
    towers.push(`<rect x="${f(x)}" y="${f(top)}" width="${f(w)}" height="${f(h)}" fill="${rand() < 0.5 ? '#2b2d4a' : '#34365a'}"/>`);
    for (let wy = top + 8; wy < 200; wy += 14) for (let wx = x + 6; wx < x + w - 8; wx += 12) if (rand() < 0.3) windows.push(`<rect x="${f(wx)}" y="${f(wy)}" width="5" height="7" fill="#ffd98a"/>`);
    x += w + rand() * 10;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs>
  <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2c3e7a"/><stop offset="0.55" stop-color="#c0608a"/><stop offset="1" stop-color="#f6a65c"/></linearGradient>
  <linearGradient id="water" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#c0608a"/><stop offset="1" stop-color="#1e2446"/></linearGradient>
  <filter id="ripple"><feTurbulence type="fractalNoise" baseFrequency="0.005 0.15" numOctaves="2" seed="2"/><feDisplacementMap in="SourceGraphic" scale="10"/></filter>
  <filter id="glow"><feGaussianBlur stdDeviation="10"/></filter>
</defs>
<rect width="${width}" height="${height}" fill="url(#sky)"/>
<circle cx="${width * 0.62}" cy="70" r="38" fill="#ffe3a1" filter="url(#glow)"/>
<circle cx="${width * 0.62}" cy="70" r="26" fill="#fff1cf"/>
<path d="M0 190 L${width * 0.15} 140 L${width * 0.3} 175 L${width * 0.5} 120 L${width * 0.65} 170 L${width * 0.85} 135 L${width} 180 L${width} 215 L0 215 Z" fill="#6a4a7a" opacity="0.7"/>
${towers.join('')}${windows.join('')}
<rect y="210" width="${width}" height="${height - 210}" fill="url(#water)"/>
<g filter="url(#ripple)" opacity="0.45" transform="matrix(1 0 0 -1 0 420)">${towers.join('')}${windows.join('')}</g>
</svg>`;
}

/** A tall webtoon strip (1:4.5): three panels with frames and gutters, inked characters, flat colours, speech balloons. */
export function webtoonSvg(): string {
  const W = 400;
  const face = (cx: number, cy: number, s: number, hair: string, mood: 'calm' | 'shock'): string => `
<path d="M${cx - 62 * s} ${cy + 125 * s} C${cx - 58 * s} ${cy + 30 * s} ${cx + 58 * s} ${cy + 30 * s} ${cx + 62 * s} ${cy + 125 * s} Z" fill="#4b7bd1" stroke="#1b1b1b" stroke-width="3"/>
<ellipse cx="${cx}" cy="${cy}" rx="${46 * s}" ry="${54 * s}" fill="#ffe0c8" stroke="#1b1b1b" stroke-width="3"/>
<path d="M${cx - 50 * s} ${cy - 5 * s} C${cx - 55 * s} ${cy - 70 * s} ${cx + 55 * s} ${cy - 70 * s} ${cx + 50 * s} ${cy - 5 * s} C${cx + 30 * s} ${cy - 30 * s} ${cx - 20 * s} ${cy - 35 * s} ${cx - 50 * s} ${cy - 5 * s} Z" fill="${hair}" stroke="#1b1b1b" stroke-width="3"/>
${mood === 'calm' ? `<path d="M${cx - 24 * s} ${cy + 4 * s} q${8 * s} ${-6 * s} ${16 * s} 0 M${cx + 8 * s} ${cy + 4 * s} q${8 * s} ${-6 * s} ${16 * s} 0" fill="none" stroke="#1b1b1b" stroke-width="3"/><path d="M${cx - 8 * s} ${cy + 28 * s} q${8 * s} ${6 * s} ${16 * s} 0" fill="none" stroke="#1b1b1b" stroke-width="2.5"/>`
    : `<circle cx="${cx - 16 * s}" cy="${cy + 2 * s}" r="${7 * s}" fill="#fff" stroke="#1b1b1b" stroke-width="2.5"/><circle cx="${cx + 16 * s}" cy="${cy + 2 * s}" r="${7 * s}" fill="#fff" stroke="#1b1b1b" stroke-width="2.5"/><ellipse cx="${cx}" cy="${cy + 30 * s}" rx="${7 * s}" ry="${10 * s}" fill="#8a2a2a" stroke="#1b1b1b" stroke-width="2.5"/>`}`;
  const balloon = (cx: number, cy: number, rx: number, ry: number, lines: number): string => {
    let out = `<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="#fff" stroke="#1b1b1b" stroke-width="2.5"/><path d="M${cx - 10} ${cy + ry - 4} L${cx - 24} ${cy + ry + 22} L${cx + 8} ${cy + ry - 3}" fill="#fff" stroke="#1b1b1b" stroke-width="2.5"/>`;
    for (let k = 0; k < lines; k++) out += `<path d="M${cx - rx * 0.6} ${cy - ry * 0.35 + k * 13} h${rx * (1.2 - 0.3 * (k % 2))}" stroke="#333" stroke-width="4" stroke-linecap="round"/>`;
    return out;
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="1800">
<defs><linearGradient id="dusk" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#ffcf9a"/><stop offset="1" stop-color="#f28f7a"/></linearGradient></defs>
<rect width="${W}" height="1800" fill="#ffffff"/>
<rect x="20" y="30" width="360" height="480" fill="#cfe6f7" stroke="#111" stroke-width="4"/>
<rect x="22" y="380" width="356" height="128" fill="#9cc98a"/>
<path d="M60 380 L80 300 L100 380 Z M300 380 L330 280 L360 380 Z" fill="#5f9a5a" stroke="#111" stroke-width="2.5"/>
${face(200, 300, 1, '#3b2a1e', 'calm')}
${balloon(250, 110, 110, 50, 3)}
<rect x="20" y="560" width="360" height="560" fill="url(#dusk)" stroke="#111" stroke-width="4"/>
<path d="M22 1000 L378 960 L378 1118 L22 1118 Z" fill="#8a6a5a"/>
${face(130, 860, 1.1, '#c7423a', 'shock')}
${face(290, 900, 0.9, '#3b2a1e', 'calm')}
${balloon(120, 660, 90, 48, 2)}
<path d="M300 640 l20 -30 l6 34 l28 -20 l-10 34" fill="#ffe14d" stroke="#111" stroke-width="3"/>
<rect x="20" y="1170" width="360" height="600" fill="#1f2340" stroke="#111" stroke-width="4"/>
<circle cx="300" cy="1260" r="40" fill="#f7f1c6"/>
${[[60, 1220], [140, 1300], [220, 1210], [340, 1380], [90, 1420]].map(([x, y]) => `<circle cx="${x}" cy="${y}" r="2.5" fill="#fff"/>`).join('')}
${face(200, 1560, 1.3, '#3b2a1e', 'calm')}
${balloon(210, 1360, 120, 44, 2)}
</svg>`;
}
