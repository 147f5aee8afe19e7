// Interop servers — one live source for the whole server, like a camera
// and a microphone: every session sees the same frame numbers at the same
// time, so a player that rotates sessions and loses or repeats a frame
// shows it in the counter (lib/framecode.js).
//
//   const { Camera } = require('./lib/camera');
//   const camera = new Camera({ width: 640, height: 360, fps: 30 });
//   const stop = camera.onVideo((frame, counter) => source.onFrame(frame));
//   const stopAudio = camera.onAudio((chunk) => audioSource.onData(chunk));
//   ...; stop(); stopAudio(); camera.close();
//
// Video: an I420 { width, height, data } picture with the counter painted
// in, every 1/fps s.  The picture is one buffer repainted on every tick:
// a listener uses it (or copies it) before it returns; libwebrtc's
// RTCVideoSource.onFrame copies.  Ticks are kept on the wall clock without
// drift and never come in bursts (an encoder fed two frames at once drops
// one); a tick that comes too late is not made up for: the counter still
// counts every frame that was sent, so a late tick is no gap.
//
// Audio: 10 ms chunks of 48 kHz mono 16-bit PCM (a 440 Hz tone at -12 dBFS,
// continuous across sessions): { samples, sampleRate, bitsPerSample,
// channelCount, numberOfFrames } as RTCAudioSource.onData takes it.
//
// The counter starts at 0 with the first video listener and from then on
// runs with the clock, watched or not (a camera nobody watches still
// counts its frames; it only paints nothing).
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const framecode = require('./framecode');

const AUDIO_RATE = 48000;
const AUDIO_CHUNK_MS = 10;
const AUDIO_FREQ = 440;
const AUDIO_AMPLITUDE = Math.round(32767 / 4);

// Calls @tick(n) every @periodMs on the wall clock, n = 0, 1, 2, …,
// without drift.  A timer that fires a period or more late moves the clock
// on instead of catching up in a burst (@onSkip hears of stalls of more
// than two periods).
class Ticker {
  constructor(periodMs, tick, onSkip) {
    this.periodMs = periodMs;
    this.tick = tick;
    this.onSkip = onSkip;
    this.start = performance.now();
    this.n = 0;
    this.timer = null;
    this.schedule();
  }

  schedule() {
    const due = this.start + this.n * this.periodMs;
    const delay = Math.max(0, due - performance.now());
    this.timer = setTimeout(() => this.fire(), delay);
  }

  fire() {
    const now = performance.now();
    const behind = Math.floor((now - this.start) / this.periodMs) - this.n;
    if (behind >= 1) {
      if (behind > 2 && this.onSkip)
        this.onSkip(behind);
      this.start = now - this.n * this.periodMs;
    }
    this.tick(this.n++);
    if (this.timer !== null)
      this.schedule();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}

class Camera {
  constructor({ width = 640, height = 360, fps = 30, log = null } = {}) {
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.log = log;
    this.frame = framecode.newI420(width, height);
    this.counter = 0;
    this.videoListeners = new Set();
    this.audioListeners = new Set();
    this.videoTicker = null;
    this.audioTicker = null;
    this.phase = 0;
  }

  // The counter the next frame will carry.
  get nextCounter() {
    return this.counter;
  }

  onVideo(listener) {
    this.videoListeners.add(listener);
    if (this.videoTicker === null)
      this.videoTicker = new Ticker(1000 / this.fps, () => this.videoTick(),
        (n) => this.log && this.log(`camera: ${n} video ticks late`));
    return () => {
      this.videoListeners.delete(listener);
      this.maybeStop();
    };
  }

  onAudio(listener) {
    this.audioListeners.add(listener);
    if (this.audioTicker === null)
      this.audioTicker = new Ticker(AUDIO_CHUNK_MS, () => this.audioTick(),
        (n) => this.log && this.log(`camera: ${n} audio ticks late`));
    return () => {
      this.audioListeners.delete(listener);
      this.maybeStop();
    };
  }

  maybeStop() {
    if (this.audioListeners.size === 0 && this.audioTicker !== null) {
      this.audioTicker.stop();
      this.audioTicker = null;
    }
  }

  videoTick() {
    const counter = this.counter++ & framecode.MAX;
    if (this.videoListeners.size === 0)
      return;
    framecode.paintBackground(this.frame, counter);
    framecode.stamp(this.frame, counter);
    for (const listener of [...this.videoListeners])
      listener(this.frame, counter);
  }

  audioTick() {
    const n = (AUDIO_RATE * AUDIO_CHUNK_MS) / 1000;
    const samples = new Int16Array(n);
    const step = (2 * Math.PI * AUDIO_FREQ) / AUDIO_RATE;
    for (let i = 0; i < n; i++)
      samples[i] = Math.round(AUDIO_AMPLITUDE * Math.sin(this.phase + i * step));
    this.phase = (this.phase + n * step) % (2 * Math.PI);
    const chunk = {
      samples,
      sampleRate: AUDIO_RATE,
      bitsPerSample: 16,
      channelCount: 1,
      numberOfFrames: n,
    };
    for (const listener of [...this.audioListeners])
      listener(chunk);
  }

  close() {
    this.videoListeners.clear();
    this.audioListeners.clear();
    this.maybeStop();
    if (this.videoTicker !== null) {
      this.videoTicker.stop();
      this.videoTicker = null;
    }
  }
}

module.exports = { Camera, Ticker, AUDIO_RATE };
