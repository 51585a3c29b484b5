"A study's view holds the study's own numbers, as plain JSON, packed small, and says in words what a view cannot show."
import base64, json, math
from pathlib import Path
import numpy as np
import pytest
import torch
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun, open_run
from lottery_nb.plots import accuracy_table, layer_densities
from lottery_nb.view import study_view, study_summary, level_detail, strip_weights, bits, log_quantize, picture

SHIPPED = Path(__file__).parent.parent/'data'/'lenet300-fmnist-imp'

def unbits(b64, n): return np.unpackbits(np.frombuffer(base64.b64decode(b64), np.uint8))[:n].astype(bool)

@pytest.fixture(scope='module')
def study(small_study): return small_study(rounds=3, fraction=0.4)

def test_the_summary_is_the_study_on_disk(study):
    s, tab = study_summary(study), accuracy_table(study)
    json.dumps(s, allow_nan=False)
    assert s['levels'] == [0, 1, 2, 3] and s['layers'] == list(study.mask(0))
    for v in ('ticket', 'reinit', 'random'):
        assert s['acc'][v][1:] == [round(x, 5) for x in tab[v]['test_acc'][1:]]
    for l in (1, 3):
        assert [row[l] for row in s['heat']] == [round(x, 4) for x in layer_densities(study, l).values()]
        assert s['curves'][str(l)]['ticket']['y'] == [round(h['test_acc'], 5) for h in study.metrics(l, 'ticket')['history']]
        assert f"{tab['ticket']['test_acc'][l]:.2%}" in s['notes'][str(l)]['acc']

def test_level_detail_counts_the_masks_weights(study):
    for level in (1, 3):
        d = level_detail(study, level)
        for layer, x in d.items():
            kept, alive = study.mask(level)[layer], study.mask(level - 1)[layer]
            assert sum(x['hist']['trained_kept']) == int(kept.sum()) and sum(x['hist']['trained_pruned']) == int((alive & ~kept).sum())
            assert x['kept'] == int(kept.sum()) and x['total'] == kept.numel()
            p = x['picture']
            if p['kind'] == 'pixels':   # fc1 on 28x28 images: per pixel, the units that keep it
                assert p['shape'] == [28, 28] and p['kept'] == kept.sum(0).tolist()
            else:
                assert (unbits(p['bits'], kept.numel()) == kept.flatten().numpy()).all()
            assert x['scatter']['n'] == min(800, int(alive.sum()))

def test_hover_magnitudes_come_back_within_a_few_percent():
    w = torch.randn(40, 30)
    p = picture(w.abs() > 0.5, w, None)
    q = np.frombuffer(base64.b64decode(p['w']), np.uint8)
    back = 10 ** (math.log10(p['lo']) + q / 255 * (math.log10(p['hi']) - math.log10(p['lo'])))
    big = w.abs().flatten().numpy() > p['lo']
    assert np.allclose(back[big], w.abs().flatten().numpy()[big], rtol=0.04)

def test_the_bundled_study_has_everything_to_show():
    assert sum(f.stat().st_size for f in SHIPPED.rglob('*') if f.is_file()) < 6_000_000, 'a few MB'
    run = open_run(SHIPPED)
    assert all(run.is_done(l, v) for l, v in run.units())
    v = study_view(run)
    json.dumps(v, allow_nan=False)
    assert sorted(v['detail']) == ['0', '1', '2', '3', '4', '5'] and v['input']['shape'] == [28, 28]
    for level in '12345':
        for layer, x in v['detail'][level].items():
            assert 'why' not in x['hist'] and 'why' not in x['scatter'], f'level {level} {layer} has weights to show'
    assert 'why' in v['detail']['0']['fc1.weight']['hist'] and 'Level 0 is the dense network' in v['detail']['0']['fc1.weight']['hist']['why']
    lean = {l: strip_weights(x) for l, x in v['detail'].items()}
    assert len(json.dumps(v)) < 1_000_000 and len(json.dumps(lean)) < 0.6 * len(json.dumps(v['detail']))

def test_a_study_without_weights_says_why_and_what_to_run(tmp_path):
    import shutil
    shutil.copytree(SHIPPED, tmp_path/'s', ignore=shutil.ignore_patterns('final.safetensors'))
    m = json.loads((tmp_path/'s'/'manifest.json').read_text())   # shipped without weights: its manifest lists what it ships
    m['files'] = {k: v for k, v in m['files'].items() if not k.endswith('final.safetensors')}
    (tmp_path/'s'/'manifest.json').write_text(json.dumps(m))
    assert open_run(tmp_path/'s').verify() == []
    d = level_detail(open_run(tmp_path/'s'), 2)
    why = d['fc2.weight']['hist']['why']
    assert 'without the trained weights' in why and 'lottery-nb imp' in why
    assert d['fc2.weight']['picture']['kind'] == 'matrix' and 'w' not in d['fc2.weight']['picture']

def test_a_study_in_progress_is_plain_json_with_none_for_what_is_missing(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'p', ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=1, n_train=500, n_test=200)),
                 data_dir=fmnist_dir, device='cpu', progress=False)
    v0 = study_view(run)   # nothing trained yet
    json.dumps(v0, allow_nan=False)
    assert v0['summary']['dense_acc'] is None and sorted(v0['detail']) == ['0']
    run.run(on_unit=lambda m: run.stop())
    v = study_view(run)
    json.dumps(v, allow_nan=False)
    assert v['summary']['acc']['ticket'][1:] == [None, None] and v['summary']['heat'][0][1] is None
    assert 'not trained yet' in v['summary']['notes']['1']['acc']
