"Properties of the pruning functions: exact counts, monotone masks, the smallest go first, torch.nn.utils.prune agrees."
import copy
import pytest
import torch
import torch.nn as nn
import torch.nn.utils.prune as tprune
from hypothesis import given, settings, strategies as st
from lottery_nb.core import LotteryError
from lottery_nb.models import get_model
from lottery_nb.masks import (prune_layerwise, prune_global, prune_filters, prune, dense_mask, weights_of, density, random_mask,
                              shuffled_mask, extract_ticket, agp_sparsity, fraction_for, mask_from_weights, AGP, prunable)

shapes = st.lists(st.sampled_from([(7,), (5, 9), (4, 3, 3, 3), (16, 8), (3, 2, 1, 1)]), min_size=1, max_size=4)

def make(shape_list, seed, keep_p):
    g = torch.Generator().manual_seed(seed)
    w = {f'l{i}.weight': torch.randn(*s if len(s) > 1 else (s[0], 1), generator=g) for i, s in enumerate(shape_list)}
    m = {k: torch.rand(v.shape, generator=g) < keep_p for k, v in w.items()}
    return w, m

@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 10**6), st.floats(0.05, 1.0), st.floats(0, 0.99))
def test_layerwise_removes_exactly_the_fraction_of_each_layers_survivors(shape_list, seed, keep_p, frac):
    w, m = make(shape_list, seed, keep_p)
    new = prune_layerwise(w, m, frac)
    for k in w:
        alive = int(m[k].sum())
        assert int(new[k].sum()) == alive - round(frac * alive)
        assert (new[k] <= m[k]).all(), 'a pruned weight stays pruned'
        kept, dropped = w[k].abs()[new[k]], w[k].abs()[m[k] & ~new[k]]
        if len(kept) and len(dropped): assert kept.min() >= dropped.max(), 'the smallest magnitudes go first'

@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 10**6), st.floats(0.05, 1.0), st.floats(0, 0.99))
def test_global_uses_one_threshold_over_all_layers(shape_list, seed, keep_p, frac):
    w, m = make(shape_list, seed, keep_p)
    new = prune_global(w, m, frac)
    alive = sum(int(v.sum()) for v in m.values())
    assert sum(int(v.sum()) for v in new.values()) == alive - round(frac * alive)
    assert all((new[k] <= m[k]).all() for k in w)
    kept = torch.cat([w[k].abs()[new[k]] for k in w]); dropped = torch.cat([w[k].abs()[m[k] & ~new[k]] for k in w])
    if len(kept) and len(dropped): assert kept.min() >= dropped.max()

@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.floats(0.01, 0.95), st.floats(0.01, 0.95))
def test_global_equals_torch_global_unstructured_l1(seed, f1, f2):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    ref = copy.deepcopy(net)
    params = [(ref[0], 'weight'), (ref[2], 'weight'), (ref[4], 'weight')]
    mask = dense_mask(net)
    for f in (f1, f2):   # a first prune, then a second on the survivors
        tprune.global_unstructured(params, pruning_method=tprune.L1Unstructured, amount=f)
        mask = prune_global(weights_of(net), mask, f)
        for i in (0, 2, 4): assert torch.equal(mask[f'{i}.weight'], ref[i].weight_mask.bool())

def test_per_layer_rates_override_the_fraction():
    net = get_model('lenet300_100', in_channels=1, img_size=28)
    for strategy in (prune_layerwise, prune_global):
        m = strategy(weights_of(net), dense_mask(net), 0.2, rates={'fc.weight': 0.1, 'fc2.weight': 0.0})
        assert int(m['fc.weight'].sum()) == 900 and bool(m['fc2.weight'].all()), strategy.__name__

@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.floats(0, 0.99), st.floats(0, 0.99))
def test_filter_pruning_removes_whole_filters_by_l1_norm(seed, f1, f2):
    torch.manual_seed(seed)
    w = {'c.weight': torch.randn(16, 4, 3, 3), 'fc.weight': torch.randn(10, 16)}
    m = prune_filters(w, dense_mask(w), f1)
    m2 = prune_filters(w, m, f2)
    for mm, prev in ((m, dense_mask(w)), (m2, m)):
        rows = mm['c.weight'].flatten(1)
        assert (rows.all(1) | ~rows.any(1)).all() and (mm['c.weight'] <= prev['c.weight']).all()
        assert bool(mm['fc.weight'].all()), 'linear layers are left alone'
    alive = int(m['c.weight'].flatten(1).any(1).sum())
    assert alive == 16 - round(f1 * 16)
    l1 = w['c.weight'].abs().flatten(1).sum(1)
    kept, gone = l1[m['c.weight'].flatten(1).any(1)], l1[~m['c.weight'].flatten(1).any(1)]
    if len(kept) and len(gone): assert kept.min() >= gone.max()

