// A listening socket passed in by the process that started tcpecho (systemd socket activation,
// `systemd-socket-activate`, or any parent that leaves a descriptor open): the server listens on
// it instead of binding one of its own. With `--udp`, a bound UDP socket is served the same way.
import { fstatSync, readFileSync } from 'node:fs';
import { InheritedSocketError } from '../errors.js';

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** One descriptor passed by socket activation, with its name from `LISTEN_FDNAMES` when given. */
export interface ActivationFd {
  fd: number;
  name: string | undefined;
}

/** What a passed descriptor was found to be: a listening TCP or Unix stream socket. */
export interface InheritedSocket {
  fd: number;
  kind: 'tcp' | 'unix';
  /** A Unix socket's path (`@NAME` for an abstract name) as the kernel lists it; '' when unnamed. */
  path: string | undefined;
}

/**
 * sd_listen_fds(1) in a few lines: when `LISTEN_PID` is this process and `LISTEN_FDS` is at least
 * 1, the descriptors `3 .. 3+LISTEN_FDS-1` with their `LISTEN_FDNAMES` (colon-separated), else
 * undefined. Either way `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are removed from `env`
 * when `LISTEN_PID` matched, so that the processes tcpecho starts (fork children, cluster
 * workers) do not take themselves for activated. Variables meant for another process (a
 * different `LISTEN_PID`) are left alone and ignored, as systemd documents.
 */
export function activationFds(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): ActivationFd[] | undefined {
  if (env.LISTEN_PID === undefined || env.LISTEN_PID !== String(pid)) return undefined;
  const count = env.LISTEN_FDS;
  const names = env.LISTEN_FDNAMES?.split(':');
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (count === undefined || !/^\d+$/.test(count)) {
    throw new InheritedSocketError(`Socket activation: LISTEN_FDS must be a number of descriptors, got \`${count ?? ''}\``);
  }
  const n = Number(count);
  if (n === 0) return undefined;
  return Array.from({ length: n }, (_, i) => ({ fd: LISTEN_FDS_START + i, name: names?.[i] || undefined }));
}

/** `fd 3` or `fd 3 name=tcpecho.socket`: how messages and the ready line name a passed descriptor. */
export function describeFd({ fd, name }: ActivationFd): string {
  return name === undefined ? `fd ${fd}` : `fd ${fd} name=${name}`;
}

/**
 * Checks that `fd` is a listening TCP or Unix stream socket and says which; anything else is
 * `InheritedSocketError` in one line. What can be told apart: not open (EBADF) and not a socket
 * (fstat); then, by the socket's inode in the kernel's tables (/proc/net/tcp, tcp6, udp, udp6,
 * unix of this network namespace), a UDP socket, a Unix datagram or seqpacket socket, and a TCP
 * or Unix socket that is not listening. A socket in none of those tables (another family:
 * netlink, packet, SCTP...) is refused as well. Where /proc/net cannot be read, only the fstat
 * checks are made and Node's own refusal (`listen` fails) is what remains.
 */
export function inspectInheritedSocket(fd: number, label = `fd ${fd}`): InheritedSocket {
  const ino = socketInode(fd, `Cannot listen on ${label}`);
  const tables = readTables();
  if (tables === undefined) return { fd, kind: 'tcp', path: undefined };
  const inode = String(ino);
  const tcp = tables.tcp.get(inode);
  if (tcp !== undefined) {
    if (tcp !== TCP_LISTEN) throw new InheritedSocketError(`Cannot listen on ${label}: a TCP socket that is not listening (state ${tcp})`);
    return { fd, kind: 'tcp', path: undefined };
  }
  if (tables.udp.has(inode)) throw new InheritedSocketError(`Cannot listen on ${label}: a UDP socket; tcpecho serves one with \`--udp\``);
  const unix = tables.unix.get(inode);
  if (unix !== undefined) {
    if (unix.type !== UNIX_STREAM) throw new InheritedSocketError(`Cannot listen on ${label}: a Unix ${unix.type === UNIX_DGRAM ? 'datagram' : 'seqpacket'} socket, and tcpecho serves stream sockets`);
    if (!unix.listening) throw new InheritedSocketError(`Cannot listen on ${label}: a Unix stream socket that is not listening`);
    return { fd, kind: 'unix', path: unix.path };
  }
  throw new InheritedSocketError(`Cannot listen on ${label}: a socket that is neither TCP nor Unix (not in /proc/net/tcp, tcp6 or unix)`);
}

