// part 3 of 6: the figures, one function per view: (the study's view, level, layer, options) -> a plotly figure.
// ---------------------------------------------------------------- the figures: (state) -> {data, layout}
function baseLayout(extra = {}) {
  return Object.assign({ font: { ...FONT, color: THEME.fg }, margin: { l: 48, r: 10, t: 8, b: 36 },
    paper_bgcolor: THEME.bg,
    plot_bgcolor: THEME.bg, showlegend: false, hovermode: 'closest', hoverlabel: { font: { size: 11 } },
    uirevision: 'keep' }, extra);
}
const axis = (title, extra = {}) => Object.assign({ title: { text: title, standoff: 4, font: { size: 11 } },
  gridcolor: THEME.grid,
  zeroline: false, automargin: false, linecolor: THEME.axis, ticks: 'outside', ticklen: 3 }, extra);

// Whether the ticket's lead over a control holds beyond seed noise at this level (a group's paired t-test), as a mark
function leadMark(d) {
  if (!d || d.p == null) return '';
  const p2 = x => (100 * x).toFixed(2);
  const says = `the ticket's lead over it: ${p2(d.mean)} points (95% CI ${p2(d.lo)} to ${p2(d.hi)}, ` +
    `p = ${d.p.toPrecision(2)} over ${d.n} seeds)`;
  return d.holds ? h('span', { class: 'lnb-lead', title: `${says}: beyond seed noise` }, ' ✓ beyond noise')
    : h('span', { class: 'lnb-lead', title: `${says}: within seed noise` }, ' ≈ within noise');
}

// A ± 1 sd band behind a line (a group of seeds): the upper edge forward, the lower edge back, filled; null without
// one.
function bandTrace(x, band, color) {
  const pts = (band || []).map((b, j) => [x[j], b]).filter(([xi, b]) => xi != null && b);
  if (!pts.length) return null;
  const xs = [...pts.map(p => p[0]), ...pts.map(p => p[0]).reverse()];
  const ys = [...pts.map(p => 100 * p[1][1]), ...pts.map(p => 100 * p[1][0]).reverse()];
  const [r, g, b] = [1, 3, 5].map(i => parseInt(color.slice(i, i + 2), 16));
  return { type: 'scatter', mode: 'lines', x: xs, y: ys, fill: 'toself', fillcolor: `rgba(${r},${g},${b},0.16)`,
    line: { width: 0 }, hoverinfo: 'skip', showlegend: false };
}
const sdText = band => (band || []).map(b => b ? ` ± ${(50 * (b[1] - b[0])).toFixed(2)}` : '');

