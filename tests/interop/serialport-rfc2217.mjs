// serialport-rfc2217.mjs: a Web Serial `SerialPort` over an RFC 2217 (Telnet COM-PORT-OPTION)
// connection, for Node 20.
//
// The pty shim (serialport.mjs) cannot carry DTR and RTS. Over RFC 2217 they travel as
// SET-CONTROL commands, so esptool-js's own reset sequences reach espdesk-sim's model of the
// NodeMCU two-transistor auto-reset circuit (protocol.md §11.1, §11.4). Same surface as the pty
// shim: open({baudRate}) (connect, negotiate, SET-BAUDRATE), readable/writable, setSignals(),
// getSignals(), getInfo(), close().
//
// Web Serial sets DTR and RTS in one call; RFC 2217 sends one SET-CONTROL per line. We send DTR
// before RTS, the order esptool.py's ClassicReset uses: when the sequence goes from "EN low" to
// "GPIO0 low, EN high", GPIO0 is then already low when EN rises and the ROM latches it.
import net from "node:net";
import { ReadableStream, WritableStream } from "node:stream/web";

const IAC = 255, SB = 250, SE = 240, WILL = 251, WONT = 252, DO = 253, DONT = 254;
const BINARY = 0, SGA = 3, COM_PORT = 44;
const SET_BAUDRATE = 1, SET_DATASIZE = 2, SET_PARITY = 3, SET_STOPSIZE = 4, SET_CONTROL = 5;
const CTL = { dtrOn: 8, dtrOff: 9, rtsOn: 11, rtsOff: 12, breakOn: 5, breakOff: 6, noFlow: 1 };
const WANTED = new Set([BINARY, SGA, COM_PORT]);

export class Rfc2217SerialPort {
  #host; #port; #sock = null; #readable = null; #writable = null; #queue = []; #wake = null;
  #ended = null; #state = 0; #sb = []; #cmd = 0; #answered = new Set();
  #signals = { dataTerminalReady: false, requestToSend: false, break: false };
  #onSignals;

  constructor(host, port, opts = {}) {
    this.#host = host;
    this.#port = port;
    this.#onSignals = opts.onSignals || null;
  }

  get path() { return `rfc2217://${this.#host}:${this.#port}`; }
  getInfo() { return {}; }

