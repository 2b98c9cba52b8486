/**
 * The study's section of docs/EXPERIMENT.md, computed from the committed files alone (store.ts):
 * the pre-registered contrasts with paired bootstrap intervals, p-values and a Holm correction;
 * per-arm transfer accuracy; the source tasks' own metrics, captions recomputed from the committed
 * captions; the chosen probe settings; kitchenware classes whose motion the source shares and those
 * it does not; the second budget; and how much of the plan is done.
 */
import { captionReport, TemplateMatcher } from '../../eval/caption.js';
import { KITCHENWARE } from '../../data/catalogue/kitchenware.js';
import { SOMETHING } from '../../data/catalogue/something.js';
import { templateKey } from '../../data/captions.js';
import { planStudy, STUDY_ADDENDUM_BUDGET, STUDY_ARMS, STUDY_BUDGETS, STUDY_PRIMARY_BUDGET, type StudyRun } from './plan.js';
import { pairedBootstrap, type Contrast, type CorrectMatrix } from './stats.js';
import { correctness, readClips, readStudyPredictions, readStudyResults, type ClipsFile, type StudyFiles, type StudyPrediction, type StudyResult } from './store.js';

export interface StudyData {
  readonly results: readonly StudyResult[];
  readonly predictions: ReadonlyMap<string, StudyPrediction>;
  readonly clips: ClipsFile;
}

export function loadStudy(files: StudyFiles): StudyData {
  return { results: readStudyResults(files), predictions: readStudyPredictions(files), clips: readClips(files) };
}

/** The pre-registered contrasts (docs/EXPERIMENT.md), on kitchenware test top-1 of the probe; A − B. */
export const CONTRASTS = [
  { id: 'C1', rq: 'RQ1', a: 'actions', b: 'groups', what: 'fine actions vs coarse groups' },
  { id: 'C2', rq: 'RQ1', a: 'simplified-l0.5', b: 'actions', what: 'simplified captions (joint) vs fine actions' },
  { id: 'C3', rq: 'RQ1', a: 'captions-l0.5', b: 'simplified-l0.5', what: 'full vs simplified captions, both joint λ=0.5' },
  { id: 'C4', rq: 'RQ2', a: 'captions-l0.5', b: 'actions', what: 'joint vs classification only' },
  { id: 'C5', rq: 'RQ2', a: 'captions-l0.5', b: 'captions-l0', what: 'joint vs captioning only' },
  { id: 'C6', rq: 'RQ4', a: 'captions-l0.5', b: 'scratch', what: 'the named source (full captions, joint) vs from scratch' },
] as const;

/** Kitchenware classes whose motion the source domain has too (same motion, or sliding ≈ pushing sideways). */
export function sharedMotionClasses(): Set<string> {
  const source = new Set(SOMETHING.templates.map((t) => t.motion));
  return new Set(KITCHENWARE.templates.filter((t) => source.has(t.motion) || t.motion.startsWith('slide')).map((t) => templateKey(t.template)));
}

const ARM_LABEL: Record<string, string> = {
  groups: 'groups (λ=1)',
  actions: 'actions (λ=1)',
  'simplified-l0.5': 'simplified captions, λ=0.5',
  'captions-l0.5': 'full captions, λ=0.5',
  'captions-l0': 'full captions, λ=0 (captioning only)',
  scratch: '*from scratch on kitchenware*',
};

const transferKind = (arm: string) => (arm === 'scratch' ? 'scratch' : 'probe');

