/**
 * Generates the WebAssembly text of the SIMD kernels behind the Winograd convolutions in
 * `src/simd/`: a register-blocked f32 GEMM (plain and with the first operand transposed) and the
 * F(2x2, 3x3) input, output and output-gradient transforms. Every function works on byte offsets into
 * the memory it imports, which is the tfjs wasm backend's own heap, so tensors are used in place.
 *
 * `fma: true` emits `f32x4.relaxed_madd` (relaxed SIMD), `false` emits `f32x4.mul` + `f32x4.add`.
 */

const get = (n) => `(local.get ${n})`;
const set = (n, v) => `(local.set ${n} ${v})`;
const i32 = (v) => `(i32.const ${v})`;
const add = (a, b) => `(i32.add ${a} ${b})`;
const mul = (a, b) => `(i32.mul ${a} ${b})`;
const fadd = (a, b) => `(f32x4.add ${a} ${b})`;
const fsub = (a, b) => `(f32x4.sub ${a} ${b})`;
const load = (p, off = 0) => `(v128.load${off ? ` offset=${off}` : ''} ${p})`;
const store = (p, v, off = 0) => `(v128.store${off ? ` offset=${off}` : ''} ${p} ${v})`;
const madd = (fma, a, b, c) => (fma ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`);
const ZERO = '(v128.const i32x4 0 0 0 0)';

/** `while (cond) { body }` with fresh labels. */
let labelCount = 0;
function whileLoop(cond, body) {
  const id = labelCount++;
  return `(block $B${id} (loop $L${id} (br_if $B${id} (i32.eqz ${cond})) ${body.join(' ')} (br $L${id})))`;
}

/**
 * One MR x NR block of C: C[i..i+MR, j..j+NR] (+)= sum over k. `transA` reads A as K x M (A[k][i]),
 * four rows from one v128 load; otherwise A is M x K and each A[i][k] is a load-splat.
 */
function block(MR, NR, fma, transA) {
  const V = NR / 4;
  const acc = (r, h) => `$c${r}_${h}`;
  const out = [];
  // c pointer of this block
  out.push(set('$cp', add(add(get('$c'), mul(get('$i'), get('$ldc'))), `(i32.shl ${get('$j')} (i32.const 2))`)));
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < V; h++) {
      const p = r === 0 ? get('$cp') : add(get('$cp'), mul(i32(r), get('$ldc')));
      out.push(set(acc(r, h), `(if (result v128) ${get('$acc')} (then ${load(p, h * 16)}) (else ${ZERO}))`));
    }
  }
  out.push(set('$bq', add(get('$b'), `(i32.shl ${get('$j')} (i32.const 2))`)));
  if (transA) {
    out.push(set('$ap', add(get('$a'), `(i32.shl ${get('$i')} (i32.const 2))`)));
  } else {
    out.push(set('$ap', add(get('$a'), mul(get('$i'), get('$lda')))));
    for (let r = 1; r < MR; r++) out.push(set(`$ap${r}`, add(get('$ap'), mul(i32(r), get('$lda')))));
  }
  const body = [];
  for (let h = 0; h < V; h++) body.push(set(`$b${h}`, load(get('$bq'), h * 16)));
  if (transA) body.push(set('$av', load(get('$ap'))));
  for (let r = 0; r < MR; r++) {
    let a;
    if (transA) {
      const lane = [0, 1, 2, 3].map((q) => [4 * r, 4 * r + 1, 4 * r + 2, 4 * r + 3][q]);
      a = `(i8x16.shuffle ${[...lane, ...lane, ...lane, ...lane].join(' ')} ${get('$av')} ${get('$av')})`;
      body.push(set('$as', a));
    } else {
      const p = r === 0 ? '$ap' : `$ap${r}`;
      body.push(set('$as', `(v128.load32_splat ${get(p)})`));
      body.push(set(p, add(get(p), i32(4))));
    }
    for (let h = 0; h < V; h++) body.push(set(acc(r, h), madd(fma, get('$as'), get(`$b${h}`), get(acc(r, h)))));
  }
  if (transA) body.push(set('$ap', add(get('$ap'), get('$lda'))));
  body.push(set('$bq', add(get('$bq'), get('$ldb'))));
  out.push(set('$k', get('$K')));
  out.push(`(loop $K ${body.join(' ')} (br_if $K (local.tee $k (i32.sub ${get('$k')} (i32.const 1)))))`);
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < V; h++) out.push(store(get('$cp'), get(acc(r, h)), h * 16));
    if (r < MR - 1) out.push(set('$cp', add(get('$cp'), get('$ldc'))));
  }
  return out;
}

/**
 * gemm(a, lda, b, ldb, c, ldc, M, N, K, acc): C = A·B (acc = 0) or C += A·B, row-major, strides in bytes.
 * N must be a multiple of 4 and K ≥ 1. With `transA`, A is stored K x M and M must be a multiple of 4.
 */
function gemm(name, fma, transA) {
  const locals = ['$i i32', '$j i32', '$k i32', '$ap i32', '$bq i32', '$cp i32', '$av v128', '$as v128', '$b0 v128', '$b1 v128'];
  for (let r = 1; r < 4; r++) locals.push(`$ap${r} i32`);
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) locals.push(`$c${r}_${h} v128`);
  const rowBlock = (MR) => [
    set('$j', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$j')} (i32.const 8)) ${get('$N')})`, [...block(MR, 8, fma, transA), set('$j', add(get('$j'), i32(8)))]),
    whileLoop(`(i32.le_u (i32.add ${get('$j')} (i32.const 4)) ${get('$N')})`, [...block(MR, 4, fma, transA), set('$j', add(get('$j'), i32(4)))]),
    set('$i', add(get('$i'), i32(MR))),
  ];
  const body = [
    set('$i', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$i')} (i32.const 4)) ${get('$M')})`, rowBlock(4)),
  ];
  if (!transA) body.push(whileLoop(`(i32.lt_u ${get('$i')} ${get('$M')})`, rowBlock(1)));
  return `(func (export "${name}") (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $M i32) (param $N i32) (param $K i32) (param $acc i32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${body.join('\n')})`;
}

