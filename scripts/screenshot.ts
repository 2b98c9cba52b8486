/**
 * `npx tsx scripts/screenshot.ts URL OUT.png [--wait-ms N]`: a PNG of a running dashboard in Debian's
 * Chromium, for the README (the browser test writes its own with a tiny test model).
 */
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { z } from 'zod';
import { CHROMIUM, HEADLESS_CHROMIUM_ARGS } from './chromium.js';

const program = new Command()
  .argument('<url>', 'dashboard address, e.g. http://127.0.0.1:8080')
  .argument('<out>', 'PNG file to write')
  .option('--wait-ms <n>', 'time to let predictions and captions arrive', '20000')
  .parse();
const [url, out] = program.args as [string, string];
const waitMs = z.coerce.number().int().min(0).max(600_000).parse(program.opts().waitMs);
if (!/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url.endsWith('/') ? url : `${url}/`)) {
  throw new Error(`screenshot: only a loopback dashboard address is accepted, got ${url}`);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...HEADLESS_CHROMIUM_ARGS],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(url);
  await page.waitForTimeout(waitMs);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
