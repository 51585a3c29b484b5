"""The explorer from Python: its traits drive and report what the browser shows, its state is the study's view as plain
JSON, training from it is safe (bundled studies are copied, Cancel stops at once, Stop leaves a resumable study), and it
writes pages that need no kernel. What the browser draws is checked in test_browser.py."""
import json, time
from pathlib import Path
import pytest
import ipywidgets as W
from lottery_nb.core import LotteryError
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun, open_run
from lottery_nb.view import study_view
from lottery_nb.widgets import explore, watch, Explorer, export_html, static_state, MIME, plotly_js

SHIPPED = Path(__file__).parent.parent/'data'/'lenet300-fmnist-imp'

@pytest.fixture(scope='module')
def study(small_study): return small_study(rounds=3, fraction=0.4)

def files(d): return sorted((str(p.relative_to(d)), p.stat().st_size, p.stat().st_mtime_ns) for p in Path(d).rglob('*'))

def test_the_state_is_the_studys_view_and_plain_json(study):
    app = explore(study)
    v = study_view(study)
    assert app.summary == v['summary'] and app.detail == json.loads(json.dumps(v['detail'])) and app.input == v['input']
    for t in ('summary', 'detail', 'input', 'status', 'offer'): json.dumps(getattr(app, t), allow_nan=False)
    assert (app.level, app.layer, app.mode) == (1, 'fc1.weight', 'explore')

def test_level_and_layer_are_traits_held_to_the_study(study):
    app = explore(study, level=2, layer='fc2.weight')
    assert (app.level, app.layer) == (2, 'fc2.weight')
    app.level = 7; assert app.level == 3
    app.step(-5); assert app.level == 0
    with pytest.raises(LotteryError, match='choose one of fc1.weight, fc2.weight, fc.weight'): app.layer = 'conv1.weight'
    assert app.layer == 'fc2.weight'

def test_plotly_js_travels_once_per_kernel(study):
    a, b = explore(study), explore(SHIPPED)
    assert a._plotly is b._plotly is plotly_js() and len(plotly_js().source) > 3_000_000

def test_a_notebook_keeps_a_lean_state_for_the_docs(study):
    data, _ = explore(study)._repr_mimebundle_()
    st = data[MIME]
    assert st['mode'] == 'static' and st['summary']['levels'] == [0, 1, 2, 3]
    assert all('w' not in x['picture'] for d in st['detail'].values() for x in d.values())
    assert 'application/vnd.jupyter.widget-view+json' in data

def test_empty_and_partial_studies_show_as_such(tmp_path, fmnist_dir):
    msg = explore(tmp_path)
    assert isinstance(msg, W.HTML) and 'Nothing to explore yet' in msg.value
    run = ImpRun(tmp_path/'p', ImpConfig(rounds=2, train=dict(epochs=1, n_train=500, n_test=200)), data_dir=fmnist_dir, device='cpu', progress=False)
    run.run(on_unit=lambda m: run.stop())
    app = explore(tmp_path/'p', level=2)
    assert sorted(app.detail) == ['0'] and app.summary['acc']['ticket'][2] is None
    assert list(app.offer) == ['1'] and [o['variant'] for o in app.offer['1']] == ['shuffled'], 'level 2 waits for level 1'

def test_watch_trains_in_the_background_stops_resumably_and_follows(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'live', ImpConfig(rounds=1, fraction=0.5, train=dict(epochs=3, n_train=2000, n_test=500)), data_dir=fmnist_dir, device='cpu', progress=False)
    w = watch(run)
    assert w.mode == 'watch' and w.summary['dense_acc'] is None
    w._on_msg(None, {'do': 'train'}, [])
    seen = []
    while run.metrics(0, 'dense') is None and w.busy:
        if w.status.get('live'): seen.append(w.status['live'])
        time.sleep(0.02)
    w._on_msg(None, {'do': 'stop'}, []); w.wait(120)
    assert not w.busy and w.status['text'].startswith('stopped') and w.status['state'] == 'idle'
    assert seen and seen[-1]['variants'] == ['dense'] and len(seen[-1]['y'][0]) == len(seen[-1]['x'])
    assert w.summary['dense_acc'] == round(run.metrics(0, 'dense')['test_acc'], 5), 'the views took in the finished network'
    assert not all(run.is_done(l, v) for l, v in run.units())
    w.train().wait(300)
    assert all(run.is_done(l, v) for l, v in run.units()) and w.status['text'] == 'the study: finished'
    assert sorted(w.detail) == ['0', '1'] and w.status['progress'][0] == w.status['progress'][1]

def test_training_a_control_into_a_bundled_study_copies_it_first(tmp_path, monkeypatch):
    monkeypatch.setenv('LOTTERY_NB_HOME', str(tmp_path/'home'))
    before = files(SHIPPED)
    app = explore(SHIPPED, level=5)
    offer = app.offer['5']
    assert [o['variant'] for o in offer] == ['shuffled'] and 15 < offer[0]['seconds'] < 60, 'estimated from the study: 10 epochs of ~2 s'
    assert 'reinit' not in [o['variant'] for l in app.offer.values() for o in l], 'only controls the study left out'
    app._on_msg(None, {'do': 'train_control', 'level': 5, 'variant': 'shuffled'}, [])
    while app.status.get('progress', [0])[0] < 50 and app.busy: time.sleep(0.02)
    app._on_msg(None, {'do': 'cancel'}, []); app.wait(60)
    assert 'cancelled' in app.status['text'] and str(tmp_path/'home') in app.status['text']
    assert app.run.out == tmp_path/'home'/'studies'/'lenet300-fmnist-imp' and not app.run.is_done(5, 'shuffled')
    assert files(SHIPPED) == before, 'nothing was written into data/'

def test_a_closed_or_orphaned_explorer_stops_its_training(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'s', ImpConfig(rounds=1, fraction=0.5, train=dict(epochs=50, n_train=2000, n_test=500)), data_dir=fmnist_dir, device='cpu', progress=False)
    w = watch(run)
    w._on_msg(None, {'do': 'view'}, [])
    w.train()
    while w.status.get('progress', [0])[0] < 20 and w.busy: time.sleep(0.02)
    w._on_msg(None, {'do': 'unview'}, [])      # the cell was re-run: its view is gone
    w.wait(30)
    assert not w.busy and 'cancelled' in w.status['text']
    w2 = watch(run); w2.train()
    while w2.status.get('progress', [0])[0] < 20 and w2.busy: time.sleep(0.02)
    with pytest.raises(LotteryError, match='already training'): w2.train()
    w2.close()
    assert not w2.busy

def test_export_html_is_one_page_with_everything_inside(tmp_path, study):
    out = export_html(study, tmp_path/'s.html', level=2, layer='fc2.weight')
    text = out.read_text()
    assert text.startswith('<!doctype html>') and 'LotteryExplorer.boot' in text and 'lnb-plotly-gz' in text
    assert not [u for u in __import__('re').findall(r'(?:src|href)="(https?://[^"]+)"', text)], 'nothing from the network'
    st = static_state(study, 2, 'fc2.weight')
    assert (st['level'], st['layer']) == (2, 'fc2.weight')
    with pytest.raises(LotteryError, match='no level 9'): export_html(study, tmp_path/'x.html', level=9)
    assert not (tmp_path/'x.html').exists()
