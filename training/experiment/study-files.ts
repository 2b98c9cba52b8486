/** Where the study's committed record lives (store.ts describes the three files). */
import type { StudyFiles } from './store.js';

export const STUDY_FILES: StudyFiles = {
  results: 'experiments/study.jsonl',
  predictions: 'experiments/study-predictions.jsonl',
  clips: 'experiments/study-clips.json',
};

/** The pre-registration, written before any run (its commit precedes every results line) and copied into the report. */
export const PREREGISTRATION = 'experiments/study-preregistration.md';
/** Hand-written observations about the study's results, copied into the report. */
export const STUDY_NOTES = 'experiments/study-notes.md';