/** What a descriptor passed to `--udp` was found to be: a UDP socket of this family. */
export interface InheritedDatagramSocket {
  fd: number;
  type: 'udp4' | 'udp6';
}

/**
 * `inspectInheritedSocket`'s counterpart for `--udp`: `fd` must be a UDP socket (bound, as
 * systemd's `ListenDatagram=` and `systemd-socket-activate --datagram` pass it), and which table
 * lists it (/proc/net/udp or udp6) says the family, which dgram needs to know before it opens the
 * descriptor. Anything else is `InheritedSocketError` in one line. Where /proc/net cannot be
 * read, `udp4` is assumed and the UDP server checks the family once it has the socket.
 */
export function inspectInheritedDatagramSocket(fd: number, label = `fd ${fd}`): InheritedDatagramSocket {
  const ino = socketInode(fd, `Cannot serve UDP on ${label}`);
  const tables = readTables();
  if (tables === undefined) return { fd, type: 'udp4' };
  const inode = String(ino);
  const type = tables.udp.get(inode);
  if (type !== undefined) return { fd, type };
  if (tables.tcp.has(inode)) throw new InheritedSocketError(`Cannot serve UDP on ${label}: a TCP socket; tcpecho serves one without \`--udp\``);
  const unix = tables.unix.get(inode);
  if (unix !== undefined) throw new InheritedSocketError(`Cannot serve UDP on ${label}: a Unix ${unix.type === UNIX_DGRAM ? 'datagram' : unix.type === UNIX_STREAM ? 'stream' : 'seqpacket'} socket; \`--udp\` serves UDP sockets (IPv4 or IPv6)`);
  throw new InheritedSocketError(`Cannot serve UDP on ${label}: a socket that is neither UDP, TCP nor Unix (not in /proc/net/udp or udp6)`);
}

/**
 * The inode of the socket open as `fd`, what the kernel's tables know it by. Not open (EBADF), or
 * not a socket: `InheritedSocketError`, `cannot` (`Cannot listen on fd 3`) and why.
 */
function socketInode(fd: number, cannot: string): number {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InheritedSocketError(`${cannot}: ${code === 'EBADF' ? 'no such open descriptor (EBADF)' : (code ?? (err as Error).message)}`, { cause: err });
  }
  if (!stats.isSocket()) throw new InheritedSocketError(`${cannot}: not a socket (${fileKind(stats)})`);
  return stats.ino;
}

const TCP_LISTEN = '0A';
const UNIX_STREAM = '0001';
const UNIX_DGRAM = '0002';
/** __SO_ACCEPTCON in /proc/net/unix's Flags: the socket listens. */
const SO_ACCEPTCON = 0x10000;

interface Tables {
  /** inode → TCP state in hex (`0A` is LISTEN). */
  tcp: Map<string, string>;
  /** inode → the socket type dgram needs for it (`udp4` from /proc/net/udp, `udp6` from udp6). */
  udp: Map<string, 'udp4' | 'udp6'>;
  unix: Map<string, { type: string; listening: boolean; path: string }>;
}

function readTables(): Tables | undefined {
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(`/proc/net/${name}`, 'latin1');
    } catch {
      return undefined;
    }
  };
  const tcp4 = read('tcp');
  const unixText = read('unix');
  if (tcp4 === undefined || unixText === undefined) return undefined;
  const tcp = new Map<string, string>();
  const udp = new Map<string, 'udp4' | 'udp6'>();
  // `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`: the state is field 3, the inode field 9.
  for (const text of [tcp4, read('tcp6') ?? '']) {
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9) tcp.set(f[9] as string, f[3] as string);
    }
  }
  for (const [text, type] of [[read('udp') ?? '', 'udp4'], [read('udp6') ?? '', 'udp6']] as const) {
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9) udp.set(f[9] as string, type);
    }
  }
  // `Num RefCount Protocol Flags Type St Inode [Path]`.
  const unix = new Map<string, { type: string; listening: boolean; path: string }>();
  for (const line of unixText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    unix.set(f[6] as string, { type: f[4] as string, listening: (parseInt(f[3] as string, 16) & SO_ACCEPTCON) !== 0, path: f.slice(7).join(' ') });
  }
  return { tcp, udp, unix };
}

function fileKind(stats: import('node:fs').Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a pipe';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'an anonymous or special file';
}
