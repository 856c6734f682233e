import type { Writable } from 'node:stream';
import { hexdumpLines } from '../../hexdump.js';

/** Unwritten dump text past which datagrams are skipped (counted) rather than queued. */
const DUMP_BOUND_BYTES = 1024 * 1024;

/**
 * `--hexdump` for datagrams: each one received as a `#PEER < N bytes` header and its bytes in
 * `hexdump -C` layout; each sent as `#PEER > N bytes`, the server's echo as the header alone (the
 * same bytes), the client's datagrams with their bytes. The
 * echo never waits on it: when the stream is more than DUMP_BOUND_BYTES behind (stderr to a
 * slow pipe), datagrams are not dumped, and counted; one line then says how many were skipped.
 */
export class DatagramDump {
  readonly #stream: Writable;
  skipped = 0;
  #skippedUnreported = 0;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  received(source: string, bytes: Buffer): void {
    if (this.#behind()) return;
    this.#write(`#${source} < ${bytes.length} bytes\n${hexdumpLines(bytes)}`);
  }

  /** An echo sent: its header alone when `bytes` is a length (the bytes are those received), else dumped too. */
  sent(peer: string, bytes: number | Buffer): void {
    if (this.#behind()) return;
    if (typeof bytes === 'number') this.#write(`#${peer} > ${bytes} bytes\n`);
    else this.#write(`#${peer} > ${bytes.length} bytes\n${hexdumpLines(bytes)}`);
  }

  #behind(): boolean {
    if (this.#stream.writableLength <= DUMP_BOUND_BYTES) return false;
    this.skipped++;
    this.#skippedUnreported++;
    return true;
  }

  #write(text: string): void {
    if (this.#skippedUnreported > 0) {
      text = `# hexdump: ${this.#skippedUnreported} datagram(s) not shown (stderr behind)\n${text}`;
      this.#skippedUnreported = 0;
    }
    this.#stream.write(text);
  }
}
