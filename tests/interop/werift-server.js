#!/usr/bin/env node
// A WHEP server on werift (npm werift, WebRTC in TypeScript), for whepsrc's
// interop tests, built the way an SFU is: ONE encoding, received once and
// relayed to every session.
//
//   - The camera is tests/interop/rtp-camera (--camera PATH, or the
//     WHEP_RTP_CAMERA environment variable): VP8 (+ Opus) over plain RTP to
//     UDP ports on 127.0.0.1 that this server bound, every picture carrying
//     the frame counter of tests/common/framecode.h, painted before the
//     encoder.  Started by this server, dies with it.
//   - Every packet the camera sends is written to every session's track:
//     werift gives each session its own SSRC and payload type; this server
//     gives each its own random sequence number and RTP timestamp offsets
//     (what an SFU does: RFC 3550 wants random starts), and starts a
//     session's video at a key frame.  A new session, or a PLI/FIR from a
//     player, asks the camera for a key frame (for everyone, as an SFU
//     does).  NACKs are answered by werift from its own history.
//   - RTCP sender reports are werift's, per session, from its own clock at
//     the moment it relays a packet: the NTP times that two sessions give
//     the same frame need not agree (werift 0.24.4 also writes the NTP
//     fraction as the decimal digits of the milliseconds, not in 1/2^32 s),
//     so a player cannot align sessions by their capture times.
//   - Every session presents the SAME DTLS certificate (werift's
//     `dtls.keys`), an ECDSA P-256 one made at start.
//   - ICE: one host candidate, 127.0.0.1 (werift gathers no loopback
//     address by itself: iceAdditionalHostAddresses; no other interface:
//     iceUseIpv4/iceUseIpv6 off); remote candidates elsewhere are ignored.
//   - A killed session (--kill-after, /admin/kill) is closed the werift way:
//     no DTLS close alert, no RTCP BYE — the player sees media stop.
//     --silent-after stops relaying to the session and keeps everything
//     else (ICE answers, DTLS, sender reports with a frozen RTP time).
//
//   node tests/interop/werift-server.js --camera BUILD/tests/interop/rtp-camera
//        [--audio opus] [--session-limit S] [--kill-after S] [--silent-after S]
//        [--get-status 404|405|200] [--patch …] [--etag …] [--sse] …
//
// The HTTP side, the quirk options and the event log are lib/whep-server.js
// (`--help` lists the options).  Trickle ICE over PATCH works (candidates go
// to werift); ICE restart is refused (422), as werift's answerer side has
// none.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const dgram = require('dgram');
const { spawn } = require('child_process');
const readline = require('readline');

const werift = require('werift');

const { log, debug, handleShutdown } = require('./lib/events');
const { COMMON, parseOptions } = require('./lib/options');
const sdp = require('./lib/sdp');
const { WhepServer } = require('./lib/whep-server');

const {
  RTCPeerConnection, MediaStream, MediaStreamTrack, RTCRtpCodecParameters, RtpPacket,
  createSelfSignedCertificate, HashAlgorithm, SignatureAlgorithm, NamedCurveAlgorithm,
} = werift;

const VIDEO_PT = 96;
const AUDIO_PT = 111;
const CAMERA_START_TIMEOUT_MS = 10000;
const GATHER_TIMEOUT_MS = 5000;
// Key frame requests closer together than this are one request.
const KEY_FRAME_MIN_INTERVAL_MS = 250;

const opts = parseOptions(process.argv.slice(2), [
  ...COMMON,
  { name: 'camera', type: 'string', default: process.env.WHEP_RTP_CAMERA || null,
    help: 'the rtp-camera program (default: $WHEP_RTP_CAMERA)' },
  { name: 'video-bitrate', type: 'int', default: 500, help: 'the camera\'s VP8 bitrate in kbit/s' },
  { name: 'key-interval', type: 'int', default: 2, help: 'seconds between the camera\'s key frames' },
]);
opts.noIceRestart = true;
if (opts.video !== 'vp8' && opts.video !== 'none') {
  log(`--video ${opts.video}: the camera sends VP8 only`);
  process.exit(2);
}
if (!opts.camera) {
  log('no camera: give --camera PATH/rtp-camera or set WHEP_RTP_CAMERA');
  process.exit(2);
}

function refuse(status, message) {
  return Object.assign(new Error(message), { status });
}

// --- the camera and the relay ---------------------------------------------

