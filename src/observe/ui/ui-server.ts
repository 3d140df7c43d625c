/**
 * The local web view: one page (static assets beside this file), the machines drawn by ELK as SVG,
 * live stats over Server-Sent Events, and an entity search that returns its history and path.
 * Binds to 127.0.0.1 unless told otherwise: it shows entity keys and event details.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../listen.ts';
import type { Gatekeeper } from '../../gatekeeper/gatekeeper.ts';
import { machineModel } from '../export/machine-model.ts';
import { entityPath } from '../history/entity-path.ts';
import { layoutMachine } from './layout.ts';
import { LiveView } from './live-view.ts';
import { renderMachineSvg } from './render-svg.ts';
import { messageOf } from '../../core/errors.ts';

export interface UiServerOptions {
  gatekeeper: Gatekeeper;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Least time between two pushed updates, in ms (default 200). */
  pushIntervalMs?: number;
  /** How often parked and stalled counts are re-read from the store while a page is open (default 2,000 ms). */
  storeRefreshMs?: number;
}

export interface UiServer {
  /** e.g. http://127.0.0.1:4400/ */
  readonly url: string;
  readonly port: number;
  readonly live: LiveView;
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const { gatekeeper } = options;
  const live = new LiveView(gatekeeper);
  const machines = await Promise.all(
    [...gatekeeper.aggregates].map(async ([name, aggregate]) => {
      const model = machineModel(aggregate.machine);
      return {
        aggregate: name,
        machineId: model.id,
        description: model.description ?? null,
        svg: renderMachineSvg(name, await layoutMachine(model)),
      };
    }),
  );
  const machinesJson = JSON.stringify(machines);
  const clients = new Set<ServerResponse>();
  const pushEvery = options.pushIntervalMs ?? 200;
  let pending: NodeJS.Timeout | undefined;
  let lastPush = 0;
  const push = () => {
    pending = undefined;
    lastPush = Date.now();
    const frame = `event: stats\ndata: ${JSON.stringify(live.snapshot())}\n\n`;
    for (const client of clients) client.write(frame);
  };
  const schedulePush = () => {
    if (clients.size === 0 || pending) return;
    pending = setTimeout(push, Math.max(0, pushEvery - (Date.now() - lastPush)));
    pending.unref();
  };
  const stopListening = live.onChange(schedulePush);
  const refresh = setInterval(() => {
    if (clients.size > 0) live.refreshFromStore().catch(() => undefined);
  }, options.storeRefreshMs ?? 2_000);
  refresh.unref();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const asset = ASSETS[url.pathname];
    if (asset) {
      const body = await readFile(new URL(`./assets/${asset.file}`, import.meta.url));
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' }).end(body);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (url.pathname === '/api/machines') return json(response, machinesJson);
    if (url.pathname === '/api/stats') {
      await live.refreshFromStore();
      return json(response, JSON.stringify(live.snapshot()));
    }
    if (url.pathname === '/api/state') {
      const aggregate = url.searchParams.get('aggregate') ?? '';
      const state = url.searchParams.get('state') ?? '';
      return json(response, JSON.stringify({ aggregate, state, ...live.entitiesIn(aggregate, state) }));
    }
    if (url.pathname === '/api/entity')
      return json(response, JSON.stringify(await findEntity(gatekeeper, url.searchParams)));
    if (url.pathname === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      response.write(`retry: 2000\nevent: stats\ndata: ${JSON.stringify(live.snapshot())}\n\n`);
      clients.add(response);
      request.on('close', () => clients.delete(response));
      live.refreshFromStore().catch(() => undefined);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server = createServer((request, response) => {
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`error: ${messageOf(error)}\n`);
    });
  });
  const { port, origin } = await listen(server, options.port, options.host);
  return {
    url: `${origin}/`,
    port,
    live,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopListening();
        live.close();
        clearInterval(refresh);
        if (pending) clearTimeout(pending);
        for (const client of clients) client.end();
        clients.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function json(response: ServerResponse, body: string): void {
  response
    .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    .end(body);
}

/** Every aggregate (or the one asked for) that knows this key: state, buffer, history and path. */
async function findEntity(gatekeeper: Gatekeeper, params: URLSearchParams) {
  const key = (params.get('key') ?? '').trim();
  const only = params.get('aggregate');
  if (key === '') return { key, matches: [] };
  const matches = [];
  for (const [name, aggregate] of gatekeeper.aggregates) {
    if (only && only !== name) continue;
    const [inspection, history] = await Promise.all([
      gatekeeper.inspect(name, key),
      gatekeeper.history(name, key),
    ]);
    if (!inspection && history.length === 0) continue;
    const path = entityPath(aggregate.machine, history);
    matches.push({
      aggregate: name,
      key,
      state: inspection?.state ?? null,
      status: inspection?.status ?? null,
      lastSeq: inspection?.lastSeq ?? null,
      buffered: (inspection?.buffered ?? []).map((entry) => ({
        seq: entry.event.seq ?? null,
        type: entry.event.type,
      })),
      parked: inspection?.parked
        ? { seq: inspection.parked.event.seq ?? null, type: inspection.parked.event.type }
        : null,
      history,
      path: {
        visited: path.visited,
        current: path.current,
        steps: path.steps.map((step) => ({
          step: step.step,
          transition: step.transition?.id ?? null,
          type: step.entry.type,
          seq: step.entry.seq,
          from: step.from,
          to: step.to,
        })),
        held: path.held.map((held) => ({
          outcome: held.entry.outcome,
          reason: held.entry.reason,
          type: held.entry.type,
          seq: held.entry.seq,
          states: held.states,
        })),
      },
    });
  }
  return { key, matches };
}
