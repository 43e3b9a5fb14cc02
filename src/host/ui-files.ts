/**
 * The ring view's static files (HTML, one script, one stylesheet), served as they are: there is no
 * front-end build step. They live in src/host/ui/; the build copies them next to the compiled
 * module (dist/src/host/ui/), and when that copy is missing (tsc run by hand) the source folder is
 * used, so the page never depends on how the project was built.
 */
import { readFileSync } from 'node:fs';

/** The files the page is made of, by the URL path they are served at. */
const FILES: Record<string, { name: string; type: string }> = Object.freeze({
  '/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/ring-view.js': { name: 'ring-view.js', type: 'text/javascript; charset=utf-8' },
  '/ui/ring-view.css': { name: 'ring-view.css', type: 'text/css; charset=utf-8' },
});

const DIRS = [new URL('./ui/', import.meta.url), new URL('../../../src/host/ui/', import.meta.url)];
const cache = new Map<string, Buffer>();

/** The file served at `path`, or undefined when the path is not one of the page's files. */
export function uiFile(path: string): { body: Buffer; type: string } | undefined {
  const f = FILES[path];
  if (!f) return undefined;
  let body = cache.get(f.name);
  if (!body) {
    let lastErr: unknown;
    for (const dir of DIRS) {
      try {
        body = readFileSync(new URL(f.name, dir));
        break;
      } catch (err) {
        lastErr = err;
      }
    }
    if (!body) throw new Error(`ring view file ${f.name} not found next to the build or in src/host/ui: ${String(lastErr)}`);
    cache.set(f.name, body);
  }
  return { body, type: f.type };
}
