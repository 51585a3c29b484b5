"IMP studies on disk: deterministic masks, rewinding, controls, and resume after a killed process with nothing lost."
import errno, json, signal, subprocess, time
from pathlib import Path
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.files import load_tensors
from lottery_nb.config import ImpConfig, SCHEMA_VERSION
from lottery_nb.runs import ImpRun, open_run, EpochDone
from lottery_nb.train import Callback, load_train_state, save_train_state

TRAIN = dict(epochs=2, n_train=1500, n_test=500, batch_size=100, augment=False)

def small(**kw): return ImpConfig(**{**dict(model='lenet300_100', rounds=2, fraction=0.3, train=TRAIN, controls=('reinit', 'random')), **kw})

@pytest.fixture(scope='module')
def study(tmp_path_factory, fmnist_dir):
    return ImpRun(tmp_path_factory.mktemp('s')/'run', small(), data_dir=fmnist_dir, device='cpu', progress=False).run()

def test_every_unit_is_on_disk_in_documented_files(study):
    meta = json.loads((study.out/'run.json').read_text())
    assert meta['schema_version'] == SCHEMA_VERSION and meta['config']['fraction'] == 0.3
    for level, variant in study.units():
        d = study.out/f'level_{level:02d}'/variant
        assert (d/'metrics.json').exists() and (d/'final.safetensors').exists() and not (d/'state.safetensors').exists()
        m = study.metrics(level, variant)
        assert len(m['history']) == 2 and set(m['history'][0]) >= {'train_loss', 'test_loss', 'test_acc', 'seconds'}
    assert not list(study.out.rglob('*.tmp')), 'no temporary files are left'

def test_masks_shrink_by_the_fraction_with_the_output_layer_at_half_rate(study):
    m1, m2 = study.mask(1), study.mask(2)
    out = 'fc.weight'
    assert int(m1[out].sum()) == 1000 - round(0.15 * 1000)
    hidden = lambda m: sum(int(v.sum()) for k, v in m.items() if k != out)
    total = 784 * 300 + 300 * 100
    assert hidden(m1) == total - round(0.3 * total) and hidden(m2) == hidden(m1) - round(0.3 * hidden(m1))
    assert all((m2[k] <= m1[k]).all() for k in m1)

def test_zeros_stay_zero_and_controls_keep_counts(study):
    for variant in ('ticket', 'reinit', 'random'):
        w, m = study.final_weights(2, variant), study.mask(2, variant)
        assert all(not w[k][~m[k]].any() for k in m), variant
        assert {k: s['kept'] for k, s in study.metrics(2, variant)['layers'].items()} == {k: int(v.sum()) for k, v in study.mask(2).items()}
    assert not torch.equal(study.mask(2, 'random')['fc1.weight'], study.mask(2)['fc1.weight'])

def test_ticket_starts_at_theta0_and_reinit_does_not(study):
    theta0, m = load_tensors(study.out/'theta_0.safetensors'), study.mask(2)
    ticket, _ = study.start_point(2, 'ticket')
    reinit, _ = study.start_point(2, 'reinit')
    for k in m:
        assert torch.equal(ticket[k][m[k]], theta0[k][m[k]])
        assert not torch.equal(reinit[k][m[k]], theta0[k][m[k]]) and not reinit[k][~m[k]].any()

def test_same_seed_same_config_gives_the_same_masks(study, tmp_path, fmnist_dir):
    again = ImpRun(tmp_path/'again', small(), data_dir=fmnist_dir, device='cpu', progress=False).run()
    for level in (1, 2):
        assert all(torch.equal(a, b) for a, b in zip(study.mask(level).values(), again.mask(level).values()))

def test_a_finished_run_reopened_gives_the_same_numbers_and_recomputes_nothing(study):
    again = open_run(study.out, device='cpu', progress=False)
    assert again.results() == study.results() and again.cfg == study.cfg
    t0 = time.time(); again.run(); assert time.time() - t0 < 2

def test_resuming_with_another_config_names_the_fields(study):
    with pytest.raises(LotteryError, match=r'fraction: 0.3 -> 0.5.*rounds: 2 -> 3'):
        ImpRun(study.out, small(fraction=0.5, rounds=3))

def test_rewinding_to_iteration_k(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'rw', small(rounds=1, controls=(), rewind_iter=7), data_dir=fmnist_dir, device='cpu', progress=False).run()
    theta0, theta_k = load_tensors(run.out/'theta_0.safetensors'), load_tensors(run.out/'theta_rewind.safetensors')
    assert not torch.equal(theta0['fc1.weight'], theta_k['fc1.weight'])
    ticket, m = run.start_point(1, 'ticket')
    assert all(torch.equal(ticket[k][m[k]], theta_k[k][m[k]]) for k in m)
    with pytest.raises(LotteryError, match='not before the end'):
        ImpRun(tmp_path/'far', small(rounds=1, controls=(), rewind_iter=10**6), data_dir=fmnist_dir, device='cpu', progress=False).run()

