/**
 * "Use my webcam": camera → RTCPeerConnection → server. The offer is sent once ICE gathering has
 * finished (no trickle), so signalling is one request and one reply over the dashboard's WebSocket.
 */
import type { Connection } from './connection.svelte.ts';

export interface WebcamSession {
  readonly streamId: string;
  readonly media: MediaStream;
  stop(): void;
}

function gatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

export async function startWebcam(conn: Connection): Promise<WebcamSession> {
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } }, audio: false });
  const pc = new RTCPeerConnection({ iceServers: conn.webrtc.iceServers, iceTransportPolicy: conn.webrtc.iceTransportPolicy });
  try {
    for (const track of media.getVideoTracks()) pc.addTrack(track, media);
    await pc.setLocalDescription(await pc.createOffer());
    // Without ICE servers gathering is local and quick; a TURN allocation needs round trips.
    await gatheringComplete(pc, conn.webrtc.iceServers.length > 0 ? 5000 : 3000);
    const reply = await conn.request({ type: 'webrtc-offer', sdp: pc.localDescription!.sdp, name: 'My webcam' });
    if (reply.type !== 'webrtc-answer') throw new Error(`unexpected reply ${reply.type}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    return {
      streamId: reply.streamId,
      media,
      stop() {
        for (const t of media.getTracks()) t.stop();
        pc.close();
      },
    };
  } catch (err) {
    for (const t of media.getTracks()) t.stop();
    pc.close();
    throw err;
  }
}
