// `npm start`: set up what is missing, then serve the demo app on 127.0.0.1.
// Vite prints the URL. Extra arguments go to Vite (for example `--port 8080`).
import { join } from 'node:path';
import { ensurePackages, root, run } from './bootstrap.mjs';

ensurePackages();
run(join(root, 'node_modules', '.bin', 'vite'), ['--host', '127.0.0.1', ...process.argv.slice(2)]);
