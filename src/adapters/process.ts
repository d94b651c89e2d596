import { spawn } from 'node:child_process';
import type { ProcessRunner, RunResult } from '../core/ports.js';

const OUTPUT_LIMIT = 64 * 1024;

/** Runs policy hooks through /bin/sh with a timeout; kills the whole process group on timeout. */
export const shellRunner: ProcessRunner = {
  run(command, { cwd, timeoutMs, env }) {
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        cwd,
        env: env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < OUTPUT_LIMIT) stderr += chunk.toString('utf8');
      });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
    });
  },
};
