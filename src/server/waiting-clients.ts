import type net from 'node:net';
import { readTcpTable, tcpTableKey, TCP_CLOSE_WAIT } from './tcp-table.js';

/** How often the kernel's socket table is read while clients wait. */
const CHECK_INTERVAL_MS = 1000;

interface Entry<T> {
  item: T;
  /** Queue order: only entries queued before a read of the table began may be judged by it. */
  seq: number;
  key: string | undefined;
}

/**
 * Clients accepted and waiting, unread, for a process to serve them (fork mode's queue, the
 * cluster primary's). A client that leaves while it waits is noticed without reading its socket:
 * about once a second while any wait, the kernel's TCP table says which have gone, and those are
 * destroyed and handed to `onGone`. Gone means reset or closed (absent from the table), or a FIN
 * with nothing before it (CLOSE_WAIT with only the FIN unread: its echo would be empty). A client
 * that sent data and then its FIN is a half-close waiting for its echo, and keeps its place.
 * Where the table cannot be read (no /proc), nothing is dropped.
 *
 * Clients on a Unix socket are never judged gone: no table lists their state (/proc/net/unix
 * shows neither the peer nor what is queued), and they have no key. One that left waits its turn
 * like the others; the process it is handed to then reads its end at once and reports it closed.
 */
export class WaitingClients<T extends { socket: net.Socket }> {
  readonly #onGone: (item: T) => void;
  #entries: Array<Entry<T>> = [];
  #nextSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #unavailable = false;

  constructor(onGone: (item: T) => void) {
    this.#onGone = onGone;
  }

  get length(): number {
    return this.#entries.length;
  }

  push(item: T): void {
    const { localAddress, localPort, remoteAddress, remotePort } = item.socket;
    const key = localAddress === undefined || localPort === undefined || remoteAddress === undefined || remotePort === undefined
      ? undefined
      : tcpTableKey(localAddress, localPort, remoteAddress, remotePort);
    this.#entries.push({ item, seq: this.#nextSeq++, key });
    this.#schedule();
  }

  shift(): T | undefined {
    const entry = this.#entries.shift();
    if (this.#entries.length === 0) this.#stop();
    return entry?.item;
  }

  /** Removes and returns every waiting client. */
  clear(): T[] {
    const items = this.#entries.map((entry) => entry.item);
    this.#entries = [];
    this.#stop();
    return items;
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#reading || this.#unavailable || this.#entries.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#check();
    }, CHECK_INTERVAL_MS).unref();
  }

  async #check(): Promise<void> {
    const before = this.#nextSeq;
    const wanted = new Set<string>();
    for (const entry of this.#entries) if (entry.key !== undefined) wanted.add(entry.key);
    if (wanted.size === 0) return this.#schedule();
    this.#reading = true;
    const table = await readTcpTable(wanted);
    this.#reading = false;
    if (table === undefined) {
      this.#unavailable = true;
      return;
    }
    const gone: T[] = [];
    this.#entries = this.#entries.filter((entry) => {
      // A client queued after the read began may be missing from the table only for that reason.
      if (entry.key === undefined || entry.seq >= before) return true;
      const found = table.get(entry.key);
      if (found !== undefined && !(found.state === TCP_CLOSE_WAIT && found.rxQueue <= 1)) return true;
      gone.push(entry.item);
      return false;
    });
    for (const item of gone) {
      item.socket.destroy();
      this.#onGone(item);
    }
    this.#schedule();
  }
}