const sessions = new Set();
let camera = null;
let feedbackSocket = null;
let feedbackPort = 0;
let lastKeyRequest = 0;
let stopping = false;

function bindUdp() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

function requestKeyFrame(why) {
  const now = Date.now();
  if (now - lastKeyRequest < KEY_FRAME_MIN_INTERVAL_MS || !feedbackSocket)
    return;
  lastKeyRequest = now;
  debug(`key frame request (${why})`);
  feedbackSocket.send('KEY', feedbackPort, '127.0.0.1');
}

// Whether a VP8 RTP payload (RFC 7741) starts a key frame.
function vp8StartsKeyFrame(payload) {
  if (payload.length < 1)
    return false;
  const b0 = payload[0];
  const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
  if (!start)
    return false;
  let i = 1;
  if (b0 & 0x80) {
    if (payload.length < 2)
      return false;
    const x = payload[1];
    i = 2;
    if (x & 0x80)
      i += payload.length > i && (payload[i] & 0x80) ? 2 : 1;
    if (x & 0x40)
      i += 1;
    if (x & 0x30)
      i += 1;
  }
  return payload.length > i && (payload[i] & 0x01) === 0;
}

// One camera packet to one session's track, with that session's own
// sequence numbers and RTP timestamps.
function relay(session, kind, buf) {
  const b = session.backend;
  const m = b[kind];
  if (!m || b.silenced || b.closed)
    return;
  const packet = RtpPacket.deSerialize(buf);
  if (kind === 'video' && !m.started) {
    if (!vp8StartsKeyFrame(packet.payload))
      return;
    m.started = true;
    debug(`session ${session.id}: video starts at a key frame`);
  }
  packet.header.sequenceNumber = (packet.header.sequenceNumber + m.seqOffset) & 0xffff;
  packet.header.timestamp = (packet.header.timestamp + m.tsOffset) >>> 0;
  m.track.writeRtp(packet);
}

