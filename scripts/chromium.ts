/** Debian's Chromium, headless, with the flags verified in shared/STACK.md (no network side traffic). */
export const CHROMIUM = '/usr/bin/chromium';
export const HEADLESS_CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The headless flags plus a fake webcam that plays `y4m` (on loop) and is allowed without asking. */
export function fakeCameraArgs(y4m: string): string[] {
  return [...HEADLESS_CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`];
}
