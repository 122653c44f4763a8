// tap.mjs: TAP output for the interop tests. tests/run-tests.sh counts the "ok" and "not ok"
// lines; diagnostics go out as "# " lines so no log text can pass for a result.
export class Tap {
  constructor(first = 1) {
    this.n = first - 1;
    this.failed = 0;
  }

  diag(text) {
    for (const line of String(text).split("\n")) process.stdout.write(`# ${line}\n`);
  }

  // One result. why: printed under a failure (what differed, where, what to do).
  ok(cond, name, why = "") {
    this.n++;
    if (cond) {
      process.stdout.write(`ok ${this.n} - ${name}\n`);
    } else {
      this.failed++;
      process.stdout.write(`not ok ${this.n} - ${name}\n`);
      if (why) this.diag(why);
    }
    return !!cond;
  }

  skip(name, reason) {
    this.n++;
    process.stdout.write(`ok ${this.n} - ${name} # SKIP ${reason}\n`);
  }
}

// First difference between two byte arrays, as a sentence, or "" when they are equal.
// base: the flash address of index 0, for the message.
export function firstDiff(got, want, base = 0) {
  const n = Math.min(got.length, want.length);
  let first = -1, count = 0;
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  const hex = (v) => v.toString(16).padStart(2, "0");
  const at = (i) => `0x${(base + i).toString(16).padStart(6, "0")}`;
  let msg = "";
  if (first >= 0) {
    const ctx = (a) => Array.from(a.slice(first, first + 16), hex).join(" ");
    msg = `${count} byte(s) differ, first at ${at(first)}: expected ${hex(want[first])}, got ${hex(got[first])}\n` +
      `  expected ${at(first)}: ${ctx(want)}\n  got      ${at(first)}: ${ctx(got)}`;
  }
  if (got.length !== want.length)
    msg += `${msg ? "\n" : ""}length differs: expected ${want.length} bytes, got ${got.length}`;
  return msg;
}
