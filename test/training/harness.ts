/**
 * Helpers for the training tests: tiny generated data sets (the tiny experiment scale's templates)
 * and running the real CLIs as child processes (`node --import tsx`, one process, so a kill
 * really stops the training).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TINY_NET, TINY_SOURCE_TEMPLATES, TINY_TARGET_TEMPLATES } from '../../training/experiment/plan.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const TINY_CONFIG = JSON.stringify(TINY_NET);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(script: string, args: readonly string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

export async function runCli(script: string, args: readonly string[]): Promise<CliResult> {
  const r = await startCli(script, args).done;
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  return r;
}

/** Generates the tiny source ("something") and/or target ("kitchenware") sets under `dir/data/`. */
export async function makeTinyData(dir: string, which: readonly ('something' | 'kitchenware')[]): Promise<{ source: string; target: string }> {
  const source = path.join(dir, 'data', 'something');
  const target = path.join(dir, 'data', 'kitchenware');
  const jobs = [];
  if (which.includes('something') && !existsSync(source)) {
    jobs.push(runCli('scripts/data-make.ts', ['--domain', 'something', '--count', '48', '--out', source, '--seed', '1001', '--width', '64', '--height', '64', '--templates', TINY_SOURCE_TEMPLATES.join('|')]));
  }
  if (which.includes('kitchenware') && !existsSync(target)) {
    jobs.push(runCli('scripts/data-make.ts', ['--domain', 'kitchenware', '--count', '36', '--out', target, '--seed', '2001', '--width', '64', '--height', '64', '--templates', TINY_TARGET_TEMPLATES.join('|')]));
  }
  await Promise.all(jobs);
  return { source, target };
}
