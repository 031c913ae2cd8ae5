/**
 * Test harness, not shipped. The simulated document the Chromium tests serve (tests/uxp/chromium.ts):
 * its size and layers (raw RGBA) from /doc.json, opened in a fresh fake Photoshop.
 */
import { FakePhotoshop, type FakeDocument } from '../../tests/uxp/fake-photoshop.js';
import { TOKEN_KEY } from '../src/panel/connection.js';

interface DocSpec {
  title: string;
  width: number;
  height: number;
  layers: { name: string; url: string }[];
}

export interface ServedDocument {
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly layers: readonly { readonly name: string; readonly rgba: Uint8Array }[];
}

export async function loadServedDocument(): Promise<ServedDocument> {
  const spec = (await (await fetch('/doc.json')).json()) as DocSpec;
  const layers: { name: string; rgba: Uint8Array }[] = [];
  for (const l of spec.layers) layers.push({ name: l.name, rgba: new Uint8Array(await (await fetch(l.url)).arrayBuffer()) });
  return { title: spec.title, width: spec.width, height: spec.height, layers };
}

/** A new fake Photoshop with the document open and, when `token` is given, the pairing token stored. */
export function openInFakePhotoshop(served: ServedDocument, token: string | null): { ps: FakePhotoshop; doc: FakeDocument } {
  const ps = new FakePhotoshop();
  const doc = ps.openDocument({ title: served.title, width: served.width, height: served.height, layers: served.layers.map((l) => ({ name: l.name, rgba: l.rgba.slice() })) });
  if (token) ps.secrets.set(TOKEN_KEY, new TextEncoder().encode(token));
  return { ps, doc };
}