/** 1-D F(2,3) input transform Bᵀd on four vectors. */
const bt = (d) => [fsub(d[0], d[2]), fadd(d[1], d[2]), fsub(d[2], d[1]), fsub(d[1], d[3])];
/** 1-D F(2,3) output transform Aᵀm on four vectors (two results). */
const at = (m) => [fadd(fadd(m[0], m[1]), m[2]), fsub(fsub(m[1], m[2]), m[3])];
/** 1-D transpose of the output transform, A·g, on two vectors (four results). */
const a1 = (g) => [g[0], fadd(g[0], g[1]), fsub(g[0], g[1]), `(f32x4.neg ${g[1]})`];

/**
 * Shared tile walk: for image n in [n0, n0 + count), tile row th, tile column tw, with `t` the tile's index
 * within the chunk. `perTile` runs once per tile, `perChannel` for each group of four channels
 * (`$cb` = byte offset of the group).
 */
function tileWalk(perTile, perChannel) {
  return [
    set('$t', i32(0)),
    set('$n', get('$n0')),
    whileLoop(`(i32.lt_u ${get('$n')} (i32.add ${get('$n0')} ${get('$count')}))`, [
      set('$th', i32(0)),
      whileLoop(`(i32.lt_u ${get('$th')} ${get('$tilesH')})`, [
        set('$tw', i32(0)),
        whileLoop(`(i32.lt_u ${get('$tw')} ${get('$tilesW')})`, [
          ...perTile,
          set('$cb', i32(0)),
          whileLoop(`(i32.lt_u ${get('$cb')} ${get('$cbytes')})`, [...perChannel, set('$cb', add(get('$cb'), i32(16)))]),
          set('$t', add(get('$t'), i32(1))),
          set('$tw', add(get('$tw'), i32(1))),
        ]),
        set('$th', add(get('$th'), i32(1))),
      ]),
      set('$n', add(get('$n'), i32(1))),
    ]),
  ];
}

const tileLocals = ['$n i32', '$th i32', '$tw i32', '$t i32', '$cb i32', '$o i32', '$rowOk i32', '$ih i32', '$iw i32'];

/**
 * Source addresses of a (rows x cols) patch at (2th - padT, 2tw - padL) of an NHWC image, or `$zero` (a
 * zero buffer as long as a pixel) outside the image. Sets locals $p{r}_{q}.
 */