// Tickets against controls: the same traces at every level; `accuracyMarks` marks the selected one (each level is its
// own cached plot).
function figAccuracy(v) {
  const S = v.summary, data = [];
  const x = S.remaining.map(r => r == null ? null : 100 * r);
  for (const name of S.variants) {
    const st = S.style[name];
    const y = S.acc[name].map((a, j) => (j === 0 ? S.dense_acc : a)), band = S.band && S.band[name];
    const under = bandTrace(x, band, st.color);
    if (under) data.push(under);
    data.push({ type: 'scatter', mode: 'lines+markers', name: st.label, x, y: y.map(a => a == null ? null : 100 * a),
      connectgaps: false,
      line: { color: st.color, dash: st.dash, width: name === 'ticket' ? 3 : 2 }, marker: { symbol: st.symbol, size: 7,
        color: st.color },
      customdata: sdText(band),
      hovertemplate: `${esc(st.label)}<br>%{x:.3g}% of weights: %{y:.2f}%` + (band ? '%{customdata}' : '')
        + '<extra></extra>' });
  }
  const ys = data.flatMap(t => t.y).filter(y => y != null), ticks = S.remaining_ticks;
  const lo = ys.length ? Math.min(...ys) : 0, hi = ys.length ? Math.max(...ys) : 100, pad = Math.max(0.3,
    (hi - lo) * 0.12);
  const xs = x.filter(a => a != null), xlo = Math.log10(Math.min(...xs)), xhi = Math.log10(Math.max(...xs));
  const xpad = Math.max(0.03, (xhi - xlo) * 0.06);
  // the last level's point gets a label of its own where no round tick is near it
  const last = +Math.min(...xs).toPrecision(2);
  const tv = ticks.every(t => Math.abs(Math.log10(t / last)) > 0.08) ? [...ticks, last] : ticks;
  return { data, layout: baseLayout({ margin: { l: 48, r: 36, t: 8, b: 36 },   // (the right margin: the 'dense' label)
    xaxis: axis('weights remaining', { type: 'log', autorange: false, range: [xhi + xpad, xlo - xpad], tickvals: tv,
      ticktext: tv.map(t => t + '%'), tickangle: 0 }),
    yaxis: axis('test accuracy (%)', { autorange: false, range: [lo - pad, hi + pad * 2.2] }) }) };
}
function accuracyMarks(v, level) {
  const S = v.summary, i = S.levels.indexOf(level), x = S.remaining[i] == null ? null : 100 * S.remaining[i];
  const shapes = [], annotations = [];
  if (S.dense_acc != null) {
    shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 100 * S.dense_acc, y1: 100 * S.dense_acc,
      line: { color: THEME.fg, dash: 'dot', width: 1 } });
    annotations.push({ xref: 'paper', x: 1, xanchor: 'left', y: 100 * S.dense_acc, yanchor: 'middle', text: 'dense',
      showarrow: false,
      font: { size: 10, color: THEME.soft } });   // beside the plot, where no marker is
  }
  if (x != null) {
    shapes.push({ type: 'line', yref: 'paper', x0: x, x1: x, y0: 0, y1: 1, line: { color: '#D55E00', width: 2 },
      opacity: .35 });
    const t = level === 0 ? S.dense_acc : S.acc.ticket[i];
    if (t != null) annotations.push({ x: Math.log10(x), y: 100 * t, text: `level ${level}`, showarrow: true,
      arrowhead: 2, arrowsize: 1, arrowwidth: 1.5,
      // (annotations on a log axis take log10(x); level 0 stands at the axis, so its label goes to the right of it)
      ax: 0, ay: -24, xanchor: i === 0 ? 'left' : 'center', font: { size: 11, color: THEME.fg }, bgcolor: THEME.bg });
  }
  return { shapes, annotations };
}

function figCurves(v, level, live) {
  const S = v.summary, data = [], curves = S.curves[level] || {};
  for (const [name, c] of Object.entries(curves)) {
    const st = S.style[name], under = bandTrace(c.x, c.band, st.color);
    if (under) data.push(under);
    data.push({ type: 'scatter', mode: c.x.length > 60 ? 'lines' : 'lines+markers', name: st.label, x: c.x,
      y: c.y.map(a => a == null ? null : 100 * a),
      line: { color: st.color, dash: st.dash, width: 2 }, marker: { symbol: st.symbol, size: 6, color: st.color },
      customdata: sdText(c.band),
      hovertemplate: `${esc(st.label)}, epoch %{x}: %{y:.2f}%${c.band ? '%{customdata}' : ''}<extra></extra>` });
  }
  if (live && live.level === level) live.variants.forEach((name, k) => {
    const st = S.style[name] || { color: '#555', label: name };
    data.push({ type: 'scatter', mode: 'lines+markers', name: st.label + ' (training)', x: live.x,
      y: live.y[k].map(a => 100 * a),
      line: { color: st.color, dash: 'dot', width: 2 }, marker: { size: 6, color: st.color, symbol: 'circle-open' },
      hovertemplate: `${esc(st.label)} (training), epoch %{x}: %{y:.2f}%<extra></extra>` });
  });
  return { data, layout: baseLayout({ xaxis: axis('epoch', { dtick: S.epochs > 12 ? null : 1, rangemode: 'tozero' }),
    yaxis: axis('test accuracy (%)') }),
    empty: data.length ? null : level === 0 ? 'The dense network has not finished training yet.'
      : `Nothing trained at level ${level} yet.` };
}

