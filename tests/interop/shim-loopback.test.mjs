// shim-loopback.test.mjs: proves the Web Serial shim (serialport.mjs) on its own, against
// pty_echo, a pty peer that echoes every byte and leaves the tty cooked. If the shim did not
// put the tty in raw mode, set its speed, move every byte both ways (a full pty included), or
// follow the Web Serial stream/close rules that esptool-js relies on, a check here fails.
//
// Usage: node shim-loopback.test.mjs PTY_ECHO_BINARY   (TAP on stdout; TAP_FIRST sets the
// first test number). Guards against hangs are generous and are not timing assertions.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { PtySerialPort } from "./serialport.mjs";
import { Tap, firstDiff } from "./tap.mjs";

const GUARD_MS = 30000;
const tap = new Tap(Number(process.env.TAP_FIRST || 1));

function withGuard(promise, what) {
  let t;
  const guard = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: nothing happened for ${GUARD_MS / 1000} s`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(t));
}

// Read exactly n bytes, taking and releasing a reader per chunk as esptool-js's readLoop does.
// state.reader is the reader in use, so that a guard can cancel it.
async function readN(port, n, state) {
  const parts = [];
  let have = 0;
  while (have < n && !state.stop) {
    const reader = port.readable.getReader();
    state.reader = reader;
    try {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
      have += value.length;
    } finally {
      state.reader = null;
      reader.releaseLock();
    }
  }
  return Buffer.concat(parts);
}

async function writeAll(port, bytes) {
  const writer = port.writable.getWriter();
  try {
    await writer.write(bytes);
  } finally {
    writer.releaseLock();
  }
}

async function echoRound(port, bytes, name) {
  const state = { reader: null, stop: false };
  const reading = readN(port, bytes.length, state);
  reading.catch(() => {});
  try {
    await withGuard(writeAll(port, bytes), `writing ${bytes.length} bytes`);
    const got = await withGuard(reading, `reading back ${bytes.length} bytes`);
    const diff = firstDiff(got, bytes);
    return tap.ok(diff === "", name, diff);
  } catch (err) {
    state.stop = true;
    if (state.reader) await state.reader.cancel().catch(() => {});
    await reading.catch(() => {});
    return tap.ok(false, name, `${err.message}`);
  }
}

function sttySpeed(path) {
  return execFileSync("stty", ["-F", path, "speed"], { encoding: "utf8" }).trim();
}

async function main() {
  const bin = process.argv[2];
  const echo = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
  const spawnError = once(echo, "error").then(([e]) => { throw e; });
  const lines = createInterface({ input: echo.stdout });
  let path;
  try {
    const first = once(lines, "line").then(([l]) => l);
    path = await withGuard(Promise.race([first, spawnError]), `${bin}: waiting for the pty path`);
  } catch (err) {
    tap.ok(false, "pty_echo starts and names its pty", `${bin}: ${err.message}; build it with 'make check'`);
    echo.kill();
    return;
  }
  tap.ok(/^\/dev\/pts\/\d+$/.test(path), "pty_echo starts and names its pty", `first line was '${path}'`);

  const seen = [];
  const port = new PtySerialPort(path, { onSignals: (s) => { seen.push(s); } });
  tap.ok(port.readable === null && port.writable === null, "a closed port has no streams");
  tap.ok(JSON.stringify(port.getInfo()) === "{}", "getInfo() has no USB ids for a pty",
    `got ${JSON.stringify(port.getInfo())}`);

  await port.open({ baudRate: 115200 });
  tap.ok(sttySpeed(path) === "115200", "open({baudRate: 115200}) sets the tty speed",
    `stty -F ${path} speed says ${sttySpeed(path)}`);
  let threw = false;
  try { await port.open({ baudRate: 115200 }); } catch { threw = true; }
  tap.ok(threw, "open() on an open port fails");

  await port.setSignals({ dataTerminalReady: false, requestToSend: true });
  await port.setSignals({ dataTerminalReady: true });
  const last = seen[seen.length - 1] || {};
  tap.ok(seen.length === 2 && last.dataTerminalReady === true && last.requestToSend === true,
    "setSignals() is accepted and reported to onSignals", `onSignals saw ${JSON.stringify(seen)}`);

  const all = new Uint8Array(512);
  for (let i = 0; i < 512; i++) all[i] = i & 0xff;
  await echoRound(port, all, "all 256 byte values come back unchanged (raw mode: no echo, no CR/LF or XON/XOFF or ^C handling)");
  await echoRound(port, new Uint8Array(randomBytes(256 * 1024)), "256 KiB of random bytes come back unchanged (full pty buffers)");

  // Web Serial rules that esptool-js's Transport.disconnect() depends on.
  const reader = port.readable.getReader();
  const pending = reader.read();
  let closeRejected = false;
  try { await port.close(); } catch { closeRejected = true; }
  tap.ok(closeRejected, "close() fails while a reader holds the readable stream");
  await reader.cancel();
  const r = await pending;
  reader.releaseLock();
  tap.ok(r.done === true, "cancel() ends a pending read with done");
  await port.close();
  tap.ok(port.readable === null && port.writable === null, "after close() both streams are null");

  // esptool-js reopens the port to change speed (and after a failed chip autodetection).
  await port.open({ baudRate: 460800 });
  tap.ok(sttySpeed(path) === "460800", "reopen at 460800 sets the new speed",
    `stty -F ${path} speed says ${sttySpeed(path)}`);
  await echoRound(port, new Uint8Array(randomBytes(4096)), "bytes still come back after close and reopen");
  await port.close();

  echo.stdin.end();
  const [code] = await withGuard(once(echo, "exit"), "pty_echo exit");
  tap.ok(code === 0, "pty_echo exits cleanly", `exit status ${code}`);
}

main().catch((err) => {
  tap.ok(false, "shim loopback test ran to the end", err.stack || String(err));
}).finally(() => {
  process.exitCode = tap.failed ? 1 : 0;
});
