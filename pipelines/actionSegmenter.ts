/**
 * Turns a stream of smoothed class scores into action segments with hysteresis: an action starts
 * when one label stays on top with score ≥ `startThreshold` for `minStartWindows` windows in a row,
 * and ends when its own score stays below `endThreshold` (or another label has qualified to start)
 * for `minEndWindows` windows. The gap between the thresholds and the streak lengths stop flicker.
 */
import { defaultLiveSettings } from './liveSettings.js';
import type { ActionEvent, LatencyStamps } from './types.js';

export interface SegmenterOptions {
  /** Which classification head to segment. */
  readonly head: string;
  readonly startThreshold: number;
  readonly endThreshold: number;
  readonly minStartWindows: number;
  readonly minEndWindows: number;
  /** Labels that never start an action (e.g. a background class). */
  readonly ignoreLabels: readonly string[];
  /**
   * A window starting more than this much capture time after the previous one ended (a
   * reconnection) closes the open action at the previous window's end and forgets any streak.
   */
  readonly maxGapMs: number;
}

/**
 * A standalone segmenter's defaults: the live settings' thresholds and streaks (pipelines/liveSettings.ts,
 * where they are chosen and documented), on the 'action' head, with no gap handling.
 */
export const defaultSegmenterOptions: SegmenterOptions = {
  head: 'action',
  ...defaultLiveSettings.segmenter,
  maxGapMs: Number.POSITIVE_INFINITY,
};

/** One window's input to the segmenter. */
export interface SegmenterInput {
  readonly streamId: string;
  readonly labels: readonly string[];
  readonly scores: Float32Array;
  readonly firstCapturedAt: number;
  readonly lastCapturedAt: number;
  readonly stamps: LatencyStamps;
}

interface Active {
  readonly label: string;
  readonly index: number;
  readonly start: number;
  scoreSum: number;
  windows: number;
}

export class ActionSegmenter {
  private readonly options: SegmenterOptions;
  private active: Active | undefined;
  private streak: { index: number; count: number; since: number } | undefined;
  private endVotes = 0;
  private last: SegmenterInput | undefined;

  constructor(options: Partial<SegmenterOptions> = {}) {
    this.options = { ...defaultSegmenterOptions, ...options };
    const o = this.options;
    if (!(o.endThreshold <= o.startThreshold)) throw new RangeError(`endThreshold (${o.endThreshold}) must not exceed startThreshold (${o.startThreshold})`);
    if (!(o.minStartWindows >= 1 && o.minEndWindows >= 1)) throw new RangeError('minStartWindows and minEndWindows must be ≥ 1');
  }

  /** Feeds one window; returns the events it causes (an end, a start, both, or none). */
  update(input: SegmenterInput): ActionEvent[] {
    const events: ActionEvent[] = [];
    if (this.last && input.firstCapturedAt - this.last.lastCapturedAt > this.options.maxGapMs) {
      // What happened in the hole is unknown: the action ends where the stream was last seen.
      if (this.active) events.push(this.end(input, this.last.lastCapturedAt));
      this.streak = undefined;
    }
    this.last = input;
    const { scores, labels } = input;
    const top = argmax(scores);
    const topScore = scores[top]!;
    const qualifies = topScore >= this.options.startThreshold && !this.options.ignoreLabels.includes(labels[top]!);
    if (qualifies && this.streak?.index === top) this.streak.count++;
    else this.streak = qualifies ? { index: top, count: 1, since: input.firstCapturedAt } : undefined;

    if (this.active) {
      const own = scores[this.active.index]!;
      const challenged = this.streak !== undefined && this.streak.index !== this.active.index && this.streak.count >= this.options.minStartWindows;
      if (own < this.options.endThreshold || challenged) this.endVotes++;
      else this.endVotes = 0;
      if (this.endVotes >= this.options.minEndWindows) events.push(this.end(input));
      else if (this.endVotes === 0) {
        // Confidence = mean score over the windows that held the action, not those ending it.
        this.active.scoreSum += own;
        this.active.windows++;
      }
    }
    if (!this.active && this.streak && this.streak.count >= this.options.minStartWindows) {
      const label = labels[this.streak.index]!;
      this.active = { label, index: this.streak.index, start: this.streak.since, scoreSum: topScore, windows: 1 };
      this.endVotes = 0;
      events.push({ streamId: input.streamId, kind: 'start', label, confidence: topScore, start: this.streak.since, stamps: input.stamps });
    }
    return events;
  }

  /** Closes a still-open action (e.g. when the stream ends). */
  flush(): ActionEvent[] {
    return this.active && this.last ? [this.end(this.last)] : [];
  }

  private end(input: SegmenterInput, end = input.lastCapturedAt): ActionEvent {
    const a = this.active!;
    this.active = undefined;
    this.endVotes = 0;
    return {
      streamId: input.streamId,
      kind: 'end',
      label: a.label,
      confidence: a.scoreSum / a.windows,
      start: a.start,
      end,
      stamps: input.stamps,
    };
  }
}

/** Index of the highest score; the lowest index wins a tie (as in the live top-k ranking). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
