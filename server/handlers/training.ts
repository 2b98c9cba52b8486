/** Messages about training from the dashboard: start a job on the library's clips, cancel it. Progress reaches every client through TrainingJobs.changed$. */
import { RequestError, type HandlerScope, type Handlers } from './types.js';
import type { TrainingJobs } from '../trainingJobs.js';

function jobsOf(ctx: HandlerScope['ctx']): TrainingJobs {
  if (!ctx.training) throw new RequestError('failed', 'this server cannot train models');
  return ctx.training;
}

export const trainingHandlers: Handlers<'start-training' | 'cancel-training' | 'list-training'> = {
  'list-training'(m, { ctx, reply }) {
    reply({ type: 'training', id: m.id, jobs: ctx.training?.list() ?? [] });
  },

  'start-training'(m, { ctx, reply }) {
    const job = jobsOf(ctx).start({ classes: m.classes, base: m.base, mode: m.mode, ...(m.name ? { name: m.name } : {}) });
    ctx.log.info({ job: job.id, classes: job.classes, base: job.base, mode: job.mode }, 'training job started');
    reply({ type: 'ack', id: m.id, of: m.type });
  },

  'cancel-training'(m, { ctx, reply }) {
    jobsOf(ctx).cancel(m.jobId);
    reply({ type: 'ack', id: m.id, of: m.type });
  },
};
