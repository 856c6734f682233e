import { readFileSync } from 'node:fs';
import { TlsConfigError, UsageError } from '../errors.js';
import type { EchoServerTlsOptions } from '../server/types.js';
import type { TlsNames } from '../server/tls/server-tls.js';

/**
 * The server's TLS flags as the library's `tls` option, with each file read: undefined without
 * TLS. A file that cannot be read is one line naming it; what is inside is checked by the
 * library, which names the flags and files through `names`.
 */
export function serverTlsFromFlags(given: Record<string, unknown>, tlsFlag: boolean): { tls: true | EchoServerTlsOptions; names: TlsNames } | undefined {
  const { tlsCert, tlsKey, tlsCa, tlsClientCert, tlsMinVersion, alpn } = given as Record<string, string | undefined>;
  const anyTlsOption = [tlsCert, tlsKey, tlsCa, tlsClientCert, tlsMinVersion, alpn].some((v) => v !== undefined);
  if (!tlsFlag && !anyTlsOption) return undefined;
  if (tlsClientCert !== undefined && tlsCa === undefined) throw new UsageError('`--tls-client-cert` needs `--tls-ca FILE`, the CA that signs the clients\' certificates');
  if (tlsCa !== undefined && tlsClientCert === undefined) throw new UsageError('`--tls-ca` needs `--tls-client-cert require` or `--tls-client-cert request`');
  const names: TlsNames = {
    cert: `\`--tls-cert ${tlsCert ?? ''}\``,
    key: `\`--tls-key ${tlsKey ?? ''}\``,
    ca: `\`--tls-ca ${tlsCa ?? ''}\``,
  };
  const options: EchoServerTlsOptions = {};
  if (tlsCert !== undefined) options.cert = readPem(tlsCert, '--tls-cert');
  if (tlsKey !== undefined) options.key = readPem(tlsKey, '--tls-key');
  if (tlsCa !== undefined) options.ca = readPem(tlsCa, '--tls-ca');
  if (tlsClientCert !== undefined) options.clientCert = tlsClientCert as 'require' | 'request';
  if (tlsMinVersion !== undefined) options.minVersion = tlsMinVersion as 'TLSv1.2' | 'TLSv1.3';
  if (alpn !== undefined) options.alpn = alpn.split(',').map((p) => p.trim());
  return { tls: options, names };
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new TlsConfigError(`Cannot read \`${flag} ${file}\`: ${why}${code === undefined ? '' : ` (${code})`}`, { cause: err });
  }
}
