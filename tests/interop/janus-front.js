#!/usr/bin/env node
// A WHEP front for Janus, for whepsrc's interop tests: the project's own,
// written on janode (npm, Meetecho's Janus client), in front of Debian's
// Janus 1.1.2 and its Streaming plugin.
//
//   tests/interop/start-janus.sh   starts Janus in a temporary folder, on
//                                  127.0.0.1 and a UNIX socket only; this
//                                  front runs it and talks to it over
//                                  ws+unix:// (the Janus API)
//   Streaming plugin mountpoint    made by this front at start (RTP, VP8
//                                  pt 96 [+ Opus pt 111], bound to
//                                  127.0.0.1, ports picked by Janus, RTCP
//                                  feedback port for PLIs)
//   tests/interop/rtp-camera       feeds it: one encoding for every viewer,
//                                  every picture carrying the frame counter
//                                  of tests/common/framecode.h
//
// Janus 1.1.2's Streaming plugin makes the offer itself (it takes no offer
// from a viewer), so the front uses the WHEP counter-offer flow:
//
//   POST (the player's offer)  → a new Streaming handle, `watch` the
//                                mountpoint (only the kinds the player's
//                                offer asks for) → 406 Not Acceptable +
//                                Janus's offer (all its candidates: Janus
//                                gathers before it offers) + Location
//   PATCH application/sdp      → `start` with the player's answer → 204
//   PATCH trickle-ice-sdpfrag  → Janus `trickle` (+ trickle completed)
//   DELETE                     → `stop`, detach → 200
//
// --offer-in-201 answers the POST with 201 and Janus's offer instead: the
// wrong flow a standard WHEP front would take in front of Janus, for the
// test that whepsrc says what happened.
//
// The quirks of lib/whep-server.js apply (session limit and kill: the
// front stops and detaches the handle; --silent-after: the handle is
// paused — no more media, the PeerConnection stays).  ICE restart: 422.
//
//   node tests/interop/janus-front.js --camera BUILD/tests/interop/rtp-camera \
//        --loopback-ice BUILD/tests/interop/loopback-ice.so [--audio opus] …
//
// Exits 77 (and says why) when Janus is not installed.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const path = require('path');
const readline = require('readline');
const util = require('util');
const { spawn } = require('child_process');

// janode logs through console.info/debug, which is stdout: stdout is the
// event log the harness reads, so everything of that kind goes to stderr.
for (const name of ['log', 'info', 'debug'])
  console[name] = (...args) => process.stderr.write(`${util.format(...args)}\n`);

const { log, debug, handleShutdown } = require('./lib/events');
const { COMMON, parseOptions } = require('./lib/options');
const sdp = require('./lib/sdp');
const { WhepServer } = require('./lib/whep-server');

const VIDEO_PT = 96;
const AUDIO_PT = 111;
const START_TIMEOUT_MS = 15000;
const EXIT_SKIP = 77;
const JANUS_REQUEST_TIMEOUT_MS = 1000;

const opts = parseOptions(process.argv.slice(2), [
  ...COMMON,
  { name: 'camera', type: 'string', default: process.env.WHEP_RTP_CAMERA || null,
    help: 'the rtp-camera program (default: $WHEP_RTP_CAMERA)' },
  { name: 'loopback-ice', type: 'string', default: process.env.WHEP_JANUS_LOOPBACK_ICE || null,
    help: 'loopback-ice.so for start-janus.sh (default: $WHEP_JANUS_LOOPBACK_ICE)' },
  { name: 'start-janus', type: 'string', default: path.join(__dirname, 'start-janus.sh'),
    help: 'the script that starts Janus' },
  { name: 'janus-debug-level', type: 'int', default: 3, help: 'Janus\'s log level (0-7) on stderr' },
  { name: 'offer-in-201', type: 'flag',
    help: 'answer POST with 201 and Janus\'s offer (the wrong flow) instead of 406' },
  { name: 'video-bitrate', type: 'int', default: 500, help: 'the camera\'s VP8 bitrate in kbit/s' },
  { name: 'key-interval', type: 'int', default: 2, help: 'seconds between the camera\'s key frames' },
]);
opts.noIceRestart = true;
// lib/options.js camel-cases letters only: --offer-in-201 is 'offerIn-201'.
const offerIn201 = opts['offerIn-201'] === true || opts.offerIn201 === true;
if (opts.video !== 'vp8' && opts.video !== 'none') {
  log(`--video ${opts.video}: the camera sends VP8 only`);
  process.exit(2);
}
if (!opts.camera || !opts.loopbackIce) {
  log('needs --camera PATH/rtp-camera and --loopback-ice PATH/loopback-ice.so ' +
    '(or WHEP_RTP_CAMERA and WHEP_JANUS_LOOPBACK_ICE)');
  process.exit(2);
}

function refuse(status, message) {
  return Object.assign(new Error(message), { status });
}

