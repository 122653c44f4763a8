// serialport.mjs: a Web Serial `SerialPort` over a pseudo-terminal, for Node 20.
//
// esptool-js talks to a `SerialPort` as Chrome's Web Serial API defines it (WICG Serial API).
// This shim gives it one over the slave side of a pty, so that Espressif's own client can drive
// espdesk-sim unmodified. It implements exactly what esptool-js 0.7.0's Transport uses
// (see NOTES.md): open({baudRate}), the `readable` and `writable` getters, setSignals(),
// getSignals(), getInfo() and close(). It follows the spec's state rules where esptool-js relies
// on them: a stream that was cancelled, closed or errored is dropped and the getter makes a new
// one while the port is open; after close() both getters return null.
//
// The tty is put in raw mode at the requested speed with `stty -F` (a cooked pty would eat
// 0x03/0x11/0x13, hold bytes until a newline, echo, and turn LF into CR LF). A pty has no modem
// lines: setSignals() records the levels and hands them to an optional onSignals callback. There
// is deliberately no setBaudRate(): browsers have none, so esptool-js changes speed by closing
// and reopening the port, as it does in Chrome.
//
// Reads and writes use the fd in non-blocking mode (EAGAIN -> wait 1 ms), so close() never
// waits for a read blocked in libuv's thread pool.
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { ReadableStream, WritableStream } from "node:stream/web";
import { setTimeout as sleep } from "node:timers/promises";

const READ_CHUNK = 65536;

