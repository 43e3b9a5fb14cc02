// Runs a bench script under this node as a user would, and hands back its exit code and output
// (an exit by signal or timeout counts as 1).
import { execFile } from 'node:child_process';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runScript(script: string, args: string[], timeoutMs = 60_000): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