/** Kitchenware correctness matrices of an arm at a budget, one per data seed (rows: training seeds in seed order). */
export function armMatrices(d: StudyData, arm: string, budget: number, keepClip?: (clipIndex: number, dataSeed: number) => boolean, keepRun?: (r: StudyResult) => boolean): Map<number, CorrectMatrix> {
  const out = new Map<number, boolean[][]>();
  const runs = d.results.filter((r) => r.kind === transferKind(arm) && r.arm === arm && r.budget === budget && (!keepRun || keepRun(r))).sort((x, y) => x.dataSeed - y.dataSeed || x.seed - y.seed);
  for (const r of runs) {
    const clips = d.clips[String(r.dataSeed)]?.target;
    const p = d.predictions.get(r.key);
    if (!clips || !p) throw new Error(`${r.key}: its predictions or its data seed's clips are not recorded`);
    const row = correctness(p, clips).filter((_, i) => !keepClip || keepClip(i, r.dataSeed));
    out.set(r.dataSeed, [...(out.get(r.dataSeed) ?? []), row]);
  }
  return out;
}

export function contrast(d: StudyData, a: string, b: string, budget: number, keepClip?: (clipIndex: number, dataSeed: number) => boolean, keepRun?: (r: StudyResult) => boolean): Contrast | undefined {
  const ma = armMatrices(d, a, budget, keepClip, keepRun);
  const mb = armMatrices(d, b, budget, keepClip, keepRun);
  const strata = [...ma.keys()].filter((s) => mb.has(s)).map((s) => ({ a: ma.get(s)!, b: mb.get(s)! }));
  if (strata.length === 0) return undefined;
  return pairedBootstrap(strata, { iterations: 2000, seed: 14 });
}

/** Holm-adjusted p-values, in the order given. */
export function holm(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(ps.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
const pFmt = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

function meanSd(values: readonly number[], scale = 100, digits = 1): string {
  if (values.length === 0) return '–';
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  if (values.length === 1) return `${(m * scale).toFixed(digits)} (n=1)`;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
  return `${(m * scale).toFixed(digits)} ± ${(sd * scale).toFixed(digits)} (n=${values.length})`;
}

/** The caption metrics of a source run, recomputed from its committed captions. */
export function recomputedCaptions(d: StudyData, r: StudyResult): { bleu4: number; ciderD: number; actionCorrect: number; distinct: number } | undefined {
  const p = d.predictions.get(r.key);
  const clips = d.clips[String(r.dataSeed)]?.source;
  if (!p?.captions || !clips) return undefined;
  const refs = r.task === 'simplified' ? clips.simplified : clips.captions;
  const pairs = p.captions.of.map((ci, i) => ({ candidate: p.captions!.texts[ci]!, references: [refs[i]!] }));
  const k = captionReport(pairs, new TemplateMatcher(clips.templates));
  return { bleu4: k.bleu4, ciderD: k.ciderD, actionCorrect: k.actionCorrect ?? 0, distinct: p.captions.texts.length };
}

/**
 * Pre-registered: a caption decoder is collapsed when its greedy test captions name the right action
 * no more often than 3× chance, or take fewer than 10 distinct captions.
 */
export function isCollapsed(caps: { actionCorrect: number; distinct: number }, sourceClasses: number): boolean {
  return caps.actionCorrect <= 3 / sourceClasses + 1e-9 || caps.distinct < 10;
}

interface DecoderState {
  readonly actionCorrect: number;
  readonly distinct: number;
  readonly collapsed: boolean;
}

/** A caption source run's decoder, from its committed captions, and whether it is collapsed. */
function decoderState(d: StudyData, r: StudyResult): DecoderState | undefined {
  const caps = recomputedCaptions(d, r);
  const classes = d.clips[String(r.dataSeed)]?.source?.classNames.length;
  return caps && classes ? { actionCorrect: caps.actionCorrect, distinct: caps.distinct, collapsed: isCollapsed(caps, classes) } : undefined;
}

/** The caption source runs of a budget whose decoders are collapsed, in plan order. */
export function collapsedSources(d: StudyData, budget: number): { caption: number; collapsed: string[] } {
  const runs = d.results.filter((r) => r.kind === 'source' && r.budget === budget && r.lambda < 1);
  const collapsed = runs.filter((r) => decoderState(d, r)?.collapsed).map((r) => r.key);
  const order = new Map(planStudy().map((r, i) => [r.key, i]));
  return { caption: runs.length, collapsed: collapsed.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)) };
}

