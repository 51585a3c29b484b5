"lottery_nb.plots reads a study's files into the right numbers, and draws partial studies without failing."
import math
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from lottery_nb.runs import ImpConfig, ImpRun
from lottery_nb.plots import (accuracy_table, layer_densities, density_heatmap, weight_histogram, mask_image,
                              fig_accuracy, fig_layers, fig_heatmap, fig_histogram, fig_mask, fig_curves, plot_accuracy)

@pytest.fixture(scope='module')
def study(small_study): return small_study(rounds=2, fraction=0.5)

def test_accuracy_table_is_the_metrics_on_disk(study):
    tab = accuracy_table(study)
    for v in ('ticket', 'reinit', 'random'):
        for i, l in enumerate((0, 1, 2)):
            m = study.metrics(l, 'dense' if l == 0 else v)
            assert tab[v]['test_acc'][i] == m['test_acc'] and tab[v]['density'][i] == m['density']
    fig = fig_accuracy(study)
    assert [t.name for t in fig.data] == ['ticket', 'reinit', 'random']
    assert np.allclose(fig.data[0].y, tab['ticket']['test_acc'] * 100)

def test_layer_views_follow_the_masks(study):
    d2 = layer_densities(study, 2)
    assert d2 == {k: float(m.float().mean()) for k, m in study.mask(2).items()}
    layers, levels, grid = density_heatmap(study)
    assert grid[:, 2].tolist() == list(d2.values()) and levels == [0, 1, 2]
    assert list(fig_layers(study, 2).data[0].y) == [v * 100 for v in d2.values()]
    assert np.allclose(fig_heatmap(study).data[0].z, grid * 100)

def test_histogram_splits_by_the_mask_at_the_threshold(study):
    h = weight_histogram(study, 2, 'fc2.weight')
    alive, kept = study.mask(1)['fc2.weight'], study.mask(2)['fc2.weight']
    assert len(h['trained_kept']) == int(kept.sum()) and len(h['trained_pruned']) == int(alive.sum() - kept.sum())
    assert h['trained_kept'].min() > h['threshold'] > h['trained_pruned'].max()
    fig = fig_histogram(study, 2, 'fc2.weight', log=True)
    assert sum(fig.data[1].y) == int(kept.sum()) and fig.layout.yaxis.type == 'log'

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

def test_a_study_in_progress_draws_as_far_as_it_goes(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'p', ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=1, n_train=500, n_test=200)),
                 data_dir=fmnist_dir, device='cpu', progress=False)
    empty_tab = accuracy_table(run)
    assert np.isnan(empty_tab['ticket']['test_acc']).all()
    run.run(on_unit=lambda m: run.stop())    # only the dense network
    tab = accuracy_table(run)
    assert not math.isnan(tab['ticket']['test_acc'][0]) and np.isnan(tab['ticket']['test_acc'][1:]).all()
    assert layer_densities(run, 1) is None and weight_histogram(run, 1, 'fc1.weight') is None
    for f in (fig_accuracy(run), fig_layers(run, 2), fig_heatmap(run), fig_histogram(run, 2, 'fc1.weight'), fig_mask(run, 2, 'fc1.weight'), fig_curves(run, 2)):
        assert f.layout.title.text
    plot_accuracy(run)
