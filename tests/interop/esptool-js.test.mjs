// esptool-js.test.mjs: Espressif's own JavaScript flasher, esptool-js (pinned in package.json),
// unmodified, drives espdesk-sim through our Web Serial shim over the simulator's pty.
//
// For each simulated chip (an ESP8266EX at 115200 baud, an ESP8285 that also switches to
// 460800, both on the pty; an ESP8266EX over RFC 2217 that starts booting from flash, so that
// only esptool-js's DTR/RTS reset through the simulated auto-reset circuit brings it into the
// loader, and its control without the circuit, which must not connect) it runs what a web
// flasher runs: ESPLoader.main() (reset, SYNC, chip detection,
// description, crystal, MAC, stub upload, flash id), writeFlash() of two compressed images with
// MD5 checks, readFlash() of both, eraseFlash(), and a soft reset back to the ROM. After every
// step the simulator's flash file, which is the chip's flash, is compared byte for byte with
// what the flash must hold. Expected values come from the options given to the simulator, the
// reference (../shared/reference/protocol.md §8, §9) and the data the test generates; never
// from the simulator's own output.
//
// Usage: node esptool-js.test.mjs NODE_MODULES_DIR   (TAP on stdout; TAP_FIRST sets the first
// test number; ESPDESK_BUILDDIR locates espdesk-sim, ESPDESK_SIM overrides it;
// ESPDESK_INTEROP_TRACE=1 prints esptool-js's byte trace; ESPDESK_INTEROP_SPEED=real runs the
// simulator with its real timing instead of --speed fast, which takes minutes). Guards against hangs are generous
// and are not timing assertions.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import net from "node:net";
import { PtySerialPort } from "./serialport.mjs";
import { Rfc2217SerialPort } from "./serialport-rfc2217.mjs";
import { Tap, firstDiff } from "./tap.mjs";

const tap = new Tap(Number(process.env.TAP_FIRST || 1));
// esptool-js prints its byte trace with console.log: keep it out of the TAP stream.
console.log = (...a) => tap.diag(a.join(" "));
console.error = (...a) => tap.diag(a.join(" "));
console.warn = console.error;

const MODULES = process.argv[2];
const BUILDDIR = process.env.ESPDESK_BUILDDIR || process.cwd();
const SIM = process.env.ESPDESK_SIM || path.join(BUILDDIR, "espdesk-sim");
const SPEED = process.env.ESPDESK_INTEROP_SPEED || "fast";  // "real": the simulator's timing model
const STEP_GUARD_MS = SPEED === "fast" ? 180000 : 600000;
const MB = 1 << 20;

// The simulated chips. flashId is what esptool-js must read from SPI_W0 after RDID: the JEDEC
// bytes manufacturer, type, capacity in bits 7..0, 15..8, 23..16 (protocol.md §9.2).
const RUNS = [
  {
    label: "ESP8266EX",
    simArgs: ["--chip", "esp8266", "--mac", "18:fe:34:a1:b2:c3", "--flash-size", "1MB", "--flash-id", "0xC84014"],
    description: "ESP8266EX", features: "WiFi", mac: "18:fe:34:a1:b2:c3",
    flashId: 0x1440c8, flashSize: 1 * MB, baud: 115200,
  },
  {
    label: "ESP8285",
    simArgs: ["--chip", "esp8285", "--mac", "84:0d:8e:0a:0b:0c", "--flash-size", "1MB", "--flash-id", "0xEF4014"],
    description: "ESP8285", features: "WiFi,Embedded Flash", mac: "84:0d:8e:0a:0b:0c",
    flashId: 0x1440ef, flashSize: 1 * MB, baud: 460800,
  },
  {
    // No --download: the chip boots from its blank flash. Only esptool-js's ClassicReset, as
    // DTR/RTS through the simulated two-transistor circuit, can put it in the loader.
    label: "ESP8266EX over RFC 2217 with auto-reset",
    face: "rfc2217", download: false,
    simArgs: ["--chip", "esp8266", "--mac", "18:fe:34:5a:6b:7c", "--flash-size", "1MB", "--flash-id", "0xEF4014"],
    description: "ESP8266EX", features: "WiFi", mac: "18:fe:34:5a:6b:7c",
    flashId: 0x1440ef, flashSize: 1 * MB, baud: 115200,
  },
  {
    // The control: the same board without the auto-reset circuit (a Sonoff) must stay out of
    // reach, or the run above proves nothing about the reset.
    label: "ESP8266EX over RFC 2217 with --no-autoreset",
    face: "rfc2217", download: false, expectNoConnect: true, attempts: 2,
    simArgs: ["--chip", "esp8266", "--no-autoreset", "--flash-size", "1MB"],
    flashSize: 1 * MB, baud: 115200,
  },
];

