/**
 * Training from the dashboard. A job teaches the chosen classes of the clip library to a model,
 * in a separate OS process (`scripts/teach.ts --json`, at a lower CPU priority) so that the live
 * streams keep their share of the machine and a crash in training cannot take the server down.
 *
 *   <modelsDir>/.jobs/<job id>/job.json   what was asked, its state, progress, curve and report
 *   <modelsDir>/.jobs/<job id>/data/      a snapshot of the chosen clips (hard links) in SSv2 layout:
 *                                         the library may change while the job runs
 *   <modelsDir>/.jobs/<job id>/out/       the teach output; on success renamed to <modelsDir>/<model id>/
 *
 * One job at a time (two cores). Cancel sends SIGTERM: the teach process stops and writes no model;
 * no clip is touched either way. A job still `running` when the server stops (or dies) is started
 * again with `--resume` when the server next opens the jobs folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { Subject } from 'rxjs';
import { z } from 'zod';
import { SSV2_FILES } from '../data/layout.js';
import { teachMessageSchema, type TeachMessage, type TeachReport } from '../training/teach.js';
import type { ClipLibrary, LibraryClip } from './clipLibrary.js';
import { TAUGHT_INFO_FILE, type ModelRegistry, type TaughtModelInfo } from './modelRegistry.js';
import type { TrainingJobView } from './protocol.js';
import { REPO_ROOT } from './repoRoot.js';

const TEACH_SCRIPT = path.join(REPO_ROOT, 'scripts', 'teach.ts');
/** Finished jobs kept (their folders and cards); older ones are deleted. */
const KEEP_JOBS = 20;
/** Curve points kept per job (one per epoch and fold). */
const MAX_CURVE = 2000;
/** A line from the teach process longer than this is not one of its messages. */
const MAX_LINE = 1 << 20;

export class TrainingRequestError extends Error {}

export interface TrainingRequest {
  readonly classes: readonly string[];
  /** A model id of the registry. */
  readonly base: string;
  readonly mode: 'transfer' | 'finetune';
  readonly name?: string;
}

export interface TrainingJobsOptions {
  readonly modelsDir: string;
  readonly library: ClipLibrary;
  readonly registry: ModelRegistry;
  readonly log: Logger;
  /** Starts the teach process with these arguments (tests may pass a different command). */
  readonly spawnTeach?: (args: readonly string[]) => ChildProcess;
}