async function startCamera() {
  const video = await bindUdp();
  const audio = opts.audio === 'opus' ? await bindUdp() : null;
  // The camera binds its feedback port itself: find a free one.
  const probe = await bindUdp();
  feedbackPort = probe.address().port;
  await new Promise((r) => probe.close(r));
  feedbackSocket = await bindUdp();

  video.on('message', (buf) => {
    for (const s of sessions)
      relay(s, 'video', buf);
  });
  if (audio)
    audio.on('message', (buf) => {
      for (const s of sessions)
        relay(s, 'audio', buf);
    });

  const args = ['--video-port', String(video.address().port), '--rtcp-port', String(feedbackPort),
    '--width', String(opts.width), '--height', String(opts.height), '--fps', String(opts.fps),
    '--bitrate', String(opts.videoBitrate), '--key-interval', String(opts.keyInterval)];
  if (audio)
    args.push('--audio-port', String(audio.address().port));
  debug(`camera: ${opts.camera} ${args.join(' ')}`);
  camera = spawn(opts.camera, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  camera.on('exit', (code, signal) => {
    if (stopping)
      return;
    log(`the camera exited (${signal || code}): nothing left to serve`);
    process.exit(1);
  });
  const lines = readline.createInterface({ input: camera.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the camera did not start')), CAMERA_START_TIMEOUT_MS);
    camera.once('error', reject);
    lines.on('line', (line) => {
      debug(`camera: ${line}`);
      if (line.startsWith('LISTENING')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// --- werift ---------------------------------------------------------------

let keys = null;
let whep = null;

function gathered(pc) {
  if (pc.iceGatheringState === 'complete')
    return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log('ICE gathering did not complete; answering with what there is');
      resolve();
    }, GATHER_TIMEOUT_MS);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// werift 0.24.4 writes a=ssrc (and a=msid) lines into the m-sections it
// rejects (port 0: a kind this server does not send, e.g. the audio of a
// video-only camera).  webrtcbin 1.22 maps those SSRCs to an m-line that
// has no transceiver and hits a g_warn_if_reached() in
// jitter_buffer_set_retransmission() for every jitterbuffer — a warning the
// tests take as fatal.  A rejected section sends nothing: its SSRC lines go.
function withoutSsrcsInRejectedSections(text) {
  const out = [];
  let rejected = false;
  for (const l of sdp.lines(text)) {
    if (l.startsWith('m='))
      rejected = l.split(' ')[1] === '0';
    if (rejected && (l.startsWith('a=ssrc:') || l.startsWith('a=ssrc-group:') || l.startsWith('a=msid:')))
      continue;
    out.push(l);
  }
  return sdp.join(out);
}

function randomUint(bits) {
  return Math.floor(Math.random() * 2 ** bits);
}

const backend = {
  async createSession(session, offer) {
    const wantVideo = opts.video !== 'none' && sdp.hasKind(offer, 'video');
    const wantAudio = opts.audio !== 'none' && sdp.hasKind(offer, 'audio');
    if (!wantVideo && !wantAudio)
      throw refuse(400, 'the offer asks for nothing this server sends');

    const pc = new RTCPeerConnection({
      codecs: {
        video: [new RTCRtpCodecParameters({
          mimeType: 'video/VP8', clockRate: 90000, payloadType: VIDEO_PT,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
        })],
        audio: [new RTCRtpCodecParameters({
          mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: AUDIO_PT,
        })],
      },
      bundlePolicy: 'max-bundle',
      dtls: { keys },
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: opts.iceAddress,
      iceInterfaceAddresses: { udp4: opts.iceAddress[0] },
      iceFilterCandidatePair: (pair) => sdp.addressAllowed(pair.remoteCandidate.host, opts.iceAddress),
    });
    const b = session.backend;
    b.pc = pc;
    pc.connectionStateChange.subscribe((state) => {
      debug(`session ${session.id}: connection ${state}`);
      if (state === 'connected') {
        whep.connected(session);
        requestKeyFrame(`session ${session.id} connected`);
      } else if (state === 'failed') {
        whep.end(session, 'expired', 'connection-failed');
      }
    });

    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (e) {
      pc.close();
      throw refuse(400, `offer refused: ${e.message}`);
    }
    // One stream for every track, as WHEP asks.
    const stream = new MediaStream();
    for (const t of pc.getTransceivers()) {
      const want = (t.kind === 'video' && wantVideo) || (t.kind === 'audio' && wantAudio);
      if (!want || b[t.kind]) {
        t.setDirection('inactive');
        continue;
      }
      const track = new MediaStreamTrack({ kind: t.kind });
      stream.addTrack(track);
      t.setDirection('sendonly');
      t.sender.setStreams([stream]);
      await t.sender.replaceTrack(track);
      t.sender.onPictureLossIndication.subscribe(() => requestKeyFrame(`PLI from session ${session.id}`));
      t.sender.onRtcp.subscribe((packet) => {
        if (packet.type === 206 && packet.feedback && packet.feedback.count === 4)
          requestKeyFrame(`FIR from session ${session.id}`);
      });
      b[t.kind] = { track, sender: t.sender, seqOffset: randomUint(16), tsOffset: randomUint(32), started: false };
    }
    if (!b.video && !b.audio) {
      pc.close();
      throw refuse(400, 'the offer has no media section this server can send');
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (session.ended)
      throw refuse(503, 'the session ended before it was answered');
    sessions.add(session);
    const { sdp: answer, kept, dropped } = sdp.keepCandidates(
      withoutSsrcsInRejectedSections(pc.localDescription.sdp), opts.iceAddress);
    debug(`session ${session.id}: answer with ${kept} candidates (${dropped} dropped)`);
    if (kept === 0)
      log(`session ${session.id}: no candidate on ${opts.iceAddress.join(', ')}`);
    return { type: 'answer', sdp: answer };
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

  // No more packets for this session; ICE, DTLS and RTCP live on.
  silence(session) {
    session.backend.silenced = true;
  },

  close(session) {
    const b = session.backend;
    sessions.delete(session);
    if (!b.pc || b.closed)
      return;
    b.closed = true;
    for (const kind of ['video', 'audio'])
      if (b[kind])
        b[kind].track.stop();
    b.pc.close().catch((e) => debug(`session ${session.id}: close: ${e.message}`));
  },

  async shutdown() {
    stopping = true;
    if (camera && camera.exitCode === null)
      camera.kill('SIGTERM');
  },
};

async function main() {
  // One certificate for every session of this process.
  keys = await createSelfSignedCertificate(
    { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
    NamedCurveAlgorithm.secp256r1_23);
  await startCamera();
  whep = new WhepServer(opts, backend);
  handleShutdown(() => whep.shutdown());
  await whep.listen();
}

main().catch((e) => {
  log(`cannot start: ${e.stack || e}`);
  if (camera && camera.exitCode === null)
    camera.kill('SIGTERM');
  process.exit(1);
});
