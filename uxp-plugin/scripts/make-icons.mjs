// Renders the plugin and panel icons from the SVG sources in icons/ (run once after editing an SVG;
// the PNGs are committed so the build needs no image tooling). UXP picks `name@1x.png`/`name@2x.png`
// for "scale": [1, 2]; the plain name is kept for tools that read the manifest path literally.
import sharp from 'sharp';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../icons/', import.meta.url));
const plugin = await readFile(`${dir}icon.svg`, 'utf8');
const panel = await readFile(`${dir}panel.svg`, 'utf8');
const jobs = [
  ['plugin', plugin, 48],
  ['panel', panel.replaceAll('COLOR', '#e3e3e3'), 23],
  ['panel-light', panel.replaceAll('COLOR', '#4b4b4b'), 23],
];
for (const [name, svg, size] of jobs) {
  for (const scale of [1, 2]) {
    const png = await sharp(Buffer.from(svg), { density: 72 * scale * 4 }).resize(size * scale, size * scale).png().toBuffer();
    await sharp(png).toFile(`${dir}${name}@${scale}x.png`);
    if (scale === 1) await sharp(png).toFile(`${dir}${name}.png`);
  }
}
console.log('icons written to', dir);
