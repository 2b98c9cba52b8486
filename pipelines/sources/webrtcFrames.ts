/**
 * Frames arriving on a WebRTC video track (e.g. a browser webcam negotiated by the server), read
 * through @roamhq/wrtc's RTCVideoSink and converted from I420 to RGB24 at the model's size. The
 * track's own rate is kept; the pipeline's adaptFrameRate resamples it to the model's fps.
 * Unsubscribing stops the sink and, when given, closes the peer connection.
 */
import wrtc from '@roamhq/wrtc';
import { Observable } from 'rxjs';
import { now } from '../clock.js';
import type { Frame } from '../types.js';
import { i420ToRgb } from './i420ToRgb.js';

export interface WebrtcFramesOptions {
  readonly streamId: string;
  readonly track: MediaStreamTrack;
  /** Closed on unsubscribe or when the track ends. */
  readonly peer?: RTCPeerConnection;
  readonly width: number;
  readonly height: number;
  readonly clock?: () => number;
}

export function webrtcFrames({ streamId, track, peer, width, height, clock = now }: WebrtcFramesOptions): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    if (track.kind !== 'video') {
      subscriber.error(new Error(`WebRTC source needs a video track, got a ${track.kind} track`));
      return;
    }
    if (track.readyState === 'ended') {
      subscriber.error(new Error('WebRTC track has already ended'));
      return;
    }
    let seq = 0;
    const sink = new wrtc.nonstandard.RTCVideoSink(track);
    sink.onframe = ({ frame }: { frame: { width: number; height: number; data: Uint8Array } }) => {
      subscriber.next({ streamId, seq: seq++, capturedAt: clock(), width, height, pixels: i420ToRgb(frame.data, frame.width, frame.height, width, height) });
    };
    const onEnded = () => subscriber.complete();
    track.addEventListener?.('ended', onEnded);
    const onState = () => {
      const state = peer?.connectionState;
      if (state === 'failed') subscriber.error(new Error('WebRTC peer connection failed'));
      else if (state === 'closed') subscriber.complete();
    };
    peer?.addEventListener?.('connectionstatechange', onState);
    return () => {
      track.removeEventListener?.('ended', onEnded);
      peer?.removeEventListener?.('connectionstatechange', onState);
      sink.onframe = null;
      sink.stop();
      if (peer && peer.connectionState !== 'closed') peer.close();
    };
  });
}
