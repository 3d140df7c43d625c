/**
 * Starts an HTTP server on a host (loopback unless told otherwise) and tells where it listens.
 * Shared by the metrics endpoint and the web view.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  port: number;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  origin: string;
}

export async function listen(
  server: Server,
  port: number | undefined,
  host = '127.0.0.1',
): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return { port: bound, origin: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
