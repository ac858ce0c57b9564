/**
 * A reader thread that fails where the test says (installed with reader-pool.ts
 * installReaderScript, handed "<open|consume|crash>:<index>"): reader `index` fails to open,
 * fails mid-read, or its thread ends without a word mid-read.
 */
import { workerData } from 'node:worker_threads';
import type { ReaderData } from '../../src/methods/reader-protocol.js';
import { serveReader } from '../../src/methods/reader-serve.js';

const [at, which] = String((workerData as ReaderData).scriptData).split(':');
const index = Number(which);

serveReader({
  beforeOpen(i) {
    if (at === 'open' && i === index) throw new Error('injected open failure');
  },
  beforeConsume(i) {
    if (i !== index) return;
    if (at === 'crash') process.exit(70);
    if (at === 'consume') throw new Error('injected consume failure');
  },
});
