// part 6 of 6: the entry points: anywidget's render, and pages without a kernel (staticModel, boot).
async function render({ model, el }) {
  const app = new App(model, el), live = model.get('mode') !== 'static';
  await app.start();
  if (live) model.send({ do: 'view' });   // the kernel answers, and cancels a training nobody can see any more
  return () => { app.destroy(); if (live) model.send({ do: 'unview' }); };
}

// A model for pages without a kernel: the saved state, and change events for what the page itself sets.
function staticModel(state) {
  const ls = {};
  return {
    get: k => state[k],
    set: (k,
      v) => { const old = state[k]; state[k] = v; if (old !== v) (ls['change:' + k] || []).slice().forEach(f => f()); },
    save_changes() {}, send() {},
    on(ev, f) { (ls[ev] = ls[ev] || []).push(f); },
    off(ev, f) { ls[ev] = (ls[ev] || []).filter(g => g !== f); },
  };
}

// Draw every explorer saved in this page (exported files, the HTML docs); plotly.js comes from the page, or gzipped
// inside it.
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
