import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@tempered/core';
import { readExplorerRun, type ExplorerRun } from './run-dir.js';

/** The page's assets, written by the cli build (scripts/browser-bundle.mjs). */
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

export interface ExplorerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Most evaluation digits offered (default 30). */
  readonly digits?: number;
}

export interface Explorer {
  readonly url: string;
  readonly run: ExplorerRun;
  close(): Promise<void>;
}

/**
 * Serves the explorer for the run in `dir` on 127.0.0.1 only. Everything the page loads comes
 * from here: its bundle and the wasm binaries, the manifest, the digits, and the run's model
 * files (only the saved files of the models listed in the manifest: models/<name>/, or a loaded teacher's directory).
 */
export async function startExplorer(dir: string, options: ExplorerOptions): Promise<Explorer> {
  if (!existsSync(join(PAGE_DIR, 'app.js'))) throw new ConfigError('explore', `${PAGE_DIR} has no app.js: build @tempered/cli first (npm run build)`);
  const run = await readExplorerRun(dir, options.digits ?? 30);
  const models = new Set(run.manifest.models.map((m) => m.name));
  const manifest = JSON.stringify(run.manifest);
  const digits = new Uint8Array(run.digits.buffer, run.digits.byteOffset, run.digits.byteLength);

  const resolvePath = (path: string): { body: string | Uint8Array; type: string } | undefined => {
    if (path === '/' || path === '/index.html') return { body: readFileSync(join(PAGE_DIR, 'index.html')), type: TYPES['.html']! };
    if (path === '/app.js') return { body: readFileSync(join(PAGE_DIR, 'app.js')), type: TYPES['.js']! };
    if (path === '/run/manifest.json') return { body: manifest, type: TYPES['.json']! };
    if (path === '/run/digits.bin') return { body: digits, type: TYPES['.bin']! };
    const wasm = /^\/wasm\/([\w.-]+\.wasm)$/.exec(path);
    if (wasm && existsSync(join(PAGE_DIR, 'wasm', wasm[1]!))) return { body: readFileSync(join(PAGE_DIR, 'wasm', wasm[1]!)), type: TYPES['.wasm']! };
    const model = /^\/run\/models\/([^/]+)\/([\w-]+(?:\.[\w-]+)*)$/.exec(path);
    if (model && models.has(model[1]!)) {
      const file = join(run.modelDirs.get(model[1]!) ?? join(run.dir, 'models', model[1]!), model[2]!);
      if (existsSync(file)) return { body: readFileSync(file), type: TYPES[extname(file)] ?? TYPES['.bin']! };
    }
    return undefined;
  };

  let allowedHosts = new Set<string>();
  const server: Server = createServer((request, response) => {
    // Loopback alone does not stop a web page whose domain re-resolves to 127.0.0.1 (DNS
    // rebinding) from reading the run: answer only requests addressed to this server by name.
    if (!allowedHosts.has(request.headers.host ?? '')) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const found = request.method === 'GET' || request.method === 'HEAD' ? resolvePath(path) : undefined;
    if (!found) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(request.method === 'HEAD' ? undefined : found.body);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'EADDRINUSE' ? new ConfigError('--port', `127.0.0.1:${options.port} is in use; pick another port or 0 for any free one`) : error),
    );
    server.listen(options.port, '127.0.0.1', done);
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  return {
    url: `http://127.0.0.1:${port}/`,
    run,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
