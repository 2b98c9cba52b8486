/** Messages about live streams: what a client watches, and adding or removing cameras and webcams. */
import { MAX_PENDING_OFFERS_PER_CLIENT, rtspCameraKey } from '../protocol.js';
import { acceptOffer } from '../webrtc.js';
import { rtspDisplayName } from '../cameras.js';
import { RequestError, type Handlers } from './types.js';

export const streamHandlers: Handlers<'subscribe' | 'unsubscribe' | 'add-rtsp' | 'add-v4l2' | 'remove-stream' | 'retry-stream' | 'webrtc-offer'> = {
  subscribe(m, { ctx, client, reply }) {
    const { streams } = ctx;
    if (m.streams === '*') {
      client.subscriptions = '*';
      if (m.preview) client.previews = '*';
    } else {
      const unknown = m.streams.filter((s) => !streams.has(s));
      if (unknown.length > 0) throw new RequestError('unknown-stream', `no stream ${unknown.map((s) => `"${s}"`).join(', ')}`);
      for (const s of m.streams) {
        if (client.subscriptions !== '*') client.subscriptions.add(s);
        if (m.preview && client.previews !== '*') client.previews.add(s);
      }
    }
    reply({ type: 'ack', id: m.id, of: m.type });
    // A new subscriber learns each stream's state at once rather than at its next change.
    for (const info of streams.list()) {
      if (m.streams === '*' || m.streams.includes(info.id)) {
        const st = streams.lastStatus(info.id);
        if (st) reply(st);
      }
    }
  },

  unsubscribe(m, { client, reply }) {
    if (m.streams === '*') {
      client.subscriptions = new Set();
      client.previews = new Set();
    } else {
      for (const s of m.streams) {
        if (client.subscriptions !== '*') client.subscriptions.delete(s);
        if (client.previews !== '*') client.previews.delete(s);
      }
    }
    reply({ type: 'ack', id: m.id, of: m.type });
  },

  'add-rtsp'(m, { ctx, reply }) {
    const info = ctx.streams.add({
      kind: 'rtsp',
      name: m.name?.trim() || rtspDisplayName(m.url),
      key: rtspCameraKey(m.url),
      open: (id, events) => ({ source: ctx.sources.rtsp(id, m.url, { reconnect: ctx.rtspReconnect, onStall: events.stalled }) }),
    });
    reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
  },

  'add-v4l2'(m, { ctx, reply }) {
    const info = ctx.streams.add({ kind: 'v4l2', name: m.name?.trim() || m.device, key: m.device, open: (id) => ({ source: ctx.sources.v4l2(id, m.device) }) });
    reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
  },

  async 'remove-stream'(m, { ctx, client, reply }) {
    await ctx.streams.remove(m.streamId);
    client.owned.delete(m.streamId);
    reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
  },

  'retry-stream'(m, { ctx, reply }) {
    ctx.streams.retry(m.streamId);
    reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
  },

  async 'webrtc-offer'(m, { ctx, client, reply, offers }) {
    // Each offer in negotiation holds a native peer connection: a client flooding offers must not pile them up.
    const release = offers.tryAcquire();
    if (!release) throw new RequestError('limit', `at most ${MAX_PENDING_OFFERS_PER_CLIENT} WebRTC offers may be in negotiation at once; wait for the answer`);
    let accepted;
    try {
      accepted = await acceptOffer(m.sdp, ctx.webrtc);
    } finally {
      release();
    }
    let info;
    try {
      info = ctx.streams.add({
        kind: 'webcam',
        name: m.name?.trim() || `Webcam (client ${client.id})`,
        open: (id) => ({ source: ctx.sources.webrtc(id, accepted.track), dispose: () => accepted.peer.close() }),
      });
    } catch (err) {
      accepted.peer.close();
      throw err;
    }
    client.owned.add(info.id);
    reply({ type: 'webrtc-answer', id: m.id, streamId: info.id, sdp: accepted.answerSdp });
  },
};
