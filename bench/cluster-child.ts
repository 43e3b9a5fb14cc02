/**
 * A `chord cluster` child process for the benchmarks: started with OS-assigned ports, ready once
 * it prints its ready line, its peers listed through the admin API, its RSS read from /proc, and
 * stopped with SIGTERM (every peer leaves; killed if that takes too long). Optional extra node
 * flags (e.g. --cpu-prof) go before the script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../cli.js', import.meta.url)); // dist/bench/ -> dist/cli.js

export interface ClusterChild {
  proc: ChildProcess;
  addrs: string[];
  /** The admin API's host:port (/metrics, /api/...). */
  admin: string;
  readyMs: number;
  /** Resident set of the cluster process now, MiB (Linux /proc; NaN elsewhere). */
  rssMiB(): number;
  /** CPU time (user + system, ms) the cluster process has used so far (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  stop(timeoutMs?: number): Promise<number | null>;
}

/** `cli` is the chord CLI to run (another build's `dist/cli.js` for A/B runs). */
export async function startClusterChild(peers: number, workers: number, nodeFlags: string[] = [], clusterArgs: string[] = [], readyTimeoutMs = 1_200_000, cli = CLI): Promise<ClusterChild> {
  const t0 = performance.now();
  const proc = spawn(
    process.execPath,
    [...nodeFlags, cli, 'cluster', '--peers', String(peers), '--workers', String(workers), '--base-port', '0', '--registry-port', '0', '--admin-port', '0', '--log-level', 'error', ...clusterArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ admin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster of ${peers} not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; admin?: string };
        if (msg.event === 'ready' && msg.admin) {
          clearTimeout(timer);
          resolve({ admin: msg.admin });
        }
      } catch {
        // not our line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cluster exited with ${code} before ready: ${stderr}`));
    });
  }).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
  const readyMs = performance.now() - t0;
  const res = await fetch(`http://${ready.admin}/api/peers`);
  const list = (await res.json()) as Array<{ addr: string }>;
  return {
    proc,
    addrs: list.map((p) => p.addr),
    admin: ready.admin,
    readyMs,
    rssMiB() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
      } catch {
        return NaN;
      }
    },
    cpuMs() {
      return processCpuMs(proc.pid);
    },
    async stop(timeoutMs = 120_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** CPU time (user + system, ms) the process `pid` has used so far (Linux /proc; NaN elsewhere). */
export function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Read and write system calls the process `pid` (all its threads) has made so far: `syscr` and
 * `syscw` of /proc/PID/io (Linux; NaN elsewhere, or when the kernel does not account I/O).
 */
export function processSyscalls(pid: number | undefined): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}

/** Runs `chord bench … --json` in a fresh process and returns its report. */
export function chordBench<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, 'bench', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim()) as T);
      } catch {
        reject(new Error(`chord bench ${args.join(' ')} exited with ${code}: ${err.trim() || out.trim()}`));
      }
    });
  });
}
