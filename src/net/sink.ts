/**
 * The fixed sink of `capbench send`: one native thread on the capture end that counts every frame,
 * datagram or byte the sender's methods deliver (src/native/send/sink.c). Frames are read from a
 * TPACKET_V3 ring by the same C counter as `run`'s packet-mmap rows; datagrams and streams from a
 * reading UDP or TCP socket.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../native/binding.js';
import { fromNative, InterruptedError, SystemError } from '../shared/errors.js';

export interface SinkOptions {
  kind: 'frames' | 'udp' | 'tcp';
  ifname: string;
  addr: string;
  port: number;
  bufferBytes: number;
  cpu: number;
}

export interface SinkStatus {
  running: boolean;
  /** Frames, datagrams, or reads of the stream. */
  units: number;
  bytes: number;
  ipv4: number;
  /** Frames the ring dropped, datagrams the socket dropped for want of room; 0 for TCP. */
  drops: number;
  /** TCP: the sender shut down and every byte was read. */
  eof: boolean;
  cpuNs: number;
  lastNs: number;
  error: string | null;
}

declare module '../native/binding.js' {
  interface NativeBinding {
    Sink: new (options: SinkOptions) => NativeSink;
  }
}

interface NativeSink {
  readonly port: number;
  start(): void;
  status(): SinkStatus;
  stop(): SinkStatus;
  close(): void;
}

const POLL_MS = 2;

export class Sink {
  private readonly sink: NativeSink;

  constructor(options: SinkOptions) {
    let sink: NativeSink | null = null;
    try {
      sink = new (native().Sink)(options);
      sink.start();
    } catch (err) {
      sink?.close();
      throw fromNative(err, `open the ${options.kind} sink on ${options.ifname}`);
    }
    this.sink = sink;
  }

  get port(): number {
    return this.sink.port;
  }

  status(): SinkStatus {
    return this.sink.status();
  }

  /**
   * Waits until `done` says the sink has everything, or nothing has arrived for idleMs; then
   * stops the thread and returns its final count. Throws if the thread stopped on an error.
   */
  async settle(
    done: (s: SinkStatus) => boolean,
    idleMs: number,
    signal: AbortSignal,
  ): Promise<SinkStatus> {
    let last = -1;
    let since = performance.now();
    for (;;) {
      const s = this.sink.status();
      if (s.error !== null) break;
      if (done(s)) break;
      if (s.units !== last) {
        last = s.units;
        since = performance.now();
      } else if (performance.now() - since > idleMs) break;
      if (signal.aborted)
        throw new InterruptedError(signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      await sleep(POLL_MS);
    }
    const final = this.sink.stop();
    if (final.error !== null) throw new SystemError(`sink: ${final.error}`);
    return final;
  }

  close(): void {
    this.sink.close();
  }
}
