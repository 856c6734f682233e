/** What a command may touch of its process: the CLI entry gives the real ones, tests need none. */
export interface Io {
  /** Data and help text, to stdout. */
  out(text: string): void;
  /** One line of log, status or error, to stderr. */
  log(line: string): void;
  /** Text already made of whole lines, to stderr. */
  logText(text: string): void;
  version: string;
  /** Resolves with the name of the next SIGINT or SIGTERM. */
  nextStopSignal(): Promise<NodeJS.Signals>;
}

export function processIo(version: string): Io {
  return {
    out: (text) => process.stdout.write(text),
    log: (line) => process.stderr.write(`${line}\n`),
    logText: (text) => process.stderr.write(text),
    version,
    nextStopSignal: () =>
      new Promise((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }),
  };
}