// Weights remaining per layer: every level (heatmap) and the selected one (bars); `layersMarks` outlines the selected
// level and layer.
function figLayers(v, level) {
  const S = v.summary, layers = S.layers.map(short), i = S.levels.indexOf(level);
  const z = memo(S, 'heat', () => S.heat.map(row => row.map(d => d == null ? null : 100 * d)));
  const col = S.heat.map(row => row[i] == null ? null : 100 * row[i]);
  const data = [
    { type: 'heatmap', z, x: S.levels, y: layers, zmin: 0, zmax: 100, colorscale: 'Viridis', xgap: 1, ygap: 1,
      colorbar: { orientation: 'h', thickness: 8, len: 0.6, x: 0.3, xanchor: 'center', y: -0.02, yanchor: 'top',
        tickvals: [0, 50, 100], ticksuffix: '%', tickfont: { size: 10 } },
      hovertemplate: '%{y}, level %{x}: %{z:.1f}% remain<extra></extra>' },
    { type: 'bar', orientation: 'h', x: col, y: layers, xaxis: 'x2', yaxis: 'y', marker: { color: '#0072B2' },
      text: col.map(c => c == null ? '' : c.toFixed(c < 10 ? 1 : 0) + '%'), textposition: 'outside', cliponaxis: false,
      textfont: { size: 10 },
      hovertemplate: '%{y} at level ' + level + ': %{x:.1f}% remain<extra></extra>' }];
  // room for the longest layer name (axes do not make their own margins here: that costs a redraw)
  const n = layers.length, px = n > 16 ? 5.4 : 6.6;
  return { data, layout: baseLayout({ margin: { l: Math.min(170, 10 + px * Math.max(...layers.map(l => l.length))),
    r: 28, t: 34, b: 56 }, bargap: 0.25,
    xaxis: axis('level', { domain: [0, 0.6], dtick: 1, ticks: '', showgrid: false, side: 'top', title: { text: 'level',
      standoff: 4, font: { size: 11 } } }),
    xaxis2: axis('', { domain: [0.66, 1], range: [0, 100], showgrid: true, ticksuffix: '%', tickvals: [0, 50, 100],
      side: 'top' }),
    yaxis: axis('', { type: 'category', categoryorder: 'array', categoryarray: [...layers].reverse(),
      tickmode: 'array', tickvals: layers, ticktext: layers,
      tickfont: { size: n > 16 ? 9 : 11 }, ticks: '', showgrid: false }) }) };
}
function layersMarks(v, level, layer) {
  const S = v.summary, k = S.layers.indexOf(layer);
  const shapes = [{ type: 'rect', xref: 'x', yref: 'paper', x0: level - 0.5, x1: level + 0.5, y0: 0, y1: 1,
    line: { color: '#D55E00', width: 3 } }];
  const pos = S.layers.length - 1 - k;   // the y axis lists the layers bottom-up
  if (k >= 0) shapes.push({ type: 'rect', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: pos - 0.5, y1: pos + 0.5,
    line: { color: '#D55E00', width: 1.5, dash: 'dot' } });
  return { shapes };
}

