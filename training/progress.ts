/**
 * The training progress bar (cli-progress): step, loss, last validation accuracy, clips/s, ETA.
 * Off (silent) when not wanted, e.g. in tests and the experiment runner's child runs, which log
 * to their metrics file instead. Notes go to stderr between bar redraws.
 */
import cliProgress from 'cli-progress';

export class TrainingProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private valAccuracy = '–';

  constructor(enabled: boolean, total: number, start: number) {
    this.bar = enabled
      ? new cliProgress.SingleBar(
          {
            format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} steps | loss {loss} | val acc {val} | {cps} clips/s | ETA {eta_formatted}',
            etaBuffer: 20,
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, start, { epoch: 1, epochs: 1, loss: '–', val: this.valAccuracy, cps: '–' });
  }

  tick(p: { epoch: number; epochs: number; loss: number; clipsPerSecond: number }): void {
    this.bar?.increment(1, { epoch: p.epoch, epochs: p.epochs, loss: p.loss.toFixed(4), val: this.valAccuracy, cps: p.clipsPerSecond.toFixed(1) });
  }

  note(line: string): void {
    const m = /top-1 ([\d.]+%)/.exec(line);
    if (m) this.valAccuracy = m[1];
    if (this.bar) process.stderr.write('\n' + line + '\n');
  }

  stop(): void {
    this.bar?.stop();
  }
}