/** Addendum A's caption runs, each with its twin at the primary budget (key without the budget). */
export function addendumDecoders(d: StudyData): { key: string; primary?: DecoderState; addendum?: DecoderState }[] {
  const state = (key: string): DecoderState | undefined => {
    const r = d.results.find((x) => x.key === key);
    return r && decoderState(d, r);
  };
  return d.results
    .filter((r) => r.kind === 'source' && r.budget === STUDY_ADDENDUM_BUDGET && r.lambda < 1)
    .sort((x, y) => x.arm.localeCompare(y.arm) || x.dataSeed - y.dataSeed || x.seed - y.seed)
    .map((r) => ({
      key: `${r.arm}/d${r.dataSeed}/s${r.seed}`,
      primary: state(r.key.replace(`/b${STUDY_ADDENDUM_BUDGET}/`, `/b${STUDY_PRIMARY_BUDGET}/`)),
      addendum: state(r.key),
    }));
}

/** Pre-registered: a contrast with fewer runs per arm is undecided whatever its p. */
export const MIN_RUNS_TO_DECIDE = 6;

/** The contrasts measured at a budget: all six, except at the addenda's, which have only C5 (A) and C6 (B). */
const ADDENDUM_CONTRASTS = ['C5', 'C6'];
const contrastsAt = (budget: number) => (budget === STUDY_ADDENDUM_BUDGET ? CONTRASTS.filter((k) => ADDENDUM_CONTRASTS.includes(k.id)) : CONTRASTS);

/** A contrast's table row and whether the data decide it (at the primary budget, and for the addenda's two contrasts). */
export function contrastRows(d: StudyData, budget: number): { id: string; line: string; c?: Contrast; pHolm?: number }[] {
  const cs = contrastsAt(budget).map((k) => ({ k, c: contrast(d, k.a, k.b, budget) }));
  const measured = cs.filter((x) => x.c);
  const adjusted = holm(measured.map((x) => x.c!.p));
  return cs.map(({ k, c }) => {
    if (!c) return { id: k.id, line: `| ${k.id} | ${k.rq} | ${k.what} | ${k.a} − ${k.b} | not measured yet | | | | |` };
    const pHolm = adjusted[measured.findIndex((x) => x.k.id === k.id)]!;
    const decided =
      budget !== STUDY_PRIMARY_BUDGET && budget !== STUDY_ADDENDUM_BUDGET ? 'secondary: not a verdict'
      : c.runsA < MIN_RUNS_TO_DECIDE || c.runsB < MIN_RUNS_TO_DECIDE ? `no: fewer than ${MIN_RUNS_TO_DECIDE} runs per arm yet`
      : pHolm < 0.05 ? (c.diff > 0 ? 'yes: A better' : 'yes: B better')
      : 'no';
    return { id: k.id, c, pHolm, line: `| ${k.id} | ${k.rq} | ${k.what} | ${pts(c.diff)} | [${pts(c.lo)}, ${pts(c.hi)}] | ${pFmt(c.p)} | ${pFmt(pHolm)} | ${c.runsA} / ${c.runsB} runs, ${c.clips} clips | ${decided} |` };
  });
}

/** The median time of the recorded runs of one kind at one budget (the lower middle of an even count). */
function medianSeconds(results: readonly StudyResult[], kind: string, budget: number): number | undefined {
  const s = results.filter((r) => r.kind === kind && r.budget === budget).map((r) => r.seconds).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : undefined;
}

/**
 * The compute the unrecorded runs need, at the median time of the recorded runs of the same kind and
 * budget; for a budget not timed yet, the primary budget's median scaled by steps (a probe's time
 * does not depend on its source's steps).
 */