function figHistogram(v, d, log, atStart) {
  const H = d.hist;
  if (H.why) return { why: H.why };
  const w = H.top / H.bins, mids = Array.from({ length: H.bins }, (_, k) => (k + 0.5) * w);
  const bar = (key, name, color, op, vis) => ({ type: 'bar', x: mids, y: H[key], width: w, name, marker: { color },
    opacity: op, visible: vis,
    hovertemplate: `${name}: %{y} weights with |w| near %{x:.3g}<extra></extra>` });
  const data = [bar('trained_pruned', 'trained, pruned', PRUNED, 0.75, true),
    bar('trained_kept', 'trained, kept', KEPT, 0.75, true)];
  if (atStart) data.push(bar('init_pruned', 'at the start, pruned', '#CFCFCF', 0.55, true),
    bar('init_kept', 'at the start, kept', '#56B4E9', 0.55, true));
  const shapes = H.threshold == null ? [] : [{ type: 'line', yref: 'paper', x0: H.threshold, x1: H.threshold, y0: 0,
    y1: 1,
    line: { dash: 'dash', color: THEME.fg, width: 1.5 } }];
  // the axis ends where 99.5% of the weights are (a long thin tail would squeeze the kept/pruned boundary to its left
  // edge)
  const n = H.trained_kept.map((c, k) => c + H.trained_pruned[k]), total = n.reduce((a, b) => a + b, 0);
  let seen = 0, k995 = n.findIndex(c => (seen += c) >= 0.995 * total);
  const end = Math.min(H.top, Math.max((k995 + 1) * w, 3 * (H.threshold || 0)));
  return { data, layout: baseLayout({ barmode: 'overlay', shapes, margin: { l: 48, r: 10, t: 16, b: 36 },
    xaxis: axis(atStart ? '|w| (trained; paler: the same weights at the start)' : '|w| after training',
      { range: [0, end] }),
    yaxis: axis('weights', log ? { type: 'log', dtick: 1, exponentformat: 'power' } : { rangemode: 'tozero' }),
    annotations: H.threshold == null ? [] : [{ x: H.threshold, yref: 'paper', y: 1, text: 'threshold', showarrow: false,
      xanchor: 'left', yanchor: 'bottom', font: { size: 10 } }] }) };   // (above the bars)
}

function figScatter(v, d, log) {
  const P = d.scatter;
  if (P.why) return { why: P.why };
  const init = memo(P, 'init', () => Array.from(u16(P.init), q => q / 65535 * P.init_top));
  const trained = memo(P, 'trained', () => Array.from(u16(P.trained), q => q / 65535 * P.trained_top));
  const kept = memo(P, 'kept', () => unbits(P.kept, P.n));
  const ok = (x, y) => !log || (x > 0 && y > 0);   // a log axis cannot place a zero
  const pick = k => ({ x: init.filter((x, j) => kept[j] === k && ok(x, trained[j])),
    y: trained.filter((y, j) => kept[j] === k && ok(init[j], y)) });
  const K = pick(1), D = pick(0);
  const pts = (p, name, color) => ({ type: 'scatter', mode: 'markers', name, x: p.x, y: p.y,
    marker: { size: 4, color,
      opacity: 0.7 }, hovertemplate: `${name}<br>|w| at start %{x:.3g}, trained %{y:.3g}<extra></extra>` });
  const shapes = P.threshold == null ? [] : [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: P.threshold,
    y1: P.threshold, line: { dash: 'dash', color: THEME.fg, width: 1.5 } }];
  return { data: [pts(D, 'pruned', PRUNED), pts(K, 'kept', KEPT)],
    layout: baseLayout({ shapes, margin: { l: 48, r: 10, t: 8, b: 36 },
    xaxis: axis(`|w| at the start (${P.n} of ${P.of.toLocaleString()} weights)`,
      log ? { type: 'log', dtick: 1, exponentformat: 'power' } : { rangemode: 'tozero' }),
    yaxis: axis('|w| trained', log ? { type: 'log', dtick: 1, exponentformat: 'power' } : { rangemode: 'tozero' }) }) };
}

