/** A browser's webcam as the server sees it, for signalling tests: a real @roamhq/wrtc peer. */
import wrtc from '@roamhq/wrtc';

/** A second peer in this process sending a moving bar, with a complete (non-trickle) offer. */
export async function webcamPeer(): Promise<{ peer: RTCPeerConnection; offer: string; stop: () => void }> {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] }) as unknown as RTCPeerConnection;
  peer.addTrack(track);
  const W = 160;
  const H = 120;
  let n = 0;
  const pump = setInterval(() => {
    const data = new Uint8Array(W * H * 1.5).fill(128);
    for (let y = 0; y < H; y++) for (let x = 0; x < 20; x++) data[y * W + ((x + n * 4) % W)] = 235;
    n++;
    source.onFrame({ width: W, height: H, data });
  }, 66);
  await peer.setLocalDescription(await peer.createOffer());
  await new Promise<void>((resolve) => {
    if (peer.iceGatheringState === 'complete') return resolve();
    peer.addEventListener('icegatheringstatechange', () => peer.iceGatheringState === 'complete' && resolve());
  });
  return {
    peer,
    offer: peer.localDescription!.sdp,
    stop: () => {
      clearInterval(pump);
      track.stop();
      peer.close();
    },
  };
}

