// Source Map v3's base64 VLQ segments, read and written: the build moves
// columns after an insertion (build-loaders.mjs), the bundle test reads
// mappings back (scripts/test/node/bundles.test.mjs).

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** decodeVlq reads one source map segment (Source Map v3's base64 VLQ) into its numbers. */
export function decodeVlq(segment) {
  const out = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64.indexOf(ch);
    if (digit < 0) throw new Error(`source map: ${JSON.stringify(ch)} is no base64 VLQ digit`);
    value += (digit & 31) << shift;
    if (digit & 32) { shift += 5; continue; }
    out.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return out;
}

/** encodeVlq writes numbers as one source map segment. */
export function encodeVlq(numbers) {
  let out = '';
  for (const n of numbers) {
    let v = n < 0 ? (-n << 1) | 1 : n << 1;
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      out += B64[digit];
    } while (v > 0);
  }
  return out;
}

/**
 * mappedTokens yields, for every mapping of map over code, the generated
 * text and the original text at that point (width characters of each).
 */
export function* mappedTokens(code, map, width) {
  const lines = code.split('\n');
  const sources = map.sourcesContent.map((t) => t.split('\n'));
  let source = 0;
  let line = 0;
  let column = 0;
  const rows = map.mappings.split(';');
  for (let row = 0; row < rows.length; row++) {
    let generated = 0;
    for (const segment of rows[row].split(',')) {
      if (segment === '') continue;
      const f = decodeVlq(segment);
      generated += f[0];
      if (f.length < 4) continue;
      source += f[1];
      line += f[2];
      column += f[3];
      yield { generated: lines[row].slice(generated, generated + width), original: (sources[source][line] ?? '').slice(column, column + width) };
    }
  }
}
