/**
 * `npm run bench [-- area …]`: runs every benchmark in bench/ (or only the named areas) in turn and
 * prints their figures. Benchmarks measure speed and memory; tests never assert timings.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const benchDir = fileURLToPath(new URL('../bench/', import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const areas = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.basename(f, '.ts'))
  .filter((a) => wanted.length === 0 || wanted.includes(a))
  .sort();

if (areas.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}`);
  process.exit(1);
}
for (const area of areas) {
  console.log(`\n## bench: ${area}  (${new Date().toISOString()}, node ${process.version})`);
  const mod = (await import(path.join(benchDir, `${area}.ts`))) as { run: () => Promise<void> };
  await mod.run();
}
