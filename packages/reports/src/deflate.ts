/**
 * A small zlib encoder (RFC 1950 around one RFC 1951 block: hash-chain LZ77, then Huffman codes
 * built for the data), so PNGs are encoded the same way in Node and in a browser without
 * node:zlib. On report.html's images it comes within a few per cent of node:zlib's default level.
 */

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists the code-length code's lengths (RFC 1951 3.2.7). */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const WINDOW = 32768;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
const MAX_CHAIN = 64;
const HASH_SIZE = 1 << 15;
const END_OF_BLOCK = 256;

class BitWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private bitBuffer = 0;
  private bitCount = 0;

  /** Writes `count` bits of `value`, least significant first (deflate's order for everything but Huffman codes). */
  bits(value: number, count: number): void {
    this.bitBuffer |= value << this.bitCount;
    this.bitCount += count;
    while (this.bitCount >= 8) {
      this.byte(this.bitBuffer & 0xff);
      this.bitBuffer >>>= 8;
      this.bitCount -= 8;
    }
  }

  /** Writes a Huffman code, most significant bit first. */
  code(value: number, count: number): void {
    let reversed = 0;
    for (let i = 0; i < count; i++) reversed |= ((value >>> i) & 1) << (count - 1 - i);
    this.bits(reversed, count);
  }

  byte(value: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = value;
  }

  finish(): Uint8Array {
    if (this.bitCount > 0) this.bits(0, 8 - this.bitCount);
    return this.bytes.slice(0, this.length);
  }
}

function indexBelow(table: readonly number[], value: number): number {
  let i = table.length - 1;
  while (table[i]! > value) i--;
  return i;
}

/** LZ77 tokens: `distances[k] === 0` means `values[k]` is a literal byte, else a match of that length. */
function lz77(data: Uint8Array): { values: number[]; distances: number[] } {
  const values: number[] = [];
  const distances: number[] = [];
  const head = new Int32Array(HASH_SIZE).fill(-1);
  const previous = new Int32Array(WINDOW);
  const hash = (i: number): number => ((data[i]! << 10) ^ (data[i + 1]! << 5) ^ data[i + 2]!) & (HASH_SIZE - 1);
  const insert = (i: number): void => {
    if (i + MIN_MATCH > data.length) return;
    const h = hash(i);
    previous[i % WINDOW] = head[h]!;
    head[h] = i;
  };
  let i = 0;
  while (i < data.length) {
    let bestLength = 0;
    let bestDistance = 0;
    if (i + MIN_MATCH <= data.length) {
      const limit = Math.min(MAX_MATCH, data.length - i);
      let candidate = head[hash(i)]!;
      for (let chain = 0; candidate >= 0 && i - candidate <= WINDOW && chain < MAX_CHAIN; chain++) {
        let length = 0;
        while (length < limit && data[candidate + length] === data[i + length]) length++;
        if (length > bestLength) {
          bestLength = length;
          bestDistance = i - candidate;
          if (length === limit) break;
        }
        const next = previous[candidate % WINDOW]!;
        if (next >= candidate) break; // the slot was reused by a newer position
        candidate = next;
      }
    }
    if (bestLength >= MIN_MATCH) {
      values.push(bestLength);
      distances.push(bestDistance);
      for (let k = 0; k < bestLength; k++) insert(i + k);
      i += bestLength;
    } else {
      values.push(data[i]!);
      distances.push(0);
      insert(i);
      i++;
    }
  }
  return { values, distances };
}

/** Huffman code lengths for `frequencies`, none longer than `maxBits` (frequencies are halved until they fit). */
function codeLengths(frequencies: readonly number[], maxBits: number): number[] {
  let weights = frequencies.slice();
  // A code with a single symbol is valid for inflaters only in special cases: always give it two.
  if (weights.filter((w) => w > 0).length < 2) weights = weights.map((w, s) => (s < 2 ? Math.max(w, 1) : w));
  for (;;) {
    type Node = { weight: number; symbol?: number; children?: [Node, Node] };
    // Two queues: sorted leaves, and merged nodes (which come out in non-decreasing weight).
    const leaves: Node[] = weights.flatMap((weight, symbol) => (weight > 0 ? [{ weight, symbol }] : [])).sort((a, b) => a.weight - b.weight);
    const merged: Node[] = [];
    let leaf = 0;
    let inner = 0;
    const lightest = (): Node =>
      inner >= merged.length || (leaf < leaves.length && leaves[leaf]!.weight <= merged[inner]!.weight) ? leaves[leaf++]! : merged[inner++]!;
    while (leaves.length - leaf + merged.length - inner > 1) {
      const a = lightest();
      const b = lightest();
      merged.push({ weight: a.weight + b.weight, children: [a, b] });
    }
    const root = merged.length > 0 ? merged[merged.length - 1]! : leaves[0]!;
    const lengths = new Array<number>(weights.length).fill(0);
    const walk = (node: Node, depth: number): void => {
      if (node.children) node.children.forEach((child) => walk(child, depth + 1));
      else lengths[node.symbol!] = depth;
    };
    walk(root, 0);
    if (Math.max(...lengths) <= maxBits) return lengths;
    weights = weights.map((w) => (w === 0 ? 0 : Math.max(1, w >> 1)));
  }
}

