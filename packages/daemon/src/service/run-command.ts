import { execFile } from 'node:child_process';
import type { CommandResult, ServiceCommand } from './service-spec';

/**
 * Runs a service manager command without a shell and collects what it said. A program that is
 * not there (no systemctl in a container) answers like a shell would: code 127.
 */
export function runCommand(command: ServiceCommand): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command.file, command.args, { timeout: 60_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error === null) return resolve({ code: 0, stdout, stderr });
      const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 127 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: stderr || error.message });
    });
  });
}
