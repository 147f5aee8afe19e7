// Interop servers — the WHEP HTTP side, shared by every interop server
// (libwebrtc, werift, the Janus front): routing, sessions and their timers,
// the quirks of real servers (lib/options.js COMMON), the event log, SSE.
// The WebRTC stack behind it is a "backend" object.
//
//   POST    <path>                       new session: 201 + Location + answer
//                                        (or 406 + a counter-offer, see below)
//   PATCH   <path>/session/<id>          trickle ICE (RFC 8840 fragment), ICE
//                                        restart, or the answer to a 406
//   DELETE  <path>/session/<id>          ends the session (200)
//   GET/HEAD <path>/session/<id>         --get-status: 404 (default: an
//                                        unrouted route, as Node's http and
//                                        Express answer), 405 or 200
//   OPTIONS <path>[/session/<id>]        CORS, Accept-Post / Accept-Patch
//   …/session/<id>/sse[/stream]          --sse, see lib/sse.js
//   GET  /admin/stats                    counters and sessions as JSON
//   POST /admin/kill[?id=ID]             ends sessions now ("killed")
//   POST /admin/silence[?id=ID]          silences sessions now
//   POST /admin/event?type=T[&id=ID]     an SSE event now (--sse)
//
// Events on stdout (lib/events.js), the same as tests/server prints:
//
//   EVENT post status=CODE               every POST answered
//   EVENT created id=ID                  a session answered (201 or 406)
//   EVENT connected id=ID                its peer connection is up
//   EVENT trickle id=ID candidates=N added=M end=yes|no if-match=V
//   EVENT ice-restart id=ID candidates=N if-match=V
//   EVENT patch id=ID status=CODE content-type=TYPE
//   EVENT deleted id=ID                  the player DELETEd it
//   EVENT expired id=ID reason=R         session-limit, handshake-timeout,
//                                        counter-offer-timeout, or what the
//                                        backend reports (connection-failed)
//   EVENT killed id=ID                   --kill-after or /admin/kill
//   EVENT silenced id=ID                 --silent-after or /admin/silence:
//                                        no more media, the session and its
//                                        transport stay (no BYE, no alert)
//   EVENT failed id=ID reason=R          negotiation failed or the player left
//   EVENT closed id=ID                   SIGTERM: the server went away
//
// Every timer counts from the POST.  The backend:
//
//   createSession(session, offerSdp) → Promise<{ sdp, type: 'answer'|'offer',
//       status? }>                   an answer (201) or, type 'offer', a
//                                    counter-offer (406, or `status` when the
//                                    backend wants the wrong flow tested);
//                                    throw an Error with .status (4xx) to refuse
//   setAnswer(session, sdp) → Promise          the PATCHed answer to a 406
//   addCandidates(session, frag) → Promise<n>  trickle; frag from sdp.parseFrag;
//                                              returns how many were used
//   restartIce(session, frag) → Promise<sdpfrag text>   optional (else 422)
//   silence(session)                           stop sending media, keep all else
//   close(session, kind)                       free everything; once per session
//   shutdown() → Promise                       optional, at SIGTERM after close()
//   acceptsEmptyOffer                          optional: POST without a body
//
// and calls server.connected(session) and server.end(session, kind, reason)
// itself.  `session` is { id, etag, created, offer, remoteUfrag, mid,
// connected, ended, silenced, awaitingAnswer, backend: {} } — `backend` is
// the backend's own.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const crypto = require('crypto');
const http = require('http');
const { URL } = require('url');

const { event, listening, log, debug } = require('./events');
const sdp = require('./sdp');
const { Sse } = require('./sse');

const SDP_TYPE = 'application/sdp';
const FRAG_TYPE = 'application/trickle-ice-sdpfrag';
const MAX_BODY = 1 << 20;
const COUNTER_OFFER_TIMEOUT_S = 30;

function mediaType(req) {
  const t = req.headers['content-type'];
  return t ? t.split(';')[0].trim().toLowerCase() : null;
}

function randomId() {
  return crypto.randomBytes(8).toString('hex');
}

