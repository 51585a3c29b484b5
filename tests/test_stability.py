"Instability analysis: the path between two copies trained from k, its barrier, BatchNorm recomputed, and a sweep that resumes per k."
import pytest
import torch
from lottery_nb.data import get_data
from lottery_nb.models import get_model, arch_for
from lottery_nb.train import preset, evaluate, Trainer
from lottery_nb.stability import interpolate, reset_bn, barrier, path_errors, StabilitySweep, StabilityConfig, study_sweep

@pytest.fixture(scope='module')
def fm(fmnist_dir): return get_data('fashion_mnist', fmnist_dir, 'cpu', n_train=800, n_test=400)

ARCH = arch_for('resnet20', 'fashion_mnist', width=0.25)

def test_the_ends_of_a_path_are_the_two_networks(fm):
    a, b = (get_model(seed=s, **ARCH).state_dict() for s in (1, 2))
    res = path_errors(ARCH, a, b, fm, points=3, bn='keep')
    for sd, err in ((a, res['error'][0]), (b, res['error'][-1])):
        m = get_model(seed=0, **ARCH); m.load_state_dict(sd)
        assert err == pytest.approx(1 - evaluate(m, fm.test)[1])
    assert res['barrier'] == pytest.approx(barrier(res['error']))

def test_a_path_between_a_network_and_itself_has_no_barrier(fm):
    a = get_model(seed=1, **ARCH).state_dict()
    res = path_errors(ARCH, a, a, fm, points=4, bn='reset')
    assert res['barrier'] == 0 and len(set(res['error'])) == 1

def test_batchnorm_statistics_are_recomputed_from_training_data(fm):
    "After reset_bn a BatchNorm's running mean is its input's mean over the training images, whatever it held before."
    m = get_model(seed=0, **ARCH)
    with torch.no_grad(): x = torch.cat([m.conv1(xb) for xb, _ in fm.train.batches(200)])
    m.bn1.running_mean.fill_(100.0)
    reset_bn(m, fm, batches=100, bs=200)   # 4 equal batches: their average is the whole set's mean
    assert torch.allclose(m.bn1.running_mean, x.mean((0, 2, 3)), rtol=1e-3, atol=1e-4)
    assert m.bn1.momentum == 0.1   # put back as it was

def test_a_sweep_writes_each_k_and_resumes_without_training_again(tmp_path, fm):
    train = preset('workshop', lr=0.2, warmup_epochs=0, epochs=2, n_train=800, n_test=400)
    sweep = StabilitySweep(tmp_path/'sw', ARCH, fm, train, StabilityConfig(ks=(0, 6), points=3))
    res = sweep.run()
    assert [r['k'] for r in res] == [0, 6] and all(len(r['error']) == 3 for r in res)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path/'sw').iterdir()}
    assert StabilitySweep(tmp_path/'sw', ARCH, fm, train, StabilityConfig(ks=(0, 6), points=3)).run() == res
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path/'sw').iterdir()} == stamps
    keep = StabilitySweep(tmp_path/'sw', ARCH, fm, train, StabilityConfig(ks=(0, 6), points=3, bn='keep')).run()   # the same pairs, walked again
    assert [r['bn'] for r in keep] == ['keep', 'keep']
    from lottery_nb.files import load_tensors
    for r in keep:   # with BatchNorm kept, the ends of each pair's path are its two trained copies exactly as they were
        assert r['pairs'] == 3 and len(r['errors']) == 3 and r['barrier'] == pytest.approx(sum(r['barriers']) / 3)
        for rep, errors in enumerate(r['errors']):
            for i, end in ((0, errors[0]), (1, errors[-1])):
                m = get_model(seed=0, **ARCH); m.load_state_dict(load_tensors(sweep.files.copy(r['k'], i, rep)))
                assert end == pytest.approx(1 - evaluate(m, fm.test)[1])
    assert all((tmp_path/'sw'/f).stat().st_mtime_ns == stamps[f] for f in stamps)   # nothing trained again

def test_a_studys_sweep_is_shown_by_the_explorer(tmp_path, fmnist_dir):
    from lottery_nb.config import ImpConfig
    from lottery_nb.runs import ImpRun
    from lottery_nb.view import study_summary
    cfg = ImpConfig(model='resnet20', model_kwargs=dict(width=0.25), rounds=1, controls=(),
                    train=dict(epochs=1, n_train=600, n_test=300, lr=0.1))
    run = ImpRun(tmp_path/'st', cfg, data_dir=fmnist_dir, device='cpu', progress=False).run()
    assert study_summary(run)['stability'] is None
    study_sweep(run, StabilityConfig(ks=(0, 3), points=3)).run()
    s = study_summary(run)['stability']
    assert [p['k'] for p in s['paths']] == [0, 3] and 'barrier' in s['note']
    assert (run.out/'stability'/'level_00'/'k_000003_reset.json').exists()
