// Interop servers — the little SDP work a WHEP server does around a WebRTC
// stack: trickle-ICE fragments (RFC 8840), keeping ICE to the addresses the
// tests allow, codec filtering, and the pieces of an offer the HTTP side
// needs (ufrag, mids, kinds).
//
// Lines are split on CRLF or LF and written with CRLF.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

function lines(text) {
  return text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);
}

function join(list) {
  return list.join('\r\n') + '\r\n';
}

// "a=candidate:…" (or "candidate:…") → { foundation, component, transport,
// priority, address, port, type, text } where text is "candidate:…"; null
// when it is no candidate.
function parseCandidate(line) {
  const text = line.replace(/^a=/, '').trim();
  const f = text.split(/\s+/);
  if (!f[0].startsWith('candidate:') || f.length < 8 || f[6] !== 'typ')
    return null;
  return {
    foundation: f[0].slice('candidate:'.length),
    component: parseInt(f[1], 10),
    transport: f[2].toLowerCase(),
    priority: Number(f[3]),
    address: f[4],
    port: parseInt(f[5], 10),
    type: f[7],
    text,
  };
}

// A trickle-ICE fragment (application/trickle-ice-sdpfrag) →
// { ufrag, pwd, mid, mline, candidates: [parsed…], endOfCandidates }.
// Throws on something that is no fragment: a session line, or no m= line
// and no a=ice-ufrag.
function parseFrag(text) {
  const frag = { ufrag: null, pwd: null, mid: null, mline: null, candidates: [], endOfCandidates: false };
  let mlines = 0;
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === '')
      continue;
    if (/^[vost]=/.test(l))
      throw new Error(`not a fragment: '${l.slice(0, 2)}' line`);
    if (l.startsWith('m=')) {
      mlines++;
      if (frag.mline === null)
        frag.mline = l;
    } else if (l.startsWith('a=ice-ufrag:')) {
      frag.ufrag = l.slice('a=ice-ufrag:'.length);
    } else if (l.startsWith('a=ice-pwd:')) {
      frag.pwd = l.slice('a=ice-pwd:'.length);
    } else if (l.startsWith('a=mid:')) {
      if (frag.mid === null)
        frag.mid = l.slice('a=mid:'.length);
    } else if (l.startsWith('a=candidate:')) {
      const c = parseCandidate(l);
      if (c === null)
        throw new Error('malformed candidate line');
      frag.candidates.push(c);
    } else if (l === 'a=end-of-candidates') {
      frag.endOfCandidates = true;
    }
  }
  if (mlines === 0 && frag.ufrag === null)
    throw new Error('no m= line and no a=ice-ufrag');
  return frag;
}

// Whether @address is in @allowed (exact strings; "::1" and "[::1]" alike).
function addressAllowed(address, allowed) {
  const a = address.replace(/^\[|\]$/g, '');
  return allowed.some((x) => x.replace(/^\[|\]$/g, '') === a);
}

// @sdp with only the UDP candidates on @allowed addresses (and their
// related lines kept).  Returns { sdp, kept, dropped }.
function keepCandidates(sdp, allowed) {
  let kept = 0, dropped = 0;
  const out = [];
  for (const l of lines(sdp)) {
    if (l.startsWith('a=candidate:')) {
      const c = parseCandidate(l);
      if (c === null || c.transport !== 'udp' || !addressAllowed(c.address, allowed)) {
        dropped++;
        continue;
      }
      kept++;
    }
    out.push(l);
  }
  return { sdp: join(out), kept, dropped };
}

// The candidates of @sdp (all media sections), parsed.
function candidates(sdp) {
  return lines(sdp).filter((l) => l.startsWith('a=candidate:')).map(parseCandidate).filter(Boolean);
}

// The media sections of @sdp: [{ kind, mid, port, direction, lines }].
function sections(sdp) {
  const out = [];
  let cur = null;
  for (const l of lines(sdp)) {
    if (l.startsWith('m=')) {
      const f = l.slice(2).split(' ');
      cur = { kind: f[0], port: parseInt(f[1], 10), mid: null, direction: 'sendrecv', lines: [l] };
      out.push(cur);
    } else if (cur) {
      cur.lines.push(l);
      if (l.startsWith('a=mid:'))
        cur.mid = l.slice(6);
      else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l))
        cur.direction = l.slice(2);
    }
  }
  return out;
}