// What Express answers to a route it does not have.
function replyUnrouted(req, res, path) {
  const body = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${req.method} ${path}</pre>\n</body>\n</html>\n`;
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(req.method === 'HEAD' ? undefined : body);
}

function reply(res, status, text) {
  res.statusCode = status;
  if (text !== undefined && text !== null) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  } else {
    res.end();
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

class WhepServer {
  constructor(opts, backend) {
    this.opts = opts;
    this.backend = backend;
    this.sessions = new Map();
    this.stats = { posts: 0, created: 0, deleted: 0, expired: 0, killed: 0, silenced: 0, patches: 0 };
    this.stopping = false;
    this.baseUrl = null;
    this.sse = new Sse(opts, () => this.baseUrl + opts.path, (id) => this.sessionUrl(id));
    this.http = http.createServer((req, res) => this.handle(req, res));
    this.http.keepAliveTimeout = 30000;
  }

  sessionPath(id) {
    return `${this.opts.path}/session/${id}`;
  }

  sessionUrl(id) {
    return this.baseUrl + this.sessionPath(id);
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port, this.opts.address, () => {
        const { port } = this.http.address();
        const host = this.opts.address.includes(':') ? `[${this.opts.address}]` : this.opts.address;
        this.baseUrl = `http://${host}:${port}`;
        listening(this.baseUrl);
        resolve(this.baseUrl);
      });
    });
  }

  // --- session life ---------------------------------------------------

  newSession(offer) {
    const session = {
      id: randomId(),
      etag: null,
      created: Date.now(),
      offer,
      remoteUfrag: offer ? sdp.iceCredentials(offer).ufrag : null,
      mid: offer ? (sdp.sections(offer)[0] || {}).mid || null : null,
      connected: false,
      ended: false,
      silenced: false,
      awaitingAnswer: false,
      timers: [],
      patches: 0,
      backend: {},
    };
    if (this.opts.etag !== 'none')
      session.etag = this.opts.etag === 'star' ? '*' : `"${randomId()}"`;
    this.sessions.set(session.id, session);
    const o = this.opts;
    const at = (seconds, fn) => {
      if (seconds > 0)
        session.timers.push(setTimeout(fn, seconds * 1000));
    };
    at(o.sessionLimit, () => this.end(session, 'expired', 'session-limit'));
    at(o.killAfter, () => this.end(session, 'killed'));
    at(o.silentAfter, () => this.silence(session));
    at(o.handshakeTimeout, () => {
      if (!session.connected && !session.awaitingAnswer)
        this.end(session, 'expired', 'handshake-timeout');
    });
    if (o.sse)
      this.sse.addSession(session);
    return session;
  }

  connected(session) {
    if (session.ended || session.connected)
      return;
    session.connected = true;
    event(`connected id=${session.id}`);
    this.sse.sessionConnected(session);
  }

  silence(session) {
    if (session.ended || session.silenced)
      return;
    session.silenced = true;
    this.stats.silenced++;
    event(`silenced id=${session.id}`);
    try {
      this.backend.silence(session);
    } catch (e) {
      log(`session ${session.id}: silencing: ${e.stack || e}`);
    }
  }

  // Ends @session once: @kind is deleted, expired, killed, closed or failed.
  end(session, kind, reason) {
    if (session.ended)
      return;
    session.ended = true;
    for (const t of session.timers)
      clearTimeout(t);
    session.timers = [];
    this.sessions.delete(session.id);
    this.sse.sessionEnded(session);
    switch (kind) {
      case 'deleted':
        this.stats.deleted++;
        event(`deleted id=${session.id}`);
        break;
      case 'expired':
        this.stats.expired++;
        event(`expired id=${session.id} reason=${reason || 'unknown'}`);
        break;
      case 'killed':
        this.stats.killed++;
        event(`killed id=${session.id}`);
        break;
      case 'closed':
        event(`closed id=${session.id}`);
        break;
      default:
        event(`failed id=${session.id} reason=${reason || 'unknown'}`);
        break;
    }
    try {
      this.backend.close(session, kind);
    } catch (e) {
      log(`session ${session.id}: closing: ${e.stack || e}`);
    }
  }

  async shutdown() {
    this.stopping = true;
    for (const session of [...this.sessions.values()])
      this.end(session, 'closed');
    this.sse.stop();
    if (this.backend.shutdown)
      await this.backend.shutdown();
    await new Promise((resolve) => {
      this.http.close(() => resolve());
      if (this.http.closeAllConnections)
        this.http.closeAllConnections();
    });
  }

  // --- checks ---------------------------------------------------------

  // False (and replied) when --token is set and the request lacks it.
  checkAuth(req, res) {
    const token = this.opts.token;
    if (!token)
      return true;
    const auth = req.headers.authorization;
    const m = auth ? /^Bearer\s+(.*)$/i.exec(auth) : null;
    if (m && m[1].trim() === token)
      return true;
    debug(`${req.method} ${req.url}: ${auth ? 'wrong' : 'no'} bearer token`);
    if (this.opts.authStatus === 401)
      res.setHeader('WWW-Authenticate', 'Bearer');
    reply(res, this.opts.authStatus, auth ? 'invalid bearer token' : 'authorization required');
    return false;
  }

  // --etag strict: 428 without If-Match, 412 when it names another ETag.
  checkIfMatch(req, res, session) {
    if (this.opts.etag !== 'strict')
      return true;
    const value = req.headers['if-match'];
    if (!value) {
      reply(res, 428, 'If-Match required');
      return false;
    }
    const ok = value.split(',').map((t) => t.trim())
      .some((t) => t === '*' || t === '"*"' || t === session.etag);
    if (!ok)
      reply(res, 412, 'ETag does not match');
    return ok;
  }

  // --- requests -------------------------------------------------------

  async handle(req, res) {
    let url;
    try {
      url = new URL(req.url, 'http://localhost');
    } catch (e) {
      return reply(res, 400, 'bad request target');
    }
    const path = decodeURIComponent(url.pathname);
    debug(`${req.method} ${path} (Content-Type: ${req.headers['content-type'] || '-'}` +
      `${req.headers.authorization ? ', with Authorization' : ''})`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Location, ETag, Link, Accept-Patch, Retry-After');
    try {
      const body = await readBody(req);
      if (this.stopping)
        return reply(res, 503, 'shutting down');
      return await this.route(req, res, path, url.searchParams, body);
    } catch (e) {
      log(`${req.method} ${path}: ${e.stack || e}`);
      if (!res.headersSent)
        return reply(res, e.status || 500, e.message);
      return res.end();
    }
  }

  route(req, res, path, query, body) {
    const o = this.opts;
    if (path === o.path)
      return this.endpoint(req, res, path, body);
    if (path.startsWith('/admin/'))
      return this.admin(req, res, path, query);
    const prefix = `${o.path}/session/`;
    if (path.startsWith(prefix)) {
      const rest = path.slice(prefix.length).split('/');
      const id = rest[0];
      if (rest.length === 1 && id !== '')
        return this.sessionResource(req, res, path, id, body);
      if (o.sse && id !== '' && rest.length === 2 && rest[1] === 'sse')
        return this.sseRequest(req, res, path, id, false, body);
      if (o.sse && id !== '' && rest.length === 3 && rest[1] === 'sse' && rest[2] === 'stream')
        return this.sseRequest(req, res, path, id, true, body);
    }
    return replyUnrouted(req, res, path);
  }

  endpoint(req, res, path, body) {
    if (req.method === 'POST')
      return this.post(req, res, body);
    if (req.method === 'OPTIONS') {
      res.setHeader('Accept-Post', SDP_TYPE);
      res.setHeader('Access-Control-Allow-Methods', 'OPTIONS, POST');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
      return reply(res, 204);
    }
    return replyUnrouted(req, res, path);
  }

  async post(req, res, body) {
    const o = this.opts;
    this.stats.posts++;
    const done = (status, text) => {
      reply(res, status, text);
      event(`post status=${status}`);
    };
    if (!this.checkAuth(req, res)) {
      event(`post status=${res.statusCode}`);
      return;
    }
    const empty = body.length === 0;
    if (!(empty && this.backend.acceptsEmptyOffer) && mediaType(req) !== SDP_TYPE)
      return done(415, `Content-Type must be ${SDP_TYPE}`);
    const offer = empty ? null : body.toString('utf8');
    if (offer !== null && !offer.startsWith('v=0'))
      return done(400, 'the body is not SDP');
    if (o.maxSessions > 0 && this.sessions.size >= o.maxSessions)
      return done(409, 'too many viewers');

    const session = this.newSession(offer);
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished)
        gone = true;
    });
    let result;
    try {
      result = await this.backend.createSession(session, offer);
    } catch (e) {
      const status = e.status || 500;
      log(`session ${session.id}: ${e.message}`);
      this.end(session, 'failed', status < 500 ? 'rejected' : 'error');
      return done(status, e.message);
    }
    if (session.ended)
      return done(503, 'the session ended before it was answered');
    if (gone) {
      this.end(session, 'failed', 'player-gone');
      event(`post status=0`);
      return undefined;
    }

    const counter = result.type === 'offer';
    const status = result.status || (counter ? 406 : 201);
    session.awaitingAnswer = counter;
    if (counter && o.handshakeTimeout > 0) {
      session.timers.push(setTimeout(() => {
        if (session.awaitingAnswer)
          this.end(session, 'expired', 'counter-offer-timeout');
      }, COUNTER_OFFER_TIMEOUT_S * 1000));
    }
    res.statusCode = status;
    res.setHeader('Location', this.sessionPath(session.id));
    if (session.etag)
      res.setHeader('ETag', session.etag);
    if (o.patch !== 'none')
      res.setHeader('Accept-Patch', FRAG_TYPE);
    if (o.sse)
      res.setHeader('Link', this.sse.linkHeader(session));
    res.setHeader('Content-Type', SDP_TYPE);
    res.end(result.sdp);
    this.stats.created++;
    event(`created id=${session.id}`);
    event(`post status=${status}`);
    return undefined;
  }

  async sessionResource(req, res, path, id, body) {
    const o = this.opts;
    const session = this.sessions.get(id);
    switch (req.method) {
      case 'PATCH':
        return this.patch(req, res, session, id, body);
      case 'DELETE':
        if (!this.checkAuth(req, res))
          return undefined;
        if (!session)
          return reply(res, 404, 'no such session');
        // WHEP: ETags are not checked for DELETE.
        this.end(session, 'deleted');
        return reply(res, 200);
      case 'GET':
      case 'HEAD':
        if (!session || o.getStatus === 404)
          return replyUnrouted(req, res, path);
        if (o.getStatus === 405) {
          res.setHeader('Allow', 'DELETE, OPTIONS, PATCH');
          return reply(res, 405, 'method not allowed');
        }
        return reply(res, 200);
      case 'OPTIONS':
        res.setHeader('Allow', 'DELETE, OPTIONS, PATCH');
        res.setHeader('Access-Control-Allow-Methods', 'DELETE, OPTIONS, PATCH');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
        if (o.patch !== 'none')
          res.setHeader('Accept-Patch', FRAG_TYPE);
        return reply(res, 204);
      default:
        return replyUnrouted(req, res, path);
    }
  }

  async patch(req, res, session, id, body) {
    const o = this.opts;
    const type = mediaType(req);
    const logged = () => event(`patch id=${id} status=${res.statusCode} content-type=${type || '-'}`);
    this.stats.patches++;
    if (session)
      session.patches++;
    if (!this.checkAuth(req, res))
      return logged();

    if (session && session.awaitingAnswer) {
      if (!this.checkIfMatch(req, res, session))
        return logged();
      if (type !== SDP_TYPE) {
        reply(res, 415, `the answer to a counter-offer must be ${SDP_TYPE}`);
        return logged();
      }
      try {
        await this.backend.setAnswer(session, body.toString('utf8'));
        session.awaitingAnswer = false;
        reply(res, session.ended ? 404 : 204);
      } catch (e) {
        reply(res, e.status || 400, e.message);
      }
      return logged();
    }
    if (o.patch !== 'trickle') {
      const status = o.patch === 'none' ? 405 : parseInt(o.patch, 10);
      if (status === 405)
        res.setHeader('Allow', 'DELETE, OPTIONS');
      reply(res, status, 'PATCH is not supported');
      return logged();
    }
    if (!session) {
      reply(res, 404, 'no such session');
      return logged();
    }
    if (!this.checkIfMatch(req, res, session))
      return logged();
    if (type !== FRAG_TYPE) {
      reply(res, 415, `Content-Type must be ${FRAG_TYPE}`);
      return logged();
    }
    let frag;
    try {
      frag = sdp.parseFrag(body.toString('utf8'));
    } catch (e) {
      reply(res, 400, e.message);
      return logged();
    }
    const ifMatch = req.headers['if-match'] || '-';
    if (frag.ufrag && session.remoteUfrag && frag.ufrag !== session.remoteUfrag) {
      if (o.noIceRestart || !this.backend.restartIce) {
        reply(res, 422, 'ICE restart not supported');
        return logged();
      }
      try {
        const answer = await this.backend.restartIce(session, frag);
        session.remoteUfrag = frag.ufrag;
        if (session.etag && session.etag !== '*')
          session.etag = `"${randomId()}"`;
        event(`ice-restart id=${id} candidates=${frag.candidates.length} if-match=${ifMatch}`);
        res.statusCode = 200;
        res.setHeader('Content-Type', FRAG_TYPE);
        if (session.etag)
          res.setHeader('ETag', session.etag);
        res.end(answer);
      } catch (e) {
        reply(res, session.ended ? 404 : e.status || 422, e.message);
      }
      return logged();
    }
    let added = 0;
    try {
      added = await this.backend.addCandidates(session, frag);
    } catch (e) {
      reply(res, e.status || 400, e.message);
      return logged();
    }
    event(`trickle id=${id} candidates=${frag.candidates.length} added=${added} ` +
      `end=${frag.endOfCandidates ? 'yes' : 'no'} if-match=${ifMatch}`);
    reply(res, 204);
    return logged();
  }

  sseRequest(req, res, path, id, stream, body) {
    const allow = stream ? 'DELETE, GET, OPTIONS' : 'OPTIONS, POST';
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allow);
      res.setHeader('Access-Control-Allow-Methods', allow);
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      return reply(res, 204);
    }
    if (!this.checkAuth(req, res))
      return undefined;
    if (!stream && req.method === 'POST')
      return this.sse.subscribe(req, res, id, body, reply);
    if (stream && req.method === 'GET')
      return this.sse.streamGet(req, res, id, reply);
    if (stream && req.method === 'DELETE')
      return this.sse.streamDelete(req, res, id, reply);
    return replyUnrouted(req, res, path);
  }

  admin(req, res, path, query) {
    const id = query.get('id');
    const pick = () => (id ? [this.sessions.get(id)].filter(Boolean) : [...this.sessions.values()]);
    if (path === '/admin/stats' && req.method === 'GET') {
      const now = Date.now();
      const body = {
        ...this.stats,
        active: this.sessions.size,
        sessions: [...this.sessions.values()].map((s) => ({
          id: s.id, age: (now - s.created) / 1000, connected: s.connected,
          silenced: s.silenced, patches: s.patches,
        })),
      };
      res.setHeader('Content-Type', 'application/json');
      return reply(res, 200, JSON.stringify(body));
    }
    if ((path === '/admin/kill' || path === '/admin/silence') && req.method === 'POST') {
      const list = pick();
      if (id && list.length === 0)
        return reply(res, 404, 'no such session');
      for (const s of list)
        path === '/admin/kill' ? this.end(s, 'killed') : this.silence(s);
      res.setHeader('Content-Type', 'application/json');
      return reply(res, 200, JSON.stringify({ [path.slice(7) === 'kill' ? 'killed' : 'silenced']: list.length }));
    }
    if (path === '/admin/event' && req.method === 'POST') {
      if (!this.opts.sse)
        return reply(res, 404, 'server-sent events are off');
      const type = query.get('type');
      if (!['active', 'inactive', 'reconnect'].includes(type))
        return reply(res, 400, 'type must be active, inactive or reconnect');
      if (!this.sse.sendNow(type, id))
        return reply(res, 404, 'no such session');
      return reply(res, 204);
    }
    return replyUnrouted(req, res, path);
  }
}

module.exports = { WhepServer, SDP_TYPE, FRAG_TYPE };