let Janode = null;
let StreamingPlugin = null;
let janusProcess = null;
let camera = null;
let connection = null;
let janusSession = null;
let manager = null;          // the handle that made the mountpoint
let mountpoint = null;       // { id, ports: [{ type, mid, port, rtcp_port }] }
let whep = null;
let stopping = false;

function lineStarting(child, prefix, what) {
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), START_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${what} exited (${signal || code})`), { exitCode: code }));
    });
    lines.on('line', (line) => {
      debug(`${what}: ${line}`);
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        resolve(line.slice(prefix.length).trim());
      }
    });
  });
}

function diesWithUs(child, what) {
  child.on('exit', (code, signal) => {
    if (stopping)
      return;
    log(`${what} exited (${signal || code}): nothing left to serve`);
    process.exit(1);
  });
}

async function startJanus() {
  // A process group of its own: GstCheck SIGKILLs the test's whole group
  // when a case ends, which would leave the script no time to stop Janus
  // and remove its folder.  It still goes when this front does (it watches
  // its parent), and Janus with it.
  janusProcess = spawn(opts.startJanus, ['--loopback-ice', opts.loopbackIce,
    '--debug-level', String(opts.janusDebugLevel)],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let url;
  try {
    url = await lineStarting(janusProcess, 'JANUS ', 'start-janus.sh');
  } catch (e) {
    if (e.exitCode === EXIT_SKIP) {
      log('SKIP: Janus is not installed');
      process.exit(EXIT_SKIP);
    }
    throw e;
  }
  diesWithUs(janusProcess, 'Janus');
  return url;
}

async function createMountpoint() {
  const media = [{ type: 'video', mid: 'v', port: 0, rtcpport: 0, pt: VIDEO_PT, codec: 'vp8',
    iface: '127.0.0.1' }];
  if (opts.audio === 'opus')
    media.push({ type: 'audio', mid: 'a', port: 0, pt: AUDIO_PT, codec: 'opus', iface: '127.0.0.1' });
  const response = await manager.message({
    request: 'create', type: 'rtp', id: 0, is_private: true, permanent: false,
    description: 'whepsrc interop camera', media,
  });
  const data = response.plugindata && response.plugindata.data;
  if (!data || data.streaming !== 'created' || !data.stream)
    throw new Error(`Janus did not create the mountpoint: ${JSON.stringify(data)}`);
  return data.stream;
}

async function startCamera() {
  const port = (type) => (mountpoint.ports.find((p) => p.type === type) || {});
  const video = port('video');
  // The camera binds the port PLIs come back to and tells Janus about it.
  const feedback = await freeUdpPort();
  const args = ['--video-port', String(video.port), '--rtcp-port', String(feedback),
    '--width', String(opts.width), '--height', String(opts.height), '--fps', String(opts.fps),
    '--bitrate', String(opts.videoBitrate), '--key-interval', String(opts.keyInterval)];
  if (video.rtcp_port)
    args.push('--rtcp-peer', String(video.rtcp_port));
  if (opts.audio === 'opus')
    args.push('--audio-port', String(port('audio').port));
  debug(`camera: ${opts.camera} ${args.join(' ')}`);
  camera = spawn(opts.camera, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await lineStarting(camera, 'LISTENING', 'the camera');
  diesWithUs(camera, 'the camera');
}

function freeUdpPort() {
  const dgram = require('dgram');
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// --- the WHEP backend -------------------------------------------------------

const releasing = new Set();   // release() promises under way

// @promise, or a rejection after @ms: Janus does not answer every request
// (a `stop` on a handle whose PeerConnection never started, say), and a
// front that waits for ever does not stop on SIGTERM.
function within(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Janus in ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function release(session) {
  const b = session.backend;
  if (!b.handle || b.released)
    return;
  b.released = true;
  try {
    await within(b.handle.stop(), JANUS_REQUEST_TIMEOUT_MS, 'stop');
  } catch (e) {
    debug(`session ${session.id}: stop: ${e.message}`);
  }
  try {
    await within(b.handle.detach(), JANUS_REQUEST_TIMEOUT_MS, 'detach');
  } catch (e) {
    debug(`session ${session.id}: detach: ${e.message}`);
  }
}

const backend = {
  async createSession(session, offer) {
    const wantVideo = opts.video !== 'none' && sdp.hasKind(offer, 'video');
    const wantAudio = opts.audio !== 'none' && sdp.hasKind(offer, 'audio');
    if (!wantVideo && !wantAudio)
      throw refuse(400, 'the offer asks for nothing this server sends');
    const streams = [];
    if (wantVideo)
      streams.push({ mid: 'v' });
    if (wantAudio)
      streams.push({ mid: 'a' });

    const b = session.backend;
    const handle = await janusSession.attach(StreamingPlugin);
    b.handle = handle;
    handle.on(Janode.EVENT.HANDLE_WEBRTCUP, () => {
      debug(`session ${session.id}: Janus: webrtcup`);
      whep.connected(session);
    });
    handle.on(Janode.EVENT.HANDLE_ICE_FAILED, () => {
      debug(`session ${session.id}: Janus: ICE failed`);
      whep.end(session, 'expired', 'connection-failed');
    });
    handle.on(Janode.EVENT.HANDLE_HANGUP, (data) => {
      debug(`session ${session.id}: Janus: hangup (${data && data.reason})`);
      if (!b.released)
        whep.end(session, 'expired', 'connection-failed');
    });
    handle.on(Janode.EVENT.HANDLE_DETACHED, () => {
      if (!b.released)
        whep.end(session, 'expired', 'janus-detached');
    });

    let response;
    try {
      response = await handle.message({ request: 'watch', id: mountpoint.id, streams });
    } catch (e) {
      await release(session);
      throw refuse(503, `Janus refused to play the mountpoint: ${e.message}`);
    }
    const jsep = response.jsep;
    if (!jsep || jsep.type !== 'offer') {
      await release(session);
      throw refuse(503, 'Janus sent no offer');
    }
    const { sdp: text, kept, dropped } = sdp.keepCandidates(jsep.sdp, opts.iceAddress);
    debug(`session ${session.id}: Janus's offer with ${kept} candidates (${dropped} dropped)`);
    if (kept === 0)
      log(`session ${session.id}: no candidate on ${opts.iceAddress.join(', ')} in Janus's offer`);
    return { type: 'offer', sdp: text, status: offerIn201 ? 201 : 406 };
  },

  async setAnswer(session, answer) {
    const b = session.backend;
    if (!answer.startsWith('v=0'))
      throw refuse(400, 'the body is not SDP');
    try {
      await b.handle.start({ jsep: { type: 'answer', sdp: answer } });
    } catch (e) {
      throw refuse(400, `Janus refused the answer: ${e.message}`);
    }
    // Trickled before the answer reached Janus: now.
    for (const c of b.pending || [])
      await b.handle.trickle(c).catch((e) => debug(`session ${session.id}: trickle: ${e.message}`));
    b.pending = null;
  },

  async addCandidates(session, frag) {
    const b = session.backend;
    const list = [];
    for (const c of frag.candidates) {
      if (c.transport !== 'udp' || !sdp.addressAllowed(c.address, opts.iceAddress))
        continue;
      list.push({ candidate: c.text, sdpMid: frag.mid || 'v', sdpMLineIndex: 0 });
    }
    if (session.awaitingAnswer) {
      b.pending = (b.pending || []).concat(list);
      return list.length;
    }
    for (const c of list)
      await b.handle.trickle(c);
    if (frag.endOfCandidates)
      await b.handle.trickleComplete().catch((e) => debug(`trickle completed: ${e.message}`));
    return list.length;
  },

  // No more media to this viewer; its PeerConnection stays up.
  silence(session) {
    const b = session.backend;
    b.handle.pause().catch((e) => log(`session ${session.id}: pause: ${e.message}`));
  },

  close(session) {
    const done = release(session);
    releasing.add(done);
    done.finally(() => releasing.delete(done));
  },

  // Bounded (the harness waits 5 s): the viewers' handles are stopped, then
  // Janus, which is this front's own, goes with its mountpoint and session.
  async shutdown() {
    stopping = true;
    await Promise.allSettled([...releasing]);
    if (connection)
      await within(connection.close(), 500, 'close').catch((e) => debug(`shutdown: ${e.message}`));
    const exited = [];
    for (const child of [camera, janusProcess]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        exited.push(new Promise((resolve) => child.once('exit', resolve)));
        child.kill('SIGTERM');
      }
    }
    // start-janus.sh stops Janus and removes its folder: at most ~2 s.
    await within(Promise.all(exited), 3000, 'children').catch((e) => log(`shutdown: ${e.message}`));
  },
};