// The first a=ice-ufrag / a=ice-pwd of @sdp (session or media level).
function iceCredentials(sdp) {
  let ufrag = null, pwd = null;
  for (const l of lines(sdp)) {
    if (ufrag === null && l.startsWith('a=ice-ufrag:'))
      ufrag = l.slice(12);
    if (pwd === null && l.startsWith('a=ice-pwd:'))
      pwd = l.slice(10);
  }
  return { ufrag, pwd };
}

// The mids in @sdp's a=group:BUNDLE lines.
function bundleMids(sdp) {
  const mids = new Set();
  for (const l of lines(sdp))
    if (l.startsWith('a=group:BUNDLE '))
      for (const mid of l.slice('a=group:BUNDLE '.length).trim().split(/\s+/))
        mids.add(mid);
  return mids;
}

// Whether @sdp has a media section of @kind that is not rejected: port 0
// rejects a section unless it is bundled (webrtcbin, like a=bundle-only,
// gives port 0 to every bundled section but the first).
function hasKind(sdp, kind) {
  const bundled = bundleMids(sdp);
  return sections(sdp).some((s) => s.kind === kind && (s.port !== 0 ||
    bundled.has(s.mid) || s.lines.includes('a=bundle-only')));
}

// @sdp's media sections of @kind narrowed to the payload types whose
// a=rtpmap encoding is @encoding (case-insensitive), plus the RTX types
// that repair them.  Sections without such a payload are left as they are
// (the stack will reject them).
function keepCodec(sdp, kind, encoding) {
  const all = lines(sdp);
  const out = [];
  let i = 0;
  while (i < all.length && !all[i].startsWith('m='))
    out.push(all[i++]);
  while (i < all.length) {
    const sec = [all[i++]];
    while (i < all.length && !all[i].startsWith('m='))
      sec.push(all[i++]);
    const m = sec[0].slice(2).split(' ');
    if (m[0] !== kind) {
      out.push(...sec);
      continue;
    }
    const rtpmap = new Map();
    const apt = new Map();
    for (const l of sec) {
      let r = /^a=rtpmap:(\d+) ([^/]+)/.exec(l);
      if (r)
        rtpmap.set(r[1], r[2].toLowerCase());
      r = /^a=fmtp:(\d+) .*apt=(\d+)/.exec(l);
      if (r)
        apt.set(r[1], r[2]);
    }
    const keep = new Set([...rtpmap].filter(([, n]) => n === encoding.toLowerCase()).map(([pt]) => pt));
    if (keep.size === 0) {
      out.push(...sec);
      continue;
    }
    for (const [pt, target] of apt)
      if (keep.has(target))
        keep.add(pt);
    const pts = m.slice(3).filter((pt) => keep.has(pt));
    out.push(m.slice(0, 3).concat(pts).join(' ').replace(/^/, 'm='));
    for (const l of sec.slice(1)) {
      const r = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)/.exec(l);
      if (r && !keep.has(r[2]))
        continue;
      out.push(l);
    }
  }
  return join(out);
}

// @sdp with "b=AS:@kbps" (and b=TIAS) in each media section of @kind, in
// place of any bandwidth lines there.  In a remote description libwebrtc
// (and most stacks) take it as the most they may send.
function setBandwidth(sdp, kind, kbps) {
  const out = [];
  let inKind = false;
  for (const l of lines(sdp)) {
    if (l.startsWith('m=')) {
      inKind = l.slice(2).split(' ')[0] === kind;
      out.push(l);
      continue;
    }
    if (inKind && l.startsWith('b='))
      continue;
    out.push(l);
    if (inKind && l.startsWith('c='))
      out.push(`b=AS:${kbps}`, `b=TIAS:${kbps * 1000}`);
  }
  return join(out);
}

// A fragment answering an ICE restart: the new credentials and candidates
// of @sdp (a local description) for media section @mid.
function restartAnswerFrag(sdp, mid, allowed) {
  const { ufrag, pwd } = iceCredentials(sdp);
  const out = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`];
  const first = sections(sdp).find((s) => s.mid === mid) || sections(sdp)[0];
  if (first) {
    out.push(first.lines[0], `a=mid:${first.mid}`);
    for (const c of candidates(sdp))
      if (c.transport === 'udp' && addressAllowed(c.address, allowed))
        out.push(`a=${c.text}`);
    out.push('a=end-of-candidates');
  }
  return join(out);
}

module.exports = {
  lines,
  join,
  parseCandidate,
  parseFrag,
  addressAllowed,
  keepCandidates,
  candidates,
  sections,
  iceCredentials,
  bundleMids,
  hasKind,
  keepCodec,
  setBandwidth,
  restartAnswerFrag,
};
