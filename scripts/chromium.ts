/** Debian's Chromium, headless, with the flags verified in shared/STACK.md (no network side traffic). */
export const CHROMIUM = '/usr/bin/chromium';
export const HEADLESS_CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
