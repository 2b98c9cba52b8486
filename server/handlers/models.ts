/** Messages about the models: list them, switch the live streams to one, roll back to the one before. */
import { RequestError, type HandlerScope, type Handlers } from './types.js';
import type { ModelControl } from '../liveModel.js';

function liveOf(ctx: HandlerScope['ctx']): ModelControl {
  if (!ctx.live) throw new RequestError('failed', 'this server cannot switch models');
  return ctx.live;
}

export const modelHandlers: Handlers<'list-models' | 'switch-model' | 'rollback-model'> = {
  'list-models'(m, { ctx, reply }) {
    // Asked by every dashboard on connect: a server with a fixed model just acknowledges.
    if (!ctx.live) return reply({ type: 'ack', id: m.id, of: m.type });
    reply({ type: 'models', id: m.id, models: ctx.live.view() });
  },

  // The switch's progress and end reach every client through LiveModel.changed$ (server/app.ts).
  async 'switch-model'(m, { ctx, reply }) {
    await liveOf(ctx).switchTo(m.model);
    reply({ type: 'ack', id: m.id, of: m.type });
  },

  async 'rollback-model'(m, { ctx, reply }) {
    await liveOf(ctx).rollback();
    reply({ type: 'ack', id: m.id, of: m.type });
  },
};