/** Canonical codes for code lengths (RFC 1951 3.2.2). */
function canonicalCodes(lengths: readonly number[]): number[] {
  const maxBits = Math.max(...lengths);
  const count = new Array<number>(maxBits + 1).fill(0);
  for (const l of lengths) if (l > 0) count[l]!++;
  const next = new Array<number>(maxBits + 1).fill(0);
  for (let bits = 1, code = 0; bits <= maxBits; bits++) {
    code = (code + count[bits - 1]!) << 1;
    next[bits] = code;
  }
  return lengths.map((l) => (l > 0 ? next[l]!++ : 0));
}

/** The code-length sequence run-length encoded with symbols 16 (repeat), 17 and 18 (zeros): [symbol, extra] pairs. */
function runLengths(lengths: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < lengths.length; ) {
    const value = lengths[i]!;
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === value) run++;
    if (value === 0 && run >= 3) {
      const n = Math.min(run, 138);
      out.push(n >= 11 ? [18, n - 11] : [17, n - 3]);
      i += n;
    } else if (value !== 0 && run >= 4) {
      out.push([value, 0]);
      const n = Math.min(run - 1, 6);
      out.push([16, n - 3]);
      i += 1 + n;
    } else {
      out.push([value, 0]);
      i++;
    }
  }
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** `data` as a zlib stream (what node:zlib's `deflateSync` returns, though not byte-identical). */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  const { values, distances } = lz77(data);
  const literalFrequencies = new Array<number>(286).fill(0);
  const distanceFrequencies = new Array<number>(30).fill(0);
  literalFrequencies[END_OF_BLOCK] = 1;
  values.forEach((value, k) => {
    if (distances[k] === 0) literalFrequencies[value]!++;
    else {
      literalFrequencies[257 + indexBelow(LENGTH_BASE, value)]!++;
      distanceFrequencies[indexBelow(DISTANCE_BASE, distances[k]!)]!++;
    }
  });
  const literalLengths = codeLengths(literalFrequencies, 15);
  const distanceLengths = codeLengths(distanceFrequencies, 15);
  const literalCount = Math.max(257, literalLengths.findLastIndex((l) => l > 0) + 1);
  const distanceCount = Math.max(1, distanceLengths.findLastIndex((l) => l > 0) + 1);
  const lengthRuns = runLengths([...literalLengths.slice(0, literalCount), ...distanceLengths.slice(0, distanceCount)]);
  const runFrequencies = new Array<number>(19).fill(0);
  for (const [symbol] of lengthRuns) runFrequencies[symbol]!++;
  const runLengthsOfCode = codeLengths(runFrequencies, 7);
  const runCodes = canonicalCodes(runLengthsOfCode);
  const orderCount = Math.max(4, CODE_LENGTH_ORDER.findLastIndex((s) => runLengthsOfCode[s]! > 0) + 1);

  const out = new BitWriter();
  out.byte(0x78); // deflate, 32 KiB window
  out.byte(0x01); // no dictionary, fastest-level flag; the header checksum makes 0x7801 divisible by 31
  out.bits(1, 1); // final block
  out.bits(2, 2); // dynamic Huffman codes
  out.bits(literalCount - 257, 5);
  out.bits(distanceCount - 1, 5);
  out.bits(orderCount - 4, 4);
  for (let k = 0; k < orderCount; k++) out.bits(runLengthsOfCode[CODE_LENGTH_ORDER[k]!]!, 3);
  for (const [symbol, extra] of lengthRuns) {
    out.code(runCodes[symbol]!, runLengthsOfCode[symbol]!);
    if (symbol === 16) out.bits(extra, 2);
    else if (symbol === 17) out.bits(extra, 3);
    else if (symbol === 18) out.bits(extra, 7);
  }
  const literalCodes = canonicalCodes(literalLengths);
  const distanceCodes = canonicalCodes(distanceLengths);
  values.forEach((value, k) => {
    const distance = distances[k]!;
    if (distance === 0) {
      out.code(literalCodes[value]!, literalLengths[value]!);
      return;
    }
    const l = indexBelow(LENGTH_BASE, value);
    out.code(literalCodes[257 + l]!, literalLengths[257 + l]!);
    out.bits(value - LENGTH_BASE[l]!, LENGTH_EXTRA[l]!);
    const d = indexBelow(DISTANCE_BASE, distance);
    out.code(distanceCodes[d]!, distanceLengths[d]!);
    out.bits(distance - DISTANCE_BASE[d]!, DISTANCE_EXTRA[d]!);
  });
  out.code(literalCodes[END_OF_BLOCK]!, literalLengths[END_OF_BLOCK]!);
  const body = out.finish();
  const checksum = adler32(data);
  const result = new Uint8Array(body.length + 4);
  result.set(body);
  result.set([checksum >>> 24, (checksum >>> 16) & 0xff, (checksum >>> 8) & 0xff, checksum & 0xff], body.length);
  return result;
}
