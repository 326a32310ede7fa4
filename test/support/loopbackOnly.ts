import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;
const attempts: string[] = [];
let installed = false;

/**
 * A tripwire for tests that must never leave the machine: every outgoing TCP connection of this
 * process to a non-loopback host is recorded and refused. Returns the list of refused targets.
 */
export function loopbackOnly(): readonly string[] {
  if (!installed) {
    installed = true;
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      const first = args[0];
      const options = (Array.isArray(first) ? first[0] : first) as { host?: string; path?: string } | number | string;
      const host =
        typeof options === 'object' && options !== null
          ? (options.path ? 'unix' : (options.host ?? 'localhost'))
          : typeof args[1] === 'string'
            ? args[1]
            : 'localhost';
      if (host !== 'unix' && !LOOPBACK.test(host)) {
        attempts.push(host);
        throw new Error(`test tripwire: connection to non-loopback host ${host} refused`);
      }
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof net.Socket.prototype.connect;
  }
  return attempts;
}