function patchAddresses(rows, cols, img, H, W) {
  const out = [];
  for (let r = 0; r < rows; r++) {
    out.push(set('$ih', add(`(i32.sub (i32.shl ${get('$th')} (i32.const 1)) ${get('$padT')})`, i32(r))));
    out.push(set('$rowOk', `(i32.lt_u ${get('$ih')} ${get(H)})`));
    for (let q = 0; q < cols; q++) {
      out.push(set('$iw', add(`(i32.sub (i32.shl ${get('$tw')} (i32.const 1)) ${get('$padL')})`, i32(q))));
      const addr = add(get(img), mul(add(mul(add(mul(get('$n'), get(H)), get('$ih')), get(W)), get('$iw')), get('$cbytes')));
      out.push(set(`$p${r}_${q}`, `(select ${addr} ${get('$zero')} (i32.and ${get('$rowOk')} (i32.lt_u ${get('$iw')} ${get(W)})))`));
    }
  }
  return out;
}

/**
 * winoIn(x, H, W, cbytes, padT, padL, n0, count, tilesH, tilesW, zero, v, vStride):
 * V[ξ][t][c] = (Bᵀ d B)[ξ] for the 4x4 patch d of tile t; ξ-planes `vStride` bytes apart.
 */
function winoIn() {
  const locals = [...tileLocals];
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) locals.push(`$p${r}_${q} i32`);
  const perTile = patchAddresses(4, 4, '$x', '$H', '$W');
  perTile.push(set('$o', add(get('$v'), mul(get('$t'), get('$cbytes')))));
  const d = [];
  for (let r = 0; r < 4; r++) d.push([0, 1, 2, 3].map((q) => load(add(get(`$p${r}_${q}`), get('$cb')))));
  // rows first: Bᵀ applied down each column, then across each row.
  const perChannel = [];
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) perChannel.push(set(`$d${r}_${q}`, d[r][q]));
  const cols = [0, 1, 2, 3].map((q) => bt([0, 1, 2, 3].map((r) => get(`$d${r}_${q}`))));
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) perChannel.push(set(`$e${r}_${q}`, cols[q][r]));
  for (let r = 0; r < 4; r++) {
    const row = bt([0, 1, 2, 3].map((q) => get(`$e${r}_${q}`)));
    for (let q = 0; q < 4; q++) {
      const xi = r * 4 + q;
      perChannel.push(store(add(add(get('$o'), get('$cb')), mul(i32(xi), get('$vStride'))), row[q]));
    }
  }
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) locals.push(`$d${r}_${q} v128`, `$e${r}_${q} v128`);
  return `(func (export "winoIn") (param $x i32) (param $H i32) (param $W i32) (param $cbytes i32) (param $padT i32) (param $padL i32) (param $n0 i32) (param $count i32) (param $tilesH i32) (param $tilesW i32) (param $zero i32) (param $v i32) (param $vStride i32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${tileWalk(perTile, perChannel).join('\n')})`;
}

/**
 * winoOut(m, mStride, cbytes, n0, count, tilesH, tilesW, y, outH, outW, bias, lo, hi):
 * the 2x2 output tile Aᵀ m A of tile t, plus `bias` (a per-channel vector; 0 for none), clamped to
 * [lo, hi] (±Infinity for none, 0 for ReLU), written to NHWC y where it lies inside (outH, outW).
 */