// The mask as a picture, plus what a hover over one cell says (computed on the fly, not stored per cell).
function maskGrid(P) {
  return memo(P, 'grid', () => {
    const [o, c, k, k2] = P.shape.length === 4 ? P.shape : [P.shape[0], P.shape[1], 1, 1];
    const n = o * c * k * k2, m = unbits(P.bits, n);
    const wq = P.w ? bytes(P.w) : null;
    if (P.kind === 'matrix') {
      const z = []; for (let r = 0; r < o; r++) z.push(Array.from(m.subarray(r * c, (r + 1) * c)));
      return { z, m, wq, at: (r, s) => (r < o && s < c ? r * c + s : -1), w: c, hgt: o };
    }
    // conv: one k x k tile per (filter, input channel) with a 1-pixel gap; few input channels: filters wrap into rows
    const F = P.wrap || 0, g = 1;
    const tilesX = F ? F * c : c, tilesY = F ? Math.ceil(o / F) : o;
    const W = tilesX * (k2 + g) - g, Hh = tilesY * (k + g) - g;
    const z = Array.from({ length: Hh }, () => new Array(W).fill(null));
    const at = (row, col) => {
      const ty = Math.floor(row / (k + g)), tx = Math.floor(col / (k2 + g)), r = row % (k + g), s = col % (k2 + g);
      if (r >= k || s >= k2) return -1;
      const f = F ? ty * F + Math.floor(tx / c) : ty, ch = F ? tx % c : tx;
      return f < o ? ((f * c + ch) * k + r) * k2 + s : -1;
    };
    for (let row = 0; row < Hh; row++) for (let col = 0; col < W; col++) { const j = at(row,
      col); if (j >= 0) z[row][col] = m[j]; }
    return { z, m, wq, at, w: W, hgt: Hh };
  });
}