def test_sparsity_outside_0_1_is_refused():
    net = get_model('lenet300_100', in_channels=1, img_size=28)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(LotteryError, match=r'\[0, 1\)'): prune(net, bad)
    with pytest.raises(LotteryError, match='unknown pruning method'): prune(net, 0.5, 'biggest')

@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 10**6), st.floats(0.05, 1.0), st.integers(0, 1000))
def test_controls_keep_the_per_layer_counts(shape_list, seed, keep_p, cseed):
    w, m = make(shape_list, seed, keep_p)
    r, s = random_mask(m, cseed), shuffled_mask(m, cseed)
    for k in m:
        assert int(r[k].sum()) == int(m[k].sum()) == int(s[k].sum())
        assert torch.equal(s[k].flatten(1).sum(1), m[k].flatten(1).sum(1)), 'a shuffled mask keeps each unit its count'
    assert all(torch.equal(a, b) for a, b in zip(random_mask(m, cseed).values(), r.values())), 'same seed, same control'

def test_ticket_is_theta0_bitwise_on_the_mask():
    theta0 = get_model('resnet20', seed=0).state_dict()
    trained = get_model('resnet20', seed=1).state_dict()
    mask = prune_global(weights_of(trained), dense_mask(trained), 0.7)
    pruned = {k: v * mask[k] if k in mask else v for k, v in trained.items()}
    ticket, m = extract_ticket(theta0, pruned)
    for k, v in theta0.items():
        if k in m:
            assert torch.equal(ticket[k][m[k]], v[m[k]]) and not ticket[k][~m[k]].any()
        else: assert torch.equal(ticket[k], v), 'BatchNorm and biases come from theta_0 unchanged'
    assert set(m) == set(prunable(get_model('resnet20')))

def test_ticket_from_a_mask_that_does_not_fit_is_refused():
    theta0 = get_model('resnet20').state_dict()
    with pytest.raises(LotteryError, match='does not fit'):
        extract_ticket(theta0, mask={'conv1.weight': torch.ones(3, 3, dtype=torch.bool)})

def test_agp_schedule_is_cubic_and_monotone():
    s = [agp_sparsity(e, 0.0, 0.9, 2, 12) for e in range(15)]
    assert s[:3] == [0, 0, 0] and s[12:] == [0.9] * 3 and all(a <= b for a, b in zip(s, s[1:]))
    assert agp_sparsity(7, 0, 0.9, 2, 12) == pytest.approx(0.9 - 0.9 * 0.5 ** 3)

def test_agp_prunes_gradually_during_training(fmnist_dir):
    from lottery_nb.data import get_data
    from lottery_nb.train import Trainer, preset, LambdaCallback
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=1024, n_test=256)
    net = get_model('lenet300_100', in_channels=1, img_size=28)
    seen = []
    t = Trainer(net, data, preset('workshop', epochs=5, n_train=None, n_test=None), progress=False,
                cbs=[AGP(0.8, first=0, last=4), LambdaCallback(after_epoch=lambda t: seen.append({k: v.clone() for k, v in t.mask.items()}))])
    t.fit()
    dens = [density(m) for m in seen]
    assert all(a >= b for a, b in zip(dens, dens[1:])) and dens[-1] == pytest.approx(0.2, abs=0.002)
    assert all((b[k] <= a[k]).all() for a, b in zip(seen, seen[1:]) for k in a), 'AGP only removes weights'
    assert torch.equal(mask_from_weights(net)['fc1.weight'], t.mask['fc1.weight'])

def test_fraction_for_reaches_the_target():
    f = fraction_for(0.9, 3)
    assert (1 - f) ** 3 == pytest.approx(0.1)
    with pytest.raises(LotteryError): fraction_for(0.1, 1, current_density=0.5)