function winoOut() {
  const locals = [...tileLocals, '$okR i32', '$okC i32', '$yp i32', '$bv v128', '$lov v128', '$hiv v128'];
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) locals.push(`$m${r}_${q} v128`);
  for (let r = 0; r < 2; r++) for (let q = 0; q < 4; q++) locals.push(`$s${r}_${q} v128`);
  const perTile = [
    set('$o', add(get('$m'), mul(get('$t'), get('$cbytes')))),
    set('$ih', `(i32.shl ${get('$th')} (i32.const 1))`),
    set('$iw', `(i32.shl ${get('$tw')} (i32.const 1))`),
    set('$okR', `(i32.lt_u (i32.add ${get('$ih')} (i32.const 1)) ${get('$outH')})`),
    set('$okC', `(i32.lt_u (i32.add ${get('$iw')} (i32.const 1)) ${get('$outW')})`),
    set('$yp', add(get('$y'), mul(add(mul(add(mul(get('$n'), get('$outH')), get('$ih')), get('$outW')), get('$iw')), get('$cbytes')))),
  ];
  const perChannel = [set('$bv', `(if (result v128) ${get('$bias')} (then ${load(add(get('$bias'), get('$cb')))}) (else ${ZERO}))`)];
  for (let r = 0; r < 4; r++) {
    for (let q = 0; q < 4; q++) {
      perChannel.push(set(`$m${r}_${q}`, load(add(add(get('$o'), get('$cb')), mul(i32(r * 4 + q), get('$mStride'))))));
    }
  }
  const cols = [0, 1, 2, 3].map((q) => at([0, 1, 2, 3].map((r) => get(`$m${r}_${q}`))));
  for (let r = 0; r < 2; r++) for (let q = 0; q < 4; q++) perChannel.push(set(`$s${r}_${q}`, cols[q][r]));
  const rowBytes = mul(get('$outW'), get('$cbytes'));
  for (let r = 0; r < 2; r++) {
    const y = at([0, 1, 2, 3].map((q) => get(`$s${r}_${q}`))).map(
      (v) => `(f32x4.min (f32x4.max ${fadd(v, get('$bv'))} ${get('$lov')}) ${get('$hiv')})`,
    );
    const base = r === 0 ? add(get('$yp'), get('$cb')) : add(add(get('$yp'), get('$cb')), rowBytes);
    const st0 = store(base, y[0]);
    const st1 = store(add(base, get('$cbytes')), y[1]);
    const stores = `${st0} (if ${get('$okC')} (then ${st1}))`;
    perChannel.push(r === 0 ? stores : `(if ${get('$okR')} (then ${stores}))`);
  }
  return `(func (export "winoOut") (param $m i32) (param $mStride i32) (param $cbytes i32) (param $n0 i32) (param $count i32) (param $tilesH i32) (param $tilesW i32) (param $y i32) (param $outH i32) (param $outW i32) (param $bias i32) (param $lo f32) (param $hi f32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${set('$lov', `(f32x4.splat ${get('$lo')})`)} ${set('$hiv', `(f32x4.splat ${get('$hi')})`)}
    ${tileWalk(perTile, perChannel).join('\n')})`;
}

/**
 * winoGradOut(dy, outH, outW, cbytes, n0, count, tilesH, tilesW, zero, dm, dmStride):
 * dM[ξ][t][c] = (A g Aᵀ)[ξ] for the 2x2 tile g of dy (zero outside it), the adjoint of winoOut.
 */
function winoGradOut() {
  const locals = [...tileLocals, '$padT i32', '$padL i32'];
  for (let r = 0; r < 2; r++) for (let q = 0; q < 2; q++) locals.push(`$p${r}_${q} i32`, `$g${r}_${q} v128`);
  for (let r = 0; r < 4; r++) for (let q = 0; q < 2; q++) locals.push(`$u${r}_${q} v128`);
  const perTile = [...patchAddresses(2, 2, '$dy', '$outH', '$outW'), set('$o', add(get('$dm'), mul(get('$t'), get('$cbytes'))))];
  const perChannel = [];
  for (let r = 0; r < 2; r++) for (let q = 0; q < 2; q++) perChannel.push(set(`$g${r}_${q}`, load(add(get(`$p${r}_${q}`), get('$cb')))));
  const cols = [0, 1].map((q) => a1([0, 1].map((r) => get(`$g${r}_${q}`))));
  for (let r = 0; r < 4; r++) for (let q = 0; q < 2; q++) perChannel.push(set(`$u${r}_${q}`, cols[q][r]));
  for (let r = 0; r < 4; r++) {
    const row = a1([0, 1].map((q) => get(`$u${r}_${q}`)));
    for (let q = 0; q < 4; q++) perChannel.push(store(add(add(get('$o'), get('$cb')), mul(i32(r * 4 + q), get('$dmStride'))), row[q]));
  }
  return `(func (export "winoGradOut") (param $dy i32) (param $outH i32) (param $outW i32) (param $cbytes i32) (param $n0 i32) (param $count i32) (param $tilesH i32) (param $tilesW i32) (param $zero i32) (param $dm i32) (param $dmStride i32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${tileWalk(perTile, perChannel).join('\n')})`;
}

/**
 * Visits every (output pixel, filter tap) pair of a depthwise window whose tap falls inside the image,
 * with `$xp` (the input pixel), `$dyp` (the output pixel) and `$tp` (the tap's row of the filter) as byte
 * offsets, and runs `perChannel` for each group of four channels (`$cb`). Multiplier 1 only.
 */
