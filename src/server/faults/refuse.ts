import type net from 'node:net';
import type { Faults } from './faults.js';

/**
 * `refuseRate`: a share of new connections reset at once after accept, before a byte is read, in
 * the process that accepts (the fork parent uses no child for them).
 */
export function refusedByFault(faults: Faults | undefined, socket: net.Socket): boolean {
  const rate = faults?.refuseRate;
  if (rate === undefined || rate === 0 || Math.random() >= rate) return false;
  socket.on('error', () => {});
  socket.resetAndDestroy();
  return true;
}
