/** The script every reader thread's Worker runs (reader-pool.ts): reader-serve.ts, as it is. */
import { serveReader } from './reader-serve.js';

serveReader();
