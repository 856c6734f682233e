/**
 * Source ports whose datagrams get no echo (unless `udpAllowLowPorts`). An echo server that
 * answers anything can be aimed at another UDP service by a spoofed source address: the two then
 * answer each other forever (echo against echo, against chargen), or the echo relays a flood to
 * a victim. Every port here is a well-known service that answers a datagram with one or more
 * datagrams (RFC 862 echo and its inetd siblings; the services CISA's alert TA14-017A and later
 * amplification reports list), so its datagrams reaching an echo server are either an attack
 * or a loop. Port 0 cannot be a real sender's. Real clients send from ephemeral ports (Linux
 * 32768-60999, IANA 49152-65535), none of which is listed.
 */
export const REFLECTING_PORTS: readonly { port: number; service: string }[] = [
  { port: 0, service: 'no sender uses it' },
  { port: 7, service: 'echo' },
  { port: 13, service: 'daytime' },
  { port: 17, service: 'qotd' },
  { port: 19, service: 'chargen' },
  { port: 37, service: 'time' },
  { port: 53, service: 'DNS' },
  { port: 69, service: 'TFTP' },
  { port: 111, service: 'portmap/rpcbind' },
  { port: 123, service: 'NTP' },
  { port: 137, service: 'NetBIOS name' },
  { port: 161, service: 'SNMP' },
  { port: 389, service: 'CLDAP' },
  { port: 520, service: 'RIP' },
  { port: 1900, service: 'SSDP' },
  { port: 3283, service: 'Apple Remote Desktop' },
  { port: 3702, service: 'WS-Discovery' },
  { port: 5353, service: 'mDNS' },
  { port: 5683, service: 'CoAP' },
  { port: 11211, service: 'memcached' },
];

/** One byte per port: a lookup per datagram, no hashing. */
const BLOCKED = new Uint8Array(65_536);
for (const { port } of REFLECTING_PORTS) BLOCKED[port] = 1;

/** Whether a datagram from `port` must get no echo. */
export function isReflectingPort(port: number): boolean {
  return BLOCKED[port] === 1;
}