function figMask(v, d, level, layer) {
  const P = d.picture, S = v.summary;
  const dark = [[0, '#EDEDED'], [1, '#1B1B1B']];
  if (P.kind === 'pixels') {
    const [H, W] = P.shape, rows = [], f = P.kept.map(x => 100 * x / P.units);
    for (let r = 0; r < H; r++) rows.push(f.slice(r * W, (r + 1) * W));
    // one colour scale for every level (0 to 100% of the units), so a colour means the same as Play moves through the
    // levels
    const data = [{ type: 'heatmap', z: rows, zmin: 0, zmax: 100, colorscale: 'Viridis', xaxis: 'x', yaxis: 'y',
      colorbar: { thickness: 8, len: 0.9, x: 0.43, xanchor: 'left', ticksuffix: '%', tickvals: [0, 50, 100],
        tickfont: { size: 10 } },
      customdata: P.mean_w ? rows.map((row, r) => row.map((_, c) => P.mean_w[r * W + c])) : null,
      hovertemplate: `pixel (row %{y}, col %{x}): kept by %{z:.0f}% of the ${P.units} units`
        + (P.mean_w ? '<br>mean trained |w| of those kept: %{customdata:.3g}' : '') + '<extra></extra>' }];
    if (v.input) {
      const mean = memo(v.input, 'mean', () => bytes(v.input.mean)), [mh, mw] = v.input.shape, img = [];
      for (let r = 0; r < mh; r++) img.push(Array.from(mean.subarray(r * mw, (r + 1) * mw)));
      data.push({ type: 'heatmap', z: img, colorscale: 'Greys', showscale: false, xaxis: 'x2', yaxis: 'y2',
        hovertemplate: 'pixel (row %{y}, col %{x}): mean brightness %{z}<extra></extra>' });
    }
    const ax = (dom, title) => ({ domain: dom, showticklabels: false, ticks: '', showgrid: false, zeroline: false,
      constrain: 'domain',
      title: { text: title, font: { size: 11 }, standoff: 2 } });
    return { data, layout: baseLayout({ margin: { l: 4, r: 4, t: 4, b: 32 },
      xaxis: ax([0, 0.41], 'units keeping<br>each pixel'), yaxis: Object.assign(ax([0, 1], ''),
        { autorange: 'reversed', scaleanchor: 'x' }),
      xaxis2: ax([0.58, 1], v.input ? 'mean image' : ''), yaxis2: Object.assign(ax([0, 1], ''),
        { autorange: 'reversed', scaleanchor: 'x2', anchor: 'x2' }) }) };
  }
  if (P.kind === 'blocks') {
    const [gr, gc] = P.grid, f = bytes(P.frac), z = [];
    for (let r = 0; r < gr; r++) z.push(Array.from(f.subarray(r * gc, (r + 1) * gc), q => 100 * q / 255));
    return { data: [{ type: 'heatmap', z, zmin: 0, zmax: 100, colorscale: 'Greys', reversescale: false,
      showscale: false,
      hovertemplate: `units %{y}×${P.block[0]}.., inputs %{x}×${P.block[1]}..: %{z:.0f}% kept<extra></extra>` }],
      layout: baseLayout({ xaxis: axis('inputs (blocks)', { showgrid: false }),
        yaxis: axis('units (blocks)', { autorange: 'reversed', showgrid: false }) }) };
  }
  if (P.kind === 'none') return { why: P.why };
  const G = maskGrid(P);
  const conv = P.kind === 'conv', [o, c, k] = P.shape;
  let xa, ya;
  if (conv && !P.wrap) {
    const every = c > 32 ? 8 : c > 8 ? 4 : 1, everyO = o > 32 ? 8 : o > 8 ? 4 : 1;
    // a tick every `every` channels, at the middle of its kernel column (row)
    const at = (n, e) => Array.from({ length: Math.ceil(n / e) }, (_, j) => j * e * (k + 1) + (k - 1) / 2);
    const label = (n, e) => Array.from({ length: Math.ceil(n / e) }, (_, j) => j * e);
    xa = axis('input channel', { tickvals: at(c, every), ticktext: label(c, every), showgrid: false, ticks: '',
      side: 'top' });
    ya = axis('filter (output channel)', { tickvals: at(o, everyO), ticktext: label(o, everyO), showgrid: false,
      ticks: '', autorange: 'reversed', scaleanchor: 'x' });
  } else if (conv) {
    xa = axis(`${o} filters, ${P.wrap} to a row` + (c > 1 ? `, ${c} input channels side by side` : ''),
      { showticklabels: false, showgrid: false, ticks: '', side: 'top' });
    ya = axis('', { showticklabels: false, showgrid: false, ticks: '', autorange: 'reversed', scaleanchor: 'x' });
  } else {
    xa = axis(`input (${c})`, { showgrid: false, side: 'top' });
    ya = axis(`unit (${o})`, { showgrid: false, autorange: 'reversed' });
  }
  return { data: [{ type: 'heatmap', z: G.z, zmin: 0, zmax: 1, colorscale: dark, showscale: false, hoverinfo: 'none' }],
    layout: baseLayout({ margin: { l: 40, r: 8, t: 34, b: 8 }, xaxis: xa, yaxis: ya }), hover: (x, y) => maskHover(v,
      d, level, layer, G, x, y) };
}

function maskHover(v, d, level, layer, G, x, y) {
  const P = d.picture, j = G.at(y, x);
  if (j < 0) return null;
  let where;
  if (P.kind === 'matrix') where = `unit ${Math.floor(j / P.shape[1])}, input ${j % P.shape[1]}`;
  else { const [o, c, k, k2] = P.shape, s = j % k2, r = Math.floor(j / k2) % k, ch = Math.floor(j / (k * k2)) % c,
    f = Math.floor(j / (c * k * k2)); where = `filter ${f}, input channel ${ch}, kernel (${r}, ${s})`; }
  const before = level > 1 && v.detail[level - 1] && v.detail[level - 1][layer];
  const prev = before ? maskGrid(before.picture) : null;
  let state = G.m[j] ? 'kept' : (prev && !prev.m[j] ? 'pruned at an earlier level' : `pruned at level ${level}`);
  let w = '';
  if (G.wq && (G.m[j] || !prev || prev.m[j])) w = ` · trained |w| ≈ ${unlog(G.wq[j], P.lo, P.hi).toPrecision(2)}`;
  return `${where}: <b>${state}</b>${w}`;
}

