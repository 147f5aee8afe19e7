// Interop servers — the event log the C test harness reads, and process
// life (die with the parent, stop on SIGTERM).
//
// stdout carries exactly what tests/server (the project's C test server)
// prints, one line each, written at once (no buffering):
//
//   LISTENING http://127.0.0.1:PORT      once, when the HTTP server listens
//   EVENT <what> id=… [key=value …]      one per event (see lib/whep-server.js)
//
// Anything else (diagnostics) goes to stderr: log() always, debug() only
// with WHEP_INTEROP_DEBUG=1 in the environment.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const fs = require('fs');

function writeLine(fd, line) {
  // Synchronous: a line is out before the next thing happens, and nothing
  // is lost when the process exits right after.
  try {
    fs.writeSync(fd, line + '\n');
  } catch (e) {
    // The reader is gone (EPIPE): nobody to tell.
  }
}

function listening(url) {
  writeLine(1, `LISTENING ${url}`);
}

function event(text) {
  writeLine(1, `EVENT ${text}`);
}

const name = process.argv[1] ? require('path').basename(process.argv[1], '.js') : 'interop';

function log(text) {
  writeLine(2, `${name}: ${text}`);
}

const debugOn = process.env.WHEP_INTEROP_DEBUG === '1';

function debug(text) {
  if (debugOn)
    log(text);
}

// Calls @stop once on SIGTERM, SIGINT, or when the parent process goes away
// (the harness sets PR_SET_PDEATHSIG too; this covers a server started by
// hand from a shell that is closed).  @stop returns a promise; the process
// exits when it settles, or after @graceMs whatever happens.
function handleShutdown(stop, graceMs = 5000) {
  let stopping = false;
  const parent = process.ppid;
  const begin = (why) => {
    if (stopping)
      return;
    stopping = true;
    debug(`stopping (${why})`);
    setTimeout(() => process.exit(0), graceMs).unref();
    Promise.resolve()
      .then(stop)
      .catch((e) => log(`stopping: ${e && e.stack ? e.stack : e}`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => begin('SIGTERM'));
  process.on('SIGINT', () => begin('SIGINT'));
  setInterval(() => {
    if (process.ppid !== parent)
      begin('parent gone');
  }, 500).unref();
  return begin;
}

module.exports = { listening, event, log, debug, debugOn, handleShutdown };
