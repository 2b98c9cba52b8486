/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
 * server: the demo stream's caption appears and changes; "Use my webcam" sends Chromium's fake
 * camera (a generated kitchen clip in .y4m) over WebRTC and its predictions show up; an RTSP camera
 * added from the form (a GStreamer RTSP server) goes live. Screenshots go to runs/test-artifacts/
 * (ignored by git) so that a test run leaves the tree clean; COUNTERTOP_UPDATE_DOC_IMAGES=1 writes
 * them to docs/images/ instead, to refresh the pictures the docs show.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFfmpeg, hasRtspServer, need, startRtspServer, freePort, tempDir, type RtspServer } from '../pipelines/tools.js';
import { repoRoot, startTestServer, type TestServer } from '../server/harness.js';
import { writeSession } from '../../data/session.js';
import { writeKitchenClip } from './kitchenClip.js';
import { normaliseLabel } from '../../eval/labels.js';
import { CHROMIUM, fakeCameraArgs } from '../../scripts/chromium.js';

const hasChromium = existsSync(CHROMIUM);
const hasDashboard = existsSync(path.join(repoRoot, 'client/dist/index.html'));
const run = need(hasChromium, 'Chromium (/usr/bin/chromium)') && need(hasFfmpeg, 'ffmpeg') && need(hasRtspServer, 'GStreamer RTSP server') && need(hasDashboard, 'the built dashboard (npm run build)');
const d = run ? describe : describe.skip;
const SCREENSHOT_DIR = path.join(repoRoot, process.env.COUNTERTOP_UPDATE_DOC_IMAGES === '1' ? 'docs/images' : 'runs/test-artifacts');
const SCREENSHOT = path.join(SCREENSHOT_DIR, 'dashboard.png');
const EVAL_SCREENSHOT = path.join(SCREENSHOT_DIR, 'evaluation.png');

