import { Worker } from 'node:worker_threads';
import type { StageJob, StageResult } from './stage.js';
import { stageSource } from './stage.js';

/** Stages sources, up to `parallel` at once. */
export interface Stager {
  readonly parallel: number;
  stage(job: StageJob): Promise<StageResult>;
  /** Stops the worker threads (after the jobs in flight have settled). */
  close(): Promise<void>;
}

type Reply = { ok: true; result: StageResult } | { ok: false; message: string };

/**
 * `workers` threads staging one source each (JSON parsing and normalisation are most of a load's
 * CPU, and a thread has one core); with fewer than two, sources are staged on the calling thread.
 */
export function createStager(workers: number): Stager {
  if (workers < 2) return { parallel: 1, stage: stageSource, close: async () => {} };
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const waiting: Array<{ job: StageJob; done: (reply: Reply) => void }> = [];
  let broken: Error | null = null;

  const run = (worker: Worker, job: StageJob, done: (reply: Reply) => void) => {
    const onMessage = (reply: Reply) => finish(reply);
    const onError = (error: Error) => {
      broken = error;
      finish({ ok: false, message: `a staging thread failed: ${error.message}` });
    };
    const onExit = (code: number) => {
      broken = new Error(`a staging thread exited (code ${code})`);
      finish({ ok: false, message: broken.message });
    };
    const finish = (reply: Reply) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      done(reply);
      if (broken) {
        // A broken pool starts nothing more: the jobs still waiting fail now instead of never settling.
        const message = `a staging thread failed earlier: ${broken.message}`;
        for (const queued of waiting.splice(0)) queued.done({ ok: false, message });
        return;
      }
      const queued = waiting.shift();
      if (queued) run(worker, queued.job, queued.done);
      else idle.push(worker);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  };

  return {
    parallel: workers,
    stage(job) {
      return new Promise<StageResult>((resolve, reject) => {
        const done = (reply: Reply) =>
          reply.ok ? resolve(reply.result) : reject(new Error(`staging ${job.path}: ${reply.message}`));
        if (broken) return reject(broken);
        if (idle.length === 0 && all.length < workers) {
          const worker = startWorker();
          all.push(worker);
          idle.push(worker);
        }
        const worker = idle.pop();
        if (worker) run(worker, job, done);
        else waiting.push({ job, done });
      });
    },
    async close() {
      await Promise.all(all.map((worker) => worker.terminate()));
    },
  };
}

/**
 * The worker module: compiled JavaScript, or when this module runs from its TypeScript source (tests,
 * benchmarks) that source, through tsx registered in the thread (Node 20 threads do not inherit the
 * loader hooks of `--import tsx`).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./stage-worker.js', import.meta.url));
  // Resolved here, from this module (a thread evaluating code resolves from the working directory).
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const worker = new URL('./stage-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`;
  return new Worker(code, { eval: true });
}
