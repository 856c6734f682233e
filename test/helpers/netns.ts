// Hosts made of network namespaces (`ip netns`): a server host with a bridge and generator hosts,
// each joined to the bridge by a veth pair created inside the namespaces, so no interface or
// address ever appears in the machine's own namespace. Removed when the test ends.
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Host {
  /** The namespace's name, for `ip netns exec NAME`. */
  ns: string;
  address: string;
}

export interface Hosts {
  server: Host;
  generators: Host[];
}

let made = 0;

/**
 * A server host (10.77.0.1 on a bridge) and `count` generator hosts (10.77.0.2, ...), or why they
 * cannot be made (not root, no `ip`, no namespaces in this kernel). Names carry the pid and a
 * counter, so that parallel runs do not clash; `t.after` deletes every namespace made, whatever
 * the test's outcome (their veth pairs go with them).
 */
export async function makeHosts(t: TestContext, count: number): Promise<Hosts | { unavailable: string }> {
  const prefix = `tcpecho-${process.pid}-${++made}`;
  const server: Host = { ns: `${prefix}-server`, address: '10.77.0.1' };
  const generators: Host[] = Array.from({ length: count }, (_, i) => ({ ns: `${prefix}-gen${i + 1}`, address: `10.77.0.${i + 2}` }));
  const created: string[] = [];
  t.after(async () => {
    for (const ns of created) await ip(['netns', 'del', ns]).catch(() => undefined);
  });
  try {
    for (const host of [server, ...generators]) {
      await ip(['netns', 'add', host.ns]);
      created.push(host.ns);
      await ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
    }
    const s = server.ns;
    await ip(['-n', s, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', s, 'addr', 'add', `${server.address}/24`, 'dev', 'br0']);
    await ip(['-n', s, 'link', 'set', 'br0', 'up']);
    for (const [i, host] of generators.entries()) {
      // The pair is made in the server's namespace with its peer born in the generator's.
      await ip(['-n', s, 'link', 'add', `v${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
      await ip(['-n', s, 'link', 'set', `v${i + 1}`, 'master', 'br0']);
      await ip(['-n', s, 'link', 'set', `v${i + 1}`, 'up']);
      await ip(['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (err) {
    return { unavailable: `cannot make network namespaces joined by a bridge (${firstLine(err)})` };
  }
  return { server, generators };
}

/** `argv` to run `command` (a program and its arguments) inside namespace `ns`. */
export function inNamespace(ns: string, command: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, ...command]];
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0] ?? '';
}
