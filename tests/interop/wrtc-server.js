#!/usr/bin/env node
// A WHEP server on libwebrtc (npm @roamhq/wrtc), for whepsrc's interop
// tests: a camera-like source whose every picture carries the frame counter
// of tests/common/framecode.h, painted before encoding (lib/framecode.js),
// one clock for the whole server (lib/camera.js), and per session its own
// RTCPeerConnection — its own VP8 encoder fed through its own
// RTCVideoSource, its own RTCP — plus an RTCAudioSource (48 kHz, Opus) when
// --audio opus is given and the offer has audio.
//
//   node tests/interop/wrtc-server.js [--port 0] [--session-limit S]
//        [--kill-after S] [--silent-after S] [--video-bitrate KBPS] …
//
// The HTTP side, the quirk options and the event log are lib/whep-server.js
// (`--help` lists the options).  The answer carries every candidate the
// server has (it does not trickle), restricted to --ice-address (default
// 127.0.0.1); remote candidates on other addresses are ignored, so ICE
// stays on loopback.  ICE restart over PATCH is supported (libwebrtc
// answers a re-offer with new credentials) unless --no-ice-restart.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const wrtc = require('@roamhq/wrtc');

const { Camera } = require('./lib/camera');
const { log, debug, debugOn, handleShutdown } = require('./lib/events');
const { COMMON, parseOptions } = require('./lib/options');
const sdp = require('./lib/sdp');
const { WhepServer } = require('./lib/whep-server');

const { RTCPeerConnection, MediaStream } = wrtc;
const { RTCVideoSource, RTCAudioSource } = wrtc.nonstandard;

const GATHER_TIMEOUT_MS = 5000;

const opts = parseOptions(process.argv.slice(2), [
  ...COMMON,
  { name: 'video-bitrate', type: 'int', default: 0,
    help: 'cap the video encoder at this many kbit/s (0: libwebrtc\'s own rate control); ' +
      'b=AS in the offer as libwebrtc sees it (RTCRtpSender.setParameters fails in this build)' },
]);

const CODECS = { vp8: 'VP8', vp9: 'VP9', h264: 'H264' };

const camera = new Camera({ width: opts.width, height: opts.height, fps: opts.fps, log });

function refuse(status, message) {
  return Object.assign(new Error(message), { status });
}

// Resolves once @pc has gathered all its candidates (or after a while: the
// answer then has what there is).
function gathered(pc) {
  if (pc.iceGatheringState === 'complete')
    return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log('ICE gathering did not complete; answering with what there is');
      resolve();
    }, GATHER_TIMEOUT_MS);
    const check = () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    };
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', (e) => {
      if (!e.candidate || !e.candidate.candidate)
        check();
    });
  });
}

// The local description, its candidates kept to --ice-address.
function localAnswer(session) {
  const { sdp: text, kept, dropped } = sdp.keepCandidates(session.backend.pc.localDescription.sdp,
    opts.iceAddress);
  debug(`session ${session.id}: answer with ${kept} candidates (${dropped} on other addresses dropped)`);
  if (kept === 0)
    log(`session ${session.id}: no candidate on ${opts.iceAddress.join(', ')}`);
  return text;
}

function startMedia(session) {
  const b = session.backend;
  if (b.video)
    b.stop.push(camera.onVideo((frame) => b.video.source.onFrame(frame)));
  if (b.audio)
    b.stop.push(camera.onAudio((chunk) => b.audio.source.onData(chunk)));
}

// WHEP_INTEROP_DEBUG=1: what the video encoder sends, every 2 s.
function watchEncoder(session) {
  const b = session.backend;
  let last = null;
  b.watch = setInterval(async () => {
    let report;
    try {
      report = await b.pc.getStats();
    } catch (e) {
      return;
    }
    for (const s of report.values()) {
      if (s.type !== 'outbound-rtp' || s.kind !== 'video')
        continue;
      const now = { t: Date.now(), bytes: s.bytesSent, frames: s.framesEncoded };
      if (last)
        debug(`session ${session.id}: video ${s.frameWidth}x${s.frameHeight} ` +
          `${Math.round(((now.bytes - last.bytes) * 8) / (now.t - last.t))} kbit/s ` +
          `${(((now.frames - last.frames) * 1000) / (now.t - last.t)).toFixed(1)} fps ` +
          `(${s.encoderImplementation || '?'}, quality limitation: ${s.qualityLimitationReason || '?'})`);
      last = now;
    }
  }, 2000);
}

