/** The entry point node:cluster runs in each worker process (docs/workers.md). */
import { runWorker } from './worker.js';

runWorker().catch((error: unknown) => {
  process.stderr.write(`switchyard worker: unexpected error: ${String(error)}\n`);
  process.exit(1);
});