  async open({ baudRate } = {}) {
    if (this.#sock) throw new Error(`${this.path}: InvalidStateError: the port is already open`);
    if (!Number.isInteger(baudRate) || baudRate <= 0)
      throw new TypeError(`${this.path}: open(): baudRate must be a positive integer, got ${baudRate}`);
    const sock = net.connect({ host: this.#host, port: this.#port });
    await new Promise((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", (e) => reject(new Error(`${this.path}: cannot connect: ${e.message}`)));
    });
    sock.setNoDelay(true);
    this.#sock = sock;
    this.#queue = [];
    this.#ended = null;
    this.#state = 0;
    // Events of a socket that close() already let go must not touch a later connection.
    sock.on("data", (d) => { if (this.#sock === sock) this.#parse(d); });
    sock.on("error", (e) => { if (this.#sock === sock) { this.#ended = e; this.#notify(); } });
    sock.on("close", () => {
      if (this.#sock !== sock) return;
      this.#ended = this.#ended || new Error("connection closed");
      this.#notify();
    });
    this.#raw([IAC, WILL, COM_PORT, IAC, WILL, BINARY, IAC, DO, BINARY, IAC, DO, SGA]);
    const b = [(baudRate >>> 24) & 255, (baudRate >>> 16) & 255, (baudRate >>> 8) & 255, baudRate & 255];
    this.#sub(SET_BAUDRATE, b);
    this.#sub(SET_DATASIZE, [8]);
    this.#sub(SET_PARITY, [1]);
    this.#sub(SET_STOPSIZE, [1]);
    this.#sub(SET_CONTROL, [CTL.noFlow]);
  }

  // Telnet bytes from the server: data to the read queue, negotiation answered once per option.
  #parse(chunk) {
    const data = [];
    for (const c of chunk) {
      switch (this.#state) {
        case 0: if (c === IAC) this.#state = 1; else data.push(c); break;
        case 1:
          if (c === IAC) { data.push(IAC); this.#state = 0; }
          else if (c === SB) { this.#sb = []; this.#state = 3; }
          else if (c >= WILL && c <= DONT) { this.#cmd = c; this.#state = 2; }
          else this.#state = 0;
          break;
        case 2: this.#negotiate(this.#cmd, c); this.#state = 0; break;
        case 3: if (c === IAC) this.#state = 4; else this.#sb.push(c); break;
        case 4:  // IAC SE ends the (ignored) subnegotiation; IAC IAC is a data 0xFF inside it
          if (c === SE) this.#state = 0;
          else { this.#sb.push(c); this.#state = 3; }
          break;
      }
    }
    if (data.length) { this.#queue.push(Uint8Array.from(data)); this.#notify(); }
  }

  #negotiate(cmd, opt) {
    const key = `${cmd}:${opt}`;
    if (this.#answered.has(key)) return;
    this.#answered.add(key);
    if (cmd === DO) this.#raw([IAC, WANTED.has(opt) ? WILL : WONT, opt]);
    else if (cmd === WILL) this.#raw([IAC, WANTED.has(opt) ? DO : DONT, opt]);
  }

  #raw(bytes) { if (this.#sock) this.#sock.write(Uint8Array.from(bytes)); }
  #sub(cmd, value) {
    const esc = [];
    for (const v of value) { esc.push(v); if (v === IAC) esc.push(IAC); }
    this.#raw([IAC, SB, COM_PORT, cmd, ...esc, IAC, SE]);
  }
  #notify() { if (this.#wake) { const w = this.#wake; this.#wake = null; w(); } }

  get readable() {
    if (!this.#sock) return null;
    if (!this.#readable) {
      let stream = null;
      const drop = () => { if (this.#readable === stream) this.#readable = null; };
      stream = new ReadableStream({
        pull: async (controller) => {
          while (!this.#queue.length && !this.#ended) await new Promise((r) => { this.#wake = r; });
          if (this.#queue.length) { controller.enqueue(this.#queue.shift()); return; }
          drop();
          const e = new Error(`${this.path}: the device has been lost (${this.#ended.message})`);
          e.name = "NetworkError";
          controller.error(e);
        },
        cancel: () => { drop(); this.#notify(); },
      });
      this.#readable = stream;
    }
    return this.#readable;
  }

  get writable() {
    if (!this.#sock) return null;
    if (!this.#writable) {
      let stream = null;
      const drop = () => { if (this.#writable === stream) this.#writable = null; };
      stream = new WritableStream({
        write: (chunk) => new Promise((resolve, reject) => {
          const out = [];
          for (const v of chunk) { out.push(v); if (v === IAC) out.push(IAC); }
          if (!this.#sock || this.#ended) return reject(new Error(`${this.path}: write on a lost connection`));
          this.#sock.write(Uint8Array.from(out), (err) => (err ? reject(err) : resolve()));
        }),
        close: () => drop(),
        abort: () => drop(),
      });
      this.#writable = stream;
    }
    return this.#writable;
  }

  async setSignals(signals = {}) {
    if (!this.#sock) throw new Error(`${this.path}: InvalidStateError: setSignals() on a closed port`);
    const { dataTerminalReady: dtr, requestToSend: rts } = signals;
    const brk = signals.break;
    if (dtr === undefined && rts === undefined && brk === undefined)
      throw new TypeError(`${this.path}: setSignals() needs at least one signal`);
    if (dtr !== undefined) { this.#signals.dataTerminalReady = !!dtr; this.#sub(SET_CONTROL, [dtr ? CTL.dtrOn : CTL.dtrOff]); }
    if (rts !== undefined) { this.#signals.requestToSend = !!rts; this.#sub(SET_CONTROL, [rts ? CTL.rtsOn : CTL.rtsOff]); }
    if (brk !== undefined) { this.#signals.break = !!brk; this.#sub(SET_CONTROL, [brk ? CTL.breakOn : CTL.breakOff]); }
    if (this.#onSignals) await this.#onSignals({ ...this.#signals });
  }

  async getSignals() {
    if (!this.#sock) throw new Error(`${this.path}: InvalidStateError: getSignals() on a closed port`);
    return { dataCarrierDetect: false, clearToSend: false, ringIndicator: false, dataSetReady: false };
  }

  async close() {
    if (!this.#sock) throw new Error(`${this.path}: InvalidStateError: the port is already closed`);
    if ((this.#readable && this.#readable.locked) || (this.#writable && this.#writable.locked))
      throw new TypeError(`${this.path}: close() while a stream is locked`);
    const r = this.#readable, w = this.#writable, sock = this.#sock;
    this.#readable = this.#writable = null;
    if (r) await r.cancel().catch(() => {});
    if (w) await w.abort().catch(() => {});
    this.#sock = null;
    this.#answered.clear();
    await new Promise((resolve) => { sock.once("close", resolve); sock.end(); setTimeout(resolve, 1000).unref(); });
    sock.destroy();
  }
}