function depthwiseWalk(name, perChannel) {
  const locals = ['$n i32', '$oh i32', '$ow i32', '$r i32', '$c i32', '$ih i32', '$iw i32', '$xp i32', '$dyp i32', '$tp i32', '$cb i32', '$v v128'];
  const body = [
    set('$n', i32(0)),
    whileLoop(`(i32.lt_u ${get('$n')} ${get('$batch')})`, [
      set('$oh', i32(0)),
      whileLoop(`(i32.lt_u ${get('$oh')} ${get('$outH')})`, [
        set('$ow', i32(0)),
        whileLoop(`(i32.lt_u ${get('$ow')} ${get('$outW')})`, [
          set('$dyp', add(get('$dy'), mul(add(mul(add(mul(get('$n'), get('$outH')), get('$oh')), get('$outW')), get('$ow')), get('$cbytes')))),
          set('$r', i32(0)),
          whileLoop(`(i32.lt_u ${get('$r')} ${get('$kh')})`, [
            set('$ih', `(i32.sub ${add(mul(get('$oh'), get('$sh')), mul(get('$r'), get('$dh')))} ${get('$padT')})`),
            `(if (i32.lt_u ${get('$ih')} ${get('$H')}) (then ${[
              set('$c', i32(0)),
              whileLoop(`(i32.lt_u ${get('$c')} ${get('$kw')})`, [
                set('$iw', `(i32.sub ${add(mul(get('$ow'), get('$sw')), mul(get('$c'), get('$dw')))} ${get('$padL')})`),
                `(if (i32.lt_u ${get('$iw')} ${get('$W')}) (then ${[
                  set('$xp', add(get('$x'), mul(add(mul(add(mul(get('$n'), get('$H')), get('$ih')), get('$W')), get('$iw')), get('$cbytes')))),
                  set('$tp', add(get('$t'), mul(add(mul(get('$r'), get('$kw')), get('$c')), get('$cbytes')))),
                  set('$cb', i32(0)),
                  whileLoop(`(i32.lt_u ${get('$cb')} ${get('$cbytes')})`, [...perChannel, set('$cb', add(get('$cb'), i32(16)))]),
                ].join(' ')}))`,
                set('$c', add(get('$c'), i32(1))),
              ]),
            ].join(' ')}))`,
            set('$r', add(get('$r'), i32(1))),
          ]),
          set('$ow', add(get('$ow'), i32(1))),
        ]),
        set('$oh', add(get('$oh'), i32(1))),
      ]),
      set('$n', add(get('$n'), i32(1))),
    ]),
  ];
  return `(func (export "${name}") (param $x i32) (param $H i32) (param $W i32) (param $cbytes i32) (param $dy i32) (param $outH i32) (param $outW i32) (param $batch i32) (param $t i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $padT i32) (param $padL i32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${body.join('\n')})`;
}

/**
 * depthwiseFilterGrad(x, H, W, cbytes, dy, outH, outW, batch, t, kh, kw, sh, sw, dh, dw, padT, padL):
 * t[tap][c] += x[input pixel][c] · dy[output pixel][c] over every window tap (t must start zeroed).
 */
function depthwiseFilterGrad(fma) {
  const at = (p) => add(get(p), get('$cb'));
  return depthwiseWalk('depthwiseFilterGrad', [store(at('$tp'), madd(fma, load(at('$xp')), load(at('$dyp')), load(at('$tp'))))]);
}

/**
 * depthwiseInputGrad(dx, H, W, cbytes, dy, outH, outW, batch, w, kh, kw, sh, sw, dh, dw, padT, padL):
 * dx[input pixel][c] += w[tap][c] · dy[output pixel][c] over every window tap (dx must start zeroed).
 */
function depthwiseInputGrad(fma) {
  const at = (p) => add(get(p), get('$cb'));
  return depthwiseWalk('depthwiseInputGrad', [store(at('$xp'), madd(fma, load(at('$tp')), load(at('$dyp')), load(at('$xp'))))]);
}

/**
 * compare<op>(a, b, out, n, bStep): out[i] = a[i] <op> b[i or 0] ? 1 : 0 for float32 a, b and a bool
 * (one byte) out, 16 elements a step; the caller finishes the last n % 16. `bStep` is 16 when b has n
 * elements and 0 when it is a scalar.
 */
