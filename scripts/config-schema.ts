/**
 * Writes docs/config.schema.json, the JSON schema of `npm start -- --config FILE`, from the zod
 * schema in server/config.ts (test/server/config-file.test.ts fails when the file is out of date).
 *
 *   npx tsx scripts/config-schema.ts          write it
 *   npx tsx scripts/config-schema.ts --check  exit 1 if it differs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../server/config.js';

export const CONFIG_SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'config.schema.json');

export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write('usage: npx tsx scripts/config-schema.ts [--check]\n  writes docs/config.schema.json from server/config.ts; --check: exit 1 if it is out of date\n');
    process.exit(0);
  }
  if (args.some((a) => a !== '--check')) {
    process.stderr.write(`config-schema: unknown argument; usage: npx tsx scripts/config-schema.ts [--check]\n`);
    process.exit(2);
  }
  const text = configSchemaText();
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_SCHEMA_FILE, 'utf8');
    } catch {
      current = '';
    }
    if (current !== text) {
      process.stderr.write('config-schema: docs/config.schema.json is out of date; run npx tsx scripts/config-schema.ts\n');
      process.exit(1);
    }
    process.exit(0);
  }
  writeFileSync(CONFIG_SCHEMA_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIG_SCHEMA_FILE)}\n`);
}
