/** What is known of one source address: its counters and its token bucket. */
export class Source {
  readonly address: string;
  /** The port of its first datagram (a source address may send from many). */
  readonly firstPort: number;
  lastMs: number;
  datagrams = 0;
  bytes = 0;
  dropped = 0;
  /** When a drop of this source was last reported: at most one report a second. */
  lastDropReportMs = -Infinity;
  #tokens: number;
  #refilledMs: number;

  constructor(address: string, port: number, nowMs: number, rate: number) {
    this.address = address;
    this.firstPort = port;
    this.lastMs = nowMs;
    this.#tokens = rate;
    this.#refilledMs = nowMs;
  }

  /**
   * A token bucket of `rate` tokens a second holding at most `rate` (one second of burst): takes
   * one token if there is one.
   */
  take(nowMs: number, rate: number): boolean {
    const tokens = Math.min(rate, this.#tokens + ((nowMs - this.#refilledMs) * rate) / 1000);
    this.#refilledMs = nowMs;
    if (tokens < 1) {
      this.#tokens = tokens;
      return false;
    }
    this.#tokens = tokens - 1;
    return true;
  }
}

export type EvictReason = 'idle' | 'full' | 'close';

/**
 * The sources seen lately, by address, at most `max` of them whatever the number of addresses
 * (spoofed ones included). A source silent for `idleMs` is forgotten by `sweep()`; when the table
 * is full, a new source evicts the one known longest (the Map's first entry: insertion order,
 * so no reordering on the per-datagram path).
 */
export class SourceTable {
  readonly #sources = new Map<string, Source>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #rate: number;
  readonly #onNew: (source: Source) => void;
  readonly #onEvict: (source: Source, reason: EvictReason) => void;
  evicted = 0;

  constructor(options: {
    max: number;
    /** 0: never idle. */
    idleMs: number;
    rate: number;
    onNew: (source: Source) => void;
    onEvict: (source: Source, reason: EvictReason) => void;
  }) {
    this.#max = options.max;
    this.#idleMs = options.idleMs;
    this.#rate = options.rate;
    this.#onNew = options.onNew;
    this.#onEvict = options.onEvict;
  }

  get size(): number {
    return this.#sources.size;
  }

  /** The source of `address`, added (and announced) when new. */
  get(address: string, port: number, nowMs: number): Source {
    let source = this.#sources.get(address);
    if (source !== undefined) return source;
    if (this.#sources.size >= this.#max) {
      const oldest = this.#sources.values().next().value as Source;
      this.#evict(oldest, 'full');
    }
    source = new Source(address, port, nowMs, this.#rate);
    this.#sources.set(address, source);
    this.#onNew(source);
    return source;
  }

  /** Forgets every source silent for `idleMs` or longer. */
  sweep(nowMs: number): void {
    if (this.#idleMs === 0) return;
    for (const source of this.#sources.values()) {
      if (nowMs - source.lastMs >= this.#idleMs) this.#evict(source, 'idle');
    }
  }

  /** Forgets every source (at shutdown), reporting each. */
  clear(): void {
    for (const source of this.#sources.values()) this.#evict(source, 'close');
  }

  #evict(source: Source, reason: EvictReason): void {
    this.#sources.delete(source.address);
    if (reason !== 'close') this.evicted++;
    this.#onEvict(source, reason);
  }
}