// Stability to SGD noise (Frankle et al. 2020): the error along the line between two copies trained from each k, and
// its barrier.
// ± 1 sd of a barrier over its replicate pairs, as plotly error bars (none for a sweep of one pair)
const sdBars = (pts, color) => pts.some(p => p.barrier_sd != null)
  ? { type: 'data', array: pts.map(p => 100 * (p.barrier_sd || 0)), visible: true, color, thickness: 1.5,
    width: 4 } : undefined;
const sdText2 = pts => pts.map(p => p.barrier_sd != null
  ? ` ± ${(100 * p.barrier_sd).toFixed(2)} (${p.pairs} pairs)` : '');
// viridis: k from early (dark) to late
const SEQ = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#bddf26'];
function figStability(v) {
  const T = v.summary.stability, data = [], n = T.paths.length;
  T.paths.forEach((p, j) => {
    const c = SEQ[Math.round(j * (SEQ.length - 1) / Math.max(1, n - 1))];
    data.push({ type: 'scatter', mode: 'lines+markers', name: `k = ${p.k}`, x: p.alpha, y: p.error.map(e => 100 * e),
      line: { color: c, width: 2 }, marker: { size: 5,
        color: c }, hovertemplate: `k = ${p.k}, α = %{x:.2f}: test error %{y:.2f}%<extra></extra>` });
  });
  const bn = T.keep && T.keep.length ? ' (BatchNorm recomputed)' : '';
  data.push({ type: 'scatter', mode: 'lines+markers', name: 'barrier' + bn, x: T.paths.map(p => p.k),
    y: T.paths.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2',
    error_y: sdBars(T.paths, '#D55E00'), customdata: sdText2(T.paths),
    line: { color: '#D55E00', width: 3 }, marker: { size: 8,
      color: '#D55E00' }, hovertemplate: 'k = %{x}: barrier %{y:.2f}%{customdata} points<extra></extra>' });
  if (T.keep && T.keep.length) data.push({ type: 'scatter', mode: 'lines+markers',
    name: 'barrier, BatchNorm interpolated', x: T.keep.map(p => p.k),
    y: T.keep.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2', line: { color: '#D55E00', width: 2,
      dash: 'dash' }, marker: { size: 6, color: '#D55E00', symbol: 'square' },
    error_y: sdBars(T.keep, '#D55E00'), customdata: sdText2(T.keep),
    hovertemplate: 'k = %{x}: barrier %{y:.2f}%{customdata} points, BatchNorm interpolated<extra></extra>' });
  for (const lv of [...new Set((T.sparse || []).map(p => p.level))]) {
    const pts = T.sparse.filter(p => p.level === lv);
    data.push({ type: 'scatter', mode: 'lines+markers', name: `level ${lv} mask`, x: pts.map(p => p.k),
      y: pts.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2',
      line: { color: '#0072B2', width: 2, dash: 'dot' }, marker: { size: 9, color: '#0072B2', symbol: 'triangle-up' },
      error_y: sdBars(pts, '#0072B2'), customdata: sdText2(pts),
      hovertemplate: `level ${lv}'s mask, k = %{x}: barrier %{y:.2f}%{customdata} points<extra></extra>` });
  }
  // each k's path on the left, the barriers over k on the right, and a legend that names every line and mark
  return { data, layout: baseLayout({ showlegend: true, margin: { l: 52, r: 8, t: 8, b: 40 },
    legend: { x: 0.79, xanchor: 'left', y: 1, yanchor: 'top', font: { size: 10 }, bgcolor: 'rgba(0,0,0,0)',
      tracegroupgap: 2 },
    xaxis: axis('α: copy 1 → copy 2', { domain: [0, 0.33], range: [-0.03, 1.03] }),
    yaxis: axis('test error (%)'), xaxis2: axis('k (iterations)', { domain: [0.44, 0.77], anchor: 'y2' }),
    yaxis2: axis('error barrier (points)', { anchor: 'x2', rangemode: 'tozero' }) }) };
}
