// part 4 of 6: the views, one entry each.
// Every view of the explorer, in the order it is laid out: its panel's key and title, what its plot depends on
// (`state`), how it is
// drawn (`build`: a plotly figure, or {why} to say why not), what marks the selected level on it, and its note. Each
// reads the context
// `c` that `App.context` makes (the study's view `v`, the level and layer, the layer's detail `d`, its notes, the tab,
// log, live).
// To add a view, add one entry here (and, if it needs numbers the view does not have yet, compute them in
// lottery_nb.view).
const VIEWS = [
  { key: 'accuracy', title: 'Tickets against controls', state: c => `${c.level}`,
    build: c => figAccuracy(c.v), marks: c => accuracyMarks(c.v, c.level), note: c => c.notes.acc },
  { key: 'curves', title: 'Training curves at this level', state: c => `${c.level}:${c.live ? c.live.x.length : ''}`,
    build: c => figCurves(c.v, c.level, c.live), note: c => c.notes.curves },
  { key: 'layers', title: 'Weights remaining per layer', tall: true, state: c => `${c.level}:${c.layer}`,
    build: c => figLayers(c.v, c.level), marks: c => layersMarks(c.v, c.level, c.layer), note: c => c.notes.layers,
    click: (app, ev) => app.layerClicked(ev) },
  { key: 'weights', title: '', tabs: true, perLayer: true,
    state: c => `${c.level}:${c.layer}:${c.tab}:${c.log}:${c.atStart}`,
    build: c => !c.d ? c.notYet : c.tab === 'hist' ? figHistogram(c.v, c.d, c.log, c.atStart) : figScatter(c.v, c.d,
      c.log),
    heading: c => '<span class="lnb-kept">kept</span> and <span class="lnb-pruned">pruned</span>: '
      + esc(short(c.layer)),
    note: c => c.d ? c.d.notes[c.tab] : '' },
  { key: 'mask', title: 'The mask', perLayer: true, state: c => `${c.level}:${c.layer}`,
    build: c => !c.d ? c.notYet : figMask(c.v, c.d, c.level, c.layer),
    heading: c => esc(`The mask of ${short(c.layer)} at level ${c.level}`
      + (c.d ? `: ${pct(c.d.kept / c.d.total)} kept` : '')),
    note: c => c.d ? c.d.notes.picture : '' },
  { key: 'stability', title: 'Stability to SGD noise', when: S => !!S.stability,
    state: c => `${c.v.summary.stability.paths.length}`,
    build: c => figStability(c.v), note: c => c.v.summary.stability.note },
];
const VIEW = Object.fromEntries(VIEWS.map(V => [V.key, V]));
