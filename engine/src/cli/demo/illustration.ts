/**
 * The demo's sample illustration, made by the project itself (no third-party artwork): a still life
 * with clean line art, flat colours, cast shadows and highlights, the way an illustrator would paint
 * it. Light comes from the window at the upper left, so shadows fall to the lower right.
 * Pure data: `illustrationSvg()` returns SVG text; the demo renders it with sharp.
 */

export const ILLUSTRATION_WIDTH = 768;
export const ILLUSTRATION_HEIGHT = 1024;

const INK = '#3b2a22';

function line(width: number): string {
  return `stroke="${INK}" stroke-width="${width}" stroke-linejoin="round" stroke-linecap="round"`;
}

function flower(cx: number, cy: number, r: number, petal: string, shade: string, centre: string, petals: number, turn: number): string {
  const parts: string[] = [];
  for (let i = 0; i < petals; i++) {
    const a = turn + (i * 360) / petals;
    parts.push(
      `<ellipse cx="${cx}" cy="${cy - r * 0.62}" rx="${(r * 0.3).toFixed(1)}" ry="${(r * 0.55).toFixed(1)}" fill="${i % 2 === 0 ? petal : shade}" ${line(2.5)} transform="rotate(${a.toFixed(1)} ${cx} ${cy})"/>`,
    );
  }
  parts.push(`<circle cx="${cx}" cy="${cy}" r="${(r * 0.38).toFixed(1)}" fill="${centre}" ${line(3)}/>`);
  parts.push(`<circle cx="${cx - r * 0.12}" cy="${cy - r * 0.12}" r="${(r * 0.12).toFixed(1)}" fill="#ffffff" fill-opacity="0.35"/>`);
  return parts.join('\n');
}

function tulip(cx: number, cy: number, s: number, fill: string, shade: string, tilt: number): string {
  return `<g transform="rotate(${tilt} ${cx} ${cy})">
  <path d="M ${cx - 26 * s} ${cy - 10 * s} C ${cx - 30 * s} ${cy + 25 * s}, ${cx - 12 * s} ${cy + 38 * s}, ${cx} ${cy + 38 * s} C ${cx + 12 * s} ${cy + 38 * s}, ${cx + 30 * s} ${cy + 25 * s}, ${cx + 26 * s} ${cy - 10 * s} L ${cx + 13 * s} ${cy + 4 * s} L ${cx} ${cy - 22 * s} L ${cx - 13 * s} ${cy + 4 * s} Z" fill="${fill}" ${line(3)}/>
  <path d="M ${cx + 2 * s} ${cy + 36 * s} C ${cx + 16 * s} ${cy + 34 * s}, ${cx + 27 * s} ${cy + 22 * s}, ${cx + 26 * s} ${cy - 10 * s} L ${cx + 13 * s} ${cy + 4 * s} Z" fill="${shade}"/>
  <path d="M ${cx - 16 * s} ${cy + 2 * s} C ${cx - 18 * s} ${cy + 16 * s}, ${cx - 12 * s} ${cy + 26 * s}, ${cx - 6 * s} ${cy + 30 * s}" fill="none" stroke="#ffffff" stroke-opacity="0.45" stroke-width="${4 * s}" stroke-linecap="round"/>
</g>`;
}

function leaf(x: number, y: number, length: number, angle: number, fill: string): string {
  return `<path d="M ${x} ${y} C ${x + length * 0.35} ${y - length * 0.3}, ${x + length * 0.8} ${y - length * 0.25}, ${x + length} ${y} C ${x + length * 0.7} ${y + length * 0.18}, ${x + length * 0.3} ${y + length * 0.2}, ${x} ${y} Z" fill="${fill}" ${line(2.5)} transform="rotate(${angle} ${x} ${y})"/>
<path d="M ${x} ${y} Q ${x + length * 0.5} ${y - length * 0.04}, ${x + length * 0.92} ${y}" fill="none" stroke="${INK}" stroke-width="1.5" stroke-opacity="0.6" transform="rotate(${angle} ${x} ${y})"/>`;
}

