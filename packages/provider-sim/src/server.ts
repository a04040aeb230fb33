import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { resetState } from './admin.js';
import { createSimApp } from './app.js';
import type { SimOptions } from './state.js';
import type { SimStats } from './stats.js';

export interface RunningSim {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): SimStats;
  reset(): void;
}

/** Start the simulator over HTTP (port 0 = a free port). */
export async function startSim(opts: SimOptions = {}): Promise<RunningSim> {
  const { app, state } = createSimApp(opts);
  const host = opts.host ?? '127.0.0.1';
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  // Track sockets so close() can end hanging and keep-alive connections at once.
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}`,
    port,
    stats: () => state.stats.snapshot(),
    reset: () => resetState(state),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        state.shutdown.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
