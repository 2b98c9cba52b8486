/** Where the bundled demo recording lives; the single-process server and the cluster's edge role both stream it. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './repoRoot.js';

export const DEMO_DIR = path.join(REPO_ROOT, 'assets', 'demo');

/** The first video in assets/demo, if there is one. */
export function findDemoVideo(): string | undefined {
  if (!existsSync(DEMO_DIR)) return undefined;
  const video = readdirSync(DEMO_DIR).find((f) => /\.(webm|mp4|mkv)$/i.test(f));
  return video ? path.join(DEMO_DIR, video) : undefined;
}
