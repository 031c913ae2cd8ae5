import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ILLUSTRATION_HEIGHT, ILLUSTRATION_WIDTH, illustrationSvg } from '../../engine/src/cli/demo/illustration.js';

test('the demo illustration renders as a full, colourful 768x1024 picture', async () => {
  const svg = illustrationSvg();
  assert.equal(svg, illustrationSvg(), 'deterministic');
  const { data, info } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [ILLUSTRATION_WIDTH, ILLUSTRATION_HEIGHT]);
  // A real illustration, not a blank or a single flat colour: many distinct colours, little pure white,
  // and dark line art present.
  const colours = new Set<number>();
  let white = 0;
  let ink = 0;
  for (let i = 0; i < data.length; i += 3) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    if (r > 250 && g > 250 && b > 250) white++;
    if (r < 80 && g < 60 && b < 50) ink++;
  }
  const pixels = info.width * info.height;
  assert.ok(colours.size > 300, `distinct colours: ${colours.size}`);
  assert.ok(white / pixels < 0.15, `white share ${white / pixels}`);
  assert.ok(ink / pixels > 0.01, `line-art share ${ink / pixels}`);
});