function apple(cx: number, cy: number, r: number, fill: string, shade: string): string {
  return `<ellipse cx="${cx + r * 0.55}" cy="${cy + r * 0.92}" rx="${r * 1.05}" ry="${r * 0.22}" fill="#5a3b24" fill-opacity="0.35"/>
<path d="M ${cx} ${cy - r * 0.78} C ${cx - r * 0.35} ${cy - r * 1.05}, ${cx - r * 1.08} ${cy - r * 0.9}, ${cx - r * 1.02} ${cy - r * 0.05} C ${cx - r * 0.98} ${cy + r * 0.7}, ${cx - r * 0.45} ${cy + r * 1.0}, ${cx} ${cy + r * 0.9} C ${cx + r * 0.45} ${cy + r * 1.0}, ${cx + r * 0.98} ${cy + r * 0.7}, ${cx + r * 1.02} ${cy - r * 0.05} C ${cx + r * 1.08} ${cy - r * 0.9}, ${cx + r * 0.35} ${cy - r * 1.05}, ${cx} ${cy - r * 0.78} Z" fill="${fill}" ${line(3.5)}/>
<path d="M ${cx + r * 0.15} ${cy + r * 0.86} C ${cx + r * 0.6} ${cy + r * 0.9}, ${cx + r * 0.98} ${cy + r * 0.55}, ${cx + r * 0.98} ${cy - r * 0.1} C ${cx + r * 0.75} ${cy + r * 0.35}, ${cx + r * 0.45} ${cy + r * 0.6}, ${cx + r * 0.15} ${cy + r * 0.86} Z" fill="${shade}"/>
<ellipse cx="${cx - r * 0.48}" cy="${cy - r * 0.35}" rx="${r * 0.16}" ry="${r * 0.28}" fill="#ffffff" fill-opacity="0.7" transform="rotate(20 ${cx - r * 0.48} ${cy - r * 0.35})"/>
<path d="M ${cx} ${cy - r * 0.72} C ${cx + r * 0.04} ${cy - r * 0.95}, ${cx + r * 0.12} ${cy - r * 1.1}, ${cx + r * 0.2} ${cy - r * 1.2}" fill="none" ${line(4)}/>
${leaf(cx + r * 0.12, cy - r * 1.02, r * 0.55, -25, '#6fa452')}`;
}