d('dashboard in Chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: TestServer;
  let rtsp: RtspServer;
  let browser: Browser;
  let page: Page;
  let session: { segments: readonly unknown[] };
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    tmp = tempDir('browser');
    const demo = path.join(tmp.dir, 'demo.webm');
    const camera = path.join(tmp.dir, 'camera.y4m');
    await writeKitchenClip(demo, { clips: 4, width: 128, height: 128, fps: 8, seed: 'demo' });
    await writeKitchenClip(camera, { clips: 2, width: 320, height: 240, fps: 15, seed: 'camera' });
    const recordings = path.join(tmp.dir, 'recordings');
    server = await startTestServer(['--recordings-dir', recordings, '--preview-fps', '4'], { demoFile: demo });
    // An annotated session (the data generator's session mode) for the evaluation view.
    session = await writeSession({ domain: 'kitchenware', seed: 'browser-eval', actions: 3, width: 96, height: 96, fps: 8, dir: recordings, name: 'counter-session', codec: 'vp8' });
    rtsp = await startRtspServer(await freePort(), '/counter', 'videotestsrc');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: fakeCameraArgs(camera) });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await rtsp?.stop();
    await server?.close();
    tmp?.remove();
  });

  const card = (streamId: string) => page.locator(`article[data-stream-id="${streamId}"]`);

  it('loads, connects and shows the demo stream with a caption that then changes', async () => {
    await expect(page.title()).resolves.toMatch(/countertop/);
    await page.getByRole('status', { name: 'Server connection' }).filter({ hasText: 'connected' }).waitFor({ timeout: 30_000 });
    const demo = card('demo');
    await demo.waitFor({ timeout: 30_000 });
    const caption = demo.getByTestId('caption');
    await expect.poll(() => caption.textContent(), { timeout: 60_000 }).toMatch(/“.+”/);
    const first = await caption.textContent();
    await expect.poll(() => caption.textContent(), { timeout: 90_000, interval: 250 }).not.toBe(first);
    // The live preview is a real JPEG image, and the top-5 list is filled.
    await expect.poll(() => demo.getByRole('img', { name: /Live preview/ }).getAttribute('src'), { timeout: 30_000 }).toMatch(/^data:image\/jpeg;base64,/);
    await expect.poll(() => demo.getByRole('list', { name: /Top 5 actions/ }).locator('li').count()).toBe(5);
  });

  it('"Use my webcam" streams the fake camera over WebRTC and its predictions appear', async () => {
    await page.getByRole('button', { name: 'Use my webcam' }).click();
    const webcam = page.locator('article[data-stream-id^="webcam-"]');
    await webcam.waitFor({ timeout: 30_000 });
    await expect.poll(() => webcam.getByTestId('stream-state').textContent(), { timeout: 60_000 }).toBe('live');
    await expect.poll(async () => Number(await webcam.getByTestId('prediction-count').textContent()), { timeout: 90_000 }).toBeGreaterThan(2);
    await expect.poll(() => webcam.getByTestId('current-action').textContent(), { timeout: 30_000 }).not.toMatch(/Waiting/);
    await page.getByRole('button', { name: 'Stop my webcam' }).waitFor();
  });

  it('the RTSP form explains a bad URL, and a real RTSP camera added from it goes live', async () => {
    const url = page.getByLabel('Camera URL');
    await url.fill('http://not-a-camera/stream');
    await page.getByRole('button', { name: 'Add camera' }).click();
    await expect.poll(() => page.locator('#rtsp-error').textContent()).toMatch(/rtsp:\/\//);
    await expect(url.getAttribute('aria-invalid')).resolves.toBe('true');

    await url.fill(rtsp.url);
    await page.getByLabel('Name (optional)').fill('Counter camera');
    await page.getByRole('button', { name: 'Add camera' }).click();
    const cam = page.locator('article[data-stream-id^="rtsp-"]');
    await cam.waitFor({ timeout: 30_000 });
    await expect(cam.getByRole('heading', { name: 'Counter camera' }).count()).resolves.toBe(1);
    await expect.poll(() => cam.getByTestId('stream-state').textContent(), { timeout: 60_000 }).toBe('live');
    await expect.poll(async () => Number(await cam.getByTestId('prediction-count').textContent()), { timeout: 90_000 }).toBeGreaterThan(0);
  });

  it('a camera device that does not exist on the server is explained, not silently ignored', async () => {
    await page.getByLabel('Device').fill('/dev/video99');
    await page.getByRole('button', { name: 'Start camera' }).click();
    await expect.poll(() => page.locator('#v4l2-error').textContent()).toMatch(/\/dev\/video99 does not exist/);
    await expect(page.locator('article[data-stream-id^="v4l2-"]').count()).resolves.toBe(0);
  });

  it('the evaluation view runs an annotated recording and shows both timelines with the metrics', async () => {
    await page.getByRole('button', { name: 'Replay evaluation' }).click();
    await page.getByLabel('Annotated recording').selectOption('counter-session.webm');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const result = page.getByTestId('eval-result');
    await result.waitFor({ timeout: 120_000 });
    await expect(result.getByRole('row', { name: /Frame accuracy/ }).textContent()).resolves.toMatch(/\d+%/);
    await expect(result.getByRole('row', { name: /Event F1/ }).textContent()).resolves.toMatch(/P \d\.\d{3}, R \d\.\d{3}/);
    // One bar per annotated segment (plus the track's background).
    const truth = result.getByRole('img', { name: 'Annotated action timeline' }).locator('rect');
    await expect(truth.count()).resolves.toBe(session.segments.length + 1);
    const predicted = result.getByRole('img', { name: 'Predicted action timeline' }).locator('rect');
    await expect(predicted.count()).resolves.toBeGreaterThan(1);
    // One legend entry per action however annotations and predictions spell it; idle is not an action.
    const legend = (await result.getByRole('list', { name: 'Legend' }).locator('li').allTextContents()).map((l) => l.trim());
    const actions = legend.filter((l) => l !== 'Idle (no action)').map(normaliseLabel);
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions).size, legend.join(' | ')).toBe(actions.length);
    expect(actions).not.toContain('no action');
    mkdirSync(path.dirname(EVAL_SCREENSHOT), { recursive: true });
    await page.screenshot({ path: EVAL_SCREENSHOT, fullPage: true });
    await page.getByRole('button', { name: 'Live' }).click();
  });

  it('"Replay a recording" plays a file from the recordings folder as a stream', async () => {
    await page.getByRole('button', { name: 'Refresh list' }).click();
    await page.getByLabel('Recording', { exact: true }).selectOption('counter-session.webm');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const replay = page.locator('article[data-stream-id^="replay-"]');
    await replay.waitFor({ timeout: 30_000 });
    await expect(replay.getByRole('heading', { name: 'counter-session.webm' }).count()).resolves.toBe(1);
    await expect.poll(async () => Number(await replay.getByTestId('prediction-count').textContent()), { timeout: 90_000 }).toBeGreaterThan(0);
  });

  it('"Record" saves the demo stream and the recording becomes replayable', async () => {
    const demo = card('demo');
    const count = async () => Number(await demo.getByTestId('prediction-count').textContent());
    await demo.getByRole('button', { name: 'Record' }).click();
    await expect.poll(() => demo.getByRole('button', { name: 'Stop recording' }).count()).toBe(1);
    const before = await count();
    await expect.poll(count, { timeout: 60_000 }).toBeGreaterThan(before + 2);
    await demo.getByRole('button', { name: 'Stop recording' }).click();
    await expect.poll(() => page.locator('.notice').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/Saved demo-.*\.webm and demo-.*\.events\.json/));
    await expect.poll(() => page.getByLabel('Recording', { exact: true }).locator('option').allTextContents()).toContainEqual(expect.stringMatching(/^demo-.*\.webm$/));
  });

  it('writes a screenshot of the dashboard and logged no console errors', async () => {
    // Let every card show a prediction, a caption and a preview before the picture is taken.
    for (const id of ['demo']) await expect.poll(() => card(id).getByTestId('caption').textContent(), { timeout: 30_000 }).toMatch(/“/);
    // The live timeline has time ticks over its 60 s, and the card says what each action text is.
    await expect(card('demo').locator('.tick').allTextContents()).resolves.toEqual(['−60 s', '−50 s', '−40 s', '−30 s', '−20 s', '−10 s', 'now']);
    await expect(card('demo').getByTestId('now-note').textContent()).resolves.toMatch(/latest window/);
    await expect(card('demo').getByTestId('caption-note').textContent()).resolves.toMatch(/^Caption/);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