function stopMedia(session) {
  const b = session.backend;
  for (const stop of b.stop.splice(0))
    stop();
}

let whep = null;

const backend = {
  async createSession(session, offer) {
    let remote = offer;
    if (opts.video !== 'none' && opts.video !== 'vp8')
      remote = sdp.keepCodec(remote, 'video', CODECS[opts.video]);
    if (opts.videoBitrate > 0)
      remote = sdp.setBandwidth(remote, 'video', opts.videoBitrate);
    session.backend.offer = remote;
    const wantVideo = opts.video !== 'none' && sdp.hasKind(remote, 'video');
    const wantAudio = opts.audio !== 'none' && sdp.hasKind(remote, 'audio');
    if (!wantVideo && !wantAudio)
      throw refuse(400, 'the offer asks for nothing this server sends');

    const pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      sdpSemantics: 'unified-plan',
    });
    const b = session.backend;
    b.pc = pc;
    b.created = Date.now();
    b.stop = [];
    pc.addEventListener('connectionstatechange', () => {
      const state = pc.connectionState;
      debug(`session ${session.id}: connection ${state}`);
      if (state === 'connected')
        whep.connected(session);
      else if (state === 'failed')
        whep.end(session, 'expired', 'connection-failed');
    });

    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: remote });
    } catch (e) {
      throw refuse(400, `offer refused: ${e.message}`);
    }
    // One stream for every track, as WHEP asks.
    const stream = new MediaStream();
    if (wantVideo) {
      const source = new RTCVideoSource();
      const track = source.createTrack();
      b.video = { source, track, sender: pc.addTrack(track, stream) };
    }
    if (wantAudio) {
      const source = new RTCAudioSource();
      const track = source.createTrack();
      b.audio = { source, track, sender: pc.addTrack(track, stream) };
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await gathered(pc);
    if (session.ended)
      throw refuse(503, 'the session ended before it was answered');
    startMedia(session);
    if (debugOn && b.video)
      watchEncoder(session);
    const text = localAnswer(session);
    if (process.env.WHEP_INTEROP_DEBUG_SDP === '1')
      debug(`session ${session.id}: offer:\n${offer}\nanswer:\n${text}`);
    return { type: 'answer', sdp: text };
  },

  async addCandidates(session, frag) {
    const pc = session.backend.pc;
    let added = 0;
    for (const c of frag.candidates) {
      if (c.transport !== 'udp' || !sdp.addressAllowed(c.address, opts.iceAddress))
        continue;
      try {
        await pc.addIceCandidate({ candidate: c.text, sdpMid: frag.mid || session.mid, sdpMLineIndex: 0 });
        added++;
      } catch (e) {
        log(`session ${session.id}: candidate refused: ${e.message}`);
      }
    }
    return added;
  },

  // The player restarts ICE: its offer again with the new credentials,
  // answered by libwebrtc with new ones of its own.
  async restartIce(session, frag) {
    const pc = session.backend.pc;
    if (!frag.ufrag || !frag.pwd)
      throw refuse(400, 'an ICE restart needs a=ice-ufrag and a=ice-pwd');
    const offer = sdp.join(sdp.lines(session.backend.offer || session.offer)
      .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
      .map((l) => (l.startsWith('a=ice-ufrag:') ? `a=ice-ufrag:${frag.ufrag}`
        : l.startsWith('a=ice-pwd:') ? `a=ice-pwd:${frag.pwd}` : l)));
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    session.backend.offer = offer;
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await this.addCandidates(session, frag);
    return sdp.restartAnswerFrag(pc.localDescription.sdp, frag.mid || session.mid, opts.iceAddress);
  },

  // Media stops; the peer connection (ICE, DTLS, RTCP) lives on.
  silence(session) {
    stopMedia(session);
  },

  close(session) {
    const b = session.backend;
    if (!b.pc)
      return;
    stopMedia(session);
    clearInterval(b.watch);
    for (const m of [b.video, b.audio])
      if (m)
        m.track.stop();
    b.pc.close();
  },

  async shutdown() {
    camera.close();
  },
};

whep = new WhepServer(opts, backend);
handleShutdown(() => whep.shutdown());
whep.listen().catch((e) => {
  log(`cannot listen on ${opts.address}:${opts.port}: ${e.message}`);
  process.exit(1);
});