// A deterministic generator (xorshift32), so a failure can be reproduced byte for byte.
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x & 0xff;
  };
}

// Image A (256 KiB at 0x0): random, erased-looking 0xFF, random, SLIP's special bytes, zeros.
// Image B (4099 bytes at 0x7B000, sector 123): random; esptool-js pads it to 4100 with 0xFF.
function makeImages(seed) {
  const r = prng(seed);
  const a = new Uint8Array(256 * 1024);
  const K = 1024;
  for (let i = 0; i < 64 * K; i++) a[i] = r();
  a.fill(0xff, 64 * K, 128 * K);
  for (let i = 128 * K; i < 192 * K; i++) a[i] = r();
  const slip = [0xc0, 0xdb, 0xc0, 0xdb, 0xdc, 0xdd, 0xdb, 0xdb];
  for (let i = 192 * K; i < 224 * K; i++) a[i] = slip[i % slip.length];
  a.fill(0x00, 224 * K, 256 * K);
  a[0] = 0x5a;  // not 0xE9: esptool-js must not take it for a firmware header
  const b = new Uint8Array(4099);
  for (let i = 0; i < b.length; i++) b[i] = r();
  return { a, aAddr: 0x0, b, bAddr: 0x7b000 };
}

const md5hex = (data) => createHash("md5").update(data).digest("hex");

function guard(promise, what, ms = STEP_GUARD_MS) {
  let t;
  const g = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s (hang guard)`)), ms);
  });
  return Promise.race([promise, g]).finally(() => clearTimeout(t));
}

function tail(text, n = 25) {
  const lines = String(text).trimEnd().split("\n");
  return lines.slice(-n).join("\n");
}

// A free TCP port on the loopback interface for --rfc2217 (the simulator wants a number).
async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => srv.listen(0, "127.0.0.1", resolve).once("error", reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// A running simulator: where it serves the device, its stderr, and how to stop it.
async function startSim(run, dir) {
  const flash = path.join(dir, "flash.bin");
  const link = path.join(dir, "tty");
  const face = run.face === "rfc2217" ? ["--rfc2217", String(await freePort())] : ["--link", link];
  const args = [...(run.download === false ? [] : ["--download"]), "--speed", SPEED, "--flash", flash,
    ...face, ...run.simArgs];
  const child = spawn(SIM, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const failed = once(child, "error").then(([e]) => { throw e; });
  const exited = once(child, "exit").then(([code, sig]) => {
    throw new Error(`espdesk-sim exited (status ${code}, signal ${sig}) before naming its port; stderr: ${stderr.trim()}`);
  });
  const lines = createInterface({ input: child.stdout });
  const first = once(lines, "line").then(([l]) => l);
  failed.catch(() => {});
  exited.catch(() => {});
  const where = await guard(Promise.race([first, failed, exited]), "espdesk-sim start", 10000);
  return {
    child, flash, link, where, args,
    stderr: () => stderr,
    cmdline: `${SIM} ${args.join(" ")}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      child.kill("SIGTERM");
      const [code, signal] = await guard(once(child, "exit"), "espdesk-sim exit after SIGTERM", 10000)
        .catch(() => { child.kill("SIGKILL"); return [null, "SIGKILL (did not stop on SIGTERM)"]; });
      return { code, signal };
    },
  };
}

