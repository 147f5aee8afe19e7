// Interop servers — the frame counter, painted into I420 pictures before
// they are encoded.
//
// The same layout as tests/common/framecode.h, so the C tests read it back
// from what whepsrc decodes: a row of 32 square cells of 16 luma pixels at
// the top-left corner; cell i (from the left) is white (235) for a 1 bit and
// black (16) for a 0; bits 0-23 are the counter (most significant first),
// bits 24-31 a check byte: CRC-8 (x^8 + x^2 + x + 1, initial value 0) of the
// three counter bytes, most significant first, XORed with 0x5a so that an
// all-black or all-white strip never reads as a valid counter.  The chroma
// under the strip is neutral (128).  The picture must be at least 512 pixels
// wide and 16 high.
//
//   const fc = require('./lib/framecode');
//   const frame = fc.newI420(640, 360);        // { width, height, data }
//   fc.paintBackground(frame, n);              // optional: moving content
//   fc.stamp(frame, n);                        // the counter, last
//   fc.read(frame);                            // → n, or null
//
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

const CELL = 16;
const BITS = 32;
const COUNTER_BITS = 24;
const MIN_WIDTH = CELL * BITS;
const MAX = 0xffffff;
const LUMA_WHITE = 235;
const LUMA_BLACK = 16;
const CHROMA_NEUTRAL = 128;
const THRESHOLD = Math.floor((LUMA_WHITE + LUMA_BLACK) / 2);

function checkByte(counter) {
  let crc = 0;
  counter &= MAX;
  for (let byte = 2; byte >= 0; byte--) {
    crc ^= (counter >>> (byte * 8)) & 0xff;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc ^ 0x5a;
}

// The 32-bit word drawn for @counter, as an unsigned number.
function word(counter) {
  counter &= MAX;
  return ((counter << 8) | checkByte(counter)) >>> 0;
}

// Plane offsets of an I420 picture (even sizes; odd ones round the chroma
// planes up, as libwebrtc does).
function planes(width, height) {
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const ySize = width * height;
  return { cw, ch, y: 0, u: ySize, v: ySize + cw * ch, size: ySize + 2 * cw * ch };
}

// A black I420 picture: the { width, height, data } that libwebrtc's
// RTCVideoSource.onFrame() takes.
function newI420(width, height) {
  const p = planes(width, height);
  const data = new Uint8ClampedArray(p.size);
  data.fill(LUMA_BLACK, 0, p.u);
  data.fill(CHROMA_NEUTRAL, p.u);
  return { width, height, data };
}

function fillY(frame, x, y, w, h, value) {
  const { width, data } = frame;
  for (let row = y; row < y + h; row++)
    data.fill(value, row * width + x, row * width + x + w);
}

function fillChroma(frame, plane, x, y, w, h, value) {
  const p = planes(frame.width, frame.height);
  const base = plane === 'u' ? p.u : p.v;
  for (let row = y; row < y + h; row++)
    frame.data.fill(value, base + row * p.cw + x, base + row * p.cw + x + w);
}

// Draws @counter (masked to 24 bits) into @frame; false when the picture is
// too small to hold the strip.
function stamp(frame, counter) {
  if (frame.width < MIN_WIDTH || frame.height < CELL)
    return false;
  const w = word(counter);
  for (let bit = 0; bit < BITS; bit++) {
    const one = (w >>> (BITS - 1 - bit)) & 1;
    fillY(frame, bit * CELL, 0, CELL, CELL, one ? LUMA_WHITE : LUMA_BLACK);
  }
  fillChroma(frame, 'u', 0, 0, MIN_WIDTH / 2, CELL / 2, CHROMA_NEUTRAL);
  fillChroma(frame, 'v', 0, 0, MIN_WIDTH / 2, CELL / 2, CHROMA_NEUTRAL);
  return true;
}

// Reads the counter back from an I420 (or any 8-bit planar YUV) picture
// whose luma plane comes first with stride @frame.stride (default: width):
// the mean of the inner half of each cell against the black/white midpoint.
// Returns the counter, or null when the check byte does not match.
function read(frame) {
  const stride = frame.stride || frame.width;
  if (frame.width < MIN_WIDTH || frame.height < CELL)
    return null;
  let w = 0;
  const n = CELL / 2;
  for (let bit = 0; bit < BITS; bit++) {
    const x0 = bit * CELL + CELL / 4;
    let sum = 0;
    for (let row = CELL / 4; row < CELL / 4 + n; row++)
      for (let col = x0; col < x0 + n; col++)
        sum += frame.data[row * stride + col];
    w = ((w << 1) | (Math.floor(sum / (n * n)) > THRESHOLD ? 1 : 0)) >>> 0;
  }
  const value = w >>> (BITS - COUNTER_BITS);
  return (w & 0xff) === checkByte(value) ? value : null;
}

// Something that moves, below the strip, so that the encoder codes changing
// pictures as from a camera (a grey ramp and a light square that crosses
// the picture every two seconds at 30 fps), without so much motion that a
// low bitrate would make the encoder drop frames.  Repaints the whole
// luma plane, so a frame may be reused from one tick to the next.
function paintBackground(frame, counter) {
  const { width, height, data } = frame;
  if (!frame.ramp || frame.ramp.length !== width) {
    frame.ramp = new Uint8ClampedArray(width);
    for (let x = 0; x < width; x++)
      frame.ramp[x] = 48 + Math.floor((x * 96) / width);
  }
  for (let row = 0; row < height; row++)
    data.set(frame.ramp, row * width);
  const size = Math.min(64, height - CELL, width);
  if (size <= 0)
    return;
  const span = width - size;
  const x = span > 0 ? Math.floor(((counter % 60) * span) / 59) : 0;
  const y = CELL + Math.floor((height - CELL - size) / 2);
  fillY(frame, x, y, size, size, 200);
}

module.exports = {
  CELL,
  BITS,
  MIN_WIDTH,
  MAX,
  checkByte,
  newI420,
  stamp,
  read,
  paintBackground,
};
