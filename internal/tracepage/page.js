"use strict";
// The trace page: draws the data in #trace-data (see page.go) with canvas.
// Every string from the data goes into the page with textContent.
(function () {
  const D = JSON.parse(document.getElementById("trace-data").textContent);
  const toNum = (v) => (typeof v === "string" ? Number(v) : v);
  const prep = (t) => {
    if (t) t.d = Float64Array.from(t.data, toNum);
    return t;
  };
  prep(D.input);
  prep(D.targets);
  for (const L of D.layers) {
    prep(L.output);
    prep(L.grad_output);
    prep(L.grad_input);
    for (const p of L.params) {
      prep(p.value);
      prep(p.grad);
    }
  }
  const N = D.samples || 1;
  let S = 0; // the sample shown

  // ---- numbers
  // DIGITS is the significant digits of the numbers written out (the loss,
  // the values and formulas on hover): --digits or trace.digits, as the
  // text trace prints them.
  const DIGITS = D.digits > 0 ? D.digits : 6;
  // fmtG writes v as Go's strconv.FormatFloat(v, 'g', d, 64) does (the
  // text trace's %g): d significant digits, rounded half to even, trailing
  // zeros dropped, an exponent of two digits or more when it is below -4
  // or at least d; -0 as 0.
  function fmtG(v, d) {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "+Inf";
    if (v === -Infinity) return "-Inf";
    if (v === 0) return "0";
    const [digs, nd, exp] = digitsOf(v, d);
    const dp = exp + 1;
    const sign = v < 0 ? "-" : "";
    let eprec = d;
    if (eprec > nd && nd >= dp) eprec = nd;
    if (exp < -4 || exp >= eprec) {
      const p = Math.min(d, nd);
      return sign + digs[0] + (p > 1 ? "." + digs.slice(1, p) : "") + expText(exp);
    }
    const p = d > dp ? nd : d, frac = Math.max(p - dp, 0);
    const at = (j) => (j >= 0 && j < nd ? digs[j] : "0");
    let s = "";
    if (dp > 0) for (let j = 0; j < dp; j++) s += at(j);
    else s = "0";
    if (frac > 0) {
      s += ".";
      for (let i = 1; i <= frac; i++) s += at(dp + i - 1);
    }
    return sign + s;
  }
  // fmtE writes a finite, non-zero v as Go's strconv.FormatFloat(v, 'e', p,
  // 64) does: p digits after the point (trailing zeros kept), rounded half
  // to even, an exponent of two digits or more.
  function fmtE(v, p) {
    const [digs, , exp] = digitsOf(v, p + 1);
    const all = digs.padEnd(p + 1, "0");
    return (v < 0 ? "-" : "") + all[0] + (p > 0 ? "." + all.slice(1) : "") + expText(exp);
  }
  const expText = (exp) => "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  // digitsOf rounds |v| (finite, non-zero) to d significant digits, half to
  // even, from its exact decimal digits: [the digits, trailing zeros
  // dropped (at least one); how many; the decimal exponent].
  function digitsOf(v, d) {
    // the exact decimal digits of |v| (to 101), rounded to d below
    const [m, ex] = Math.abs(v).toExponential(100).split("e");
    const all = m.replace(".", "");
    let exp = Number(ex);
    const ds = all.slice(0, d).split("").map(Number);
    const rest = all.slice(d);
    if (rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || ds[d - 1] % 2 === 1))) {
      let i = d - 1;
      for (; i >= 0 && ds[i] === 9; i--) ds[i] = 0;
      if (i >= 0) ds[i]++;
      else {
        ds.unshift(1);
        ds.pop();
        exp++;
      }
    }
    let nd = ds.length;
    while (nd > 1 && ds[nd - 1] === 0) nd--;
    return [ds.slice(0, nd).join(""), nd, exp];
  }
  // num writes a value with DIGITS digits; term does too, a negative one
  // in parentheses (a term of a formula).
  const num = (v) => fmtG(v, DIGITS);
  const term = (v) => (Number.isFinite(v) && v < 0 ? "(" + num(v) + ")" : num(v));
  // CELL is the significant digits of a value written in a cell or a
  // legend: 3, fewer when DIGITS are fewer (as the PNG writes them).
  const CELL = Math.min(3, DIGITS);
  const short = (v) => {
    if (!Number.isFinite(v)) return num(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1000 || a < 0.001) return fmtE(v, Math.min(1, CELL - 1));
    return fmtG(v, CELL);
  };
  const prod = (a) => a.reduce((x, y) => x * y, 1);
  const maxAbs = (d) => {
    let m = 0;
    for (const v of d) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
    return m;
  };
  const unravel = (i, shape) => {
    const r = [];
    for (let k = shape.length - 1; k >= 0; k--) {
      r.unshift(i % shape[k]);
      i = Math.floor(i / shape[k]);
    }
    return r;
  };
  const idx = (i, shape) => "[" + unravel(i, shape).join(",") + "]";
  // per sample slice of a batched tensor
  const sample = (t) => {
    if (!t) return null;
    const per = t.d.length / (t.shape[0] || 1);
    return t.d.subarray(S * per, (S + 1) * per);
  };
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  const terms = (list, max, fmt) => {
    if (list.length === 0) return "(no terms) 0";
    if (list.length > max) return "(a sum of " + list.length + " terms)";
    return list.map(fmt).join(" + ");
  };

  // ---- colours: diverging blue - white - red, scaled by m
  function colour(v, m) {
    if (!Number.isFinite(v)) return [255, 0, 255];
    const t = m > 0 ? Math.max(-1, Math.min(1, v / m)) : 0;
    const end = t < 0 ? [33, 102, 172] : [178, 24, 43];
    const a = Math.abs(t);
    return [255 + (end[0] - 255) * a, 255 + (end[1] - 255) * a, 255 + (end[2] - 255) * a].map(Math.round);
  }
  const textColour = (v, m) => (m > 0 && Math.abs(v) / m > 0.6 ? "#fff" : "#111");

  // fitText writes s centred at (x, y) in at most w pixels, with a font
  // of size px or smaller.
  const MONO = "px ui-monospace, DejaVu Sans Mono, monospace";
  function fitText(ctx, v, x, y, w, px) {
    let s = short(v);
    ctx.font = px + MONO;
    let tw = ctx.measureText(s).width;
    if (tw > w && Math.floor((px * w) / tw) < 9) {
      s = shorter(v);
      tw = ctx.measureText(s).width;
    }
    if (tw > w) ctx.font = Math.max(7, Math.floor((px * w) / tw)) + MONO;
    ctx.fillText(s, x, y);
  }
  // shorter: 2 significant digits (at most CELL), no leading zero (".0039")
  const shorter = (v) => {
    if (!Number.isFinite(v) || v === 0) return short(v);
    const a = Math.abs(v);
    const s = a >= 1000 || a < 0.001 ? fmtE(v, Math.min(1, Math.min(2, CELL) - 1)) : fmtG(v, Math.min(2, CELL));
    return s.replace(/^(-?)0\./, "$1.");
  };

  // ---- tooltip
  const tip = document.getElementById("tip");
  function showTip(e, lines) {
    tip.textContent = lines.join("\n");
    tip.hidden = false;
    const x = e.clientX + 14, y = e.clientY + 14;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + "px";
    tip.style.top = (y + h > window.innerHeight ? Math.max(0, e.clientY - h - 10) : y) + "px";
  }
  const hideTip = () => (tip.hidden = true);

  // ---- layout of a per-sample shape as planes in a grid
  function layoutOf(shape) {
    const n = prod(shape);
    if (shape.length === 3) {
      const C = shape[0], gc = C <= 4 ? C : Math.ceil(Math.sqrt(C));
      return { ph: shape[1], pw: shape[2], planes: C, gc: gc, gr: Math.ceil(C / gc), n: n };
    }
    if (shape.length === 4 && shape[1] === 1) return layoutOf([shape[0], shape[2], shape[3]]);
    if (shape.length === 4) return { ph: shape[2], pw: shape[3], planes: shape[0] * shape[1], gc: shape[1], gr: shape[0], n: n };
    if (shape.length === 2) return { ph: shape[0], pw: shape[1], planes: 1, gc: 1, gr: 1, n: n };
    if (n <= 40) return { ph: 1, pw: n, planes: 1, gc: 1, gr: 1, n: n };
    const cols = Math.ceil(Math.sqrt(n));
    return { ph: Math.ceil(n / cols), pw: cols, planes: 1, gc: 1, gr: 1, n: n, wrapped: true };
  }

  // scaleFor sizes a grid of tw x th cells in at most maxPx pixels each
  // way: square cells of up to 44 pixels (whole pixels from 3 up), or,
  // when a side has more cells than pixels, that side downscaled.
  function scaleFor(tw, th, maxPx) {
    let kx = Math.min(44, maxPx / tw), ky = Math.min(44, maxPx / th);
    if (kx >= 1 && ky >= 1) {
      let k = Math.min(kx, ky);
      if (k >= 3) k = Math.floor(k);
      if (th * k < 8) ky = Math.min(44, 8 / th); // a thin strip stays visible
      else ky = k;
      kx = k;
    } else if (kx < 1 && ky >= 1) ky = Math.min(ky, 2);
    else if (ky < 1 && kx >= 1) kx = Math.min(kx, 2);
    return { kx: kx, ky: ky, w: Math.max(1, Math.round(tw * kx)), h: Math.max(1, Math.round(th * ky)) };
  }

  // panel draws one tensor (one sample's values d, shaped shape) as a
  // heatmap; opt: cap, sub, scale, maxPx, hover(i) -> lines, onHover(i|null)
  function panel(opt) {
    const box = el("div", "panel");
    box.appendChild(el("div", "cap", opt.cap));
    const lay = layoutOf(opt.shape);
    let sub = "(" + opt.shape.join(", ") + ")";
    if (lay.wrapped) sub += ", drawn in rows of " + lay.pw;
    if (opt.sub) sub += " " + opt.sub;
    const gap = lay.planes > 1 ? 1 : 0;
    const tw = lay.gc * lay.pw + (lay.gc - 1) * gap, th = lay.gr * lay.ph + (lay.gr - 1) * gap;
    const sz = scaleFor(tw, th, opt.maxPx || 260);
    const kx = sz.kx, ky = sz.ky, k = Math.min(kx, ky);
    const cw = sz.w, ch = sz.h;
    if (kx < 1 || ky < 1) sub += ", downscaled: a pixel shows its block's largest |value|; hover reads each value";
    box.appendChild(el("div", "sub", sub));
    const cv = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.round(cw * dpr);
    cv.height = Math.round(ch * dpr);
    cv.style.width = cw + "px";
    cv.style.height = ch + "px";
    box.appendChild(cv);
    const m = opt.scale;
    const leg = el("div", "legend");
    leg.appendChild(el("span", "", short(-m)));
    leg.appendChild(el("span", "bar"));
    leg.appendChild(el("span", "", short(m)));
    box.appendChild(leg);
    const d = opt.data;
    // cell (in cells) of flat index i
    const at = (i) => {
      const per = lay.ph * lay.pw, p = Math.floor(i / per), r = i % per;
      return [(p % lay.gc) * (lay.pw + gap) + (r % lay.pw), Math.floor(p / lay.gc) * (lay.ph + gap) + Math.floor(r / lay.pw)];
    };
    // the flat index at each cell of the grid (-1 in gaps)
    const cellIdx = new Int32Array(tw * th).fill(-1);
    for (let i = 0; i < lay.n; i++) {
      const [x, y] = at(i);
      cellIdx[y * tw + x] = i;
    }
    // the base image: one pixel per cell, or per block of cells when
    // downscaled (the block's largest |value|, so that sparse values show)
    const bw = kx < 1 ? cw : tw, bh = ky < 1 ? ch : th;
    const base = document.createElement("canvas");
    base.width = bw;
    base.height = bh;
    const bctx = base.getContext("2d");
    const img = bctx.createImageData(bw, bh);
    for (let py = 0; py < bh; py++) {
      const y0 = ky < 1 ? Math.floor(py / ky) : py, y1 = ky < 1 ? Math.max(y0 + 1, Math.min(th, Math.floor((py + 1) / ky))) : py + 1;
      for (let px = 0; px < bw; px++) {
        const x0 = kx < 1 ? Math.floor(px / kx) : px, x1 = kx < 1 ? Math.max(x0 + 1, Math.min(tw, Math.floor((px + 1) / kx))) : px + 1;
        let best = -1, bv = 0;
        for (let y = y0; y < y1; y++)
          for (let x = x0; x < x1; x++) {
            const i = cellIdx[y * tw + x];
            if (i >= 0 && (best < 0 || Math.abs(d[i]) > Math.abs(bv) || Number.isNaN(d[i]))) {
              best = i;
              bv = d[i];
            }
          }
        const c = best < 0 ? [236, 236, 236] : colour(bv, m), q = (py * bw + px) * 4;
        img.data[q] = c[0];
        img.data[q + 1] = c[1];
        img.data[q + 2] = c[2];
        img.data[q + 3] = 255;
      }
    }
    bctx.putImageData(img, 0, 0);
    const ctx = cv.getContext("2d");
    function draw(marks) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, cw, ch);
      ctx.drawImage(base, 0, 0, cw, ch);
      if (lay.planes > 1) {
        // a frame around each plane, so that zeros (white) show where they are
        ctx.strokeStyle = "rgba(0,0,0,0.3)";
        ctx.lineWidth = 1;
        for (let p = 0; p < lay.planes; p++) {
          const [x, y] = at(p * lay.ph * lay.pw);
          ctx.strokeRect(x * kx - 0.5, y * ky - 0.5, lay.pw * kx + 1, lay.ph * ky + 1);
        }
      }
      if (k >= 8) {
        ctx.strokeStyle = "rgba(0,0,0,0.12)";
        ctx.lineWidth = 1;
        for (let i = 0; i < lay.n; i++) {
          const [x, y] = at(i);
          ctx.strokeRect(x * k + 0.5, y * k + 0.5, k - 1, k - 1);
        }
      }
      if (k >= 26) {
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        for (let i = 0; i < lay.n; i++) {
          const [x, y] = at(i);
          ctx.fillStyle = textColour(d[i], m);
          fitText(ctx, d[i], x * k + k / 2, y * k + k / 2, k - 4, Math.min(13, Math.floor(k / 3.2)));
        }
      }
      for (const mk of marks || []) {
        ctx.strokeStyle = mk.colour || "#000";
        ctx.lineWidth = 2;
        for (const i of mk.cells) {
          const [x, y] = at(i);
          ctx.strokeRect(x * kx + 1, y * ky + 1, Math.max(kx - 2, 2), Math.max(ky - 2, 2));
        }
      }
    }
    draw();
    function cellAt(e) {
      const r = cv.getBoundingClientRect();
      const cx = Math.floor((e.clientX - r.left) / kx), cy = Math.floor((e.clientY - r.top) / ky);
      if (cx < 0 || cy < 0 || cx >= tw || cy >= th) return -1;
      return cellIdx[cy * tw + cx];
    }
    cv.addEventListener("mousemove", (e) => {
      const i = cellAt(e);
      if (i < 0) {
        hideTip();
        if (opt.onHover) opt.onHover(null);
        return;
      }
      let lines = [opt.name + idx(i, opt.shape) + " = " + num(d[i])];
      if (opt.hover) {
        try {
          lines = lines.concat(opt.hover(i));
        } catch (err) {
          lines.push("(" + err + ")");
          console.error(err);
        }
      }
      showTip(e, lines);
      if (opt.onHover) opt.onHover(i);
    });
    cv.addEventListener("mouseleave", () => {
      hideTip();
      if (opt.onHover) opt.onHover(null);
    });
    return { el: box, canvas: cv, mark: (marks) => draw(marks) };
  }

  // ---- what each layer's quantities are called
  const ACT = { sigmoid: 1, relu: 1, tanh: 1, leaky_relu: 1, softmax: 1 };
  const LIN = { dense: 1, conv2d: 1 };
  function names(L, last) {
    let from = last ? "from the loss" : "from layer " + (L.index + 1);
    const up = D.layers[D.layers.indexOf(L) + 1];
    if (!LIN[L.kind] && up && ACT[up.kind]) from += ", where it is δ = dL/dz";
    if (LIN[L.kind])
      return {
        x: ["x", "x, the input"],
        y: ["z", "z = W x + b, the output"],
        gy: ["dL/dz", "δ = dL/dz, the delta (" + from + ")"],
        gx: ["dL/dx", L.kind === "dense" ? "dL/dx = Wᵀδ (passed below)" : "dL/dx (passed below)"],
      };
    if (ACT[L.kind])
      return {
        x: ["z", "z, the input"],
        y: ["y", "y = " + L.kind + "(z), the output"],
        gy: ["dL/dy", "dL/dy (" + from + ")"],
        gx: ["dL/dz", "δ = dL/dz, the delta (passed below)"],
      };
    return { x: ["x", "x, the input"], y: ["y", "y, the output"], gy: ["dL/dy", "dL/dy (" + from + ")"], gx: ["dL/dx", "dL/dx (passed below)"] };
  }

  // pos is the input row (or column) read at output i, kernel offset u
  const pos = (s, i, u, p) => (s === 1 ? i : s + i) + "+" + u + (p ? "−" + p : "");
  function formulas(L) {
    const g = L.conv || L.pool;
    const s = g ? (g.sh === g.sw ? g.sh : g.sh + "," + g.sw) : "";
    const pd = g ? (g.pt === g.pl ? g.pt : g.pt + "," + g.pl) : "";
    const xr = g ? "x[c, " + pos(g.sh, "i", "u", g.pt) + ", " + pos(g.sw, "j", "v", g.pl) + "]" : "";
    const hw = g ? pos(g.sh, "i", "u", g.pt) + " = h, " + pos(g.sw, "j", "v", g.pl) + " = w" : "";
    switch (L.kind) {
      case "dense":
        return [["forward", "z = W x + b,   z[o] = Σ_j W[o,j] x[j] + b[o]"],
                ["backward", "dL/dW = δ xᵀ,  dL/db = δ  (summed over the samples);   dL/dx = Wᵀ δ,  dL/dx[j] = Σ_o W[o,j] δ[o]"]];
      case "conv2d":
        return [["forward", "z[f,i,j] = b[f] + Σ_c,u,v W[f,c,u,v] · " + xr + "  (stride " + s + ", padding " + pd + ")"],
                ["backward", "dL/dW[f,c,u,v] = Σ_i,j δ[f,i,j] · " + xr + "  (the input correlated with δ);   dL/db[f] = Σ_i,j δ[f,i,j]"],
                ["", "dL/dx[c,h,w] = Σ W[f,c,u,v] · δ[f,i,j] over f and the (i,j,u,v) with " + hw + "  (δ convolved with the flipped kernels)"]];
      case "maxpool2d":
        return [["forward", "y[c,i,j] = max of x over window (i,j): each window is drawn below with an arrow to its maximum"],
                ["backward", "dL/dx[c,h,w] = Σ dL/dy[c,i,j] over the windows (i,j) whose maximum is at (h,w): each gradient is routed to its window's argmax; where windows overlap, the gradients add up"]];
      case "avgpool2d":
        return [["forward", "y[c,i,j] = (1/" + g.kh * g.kw + ") Σ of x over window (i,j)"],
                ["backward", "dL/dx[c,h,w] = Σ dL/dy[c,i,j] / " + g.kh * g.kw + " over the windows containing (h,w): each gradient is spread evenly over its window"]];
      case "sigmoid":
        return [["forward", "y = s(z) = 1 / (1 + e^−z)"], ["backward", "δ = dL/dz = dL/dy · s(z)(1 − s(z)) = dL/dy · y(1 − y)"]];
      case "relu":
        return [["forward", "y = max(0, z)"], ["backward", "δ = dL/dz = dL/dy · [z > 0]"]];
      case "tanh":
        return [["forward", "y = tanh(z)"], ["backward", "δ = dL/dz = dL/dy · (1 − y²)"]];
      case "leaky_relu":
        return [["forward", "y = z if z > 0, else " + L.slope + " z"], ["backward", "δ = dL/dz = dL/dy · (1 if z > 0, else " + L.slope + ")"]];
      case "softmax":
        return [["forward", "y_i = e^z_i / Σ_j e^z_j"], ["backward", "δ_i = dL/dz_i = y_i (dL/dy_i − Σ_j dL/dy_j y_j)"]];
      case "flatten":
        return [["forward", "y = x viewed as one axis (C·H·W values, row-major)"], ["backward", "dL/dx = dL/dy shaped back"]];
      case "dropout":
        return [["forward", "y = x · mask / (1 − p)  (training mode: this trace's random mask)"], ["backward", "dL/dx = dL/dy · mask / (1 − p)"]];
    }
    return [["", "(the formulas of " + L.kind + " are in nettrain's documentation; the values are the engine's)"]];
  }

  // where the gradient arriving at layer li came from
  function origin(li, o) {
    const L = D.layers[li];
    if (li + 1 < D.layers.length) {
      const up = D.layers[li + 1];
      return ["= the gradient passed below by layer " + up.index + " (" + up.kind + ")"];
    }
    if (!D.loss_fn) return ["the gradient given at the output (no loss)"];
    const y = sample(L.output), n = N;
    if ((D.loss_fn === "half_sse" || D.loss_fn === "mse") && D.targets) {
      const t = sample(D.targets)[o];
      if (D.loss_fn === "half_sse")
        return ["from the loss half_sse: dL/dy = (y − t) / N = (" + term(y[o]) + " − " + term(t) + ") / " + n];
      return ["from the loss mse: dL/dy = 2 (y − t) / E = 2 (" + term(y[o]) + " − " + term(t) + ") / " + y.length * n];
    }
    if (D.loss_fn === "cross_entropy" && D.labels && L.out.length === 1) {
      const lab = D.labels[S];
      let mx = -Infinity;
      for (const v of y) mx = Math.max(mx, v);
      let z = 0;
      for (const v of y) z += Math.exp(v - mx);
      const sm = Math.exp(y[o] - mx) / z;
      return ["from the loss cross_entropy: dL/dz = (softmax(z) − onehot(label)) / N",
              "   = (" + term(sm) + " − " + (o === lab ? 1 : 0) + ") / " + n + "   (label " + lab + ")"];
    }
    return ["from the loss " + D.loss_fn];
  }

  const inputOf = (li) => (li === 0 ? D.input : D.layers[li - 1].output);
  const samplesNote = N > 1 ? ["(summed over the " + N + " samples; the terms shown are sample " + S + "'s)"] : [];

  // hover explanations: which is y, gy, gx, or a parameter ("pv"/"pg" with p)
  function explain(li, which, i, p) {
    const L = D.layers[li];
    const X = sample(inputOf(li)), Y = sample(L.output), GY = sample(L.grad_output), GX = sample(L.grad_input);
    const nm = names(L, li === D.layers.length - 1);
    if (which === "gy") {
      return origin(li, i % prod(L.out));
    }
    if (which === "pv") return ["a parameter of layer " + L.index];
    const W = L.params.find((q) => q.role === "weight"), B = L.params.find((q) => q.role === "bias");
    if (L.kind === "dense" && L.in.length === 1) {
      const I = L.in[0], O = L.out[0];
      if (which === "y") {
        const o = i, ts = [];
        for (let j = 0; j < I; j++) ts.push([W.value.d[o * I + j], X[j], j]);
        const lines = ["z[" + o + "] = Σ_j W[" + o + ",j] x[j] + b[" + o + "]",
          "   = " + terms(ts, 8, (t) => term(t[0]) + "·" + term(t[1])) + (B ? " + " + term(B.value.d[o]) : "")];
        if (ts.length > 8) {
          ts.sort((a, b) => Math.abs(b[0] * b[1]) - Math.abs(a[0] * a[1]));
          lines.push("   largest terms: " + ts.slice(0, 3).map((t) => "W[" + o + "," + t[2] + "]·x[" + t[2] + "] = " + term(t[0] * t[1])).join(", "));
        }
        return lines;
      }
      if (which === "gx") {
        const j = i, ts = [];
        for (let o = 0; o < O; o++) ts.push([W.value.d[o * I + j], GY[o]]);
        return ["dL/dx[" + j + "] = (Wᵀδ)[" + j + "] = Σ_o W[o," + j + "] δ[o]", "   = " + terms(ts, 10, (t) => term(t[0]) + "·" + term(t[1]))];
      }
      if (which === "pg" && p.role === "weight") {
        const o = Math.floor(i / I), j = i % I;
        return ["dL/dW[" + o + "," + j + "] = δ[" + o + "] · x[" + j + "] = " + term(GY[o]) + " · " + term(X[j]) + (N > 1 ? " = " + term(GY[o] * X[j]) : "")].concat(samplesNote);
      }
      if (which === "pg" && p.role === "bias") return ["dL/db[" + i + "] = δ[" + i + "] = " + term(GY[i])].concat(samplesNote);
    }
    if (ACT[L.kind] && which === "gx") {
      const z = X[i], y = Y[i], g = GY[i];
      switch (L.kind) {
        case "sigmoid":
          return ["δ = dL/dz = dL/dy · y(1 − y)", "   = " + term(g) + " · " + term(y) + "·(1 − " + term(y) + ")"];
        case "relu":
          return ["δ = dL/dz = dL/dy · [z > 0]", "   = " + term(g) + " · [" + term(z) + " > 0] = " + term(g) + " · " + (z > 0 ? 1 : 0)];
        case "tanh":
          return ["δ = dL/dz = dL/dy · (1 − y²)", "   = " + term(g) + " · (1 − " + term(y) + "²)"];
        case "leaky_relu":
          return ["δ = dL/dz = dL/dy · (1 if z > 0, else " + L.slope + ")", "   = " + term(g) + " · " + (z > 0 ? 1 : L.slope) + "   (z = " + term(z) + ")"];
        case "softmax": {
          const last = L.out[L.out.length - 1], r0 = i - (i % last);
          let dot = 0;
          for (let k = 0; k < last; k++) dot += GY[r0 + k] * Y[r0 + k];
          return ["δ_i = y_i (dL/dy_i − Σ_j dL/dy_j y_j)", "   = " + term(y) + " · (" + term(g) + " − " + term(dot) + ")"];
        }
      }
    }
    if (ACT[L.kind] && which === "y") {
      const z = X[i];
      return [nm.y[0] + " = " + L.kind + "(z) = " + L.kind + "(" + term(z) + ")"];
    }
    if (L.kind === "conv2d" && L.conv && W) {
      return convExplain(L, which, i, p, X, GY, W, B);
    }
    if (L.pool) return poolExplain(L, which, i, GY).lines;
    if (L.kind === "flatten") {
      if (which === "y") return ["y[" + i + "] = x" + idx(i, L.in)];
      if (which === "gx") return ["dL/dx" + idx(i, L.in) + " = dL/dy[" + i + "]"];
    }
    if (which === "pg") return ["the gradient of " + p.name].concat(samplesNote);
    return [];
  }

  function convExplain(L, which, i, p, X, GY, W, B) {
    const g = L.conv, C = L.in[0], H = L.in[1], Wd = L.in[2], F = L.out[0], OH = L.out[1], OW = L.out[2];
    const Wv = W.value.d, at4 = (f, c, u, v) => ((f * C + c) * g.kh + u) * g.kw + v;
    if (which === "y") {
      const [f, oi, oj] = unravel(i, L.out), ts = [], cells = [];
      for (let c = 0; c < C; c++)
        for (let u = 0; u < g.kh; u++)
          for (let v = 0; v < g.kw; v++) {
            const h = oi * g.sh + u - g.pt, w = oj * g.sw + v - g.pl;
            if (h < 0 || h >= H || w < 0 || w >= Wd) continue;
            ts.push([Wv[at4(f, c, u, v)], X[(c * H + h) * Wd + w]]);
            cells.push((c * H + h) * Wd + w);
          }
      return ["z[" + [f, oi, oj] + "] = Σ W[" + f + ",c,u,v] · x[c,h,w] over its window + b[" + f + "]",
        "   = " + terms(ts, 9, (t) => term(t[0]) + "·" + term(t[1])) + (B ? " + " + term(B.value.d[f]) : ""),
        "   (the window is outlined on x)"];
    }
    if (which === "gx") {
      const [c, h, w] = unravel(i, L.in), ts = [];
      for (let f = 0; f < F; f++)
        for (let u = 0; u < g.kh; u++)
          for (let v = 0; v < g.kw; v++) {
            const a = h + g.pt - u, b = w + g.pl - v;
            if (a % g.sh || b % g.sw) continue;
            const oi = a / g.sh, oj = b / g.sw;
            if (oi < 0 || oi >= OH || oj < 0 || oj >= OW) continue;
            ts.push([Wv[at4(f, c, u, v)], GY[(f * OH + oi) * OW + oj], "W[" + [f, c, u, v] + "]·δ[" + [f, oi, oj] + "]"]);
          }
      const lines = ["dL/dx[" + [c, h, w] + "] = Σ W[f," + c + ",u,v] · δ[f,i,j] over the windows that read x[" + [c, h, w] + "]",
        "   = " + terms(ts, 12, (t) => term(t[0]) + "·" + term(t[1]))];
      if (ts.length <= 6) lines.push("   (" + ts.map((t) => t[2]).join(" + ") + ")");
      return lines;
    }
    if (which === "pg" && p.role === "weight") {
      const [f, c, u, v] = unravel(i, p.value.shape), ts = [];
      for (let oi = 0; oi < OH; oi++)
        for (let oj = 0; oj < OW; oj++) {
          const h = oi * g.sh + u - g.pt, w = oj * g.sw + v - g.pl;
          if (h < 0 || h >= H || w < 0 || w >= Wd) continue;
          ts.push([GY[(f * OH + oi) * OW + oj], X[(c * H + h) * Wd + w]]);
        }
      return ["dL/dW[" + [f, c, u, v] + "] = Σ_i,j δ[" + f + ",i,j] · x[" + c + ", i·" + g.sh + "+" + u + "−" + g.pt + ", j·" + g.sw + "+" + v + "−" + g.pl + "]",
        "   = " + terms(ts, 16, (t) => term(t[0]) + "·" + term(t[1]))].concat(samplesNote);
    }
    if (which === "pg" && p.role === "bias") {
      const f = i, ts = [];
      for (let k = 0; k < OH * OW; k++) ts.push(GY[f * OH * OW + k]);
      return ["dL/db[" + f + "] = Σ_i,j δ[" + f + ",i,j]", "   = " + terms(ts, 16, term)].concat(samplesNote);
    }
    return [];
  }

  // windows of a pooling layer that contain input cell (h, w)
  function windowsOf(g, h, w) {
    const r = [];
    for (let i = 0; i < g.oh; i++) {
      const a = i * g.sh - g.pt;
      if (h < a || h >= a + g.kh) continue;
      for (let j = 0; j < g.ow; j++) {
        const b = j * g.sw - g.pl;
        if (w >= b && w < b + g.kw) r.push([i, j]);
      }
    }
    return r;
  }
  const argmaxOf = (L, c, i, j) => L.argmax[((S * L.in[0] + c) * L.pool.oh + i) * L.pool.ow + j];

  // returns {lines, windows: [[c,i,j]...] to outline}
  function poolExplain(L, which, i, GY) {
    const g = L.pool, H = L.in[1], W = L.in[2], max = g.op === "max";
    if (which === "y") {
      const [c, oi, oj] = unravel(i, L.out), r0 = oi * g.sh - g.pt, c0 = oj * g.sw - g.pl;
      const lines = ["y[" + [c, oi, oj] + "] = " + (max ? "max" : "mean") + " of x[" + c + "] over rows " + r0 + "–" + (r0 + g.kh - 1) + ", columns " + c0 + "–" + (c0 + g.kw - 1)];
      if (max) {
        const a = argmaxOf(L, c, oi, oj);
        if (a >= 0) lines.push("   its maximum is x[" + [c, Math.floor(a / W), a % W] + "]");
      }
      return { lines: lines, windows: [[c, oi, oj]] };
    }
    if (which === "gx") {
      const [c, h, w] = unravel(i, L.in), ws = windowsOf(g, h, w), lines = [], parts = [];
      const n = g.kh * g.kw;
      for (const [oi, oj] of ws) {
        const d = GY[(c * g.oh + oi) * g.ow + oj];
        if (max) {
          const a = argmaxOf(L, c, oi, oj);
          if (a === h * W + w) {
            lines.push("  window (" + oi + "," + oj + "): its maximum is here, so it passes its dL/dy = " + term(d));
            parts.push(d);
          } else lines.push("  window (" + oi + "," + oj + "): its maximum is at (" + Math.floor(a / W) + "," + (a % W) + "), not here: 0");
        } else {
          lines.push("  window (" + oi + "," + oj + "): dL/dy / " + n + " = " + term(d) + " / " + n);
          parts.push(d / n);
        }
      }
      const head = "dL/dx[" + [c, h, w] + "] receives from " + ws.length + (ws.length === 1 ? " window" : " windows") + " containing it:";
      const tail = parts.length === 0 ? "   sum = 0 (no window " + (max ? "has its maximum" : "reaches") + " here)" :
        parts.length === 1 ? "   sum = " + term(parts[0]) + " (one window)" :
        "   sum = " + parts.map(term).join(" + ") + " = " + term(sum(parts)) + "   (" + parts.length + " overlapping windows add up)";
      return { lines: [head].concat(lines, [tail]), windows: ws.map(([a, b]) => [c, a, b]) };
    }
    return { lines: [], windows: [] };
  }

  // ---- the pooling diagram: windows on the input, arrows to the maxima,
  // and the gradient routed back.
  const PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  function poolDiagram(L, li) {
    const g = L.pool, C = L.in[0], H = L.in[1], W = L.in[2], max = g.op === "max";
    const box = el("div", "pooldiag");
    const head = el("div", "cap");
    box.appendChild(head);
    let ch = 0;
    if (C > 1) {
      const lab = el("label", "note", " channel ");
      const sel = el("select");
      for (let c = 0; c < C; c++) sel.appendChild(el("option", "", String(c)));
      sel.addEventListener("change", () => {
        ch = Number(sel.value);
        render();
      });
      lab.appendChild(sel);
      box.appendChild(lab);
    }
    const row = el("div", "row");
    box.appendChild(row);
    const X = sample(inputOf(li)), GX = sample(L.grad_input), GY = sample(L.grad_output);
    const mX = maxAbs(inputOf(li).d), mG = L.grad_input ? maxAbs(L.grad_input.d) : 0;
    const pr = Math.max(g.pt, g.pb), pc = Math.max(g.pl, g.pr);
    const cs = Math.max(6, Math.min(56, Math.floor(440 / Math.max(H + 2 * pr, W + 2 * pc))));
    const cw = (W + 2 * pc) * cs, chh = (H + 2 * pr) * cs;
    const dpr = window.devicePixelRatio || 1;
    function mk(cap) {
      const p = el("div", "panel");
      p.appendChild(el("div", "cap", cap));
      const cv = document.createElement("canvas");
      cv.width = cw * dpr;
      cv.height = chh * dpr;
      cv.style.width = cw + "px";
      cv.style.height = chh + "px";
      p.appendChild(cv);
      row.appendChild(p);
      return cv;
    }
    const cvX = mk(!max ? "the windows on x" : g.oh * g.ow > 64 ? "the windows on x, a dot at each window's maximum (hover for arrows)" : "the windows on x, with an arrow to each window's maximum");
    const cvG = L.grad_input ? mk(max ? "dL/dx: each window's dL/dy routed to its maximum; a badge counts the windows adding up in a cell" :
      "dL/dx: each window's dL/dy spread evenly over it; hover a cell for the windows adding up in it") : null;
    const cellXY = (h, w) => [(w + pc) * cs, (h + pr) * cs];
    let hl = null; // windows to emphasise
    function grid(ctx, vals, m) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, cw, chh);
      ctx.fillStyle = "#f4f4f4";
      ctx.fillRect(0, 0, cw, chh);
      ctx.font = Math.min(13, Math.floor(cs / 3.2)) + "px ui-monospace, DejaVu Sans Mono, monospace";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = vals[(ch * H + h) * W + w], [x, y] = cellXY(h, w), c = colour(v, m);
          ctx.fillStyle = "rgb(" + c + ")";
          ctx.fillRect(x, y, cs, cs);
          if (cs >= 8) {
            ctx.strokeStyle = "rgba(0,0,0,0.15)";
            ctx.strokeRect(x + 0.5, y + 0.5, cs - 1, cs - 1);
          }
          if (cs >= 30) {
            ctx.fillStyle = textColour(v, m);
            fitText(ctx, v, x + cs / 2, y + cs / 2, cs - 6, Math.min(13, Math.floor(cs / 3.2)));
          }
        }
    }
    function arrow(ctx, x0, y0, x1, y1, col, lw) {
      const dx = x1 - x0, dy = y1 - y0, len = Math.hypot(dx, dy);
      ctx.strokeStyle = ctx.fillStyle = col;
      ctx.lineWidth = lw;
      if (len < 2) {
        ctx.beginPath();
        ctx.arc(x1, y1, Math.max(2, lw * 1.5), 0, 7);
        ctx.fill();
        return;
      }
      const hd = Math.min(cs * 0.35, 10), ux = dx / len, uy = dy / len;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1 - ux * hd * 0.8, y1 - uy * hd * 0.8);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - ux * hd - uy * hd * 0.5, y1 - uy * hd + ux * hd * 0.5);
      ctx.lineTo(x1 - ux * hd + uy * hd * 0.5, y1 - uy * hd - ux * hd * 0.5);
      ctx.closePath();
      ctx.fill();
    }
    function render() {
      head.textContent = L.about + ": " + g.oh + "×" + g.ow + " windows on the " + H + "×" + W + " input" + (C > 1 ? ", channel " + ch + " of " + C : "");
      const ctx = cvX.getContext("2d");
      grid(ctx, X, mX);
      const many = g.oh * g.ow > 64;
      for (let i = 0; i < g.oh; i++)
        for (let j = 0; j < g.ow; j++) {
          const k = i * g.ow + j, on = hl && hl.some((q) => q[0] === ch && q[1] === i && q[2] === j);
          // too many windows for colours: grey outlines, a dot at each maximum
          const col = many && !on ? "#555" : PALETTE[k % PALETTE.length];
          const inset = many ? 0.5 : 2 + (k % 3) * 3;
          const [x, y] = cellXY(i * g.sh - g.pt, j * g.sw - g.pl);
          ctx.globalAlpha = hl && !on ? 0.25 : 1;
          ctx.strokeStyle = col;
          ctx.lineWidth = on ? 4 : many ? 1 : 2;
          ctx.strokeRect(x + inset, y + inset, g.kw * cs - 2 * inset, g.kh * cs - 2 * inset);
          if (max) {
            const a = argmaxOf(L, ch, i, j);
            if (a >= 0 && many && !on) {
              const [ax, ay] = cellXY(Math.floor(a / W), a % W);
              ctx.fillStyle = "#111";
              ctx.beginPath();
              ctx.arc(ax + cs / 2, ay + cs / 2, Math.max(1.5, cs * 0.2), 0, 7);
              ctx.fill();
            } else if (a >= 0) {
              const [ax, ay] = cellXY(Math.floor(a / W), a % W);
              const x0 = x + (g.kw * cs) / 2, y0 = y + (g.kh * cs) / 2, x1 = ax + cs / 2, y1 = ay + cs / 2;
              const len = Math.hypot(x1 - x0, y1 - y0), stop = cs >= 20 && len > cs * 0.4 ? cs * 0.3 : 0;
              // the arrow stops short of the maximum's value, which a ring marks
              arrow(ctx, x0, y0, x1 - ((x1 - x0) / (len || 1)) * stop, y1 - ((y1 - y0) / (len || 1)) * stop, col, on ? 3 : many ? 1 : 2);
              if (cs >= 20) {
                ctx.beginPath();
                ctx.lineWidth = on ? 3 : 2;
                ctx.arc(x1, y1, cs * 0.3, 0, 7);
                ctx.stroke();
              }
            }
          }
          ctx.globalAlpha = 1;
        }
      if (!cvG) return;
      const gctx = cvG.getContext("2d");
      grid(gctx, GX, mG);
      if (max) {
        // the gradients of the windows routed to each cell
        const parts = new Map();
        for (let i = 0; i < g.oh; i++)
          for (let j = 0; j < g.ow; j++) {
            const a = argmaxOf(L, ch, i, j);
            if (a >= 0) parts.set(a, (parts.get(a) || []).concat([GY[(ch * g.oh + i) * g.ow + j]]));
          }
        for (const [a, ps] of parts) {
          const n = ps.length;
          if (n < 2 || cs < 14) continue;
          const [x, y] = cellXY(Math.floor(a / W), a % W);
          gctx.fillStyle = "#222";
          gctx.beginPath();
          gctx.arc(x + cs - 8, y + 8, 7, 0, 7);
          gctx.fill();
          gctx.fillStyle = "#fff";
          gctx.font = "bold " + Math.max(8, Math.min(11, Math.floor(cs / 4))) + "px system-ui, sans-serif";
          gctx.fillText(n + "", x + cs - 8, y + 8.5);
          // the sum written out under the value, where it fits
          if (cs >= 40) {
            const terms = ps.map((v, k) => (k === 0 ? shorter(v) : (v < 0 ? "−" : "+") + shorter(Math.abs(v)))).join("");
            gctx.font = "9px ui-monospace, DejaVu Sans Mono, monospace";
            if (gctx.measureText(terms).width <= cs - 4) {
              gctx.fillStyle = textColour(GX[(ch * H + Math.floor(a / W)) * W + (a % W)], mG);
              gctx.fillText(terms, x + cs / 2, y + cs - 7);
            }
          }
        }
      }
      if (hl) {
        gctx.strokeStyle = "#000";
        gctx.lineWidth = 3;
        for (const q of hl) {
          if (q[0] !== ch) continue;
          const [x, y] = cellXY(q[1] * g.sh - g.pt, q[2] * g.sw - g.pl);
          gctx.setLineDash([4, 3]);
          gctx.strokeRect(x + 1, y + 1, g.kw * cs - 2, g.kh * cs - 2);
          gctx.setLineDash([]);
        }
      }
    }
    function hover(cv, which) {
      cv.addEventListener("mousemove", (e) => {
        const r = cv.getBoundingClientRect();
        const w = Math.floor((e.clientX - r.left) / cs) - pc, h = Math.floor((e.clientY - r.top) / cs) - pr;
        if (h < 0 || w < 0 || h >= H || w >= W) {
          if (h >= -pr && w >= -pc && h < H + pr && w < W + pc)
            showTip(e, ["padding, outside the input: " + (max ? "a window's maximum is never here" : "counts as 0 in the window's mean (the divisor stays " + g.kh * g.kw + ")")]);
          else hideTip();
          return;
        }
        const i = (ch * H + h) * W + w;
        let lines, ws;
        if (which === "x") {
          const wins = windowsOf(g, h, w);
          lines = ["x[" + [ch, h, w] + "] = " + num(X[i]), "in " + wins.length + (wins.length === 1 ? " window" : " windows") + ": " + wins.map((q) => "(" + q + ")").join(" ")];
          if (max) {
            const mx = wins.filter(([a, b]) => argmaxOf(L, ch, a, b) === h * W + w);
            lines.push(mx.length ? "the maximum of " + mx.map((q) => "(" + q + ")").join(" ") : "the maximum of no window");
          }
          ws = wins.map(([a, b]) => [ch, a, b]);
        } else {
          const r2 = poolExplain(L, "gx", i, GY);
          lines = ["dL/dx[" + [ch, h, w] + "] = " + num(GX[i])].concat(r2.lines);
          ws = r2.windows;
        }
        showTip(e, lines);
        hl = ws;
        render();
      });
      cv.addEventListener("mouseleave", () => {
        hideTip();
        hl = null;
        render();
      });
    }
    hover(cvX, "x");
    if (cvG) hover(cvG, "gx");
    render();
    return {
      el: box,
      show: (c, ws) => {
        if (c !== null && c !== ch && c < C) {
          ch = c;
          const sel = box.querySelector("select");
          if (sel) sel.value = String(c);
        }
        hl = ws;
        render();
      },
    };
  }

  // ---- the page
  // lossValue is the loss with DIGITS digits, as the text trace prints
  // it; when those are not all of it, hovering shows it in full.
  function lossValue() {
    const v = toNum(D.loss), sp = el("span", "lossvalue", num(v));
    if (Number.isFinite(v) && Number(num(v)) !== v) sp.title = "in full: " + String(v);
    return sp;
  }

  function scaleOf(t) {
    if (!t) return 0;
    if (t.m === undefined) t.m = maxAbs(t.d);
    return t.m;
  }

  function layerCard(L, li, maxPx) {
    const last = li === D.layers.length - 1;
    const nm = names(L, last);
    const card = el("section", "layer");
    card.dataset.layer = String(L.index);
    const h = el("h2", "", "layer " + L.index + ": " + L.about + " ");
    h.appendChild(el("span", "shape", "(" + L.in.join(", ") + ") → (" + L.out.join(", ") + ")"));
    card.appendChild(h);
    const fm = el("div", "formulas");
    for (const [dir, f] of formulas(L)) {
      const d = el("div");
      d.appendChild(el("span", "dir", dir));
      d.appendChild(document.createTextNode(f));
      fm.appendChild(d);
    }
    card.appendChild(fm);
    const cols = el("div", "cols");
    const fwd = el("div", "col forward"), bwd = el("div", "col backward");
    fwd.appendChild(el("div", "dirlabel", "forward"));
    bwd.appendChild(el("div", "dirlabel", "backward"));
    cols.appendChild(fwd);
    cols.appendChild(bwd);
    card.appendChild(cols);
    const panels = {};
    let diag = null;
    const mkp = (key, cap, name, t, shape, which, p, parent, sub) => {
      const pn = panel({
        cap: cap, name: name, sub: sub, data: t.shape.length === shape.length ? t.d : sample(t), shape: shape, scale: scaleOf(t), maxPx: maxPx,
        hover: (i) => explain(li, which, i, p),
        onHover: (i) => crossHover(key, i),
      });
      pn.canvas.dataset.q = key;
      panels[key] = pn;
      parent.appendChild(pn.el);
    };
    function crossHover(key, i) {
      for (const k in panels) panels[k].mark(null);
      if (i === null) {
        if (diag) diag.show(null, null);
        return;
      }
      if (L.kind === "conv2d" && L.conv && key === "y" && panels.x) {
        const g = L.conv, [f, oi, oj] = unravel(i, L.out), cells = [];
        for (let c = 0; c < L.in[0]; c++)
          for (let u = 0; u < g.kh; u++)
            for (let v = 0; v < g.kw; v++) {
              const hh = oi * g.sh + u - g.pt, ww = oj * g.sw + v - g.pl;
              if (hh >= 0 && hh < L.in[1] && ww >= 0 && ww < L.in[2]) cells.push((c * L.in[1] + hh) * L.in[2] + ww);
            }
        panels.x.mark([{ cells: cells, colour: "#000" }]);
        if (panels.w) panels.w.mark([{ cells: Array.from({ length: L.in[0] * g.kh * g.kw }, (_, q) => f * L.in[0] * g.kh * g.kw + q), colour: "#000" }]);
      }
      if (L.kind === "dense" && L.in.length === 1 && panels.w) {
        const I = L.in[0], O = L.out[0];
        if (key === "y" || key === "gy") panels.w.mark([{ cells: Array.from({ length: I }, (_, j) => i * I + j), colour: "#000" }]);
        if (key === "gx") panels.w.mark([{ cells: Array.from({ length: O }, (_, o) => o * I + i), colour: "#000" }]);
      }
      if (diag && (key === "y" || key === "gy")) {
        const [c, a, b] = unravel(i, L.out);
        diag.show(c, [[c, a, b]]);
      }
      if (diag && key === "gx") {
        const r = poolExplain(L, "gx", i, sample(L.grad_output));
        diag.show(unravel(i, L.in)[0], r.windows);
      }
    }
    const showX = (L.kind === "conv2d" || L.kind === "dense") && li > 0;
    if (showX) mkp("x", nm.x[1], nm.x[0], inputOf(li), L.in, "x", null, fwd, "= the output of layer " + (li - 1));
    for (const p of L.params) {
      const key = p.role === "weight" ? "w" : p.role === "bias" ? "b" : "p" + p.name;
      const shape = p.value.shape;
      let sub = "";
      if (L.kind === "conv2d" && p.role === "weight") sub = "filters × input channels × kh × kw";
      if (L.kind === "dense" && p.role === "weight") sub = "units × inputs";
      const sym = p.role === "weight" ? "W" : p.role === "bias" ? "b" : p.name;
      mkp(key, sym + (sym === p.name ? "" : " = " + p.name), sym, p.value, shape, "pv", p, fwd, sub);
    }
    mkp("y", nm.y[1], nm.y[0], L.output, L.out, "y", null, fwd);
    if (L.grad_output) mkp("gy", nm.gy[1], nm.gy[0], L.grad_output, L.out, "gy", null, bwd);
    else bwd.appendChild(el("div", "note", "dL/dy: not needed (the layer above takes token ids)"));
    for (const p of L.params) {
      const key = "g" + (p.role === "weight" ? "w" : p.role === "bias" ? "b" : p.name);
      const sym = p.role === "weight" ? "W" : p.role === "bias" ? "b" : p.name;
      mkp(key, "dL/d" + sym + (sym === p.name ? "" : " = dL/d" + p.name) + (N > 1 ? " (summed over the samples)" : ""), "dL/d" + sym, p.grad, p.grad.shape, "pg", p, bwd);
    }
    if (L.grad_input) mkp("gx", nm.gx[1], nm.gx[0], L.grad_input, L.in, "gx", null, bwd);
    else bwd.appendChild(el("div", "note", "dL/dx: none (the input is token ids)"));
    if (L.pool && L.in.length === 3 && (L.pool.op !== "max" || L.argmax)) {
      diag = poolDiagram(L, li);
      card.appendChild(diag.el);
    }
    return card;
  }

  function render() {
    const main = document.getElementById("main");
    main.textContent = "";
    const big = D.layers.some((L) => prod(L.out) > 2000);
    const maxPx = big ? 300 : 260;
    // the input, and the loss
    const inCard = el("section", "layer input");
    inCard.appendChild(el("h2", "", "input x (" + D.input.shape.slice(1).join(", ") + ")"));
    const row = el("div", "cols");
    const pi = panel({ cap: "x, the input" + (N > 1 ? " (sample " + S + ")" : ""), name: "x", data: sample(D.input), shape: D.input.shape.slice(1), scale: scaleOf(D.input), maxPx: maxPx, hover: () => [] });
    pi.canvas.dataset.q = "input";
    row.appendChild(pi.el);
    inCard.appendChild(row);
    main.appendChild(inCard);
    D.layers.forEach((L, li) => main.appendChild(layerCard(L, li, maxPx)));
    const lc = el("section", "layer loss");
    const lh = el("h2", "", D.loss_fn ? "loss " + D.loss_fn + " = " : "no loss: backprop starts from the gradient given at the output");
    if (D.loss_fn) lh.appendChild(lossValue());
    lc.appendChild(lh);
    if (D.labels) lc.appendChild(el("div", "", "labels: " + D.labels.join(", ") + (N > 1 ? "   (this sample's: " + D.labels[S] + ")" : "")));
    if (D.targets) {
      const r2 = el("div", "cols");
      const pt = panel({ cap: "t, the targets", name: "t", data: sample(D.targets), shape: D.targets.shape.slice(1), scale: scaleOf(D.targets), maxPx: maxPx, hover: () => [] });
      r2.appendChild(pt.el);
      lc.appendChild(r2);
    }
    main.appendChild(lc);
  }

  document.getElementById("title").textContent = "nettrain trace" + (D.title ? ": " + D.title : "");
  document.title = "trace " + (D.title || "");
  const summary = document.getElementById("summary");
  summary.textContent = D.source + " · " + N + (N === 1 ? " sample" : " samples") + " · float64" + (D.loss_fn ? " · loss " + D.loss_fn + " = " : "");
  if (D.loss_fn) summary.appendChild(lossValue());
  if (D.notes && D.notes.length) summary.appendChild(document.createTextNode(" · " + D.notes.join("; ")));
  if (N > 1) {
    const sel = document.getElementById("sample");
    for (let s = 0; s < N; s++) sel.appendChild(el("option", "", String(s)));
    sel.addEventListener("change", () => {
      S = Number(sel.value);
      render();
    });
    document.getElementById("sample-label").hidden = false;
  }
  render();
  window.traceReady = true;
  // In a frame (the board's trace view), say so to the page around it.
  if (window.parent !== window) window.parent.postMessage("nettrain-trace-ready", "*");
})();
