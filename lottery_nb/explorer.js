// lottery_nb's explorer, drawn in the browser: a study's view (computed once in Python by lottery_nb.view) becomes six
// linked plotly.js figures that follow a level slider and a layer choice with no round trip to the kernel.
// It is an anywidget module (render({model, el})); exported pages and the HTML docs run the same code with a model
// that holds the view alone (`staticModel`), so it also works without a kernel.

const STYLE_ID = 'lottery-nb-explorer-style';
const CSS = `
.lnb { font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1500px;
       container-type: inline-size; --lnb-h: 180px;
       /* its colours: JupyterLab's theme where there is one, else the reader's light or dark preference */
       --lnb-d-fg: #222; --lnb-d-soft: #555; --lnb-d-bg: #fff; --lnb-d-bg1: #f5f5f5; --lnb-d-bg2: #e6e6e6;
       --lnb-d-line: #e0e0e0; --lnb-d-border: #b0b0b0; --lnb-d-grid: #ececec; --lnb-d-axis: #999; --lnb-d-err: #b00020;
       --lnb-fg: var(--jp-ui-font-color1, var(--lnb-d-fg)); --lnb-soft: var(--jp-ui-font-color2, var(--lnb-d-soft));
       --lnb-bg: var(--jp-layout-color0, var(--lnb-d-bg)); --lnb-bg1: var(--jp-layout-color1, var(--lnb-d-bg1));
       --lnb-bg2: var(--jp-layout-color2, var(--lnb-d-bg2)); --lnb-line: var(--jp-border-color2, var(--lnb-d-line));
       --lnb-border: var(--jp-border-color1, var(--lnb-d-border)); --lnb-grid: var(--jp-border-color3, var(--lnb-d-grid));
       --lnb-axis: var(--jp-border-color1, var(--lnb-d-axis)); --lnb-err: var(--jp-error-color1, var(--lnb-d-err));
       --lnb-kept: #0072B2; color: var(--lnb-fg); background: var(--lnb-bg); }
@media (prefers-color-scheme: dark) {
  .lnb { --lnb-d-fg: #e8e8e8; --lnb-d-soft: #b5b5b5; --lnb-d-bg: #161616; --lnb-d-bg1: #242424; --lnb-d-bg2: #333;
         --lnb-d-line: #3a3a3a; --lnb-d-border: #666; --lnb-d-grid: #2c2c2c; --lnb-d-axis: #777; --lnb-d-err: #ff7a7a;
         --lnb-kept: #56B4E9; }
  body[data-jp-theme-light="true"] .lnb { --lnb-kept: #0072B2; }
}
body[data-jp-theme-light="false"] .lnb { --lnb-kept: #56B4E9; }
.lnb-kept { color: var(--lnb-kept); }
.jp-OutputArea:has(.lnb) .lnb-saved-hint, .lnb-static ~ .lnb-saved-hint { display: none; }   /* (see widgets.SAVED_HINT) */
.lnb * { box-sizing: border-box; }
.lnb button { font: inherit; color: inherit; padding: 2px 9px; border: 1px solid var(--lnb-border); border-radius: 4px;
              background: var(--lnb-bg1); cursor: pointer; }
.lnb button:hover:not(:disabled) { background: var(--lnb-bg2); }
.lnb button:disabled { opacity: .45; cursor: default; }
.lnb button.lnb-go { background: #0072B2; border-color: #0072B2; color: #fff; }
.lnb select { font: inherit; color: inherit; background: var(--lnb-bg1); border: 1px solid var(--lnb-border); max-width: 240px; }
.lnb-bar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; padding: 4px 0 6px; }
.lnb-bar input[type=range] { flex: 1 1 160px; min-width: 120px; max-width: 360px; accent-color: #D55E00; }
.lnb-level { font-size: 15px; white-space: nowrap; }
.lnb-chips { display: flex; gap: 10px; flex-wrap: wrap; font-size: 13px; }
.lnb-chip { white-space: nowrap; }
.lnb-chip i { color: var(--lnb-soft); }
.lnb-lead { font-size: 11px; color: var(--lnb-soft); }
.lnb-damaged, .lnb-msg.lnb-err { color: var(--lnb-err); }
.lnb-sw { display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 4px; }
.lnb-row2 { display: flex; align-items: center; gap: 8px 18px; flex-wrap: wrap; padding: 0 0 6px; min-height: 30px; }
.lnb-train { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-left: auto; }
.lnb-train:empty { display: none; }
.lnb-train progress { width: 160px; }
.lnb-msg { color: var(--lnb-soft); }
.lnb-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) minmax(0, 1.05fr); gap: 8px 12px; }
.lnb-panel { min-width: 0; border-top: 1px solid var(--lnb-line); padding-top: 4px; }
.lnb-panel.lnb-tall { grid-column: 3; grid-row: 1 / span 3; display: flex; flex-direction: column; }
.lnb-head { display: flex; align-items: center; gap: 2px 8px; min-height: 22px; flex-wrap: wrap; }
.lnb-key { font-size: 11px; color: var(--lnb-soft); white-space: nowrap; display: flex; gap: 8px; align-items: center; }
.lnb-key i { display: inline-block; width: 10px; height: 10px; margin-right: 3px; vertical-align: -1px; }
.lnb-title { font-weight: 600; min-width: 0; overflow-wrap: anywhere; }   /* a long layer name wraps, never cut */
.lnb-tabs { margin-left: auto; display: flex; gap: 2px; }
.lnb-tabs button { padding: 0 7px; font-size: 12px; }
.lnb-tabs button[aria-pressed=true] { background: var(--lnb-fg); color: var(--lnb-bg); border-color: var(--lnb-fg); }
.lnb-fig { height: var(--lnb-h); position: relative; }
.lnb-plot { position: absolute; inset: 0; visibility: hidden; }
.lnb-plot.lnb-parked { content-visibility: hidden; }   /* drawn and kept: the browser skips it until shown, and shows it at once */
.lnb-plot.lnb-on { visibility: visible; }
.lnb-tall .lnb-fig { flex: none; height: calc(2.7 * var(--lnb-h)); }   /* fixed: a longer note never resizes (redraws) it */
.lnb-panel[data-panel=stability] { grid-column: 1 / -1; }   /* its own row: two plots and their legend side by side */
.lnb-panel[data-panel=stability] .lnb-fig { height: calc(1.5 * var(--lnb-h)); }
.lnb-note { font-size: 12px; color: var(--lnb-soft); line-height: 1.3; min-height: 3.9em; }   /* the whole note: the teaching */
.lnb-pruned { color: var(--lnb-soft); }
.lnb-layerbar { grid-column: 1 / span 2; display: flex; align-items: center; gap: 10px; padding-top: 2px; flex-wrap: wrap; }
.lnb-layerbar label { white-space: nowrap; }
.lnb-why { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; text-align: center;
           padding: 12px 18px; color: var(--lnb-soft); background: var(--lnb-bg1); border: 1px dashed var(--lnb-border);
           font-size: 13px; }
.lnb-why code { background: var(--lnb-bg2); padding: 0 3px; }
.lnb-tip { position: absolute; pointer-events: none; background: var(--lnb-bg); border: 1px solid var(--lnb-border); border-radius: 3px;
           padding: 3px 6px; font-size: 12px; white-space: nowrap; z-index: 5; display: none; }
.lnb-loading { padding: 20px; color: var(--lnb-soft); }
@container (max-width: 760px) {
  .lnb-grid { grid-template-columns: minmax(0, 1fr); }
  .lnb-panel.lnb-tall { grid-column: 1; grid-row: auto; }
  .lnb-tall .lnb-fig { height: calc(1.6 * var(--lnb-h)); flex: none; }
  .lnb-layerbar { grid-column: 1; }
}`;

