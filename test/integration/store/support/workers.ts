/** Starts gate-worker.ts child processes and follows their messages. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerMessage } from './gate-worker.ts';

const WORKER = fileURLToPath(new URL('./gate-worker.ts', import.meta.url));

export interface RunningWorker {
  child: ChildProcess;
  /** Resolves with the first message of that type (also one that arrived before the call). */
  message<TType extends WorkerMessage['type']>(type: TType): Promise<Extract<WorkerMessage, { type: TType }>>;
  onProgress(listener: (committed: number) => void): void;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(env: Record<string, string>): RunningWorker {
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const received: WorkerMessage[] = [];
  const waiting: { type: string; resolve: (message: WorkerMessage) => void }[] = [];
  const progressListeners: ((committed: number) => void)[] = [];
  child.on('message', (message: WorkerMessage) => {
    received.push(message);
    if (message.type === 'progress') for (const listener of progressListeners) listener(message.committed);
    for (const waiter of waiting.filter((w) => w.type === message.type)) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    onProgress: (listener) => progressListeners.push(listener),
    message: <TType extends WorkerMessage['type']>(type: TType) => {
      const earlier = received.find((m) => m.type === type);
      if (earlier) return Promise.resolve(earlier as Extract<WorkerMessage, { type: TType }>);
      // A worker that dies first never sends it: fail instead of waiting for the test timeout.
      return Promise.race([
        new Promise<Extract<WorkerMessage, { type: TType }>>((resolve) =>
          waiting.push({ type, resolve: (m) => resolve(m as Extract<WorkerMessage, { type: TType }>) }),
        ),
        exited.then(({ code, signal }) => {
          const late = received.find((m) => m.type === type);
          if (late) return late as Extract<WorkerMessage, { type: TType }>;
          throw new Error(`worker exited (code ${code}, signal ${signal}) before sending "${type}"`);
        }),
      ]);
    },
  };
}