const jobFileSchema = z.object({
  id: z.string(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  mode: z.enum(['transfer', 'finetune']),
  base: z.string(),
  classes: z.array(z.string()),
  name: z.string(),
  startedAt: z.number(),
  progress: z.unknown().nullable(),
  curve: z.array(z.unknown()),
  report: z.unknown().nullable(),
  model: z.string().nullable(),
  error: z.string().nullable(),
  resumes: z.number(),
  /** The base's folder, as resolved when the job started (a resume uses the same). */
  baseDir: z.string(),
  modelId: z.string(),
});
type JobFile = z.infer<typeof jobFileSchema> & TrainingJobView;

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'taught';
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export class TrainingJobs {
  private readonly jobsDir: string;
  private readonly jobs = new Map<string, JobFile>();
  private child: { jobId: string; process: ChildProcess; cancelled: boolean } | undefined;
  private closing = false;
  private pendingSave: NodeJS.Timeout | undefined;
  readonly changed$ = new Subject<TrainingJobView[]>();
  /** A job ended (done, failed or cancelled): a done one has added a model. */
  readonly finished$ = new Subject<TrainingJobView>();

  constructor(private readonly opts: TrainingJobsOptions) {
    this.jobsDir = path.join(opts.modelsDir, '.jobs');
    mkdirSync(this.jobsDir, { recursive: true });
    for (const name of readdirSync(this.jobsDir)) {
      const file = path.join(this.jobsDir, name, 'job.json');
      if (!/^job-[a-z0-9-]+$/.test(name) || !existsSync(file)) continue;
      try {
        const job = jobFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))) as JobFile;
        this.jobs.set(job.id, job);
      } catch (err) {
        opts.log.warn({ file, reason: (err as Error).message }, 'a training job file cannot be read; ignored');
      }
    }
  }

  /** Starts again a job the server was running when it stopped (called once, after construction). */
  resumeInterrupted(): void {
    const interrupted = [...this.jobs.values()].filter((j) => j.state === 'running').sort((a, b) => a.startedAt - b.startedAt);
    for (const job of interrupted.slice(0, -1)) this.finish(job, 'failed', 'the server stopped while a newer job was also marked running');
    const last = interrupted.at(-1);
    if (last) {
      last.resumes++;
      this.opts.log.info({ job: last.id, resumes: last.resumes }, 'resuming the training job the server was running when it stopped');
      this.run(last, true);
    }
  }

  list(): TrainingJobView[] {
    return [...this.jobs.values()].sort((a, b) => b.startedAt - a.startedAt).map(view);
  }

  start(req: TrainingRequest): TrainingJobView {
    if (this.child) throw new TrainingRequestError(`a training job is running (${this.child.jobId}); cancel it or wait for it`);
    const classes = [...new Set(req.classes)];
    if (classes.length < 2) throw new TrainingRequestError('pick at least two classes: a model tells actions apart');
    const library = this.opts.library.view();
    const counts = new Map(library.classes.map((c) => [c.name, c.clips]));
    for (const c of classes) {
      const n = counts.get(c) ?? 0;
      if (n === 0) throw new TrainingRequestError(`class "${c}" has no clips in the library: record some first`);
      if (n < 2) throw new TrainingRequestError(`class "${c}" has only one clip: record at least one more (one is held out to measure the model)`);
    }
    const baseDir = this.opts.registry.folder(req.base);
    const id = `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const name = req.name?.trim() || `${classes.length} actions`;
    const modelId = `${slug(name)}-${stamp()}`;
    const dir = path.join(this.jobsDir, id);
    this.snapshot(library.clips.filter((c) => classes.includes(c.className)), path.join(dir, 'data'));
    const job: JobFile = {
      id, state: 'running', mode: req.mode, base: req.base, classes, name, startedAt: Date.now(),
      progress: null, curve: [], report: null, model: null, error: null, resumes: 0, baseDir, modelId,
    };
    this.jobs.set(id, job);
    this.save(job);
    this.prune();
    this.run(job, false);
    return view(job);
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new TrainingRequestError(`no training job "${jobId}"`);
    if (job.state !== 'running' || this.child?.jobId !== jobId) throw new TrainingRequestError(`training job "${jobId}" is ${job.state}, not running`);
    this.child.cancelled = true;
    this.child.process.kill('SIGTERM');
  }

  /** Stops the running teach process but leaves its job `running`, so the next server start resumes it. */
  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** The chosen clips as an SSv2 folder of hard links (copies across file systems). */
  private snapshot(clips: readonly LibraryClip[], dir: string): void {
    mkdirSync(dir, { recursive: true });
    const source = JSON.parse(readFileSync(path.join(this.opts.library.dir, SSV2_FILES.train), 'utf8')) as { id: string }[];
    const chosen = new Set(clips.map((c) => c.id));
    const names = [...new Set(clips.map((c) => c.className))].sort();
    for (const c of clips) {
      const from = this.opts.library.videoPath(c.id);
      const to = path.join(dir, `${c.id}.webm`);
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    const write = (name: string, value: unknown) => writeFileSync(path.join(dir, name), JSON.stringify(value) + '\n');
    write(SSV2_FILES.train, source.filter((e) => chosen.has(e.id)));
    write(SSV2_FILES.validation, []);
    write(SSV2_FILES.test, []);
    write(SSV2_FILES.labels, Object.fromEntries(names.map((n, i) => [n, String(i)])));
    write(SSV2_FILES.groups, Object.fromEntries(names.map((n) => [n, n])));
  }

  private run(job: JobFile, resume: boolean): void {
    const dir = path.join(this.jobsDir, job.id);
    // Every argument is a path this runner made or the registry resolved, or a fixed word: no user text.
    const args = ['--json', '--base', job.baseDir, '--data', path.join(dir, 'data'), '--out', path.join(dir, 'out'), '--mode', job.mode, ...(resume ? ['--resume'] : [])];
    const proc = this.opts.spawnTeach ? this.opts.spawnTeach(args) : spawn(process.execPath, ['--import', 'tsx', TEACH_SCRIPT, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = { jobId: job.id, process: proc, cancelled: false };
    this.child = child;
    if (proc.pid !== undefined) {
      try {
        setPriority(proc.pid, 10); // below the server's: live streams first
      } catch {
        /* not permitted here: runs at normal priority */
      }
    }
    let last: TeachMessage | undefined;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const lines = createInterface({ input: proc.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.length > MAX_LINE) return;
      let parsed;
      try {
        parsed = teachMessageSchema.safeParse(JSON.parse(line));
      } catch {
        return; // not one of its messages (a stray log line)
      }
      if (!parsed.success) return;
      last = parsed.data;
      this.onMessage(job, parsed.data);
    });
    proc.once('error', (err) => {
      if (this.child === child) this.child = undefined;
      this.finish(job, 'failed', `cannot start the training process: ${err.message}`);
    });
    proc.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.closing && !child.cancelled) return; // the job stays `running`: resumed at the next start
      if (last?.type === 'done') this.done(job, last.report);
      else if (child.cancelled || last?.type === 'cancelled') this.finish(job, 'cancelled', 'cancelled: no model was saved, no clip was touched');
      else if (last?.type === 'error') this.finish(job, 'failed', last.message);
      else this.finish(job, 'failed', `the training process ended (${signal ?? `exit ${code}`}) without a result: ${stderr.trim().split('\n').pop() ?? ''}`);
    });
  }

  private onMessage(job: JobFile, m: TeachMessage): void {
    if (m.type !== 'progress') return;
    const { type: _type, ...progress } = m;
    job.progress = progress;
    // Loss per epoch while training, and each held-out fold's accuracies when it is scored.
    if ((progress.phase === 'train' && progress.epoch !== undefined) || (progress.phase === 'evaluate' && progress.heldOutAccuracy !== undefined)) {
      job.curve.push({ epoch: progress.epoch ?? 0, fold: progress.fold ?? null, loss: progress.loss ?? null, trainAccuracy: progress.trainAccuracy ?? null, heldOutAccuracy: progress.heldOutAccuracy ?? null });
      if (job.curve.length > MAX_CURVE) job.curve.splice(0, job.curve.length - MAX_CURVE);
    }
    // Progress comes once an epoch (hundreds a second for a transfer head): saved and sent at most 4× a second.
    if (this.pendingSave) return;
    this.pendingSave = setTimeout(() => {
      this.pendingSave = undefined;
      if (job.state === 'running') this.save(job);
    }, 250);
  }

  private done(job: JobFile, report: TeachReport): void {
    const out = path.join(this.jobsDir, job.id, 'out');
    const target = path.join(this.opts.modelsDir, job.modelId);
    try {
      // What the registry shows of it: the name the user gave and where it came from.
      const info: TaughtModelInfo = { name: job.name, base: job.base, mode: job.mode, classes: report.labels, top1: report.top1, job: job.id, createdAt: new Date().toISOString() };
      writeFileSync(path.join(out, TAUGHT_INFO_FILE), JSON.stringify(info, null, 1) + '\n');
      // The registry lists only whole models: the folder appears there in one rename.
      renameSync(out, target);
    } catch (err) {
      this.finish(job, 'failed', `the model was trained but could not be moved into ${this.opts.modelsDir}: ${(err as Error).message}`);
      return;
    }
    rmSync(path.join(this.jobsDir, job.id, 'data'), { recursive: true, force: true });
    job.report = {
      labels: report.labels,
      perClass: report.classes.map((c) => ({ label: c.label, clips: c.clips, correct: c.correct, accuracy: c.accuracy })),
      confusion: report.confusion,
      top1: report.top1,
      heldOut: report.heldOut.description,
      seconds: report.seconds.total,
    };
    job.model = job.modelId;
    this.opts.log.info({ job: job.id, model: job.modelId, top1: report.top1, seconds: report.seconds.total }, 'training job done: a new model is ready to switch to');
    this.finish(job, 'done', null);
  }

  private finish(job: JobFile, state: JobFile['state'], error: string | null): void {
    job.state = state;
    job.error = error;
    if (state !== 'done') rmSync(path.join(this.jobsDir, job.id, 'data'), { recursive: true, force: true });
    if (error) this.opts.log.warn({ job: job.id, state, reason: error }, 'training job ended');
    this.save(job);
    this.finished$.next(view(job));
  }

  private save(job: JobFile): void {
    if (job.state !== 'running' && this.pendingSave) {
      clearTimeout(this.pendingSave);
      this.pendingSave = undefined;
    }
    const file = path.join(this.jobsDir, job.id, 'job.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(job) + '\n');
    renameSync(`${file}.tmp`, file);
    this.changed$.next(this.list());
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running').sort((a, b) => b.startedAt - a.startedAt);
    for (const job of finished.slice(KEEP_JOBS)) {
      rmSync(path.join(this.jobsDir, job.id), { recursive: true, force: true });
      this.jobs.delete(job.id);
    }
  }
}

function view(j: JobFile): TrainingJobView {
  return {
    id: j.id, state: j.state, mode: j.mode, base: j.base, classes: j.classes, name: j.name, startedAt: j.startedAt,
    progress: j.progress as TrainingJobView['progress'], curve: j.curve as TrainingJobView['curve'], report: j.report as TrainingJobView['report'],
    model: j.model, error: j.error, resumes: j.resumes,
  };
}