export function remainingCompute(pending: readonly StudyRun[], results: readonly StudyResult[]): { runs: number; seconds: number; unknown: number } {
  let seconds = 0;
  let unknown = 0;
  const P = STUDY_PRIMARY_BUDGET;
  const fromPrimary = (r: StudyRun) => {
    const atP = medianSeconds(results, r.kind, P);
    return atP === undefined ? undefined : atP * (r.kind === 'probe' ? 1 : r.budget / P);
  };
  for (const r of pending) {
    const m = medianSeconds(results, r.kind, r.budget) ?? fromPrimary(r);
    if (m === undefined) unknown++;
    else seconds += m;
  }
  return { runs: pending.length, seconds, unknown };
}

export function studySection(d: StudyData, notes?: string): string {
  const P = STUDY_PRIMARY_BUDGET;
  const planned = planStudy();
  const done = new Set(d.results.map((r) => r.key));
  const lines: string[] = [];
  const finished = planned.filter((r) => done.has(r.key));
  const replicateDone = (tag: string) => planned.filter((r) => r.key.endsWith(tag)).every((r) => done.has(r.key));
  const tags = [...new Set(planned.map((r) => r.key.split('/').slice(-3).join('/')))];
  const completeReplicates = tags.filter(replicateDone);
  const minutes = d.results.reduce((s, r) => s + r.seconds, 0) / 60;
  lines.push('## Results of the study', '');
  lines.push(
    `**Progress: ${finished.length} of the ${planned.length} planned runs are recorded** (${completeReplicates.length} of ${tags.length} replicates complete: ${completeReplicates.join(', ') || 'none'}); ` +
      `${minutes.toFixed(0)} min of compute. Every figure below is recomputed from \`experiments/study.jsonl\`, \`experiments/study-predictions.jsonl\` and \`experiments/study-clips.json\` ` +
      `(\`npm run experiment -- --study --report-only\`).`,
    '',
  );
  const medians = (['source', 'probe', 'scratch'] as const).map((k) => {
    const m = medianSeconds(d.results, k, P);
    return m === undefined ? undefined : `${k} ${(m / 60).toFixed(1)} min`;
  }).filter(Boolean);
  if (medians.length) lines.push(`Median time per run at budget ${P}×: ${medians.join(', ')}.`, '');
  const remaining = remainingCompute(planned.filter((r) => !done.has(r.key)), d.results);
  if (remaining.runs > 0) {
    lines.push(
      `Remaining: ${remaining.runs} runs, about ${(remaining.seconds / 3600).toFixed(1)} core-hours at the recorded median time of each kind of run and budget ` +
        `(${(remaining.seconds / 3600 / 2).toFixed(1)} hours with two runners)${remaining.unknown ? `, plus ${remaining.unknown} runs of a kind not timed yet` : ''}.`,
      '',
    );
  }

  for (const budget of [P, ...STUDY_BUDGETS.filter((b) => b !== P)]) {
    const rows = contrastRows(d, budget);
    if (budget !== P && rows.every((r) => !r.c)) continue;
    const addendum = budget === STUDY_ADDENDUM_BUDGET;
    const role = budget === P ? ' (primary)' : addendum ? ' (addenda A and B: C5 and C6 only)' : ' (secondary)';
    lines.push(`### Pre-registered contrasts, budget ${budget}×${role} (kitchenware test top-1 of the probe, points)`, '');
    const correction = addendum
      ? 'Holm over the two contrasts of this budget (stricter than addendum A, registered with C5 alone and uncorrected: its p column)'
      : 'Holm over the six contrasts of this budget';
    lines.push('95% intervals and two-sided p from a paired bootstrap (2,000 resamples of test clips, shared by both arms, and of each arm\'s training seeds, within each data seed); ' + correction + '. "Decided" means Holm-adjusted p < 0.05 with at least ' + MIN_RUNS_TO_DECIDE + ' runs per arm.', '');
    lines.push('| id | RQ | contrast | A − B | 95% CI | p | p (Holm) | runs A / B, clips | decided |', '|---|---|---|---|---|---|---|---|---|');
    lines.push(...rows.map((r) => r.line), '');
  }

  lines.push('### Transfer to kitchenware by arm (test top-1 %, mean ± sd over runs)', '');
  lines.push(`| arm | ${STUDY_BUDGETS.map((b) => `budget ${b}×`).join(' | ')} | probe lr / weight decay chosen on validation (runs, budget ${P}×) |`, `|---|${STUDY_BUDGETS.map(() => '---|').join('')}---|`);
  for (const arm of [...STUDY_ARMS.map((a) => a.id), 'scratch']) {
    const of = (b: number) => d.results.filter((r) => r.kind === transferKind(arm) && r.arm === arm && r.budget === b);
    const chosen = new Map<string, number>();
    for (const r of of(P)) if (r.probe) chosen.set(`${r.probe.lr} / ${r.probe.weightDecay}`, (chosen.get(`${r.probe.lr} / ${r.probe.weightDecay}`) ?? 0) + 1);
    lines.push(`| ${ARM_LABEL[arm]} | ${STUDY_BUDGETS.map((b) => meanSd(of(b).map((r) => r.top1))).join(' | ')} | ${arm === 'scratch' ? '– (trained end to end, same steps)' : [...chosen].map(([k, n]) => `${k} (${n})`).join(', ') || '–'} |`);
  }
  const target = d.clips['1']?.target;
  if (target) lines.push('', `Chance: ${(100 / target.classNames.length).toFixed(1)}% (${target.classNames.length} classes); ${target.ids.length} test clips per data seed, so one clip is ${(100 / target.ids.length).toFixed(2)} points of one run.`);
  lines.push('');

  lines.push(`### Source tasks on their own test split (budget ${P}×)`, '');
  lines.push('| arm | head top-1 % | BLEU-4 | CIDEr-D | action correct % | distinct captions / test clips |', '|---|---|---|---|---|---|');
  for (const arm of STUDY_ARMS) {
    const rs = d.results.filter((r) => r.kind === 'source' && r.arm === arm.id && r.budget === P);
    const caps = rs.map((r) => recomputedCaptions(d, r)).filter((x) => x !== undefined);
    const clips = rs[0]?.testClips;
    lines.push(
      `| ${ARM_LABEL[arm.id]} | ${arm.lambda === 0 ? '– (head untrained at λ=0)' : meanSd(rs.map((r) => r.top1))} | ${caps.length ? meanSd(caps.map((c) => c.bleu4), 1, 3) : '–'} | ${caps.length ? meanSd(caps.map((c) => c.ciderD), 1, 3) : '–'} | ${caps.length ? meanSd(caps.map((c) => c.actionCorrect)) : '–'} | ${caps.length ? `${caps.map((c) => c.distinct).join(', ')} / ${clips}` : '–'} |`,
    );
  }
  const sourceClasses = d.clips['1']?.source?.classNames.length;
  if (sourceClasses) lines.push('', `Chance for the action head and for "action correct" (the caption matches the right template): ${(100 / sourceClasses).toFixed(1)}% (${sourceClasses} actions).`);
  lines.push('');
  if (sourceClasses) {
    lines.push(`**Collapsed decoders** (pre-registered: "action correct" at most 3× chance, ${((300 / sourceClasses)).toFixed(1)}%, or fewer than 10 distinct captions):`, '');
    const byBudget = new Map([P, ...STUDY_BUDGETS.filter((b) => b !== P)].map((b) => [b, collapsedSources(d, b)]));
    for (const [budget, { caption, collapsed }] of byBudget) {
      if (caption === 0) continue;
      lines.push(`- budget ${budget}×: ${collapsed.length} of ${caption} caption runs${collapsed.length ? ` — ${collapsed.map((k) => `\`${k}\``).join(', ')}` : ''}.`);
    }
    lines.push('');
    const collapsedKeys = new Set(byBudget.get(P)!.collapsed);
    const alive = (r: StudyResult) => !collapsedKeys.has(r.key.replace(/^probe\//, 'source/'));
    const c5 = CONTRASTS.find((k) => k.id === 'C5')!;
    const droppedB = d.results.filter((r) => r.kind === 'probe' && r.arm === c5.b && r.budget === P && !alive(r)).length;
    const c = droppedB ? contrast(d, c5.a, c5.b, P, undefined, alive) : undefined;
    if (c) {
      lines.push(
        `Not pre-registered, a check of C5 against collapse: C5 with only the runs whose decoders are not collapsed (${c.runsA} / ${c.runsB} runs): ` +
          `${pts(c.diff)} points, 95% CI [${pts(c.lo)}, ${pts(c.hi)}], p ${pFmt(c.p)}.`,
        '',
      );
    }
  }

  const twins = addendumDecoders(d);
  if (twins.length) {
    lines.push(`### Addendum A: the same decoders at ${STUDY_PRIMARY_BUDGET}× and ${STUDY_ADDENDUM_BUDGET}× (source test split)`, '');
    lines.push(`Each ${STUDY_ADDENDUM_BUDGET}× caption run beside its ${STUDY_PRIMARY_BUDGET}× twin (same arm, data seed and training seed); "action correct" % / distinct captions, and whether the decoder is collapsed by the pre-registered line.`, '');
    lines.push(`| run | ${STUDY_PRIMARY_BUDGET}× | ${STUDY_ADDENDUM_BUDGET}× |`, '|---|---|---|');
    const cell = (t?: DecoderState) => (t ? `${(t.actionCorrect * 100).toFixed(1)} / ${t.distinct}${t.collapsed ? ', collapsed' : ''}` : 'not recorded');
    for (const t of twins) lines.push(`| \`${t.key}\` | ${cell(t.primary)} | ${cell(t.addendum)} |`);
    lines.push('');
  }

  const shared = sharedMotionClasses();
  lines.push(`### Kitchenware classes whose motion the source shares, and the rest (budget ${P}×)`, '');
  lines.push(`Shared (${shared.size}): ${[...shared].join('; ')}.`, '');
  const keep = (want: boolean) => (i: number, ds: number) => {
    const t = d.clips[String(ds)]!.target!;
    return shared.has(t.classNames[t.labels[i]!]!) === want;
  };
  lines.push('| arm | top-1 % on shared-motion classes | top-1 % on the other classes |', '|---|---|---|');
  for (const arm of [...STUDY_ARMS.map((a) => a.id), 'scratch']) {
    const acc = (want: boolean) => {
      const ms = [...armMatrices(d, arm, P, target ? keep(want) : undefined).values()].flat();
      return meanSd(ms.map((row) => row.filter(Boolean).length / Math.max(1, row.length)));
    };
    lines.push(`| ${ARM_LABEL[arm]} | ${target ? acc(true) : '–'} | ${target ? acc(false) : '–'} |`);
  }
  lines.push('');
  if (target) {
    const c6 = CONTRASTS.find((k) => k.id === 'C6')!;
    for (const budget of [P, STUDY_ADDENDUM_BUDGET]) {
      for (const want of [true, false]) {
        const c = contrast(d, c6.a, c6.b, budget, keep(want));
        const at = budget === P ? '' : ` at ${budget}× (addendum B, descriptive)`;
        if (c) lines.push(`- C6${at} on the ${want ? 'shared-motion' : 'other'} classes: ${pts(c.diff)} points, 95% CI [${pts(c.lo)}, ${pts(c.hi)}], p ${pFmt(c.p)} (${c.clips} clips).`);
      }
    }
    lines.push('');
  }
  if (notes) lines.push('### Observations', '', notes.trim(), '');
  return lines.join('\n');
}

export type { StudyRun };
