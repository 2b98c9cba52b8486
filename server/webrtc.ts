/**
 * WebRTC signalling for "Use my webcam": the browser sends a complete offer (ICE candidates
 * gathered, no trickle) over the WebSocket; the server answers from a @roamhq/wrtc peer and hands
 * the first incoming video track to the pipelines' WebRTC source. Without ICE servers only host
 * candidates are offered, which covers loopback and a LAN; configured STUN/TURN servers (the same
 * the browser is told to use) reach across NAT, and the `relay` policy forces TURN.
 */
import wrtc from '@roamhq/wrtc';
import type { WebRtcSettings } from './protocol.js';

export interface AcceptedOffer {
  readonly answerSdp: string;
  readonly peer: RTCPeerConnection;
  /** Resolves with the browser's video track; rejects if none arrives in time. */
  readonly track: Promise<MediaStreamTrack>;
}

export class WebRtcError extends Error {}

function iceGatheringComplete(peer: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs); // answer with what we have
    peer.addEventListener('icegatheringstatechange', () => {
      if (peer.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

const HOST_ONLY: WebRtcSettings = { iceServers: [], iceTransportPolicy: 'all' };

export async function acceptOffer(offerSdp: string, settings: WebRtcSettings = HOST_ONLY, trackTimeoutMs = 15_000): Promise<AcceptedOffer> {
  if (!/^v=0\r?\n/.test(offerSdp) || !/\nm=video /.test(offerSdp)) throw new WebRtcError('the offer is not an SDP offer with a video section');
  // Every SDP line is `<letter>=<value>`: refuse garbage here, before a native peer connection is made for it.
  if (!offerSdp.split(/\r?\n/).every((line) => line === '' || /^[a-z]=[^\x00-\x08\x0a-\x1f\x7f]*$/.test(line))) {
    throw new WebRtcError('the offer is not SDP: every line must look like "x=value"');
  }
  const peer = new wrtc.RTCPeerConnection({ iceServers: settings.iceServers, iceTransportPolicy: settings.iceTransportPolicy }) as unknown as RTCPeerConnection;
  const track = new Promise<MediaStreamTrack>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WebRtcError('no video track arrived from the browser')), trackTimeoutMs);
    peer.addEventListener('track', (ev) => {
      if (ev.track.kind !== 'video') return;
      clearTimeout(timer);
      resolve(ev.track);
    });
  });
  track.catch(() => undefined); // the caller awaits it; avoid an unhandled rejection meanwhile
  try {
    await peer.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const answer = await peer.createAnswer();
    await peer.setLocalDescription(answer);
    // TURN allocations take a round trip or two to a possibly distant server: allow them longer.
    await iceGatheringComplete(peer, settings.iceServers.length > 0 ? 5000 : 2000);
  } catch (err) {
    peer.close();
    throw new WebRtcError(`cannot answer the offer: ${(err as Error).message}`);
  }
  const answerSdp = peer.localDescription?.sdp;
  if (!answerSdp) {
    peer.close();
    throw new WebRtcError('no local description after answering');
  }
  return { answerSdp, peer, track };
}