function compare(name, op) {
  const locals = ['$i i32', '$m0 v128', '$m1 v128', '$m2 v128', '$m3 v128', '$bv v128'];
  const operand = (k) => `(if (result v128) ${get('$bStep')} (then ${load(add(get('$b'), `(i32.shl ${add(get('$i'), i32(4 * k))} (i32.const 2))`))}) (else (v128.load32_splat ${get('$b')})))`;
  const body = [
    set('$i', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$i')} (i32.const 16)) ${get('$n')})`, [
      ...[0, 1, 2, 3].map((k) => set(`$m${k}`, `(${op} ${load(add(get('$a'), `(i32.shl ${add(get('$i'), i32(4 * k))} (i32.const 2))`))} ${operand(k)})`)),
      store(
        add(get('$out'), get('$i')),
        `(v128.and (i8x16.narrow_i16x8_s (i16x8.narrow_i32x4_s ${get('$m0')} ${get('$m1')}) (i16x8.narrow_i32x4_s ${get('$m2')} ${get('$m3')})) (i8x16.splat (i32.const 1)))`,
      ),
      set('$i', add(get('$i'), i32(16))),
    ]),
  ];
  return `(func (export "${name}") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $bStep i32)
    ${locals.map((l) => `(local ${l})`).join(' ')}
    ${body.join('\n')})`;
}

/** logicalAnd(a, b, out, n, bStep): bytes, 16 a step (0/1 inputs); the caller finishes n % 16. */
function logicalAnd() {
  const body = [
    set('$i', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$i')} (i32.const 16)) ${get('$n')})`, [
      store(
        add(get('$out'), get('$i')),
        `(v128.and ${load(add(get('$a'), get('$i')))} (if (result v128) ${get('$bStep')} (then ${load(add(get('$b'), get('$i')))}) (else (i8x16.splat (i32.load8_u ${get('$b')})))))`,
      ),
      set('$i', add(get('$i'), i32(16))),
    ]),
  ];
  return `(func (export "logicalAnd") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $bStep i32) (local $i i32)
    ${body.join('\n')})`;
}

/**
 * select(cond, a, b, out, n): out[i] = cond[i] ? a[i] : b[i] for a bool cond and float32 a, b, out,
 * 4 elements a step; the caller finishes n % 4.
 */
function select() {
  const mask = `(i32x4.ne (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero ${add(get('$cond'), get('$i'))}))) ${ZERO})`;
  const at = (p) => add(get(p), `(i32.shl ${get('$i')} (i32.const 2))`);
  const body = [
    set('$i', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$i')} (i32.const 4)) ${get('$n')})`, [
      store(at('$out'), `(v128.bitselect ${load(at('$a'))} ${load(at('$b'))} ${mask})`),
      set('$i', add(get('$i'), i32(4))),
    ]),
  ];
  return `(func (export "select") (param $cond i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32) (local $i i32)
    ${body.join('\n')})`;
}

/**
 * clamp(x, out, n, lo, hi): out[i] = min(max(x[i], lo), hi), 4 elements a step; the caller finishes n % 4.
 * WebAssembly's f32x4.min/max return NaN when either operand is NaN, so NaN passes through as it does on
 * the cpu backend (XNNPACK's clamps turn it into a bound). `out` may equal `x`.
 */
function clamp() {
  const at = (p) => add(get(p), `(i32.shl ${get('$i')} (i32.const 2))`);
  const body = [
    set('$lov', `(f32x4.splat ${get('$lo')})`),
    set('$hiv', `(f32x4.splat ${get('$hi')})`),
    set('$i', i32(0)),
    whileLoop(`(i32.le_u (i32.add ${get('$i')} (i32.const 4)) ${get('$n')})`, [
      store(at('$out'), `(f32x4.min (f32x4.max ${load(at('$x'))} ${get('$lov')}) ${get('$hiv')})`),
      set('$i', add(get('$i'), i32(4))),
    ]),
  ];
  return `(func (export "clamp") (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32) (local $i i32) (local $lov v128) (local $hiv v128)
    ${body.join('\n')})`;
}

/** The whole module's text. */
export function simdModuleWat(fma) {
  labelCount = 0;
  return `(module (import "env" "memory" (memory 1))
${gemm('gemm', fma, false)}
${gemm('gemmTA', fma, true)}
${winoIn()}
${winoOut()}
${winoGradOut()}
${depthwiseFilterGrad(fma)}
${depthwiseInputGrad(fma)}
${compare('greaterEqual', 'f32x4.ge')}
${compare('lessEqual', 'f32x4.le')}
${compare('greater', 'f32x4.gt')}
${compare('less', 'f32x4.lt')}
${logicalAnd()}
${select()}
${clamp()})`;
}
