/**
 * `npm run bench [-- area …]`: runs every benchmark in bench/ (or only the named areas) in turn and
 * prints their figures. Benchmarks measure speed and memory; tests never assert timings.
 * `--help` lists the areas and the environment variables that size each one, and runs nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Command } from 'commander';

const benchDir = fileURLToPath(new URL('../bench/', import.meta.url));
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.basename(f, '.ts'))
  .sort();

/** The environment knobs a benchmark reads, with their defaults, read from its source so that the help cannot drift. */
function knobs(area: string): string[] {
  const src = readFileSync(path.join(benchDir, `${area}.ts`), 'utf8');
  const found = new Map<string, string>();
  for (const m of src.matchAll(/process\.env\.([A-Z0-9_]+)(\s*\?\?\s*(\d[\d.]*|'[^']*')?)?/g)) {
    // A literal default is shown as is; a computed one points at the file that computes it.
    const dflt = m[3] ? `default ${m[3]}` : m[2] ? `default: see bench/${area}.ts` : '';
    if (!found.has(m[1]!) || dflt) found.set(m[1]!, dflt);
  }
  return [...found].map(([name, dflt]) => (dflt ? `${name} (${dflt})` : name));
}

const program = new Command()
  .name('npm run bench --')
  .description('Run the benchmarks in bench/ one after another and print their figures (each takes minutes).')
  .argument('[area...]', `benchmarks to run, default all: ${available.join(', ')}`)
  .option('--list', 'list the benchmarks and their settings, and exit')
  .addHelpText('after', () => `\nBenchmarks and the environment variables that size them:\n${available.map((a) => `  ${a.padEnd(10)} ${knobs(a).join(', ') || '(no settings)'}`).join('\n')}\n\nExample: BENCH_SERVER_SECONDS=5 npm run bench -- server`)
  .showHelpAfterError('(npm run bench -- --help lists the benchmarks)')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
program.parse();

const opts = program.opts<{ list?: boolean }>();
if (opts.list) {
  for (const a of available) console.log(`${a.padEnd(10)} ${knobs(a).join(', ')}`);
  process.exit(0);
}
const wanted = program.args;
const unknown = wanted.filter((a) => !available.includes(a));
if (unknown.length > 0) program.error(`no benchmark named ${unknown.join(', ')}; choose from ${available.join(', ')}`, { exitCode: 2 });
const areas = wanted.length === 0 ? available : available.filter((a) => wanted.includes(a));

for (const area of areas) {
  console.log(`\n## bench: ${area}  (${new Date().toISOString()}, node ${process.version})`);
  const mod = (await import(path.join(benchDir, `${area}.ts`))) as { run: () => Promise<void> };
  await mod.run();
}
