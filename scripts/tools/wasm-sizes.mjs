// Which Go packages take the room in a wasm binary: `go tool nm` cannot
// read wasm, so this reads the code and name sections itself and sums the
// function body sizes by package. `make size-report` builds mezzo.wasm
// with the release flags but without -s -w (for the names) and runs it:
//   node scripts/tools/wasm-sizes.mjs <file.wasm> [top]
import { readFileSync } from 'node:fs';

const buf = readFileSync(process.argv[2]);
const top = Number(process.argv[3] ?? 40);
let pos = 8;
const u32 = () => { let r = 0, s = 0, b; do { b = buf[pos++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
let imported = 0, bodies = [], names = new Map();
while (pos < buf.length) {
  const id = buf[pos++]; const size = u32(); const end = pos + size;
  if (id === 2) { // imports: functions among them shift the function index space
    for (let n = u32(); n > 0; n--) { pos += u32(); pos += u32(); const kind = buf[pos++]; if (kind === 0) { u32(); imported++; } else if (kind === 1) { pos++; const f = u32(); u32(); if (f & 1) u32(); } else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); } else { pos += 2; } }
  } else if (id === 10) {
    for (let n = u32(), i = 0; i < n; i++) { const len = u32(); bodies.push(len); pos += len; }
  } else if (id === 0) {
    const nlen = u32(); const name = buf.toString('utf8', pos, pos + nlen); pos += nlen;
    if (name === 'name') {
      while (pos < end) { const sub = buf[pos++]; const sl = u32(); const se = pos + sl;
        if (sub === 1) for (let n = u32(); n > 0; n--) { const idx = u32(); const l = u32(); names.set(idx, buf.toString('utf8', pos, pos + l)); pos += l; }
        pos = se; }
    }
  }
  pos = end;
}
const byPkg = new Map();
let total = 0;
bodies.forEach((len, i) => {
  const fn = names.get(i + imported) ?? '?';
  // The name section spells "a/b.F" as "a_b.F"; a module path keeps its
  // first dot ("github.com_x_y.F"), so skip past a leading domain.
  const domain = fn.match(/^[a-z0-9-]+\.(com|org|net|io|dev|in)_/);
  const dot = fn.indexOf('.', domain ? domain[0].length : 0);
  const pkg = dot > 0 ? fn.slice(0, dot) : fn;
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + len);
  total += len;
});
console.log(`code: ${total} bytes in ${bodies.length} functions; data and other sections: ${buf.length - total} bytes`);
for (const [pkg, n] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(String(n).padStart(9), pkg);
