/** Worker thread of the staging pool (stage-pool.ts): stages the sources it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import type { StageJob } from './stage.js';
import { stageSource } from './stage.js';

const port = parentPort;
if (!port) throw new Error('stage-worker.ts runs as a worker thread of the lab loader');
port.on('message', (job: StageJob) => {
  stageSource(job).then(
    (result) => port.postMessage({ ok: true, result }),
    (error: unknown) =>
      port.postMessage({
        ok: false,
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});
