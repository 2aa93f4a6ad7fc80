/** Runs a baseline in a process of its own (bench/baselines/outside-node-red.ts) and collects its answer. */
import { fork } from 'child_process';
import path from 'path';
import type { ChildResult, ChildTask } from '../baselines/outside-node-red';

export interface RunningChild {
  pid: number;
  /** The first message: a server's address, or the final result of a loop. */
  first: Promise<ChildResult>;
  /** The final result. */
  result: Promise<ChildResult>;
  /** Asks a server to close (its final result follows). */
  stop(): void;
}

/** `nodeFlags`: Node options for the child besides the bench process's own (options.ts `v8Flags`). */
export function forkChild(task: ChildTask, nodeFlags: string[] = []): RunningChild {
  const child = fork(path.join(__dirname, '..', 'baselines', 'outside-node-red.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...nodeFlags],
  });
  let firstSeen = false;
  let resolveFirst!: (r: ChildResult) => void;
  let rejectAll!: (e: Error) => void;
  const first = new Promise<ChildResult>((resolve, reject) => {
    resolveFirst = resolve;
    rejectAll = reject;
  });
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('message', (m: ChildResult & { done?: boolean; error?: string }) => {
      if (m.error) {
        const err = new Error(`baseline ${task.kind} failed: ${m.error}`);
        rejectAll(err);
        reject(err);
        return;
      }
      if (!firstSeen) {
        firstSeen = true;
        resolveFirst(m);
      }
      if (m.done) resolve(m);
    });
    child.once('exit', (code) => {
      const err = new Error(`baseline ${task.kind} exited with ${code} before answering`);
      rejectAll(err);
      reject(err);
    });
  });
  first.catch(() => undefined);
  result.catch(() => undefined);
  child.send(task);
  return {
    pid: child.pid!, first, result,
    stop: () => {
      if (child.connected) child.send('stop');
    },
  };
}
