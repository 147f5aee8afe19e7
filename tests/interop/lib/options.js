// Interop servers — command line options, with the names the project's C
// test server (tests/server/options.c) uses for the same quirks.
//
//   const { parseOptions, COMMON } = require('./lib/options');
//   const opts = parseOptions(process.argv.slice(2), [...COMMON,
//       { name: 'video-bitrate', type: 'int', default: 0, help: '…' }]);
//   opts.sessionLimit, opts.patch, opts.videoBitrate, …   (camelCase)
//
// "--name value" and "--name=value"; flags take no value; options marked
// `repeat` collect a list.  --help prints the table; a bad option prints
// why and exits 2.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

// Options every WHEP interop server understands (lib/whep-server.js acts on
// all of them but the media ones, which are the server's own).
const COMMON = [
  { name: 'address', type: 'string', default: '127.0.0.1', help: 'address to listen on' },
  { name: 'port', type: 'int', default: 0, help: 'port (0: any free one)' },
  { name: 'path', type: 'string', default: '/whep/cam', help: 'WHEP endpoint path' },
  { name: 'ice-address', type: 'string', repeat: true, default: ['127.0.0.1'],
    help: 'address whose ICE candidates are offered (repeatable); others are dropped' },
  { name: 'video', type: 'choice', choices: ['vp8', 'vp9', 'h264', 'none'], default: 'vp8',
    help: 'video codec' },
  { name: 'audio', type: 'choice', choices: ['opus', 'none'], default: 'none',
    help: 'audio codec (sent when the offer asks for audio)' },
  { name: 'width', type: 'int', default: 640, help: 'picture width (at least 512 for the counter)' },
  { name: 'height', type: 'int', default: 360, help: 'picture height' },
  { name: 'fps', type: 'int', default: 30, help: 'frame rate' },
  { name: 'session-limit', type: 'number', default: 0,
    help: 'end each session this many s after its POST ("expired", 0: never)' },
  { name: 'kill-after', type: 'number', default: 0,
    help: 'close each session\'s peer connection and forget it this many s after its POST ("killed")' },
  { name: 'silent-after', type: 'number', default: 0,
    help: 'stop sending media this many s after the POST, keeping session and transport ("silenced")' },
  { name: 'max-sessions', type: 'int', default: 0, help: 'answer 409 with this many sessions live (0: no limit)' },
  { name: 'get-status', type: 'choice', choices: ['404', '405', '200'], default: '404',
    help: 'answer to GET/HEAD on a live session URL (404: an unrouted route, as Node/Express servers answer)' },
  { name: 'patch', type: 'choice', choices: ['trickle', '405', '422', '501', 'none'], default: 'trickle',
    help: 'PATCH: trickle (204), or every PATCH answered 405/422/501, or none (405, no Accept-Patch)' },
  { name: 'etag', type: 'choice', choices: ['quoted', 'strict', 'star', 'none'], default: 'quoted',
    help: 'ETag in the 201: quoted, strict (quoted, and PATCH needs If-Match: 428/412), star (unquoted *), none' },
  { name: 'strict-etag', type: 'flag', help: 'same as --etag strict' },
  { name: 'no-ice-restart', type: 'flag', help: 'answer ICE-restart PATCHes 422' },
  { name: 'token', type: 'string', default: null, help: 'require Authorization: Bearer TOKEN' },
  { name: 'auth-status', type: 'choice', choices: ['401', '403'], default: '401',
    help: 'status for a missing or wrong token' },
  { name: 'sse', type: 'flag', help: 'offer WHEP server-sent events (active, inactive, reconnect)' },
  { name: 'reconnect-after', type: 'number', default: 0,
    help: 'send each session the SSE event "reconnect" this many s after its POST (needs --sse)' },
  { name: 'handshake-timeout', type: 'number', default: 10,
    help: 'end sessions not connected this many s after the POST ("expired")' },
];