async function main() {
  handleShutdown(async () => {
    if (whep)
      await whep.shutdown();
    else
      await backend.shutdown();
  });
  Janode = (await import('janode')).default;
  StreamingPlugin = (await import('janode/plugins/streaming')).default;
  // 'error': janode warns of every late ack ("transaction not found"),
  // which Janus sends for requests already answered: noise in test logs.
  Janode.Logger.setLevel(process.env.WHEP_INTEROP_DEBUG === '1' ? 'info' : 'error');

  const url = await startJanus();
  connection = await Janode.connect({ is_admin: false, address: { url } });
  connection.on(Janode.EVENT.CONNECTION_CLOSED, () => {
    if (!stopping) {
      log('the connection to Janus closed');
      process.exit(1);
    }
  });
  janusSession = await connection.create();
  manager = await janusSession.attach(StreamingPlugin);
  mountpoint = await createMountpoint();
  debug(`mountpoint ${mountpoint.id}: ${JSON.stringify(mountpoint.ports)}`);
  await startCamera();

  whep = new WhepServer(opts, backend);
  await whep.listen();
}

main().catch((e) => {
  log(`cannot start: ${e.stack || e}`);
  stopping = true;
  for (const child of [camera, janusProcess])
    if (child && child.exitCode === null)
      child.kill('SIGTERM');
  process.exit(1);
});
