/**
 * Teaching countertop two new actions from the dashboard, in a real browser against the real
 * server process (`server/main.ts` with the bundled default model), the whole way a user goes:
 * Chromium's fake webcam plays a procedural .y4m that shows action A for 8 s, then action B for
 * 8 s, on loop (two "something" templates the kitchen model never saw). From the webcam stream the
 * page records clips of each (the "Record" countdown and "Keep last"), labels them with new action
 * names, trains a transfer head from the Teach view (progress, per-class accuracy, confusion), runs
 * the new model live, and then the webcam's top action is each of the new labels in turn — with
 * the webcam stream live, the same stream, the whole time.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { repoRoot } from '../server/harness.js';
import { startServerProcess, type ServerProcess } from '../server/serverProcess.js';
import { CHROMIUM, fakeCameraArgs } from '../../scripts/chromium.js';
import { writeActionSegments, writeKitchenClip } from './kitchenClip.js';

const hasChromium = existsSync(CHROMIUM);
const hasDashboard = existsSync(path.join(repoRoot, 'client/dist/index.html'));
const run = need(hasChromium, 'Chromium (/usr/bin/chromium)') && need(hasFfmpeg, 'ffmpeg') && need(hasDashboard, 'the built dashboard (npm run build)');
const d = run ? describe : describe.skip;
const SCREENSHOT_DIR = path.join(repoRoot, process.env.COUNTERTOP_UPDATE_DOC_IMAGES === '1' ? 'docs/images' : 'runs/test-artifacts');

const SEGMENT_SECONDS = 8;
const LOOP_SECONDS = 2 * SEGMENT_SECONDS;
const ACTIONS = [
  { template: 'Moving [something] up', name: 'Lifting the box' },
  { template: 'Approaching [something] with your camera', name: 'Camera zooming in' },
] as const;

d('teaching new actions from the dashboard (Chromium, fake webcam)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let webcamId: string;
  const states: string[] = [];

  beforeAll(async () => {
    tmp = tempDir('teach-browser');
    const camera = path.join(tmp.dir, 'two-actions.y4m');
    await writeActionSegments(camera, ACTIONS.map((a) => a.template), { seconds: SEGMENT_SECONDS });
    // A recording to label on its timeline.
    mkdirSync(path.join(tmp.dir, 'recordings'), { recursive: true });
    await writeKitchenClip(path.join(tmp.dir, 'recordings', 'counter.webm'), { clips: 2, width: 160, height: 120, fps: 12, seed: 'label' });
    server = await startServerProcess([
      '--port', '0', '--no-demo', '--no-history', '--preview-fps', '0',
      '--recordings-dir', path.join(tmp.dir, 'recordings'),
      '--library-dir', path.join(tmp.dir, 'library'),
      '--models-dir', path.join(tmp.dir, 'models'),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: fakeCameraArgs(camera) });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    await page.goto(server.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
    tmp?.remove();
  });

  /** Where the fake camera is in its loop, seconds: the page's clock since its video's time 0. */
  const phase = () => page.evaluate((loop) => ((performance.now() - (window as unknown as { videoZero: number }).videoZero) / 1000) % loop, LOOP_SECONDS);
  const waitForPhase = async (at: number) => {
    await expect.poll(async () => {
      const p = await phase();
      return p >= at && p < at + 0.5;
    }, { timeout: (LOOP_SECONDS + 2) * 1000, interval: 100 }).toBe(true);
  };
  /** The webcam card's state, sampled for the whole test: it must never leave `live` once it got there. */
  const sampleState = async () => {
    const s = await page.evaluate((id) => document.querySelector(`article[data-stream-id="${id}"] [data-testid="stream-state"]`)?.textContent ?? null, webcamId);
    if (s !== null) states.push(s);
  };

  it('streams the fake webcam', async () => {
    await page.getByRole('button', { name: 'Use my webcam' }).click();
    const webcam = page.locator('article[data-stream-id^="webcam-"]');
    await webcam.waitFor({ timeout: 30_000 });
    webcamId = (await webcam.getAttribute('data-stream-id'))!;
    await expect.poll(() => webcam.getByTestId('stream-state').textContent(), { timeout: 60_000 }).toBe('live');
    await expect.poll(() => page.evaluate(() => (document.querySelector('video')?.currentTime ?? 0) > 0.5), { timeout: 30_000 }).toBe(true);
    // The fake device starts its file at the track's start, as the <video> starts its clock.
    await page.evaluate(() => ((window as unknown as { videoZero: number }).videoZero = performance.now() - document.querySelector('video')!.currentTime * 1000));
    await expect(webcam.getByTestId('stream-model').textContent()).resolves.toMatch(/default/);
  }, 120_000);

  it('records labelled clips of both actions from the webcam stream into the library', async () => {
    await page.getByRole('button', { name: 'Teach' }).click();
    await expect.poll(() => page.getByLabel('From stream').inputValue()).toBe(webcamId);
    const status = page.getByTestId('record-status');
    for (let loop = 0; loop < 2; loop++) {
      for (const [k, a] of ACTIONS.entries()) {
        const start = k * SEGMENT_SECONDS;
        await page.getByLabel('Action', { exact: true }).fill(a.name);
        // "Record 2 s" counts 3 s down, then takes the next 2 s: [start+3.5, start+5.5] of the segment.
        await waitForPhase(start + 0.5);
        await page.getByRole('button', { name: 'Record 2 s' }).click();
        await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(new RegExp(`Kept a .* clip of “${a.name}”`));
        // "Keep last 2 s" near the segment's end: about [start+5.2, start+7.2].
        await waitForPhase(start + 7.2);
        await page.getByRole('button', { name: 'Keep last 2 s' }).click();
        await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(new RegExp(`Kept a .* clip of “${a.name}”.*`));
        await sampleState();
      }
    }
    const counts = page.getByRole('list', { name: 'Clips per class' });
    for (const a of ACTIONS) await expect.poll(() => counts.locator('li', { hasText: a.name }).textContent()).toMatch(/4$/);
    // A label with characters that have no place in an action's name is refused, with what is allowed.
    await page.getByLabel('Action', { exact: true }).fill('Cut/slice <b>');
    await page.getByRole('button', { name: 'Keep last 2 s' }).click();
    await expect.poll(() => page.locator('form[aria-labelledby="record-title"] .error').textContent()).toMatch(/letters, digits, spaces/);
  }, 240_000);

  it('trains a transfer head from the dashboard and shows per-class accuracy and the confusion matrix', async () => {
    for (const a of ACTIONS) await page.getByLabel(a.name).check();
    // The form says what a head without an idle class will do, and which base suits a real camera.
    await expect.poll(() => page.getByText('Without a “No action” class').count()).toBe(1);
    await expect.poll(() => page.getByText('Real camera? Start from pretrained-features').count()).toBe(1);
    // Once that base is chosen the hint has nothing left to say; the test trains from the default again.
    const startFrom = page.getByLabel('Start from');
    const running = await startFrom.inputValue();
    await startFrom.selectOption('bundled:pretrained-features');
    await expect.poll(() => page.getByText('Real camera? Start from').count()).toBe(0);
    await startFrom.selectOption(running);
    await page.getByLabel('Model name (optional)').fill('Fake camera');
    await page.getByRole('button', { name: 'Start training' }).click();
    const job = page.getByTestId('training-job').first();
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 240_000, interval: 500 }).toBe('done');
    await sampleState();
    const perClass = job.getByRole('table', { name: 'Per-class accuracy' });
    for (const a of ACTIONS) await expect(perClass.getByRole('row', { name: new RegExp(a.name) }).count()).resolves.toBe(1);
    await expect(job.getByRole('table', { name: 'Confusion matrix' }).locator('tbody tr').count()).resolves.toBe(2);
    await expect(job.getByTestId('job-accuracy').textContent()).resolves.toMatch(/Held-out accuracy \d+%/);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'teach.png'), fullPage: true });
  }, 300_000);

  it('runs the new model live and the fake camera gets the new labels, the stream up throughout', async () => {
    await page.getByTestId('training-job').first().getByRole('button', { name: 'Run this model live' }).click();
    const models = page.getByRole('list', { name: 'Models' });
    await expect.poll(() => models.locator('li.active').textContent(), { timeout: 120_000 }).toMatch(/Fake camera/);
    await page.getByRole('button', { name: 'Live' }).click();
    const webcam = page.locator(`article[data-stream-id="${webcamId}"]`);
    await expect.poll(() => webcam.getByTestId('stream-model').textContent(), { timeout: 30_000 }).toMatch(/Fake camera/);
    // Over a loop and a half, the top action is sampled; both new actions must come up.
    const seen = new Map<string, number>();
    const until = Date.now() + 1.5 * LOOP_SECONDS * 1000;
    while (Date.now() < until) {
      const top = (await webcam.getByTestId('current-action').locator('.action-label').textContent())?.trim() ?? '';
      seen.set(top, (seen.get(top) ?? 0) + 1);
      await sampleState();
      await page.waitForTimeout(250);
    }
    for (const a of ACTIONS) expect(seen.get(a.name) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(3);
    expect(states.length).toBeGreaterThan(5);
    expect(new Set(states), states.join(',')).toEqual(new Set(['live']));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'teach-live.png'), fullPage: true });
  }, 120_000);

  it('labels a recording on its timeline: saves its annotations and cuts a segment into the library', async () => {
    await page.getByRole('button', { name: 'Teach' }).click();
    await page.getByLabel('Recording', { exact: true }).selectOption('counter.webm');
    const player = page.getByRole('region', { name: 'Label a recording' }).locator('video');
    await expect.poll(() => player.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThan(0);
    const seek = (t: number) => player.evaluate((v: HTMLVideoElement, to) => new Promise<void>((resolve) => {
      v.addEventListener('seeked', () => resolve(), { once: true });
      v.currentTime = to;
    }), t);
    await seek(0.5);
    await page.getByRole('button', { name: /^Mark start/ }).click();
    await seek(2.5);
    await page.getByRole('button', { name: /^Mark end/ }).click();
    await page.getByLabel('Action of the segment').fill('Putting [something] into [something]');
    await page.getByLabel('Segment object 1').fill('a tomato');
    await page.getByLabel('Segment object 2').fill('the pot');
    await page.getByRole('button', { name: 'Add segment', exact: true }).click();
    await expect(page.getByRole('list', { name: 'Segments to save' }).locator('li').first().textContent()).resolves.toMatch(/0\.5 s–2\.5 s.*a tomato, the pot/);
    const region = page.getByRole('region', { name: 'Label a recording' });
    await page.getByRole('button', { name: 'Save annotations' }).click();
    await expect.poll(() => region.getByRole('status').textContent()).toMatch(/Saved 1 segment as the annotations of counter\.webm/);
    const written = JSON.parse(readFileSync(path.join(tmp.dir, 'recordings', 'counter.annotations.json'), 'utf8')) as { segments: { start: number; end: number; label: string }[] };
    expect(written.segments).toHaveLength(1);
    expect(written.segments[0]!.label).toBe('Putting a tomato into the pot');
    expect(written.segments[0]!.start).toBeCloseTo(0.5, 1);
    await page.getByRole('button', { name: 'Add segments to the clip library' }).click();
    await expect.poll(() => region.getByRole('status').textContent(), { timeout: 30_000 }).toMatch(/Added 1 clip to the library/);
    await expect.poll(() => page.getByRole('list', { name: 'Clips per class' }).locator('li', { hasText: 'Putting something into something' }).textContent()).toMatch(/1$/);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'teach-label.png'), fullPage: true });
  }, 120_000);
});
