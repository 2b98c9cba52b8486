/**
 * "Use my webcam" across NAT: the server configured with a TURN server (a real coturn on loopback)
 * and the relay-only policy must tell the dashboard the same ICE settings, answer an offer with
 * relay candidates only, and get the webcam's frames through the relay to predictions. With a wrong
 * TURN password it can allocate nothing, so its answer carries no candidate at all.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../server/protocol.js';
import { need, tempDir } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';
import { hasTurnServer, startTurnServer, type TurnServer } from './turnServer.js';
import { webcamPeer } from './webcamPeer.js';

const d = need(hasTurnServer, 'coturn (turnserver)') ? describe : describe.skip;

const candidates = (sdp: string) => sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));

d('WebRTC through a TURN relay (coturn)', () => {
  const tmp = tempDir('turn');
  let turn: TurnServer;
  let t: TestServer;
  const configFile = (name: string, credential: string) => {
    const file = path.join(tmp.dir, name);
    writeFileSync(file, JSON.stringify({ iceServers: [{ urls: turn.url, username: turn.username, credential }], iceTransportPolicy: 'relay' }));
    return file;
  };

  beforeAll(async () => {
    turn = await startTurnServer();
    t = await startTestServer(['--config', configFile('relay.json', turn.credential)]);
  });
  afterAll(async () => {
    await t?.close();
    await turn?.stop();
    tmp.remove();
  });

  it('sends the dashboard its ICE settings, answers with relay candidates only, and scores the relayed webcam', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const welcome = await c.waitFor<Extract<ServerMessage, { type: 'welcome' }>>((m) => m.type === 'welcome');
    expect(welcome.webrtc).toEqual({ iceServers: [{ urls: turn.url, username: turn.username, credential: turn.credential }], iceTransportPolicy: 'relay' });
    const cam = await webcamPeer();
    try {
      const answer = await c.request<Extract<ServerMessage, { type: 'webrtc-answer' }>>({ type: 'webrtc-offer', sdp: cam.offer, name: 'Behind NAT' }, 'offer');
      const offered = candidates(answer.sdp);
      expect(offered.length).toBeGreaterThan(0);
      for (const line of offered) expect(line).toMatch(/ typ relay /);
      await cam.peer.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      c.send({ type: 'subscribe', streams: [answer.streamId], preview: false });
      const p = await c.waitFor<Extract<ServerMessage, { type: 'prediction' }>>((m) => m.type === 'prediction' && m.streamId === answer.streamId, 60_000, 'a prediction on relayed frames');
      expect(p.heads.action!.length).toBeGreaterThan(0);
    } finally {
      cam.stop();
      await c.close();
    }
  });

  it('with a wrong TURN password the relay-only server has no candidate to offer', async () => {
    const bad = await startTestServer(['--config', configFile('bad.json', 'not-the-password')]);
    const c = await TestClient.connect(bad.wsUrl);
    const cam = await webcamPeer();
    try {
      const answer = await c.request<Extract<ServerMessage, { type: 'webrtc-answer' }>>({ type: 'webrtc-offer', sdp: cam.offer }, 'offer');
      expect(candidates(answer.sdp)).toEqual([]);
    } finally {
      cam.stop();
      await c.close();
      await bad.close();
    }
  });
});
