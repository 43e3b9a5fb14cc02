// tsc mirrors the source tree under dist/ (dist/src/cli/main.js), but the documented entry point is
// `node dist/cli.js` and the package bin; this writes that one-line entry after every build.
import { writeFileSync, chmodSync, cpSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
writeFileSync(entry, "#!/usr/bin/env node\nimport './src/cli/main.js';\n");
chmodSync(entry, 0o755);

// The ring view's static files are served as they are (no front-end build): copy them next to the
// compiled admin server, where it looks first.
cpSync(new URL('../src/host/ui/', import.meta.url), new URL('../dist/src/host/ui/', import.meta.url), { recursive: true });
