/**
 * Real headless Chromium for the panel tests: a test-harness entry bundled with esbuild, served with the
 * panel's stylesheet and a simulated document (layers as raw RGBA) from 127.0.0.1, next to a REAL engine
 * that allows the page's origin, as a user would with --allow-origin.
 *
 * Chromium runs with --disable-web-security because UXP has no same-origin policy: the panel's fetches
 * to the engine (with the token header) are not CORS requests there. The engine's own Origin check still
 * runs.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestEngine } from './engine.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const plugin = join(here, '..', '..', 'uxp-plugin');

export interface HarnessDocument {
  readonly title: string;
  readonly width: number;
  readonly height: number;
  /** Top first, as in the Layers panel. */
  readonly layers: readonly { readonly name: string; readonly rgba: Uint8Array }[];
}

export class ChromiumHarness {
  engine!: TestEngine;
  origin = '';
  private server: Server | undefined;
  private browser: Browser | undefined;

  /** `entry`: the harness page under uxp-plugin/test-harness/ (e.g. 'page.ts'). */
  constructor(
    private readonly entry: string,
    private readonly doc: HarnessDocument,
  ) {}

  async start(): Promise<void> {
    const bundle = await build({
      entryPoints: [join(plugin, 'test-harness', this.entry)],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      write: false,
      logLevel: 'warning',
    });
    const layerUrl = (i: number): string => `/layer-${i}.rgba`;
    const files: Record<string, { type: string; body: Uint8Array | string }> = {
      '/': { type: 'text/html', body: readFileSync(join(plugin, 'test-harness', 'index.html'), 'utf8') },
      '/bundle.js': { type: 'text/javascript', body: bundle.outputFiles[0]?.contents ?? '' },
      '/styles.css': { type: 'text/css', body: readFileSync(join(plugin, 'src', 'styles.css'), 'utf8') },
      '/doc.json': {
        type: 'application/json',
        body: JSON.stringify({ title: this.doc.title, width: this.doc.width, height: this.doc.height, layers: this.doc.layers.map((l, i) => ({ name: l.name, url: layerUrl(i) })) }),
      },
    };
    this.doc.layers.forEach((l, i) => (files[layerUrl(i)] = { type: 'application/octet-stream', body: l.rgba }));
    const server = createServer((req, res) => {
      const f = files[(req.url ?? '/').split('?')[0] ?? '/'];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.type }).end(f.body);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    this.engine = new TestEngine([this.origin]);
    await this.engine.start();
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-web-security'],
    });
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.engine?.dispose();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Opens the harness page with `query` (the engine URL is added) and waits for body[data-ready]; no page errors. */
  async open(query: Record<string, string>, opts: { width?: number; dark?: boolean } = {}): Promise<Page> {
    if (!this.browser) throw new Error('start() the harness first');
    const page = await this.browser.newPage({ viewport: { width: opts.width ?? 320, height: 1000 }, colorScheme: opts.dark ? 'dark' : 'light' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const q = new URLSearchParams({ engine: this.engine.url, ...query });
    await page.goto(`${this.origin}/?${q.toString()}`);
    await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
    assert.deepEqual(errors, []);
    return page;
  }
}
