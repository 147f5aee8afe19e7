// Interop servers — the WHEP server-sent events extension (draft
// "webrtc-http-egress-events"), as tests/server/sse.c implements it, so a
// test can drive either server the same way:
//
//   201 of a POST:  Link: <BASE<path>/session/ID/sse>;
//                   rel="urn:ietf:params:whep:ext:core:server-sent-events";
//                   events="active,inactive,reconnect"
//   POST   <path>/session/ID/sse         JSON array of event names → 201,
//                                        Location BASE<path>/session/ID/sse/stream
//                                        (400 unknown names, 415 not JSON)
//   GET    <path>/session/ID/sse/stream  text/event-stream of
//                                        "event: NAME\ndata: JSON\n\n"
//   DELETE <path>/session/ID/sse/stream  closes it, drops the subscription
//
// "active" ({}) once the session is connected, "reconnect"
// ({"url":"<endpoint URL>"}) --reconnect-after s after the POST (the
// session lives on; streams opened later are told too), and whatever
// POST /admin/event?type=T[&id=ID] sends.  Only subscribed events are sent.
// Streams close when the session ends.  Events logged:
//
//   EVENT sse-subscribe id=ID events=A,B   (canonical order)
//   EVENT sse-stream id=ID
//   EVENT sse-sent id=ID event=NAME
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const { event, debug } = require('./events');

const REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
const NAMES = ['active', 'inactive', 'reconnect'];

class Channel {
  constructor(sse, session) {
    this.sse = sse;
    this.session = session;
    this.events = new Set();
    this.streams = new Set();
    this.reconnectDue = false;
    this.timer = null;
    const after = sse.opts.reconnectAfter;
    if (after > 0)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.reconnectDue = true;
        debug(`session ${session.id}: asking the player to reconnect`);
        this.send('reconnect');
      }, after * 1000);
  }

  data(name) {
    return name === 'reconnect' ? JSON.stringify({ url: this.sse.endpointUrl() }) : '{}';
  }

  write(res, name) {
    res.write(`event: ${name}\ndata: ${this.data(name)}\n\n`);
    event(`sse-sent id=${this.session.id} event=${name}`);
  }

  send(name) {
    if (!this.events.has(name))
      return;
    for (const res of this.streams)
      this.write(res, name);
  }

  closeStreams() {
    for (const res of [...this.streams])
      res.end();
    this.streams.clear();
  }

  close() {
    clearTimeout(this.timer);
    this.timer = null;
    this.closeStreams();
  }
}

class Sse {
  // @opts: the parsed options; @endpointUrl(): the endpoint's absolute URL;
  // @sessionUrl(id): the session's absolute URL.
  constructor(opts, endpointUrl, sessionUrl) {
    this.opts = opts;
    this.endpointUrl = endpointUrl;
    this.sessionUrl = sessionUrl;
    this.channels = new Map();
  }

  linkHeader(session) {
    return `<${this.sessionUrl(session.id)}/sse>; rel="${REL}"; events="${NAMES.join(',')}"`;
  }

  addSession(session) {
    this.channels.set(session.id, new Channel(this, session));
  }

  sessionConnected(session) {
    const ch = this.channels.get(session.id);
    if (ch)
      ch.send('active');
  }

  sessionEnded(session) {
    const ch = this.channels.get(session.id);
    if (ch) {
      ch.close();
      this.channels.delete(session.id);
    }
  }

  // POST …/sse with @body (a Buffer): replies.
  subscribe(req, res, id, body, reply) {
    const ch = this.channels.get(id);
    if (!ch)
      return reply(res, 404, 'no such session');
    const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json')
      return reply(res, 415, 'Content-Type must be application/json');
    let list;
    try {
      list = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return reply(res, 400, `not JSON: ${e.message}`);
    }
    if (!Array.isArray(list) || list.length === 0)
      return reply(res, 400, 'the body must be a JSON array of event names');
    for (const name of list)
      if (typeof name !== 'string' || !NAMES.includes(name))
        return reply(res, 400, `unsupported event '${typeof name === 'string' ? name : '(not a string)'}'`);
    ch.events = new Set(list);
    event(`sse-subscribe id=${id} events=${NAMES.filter((n) => ch.events.has(n)).join(',')}`);
    res.setHeader('Location', `${this.sessionUrl(id)}/sse/stream`);
    return reply(res, 201);
  }

  streamGet(req, res, id, reply) {
    const ch = this.channels.get(id);
    if (!ch || ch.events.size === 0)
      return reply(res, 404, ch ? 'not subscribed' : 'no such session');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    ch.streams.add(res);
    res.on('close', () => ch.streams.delete(res));
    event(`sse-stream id=${id}`);
    // What a late stream must still learn, to this stream only.
    if (ch.events.has('active') && ch.session.connected)
      ch.write(res, 'active');
    if (ch.events.has('reconnect') && ch.reconnectDue)
      ch.write(res, 'reconnect');
    return undefined;
  }

  streamDelete(req, res, id, reply) {
    const ch = this.channels.get(id);
    if (!ch || ch.events.size === 0)
      return reply(res, 404, ch ? 'not subscribed' : 'no such session');
    ch.events = new Set();
    ch.closeStreams();
    return reply(res, 200);
  }

  // POST /admin/event: false when @type is unknown or @id has no channel.
  sendNow(type, id) {
    if (!NAMES.includes(type))
      return false;
    if (id) {
      const ch = this.channels.get(id);
      if (!ch)
        return false;
      ch.send(type);
      return true;
    }
    for (const ch of this.channels.values())
      ch.send(type);
    return true;
  }

  stop() {
    for (const ch of this.channels.values())
      ch.close();
    this.channels.clear();
  }
}

module.exports = { Sse, REL, NAMES };
