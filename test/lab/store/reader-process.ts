// Child process for the store sharing tests: `node --import tsx reader-process.ts <home>` opens the lab
// store read-only (creating it from the sample if needed), prints "ready <events>", and exits on "close".
import { join } from 'node:path';
import { openLabStore, readLabStatus, sampleLabDir } from '../../../src/lab/index.js';

const home = process.argv[2];
if (!home) throw new Error('usage: reader-process.ts <home>');
const store = await openLabStore(home, {
  readOnly: true,
  seedFile: join(sampleLabDir, 'sample-incident.jsonl'),
});
const status = await readLabStatus(store.database);
process.stdout.write(`ready ${status.events} ${status.files.length}\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  if (!String(chunk).includes('close')) return;
  store.close();
  process.exit(0);
});
