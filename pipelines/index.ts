/**
 * countertop's live pipelines — the API the server uses.
 *
 * ```ts
 * import { openSource, InferenceStage, createLivePipeline, ModelEngine } from '../pipelines/index.js';
 *
 * const engine = new ModelEngine(model);                              // a CountertopModel; or any InferenceEngine
 * const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 2 }); // ONE per process, shared by all streams
 * const source = openSource({ kind: 'rtsp', streamId: 'counter', url: 'rtsp://cam.local:554/stream1' }, engine.input);
 * const { settings } = loadLiveSettings(checkpointDir);                 // <checkpoint>/live-settings.json, else the defaults
 * const sub = createLivePipeline(source, stage, settings).subscribe((out) => {
 *   switch (out.type) {
 *     case 'prediction': … out.prediction.heads.action[0].label …; break;
 *     case 'action':     … out.event.kind ('start' | 'end'), out.event.label …; break;
 *     case 'caption':    … out.event.text …; break;
 *     case 'status':     … out.status.state ('connecting' | 'live' | 'reconnecting' | 'failed' | 'ended') …; break;
 *     case 'stats':      … out.stats.fps, out.stats.drops, out.stats.latencyMs?.p95 …; break;
 *   }
 * });
 * sub.unsubscribe(); // kills ffmpeg / closes the peer, frees the stage slot and the stream's feature cache
 * ```
 *
 * `openSource` validates its config synchronously and throws `SourceConfigError` (a clear message,
 * safe to show a user) for a bad URL, path or device; nothing the user typed ever becomes an ffmpeg
 * option. Every output is a `PipelineOutput` (pipelines/types.ts); results carry LatencyStamps.
 */
export * from './types.js';
export type { InferenceEngine, EngineInput, EngineHead, WindowInference } from './engine.js';
export { InferenceStage, type InferenceStageOptions } from './inferenceStage.js';
export { ModelEngine, type ModelEngineOptions } from './modelEngine.js';
export { FrameFeatureCache } from './frameFeatureCache.js';
export { createLivePipeline, type LivePipelineOptions } from './livePipeline.js';
export { ActionSegmenter, type SegmenterOptions } from './actionSegmenter.js';
export {
  LIVE_SETTINGS_FILE,
  LiveSettingsError,
  defaultLiveSettings,
  describeLiveSettings,
  liveSettingsSchema,
  loadLiveSettings,
  resolveLiveSettings,
  writeLiveSettings,
  type LiveSettings,
  type LiveSettingsInput,
  type LoadedLiveSettings,
} from './liveSettings.js';
export { ScoreSmoother, type SmoothingOptions } from './scoreSmoother.js';
export { slidingWindow } from './operators/slidingWindow.js';
export { smoothScores } from './operators/smoothScores.js';
export { segmentActions } from './operators/segmentActions.js';
export { adaptFrameRate } from './operators/adaptFrameRate.js';
export { resizeFrames } from './operators/resizeFrames.js';
export { openSource, sourceConfigSchema, SourceConfigError, type SourceConfig, type FrameGenerator, type OpenSourceHooks } from './sources/openSource.js';
export { defaultReconnectPolicy, backoffDelay, type ReconnectPolicy } from './sources/reconnect.js';
export { FfmpegError } from './sources/ffmpegFrames.js';
export { sessionFrames } from './sources/sessionFrames.js';
export { Incremental3dChannel } from './incremental3d.js';
export { WorkerEngine, type WorkerEngineOptions } from './workerEngine.js';
export { RestartingEngine, type RestartingEngineOptions } from './restartingEngine.js';
