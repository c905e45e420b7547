import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts a TypeScript entry point in a new Node process with an IPC channel, as `tsx` runs it. */
export function forkTs(entry: string | URL): ChildProcess {
  return fork(entry instanceof URL ? fileURLToPath(entry) : entry, [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends `request` to a fresh process of `entry` and resolves with its one reply. */
export function requestFromChild<Reply>(entry: string | URL, request: unknown): Promise<Reply> {
  const child = forkTs(entry);
  return new Promise<Reply>((resolve, reject) => {
    let reply: { value: Reply } | undefined;
    child.once('message', (message) => (reply = { value: message as Reply }));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (reply) resolve(reply.value);
      else reject(new Error(`${String(entry)} exited (${signal ?? `code ${code}`}) without a reply`));
    });
    child.send(request as object);
  });
}

/** The child's side: answers the one request this process was started for, then exits. */
export function answerParent<Request>(handle: (request: Request) => Promise<unknown>): void {
  process.once('message', (request) => {
    handle(request as Request).then(
      (reply) => process.send!(reply, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
