// The client's and the bench's TLS flags (`--tls`, `--ca`, `--fingerprint`, `--insecure`,
// `--servername`, `--cert`, `--key`) as the library's `tls` option, the files read and checked.
import { readFileSync } from 'node:fs';
import { TlsConfigError, UsageError, systemCode } from '../errors.js';
import { tlsSettings, type TlsClientOptions, type TlsSettings } from '../client/tls.js';
import type { OptionValue } from '../options/table.js';

/** The command line's TLS, or undefined for plain TCP. */
export interface CommandLineTls {
  options: TlsClientOptions;
  settings: TlsSettings;
}

const FLAG_OF: Record<keyof TlsClientOptions, string> = { ca: 'ca', cert: 'cert', key: 'key', servername: 'servername', fingerprint: 'fingerprint', insecure: 'insecure' };

/**
 * `--ca`, `--fingerprint` and `--insecure` say how to verify a TLS server: each implies `--tls`.
 * `--servername`, `--cert` and `--key` without TLS are usage errors (a plain connection has no use
 * for them and the user may have forgotten `--tls`).
 */
export function tlsFromCommandLine(flags: Record<string, boolean>, values: Record<string, OptionValue>): CommandLineTls | undefined {
  // The TLS flags are all `text`: strings when given.
  const cliValues = values as Record<string, string | undefined>;
  const on = flags.tls === true || cliValues.ca !== undefined || cliValues.fingerprint !== undefined || flags.insecure === true;
  if (!on) {
    const stray = ['servername', 'cert', 'key'].find((key) => cliValues[key] !== undefined);
    if (stray !== undefined) throw new UsageError(`\`--${stray}\` is for TLS connections: add \`--tls\``);
    return undefined;
  }
  const options: TlsClientOptions = {};
  if (cliValues.ca !== undefined) options.ca = readPem(cliValues.ca, 'ca');
  if (cliValues.cert !== undefined) options.cert = readPem(cliValues.cert, 'cert');
  if (cliValues.key !== undefined) options.key = readPem(cliValues.key, 'key');
  if (cliValues.servername !== undefined) options.servername = cliValues.servername;
  if (cliValues.fingerprint !== undefined) options.fingerprint = cliValues.fingerprint;
  if (flags.insecure === true) options.insecure = true;
  const name = (key: keyof TlsClientOptions): string => {
    const file = key === 'ca' || key === 'cert' || key === 'key' ? cliValues[key] : undefined;
    return file === undefined ? `--${FLAG_OF[key]}` : `--${FLAG_OF[key]} ${file}`;
  };
  return { options, settings: tlsSettings(options, name) };
}

/** The file `path` given to `--FLAG`, which must exist and hold PEM text. */
function readPem(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    const code = systemCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new TlsConfigError(`Cannot read \`--${flag}\` file \`${path}\`: ${why}`, { cause: err });
  }
  // Node skips what is not a certificate in `ca` without a word: a key given there would only show
  // as every server refused.
  const [label, pattern] = flag === 'key' ? ['PRIVATE KEY', /-----BEGIN [A-Z ]*PRIVATE KEY-----/] : ['CERTIFICATE', /-----BEGIN CERTIFICATE-----/];
  if (!pattern.test(text)) throw new TlsConfigError(`\`--${flag}\` file \`${path}\` is not a PEM ${label === 'CERTIFICATE' ? 'certificate' : 'private key'} (no \`-----BEGIN ${label}-----\` line)`);
  return text;
}