/** SVG text of the still life, 768x1024. Deterministic. */
export function illustrationSvg(): string {
  const W = ILLUSTRATION_WIDTH;
  const H = ILLUSTRATION_HEIGHT;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<defs>
  <linearGradient id="wall" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#f6ead3"/><stop offset="1" stop-color="#e2cda9"/>
  </linearGradient>
  <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="#7fb3df"/><stop offset="1" stop-color="#d7ebf5"/>
  </linearGradient>
  <linearGradient id="table" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="#b57a4e"/><stop offset="1" stop-color="#d29b69"/>
  </linearGradient>
  <filter id="soft" x="-20%" y="-20%" width="140%" height="140%"><feGaussianBlur stdDeviation="14"/></filter>
</defs>

<!-- wall and the patch of window light on it -->
<rect x="0" y="0" width="${W}" height="650" fill="url(#wall)"/>
<path d="M 420 150 L 690 200 L 706 590 L 446 556 Z" fill="#fff7e6" fill-opacity="0.5" filter="url(#soft)"/>
<path d="M 560 176 L 572 574 M 432 352 L 700 398" stroke="#e8d6b4" stroke-width="12" stroke-opacity="0.6" filter="url(#soft)"/>

<!-- window -->
<rect x="58" y="64" width="300" height="390" rx="6" fill="#fbf4e6" ${line(4)}/>
<rect x="80" y="86" width="256" height="346" fill="url(#sky)" ${line(3)}/>
<path d="M 96 200 C 96 178, 130 170, 142 184 C 150 160, 196 160, 204 188 C 226 180, 246 198, 236 214 L 100 214 C 90 212, 90 204, 96 200 Z" fill="#ffffff" ${line(2)}/>
<path d="M 218 300 C 220 286, 244 282, 252 292 C 262 276, 296 280, 298 300 C 312 300, 318 314, 306 320 L 222 320 C 210 318, 210 304, 218 300 Z" fill="#ffffff" ${line(2)}/>
<path d="M 80 360 C 120 330, 170 345, 210 330 C 250 318, 300 340, 336 326 L 336 432 L 80 432 Z" fill="#9fc48a" ${line(2.5)}/>
<path d="M 80 392 C 130 376, 190 392, 240 380 C 280 372, 310 384, 336 378 L 336 432 L 80 432 Z" fill="#7eaa6c" ${line(2)}/>
<rect x="203" y="86" width="10" height="346" fill="#fbf4e6" ${line(2.5)}/>
<rect x="80" y="254" width="256" height="10" fill="#fbf4e6" ${line(2.5)}/>
<rect x="40" y="452" width="338" height="24" rx="4" fill="#f1e3c9" ${line(3.5)}/>
<rect x="52" y="476" width="314" height="10" fill="#c9b28e" ${line(2)}/>

<!-- table -->
<path d="M 0 640 L ${W} 640 L ${W} 890 L 0 890 Z" fill="url(#table)" ${line(4)}/>
<path d="M 0 890 L ${W} 890 L ${W} ${H} L 0 ${H} Z" fill="#8d5a37" ${line(4)}/>
<path d="M 0 905 L ${W} 905" stroke="#6e4328" stroke-width="6"/>
<path d="M 40 700 C 180 692, 300 706, 470 698" fill="none" stroke="#9c6840" stroke-width="2.5" stroke-linecap="round"/>
<path d="M 120 790 C 260 782, 420 796, 600 786" fill="none" stroke="#9c6840" stroke-width="2.5" stroke-linecap="round"/>
<path d="M 380 845 C 500 840, 620 850, 740 842" fill="none" stroke="#9c6840" stroke-width="2.5" stroke-linecap="round"/>

<!-- napkin -->
<path d="M 60 850 L 250 810 L 330 860 L 130 884 Z" fill="#f7f2ea" ${line(3)}/>
<path d="M 130 884 L 330 860 L 326 874 L 136 898 Z" fill="#d9cfc2" ${line(2.5)}/>
<path d="M 96 843 L 270 806 M 120 870 L 300 844" stroke="#c9463c" stroke-width="5" stroke-linecap="round"/>

<!-- vase shadow, vase, stems and flowers -->
<path d="M 300 760 C 380 770, 470 770, 520 748 C 470 736, 380 736, 330 746 Z" fill="#5a3b24" fill-opacity="0.33"/>
<path d="M 300 330 C 270 400, 250 470, 282 548" fill="none" stroke="#4f8a3c" stroke-width="7" stroke-linecap="round"/>
<path d="M 300 330 C 270 400, 250 470, 282 548" fill="none" ${line(2)} stroke-opacity="0.7"/>
<path d="M 226 372 C 250 430, 270 490, 292 550" fill="none" stroke="#4f8a3c" stroke-width="7" stroke-linecap="round"/>
<path d="M 398 356 C 360 420, 330 480, 312 550" fill="none" stroke="#4f8a3c" stroke-width="7" stroke-linecap="round"/>
<path d="M 170 470 C 220 490, 260 520, 286 556" fill="none" stroke="#4f8a3c" stroke-width="7" stroke-linecap="round"/>
<path d="M 440 470 C 390 490, 345 520, 318 556" fill="none" stroke="#4f8a3c" stroke-width="7" stroke-linecap="round"/>
${leaf(272, 470, 90, -150, '#6fa452')}
${leaf(330, 470, 96, -30, '#5e9444')}
${leaf(258, 420, 70, -120, '#5e9444')}
${flower(300, 300, 62, '#f5c431', '#e5a91f', '#6b4226', 12, 8)}
${tulip(226, 360, 1.25, '#d9473c', '#a92f2a', -18)}
${tulip(400, 344, 1.2, '#e8715a', '#c4503e', 16)}
${flower(168, 470, 38, '#ffffff', '#e9e3f2', '#f0b429', 9, 20)}
${flower(444, 468, 40, '#ffffff', '#e9e3f2', '#f0b429', 9, 0)}
<path d="M 268 548 C 262 566, 268 580, 262 600 C 214 632, 200 700, 236 744 C 256 766, 344 766, 364 744 C 400 700, 386 632, 338 600 C 332 580, 338 566, 332 548 Z" fill="#3f6fb0" ${line(4)}/>
<path d="M 338 600 C 386 632, 400 700, 364 744 C 352 758, 326 764, 304 765 C 340 740, 360 690, 338 600 Z" fill="#2b4f86"/>
<path d="M 214 660 C 260 672, 340 672, 386 660 L 388 690 C 340 702, 260 702, 212 690 Z" fill="#e9d8a6" ${line(2.5)}/>
<circle cx="240" cy="676" r="5" fill="#c9463c"/><circle cx="275" cy="682" r="5" fill="#c9463c"/><circle cx="310" cy="683" r="5" fill="#c9463c"/><circle cx="345" cy="680" r="5" fill="#c9463c"/><circle cx="372" cy="674" r="4" fill="#c9463c"/>
<path d="M 236 630 C 226 660, 226 700, 244 728" fill="none" stroke="#ffffff" stroke-opacity="0.55" stroke-width="9" stroke-linecap="round"/>
<ellipse cx="300" cy="548" rx="34" ry="9" fill="#2b4f86" ${line(3)}/>

<!-- cup and saucer -->
<ellipse cx="660" cy="752" rx="104" ry="22" fill="#5a3b24" fill-opacity="0.3"/>
<ellipse cx="640" cy="742" rx="96" ry="24" fill="#f4f1ec" ${line(3.5)}/>
<ellipse cx="640" cy="738" rx="56" ry="12" fill="#ded8cf"/>
<path d="M 702 668 C 748 660, 756 716, 704 722" fill="none" ${line(11)}/>
<path d="M 702 668 C 748 660, 756 716, 704 722" fill="none" stroke="#f4f1ec" stroke-width="5" stroke-linecap="round"/>
<path d="M 576 660 L 704 660 C 702 700, 690 732, 660 742 L 620 742 C 590 732, 578 700, 576 660 Z" fill="#f4f1ec" ${line(3.5)}/>
<path d="M 704 660 C 702 700, 690 732, 660 742 L 648 742 C 672 728, 686 700, 688 660 Z" fill="#cfc6ba"/>
<ellipse cx="640" cy="660" rx="64" ry="13" fill="#f4f1ec" ${line(3)}/>
<ellipse cx="640" cy="662" rx="54" ry="9" fill="#6b3e22"/>
<path d="M 588 676 C 590 700, 598 718, 608 728" fill="none" stroke="#ffffff" stroke-width="6" stroke-linecap="round"/>
<path d="M 600 690 L 680 690" stroke="#3f6fb0" stroke-width="5"/>
<path d="M 620 640 C 610 620, 632 606, 622 586 M 650 642 C 640 620, 664 604, 652 580" fill="none" stroke="#ffffff" stroke-opacity="0.7" stroke-width="4" stroke-linecap="round"/>

<!-- fruit -->
<path d="M 452 892 C 520 902, 560 896, 580 884 C 540 874, 490 876, 452 884 Z" fill="#5a3b24" fill-opacity="0.33"/>
<path d="M 470 770 C 452 790, 470 812, 456 832 C 430 868, 452 900, 492 898 C 530 900, 552 868, 528 832 C 514 812, 530 790, 510 770 C 500 758, 480 758, 470 770 Z" fill="#cfc24a" ${line(3.5)}/>
<path d="M 510 770 C 530 790, 514 812, 528 832 C 552 868, 530 900, 492 898 C 520 880, 528 850, 508 826 C 500 806, 514 786, 500 764 Z" fill="#a99a2e"/>
<ellipse cx="470" cy="846" rx="8" ry="16" fill="#ffffff" fill-opacity="0.6"/>
<path d="M 490 764 C 490 750, 496 742, 504 736" fill="none" ${line(4)}/>
${apple(580, 820, 58, '#c8342d', '#8f2222')}
${apple(690, 852, 50, '#d4452f', '#99291f')}
</svg>`;
}
