// lottery_nb explorer, part 1 of 6: its styles (its colours from JupyterLab's theme, or the reader's preference) and
// constants.
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
       --lnb-border: var(--jp-border-color1, var(--lnb-d-border));
       --lnb-grid: var(--jp-border-color3, var(--lnb-d-grid));
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
/* (see widgets.SAVED_HINT) */
.jp-OutputArea:has(.lnb) .lnb-saved-hint, .lnb-static ~ .lnb-saved-hint { display: none; }
.lnb * { box-sizing: border-box; }
.lnb button { font: inherit; color: inherit; padding: 2px 9px; border: 1px solid var(--lnb-border); border-radius: 4px;
              background: var(--lnb-bg1); cursor: pointer; }
.lnb button:hover:not(:disabled) { background: var(--lnb-bg2); }
.lnb button:disabled { opacity: .45; cursor: default; }
.lnb button.lnb-go { background: #0072B2; border-color: #0072B2; color: #fff; }
.lnb select { font: inherit; color: inherit; background: var(--lnb-bg1); border: 1px solid var(--lnb-border);
  max-width: 240px; }
.lnb-bar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; padding: 4px 0 6px; }
.lnb-bar input[type=range] { flex: 1 1 160px; min-width: 120px; max-width: 360px; accent-color: #D55E00; }
.lnb-level { font-size: 15px; white-space: nowrap; }
.lnb-chips { display: flex; gap: 10px; flex-wrap: wrap; font-size: 13px; }
.lnb-chip { white-space: nowrap; }
.lnb-chip i { color: var(--lnb-soft); }
.lnb-lead { font-size: 11px; color: var(--lnb-soft); }
.lnb-damaged, .lnb-msg.lnb-err { color: var(--lnb-err); }
.lnb-sw { display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle;
  margin-right: 4px; }
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
/* drawn and kept: the browser skips it until shown, and shows it at once */
.lnb-plot.lnb-parked { content-visibility: hidden; }
.lnb-plot.lnb-on { visibility: visible; }
/* fixed: a longer note never resizes (redraws) it */
.lnb-tall .lnb-fig { flex: none; height: calc(2.7 * var(--lnb-h)); }
.lnb-panel[data-panel=stability] { grid-column: 1 / -1; }   /* its own row: two plots and their legend side by side */
.lnb-panel[data-panel=stability] .lnb-fig { height: calc(1.5 * var(--lnb-h)); }
/* the whole note: the teaching */
.lnb-note { font-size: 12px; color: var(--lnb-soft); line-height: 1.3; min-height: 3.9em; }
.lnb-pruned { color: var(--lnb-soft); }
.lnb-layerbar { grid-column: 1 / span 2; display: flex; align-items: center; gap: 10px; padding-top: 2px;
  flex-wrap: wrap; }
.lnb-layerbar label { white-space: nowrap; }
.lnb-why { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  text-align: center;
           padding: 12px 18px; color: var(--lnb-soft); background: var(--lnb-bg1); border: 1px dashed var(--lnb-border);
           font-size: 13px; }
.lnb-why code { background: var(--lnb-bg2); padding: 0 3px; }
.lnb-tip { position: absolute; pointer-events: none; background: var(--lnb-bg); border: 1px solid var(--lnb-border);
  border-radius: 3px;
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
const CONFIG = { displaylogo: false, responsive: false, modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'],
  toImageButtonOptions: { scale: 2 } };
const KEPT = '#0072B2', PRUNED = '#A8A8A8';
