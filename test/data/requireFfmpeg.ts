/**
 * Tests that need a real ffmpeg: they run when it is installed, fail in CI (CI=true) when it is
 * missing, and are skipped with a note only on a developer machine without it.
 */
import { ffmpegAvailable } from '../../data/ffmpegPath.js';

export const HAVE_FFMPEG = ffmpegAvailable();
if (!HAVE_FFMPEG && process.env.CI) throw new Error('ffmpeg is required in CI (CI=true) but was not found; install it (see .ci/install)');
if (!HAVE_FFMPEG) console.warn('ffmpeg not found: skipping the data tests that decode or encode video');
