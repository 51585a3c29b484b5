// part 5 of 6: the app: panels, controls, drawing and caching the plots, training status.
// ---------------------------------------------------------------- the app
// Every view is a panel holding a small cache of drawn plots, one per state it has shown (level, layer, options): a
// change
// shows the cached plot at once, or draws it; neighbouring states are drawn ahead while the page is idle. A new study
// view
// from the kernel (training goes on) or a new size empties the caches.

const CACHED = 16;   // drawn plots kept per panel, at least
const idle = globalThis.requestIdleCallback ? f => requestIdleCallback(f, { timeout: 400 }) : f => setTimeout(f, 30);

class App {
  constructor(model, el) {
    this.model = model; this.el = el; this.offs = []; this.tab = 'hist'; this.version = 0; this.tick = 0;
      this.frame = 0; this.timer = 0; this.ahead = [];
  }
  get S() { return this.model.get('summary'); }
  view() { return { summary: this.model.get('summary'), detail: this.model.get('detail') || {},
    input: this.model.get('input') }; }

  async start() {
    if (!document.getElementById(STYLE_ID)) document.head.append(h('style', { id: STYLE_ID }, CSS));
    this.root = h('div', { class: 'lnb lottery-explorer', 'data-lm-suppress-shortcuts': 'true' },
      h('div', { class: 'lnb-loading' }, 'Loading the explorer…'));
    this.el.replaceChildren(this.root);
    readTheme(this.root);
    try { this.Plotly = await plotly(this.model); }
    catch (e) { this.root.replaceChildren(h('div', { class: 'lnb-msg lnb-err' },
      'The explorer could not load plotly.js: ' + e.message)); return; }
    this.build();
    const on = (ev, f) => { this.model.on(ev, f); this.offs.push(() => this.model.off(ev, f)); };
    on('change:level', () => this.changed());
    on('change:layer', () => this.changed());
    on('change:log_scale', () => this.changed());
    // a view the study has just gained something for (a stability sweep measured while the explorer is open) is added
    const shown = () => VIEWS.filter(V => !V.when || V.when(this.S)).map(V => V.key).join();
    on('change:summary',
      () => { this.version++; if (this.views && shown() !== this.views.map(V => V.key).join()) this.build();
      this.rebuildControls(); this.changed(); });
    on('change:detail', () => { this.version++; this.changed(); });
    on('change:status', () => { this.drawTraining(); this.changed(); });
    on('change:offer', () => this.drawTraining());
    on('msg:custom', msg => { if (msg && msg.synced != null) this.root.dataset.synced = msg.synced; });
    // the kernel answers the page's first message; a notebook reopened with its widgets' saved state draws the
    // explorer with no kernel behind it, and after a few seconds of silence says so instead of offering training
    on('msg:custom', msg => { if (msg && msg.kernel) { this.kernel = true; this.drawTraining(); } });
    this.silent = setTimeout(() => { this.silent = null; this.drawTraining(); }, 4000);
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
    this.offs.forEach(f => f()); this.ro && this.ro.disconnect(); clearInterval(this.timer); clearTimeout(this.silent);
      cancelAnimationFrame(this.frame); this.ahead = [];
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
    this.slider = h('input', { type: 'range', min: 0, max: S.levels[S.levels.length - 1], step: 1,
      value: m.get('level'), 'aria-label': 'level',
      oninput: e => this.setLevel(+e.target.value),
      onkeydown: e => {
        const last = this.S.levels[this.S.levels.length - 1], l = this.model.get('level');
        const to = e.key in keys ? l + keys[e.key] : e.key === 'Home' ? 0 : e.key === 'End' ? last : null;
        if (to == null) return;
        e.preventDefault(); e.stopPropagation(); this.setLevel(to);
      } });
    this.playBtn = h('button', { title: 'play through the levels', onclick: () => this.play() }, '▶ Play');
    const prev = h('button', { title: 'previous level (or the left arrow key on the slider)',
      onclick: () => this.setLevel(m.get('level') - 1) }, '‹');
    const next = h('button', { title: 'next level (or the right arrow key on the slider)',
      onclick: () => this.setLevel(m.get('level') + 1) }, '›');
    this.levelLabel = h('span', { class: 'lnb-level' });
    this.chips = h('div', { class: 'lnb-chips' });
    const bar = h('div', { class: 'lnb-bar' }, this.playBtn, prev, this.slider, next, this.levelLabel);
    this.train = h('div', { class: 'lnb-train' });
    const row2 = h('div', { class: 'lnb-row2' }, this.chips, this.train);
    const pickLayer = name => { if (name && name !== m.get('layer')) { m.set('layer',
      name); m.save_changes(); this.sync(); } };
    this.layerSel = h('select', { 'aria-label': 'layer', onchange: e => pickLayer(e.target.value),
      onkeydown: e => {   // as for the slider: the arrows step through the layers here, not through notebook cells
        const d = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
        if (!d || e.altKey) return;
        e.preventDefault(); e.stopPropagation();
        const L = this.S.layers, i = L.indexOf(m.get('layer'));
        pickLayer(L[Math.max(0, Math.min(L.length - 1, i + d))]);
      } });
    this.pickLayer = pickLayer;
    this.logBox = h('input', { type: 'checkbox', onchange: e => { m.set('log_scale',
      e.target.checked); m.save_changes(); this.sync(); } });
    this.atStart = h('input', { type: 'checkbox', onchange: () => this.changed() });
    this.atStartLabel = h('label', { title: 'add the histogram of the same weights at the start of training' },
      this.atStart, ' at the start too');
    const tabs = h('span', { class: 'lnb-tabs' },
      h('button', { 'aria-pressed': 'true', 'data-tab': 'hist', title: 'how many weights of each size pruning kept',
        onclick: () => this.setTab('hist') }, 'histogram'),
      h('button', { 'aria-pressed': 'false', 'data-tab': 'scatter',
        title: 'each weight at the start against after training', onclick: () => this.setTab('scatter') }, 'scatter'));
    this.tabs = tabs;
    const layerbar = h('div', { class: 'lnb-layerbar' }, h('label', {}, 'layer ', this.layerSel),
      h('label', {}, this.logBox, ' log scale'),
      this.atStartLabel);
    this.views = VIEWS.filter(V => !V.when || V.when(S));   // a view that needs what this study lacks is left out
    this.root.dataset.views = this.views.length;
    const first = this.views.findIndex(V => V.perLayer);   // the layer's choices sit above the first view of one layer
    const grid = h('div', { class: 'lnb-grid' }, ...this.views.flatMap((V, i) => [
      ...(i === first ? [layerbar] : []), this.panel(V.key, V.title,
        { tall: V.tall, tabs: V.tabs ? tabs : null }).el]));
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

  // The first change draws at once; more within the same frame (arrow keys held down, Play) are drawn together in the
  // next one.
  changed() {
    if (this.frame) { this.pending = true; return; }
    this.draw();
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.pending) { this.pending = false; this.changed(); }
    });
  }

  // What every view reads in a state (see VIEWS).
  context(level, layer) {
    const v = this.view(), st = this.model.get('status') || {};
    return { v, level, layer, d: (v.detail[level] || {})[layer], notes: v.summary.notes[level] || {}, tab: this.tab,
      log: !!this.model.get('log_scale'), atStart: this.atStart.checked,
      live: st.live && st.live.level === level ? st.live : null,
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
    this.levelLabel.innerHTML = `<b>level ${level}</b> of ${max} · <b>${pct(S.remaining[i])}</b> of the weights `
      + 'remain';
    this.chips.replaceChildren(...(level === 0 ? ['dense'] : S.variants).map(name => {
      const st = S.style[name], a = level === 0 ? S.dense_acc : S.acc[name][i];
      const line = st.dash === 'solid' ? 'solid' : st.dash === 'dot' ? 'dotted' : 'dashed';
      return h('span', { class: 'lnb-chip', title: st.about },
        h('span', { class: 'lnb-sw', style: `border-color:${st.color};border-top-style:${line}` }),
        st.label + ' ', (S.units[level] || {})[name] === 'damaged' ? h('b', { class: 'lnb-damaged' }, 'damaged')
          : a == null ? h('i', {},
            S.units[level] && S.units[level][name] ? 'not trained yet' : 'not in this study') : h('b', {}, pct(a, 2)),
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
    const e = { key: plan.key, div, plotly: !f.why, state: f.why ? 'why' : f.empty ? 'empty' : 'drawn',
      traces: f.why ? 0 : f.data.length, used: ++this.tick };
    if (f.why) div.append(h('div', { class: 'lnb-why', html: `<div>${md(f.why)}</div>` }));
    else {
      const layout = Object.assign({}, f.layout, { width: p.fig.clientWidth, height: p.fig.clientHeight });
      // what marks this plot's level (and layer): its key names them
      if (plan.marks) Object.assign(layout, plan.marks());
      this.Plotly.newPlot(div, f.data, layout, CONFIG);
      if (f.empty) div.append(h('div', { class: 'lnb-why', html: `<div>${md(f.empty)}</div>` }));
      if (f.hover) { div.on('plotly_hover', ev => this.tipAt(p, f.hover, ev)); div.on('plotly_unhover',
        () => { p.tip.style.display = 'none'; }); }
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

  // While the page is idle, draw the states a user is likely to go to next: the levels beside this one, then the layers
  // beside it.
  planAhead(level, layer) {
    const S = this.S, L = S.layers, k = L.indexOf(layer), max = S.levels[S.levels.length - 1];
    const near = [[level + 1, layer], [level - 1, layer], [level, L[k + 1]], [level, L[k - 1]], [level + 2, layer],
      [level - 2, layer]];
    const rest = S.levels.filter(l => Math.abs(l - level) > 2).sort((a,
      b) => Math.abs(a - level) - Math.abs(b - level)).map(l => [l, layer]);
    const states = [...near, ...rest].filter(([l, y]) => l >= 0 && l <= max && y);
    this.ahead = states.flatMap(([l, y]) => Object.entries(this.plans(l, y)).map(([key, plan]) => [this.panels[key],
      plan]));
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
    if (mode !== 'static' && !this.kernel) {
      if (!this.silent) this.train.replaceChildren(h('span', { class: 'lnb-msg lnb-nokernel' },
        'Drawn from the saved notebook, without its kernel: run this cell to train or to see newer results.'));
      return;
    }
    if (mode === 'watch') {
      kids.push(h('button', { class: 'lnb-go', disabled: busy,
        title: 'train every unit not trained yet, in the background',
        onclick: () => this.send({ do: 'train' }) }, 'Train'),
        h('button', { disabled: !busy || st.state === 'stopping',
          title: 'stop after the epoch in progress; Train continues from there',
          onclick: () => this.send({ do: 'stop' }) }, 'Stop'));
    }
    if (busy) {
      const [done, total] = st.progress || [0, 1];
      kids.push(h('progress', { max: total || 1, value: done }));
      if (mode !== 'watch') kids.push(h('button', { title: 'stop now; finished epochs are kept',
        onclick: () => this.send({ do: 'cancel' }) }, 'Cancel'));
    }
    if (st.text) kids.push(h('span', { class: 'lnb-msg' + (st.error ? ' lnb-err' : ''), html: md(st.text) }));
    this.trainStatus = kids;
    this.drawTrainOffer(this.model.get('level'));
  }
  drawTrainOffer(level) {
    if (!this.train || (this.model.get('mode') !== 'static' && !this.kernel)) return;   // (see drawTraining)
    const m = this.model, st = m.get('status') || {}, offer = (m.get('offer') || {})[level] || [];
    const busy = st.state === 'training' || st.state === 'stopping';
    const kids = [...(this.trainStatus || [])];
    if (m.get('mode') === 'explore' && offer.length && !busy) {
      const sel = h('select', { 'aria-label': 'control to train' },
        ...offer.map(o => h('option', { value: o.variant },
          this.S.style[o.variant] ? this.S.style[o.variant].label : o.variant)));
      const est = () => { const o = offer.find(o => o.variant === sel.value);
        return o && o.seconds ? `about ${fmtSecs(o.seconds)}` : ''; };
      const eta = h('span', { class: 'lnb-msg' }, est());
      sel.addEventListener('change', () => { eta.textContent = est(); });
      kids.unshift(h('span',
        { title: `controls this study did not train; trained now at level ${level} with the study's own schedule` },
        'Not in this study:'), sel,
        h('button', { class: 'lnb-go', onclick: () => this.send({ do: 'train_control', level, variant: sel.value }) },
          'Train it now'), eta);
    }
    this.train.replaceChildren(...kids);
  }
}
