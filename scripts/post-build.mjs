// tsc mirrors the source tree under dist/ (dist/src/cli/main.js), but the documented entry point is
// `node dist/cli.js` and the package bin; this writes that one-line entry after every build.
import { writeFileSync, chmodSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
writeFileSync(entry, "#!/usr/bin/env node\nimport './src/cli/main.js';\n");
chmodSync(entry, 0o755);
