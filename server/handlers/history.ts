/** The event history, browsed from the dashboard: a filtered page, newest first. */
import { RequestError, type Handlers } from './types.js';

export const historyHandlers: Handlers<'history-query'> = {
  'history-query'(m, { ctx, reply }) {
    const store = ctx.history.usable;
    if (!store) throw new RequestError('failed', ctx.history.unavailable);
    const page = store.query(m.filter);
    reply({ type: 'history', id: m.id, items: page.items, more: page.more, ...(m.facets ? { facets: store.facets() } : {}) });
  },
};
