/**
 * Intel and ticket figures, printing JSON: maltrail load time and memory, indicator lookup p50/p99
 * over a mix of hits and misses, ATT&CK bundle load and lookup, and the cost of one ticket call.
 * Usage: node --import tsx bench/intel.ts [--lookups N] [--datasets DIR]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createTicketStore, loadAttackReference, loadIndicators, sampleLabDir } from '../src/lab/index.js';
import { scanTrails } from '../src/lab/trails.js';

const flag = (name: string) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const lookups = Number(flag('--lookups') ?? 100_000);
const datasets = flag('--datasets') ?? fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const trailDir = join(datasets, 'maltrail', 'trails', 'static');
const bundle = join(datasets, 'attack', 'enterprise-attack.json');

function percentiles(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    n: sorted.length,
  };
}

/** Deterministic pseudo-random numbers, so runs compare. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Listed indicators (as written in the trails) and variations that must also hit: subdomains, URL paths. */
function sampleHits(count: number, next: () => number): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.txt')) files.push(join(dir, entry.name));
    }
  };
  walk(trailDir);
  const tokens: string[] = [];
  for (let index = 0; index < 300; index += 1) {
    const file = files[Math.floor(next() * files.length)];
    if (file) scanTrails(readFileSync(file), (token) => tokens.push(token));
  }
  return Array.from({ length: count }, () => {
    const token = tokens[Math.floor(next() * tokens.length)] ?? '192.0.2.1';
    const variant = next();
    if (/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(token) && variant < 0.3)
      return `www${Math.floor(variant * 100)}.${token}`;
    if (token.includes('/') && !token.startsWith('/') && variant < 0.5) {
      return `${/^[a-z]+:\/\//i.test(token) ? '' : 'http://'}${token}?q=${variant}`;
    }
    return token;
  });
}

function sampleMisses(count: number, next: () => number): string[] {
  const hex = () => Math.floor(next() * 16).toString(16);
  return Array.from({ length: count }, (_, index) => {
    switch (index % 4) {
      case 0:
        return `10.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
      case 1:
        return `host${Math.floor(next() * 1e9)}.corp-${Math.floor(next() * 1e6)}.example`;
      case 2:
        return `https://intranet${Math.floor(next() * 1e6)}.example/wiki/page-${Math.floor(next() * 1e6)}`;
      default:
        return Array.from({ length: 64 }, hex).join('');
    }
  });
}

// Tickets first: a ticket server runs in its own process, without the trail index in its heap.
const ticketHome = mkdtempSync(join(tmpdir(), 'warden-bench-tickets-'));
const tickets = createTicketStore({ dir: ticketHome });
let started = performance.now();
await tickets.listTickets({ limit: 1 });
const ticketFirstCallMs = performance.now() - started;
const ticketSamples: number[] = [];
for (let round = 0; round < 10; round += 1) {
  started = performance.now();
  await tickets.createTicket({ title: `bench ${round}`, severity: 'low', body: 'bench' });
  ticketSamples.push(performance.now() - started);
}
rmSync(ticketHome, { recursive: true, force: true });

const heapBefore = process.memoryUsage().heapUsed;
const loaded = loadIndicators({ trailDirs: [trailDir], feedDirs: [join(sampleLabDir, 'intel')] });
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;

const next = random(42);
const mix = [...sampleHits(lookups / 2, next), ...sampleMisses(lookups / 2, next)].sort(() => next() - 0.5);
const samples: number[] = [];
let hits = 0;
for (const value of mix) {
  const started = performance.now();
  const verdict = loaded.index.lookup(value);
  samples.push(performance.now() - started);
  if (verdict.verdict !== 'unknown') hits += 1;
}

const attack = loadAttackReference(bundle);
const attackSamples: number[] = [];
for (const id of ['T1059.001', 'T1218.005', 'T1003.001', 'T1055']) {
  for (let round = 0; round < 100; round += 1) {
    const started = performance.now();
    attack.reference.technique(id);
    attack.reference.group('apt29');
    attackSamples.push(performance.now() - started);
  }
}

console.log(
  JSON.stringify(
    {
      trails: {
        files: loaded.files,
        indicators: loaded.index.size,
        skippedLines: loaded.skipped,
        loadMs: Math.round(loaded.loadMs),
        heapMB: Math.round((heapAfter - heapBefore) / 1e6),
      },
      indicatorLookupMs: { ...percentiles(samples), hits, misses: mix.length - hits, targetP99: 1 },
      attack: {
        source: attack.reference.source,
        ...attack.reference.counts,
        loadMs: Math.round(attack.loadMs),
        lookupMs: percentiles(attackSamples),
      },
      ticketCallMs: {
        firstCallWithInitdb: Math.round(ticketFirstCallMs),
        create: percentiles(ticketSamples),
      },
    },
    null,
    2,
  ),
);