@pytest.mark.parametrize('together', [False, True])
def test_a_unit_rewound_to_k_trains_the_rest_of_the_dense_schedule(tmp_path, fmnist_dir, together):
    "Frankle et al. 2020 / OpenLTH: rewound to k, a ticket (and each control) trains T-k iterations, its first at the dense run's lr at k."
    from lottery_nb.train import LambdaCallback, lr_factor
    k, seen = 20, {}
    def first(t): seen.setdefault(t.desc, (t.iteration, t.lr_now, t.total))
    cfg = small(rounds=1, controls=('reinit',), rewind_iter=k, train={**TRAIN, 'augment': True})
    run = ImpRun(tmp_path/'rw', cfg, data_dir=fmnist_dir, device='cpu', progress=False, together=together)
    run.run(cbs=[LambdaCallback(after_step=first)])
    tc, T = cfg.train_config(), run.metrics(0, 'dense')['iterations']
    steps = {d: (it, lr) for d, (it, lr, _) in seen.items()}
    level1 = [d for d in steps if d.startswith('level 1')]
    assert level1 == (['level 1 ticket+reinit'] if together else ['level 1 ticket', 'level 1 reinit'])
    for d in level1:
        assert steps[d] == (k + 1, tc.lr * lr_factor(tc, k, T // tc.epochs))
    for v in ('ticket', 'reinit'):
        m = run.metrics(1, v)
        assert (m['began_at'], m['iterations']) == (k, T) and m['history'][-1]['iteration'] == T
    assert json.loads((run.out/'run.json').read_text())['rewinding'] == 'continue' and run.rewinding == 'continue'

def test_a_study_keeps_the_rewinding_it_was_made_with(tmp_path, fmnist_dir):
    "A schema-1 study (lottery_nb 0.1) opens, says its rewound units restarted the schedule, and is resumed that way."
    from dataclasses import asdict
    from lottery_nb.core import save_json
    meta = small(rounds=1, controls=(), rewind_iter=20)
    (tmp_path/'old').mkdir()
    save_json(dict(schema_version=1, config=asdict(meta), arch=meta.arch()), tmp_path/'old'/'run.json')
    old = open_run(tmp_path/'old', data_dir=fmnist_dir, device='cpu', progress=False)
    assert old.rewinding == 'restart'
    old.run()
    m = old.metrics(1, 'ticket')
    assert m['began_at'] == 0 and m['iterations'] == old.metrics(0, 'dense')['iterations']   # all T, from 0
    with pytest.raises(LotteryError, match='schema version 7'):
        save_json(dict(schema_version=7, config=asdict(meta)), tmp_path/'old'/'run.json'); open_run(tmp_path/'old')

def test_rewinding_in_epochs_and_one_shot(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'os', small(rounds=3, one_shot=True, controls=(), rewind_epochs=1), data_dir=fmnist_dir, device='cpu', progress=False).run()
    assert run.units() == [(0, 'dense'), (1, 'ticket')]
    hidden = sum(int(v.sum()) for k, v in run.mask(1).items() if k != 'fc.weight')
    assert hidden == pytest.approx((784 * 300 + 300 * 100) * 0.7 ** 3, abs=2)
    assert (run.out/'theta_rewind.safetensors').exists()

def test_callbacks_see_each_unit_and_stop_leaves_a_resumable_directory(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'live', small(), data_dir=fmnist_dir, device='cpu', progress=False)
    seen = []
    def watch(e):
        if not isinstance(e, EpochDone): return
        seen.append((e.level, e.variants))
        if (e.level, e.variants) == (1, ('ticket',)) and e.epoch == 1: run.stop()
    run.run(on_event=watch)
    assert seen == [(0, ('dense',)), (0, ('dense',)), (1, ('ticket',))]
    assert run.is_done(0, 'dense') and not run.is_done(1, 'ticket') and (run.out/'level_01'/'ticket'/'state.safetensors').exists()
    run.run()
    assert all(run.is_done(l, v) for l, v in run.units())

IMP = ['--model', 'lenet300_100', '--rounds', '2', '--fraction', '0.3', '--controls', 'reinit,random', '--n-train', '3000',
       '--n-test', '500', '--epochs', '3', '--batch-size', '100', '--set', 'augment=false', '--device', 'cpu', '--quiet']

def test_imp_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path):
    straight = subprocess.run(['lottery-nb', 'imp', *IMP, '--out', str(tmp_path/'straight')], capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr
    p = subprocess.Popen(['lottery-nb', 'imp', *IMP, '--out', str(tmp_path/'cut')], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = tmp_path/'cut'/'level_01'/'ticket'/'state.safetensors'   # killed in the middle of level 1's ticket
    deadline = time.time() + 300
    while not target.exists() and p.poll() is None and time.time() < deadline: time.sleep(0.02)
    assert p.poll() is None, 'finished before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    r = subprocess.run(['lottery-nb', 'imp', *IMP, '--out', str(tmp_path/'cut')], capture_output=True, text=True)
    assert r.returncode == 2 and '--resume' in r.stderr, 'a study is not overwritten without --resume'
    r = subprocess.run(['lottery-nb', 'imp', *IMP, '--out', str(tmp_path/'cut'), '--resume'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    a, b = open_run(tmp_path/'straight'), open_run(tmp_path/'cut')
    strip = lambda ms: [{**m, 'seconds': 0, 'history': [{**h, 'seconds': 0} for h in m['history']]} for m in ms]
    assert strip(a.results()) == strip(b.results())
    for l, v in a.units():
        wa, wb = a.final_weights(l, v), b.final_weights(l, v)
        assert all(torch.equal(wa[k], wb[k]) for k in wa), (l, v)
    assert r.stdout == straight.stdout, 'the same summary table'

def test_bundled_studies_are_copied_before_anything_trains_into_them(tmp_path, monkeypatch):
    from lottery_nb.runs import writable_copy, read_only, studies_home
    monkeypatch.setenv('LOTTERY_NB_HOME', str(tmp_path/'home'))
    shipped = open_run('lenet300-fmnist-imp', progress=False)
    assert read_only(shipped.out) and not read_only(tmp_path/'new'/'study')
    copy = writable_copy(shipped)
    assert copy.out == studies_home()/'lenet300-fmnist-imp' == tmp_path/'home'/'studies'/'lenet300-fmnist-imp'
    assert copy.summary() == shipped.summary() and writable_copy(shipped).out == copy.out
    (tmp_path/'ro').mkdir(); (tmp_path/'ro'/'run.json').write_text((shipped.out/'run.json').read_text())
    import os
    if os.geteuid() != 0:   # root writes anywhere
        (tmp_path/'ro').chmod(0o555)
        assert writable_copy(open_run(tmp_path/'ro')).out == studies_home()/'ro'

def test_a_shipped_study_rebuilds_theta0_from_its_seed(tmp_path):
    from lottery_nb.models import get_model
    run = open_run('lenet300-fmnist-imp', progress=False)
    assert not (run.out/'theta_0.safetensors').exists()
    sd = get_model(seed=run.cfg.seed, **run.cfg.arch()).state_dict()
    assert all(torch.equal(run.start_weights()[k], sd[k]) for k in sd)

def test_a_unit_interrupted_on_a_gpu_by_lottery_nb_0_1_resumes_on_a_cpu_to_the_uninterrupted_result(tmp_path, fmnist_dir, save_as_on_a_gpu):
    "lottery_nb 0.1 left state.pt (a pickle, here with every tensor tagged cuda:0 as a GPU writes it): it resumes, read weights-only."
    cfg = small(rounds=1, controls=())
    straight = ImpRun(tmp_path/'straight', cfg, data_dir=fmnist_dir, device='cpu', progress=False).run()
    run = ImpRun(tmp_path/'cut', cfg, data_dir=fmnist_dir, device='cpu', progress=False)
    run.run(on_event=lambda e: run.stop() if isinstance(e, EpochDone) and (e.level, e.variants) == (1, ('ticket',)) else None)
    state = run.out/'level_01'/'ticket'/'state.safetensors'
    save_as_on_a_gpu(load_train_state(state), state.with_suffix('.pt')); state.unlink()
    with pytest.raises(RuntimeError, match='CUDA'): torch.load(state.with_suffix('.pt'), weights_only=True)
    ImpRun(tmp_path/'cut', None, data_dir=fmnist_dir, device='cpu', progress=False).run()
    a, b = straight.final_weights(1, 'ticket'), open_run(tmp_path/'cut').final_weights(1, 'ticket')
    assert all(torch.equal(a[k], b[k]) for k in a) and not state.with_suffix('.pt').exists()

def test_a_state_that_does_not_fit_says_how_to_start_the_unit_again(tmp_path, fmnist_dir):
    run = ImpRun(tmp_path/'r', small(rounds=1, controls=()), data_dir=fmnist_dir, device='cpu', progress=False)
    class Stop(Callback):
        def after_epoch(self, t): run.stop()
    run.run(cbs=[Stop()])
    state = run.out/'level_00'/'dense'/'state.safetensors'
    sd = load_train_state(state); sd['model'] = {'__'.join(k.split('.')): v for k, v in sd['model'].items()}   # an older layout
    save_train_state(sd, state)
    with pytest.raises(LotteryError, match='Delete it to start this training again'): ImpRun(tmp_path/'r', None, data_dir=fmnist_dir, device='cpu', progress=False).run()