// Compare the flash file with what the flash must hold; one TAP line.
function checkFlashFile(sim, expected, name) {
  let got;
  try {
    got = fs.readFileSync(sim.flash);
  } catch (err) {
    return tap.ok(false, name, `cannot read the flash file ${sim.flash}: ${err.message}`);
  }
  const diff = firstDiff(got, expected);
  return tap.ok(diff === "", name, diff && `flash file ${sim.flash}: ${diff}`);
}

async function oneRun(run, esptool, seed) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdesk-interop-"));
  let sim = null;
  try {
    try {
      sim = await startSim(run, dir);
    } catch (err) {
      tap.ok(false, `${run.label}: espdesk-sim starts and says where the device is`, `${SIM}: ${err.message}`);
      return;
    }
    await flow(run, esptool, seed, sim);
  } finally {
    if (sim) await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function flow(run, esptool, seed, sim) {
  const { ESPLoader, Transport } = esptool;
  const L = run.label;
  let port;
  if (run.face === "rfc2217") {
    const m = /^rfc2217:\/\/([0-9.]+):(\d+)$/.exec(sim.where);
    tap.ok(!!m, `${L}: espdesk-sim starts and names its RFC 2217 address`,
      `first stdout line was '${sim.where}'; command: ${sim.cmdline}`);
    if (!m) return;
    port = new Rfc2217SerialPort(m[1], Number(m[2]));
  } else {
    tap.ok(/^\/dev\/pts\/\d+$/.test(sim.where), `${L}: espdesk-sim starts and names its pty`,
      `first stdout line was '${sim.where}'; command: ${sim.cmdline}`);
    let linkTarget = "";
    try { linkTarget = fs.realpathSync(sim.link); } catch (err) { linkTarget = err.message; }
    tap.ok(linkTarget === sim.where, `${L}: --link makes a symlink to the pty`,
      `${sim.link} resolves to '${linkTarget}', the pty is ${sim.where}`);
    port = new PtySerialPort(sim.where);
  }

  const erased = new Uint8Array(run.flashSize).fill(0xff);
  checkFlashFile(sim, erased, `${L}: a new flash file is ${run.flashSize / MB} MB of 0xFF`);

  const log = [];
  let partial = "";
  const terminal = {
    clean() {},
    write(s) { partial += s; },
    writeLine(s) {
      const line = partial + s;
      partial = "";
      log.push(line);
      tap.diag(`esptool-js: ${line}`);
    },
  };
  const logText = () => log.join("\n");
  const explain = (err) => `${err && err.message ? err.message : err}\n` +
    `-- esptool-js output (last lines):\n${tail(logText())}\n` +
    `-- espdesk-sim stderr (last lines):\n${tail(sim.stderr()) || "(empty)"}\n-- command: ${sim.cmdline}`;

  const transport = new Transport(port, process.env.ESPDESK_INTEROP_TRACE === "1");
  const loader = new ESPLoader({ transport, baudrate: run.baud, romBaudrate: 115200, terminal });

  // The control run: without the auto-reset circuit the reset must not reach the chip.
  if (run.expectNoConnect) {
    let err = null;
    try {
      await guard(loader.connect("default_reset", run.attempts, false), "ESPLoader.connect()");
    } catch (e) {
      err = e;
    }
    tap.diag(err ? `as expected, esptool-js said: ${err.message}` : "esptool-js connected");
    tap.ok(err !== null && /Failed to connect/.test(err.message),
      `${L}: esptool-js cannot reach the loader (DTR/RTS ignored, the chip boots from flash)`,
      err ? `esptool-js said: ${err.message}` : `esptool-js connected: the simulator ignored --no-autoreset\n${tail(logText())}`);
    if (port.readable) await guard(transport.disconnect(), "disconnect", 5000).catch(() => {});
    checkFlashFile(sim, erased, `${L}: the flash is untouched`);
    return;
  }

  // 1. What a web flasher does first: ESPLoader.main().
  let chipDesc = null, mainErr = null;
  try {
    chipDesc = await guard(loader.main("default_reset"), "ESPLoader.main()");
  } catch (err) {
    mainErr = err;
  }
  tap.ok(mainErr === null, `${L}: ESPLoader.main() connects, identifies, uploads the stub and reads the flash id`,
    mainErr && explain(mainErr));
  const logHas = (re) => log.find((l) => re.test(l));
  const why = (what) => `${what}\n-- esptool-js output (last lines):\n${tail(logText())}` +
    (mainErr ? `\n-- main() failed: ${mainErr.message}` : "");

  tap.ok(loader.chip && loader.chip.CHIP_NAME === "ESP8266", `${L}: detected as an ESP8266 (magic 0xfff0c101)`,
    why(`loader.chip is ${loader.chip ? loader.chip.CHIP_NAME : "not set"}`));
  tap.ok(chipDesc === run.description && !!logHas(new RegExp(`^Chip is ${run.description}$`)),
    `${L}: chip description is ${run.description} (eFuse words, protocol.md §8.4)`,
    why(`main() returned '${chipDesc}'`));
  tap.ok(!!logHas(new RegExp(`^Features: ${run.features}$`)), `${L}: features are ${run.features}`,
    why(`expected the line 'Features: ${run.features}'`));
  tap.ok(!!logHas(/^Crystal is 26MHz$/) && !logHas(/Detected crystal freq/),
    `${L}: crystal is 26 MHz with no warning (UART_CLKDIV ~ 52e6/115200, protocol.md §8.5)`,
    why("expected 'Crystal is 26MHz' and no 'WARNING: Detected crystal freq' line"));
  const macLine = logHas(/^MAC: /);
  tap.ok(macLine === `MAC: ${run.mac}`, `${L}: MAC reported by esptool-js equals --mac ${run.mac}`,
    why(`esptool-js said '${macLine}', expected 'MAC: ${run.mac}'`));
  tap.ok(loader.IS_STUB === true && !!logHas(/^Stub running\.\.\.$/),
    `${L}: the stub upload ends with OHAI and esptool-js runs in stub mode`,
    why(`IS_STUB=${loader.IS_STUB}`));
  if (run.baud !== 115200) {
    tap.ok(!mainErr && transport.baudrate === run.baud && !logHas(/Continuing at 115200 baud/),
      `${L}: CHANGE_BAUDRATE to ${run.baud} holds (esptool-js reopens the port at the new speed)`,
      why(`host speed now ${transport.baudrate}`));
  }
  const fidLine = logHas(/^Flash ID: /);
  const want = `Flash ID: ${run.flashId.toString(16)}`;
  tap.ok(fidLine === want, `${L}: flash id read through the SPI registers is 0x${run.flashId.toString(16)}`,
    why(`esptool-js said '${fidLine}', expected '${want}'`));
  checkFlashFile(sim, erased, `${L}: connecting changed no flash byte`);

  // 2. writeFlash: two compressed images, MD5-checked by the stub.
  const { a, aAddr, b, bAddr } = makeImages(seed);
  const bPadded = new Uint8Array(b.length + ((4 - (b.length % 4)) % 4)).fill(0xff);
  bPadded.set(b);
  const expected = new Uint8Array(erased);
  expected.set(a, aAddr);
  expected.set(bPadded, bAddr);
  const reached = (name) => {
    if (!mainErr) return true;
    tap.ok(false, name, `not reached: ESPLoader.main() failed (${mainErr.message})`);
    return false;
  };
  let writeErr = mainErr;
  let name = `${L}: writeFlash() of 256 KiB at 0x0 and 4099 bytes at 0x7b000, compressed, returns`;
  if (reached(name)) {
    const before = log.length;
    try {
      await guard(loader.writeFlash({
        fileArray: [{ data: a, address: aAddr }, { data: b, address: bAddr }],
        flashSize: "keep", flashMode: "keep", flashFreq: "keep",
        eraseAll: false, compress: true, calculateMD5Hash: md5hex,
      }), "writeFlash()");
      writeErr = null;
    } catch (err) {
      writeErr = err;
    }
    tap.ok(writeErr === null, name, writeErr && explain(writeErr));
    const verified = log.slice(before).filter((l) => l === "Hash of data verified.").length;
    tap.ok(verified === 2, `${L}: the stub's SPI_FLASH_MD5 matches both images`,
      why(`'Hash of data verified.' appeared ${verified} time(s), expected 2`));
  }
  checkFlashFile(sim, expected, `${L}: flash file after writeFlash() holds both images, 0xFF elsewhere`);

  // 3. readFlash: both regions come back as the flash file holds them.
  for (const [addr, len, what] of [[aAddr, a.length, "256 KiB at 0x0"], [bAddr, bPadded.length, "4100 bytes at 0x7b000"]]) {
    name = `${L}: readFlash() of ${what} returns the flash contents`;
    if (!reached(name)) continue;
    try {
      const got = await guard(loader.readFlash(addr, len), `readFlash(0x${addr.toString(16)}, ${len})`);
      const diff = firstDiff(got, expected.subarray(addr, addr + len), addr);
      tap.ok(diff === "", name, diff);
    } catch (err) {
      tap.ok(false, name, explain(err));
    }
  }
  checkFlashFile(sim, expected, `${L}: reading changed no flash byte`);

  // 4. eraseFlash: the whole chip back to 0xFF.
  name = `${L}: eraseFlash() returns`;
  if (reached(name)) {
    try {
      await guard(loader.eraseFlash(), "eraseFlash()");
      tap.ok(true, name);
    } catch (err) {
      tap.ok(false, name, explain(err));
    }
    name = `${L}: readFlash() after the erase sees 0xFF`;
    try {
      const got = await guard(loader.readFlash(bAddr, 4096), "readFlash after erase");
      const diff = firstDiff(got, erased.subarray(0, 4096), bAddr);
      tap.ok(diff === "", name, diff);
    } catch (err) {
      tap.ok(false, name, explain(err));
    }
  }
  checkFlashFile(sim, erased, `${L}: flash file after eraseFlash() is all 0xFF`);

  // 5. The stub's FLASH_END(0) is a soft reset into the ROM loader (protocol.md §4.3): a new
  // client that syncs without a reset must find the ROM (SYNC value != 0), not the stub.
  name = `${L}: after the stub's soft reset a fresh esptool-js syncs with the ROM loader`;
  if (reached(name)) {
    try {
      await guard(loader.softReset(true), "softReset(true)");
      await guard(transport.disconnect(), "disconnect");
      const t2 = new Transport(port, process.env.ESPDESK_INTEROP_TRACE === "1");
      const l2 = new ESPLoader({ transport: t2, baudrate: 115200, terminal });
      await guard(l2.connect("no_reset", 3, false), "connect(no_reset)");
      tap.ok(l2.syncStubDetected === false, name,
        why("SYNC replies carried value 0: the stub, not the ROM, answered"));
      await guard(t2.disconnect(), "disconnect");
    } catch (err) {
      tap.ok(false, name, explain(err));
    }
  } else if (port.readable) {
    await guard(transport.disconnect(), "disconnect", 5000).catch(() => {});
  }

  const st = await sim.stop();
  tap.ok(st.code === 0 || st.signal === "SIGTERM", `${L}: espdesk-sim stops cleanly on SIGTERM`,
    `exit status ${st.code}, signal ${st.signal}\n${tail(sim.stderr())}`);
  checkFlashFile(sim, erased, `${L}: the flash file keeps the chip's contents after the simulator exits`);
}

async function main() {
  if (!fs.existsSync(SIM)) {
    tap.ok(false, "espdesk-sim is built", `${SIM} does not exist: build it (make) before running this test`);
    return;
  }
  const entry = path.join(MODULES, "esptool-js", "lib", "index.js");
  const esptool = await import(pathToFileURL(entry).href);
  const version = JSON.parse(fs.readFileSync(path.join(MODULES, "esptool-js", "package.json"), "utf8")).version;
  tap.diag(`esptool-js ${version} from ${entry}; simulator ${SIM}`);
  let seed = 0x8266;
  for (const run of RUNS) await oneRun(run, esptool, seed++);
}

main().catch((err) => {
  tap.ok(false, "esptool-js interop test ran to the end", err.stack || String(err));
}).finally(() => {
  process.exitCode = tap.failed ? 1 : 0;
  // esptool-js may leave a read loop polling a dead port; do not wait for it.
  setTimeout(() => process.exit(process.exitCode), 200).unref();
});
