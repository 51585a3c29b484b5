"lottery_nb.plots reads a study's files into the right numbers, and describes partial studies without failing."
import math
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun
from lottery_nb.plots import (accuracy_table, layer_densities, density_heatmap, weight_histogram, mask_image, percent_ticks,
                              plot_accuracy, VARIANT_STYLE)

@pytest.fixture(scope='module')
def study(small_study): return small_study(rounds=2, fraction=0.5)

def test_accuracy_table_is_the_metrics_on_disk(study):
    tab = accuracy_table(study)
    for v in ('ticket', 'reinit', 'random'):
        for i, l in enumerate((0, 1, 2)):
            m = study.metrics(l, 'dense' if l == 0 else v)
            assert tab[v]['test_acc'][i] == m['test_acc'] and tab[v]['density'][i] == m['density']
    ax = plot_accuracy(study)
    assert [l.get_label() for l in ax.get_lines()][:3] == [VARIANT_STYLE[v]['label'] for v in ('ticket', 'reinit', 'random')]
    assert np.allclose(ax.get_lines()[0].get_ydata(), tab['ticket']['test_acc'] * 100)

def test_layer_views_follow_the_masks(study):
    d2 = layer_densities(study, 2)
    assert d2 == {k: float(m.float().mean()) for k, m in study.mask(2).items()}
    layers, levels, grid = density_heatmap(study)
    assert grid[:, 2].tolist() == list(d2.values()) and levels == [0, 1, 2]

def test_histogram_splits_by_the_mask_at_the_threshold(study):
    h = weight_histogram(study, 2, 'fc2.weight')
    alive, kept = study.mask(1)['fc2.weight'], study.mask(2)['fc2.weight']
    assert len(h['trained_kept']) == int(kept.sum()) and len(h['trained_pruned']) == int(alive.sum() - kept.sum())
    assert h['trained_kept'].min() > h['threshold'] > h['trained_pruned'].max()

def test_every_variant_is_told_apart_without_colour():
    styles = [(s['dash'], s['symbol']) for v, s in VARIANT_STYLE.items() if v != 'dense']
    assert len(set(s[0] for s in styles)) == len(styles) and len(set(s[1] for s in styles)) == len(styles)

@given(st.floats(0.01, 99.0))
def test_percent_ticks_are_round_and_cover_the_range(lo):
    t = percent_ticks(lo)
    assert t[0] == 100 and all(lo * 0.999 <= x <= 100 for x in t) and t == sorted(t, reverse=True)
    assert len(t) >= 3 or lo > 60
    assert all(f'{x:g}' == f'{x:.4g}' and len(f'{x:g}') <= 5 for x in t), 'labels like 50%, 2%, 0.5%'

@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 3]), st.integers(0, 10**6))
def test_mask_image_places_every_kernel(o, c, k, seed):
    m = torch.rand(o, c, k, k, generator=torch.Generator().manual_seed(seed)) < 0.5
    img = mask_image(m)
    g = 1 if k > 1 else 0
    for i in range(o):
        for j in range(c):
            assert (img[i*(k+g):i*(k+g)+k, j*(k+g):j*(k+g)+k] == m[i, j].float().numpy()).all()
    assert np.isnan(img).sum() == img.size - m.numel()

def test_a_study_in_progress_is_described_as_far_as_it_goes(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'p', ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=1, n_train=500, n_test=200)),
                 data_dir=fmnist_dir, device='cpu', progress=False)
    assert np.isnan(accuracy_table(run)['ticket']['test_acc']).all()
    run.run(on_unit=lambda m: run.stop())    # only the dense network
    tab = accuracy_table(run)
    assert not math.isnan(tab['ticket']['test_acc'][0]) and np.isnan(tab['ticket']['test_acc'][1:]).all()
    assert layer_densities(run, 1) is None and weight_histogram(run, 1, 'fc1.weight') is None
    plot_accuracy(run)