const FONT = { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 11 };
// The plots' colours, read from the explorer's CSS variables (JupyterLab's theme, or the reader's preference)
const THEME = { fg: '#222', soft: '#555', bg: '#fff', grid: '#ececec', axis: '#999' };
function readTheme(root) {
  const cs = getComputedStyle(root), v = n => cs.getPropertyValue(n).trim();
  for (const k of Object.keys(THEME)) THEME[k] = v(`--lnb-${k}`) || THEME[k];
}
const CONFIG = { displaylogo: false, responsive: false, modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'], toImageButtonOptions: { scale: 2 } };
const KEPT = '#0072B2', PRUNED = '#A8A8A8';

// ---------------------------------------------------------------- plotly.js, loaded once per page
function plotly(model) {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  if (!globalThis.__lotteryNbPlotly) {
    globalThis.__lotteryNbPlotly = (async () => {
      const ref = model.get('_plotly');
      if (!ref || !model.widget_manager) throw new Error('plotly.js is not on this page');
      const lib = await model.widget_manager.get_model(String(ref).replace(/^IPY_MODEL_/, ''));
      const url = URL.createObjectURL(new Blob([lib.get('source')], { type: 'text/javascript' }));
      try { await import(/* webpackIgnore: true */ url); } finally { URL.revokeObjectURL(url); }
      if (!globalThis.Plotly) throw new Error('plotly.js did not load');
      return globalThis.Plotly;
    })();
    globalThis.__lotteryNbPlotly.catch(() => { delete globalThis.__lotteryNbPlotly; });
  }
  return globalThis.__lotteryNbPlotly;
}

// ---------------------------------------------------------------- decoding the view's arrays
const cache = new WeakMap();
function bytes(b64) { const s = atob(b64), a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function memo(obj, key, f) {   // decoded arrays are kept with the view object they came from
  let m = cache.get(obj); if (!m) cache.set(obj, m = {});
  return key in m ? m[key] : (m[key] = f());
}
function unbits(b64, n) { const a = bytes(b64), out = new Uint8Array(n); for (let i = 0; i < n; i++) out[i] = (a[i >> 3] >> (7 - (i & 7))) & 1; return out; }
function u16(b64) { const a = bytes(b64); return new Uint16Array(a.buffer, a.byteOffset, a.length >> 1); }
function unlog(q, lo, hi) { const l0 = Math.log10(lo), l1 = Math.log10(hi); return q === 0 ? 0 : Math.pow(10, l0 + q / 255 * (l1 - l0)); }
const pct = (x, d = 1) => x == null ? '–' : (100 * x).toFixed(d) + '%';
const short = s => s.replace(/\.weight$/, '');
const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const md = s => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'html') e.innerHTML = v; else if (v != null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
function fmtSecs(s) {
  if (s == null) return '';
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// ---------------------------------------------------------------- the figures: (state) -> {data, layout}
function baseLayout(extra = {}) {
  return Object.assign({ font: { ...FONT, color: THEME.fg }, margin: { l: 48, r: 10, t: 8, b: 36 }, paper_bgcolor: THEME.bg,
    plot_bgcolor: THEME.bg, showlegend: false, hovermode: 'closest', hoverlabel: { font: { size: 11 } }, uirevision: 'keep' }, extra);
}
const axis = (title, extra = {}) => Object.assign({ title: { text: title, standoff: 4, font: { size: 11 } }, gridcolor: THEME.grid,
  zeroline: false, automargin: false, linecolor: THEME.axis, ticks: 'outside', ticklen: 3 }, extra);

// Whether the ticket's lead over a control holds beyond seed noise at this level (a group's paired t-test), as a mark
function leadMark(d) {
  if (!d || d.p == null) return '';
  const says = `the ticket's lead over it: ${(100 * d.mean).toFixed(2)} points (95% CI ${(100 * d.lo).toFixed(2)} to ${(100 * d.hi).toFixed(2)}, ` +
    `p = ${d.p.toPrecision(2)} over ${d.n} seeds)`;
  return d.holds ? h('span', { class: 'lnb-lead', title: `${says}: beyond seed noise` }, ' ✓ beyond noise')
    : h('span', { class: 'lnb-lead', title: `${says}: within seed noise` }, ' ≈ within noise');
}

// A ± 1 sd band behind a line (a group of seeds): the upper edge forward, the lower edge back, filled; null without one.
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

// Tickets against controls: the same traces at every level; `accuracyMarks` marks the selected one (each level is its own cached plot).
function figAccuracy(v) {
  const S = v.summary, data = [];
  const x = S.remaining.map(r => r == null ? null : 100 * r);
  for (const name of S.variants) {
    const st = S.style[name];
    const y = S.acc[name].map((a, j) => (j === 0 ? S.dense_acc : a)), band = S.band && S.band[name];
    const under = bandTrace(x, band, st.color);
    if (under) data.push(under);
    data.push({ type: 'scatter', mode: 'lines+markers', name: st.label, x, y: y.map(a => a == null ? null : 100 * a), connectgaps: false,
      line: { color: st.color, dash: st.dash, width: name === 'ticket' ? 3 : 2 }, marker: { symbol: st.symbol, size: 7, color: st.color },
      customdata: sdText(band), hovertemplate: `${esc(st.label)}<br>%{x:.3g}% of weights: %{y:.2f}%${band ? '%{customdata}' : ''}<extra></extra>` });
  }
  const ys = data.flatMap(t => t.y).filter(y => y != null), ticks = S.remaining_ticks;
  const lo = ys.length ? Math.min(...ys) : 0, hi = ys.length ? Math.max(...ys) : 100, pad = Math.max(0.3, (hi - lo) * 0.12);
  const xs = x.filter(a => a != null), xlo = Math.log10(Math.min(...xs)), xhi = Math.log10(Math.max(...xs)), xpad = Math.max(0.03, (xhi - xlo) * 0.06);
  // the last level's point gets a label of its own where no round tick is near it
  const last = +Math.min(...xs).toPrecision(2), tv = ticks.every(t => Math.abs(Math.log10(t / last)) > 0.08) ? [...ticks, last] : ticks;
  return { data, layout: baseLayout({ margin: { l: 48, r: 36, t: 8, b: 36 },   // (the right margin: the 'dense' label)
    xaxis: axis('weights remaining', { type: 'log', autorange: false, range: [xhi + xpad, xlo - xpad], tickvals: tv,
      ticktext: tv.map(t => t + '%'), tickangle: 0 }),
    yaxis: axis('test accuracy (%)', { autorange: false, range: [lo - pad, hi + pad * 2.2] }) }) };
}
function accuracyMarks(v, level) {
  const S = v.summary, i = S.levels.indexOf(level), x = S.remaining[i] == null ? null : 100 * S.remaining[i];
  const shapes = [], annotations = [];
  if (S.dense_acc != null) {
    shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 100 * S.dense_acc, y1: 100 * S.dense_acc, line: { color: THEME.fg, dash: 'dot', width: 1 } });
    annotations.push({ xref: 'paper', x: 1, xanchor: 'left', y: 100 * S.dense_acc, yanchor: 'middle', text: 'dense', showarrow: false,
      font: { size: 10, color: THEME.soft } });   // beside the plot, where no marker is
  }
  if (x != null) {
    shapes.push({ type: 'line', yref: 'paper', x0: x, x1: x, y0: 0, y1: 1, line: { color: '#D55E00', width: 2 }, opacity: .35 });
    const t = level === 0 ? S.dense_acc : S.acc.ticket[i];
    if (t != null) annotations.push({ x: Math.log10(x), y: 100 * t, text: `level ${level}`, showarrow: true, arrowhead: 2, arrowsize: 1, arrowwidth: 1.5,
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
    data.push({ type: 'scatter', mode: c.x.length > 60 ? 'lines' : 'lines+markers', name: st.label, x: c.x, y: c.y.map(a => a == null ? null : 100 * a),
      line: { color: st.color, dash: st.dash, width: 2 }, marker: { symbol: st.symbol, size: 6, color: st.color },
      customdata: sdText(c.band), hovertemplate: `${esc(st.label)}, epoch %{x}: %{y:.2f}%${c.band ? '%{customdata}' : ''}<extra></extra>` });
  }
  if (live && live.level === level) live.variants.forEach((name, k) => {
    const st = S.style[name] || { color: '#555', label: name };
    data.push({ type: 'scatter', mode: 'lines+markers', name: st.label + ' (training)', x: live.x, y: live.y[k].map(a => 100 * a),
      line: { color: st.color, dash: 'dot', width: 2 }, marker: { size: 6, color: st.color, symbol: 'circle-open' },
      hovertemplate: `${esc(st.label)} (training), epoch %{x}: %{y:.2f}%<extra></extra>` });
  });
  return { data, layout: baseLayout({ xaxis: axis('epoch', { dtick: S.epochs > 12 ? null : 1, rangemode: 'tozero' }), yaxis: axis('test accuracy (%)') }),
    empty: data.length ? null : (level === 0 ? 'The dense network has not finished training yet.' : `Nothing trained at level ${level} yet.`) };
}

// Weights remaining per layer: every level (heatmap) and the selected one (bars); `layersMarks` outlines the selected level and layer.
function figLayers(v, level) {
  const S = v.summary, layers = S.layers.map(short), i = S.levels.indexOf(level);
  const z = memo(S, 'heat', () => S.heat.map(row => row.map(d => d == null ? null : 100 * d)));
  const col = S.heat.map(row => row[i] == null ? null : 100 * row[i]);
  const data = [
    { type: 'heatmap', z, x: S.levels, y: layers, zmin: 0, zmax: 100, colorscale: 'Viridis', xgap: 1, ygap: 1,
      colorbar: { orientation: 'h', thickness: 8, len: 0.6, x: 0.3, xanchor: 'center', y: -0.02, yanchor: 'top', tickvals: [0, 50, 100], ticksuffix: '%', tickfont: { size: 10 } },
      hovertemplate: '%{y}, level %{x}: %{z:.1f}% remain<extra></extra>' },
    { type: 'bar', orientation: 'h', x: col, y: layers, xaxis: 'x2', yaxis: 'y', marker: { color: '#0072B2' },
      text: col.map(c => c == null ? '' : c.toFixed(c < 10 ? 1 : 0) + '%'), textposition: 'outside', cliponaxis: false, textfont: { size: 10 },
      hovertemplate: '%{y} at level ' + level + ': %{x:.1f}% remain<extra></extra>' }];
  const n = layers.length, px = n > 16 ? 5.4 : 6.6;   // room for the longest layer name (axes do not make their own margins here: that costs a redraw)
  return { data, layout: baseLayout({ margin: { l: Math.min(170, 10 + px * Math.max(...layers.map(l => l.length))), r: 28, t: 34, b: 56 }, bargap: 0.25,
    xaxis: axis('level', { domain: [0, 0.6], dtick: 1, ticks: '', showgrid: false, side: 'top', title: { text: 'level', standoff: 4, font: { size: 11 } } }),
    xaxis2: axis('', { domain: [0.66, 1], range: [0, 100], showgrid: true, ticksuffix: '%', tickvals: [0, 50, 100], side: 'top' }),
    yaxis: axis('', { type: 'category', categoryorder: 'array', categoryarray: [...layers].reverse(), tickmode: 'array', tickvals: layers, ticktext: layers,
      tickfont: { size: n > 16 ? 9 : 11 }, ticks: '', showgrid: false }) }) };
}
function layersMarks(v, level, layer) {
  const S = v.summary, k = S.layers.indexOf(layer);
  const shapes = [{ type: 'rect', xref: 'x', yref: 'paper', x0: level - 0.5, x1: level + 0.5, y0: 0, y1: 1, line: { color: '#D55E00', width: 3 } }];
  const pos = S.layers.length - 1 - k;   // the y axis lists the layers bottom-up
  if (k >= 0) shapes.push({ type: 'rect', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: pos - 0.5, y1: pos + 0.5, line: { color: '#D55E00', width: 1.5, dash: 'dot' } });
  return { shapes };
}

function figHistogram(v, d, log, atStart) {
  const H = d.hist;
  if (H.why) return { why: H.why };
  const w = H.top / H.bins, mids = Array.from({ length: H.bins }, (_, k) => (k + 0.5) * w);
  const bar = (key, name, color, op, vis) => ({ type: 'bar', x: mids, y: H[key], width: w, name, marker: { color }, opacity: op, visible: vis,
    hovertemplate: `${name}: %{y} weights with |w| near %{x:.3g}<extra></extra>` });
  const data = [bar('trained_pruned', 'trained, pruned', PRUNED, 0.75, true), bar('trained_kept', 'trained, kept', KEPT, 0.75, true)];
  if (atStart) data.push(bar('init_pruned', 'at the start, pruned', '#CFCFCF', 0.55, true), bar('init_kept', 'at the start, kept', '#56B4E9', 0.55, true));
  const shapes = H.threshold == null ? [] : [{ type: 'line', yref: 'paper', x0: H.threshold, x1: H.threshold, y0: 0, y1: 1,
    line: { dash: 'dash', color: THEME.fg, width: 1.5 } }];
  // the axis ends where 99.5% of the weights are (a long thin tail would squeeze the kept/pruned boundary to its left edge)
  const n = H.trained_kept.map((c, k) => c + H.trained_pruned[k]), total = n.reduce((a, b) => a + b, 0);
  let seen = 0, k995 = n.findIndex(c => (seen += c) >= 0.995 * total);
  const end = Math.min(H.top, Math.max((k995 + 1) * w, 3 * (H.threshold || 0)));
  return { data, layout: baseLayout({ barmode: 'overlay', shapes, margin: { l: 48, r: 10, t: 16, b: 36 },
    xaxis: axis(atStart ? '|w| (trained; paler: the same weights at the start)' : '|w| after training', { range: [0, end] }),
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
  const pick = k => ({ x: init.filter((x, j) => kept[j] === k && ok(x, trained[j])), y: trained.filter((y, j) => kept[j] === k && ok(init[j], y)) });
  const K = pick(1), D = pick(0);
  const pts = (p, name, color) => ({ type: 'scatter', mode: 'markers', name, x: p.x, y: p.y,
    marker: { size: 4, color, opacity: 0.7 }, hovertemplate: `${name}<br>|w| at start %{x:.3g}, trained %{y:.3g}<extra></extra>` });
  const shapes = P.threshold == null ? [] : [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: P.threshold, y1: P.threshold, line: { dash: 'dash', color: THEME.fg, width: 1.5 } }];
  return { data: [pts(D, 'pruned', PRUNED), pts(K, 'kept', KEPT)], layout: baseLayout({ shapes, margin: { l: 48, r: 10, t: 8, b: 36 },
    xaxis: axis(`|w| at the start (${P.n} of ${P.of.toLocaleString()} weights)`, log ? { type: 'log', dtick: 1, exponentformat: 'power' } : { rangemode: 'tozero' }),
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
    for (let row = 0; row < Hh; row++) for (let col = 0; col < W; col++) { const j = at(row, col); if (j >= 0) z[row][col] = m[j]; }
    return { z, m, wq, at, w: W, hgt: Hh };
  });
}

function figMask(v, d, level, layer) {
  const P = d.picture, S = v.summary;
  const dark = [[0, '#EDEDED'], [1, '#1B1B1B']];
  if (P.kind === 'pixels') {
    const [H, W] = P.shape, rows = [], f = P.kept.map(x => 100 * x / P.units);
    for (let r = 0; r < H; r++) rows.push(f.slice(r * W, (r + 1) * W));
    // one colour scale for every level (0 to 100% of the units), so a colour means the same as Play moves through the levels
    const data = [{ type: 'heatmap', z: rows, zmin: 0, zmax: 100, colorscale: 'Viridis', xaxis: 'x', yaxis: 'y',
      colorbar: { thickness: 8, len: 0.9, x: 0.43, xanchor: 'left', ticksuffix: '%', tickvals: [0, 50, 100], tickfont: { size: 10 } },
      customdata: P.mean_w ? rows.map((row, r) => row.map((_, c) => P.mean_w[r * W + c])) : null,
      hovertemplate: `pixel (row %{y}, col %{x}): kept by %{z:.0f}% of the ${P.units} units` + (P.mean_w ? '<br>mean trained |w| of those kept: %{customdata:.3g}' : '') + '<extra></extra>' }];
    if (v.input) {
      const mean = memo(v.input, 'mean', () => bytes(v.input.mean)), [mh, mw] = v.input.shape, img = [];
      for (let r = 0; r < mh; r++) img.push(Array.from(mean.subarray(r * mw, (r + 1) * mw)));
      data.push({ type: 'heatmap', z: img, colorscale: 'Greys', showscale: false, xaxis: 'x2', yaxis: 'y2',
        hovertemplate: 'pixel (row %{y}, col %{x}): mean brightness %{z}<extra></extra>' });
    }
    const ax = (dom, title) => ({ domain: dom, showticklabels: false, ticks: '', showgrid: false, zeroline: false, constrain: 'domain',
      title: { text: title, font: { size: 11 }, standoff: 2 } });
    return { data, layout: baseLayout({ margin: { l: 4, r: 4, t: 4, b: 32 },
      xaxis: ax([0, 0.41], 'units keeping<br>each pixel'), yaxis: Object.assign(ax([0, 1], ''), { autorange: 'reversed', scaleanchor: 'x' }),
      xaxis2: ax([0.58, 1], v.input ? 'mean image' : ''), yaxis2: Object.assign(ax([0, 1], ''), { autorange: 'reversed', scaleanchor: 'x2', anchor: 'x2' }) }) };
  }
  if (P.kind === 'blocks') {
    const [gr, gc] = P.grid, f = bytes(P.frac), z = [];
    for (let r = 0; r < gr; r++) z.push(Array.from(f.subarray(r * gc, (r + 1) * gc), q => 100 * q / 255));
    return { data: [{ type: 'heatmap', z, zmin: 0, zmax: 100, colorscale: 'Greys', reversescale: false, showscale: false,
      hovertemplate: `units %{y}×${P.block[0]}.., inputs %{x}×${P.block[1]}..: %{z:.0f}% kept<extra></extra>` }],
      layout: baseLayout({ xaxis: axis('inputs (blocks)', { showgrid: false }), yaxis: axis('units (blocks)', { autorange: 'reversed', showgrid: false }) }) };
  }
  if (P.kind === 'none') return { why: P.why };
  const G = maskGrid(P);
  const conv = P.kind === 'conv', [o, c, k] = P.shape;
  let xa, ya;
  if (conv && !P.wrap) {
    const every = c > 32 ? 8 : c > 8 ? 4 : 1, everyO = o > 32 ? 8 : o > 8 ? 4 : 1;
    xa = axis('input channel', { tickvals: Array.from({ length: Math.ceil(c / every) }, (_, j) => j * every * (k + 1) + (k - 1) / 2), ticktext: Array.from({ length: Math.ceil(c / every) }, (_, j) => j * every), showgrid: false, ticks: '', side: 'top' });
    ya = axis('filter (output channel)', { tickvals: Array.from({ length: Math.ceil(o / everyO) }, (_, j) => j * everyO * (k + 1) + (k - 1) / 2), ticktext: Array.from({ length: Math.ceil(o / everyO) }, (_, j) => j * everyO), showgrid: false, ticks: '', autorange: 'reversed', scaleanchor: 'x' });
  } else if (conv) {
    xa = axis(`${o} filters, ${P.wrap} to a row` + (c > 1 ? `, ${c} input channels side by side` : ''), { showticklabels: false, showgrid: false, ticks: '', side: 'top' });
    ya = axis('', { showticklabels: false, showgrid: false, ticks: '', autorange: 'reversed', scaleanchor: 'x' });
  } else {
    xa = axis(`input (${c})`, { showgrid: false, side: 'top' });
    ya = axis(`unit (${o})`, { showgrid: false, autorange: 'reversed' });
  }
  return { data: [{ type: 'heatmap', z: G.z, zmin: 0, zmax: 1, colorscale: dark, showscale: false, hoverinfo: 'none' }],
    layout: baseLayout({ margin: { l: 40, r: 8, t: 34, b: 8 }, xaxis: xa, yaxis: ya }), hover: (x, y) => maskHover(v, d, level, layer, G, x, y) };
}

function maskHover(v, d, level, layer, G, x, y) {
  const P = d.picture, j = G.at(y, x);
  if (j < 0) return null;
  let where;
  if (P.kind === 'matrix') where = `unit ${Math.floor(j / P.shape[1])}, input ${j % P.shape[1]}`;
  else { const [o, c, k, k2] = P.shape, s = j % k2, r = Math.floor(j / k2) % k, ch = Math.floor(j / (k * k2)) % c, f = Math.floor(j / (c * k * k2)); where = `filter ${f}, input channel ${ch}, kernel (${r}, ${s})`; }
  const prev = level > 1 && v.detail[level - 1] && v.detail[level - 1][layer] ? maskGrid(v.detail[level - 1][layer].picture) : null;
  let state = G.m[j] ? 'kept' : (prev && !prev.m[j] ? 'pruned at an earlier level' : `pruned at level ${level}`);
  let w = '';
  if (G.wq && (G.m[j] || !prev || prev.m[j])) w = ` · trained |w| ≈ ${unlog(G.wq[j], P.lo, P.hi).toPrecision(2)}`;
  return `${where}: <b>${state}</b>${w}`;
}

// ---------------------------------------------------------------- the app
// Every view is a panel holding a small cache of drawn plots, one per state it has shown (level, layer, options): a change
// shows the cached plot at once, or draws it; neighbouring states are drawn ahead while the page is idle. A new study view
// from the kernel (training goes on) or a new size empties the caches.
// Every view of the explorer, in the order it is laid out: its panel's key and title, what its plot depends on (`state`), how it is
// drawn (`build`: a plotly figure, or {why} to say why not), what marks the selected level on it, and its note. Each reads the context
// `c` that `App.context` makes (the study's view `v`, the level and layer, the layer's detail `d`, its notes, the tab, log, live).
// To add a view, add one entry here (and, if it needs numbers the view does not have yet, compute them in lottery_nb.view).
// Stability to SGD noise (Frankle et al. 2020): the error along the line between two copies trained from each k, and its barrier.
// ± 1 sd of a barrier over its replicate pairs, as plotly error bars (none for a sweep of one pair)
const sdBars = (pts, color) => pts.some(p => p.barrier_sd != null)
  ? { type: 'data', array: pts.map(p => 100 * (p.barrier_sd || 0)), visible: true, color, thickness: 1.5, width: 4 } : undefined;
const sdText2 = pts => pts.map(p => p.barrier_sd != null ? ` ± ${(100 * p.barrier_sd).toFixed(2)} (${p.pairs} pairs)` : '');
const SEQ = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#bddf26'];   // viridis: k from early (dark) to late
function figStability(v) {
  const T = v.summary.stability, data = [], n = T.paths.length;
  T.paths.forEach((p, j) => {
    const c = SEQ[Math.round(j * (SEQ.length - 1) / Math.max(1, n - 1))];
    data.push({ type: 'scatter', mode: 'lines+markers', name: `k = ${p.k}`, x: p.alpha, y: p.error.map(e => 100 * e),
      line: { color: c, width: 2 }, marker: { size: 5, color: c }, hovertemplate: `k = ${p.k}, α = %{x:.2f}: test error %{y:.2f}%<extra></extra>` });
  });
  const bn = T.keep && T.keep.length ? ' (BatchNorm recomputed)' : '';
  data.push({ type: 'scatter', mode: 'lines+markers', name: 'barrier' + bn, x: T.paths.map(p => p.k), y: T.paths.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2',
    error_y: sdBars(T.paths, '#D55E00'), customdata: sdText2(T.paths),
    line: { color: '#D55E00', width: 3 }, marker: { size: 8, color: '#D55E00' }, hovertemplate: 'k = %{x}: barrier %{y:.2f}%{customdata} points<extra></extra>' });
  if (T.keep && T.keep.length) data.push({ type: 'scatter', mode: 'lines+markers', name: 'barrier, BatchNorm interpolated', x: T.keep.map(p => p.k),
    y: T.keep.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2', line: { color: '#D55E00', width: 2, dash: 'dash' }, marker: { size: 6, color: '#D55E00', symbol: 'square' },
    error_y: sdBars(T.keep, '#D55E00'), customdata: sdText2(T.keep),
    hovertemplate: 'k = %{x}: barrier %{y:.2f}%{customdata} points, BatchNorm interpolated<extra></extra>' });
  for (const lv of [...new Set((T.sparse || []).map(p => p.level))]) {
    const pts = T.sparse.filter(p => p.level === lv);
    data.push({ type: 'scatter', mode: 'lines+markers', name: `level ${lv} mask`, x: pts.map(p => p.k), y: pts.map(p => 100 * p.barrier), xaxis: 'x2', yaxis: 'y2',
      line: { color: '#0072B2', width: 2, dash: 'dot' }, marker: { size: 9, color: '#0072B2', symbol: 'triangle-up' },
      error_y: sdBars(pts, '#0072B2'), customdata: sdText2(pts),
      hovertemplate: `level ${lv}'s mask, k = %{x}: barrier %{y:.2f}%{customdata} points<extra></extra>` });
  }
  // each k's path on the left, the barriers over k on the right, and a legend that names every line and mark
  return { data, layout: baseLayout({ showlegend: true, margin: { l: 52, r: 8, t: 8, b: 40 },
    legend: { x: 0.79, xanchor: 'left', y: 1, yanchor: 'top', font: { size: 10 }, bgcolor: 'rgba(0,0,0,0)', tracegroupgap: 2 },
    xaxis: axis('α: copy 1 → copy 2', { domain: [0, 0.33], range: [-0.03, 1.03] }),
    yaxis: axis('test error (%)'), xaxis2: axis('k (iterations)', { domain: [0.44, 0.77], anchor: 'y2' }),
    yaxis2: axis('error barrier (points)', { anchor: 'x2', rangemode: 'tozero' }) }) };
}

const VIEWS = [
  { key: 'accuracy', title: 'Tickets against controls', state: c => `${c.level}`,
    build: c => figAccuracy(c.v), marks: c => accuracyMarks(c.v, c.level), note: c => c.notes.acc },
  { key: 'curves', title: 'Training curves at this level', state: c => `${c.level}:${c.live ? c.live.x.length : ''}`,
    build: c => figCurves(c.v, c.level, c.live), note: c => c.notes.curves },
  { key: 'layers', title: 'Weights remaining per layer', tall: true, state: c => `${c.level}:${c.layer}`,
    build: c => figLayers(c.v, c.level), marks: c => layersMarks(c.v, c.level, c.layer), note: c => c.notes.layers,
    click: (app, ev) => app.layerClicked(ev) },
  { key: 'weights', title: '', tabs: true, perLayer: true, state: c => `${c.level}:${c.layer}:${c.tab}:${c.log}:${c.atStart}`,
    build: c => !c.d ? c.notYet : c.tab === 'hist' ? figHistogram(c.v, c.d, c.log, c.atStart) : figScatter(c.v, c.d, c.log),
    heading: c => `<span class="lnb-kept">kept</span> and <span class="lnb-pruned">pruned</span>: ${esc(short(c.layer))}`,
    note: c => c.d ? c.d.notes[c.tab] : '' },
  { key: 'mask', title: 'The mask', perLayer: true, state: c => `${c.level}:${c.layer}`,
    build: c => !c.d ? c.notYet : figMask(c.v, c.d, c.level, c.layer),
    heading: c => esc(`The mask of ${short(c.layer)} at level ${c.level}` + (c.d ? `: ${pct(c.d.kept / c.d.total)} kept` : '')),
    note: c => c.d ? c.d.notes.picture : '' },
  { key: 'stability', title: 'Stability to SGD noise', when: S => !!S.stability, state: c => `${c.v.summary.stability.paths.length}`,
    build: c => figStability(c.v), note: c => c.v.summary.stability.note },
];
const VIEW = Object.fromEntries(VIEWS.map(V => [V.key, V]));

const CACHED = 16;   // drawn plots kept per panel, at least
const idle = globalThis.requestIdleCallback ? f => requestIdleCallback(f, { timeout: 400 }) : f => setTimeout(f, 30);

class App {
  constructor(model, el) {
    this.model = model; this.el = el; this.offs = []; this.tab = 'hist'; this.version = 0; this.tick = 0; this.frame = 0; this.timer = 0; this.ahead = [];
  }
  get S() { return this.model.get('summary'); }
  view() { return { summary: this.model.get('summary'), detail: this.model.get('detail') || {}, input: this.model.get('input') }; }

  async start() {
    if (!document.getElementById(STYLE_ID)) document.head.append(h('style', { id: STYLE_ID }, CSS));
    this.root = h('div', { class: 'lnb lottery-explorer', 'data-lm-suppress-shortcuts': 'true' }, h('div', { class: 'lnb-loading' }, 'Loading the explorer…'));
    this.el.replaceChildren(this.root);
    readTheme(this.root);
    try { this.Plotly = await plotly(this.model); }
    catch (e) { this.root.replaceChildren(h('div', { class: 'lnb-msg lnb-err' }, 'The explorer could not load plotly.js: ' + e.message)); return; }
    this.build();
    const on = (ev, f) => { this.model.on(ev, f); this.offs.push(() => this.model.off(ev, f)); };
    on('change:level', () => this.changed());
    on('change:layer', () => this.changed());
    on('change:log_scale', () => this.changed());
    // a view the study has just gained something for (a stability sweep measured while the explorer is open) is added
    const shown = () => VIEWS.filter(V => !V.when || V.when(this.S)).map(V => V.key).join();
    on('change:summary', () => { this.version++; if (this.views && shown() !== this.views.map(V => V.key).join()) this.build();
      this.rebuildControls(); this.changed(); });
    on('change:detail', () => { this.version++; this.changed(); });
    on('change:status', () => { this.drawTraining(); this.changed(); });
    on('change:offer', () => this.drawTraining());
    on('msg:custom', msg => { if (msg && msg.synced != null) this.root.dataset.synced = msg.synced; });
    let size = '';
    this.ro = new ResizeObserver(() => {
      const now = Object.values(this.panels).map(p => `${p.fig.clientWidth}x${p.fig.clientHeight}`).join();
      if (now !== size) { size = now; this.version++; this.changed(); }
    });
    this.ro.observe(this.root);
    this.followTheme();
    this.changed();
  }

  // JupyterLab's theme switched, or the reader's preference: the plots are drawn again in the new colours
  followTheme() {
    const check = () => {
      const was = JSON.stringify(THEME); readTheme(this.root);
      if (JSON.stringify(THEME) !== was) { this.version++; this.changed(); }
    };
    const again = () => [150, 1000].forEach(ms => setTimeout(check, ms));   // (once the new theme's styles apply)
    const mo = new MutationObserver(again), mq = globalThis.matchMedia && matchMedia('(prefers-color-scheme: dark)');
    mo.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light'] });
    if (mq) mq.addEventListener('change', again);
    this.offs.push(() => mo.disconnect(), () => mq && mq.removeEventListener('change', again));
  }

  destroy() {
    this.offs.forEach(f => f()); this.ro && this.ro.disconnect(); clearInterval(this.timer); cancelAnimationFrame(this.frame); this.ahead = [];
    for (const p of Object.values(this.panels || {})) for (const e of p.cache.values()) this.drop(e);
  }

  panel(key, title, opts = {}) {
    const fig = h('div', { class: 'lnb-fig', 'data-view': key }), note = h('div', { class: 'lnb-note' });
    const head = h('div', { class: 'lnb-head' }, h('span', { class: 'lnb-title' }, title), opts.tabs || null);
    const el = h('div', { class: 'lnb-panel' + (opts.tall ? ' lnb-tall' : ''), 'data-panel': key }, head, fig, note);
    const tip = h('div', { class: 'lnb-tip' }); fig.append(tip);
    return (this.panels[key] = { el, fig, note, title: head.firstChild, tip, key, cache: new Map(), on: null });
  }

  build() {
    const m = this.model, S = this.S;
    this.panels = {};
    // the slider handles its own keys: JupyterLab's shortcuts would take the arrows away from it
    const keys = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 1, PageDown: -1 };
    this.slider = h('input', { type: 'range', min: 0, max: S.levels[S.levels.length - 1], step: 1, value: m.get('level'), 'aria-label': 'level',
      oninput: e => this.setLevel(+e.target.value),
      onkeydown: e => {
        const last = this.S.levels[this.S.levels.length - 1], l = this.model.get('level');
        const to = e.key in keys ? l + keys[e.key] : e.key === 'Home' ? 0 : e.key === 'End' ? last : null;
        if (to == null) return;
        e.preventDefault(); e.stopPropagation(); this.setLevel(to);
      } });
    this.playBtn = h('button', { title: 'play through the levels', onclick: () => this.play() }, '▶ Play');
    const prev = h('button', { title: 'previous level (or the left arrow key on the slider)', onclick: () => this.setLevel(m.get('level') - 1) }, '‹');
    const next = h('button', { title: 'next level (or the right arrow key on the slider)', onclick: () => this.setLevel(m.get('level') + 1) }, '›');
    this.levelLabel = h('span', { class: 'lnb-level' });
    this.chips = h('div', { class: 'lnb-chips' });
    const bar = h('div', { class: 'lnb-bar' }, this.playBtn, prev, this.slider, next, this.levelLabel);
    this.train = h('div', { class: 'lnb-train' });
    const row2 = h('div', { class: 'lnb-row2' }, this.chips, this.train);
    const pickLayer = name => { if (name && name !== m.get('layer')) { m.set('layer', name); m.save_changes(); this.sync(); } };
    this.layerSel = h('select', { 'aria-label': 'layer', onchange: e => pickLayer(e.target.value),
      onkeydown: e => {   // as for the slider: the arrows step through the layers here, not through notebook cells
        const d = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
        if (!d || e.altKey) return;
        e.preventDefault(); e.stopPropagation();
        const L = this.S.layers, i = L.indexOf(m.get('layer'));
        pickLayer(L[Math.max(0, Math.min(L.length - 1, i + d))]);
      } });
    this.pickLayer = pickLayer;
    this.logBox = h('input', { type: 'checkbox', onchange: e => { m.set('log_scale', e.target.checked); m.save_changes(); this.sync(); } });
    this.atStart = h('input', { type: 'checkbox', onchange: () => this.changed() });
    this.atStartLabel = h('label', { title: 'add the histogram of the same weights at the start of training' }, this.atStart, ' at the start too');
    const tabs = h('span', { class: 'lnb-tabs' },
      h('button', { 'aria-pressed': 'true', 'data-tab': 'hist', title: 'how many weights of each size pruning kept', onclick: () => this.setTab('hist') }, 'histogram'),
      h('button', { 'aria-pressed': 'false', 'data-tab': 'scatter', title: 'each weight at the start against after training', onclick: () => this.setTab('scatter') }, 'scatter'));
    this.tabs = tabs;
    const layerbar = h('div', { class: 'lnb-layerbar' }, h('label', {}, 'layer ', this.layerSel), h('label', {}, this.logBox, ' log scale'),
      this.atStartLabel);
    this.views = VIEWS.filter(V => !V.when || V.when(S));   // a view that needs what this study lacks is left out
    this.root.dataset.views = this.views.length;
    const first = this.views.findIndex(V => V.perLayer);   // the layer's choices sit above the first view of one layer
    const grid = h('div', { class: 'lnb-grid' }, ...this.views.flatMap((V, i) => [
      ...(i === first ? [layerbar] : []), this.panel(V.key, V.title, { tall: V.tall, tabs: V.tabs ? tabs : null }).el]));
    this.root.replaceChildren(bar, row2, grid);
    this.rebuildControls();
    this.drawTraining();
  }

  rebuildControls() {
    const S = this.S, m = this.model;
    if (!this.layerSel) return;
    const cur = m.get('layer');
    this.layerSel.replaceChildren(...S.layers.map(l => h('option', { value: l, selected: l === cur }, short(l))));
    this.slider.max = S.levels[S.levels.length - 1];
    this.logBox.checked = !!m.get('log_scale');
  }

  setLevel(l) {
    const S = this.S, max = S.levels[S.levels.length - 1];
    l = Math.max(0, Math.min(max, Math.round(l)));
    if (l === this.model.get('level')) return;
    this.model.set('level', l); this.model.save_changes(); this.sync();
  }
  // The kernel answers a numbered ping after every change before it (its messages are handled in order), so
  // root.dataset.synced === root.dataset.sent says the kernel holds what the page shows (before a reload, say).
  sync() {
    if (this.model.get('mode') === 'static') return;
    this.sent = (this.sent || 0) + 1; this.root.dataset.sent = this.sent; this.send({ do: 'sync', n: this.sent });
  }
  setTab(t) {
    this.tab = t;
    for (const b of this.tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.tab === t));
    this.atStartLabel.style.display = t === 'hist' ? '' : 'none';
    this.changed();
  }
  play() {
    if (this.timer) { clearInterval(this.timer); this.timer = 0; this.playBtn.textContent = '▶ Play'; return; }
    const max = this.S.levels[this.S.levels.length - 1];
    if (this.model.get('level') >= max) this.setLevel(0);
    this.playBtn.textContent = '❚❚ Pause';
    this.timer = setInterval(() => {
      const l = this.model.get('level');
      if (l >= max) { clearInterval(this.timer); this.timer = 0; this.playBtn.textContent = '▶ Play'; return; }
      this.setLevel(l + 1);
    }, this.model.get('play_ms') || 1200);
  }

  // The first change draws at once; more within the same frame (arrow keys held down, Play) are drawn together in the next one.
  changed() {
    if (this.frame) { this.pending = true; return; }
    this.draw();
    this.frame = requestAnimationFrame(() => { this.frame = 0; if (this.pending) { this.pending = false; this.changed(); } });
  }

  // What every view reads in a state (see VIEWS).
  context(level, layer) {
    const v = this.view(), st = this.model.get('status') || {};
    return { v, level, layer, d: (v.detail[level] || {})[layer], notes: v.summary.notes[level] || {}, tab: this.tab,
      log: !!this.model.get('log_scale'), atStart: this.atStart.checked, live: st.live && st.live.level === level ? st.live : null,
      notYet: { why: `Level ${level}'s mask is made when level ${level - 1} has trained: not yet.` } };
  }

  // What each panel shows in a state: a key naming it, and how to draw it.
  plans(level, layer) {
    const c = this.context(level, layer), ver = this.version;
    return Object.fromEntries(this.views.map(V => [V.key, { key: `${ver}:${V.state(c)}`, build: () => V.build(c),
      marks: V.marks && (() => V.marks(c)), level, layer: V.perLayer ? layer : undefined }]));
  }

  draw() {
    if (!this.panels) return;
    const m = this.model, v = this.view(), S = v.summary;
    let level = m.get('level'), layer = m.get('layer');
    if (!S.levels.includes(level)) level = S.levels[0];
    if (!S.layers.includes(layer)) layer = S.layers[0];
    if (!this.panels[this.views[0].key].fig.clientWidth) return;   // not on the page yet: the size observer calls back
    const t0 = performance.now();
    this.slider.value = level; this.layerSel.value = layer; this.logBox.checked = !!m.get('log_scale');
    const i = S.levels.indexOf(level), max = S.levels[S.levels.length - 1];
    this.levelLabel.innerHTML = `<b>level ${level}</b> of ${max} · <b>${pct(S.remaining[i])}</b> of the weights remain`;
    this.chips.replaceChildren(...(level === 0 ? ['dense'] : S.variants).map(name => {
      const st = S.style[name], a = level === 0 ? S.dense_acc : S.acc[name][i];
      const line = st.dash === 'solid' ? 'solid' : st.dash === 'dot' ? 'dotted' : 'dashed';
      return h('span', { class: 'lnb-chip', title: st.about }, h('span', { class: 'lnb-sw', style: `border-color:${st.color};border-top-style:${line}` }),
        st.label + ' ', (S.units[level] || {})[name] === 'damaged' ? h('b', { class: 'lnb-damaged' }, 'damaged')
          : a == null ? h('i', {}, S.units[level] && S.units[level][name] ? 'not trained yet' : 'not in this study') : h('b', {}, pct(a, 2)),
        leadMark(S.leads && S.leads[name] && S.leads[name][i]));
    }));
    this.root.dataset.level = level; this.root.dataset.layer = layer;
    const plans = this.plans(level, layer);
    for (const [key, plan] of Object.entries(plans)) this.show(this.panels[key], plan);
    const c = this.context(level, layer);
    for (const V of this.views) {
      const p = this.panels[V.key], note = V.note(c) || '';
      if (V.heading) p.title.innerHTML = V.heading(c);
      p.note.innerHTML = md(note);
    }
    this.root.dataset.drawMs = (performance.now() - t0).toFixed(1);
    this.drawTrainOffer(level);
    this.planAhead(level, layer);
  }

  // Show the plot for `plan` in panel `p`: from the cache, or drawn now.
  show(p, plan) {
    let e = p.cache.get(plan.key);
    if (!e) e = this.make(p, plan);
    if (p.on !== e) {
      if (p.on) { p.on.div.classList.remove('lnb-on'); p.on.div.classList.add('lnb-parked'); }
      e.div.classList.remove('lnb-parked'); e.div.classList.add('lnb-on'); p.on = e;
    }
    e.used = ++this.tick;
    const f = p.fig.dataset;
    f.level = plan.level;
    if (plan.layer != null) f.layer = plan.layer; else delete f.layer;
    f.state = e.state; f.traces = e.traces;
    p.tip.style.display = 'none';
  }

  make(p, plan) {
    const f = plan.build(), div = h('div', { class: 'lnb-plot' });
    p.fig.insertBefore(div, p.tip);
    const e = { key: plan.key, div, plotly: !f.why, state: f.why ? 'why' : f.empty ? 'empty' : 'drawn', traces: f.why ? 0 : f.data.length, used: ++this.tick };
    if (f.why) div.append(h('div', { class: 'lnb-why', html: `<div>${md(f.why)}</div>` }));
    else {
      const layout = Object.assign({}, f.layout, { width: p.fig.clientWidth, height: p.fig.clientHeight });
      if (plan.marks) Object.assign(layout, plan.marks());   // what marks this plot's level (and layer): its key names them
      this.Plotly.newPlot(div, f.data, layout, CONFIG);
      if (f.empty) div.append(h('div', { class: 'lnb-why', html: `<div>${md(f.empty)}</div>` }));
      if (f.hover) { div.on('plotly_hover', ev => this.tipAt(p, f.hover, ev)); div.on('plotly_unhover', () => { p.tip.style.display = 'none'; }); }
      if (VIEW[p.key].click) div.on('plotly_click', ev => VIEW[p.key].click(this, ev));
    }
    if (p.on !== e) div.classList.add('lnb-parked');
    p.cache.set(plan.key, e);
    // keep the newest few of this version; older versions are dropped at once
    const old = [...p.cache.values()].filter(x => x !== e && x !== p.on && !x.key.startsWith(`${this.version}:`));
    old.forEach(x => this.drop(x, p));
    const live = [...p.cache.values()].filter(x => x !== e && x !== p.on).sort((a, b) => a.used - b.used);
    while (p.cache.size > Math.max(CACHED, 2 * this.S.levels.length + 8) && live.length) this.drop(live.shift(), p);
    return e;
  }

  drop(e, p) {
    if (p) p.cache.delete(e.key);
    try { if (e.plotly) this.Plotly.purge(e.div); } catch (err) { /* already gone */ }
    e.div.remove();
  }

  // While the page is idle, draw the states a user is likely to go to next: the levels beside this one, then the layers beside it.
  planAhead(level, layer) {
    const S = this.S, L = S.layers, k = L.indexOf(layer), max = S.levels[S.levels.length - 1];
    const near = [[level + 1, layer], [level - 1, layer], [level, L[k + 1]], [level, L[k - 1]], [level + 2, layer], [level - 2, layer]];
    const rest = S.levels.filter(l => Math.abs(l - level) > 2).sort((a, b) => Math.abs(a - level) - Math.abs(b - level)).map(l => [l, layer]);
    const states = [...near, ...rest].filter(([l, y]) => l >= 0 && l <= max && y);
    this.ahead = states.flatMap(([l, y]) => Object.entries(this.plans(l, y)).map(([key, plan]) => [this.panels[key], plan]));
    if (!this.aheadRunning) this.runAhead();
  }
  runAhead() {
    this.aheadRunning = true;
    idle(deadline => {
      while (this.ahead.length && (!deadline || !deadline.timeRemaining || deadline.timeRemaining() > 8)) {
        const [p, plan] = this.ahead.shift();
        if (!p.cache.has(plan.key) && p.fig.clientWidth) { this.make(p, plan); break; }
      }
      if (this.ahead.length) this.runAhead(); else this.aheadRunning = false;
    });
  }

  layerClicked(ev) {
    const pt = ev.points && ev.points[0], S = this.S; if (!pt) return;
    const layer = S.layers[S.layers.map(short).indexOf(pt.y)];
    if (pt.data.type === 'heatmap') this.setLevel(pt.x);
    if (layer) this.pickLayer(layer);
  }

  tipAt(p, hover, e) {
    const pt = e.points && e.points[0];
    if (!pt) return;
    const html = hover(Math.round(pt.x), Math.round(pt.y));
    if (!html) { p.tip.style.display = 'none'; return; }
    const box = p.fig.getBoundingClientRect(), ev = e.event;
    p.tip.innerHTML = html; p.tip.style.display = 'block';
    const x = Math.min(ev.clientX - box.left + 12, box.width - p.tip.offsetWidth - 4);
    p.tip.style.left = Math.max(0, x) + 'px'; p.tip.style.top = Math.max(0, ev.clientY - box.top - 30) + 'px';
  }

  // -------------------------------------------------------------- training: watch mode, and controls a study left out
  send(msg) { this.model.send(msg); }
  drawTraining() {
    if (!this.train) return;
    const m = this.model, st = m.get('status') || {}, mode = m.get('mode');
    const busy = st.state === 'training' || st.state === 'stopping';
    const kids = [];
    if (mode === 'watch') {
      kids.push(h('button', { class: 'lnb-go', disabled: busy, title: 'train every unit not trained yet, in the background', onclick: () => this.send({ do: 'train' }) }, 'Train'),
        h('button', { disabled: !busy || st.state === 'stopping', title: 'stop after the epoch in progress; Train continues from there', onclick: () => this.send({ do: 'stop' }) }, 'Stop'));
    }
    if (busy) {
      const [done, total] = st.progress || [0, 1];
      kids.push(h('progress', { max: total || 1, value: done }));
      if (mode !== 'watch') kids.push(h('button', { title: 'stop now; finished epochs are kept', onclick: () => this.send({ do: 'cancel' }) }, 'Cancel'));
    }
    if (st.text) kids.push(h('span', { class: 'lnb-msg' + (st.error ? ' lnb-err' : ''), html: md(st.text) }));
    this.trainStatus = kids;
    this.drawTrainOffer(this.model.get('level'));
  }
  drawTrainOffer(level) {
    if (!this.train) return;
    const m = this.model, st = m.get('status') || {}, offer = (m.get('offer') || {})[level] || [];
    const busy = st.state === 'training' || st.state === 'stopping';
    const kids = [...(this.trainStatus || [])];
    if (m.get('mode') === 'explore' && offer.length && !busy) {
      const sel = h('select', { 'aria-label': 'control to train' }, ...offer.map(o => h('option', { value: o.variant }, this.S.style[o.variant] ? this.S.style[o.variant].label : o.variant)));
      const est = () => { const o = offer.find(o => o.variant === sel.value); return o && o.seconds ? `about ${fmtSecs(o.seconds)}` : ''; };
      const eta = h('span', { class: 'lnb-msg' }, est());
      sel.addEventListener('change', () => { eta.textContent = est(); });
      kids.unshift(h('span', { title: `controls this study did not train; trained now at level ${level} with the study's own schedule` }, 'Not in this study:'), sel,
        h('button', { class: 'lnb-go', onclick: () => this.send({ do: 'train_control', level, variant: sel.value }) }, 'Train it now'), eta);
    }
    this.train.replaceChildren(...kids);
  }
}

async function render({ model, el }) {
  const app = new App(model, el), live = model.get('mode') !== 'static';
  if (live) model.send({ do: 'view' });   // the kernel cancels a training nobody can see any more
  await app.start();
  return () => { app.destroy(); if (live) model.send({ do: 'unview' }); };
}

// A model for pages without a kernel: the saved state, and change events for what the page itself sets.
function staticModel(state) {
  const ls = {};
  return {
    get: k => state[k],
    set: (k, v) => { const old = state[k]; state[k] = v; if (old !== v) (ls['change:' + k] || []).slice().forEach(f => f()); },
    save_changes() {}, send() {},
    on(ev, f) { (ls[ev] = ls[ev] || []).push(f); },
    off(ev, f) { ls[ev] = (ls[ev] || []).filter(g => g !== f); },
  };
}

// Draw every explorer saved in this page (exported files, the HTML docs); plotly.js comes from the page, or gzipped inside it.
async function boot(opts = {}) {
  if (!globalThis.Plotly && opts.plotlyGz) {
    const packed = bytes(document.getElementById(opts.plotlyGz).textContent.trim());
    const text = await new Response(new Blob([packed]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
    const s = document.createElement('script'); s.textContent = text; document.head.append(s);
  }
  for (const el of document.querySelectorAll('.lnb-static:not([data-booted])')) {
    el.dataset.booted = '1';
    const state = JSON.parse(document.getElementById(el.dataset.state).textContent);
    render({ model: staticModel(state), el });
  }
}

export default { render, staticModel, boot };
