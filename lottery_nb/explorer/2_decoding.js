// part 2 of 6: plotly.js, loaded once per page, and the small helpers: decoding the view's packed arrays, making
// elements.
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
function bytes(b64) { const s = atob(b64),
  a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function memo(obj, key, f) {   // decoded arrays are kept with the view object they came from
  let m = cache.get(obj); if (!m) cache.set(obj, m = {});
  return key in m ? m[key] : (m[key] = f());
}
function unbits(b64, n) { const a = bytes(b64),
  out = new Uint8Array(n); for (let i = 0; i < n; i++) out[i] = (a[i >> 3] >> (7 - (i & 7))) & 1; return out; }
function u16(b64) { const a = bytes(b64); return new Uint16Array(a.buffer, a.byteOffset, a.length >> 1); }
function unlog(q, lo, hi) { const l0 = Math.log10(lo),
  l1 = Math.log10(hi); return q === 0 ? 0 : Math.pow(10, l0 + q / 255 * (l1 - l0)); }
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