function camel(name) {
  return name.replace(/-([a-z])/g, (m, c) => c.toUpperCase());
}

function usage(specs) {
  const lines = ['options:'];
  for (const s of specs) {
    const arg = s.type === 'flag' ? '' : s.type === 'choice' ? ` ${s.choices.join('|')}` : ' VALUE';
    lines.push(`  --${s.name}${arg}${s.repeat ? ' (repeatable)' : ''}`);
    lines.push(`      ${s.help || ''}${s.default !== undefined && s.default !== null && s.type !== 'flag' ? ` (default ${s.default})` : ''}`);
  }
  return lines.join('\n');
}

function convert(spec, value) {
  switch (spec.type) {
    case 'int': {
      if (!/^-?\d+$/.test(value))
        throw new Error(`--${spec.name} needs an integer, not '${value}'`);
      return parseInt(value, 10);
    }
    case 'number': {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n))
        throw new Error(`--${spec.name} needs a number, not '${value}'`);
      return n;
    }
    case 'choice':
      if (!spec.choices.includes(value))
        throw new Error(`--${spec.name} must be one of ${spec.choices.join('|')}, not '${value}'`);
      return value;
    default:
      return value;
  }
}

// Parses @argv against @specs; returns { camelCaseName: value, … }.  Throws
// nothing: prints and exits on errors and --help.
function parseOptions(argv, specs) {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const opts = {};
  const given = new Set();
  for (const s of specs)
    opts[camel(s.name)] = s.type === 'flag' ? false : s.repeat ? [...(s.default || [])] : s.default;
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === '--help' || arg === '-h') {
        process.stdout.write(usage(specs) + '\n');
        process.exit(0);
      }
      const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
      if (!m || !byName.has(m[1]))
        throw new Error(`unknown option '${arg}'`);
      const spec = byName.get(m[1]);
      const key = camel(spec.name);
      if (spec.type === 'flag') {
        if (m[2] !== undefined)
          throw new Error(`--${spec.name} takes no value`);
        opts[key] = true;
        continue;
      }
      let value = m[2];
      if (value === undefined) {
        if (i + 1 >= argv.length)
          throw new Error(`--${spec.name} needs a value`);
        value = argv[++i];
      }
      value = convert(spec, value);
      if (spec.repeat) {
        if (!given.has(key))
          opts[key] = [];
        opts[key].push(value);
      } else {
        opts[key] = value;
      }
      given.add(key);
    }
    checkCommon(opts);
  } catch (e) {
    process.stderr.write(`${e.message}\n${usage(specs)}\n`);
    process.exit(2);
  }
  return opts;
}

// Cross-option checks and normalisation of the common options.
function checkCommon(opts) {
  if (opts.strictEtag)
    opts.etag = 'strict';
  for (const k of ['sessionLimit', 'killAfter', 'silentAfter', 'reconnectAfter', 'handshakeTimeout'])
    if (opts[k] !== undefined && opts[k] < 0)
      throw new Error('durations must not be negative');
  if (opts.port !== undefined && (opts.port < 0 || opts.port > 65535))
    throw new Error('--port out of range');
  if (opts.reconnectAfter > 0 && !opts.sse)
    throw new Error('--reconnect-after needs --sse');
  if (opts.video === 'none' && opts.audio === 'none')
    throw new Error('--video none and --audio none: nothing to send');
  if (opts.path !== undefined) {
    while (opts.path.length > 1 && opts.path.endsWith('/'))
      opts.path = opts.path.slice(0, -1);
    if (!opts.path.startsWith('/') || opts.path === '/' || opts.path.startsWith('/admin/'))
      throw new Error(`--path must start with '/' and not be / or under /admin/`);
  }
  if (opts.getStatus !== undefined)
    opts.getStatus = parseInt(opts.getStatus, 10);
  if (opts.authStatus !== undefined)
    opts.authStatus = parseInt(opts.authStatus, 10);
}

module.exports = { COMMON, parseOptions, usage };