function fsRead(fd, buf) {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function fsWrite(fd, buf, off, len) {
  return new Promise((resolve, reject) =>
    fs.write(fd, buf, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function lost(path, err) {
  const e = new Error(`${path}: the device has been lost (${err.code || err.message})`);
  e.name = "NetworkError";
  return e;
}

export class PtySerialPort {
  #path;
  #fd = null;
  #readable = null;
  #writable = null;
  #onSignals;
  #baud = 0;
  #inflight = new Set();  // fs.read/fs.write calls not yet settled: close() waits for them
  #signals = { dataTerminalReady: false, requestToSend: false, break: false };

  // path: the pty slave (or its symlink). opts.onSignals(levels) is called after each
  // setSignals() with the current levels of DTR, RTS and break.
  constructor(path, opts = {}) {
    this.#path = path;
    this.#onSignals = opts.onSignals || null;
  }

  get path() { return this.#path; }
  get baudRate() { return this.#baud; }
  get signals() { return { ...this.#signals }; }

  // A pty is not a USB device: no vendor or product id, as Chrome reports for a native UART.
  getInfo() { return {}; }

  async open(options = {}) {
    const { baudRate, dataBits = 8, stopBits = 1, parity = "none", flowControl = "none" } = options;
    if (this.#fd !== null) throw new Error(`${this.#path}: InvalidStateError: the port is already open`);
    if (!Number.isInteger(baudRate) || baudRate <= 0)
      throw new TypeError(`${this.#path}: open(): baudRate must be a positive integer, got ${baudRate}`);
    if ((dataBits ?? 8) !== 8 || (stopBits ?? 1) !== 1 || (parity ?? "none") !== "none" || (flowControl ?? "none") !== "none")
      throw new TypeError(`${this.#path}: open(): only 8N1 without flow control is supported`);
    const c = fs.constants;
    const fd = fs.openSync(this.#path, c.O_RDWR | c.O_NOCTTY | c.O_NONBLOCK);
    try {
      // raw = -icanon -isig -iexten -opost -ixon -icrnl ... ; cs8 -parenb: 8N1; no echo.
      execFileSync("stty", ["-F", this.#path, "raw", "-echo", "-echoe", "-echok", "-echonl",
        "-ixon", "-ixoff", "-crtscts", "clocal", "cs8", "-cstopb", "-parenb", String(baudRate)],
        { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      fs.closeSync(fd);
      const why = err.stderr ? String(err.stderr).trim() : err.message;
      throw new Error(`${this.#path}: cannot set raw mode at ${baudRate} baud with stty: ${why}`);
    }
    this.#fd = fd;
    this.#baud = baudRate;
  }

  get readable() {
    if (this.#fd === null) return null;
    if (this.#readable === null) this.#readable = this.#makeReadable(this.#fd);
    return this.#readable;
  }

  get writable() {
    if (this.#fd === null) return null;
    if (this.#writable === null) this.#writable = this.#makeWritable(this.#fd);
    return this.#writable;
  }

  // Remember an I/O call on the fd until it settles, so that close() never closes (and a quick
  // reopen never reuses) the fd number under a call still queued in libuv's thread pool.
  #track(p) {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  #makeReadable(fd) {
    let stream = null;
    const drop = () => { if (this.#readable === stream) this.#readable = null; };
    let cancelled = false;
    stream = new ReadableStream({
      pull: async (controller) => {
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        for (;;) {
          if (cancelled || this.#fd !== fd) return;
          let n;
          try {
            n = await this.#track(fsRead(fd, buf));
          } catch (err) {
            if (err.code === "EAGAIN" || err.code === "EWOULDBLOCK" || err.code === "EINTR") {
              await sleep(1);
              continue;
            }
            if (cancelled || this.#fd !== fd) return;
            drop();
            controller.error(lost(this.#path, err));  // EIO: the simulator closed the master
            return;
          }
          if (cancelled || this.#fd !== fd) return;
          if (n === 0) {  // hang-up
            drop();
            controller.error(lost(this.#path, { code: "EOF" }));
            return;
          }
          controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, n).slice());
          return;
        }
      },
      cancel: () => { cancelled = true; drop(); },
    });
    return stream;
  }

  #makeWritable(fd) {
    let stream = null;
    const drop = () => { if (this.#writable === stream) this.#writable = null; };
    stream = new WritableStream({
      write: async (chunk) => {
        const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        let off = 0;
        while (off < buf.length) {
          if (this.#fd !== fd) throw new Error(`${this.#path}: write after close`);
          try {
            off += await this.#track(fsWrite(fd, buf, off, buf.length - off));
          } catch (err) {
            if (err.code === "EAGAIN" || err.code === "EWOULDBLOCK" || err.code === "EINTR") {
              await sleep(1);
              continue;
            }
            drop();
            throw lost(this.#path, err);
          }
        }
      },
      close: () => drop(),
      abort: () => drop(),
    });
    return stream;
  }

  async setSignals(signals = {}) {
    if (this.#fd === null) throw new Error(`${this.#path}: InvalidStateError: setSignals() on a closed port`);
    const { dataTerminalReady, requestToSend } = signals;
    const brk = signals.break;
    if (dataTerminalReady === undefined && requestToSend === undefined && brk === undefined)
      throw new TypeError(`${this.#path}: setSignals() needs at least one signal`);
    if (dataTerminalReady !== undefined) this.#signals.dataTerminalReady = !!dataTerminalReady;
    if (requestToSend !== undefined) this.#signals.requestToSend = !!requestToSend;
    if (brk !== undefined) this.#signals.break = !!brk;
    if (this.#onSignals) await this.#onSignals({ ...this.#signals });
  }

  async getSignals() {
    if (this.#fd === null) throw new Error(`${this.#path}: InvalidStateError: getSignals() on a closed port`);
    return { dataCarrierDetect: false, clearToSend: false, ringIndicator: false, dataSetReady: false };
  }

  // As in Chrome, close() fails while a reader or writer holds a stream: the caller must
  // cancel its reader and release its locks first (esptool-js's Transport.disconnect does).
  async close() {
    if (this.#fd === null) throw new Error(`${this.#path}: InvalidStateError: the port is already closed`);
    if ((this.#readable && this.#readable.locked) || (this.#writable && this.#writable.locked))
      throw new TypeError(`${this.#path}: close() while a stream is locked`);
    const r = this.#readable, w = this.#writable;
    this.#readable = null;
    this.#writable = null;
    if (r) await r.cancel().catch(() => {});
    if (w) await w.abort().catch(() => {});
    const fd = this.#fd;
    this.#fd = null;
    await Promise.allSettled([...this.#inflight]);
    fs.closeSync(fd);
  }
}
