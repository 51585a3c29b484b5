"The explorer, driven from Python: every view holds the selected level's and layer's numbers; partial studies never raise."
from pathlib import Path
import numpy as np
import pytest
import ipywidgets as W
from lottery_nb.runs import ImpConfig, ImpRun, open_run
from lottery_nb.plots import layer_densities, accuracy_table
from lottery_nb.widgets import explore, watch

SHIPPED = Path(__file__).parent.parent/'data'/'lenet300-fmnist-imp'

@pytest.fixture(scope='module')
def study(small_study): return small_study(rounds=3, fraction=0.4)

def test_level_and_layer_selectors_drive_every_view(study):
    app = explore(study)
    for level in (3, 0, 2):
        app.level.value = level
        assert list(app.f_layers.data[0].y) == [v * 100 for v in layer_densities(study, level).values()]
        assert app.f_acc.data[-1].x[0] == pytest.approx(accuracy_table(study)['ticket']['density'][level] * 100)
        assert f"{study.metrics(level, 'dense' if level == 0 else 'ticket')['test_acc']:.2%}" in app.summary.value
        assert {t.name for t in app.f_curves.data} == set(study.cfg.variants(level))
        assert app.f_heat.layout.shapes[0].x0 == level - 0.5
    app.layer.value = 'fc2.weight'
    assert sum(app.f_hist.data[1].y) == int(study.mask(2)['fc2.weight'].sum())
    assert 'fc2.weight' in app.f_mask.layout.title.text and np.nansum(app.f_mask.data[0].z) == int(study.mask(2)['fc2.weight'].sum())
    app.log_scale.value = True
    assert app.f_hist.layout.yaxis.type == 'log'

def test_step_buttons_stay_in_range(study):
    app = explore(study)
    app.level.value = 3; app.next.click()
    assert app.level.value == 3
    app.prev.click(); app.prev.click()
    assert app.level.value == 1

def test_the_shipped_study_opens_without_training_or_weights():
    run = open_run(SHIPPED)
    assert run.cfg.model == 'lenet300_100' and all(run.is_done(l, v) for l, v in run.units())
    assert sum(f.stat().st_size for f in SHIPPED.rglob('*') if f.is_file()) < 4_000_000, 'a few MB at most'
    app = explore(SHIPPED)
    app.level.value = 5
    assert '32.9%' in app.summary.value and 'no weights to show' in app.f_hist.layout.title.text
    tab = accuracy_table(run)
    assert (tab['ticket']['test_acc'][1:] >= tab['reinit']['test_acc'][1:]).all(), 'the shipped study shows tickets ahead of re-init'

def test_empty_or_partial_studies_show_as_such(tmp_path, fmnist_dir):
    msg = explore(tmp_path)
    assert isinstance(msg, W.HTML) and 'Nothing to explore yet' in msg.value
    run = ImpRun(tmp_path/'p', ImpConfig(rounds=2, train=dict(epochs=1, n_train=500, n_test=200)), data_dir=fmnist_dir, device='cpu', progress=False)
    run.run(on_unit=lambda m: run.stop())
    app = explore(tmp_path/'p')
    app.level.value = 2
    assert 'not trained yet' in app.summary.value and 'no mask' in app.f_mask.layout.title.text

def test_watch_trains_in_the_background_and_stops_resumably(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'live', ImpConfig(rounds=1, fraction=0.5, train=dict(epochs=3, n_train=2000, n_test=500)), data_dir=fmnist_dir, device='cpu', progress=False)
    w = watch(run)
    w.train_btn.click()
    import time
    while run.metrics(0, 'dense') is None and w.thread.is_alive(): time.sleep(0.02)
    w.stop_btn.click(); w.wait(120)
    assert not w.thread.is_alive() and w.status.value.startswith('stopped') and not w.train_btn.disabled
    assert not all(run.is_done(l, v) for l, v in run.units())
    w.train_btn.click(); w.wait(300)
    assert all(run.is_done(l, v) for l, v in run.units()) and w.status.value == 'finished'
    assert w.progress.value == w.progress.max

def test_a_missing_control_is_trained_on_request_with_the_same_schedule(tmp_path, fmnist_dir):
    from lottery_nb.core import LotteryError
    run = ImpRun(tmp_path/'m', ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=1, n_train=1000, n_test=300, augment=False), controls=('reinit',)),
                 data_dir=fmnist_dir, device='cpu', progress=False)
    run.run(on_unit=lambda m: run.stop())   # only the dense network
    app = explore(run)
    app.level.value = 2
    assert app.missing.options == () and app.missing_row.layout.display == 'none', 'nothing to offer before level 1 is trained'
    with pytest.raises(LotteryError, match='must be trained'): run.train_unit(2, 'random')
    run.train_unit(1, 'ticket')
    with pytest.raises(LotteryError, match='no unit'): run.train_unit(1, 'lucky')
    app.level.value = 1
    assert set(app.missing.options) == {'reinit', 'random', 'shuffled'}
    app.missing.value = 'random'; app.train_missing.click(); app.thread.join(120)
    m = run.metrics(1, 'random')
    assert m is not None and len(m['history']) == 1 and 'random' in app.summary.value
    assert run.controls() == ['reinit', 'random'] and 'random' in accuracy_table(run)
    assert {k: s['kept'] for k, s in m['layers'].items()} == {k: s['kept'] for k, s in run.metrics(1, 'ticket')['layers'].items()}
