import net from 'node:net';
import { parseCidr } from '../options/values.js';

/**
 * `allow` and `deny`, decided on the peer's address alone (before a byte is read). Node 20's
 * `blockList` server option is silently ignored (it came in 22.13), so every accepting process
 * checks with a `net.BlockList` of its own. With any allow rule, only matching addresses pass;
 * a deny rule wins over every allow rule. An IPv4-mapped IPv6 peer (`::ffff:127.0.0.2`, what a
 * dual-stack listener reports for IPv4 clients) is matched as the IPv4 address it carries.
 */
export class AddressRules {
  readonly #allow: net.BlockList | undefined;
  readonly #deny: net.BlockList | undefined;

  /** Undefined when there is no rule at all: then everyone passes, and nothing is checked. */
  static from(allow: readonly string[] = [], deny: readonly string[] = []): AddressRules | undefined {
    return allow.length === 0 && deny.length === 0 ? undefined : new AddressRules(allow, deny);
  }

  private constructor(allow: readonly string[], deny: readonly string[]) {
    this.#allow = allow.length === 0 ? undefined : blockList(allow, 'allow');
    this.#deny = deny.length === 0 ? undefined : blockList(deny, 'deny');
  }

  /** Whether a client from `address` may be served. An address that is not an IP is refused. */
  allows(address: string): boolean {
    const ip = unmapped(address);
    const family = net.isIP(ip);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.#deny?.check(ip, type) === true) return false;
    return this.#allow === undefined || this.#allow.check(ip, type);
  }
}

function blockList(rules: readonly string[], name: string): net.BlockList {
  const list = new net.BlockList();
  for (const rule of rules) {
    const { address, prefix, family } = parseCidr(rule, name);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

/** `::ffff:1.2.3.4` is 1.2.3.4; every other address is itself. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
