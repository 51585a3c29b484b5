"""A fault campaign: every way a file or a setting handed to lottery_nb can be bad, tried as a user would meet it.

Each case asserts what the user sees (the exit code and one line saying what is wrong and how to go on) and what is left on
disk (exactly what was there before, or the study mended bitwise). Checkpoints are pickles, so the malicious ones here carry
a payload that would create a file; that file must never appear."""
import json, os, pickle, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from lottery_nb.core import LotteryError
from lottery_nb.files import load_tree, torch_load
from lottery_nb.masks import prune_global, fraction_for
from lottery_nb.models import get_model
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun, open_run, MANIFEST, EpochDone
from lottery_nb.train import Callback, Trainer, preset, load_checkpoint, save_checkpoint, save_train_state, load_train_state
from lottery_nb.cli import parser, imp_config
from conftest import write_cifar

def lnb(*args, cwd=None, env=None, timeout=300):
    return subprocess.run(['lottery-nb', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})})

def files_of(d:Path) -> dict:
    "Every file under `d` and its bytes: what a test compares before and after."
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()} if Path(d).exists() else {}

def fails(r, says:str, code:int=2, started:bool=False):
    "`r` exited `code` with one line, 'lottery-nb: error: ...', that contains `says` (after what a training that `started` printed)."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and (started or len(lines) == 1), r.stderr[-2000:]
    assert lines[-1].startswith('lottery-nb: error:') and says in lines[-1], r.stderr[-2000:]
    return lines[-1]

class Payload:
    "An object whose unpickling runs a shell command: what a malicious checkpoint carries."
    def __init__(self, marker:Path): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def evil(path:Path, marker:Path, obj=None) -> Path:
    "A checkpoint that would create `marker` when it is loaded."
    torch.save({**(obj or {'state_dict': get_model('lenet300_100', in_channels=1, img_size=28).state_dict()}), 'extra': Payload(marker)}, path)
    return path

FMNIST = '/usr/share/datasets/fashion-mnist'
# A small study made by the command line: the same flags resume it
IMPF = ['--model', 'lenet300_100', '--rounds', '2', '--fraction', '0.3', '--controls', 'reinit,random', '--n-train', '1200',
        '--n-test', '300', '--epochs', '2', '--batch-size', '100', '--set', 'augment=false', '--device', 'cpu', '--quiet']

def cli_config(*extra) -> ImpConfig: return imp_config(parser().parse_args(['imp', *IMPF, '--out', 'x', *extra]))

@pytest.fixture(scope='module')
def finished(tmp_path_factory, fmnist_dir):
    "A finished study, made as `lottery-nb imp IMPF` makes it."
    out = tmp_path_factory.mktemp('finished')/'study'
    ImpRun(out, cli_config(), data_dir=fmnist_dir, device='cpu', progress=False).run()
    return out

@pytest.fixture
def study(finished, tmp_path):
    "A fresh copy of the finished study, to damage."
    shutil.copytree(finished, tmp_path/'study')
    return tmp_path/'study'

def stopped_mid(out:Path, unit:tuple, together:bool=False) -> ImpRun:
    "The study of IMPF stopped after the first epoch of `unit` (level, variant), its state file on disk."
    run = ImpRun(out, cli_config(), data_dir=FMNIST, device='cpu', progress=False, together=together)
    return run.run(on_event=lambda e: run.stop() if isinstance(e, EpochDone) and e.level == unit[0] and unit[1] in e.variants else None)

# ---------------------------------------------------------------------------------------------------------------------
# 1. Loading a file never runs code

def test_load_checkpoint_refuses_a_payload_and_names_the_file_and_the_import(tmp_path):
    marker = tmp_path/'pwned'
    with pytest.raises(LotteryError) as e: load_checkpoint(evil(tmp_path/'evil.pth.tar', marker))
    msg = str(e.value)
    assert 'evil.pth.tar asks to import posix.system' in msg and 'trust=True' in msg and '--trust-checkpoint' in msg and '\n' not in msg
    assert not marker.exists()

@pytest.mark.parametrize('cmd', ['extract-untrained', 'extract-pruned', 'prune', 'train-resume-from'])
def test_every_command_that_reads_a_checkpoint_refuses_a_payload(tmp_path, cmd):
    marker, good = tmp_path/'pwned', tmp_path/'good.pth.tar'
    save_checkpoint(good, get_model('lenet300_100', in_channels=1, img_size=28), dict(name='lenet300_100', in_channels=1, img_size=28))
    bad = evil(tmp_path/'evil.pth.tar', marker)
    args = {'extract-untrained': ['extract', '--untrained', bad, '--pruned', good, '--out', tmp_path/'out'],
            'extract-pruned': ['extract', '--untrained', good, '--pruned', bad, '--out', tmp_path/'out'],
            'prune': ['prune', '--checkpoint', bad, '--sparsity', '0.5', '--out', tmp_path/'out'],
            'train-resume-from': ['train', '--resume-from', bad, '--quiet', '--device', 'cpu', '--out', tmp_path/'out']}[cmd]
    before = files_of(tmp_path)
    fails(lnb(*args), 'evil.pth.tar asks to import posix.system')
    assert not marker.exists() and files_of(tmp_path) == before

def test_trust_checkpoint_loads_what_the_user_vouches_for(tmp_path):
    import argparse
    sd = get_model('lenet300_100', in_channels=1, img_size=28).state_dict()
    torch.save({'state_dict': sd, 'arch': 'lenet300_100', 'args': argparse.Namespace(lr=0.1)}, tmp_path/'theirs.pth.tar')
    with pytest.raises(LotteryError, match='asks to import argparse.Namespace'): load_checkpoint(tmp_path/'theirs.pth.tar')
    assert load_checkpoint(tmp_path/'theirs.pth.tar', trust=True)['args'].lr == 0.1
    fails(lnb('prune', '--checkpoint', tmp_path/'theirs.pth.tar', '--sparsity', '0.5', '--out', tmp_path/'p.pth.tar'), '--trust-checkpoint')
    r = lnb('prune', '--checkpoint', tmp_path/'theirs.pth.tar', '--sparsity', '0.5', '--out', tmp_path/'p.pth.tar', '--trust-checkpoint')
    assert r.returncode == 0 and 'with trust' in r.stderr, r.stderr
    assert set(torch.load(tmp_path/'p.pth.tar', weights_only=True)) >= {'state_dict', 'mask'}, 'what lottery_nb writes needs no trust'

def test_the_seeds_distiller_checkpoints_load_safely_optimizer_type_and_all(tmp_path):
    u, t = get_model('resnet20', seed=0), get_model('resnet20', seed=1)
    opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    def distiller(model, epoch):   # the fields of distiller.apputils.save_checkpoint
        return {'epoch': epoch, 'state_dict': {f'module.{k}': v for k, v in model.state_dict().items()}, 'arch': 'resnet20_cifar',
                'optimizer_state_dict': opt.state_dict(), 'optimizer_type': type(opt), 'compression_sched': {'masks_dict': {}},
                'extras': {'best_top1': 91.7, 'current_top1': 91.2, 'best_epoch': epoch}, 'thinning_recipes': [], 'quantizer_metadata': None}
    torch.save(distiller(u, 0), tmp_path/'resnet20_untrained_checkpoint.pth.tar')
    torch.save(distiller(t, 180), tmp_path/'resnet20_best.pth.tar')
    assert load_checkpoint(tmp_path/'resnet20_best.pth.tar')['optimizer_type'] is torch.optim.SGD
    r = lnb('prune', '--checkpoint', tmp_path/'resnet20_best.pth.tar', '--sparsity', '0.5', '--out', tmp_path/'pruned.pth.tar')
    assert r.returncode == 0, r.stderr
    r = lnb('extract', '--untrained', tmp_path/'resnet20_untrained_checkpoint.pth.tar', '--pruned', tmp_path/'pruned.pth.tar', '--out', tmp_path/'ticket.pth.tar')
    assert r.returncode == 0, r.stderr

def test_train_resume_refuses_a_state_pt_with_a_payload(tmp_path):
    out, marker = tmp_path/'run', tmp_path/'pwned'
    small = ['--model', 'lenet300_100', '--n-train', '600', '--n-test', '200', '--epochs', '2', '--quiet', '--device', 'cpu', '--out', out]
    assert lnb('train', *small).returncode == 0
    (out/'trained.pth.tar').unlink()
    evil(out/'state.pt', marker, {'model': {}})   # as lottery_nb 0.1 named it
    before = files_of(out)
    line = fails(lnb('train', *small, '--resume'), 'state.pt: asks to import posix.system')
    assert 'Delete it to start this training again' in line and '--trust-checkpoint' not in line
    assert not marker.exists() and files_of(out) == before

@pytest.mark.parametrize('together', [False, True], ids=['unit state.pt', 'together.pt'])
def test_imp_resume_and_imprun_refuse_a_state_with_a_payload(tmp_path, together):
    out, marker = tmp_path/'study', tmp_path/'pwned'
    run = stopped_mid(out, (1, 'ticket'), together)
    state = out/'level_01'/('together.safetensors' if together else 'ticket/state.safetensors')
    assert state.exists()
    state.unlink(); evil(state.with_suffix('.pt'), marker, {'model': {}})
    before = files_of(out)
    fails(lnb('imp', *IMPF, '--out', out, '--resume', '--together' if together else '--apart'), 'asks to import posix.system')
    with pytest.raises(LotteryError, match='asks to import posix.system'): ImpRun(out, None, data_dir=FMNIST, device='cpu', progress=False, together=together).run()
    assert not marker.exists() and files_of(out) == before

def test_the_explorers_training_refuses_a_state_with_a_payload_and_says_so(tmp_path):
    from lottery_nb.widgets import watch
    out, marker = tmp_path/'study', tmp_path/'pwned'
    stopped_mid(out, (1, 'ticket'))
    state = out/'level_01'/'ticket'/'state.safetensors'
    state.unlink(); evil(state.with_suffix('.pt'), marker, {'model': {}})
    before = files_of(out)
    w = watch(open_run(out, data_dir=FMNIST, device='cpu', progress=False)).train().wait(120)
    assert w.status['error'] and 'asks to import posix.system' in w.status['text'] and 'Delete it' in w.status['text'], w.status
    assert not marker.exists() and files_of(out) == before
    w.close()

def test_state_files_are_safetensors_that_hold_no_pickle(tmp_path):
    out = tmp_path/'study'
    stopped_mid(out, (1, 'ticket'))
    state = out/'level_01'/'ticket'/'state.safetensors'
    assert b'\x80\x04' not in state.read_bytes()[:8 + int.from_bytes(state.read_bytes()[:8], 'little')], 'the header is JSON'
    sd = load_train_state(state)
    assert sd['epoch'] == 1 and set(sd) >= {'model', 'opt', 'gen', 'history', 'config'}

def test_cifar_batches_are_read_without_running_what_they_ask(tmp_path):
    from lottery_nb.data import get_data, read_cifar_batch
    written, marker = write_cifar(tmp_path), tmp_path/'pwned'
    x, y = read_cifar_batch(tmp_path/'cifar-10-batches-py'/'data_batch_2')
    assert torch.equal(x.reshape(len(x), -1), torch.as_tensor(written['data_batch_2'][0])) and y.tolist() == written['data_batch_2'][1]
    with open(tmp_path/'cifar-10-batches-py'/'data_batch_3', 'wb') as f:
        pickle.dump({b'data': np.zeros((2, 3072), np.uint8), b'labels': [0, 1], b'batch_label': Payload(marker)}, f, protocol=2)
    with pytest.raises(LotteryError, match='data_batch_3 is not a genuine CIFAR-10 batch: it asks to import posix.system'):
        get_data('cifar10', tmp_path, 'cpu')
    fails(lnb('train', '--dataset', 'cifar10', '--data-dir', tmp_path, '--quiet', '--device', 'cpu', '--out', tmp_path/'run'), 'asks to import posix.system')
    assert not marker.exists() and not (tmp_path/'run').exists()

@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_checkpoint_state_or_batch_are_one_lottery_error(tmp_path_factory, data):
    from lottery_nb.data import read_cifar_batch
    p = tmp_path_factory.mktemp('bytes')/'f.pth.tar'
    p.write_bytes(data)
    for load in (load_checkpoint, load_tree, read_cifar_batch, lambda q: torch_load(q, what='training state', trust_hint=False)):
        with pytest.raises(LotteryError): load(p)

# ---------------------------------------------------------------------------------------------------------------------
# 2. A damaged study is found, named and mended

def _strip_seconds(m:dict) -> dict: return {**m, 'seconds': 0, 'history': [{**h, 'seconds': 0} for h in m['history']]}

def test_check_names_each_damaged_file_and_resume_mends_them_bitwise(study):
    before = files_of(study)
    assert lnb('check', study).returncode == 0
    (study/'level_01'/'ticket'/'final.safetensors').write_bytes(before['level_01/ticket/final.safetensors'][:5000])   # truncated
    (study/'level_02'/'mask.safetensors').write_bytes(before['level_02/mask.safetensors'][:-7])
    (study/'level_02'/'reinit'/'metrics.json').write_text('')   # empty
    (study/'level_01'/'.final.safetensors.k1ll3d.tmp').write_bytes(b'\0' * 1_800_000)   # a killed write's leftover
    r = lnb('check', study)
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    for f in ('level_01/ticket/final.safetensors', 'level_02/mask.safetensors', 'level_02/reinit/metrics.json'): assert f'{f} is damaged' in r.stdout
    r = lnb('summary', study)
    assert r.returncode == 0 and r.stdout.count(' damaged ') == 2 and '--resume' in r.stderr, (r.stdout, r.stderr)
    r = lnb('imp', '--out', study, '--resume', '--device', 'cpu', '--quiet')   # as check and summary say it: the study's own flags come from run.json
    assert r.returncode == 0, r.stderr
    assert 'removed 1 unfinished write' in r.stderr and 'level 1 ticket is trained again' in r.stderr and 'level 2 reinit is trained again' in r.stderr
    after = files_of(study)
    assert sorted(after) == sorted(f for f in before)
    for f in before:
        if f.endswith('.safetensors'): assert after[f] == before[f], f'{f} came back bitwise as it was'
        if f.endswith('metrics.json'): assert _strip_seconds(json.loads(after[f])) == _strip_seconds(json.loads(before[f])), f
    assert lnb('check', study).returncode == 0

def test_damaged_masks_alone_are_rebuilt_bitwise_without_training_anything(study):
    before = files_of(study)
    for f in ('level_02/mask.safetensors', 'level_01/random/mask.safetensors'): (study/f).write_bytes(before[f][:-10])
    ImpRun(study, None, data_dir=FMNIST, device='cpu', progress=False).run()
    assert files_of(study) == before, 'every file as it was, metrics (and their seconds) included: nothing was trained'

FILES = ['run.json', 'theta_0.safetensors', 'level_00/dense/final.safetensors', 'level_00/dense/metrics.json',
         'level_01/mask.safetensors', 'level_01/ticket/final.safetensors', 'level_01/reinit/metrics.json',
         'level_01/random/mask.safetensors', 'level_02/mask.safetensors', 'level_02/random/final.safetensors', 'level_02/ticket/metrics.json']

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), how=st.sampled_from(['truncate', 'flip', 'empty', 'delete']), where=st.floats(0, 1, exclude_max=True))
def test_verify_finds_exactly_the_damaged_file_whatever_the_damage(finished, name, how, where):
    p = finished/name
    good = p.read_bytes()
    i = int(where * len(good))
    bad = {'truncate': good[:i], 'flip': good[:i] + bytes([good[i] ^ 0x10]) + good[i + 1:], 'empty': b'', 'delete': None}[how]
    try:
        if bad is None: p.unlink()
        else: p.write_bytes(bad)
        try: damage = open_run(finished).verify()
        except LotteryError as e:   # run.json holds the config: a study without one cannot be opened, and says so
            assert name == 'run.json' and 'run.json' in str(e); return
        assert [d.path for d in damage] == [name], (name, how, damage)
    finally: p.write_bytes(good)

def test_a_study_from_before_checksums_is_checked_by_reading_and_can_record_them(study):
    (study/MANIFEST).unlink()
    r = lnb('check', study)
    assert r.returncode == 0 and 'without a recorded checksum' in r.stdout
    good = (study/'level_01'/'ticket'/'final.safetensors').read_bytes()
    (study/'level_01'/'ticket'/'final.safetensors').write_bytes(good[:-100])
    assert [d.path for d in open_run(study).verify()] == ['level_01/ticket/final.safetensors']
    (study/'level_01'/'ticket'/'final.safetensors').write_bytes(good)
    r = lnb('check', study, '--record')
    assert r.returncode == 0 and 'recorded checksums for' in r.stdout and (study/MANIFEST).exists()
    b = bytearray(good); b[-1] ^= 1; (study/'level_01'/'ticket'/'final.safetensors').write_bytes(bytes(b))   # a flipped bit parses fine...
    assert [d.path for d in open_run(study).verify()] == ['level_01/ticket/final.safetensors'], '... and is found by its checksum'

def test_a_damaged_manifest_is_named_and_written_again(study):
    good = (study/MANIFEST).read_bytes()
    (study/MANIFEST).write_bytes(good[:50])
    assert [d.path for d in open_run(study).verify()] == [MANIFEST]
    said = open_run(study).mend()
    assert any('written again' in s for s in said) and (study/MANIFEST).read_bytes() == good

def test_a_damaged_run_json_cannot_be_mended_and_says_so(study):
    (study/'run.json').write_text('{"schema_version": 1, "conf')
    fails(lnb('check', study), "run.json is damaged")
    fails(lnb('imp', *IMPF, '--out', study, '--resume'), "cannot be mended")
    (study/'run.json').write_text('[]')
    fails(lnb('summary', study), "is not a study's run.json")

def test_the_explorer_marks_damaged_units_and_never_raises(study):
    from lottery_nb.view import study_summary
    from lottery_nb.widgets import explore, Explorer
    (study/'level_01'/'reinit'/'metrics.json').write_text('{"level": 1}')   # keys missing
    s = study_summary(open_run(study))
    assert s['units']['1']['reinit'] == 'damaged' and 'Damaged: level 1 reinit' in s['notes']['1']['acc']
    assert isinstance(explore(study), Explorer)
    (study/'run.json').write_text('[]')
    assert "is not a study&#x27;s run.json" in explore(study).value

def test_files_get_the_umask_mode_so_a_study_can_be_shared(tmp_path, fmnist_dir):
    old = os.umask(0o027)
    try: ImpRun(tmp_path/'s', cli_config('--rounds', '1', '--controls', 'none', '--epochs', '1'), data_dir=fmnist_dir, device='cpu', progress=False).run()
    finally: os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in (tmp_path/'s').rglob('*') if p.is_file()}
    assert set(modes.values()) == {0o640}, modes

# ---------------------------------------------------------------------------------------------------------------------
# 3. Bad numbers fail early and loud

def test_non_finite_weights_are_refused_where_they_come_in(tmp_path):
    m = get_model('lenet300_100', in_channels=1, img_size=28)
    with torch.no_grad(): m.fc2.weight[3, 4] = float('nan')
    save_checkpoint(tmp_path/'nan.pth.tar', m, dict(name='lenet300_100', in_channels=1, img_size=28), dataset='fashion_mnist')
    before = files_of(tmp_path)
    fails(lnb('train', '--resume-from', tmp_path/'nan.pth.tar', '--quiet', '--device', 'cpu', '--out', tmp_path/'out'), 'NaN or inf values in fc2.weight')
    fails(lnb('prune', '--checkpoint', tmp_path/'nan.pth.tar', '--sparsity', '0.5', '--out', tmp_path/'out'), 'NaN or inf values in fc2.weight')
    assert files_of(tmp_path) == before
    with pytest.raises(LotteryError, match='NaN or inf'): prune_global({'w': torch.tensor([1., float('nan'), 3.])}, {'w': torch.ones(3, dtype=torch.bool)}, 0.3)

@pytest.mark.parametrize('args,says', [
    (['--set', 'weight_decay=nan'], "weight_decay must be a finite number, not 'nan'"),
    (['--lr', 'inf'], "lr must be a finite number"),
    (['--set', 'momentum=nan'], "momentum must be a finite number"),
    (['--fraction', 'nan'], "fraction must be a finite number, not nan"),
    (['--rewind-to', '100000'], "the rewind point (iteration 100000) is not before the end of the 24 iterations of training"),
    (['--rewind-to', '9ep'], "the rewind point (9.0 epochs) is beyond the 2 epochs of training"),
    (['--n-train', '0'], "n_train must be at least 1, or None for all (got 0)"),
])
def test_bad_settings_fail_before_anything_is_written(tmp_path, args, says):
    fails(lnb('imp', *IMPF, *args, '--out', tmp_path/'study'), says)
    assert not (tmp_path/'study').exists()

def test_a_training_whose_loss_becomes_nan_stops_at_that_epoch_keeping_the_ones_before(tmp_path, fmnist_dir):
    class Poison(Callback):   # weights blow up during epoch 2, as a too-high learning rate makes them
        def after_step(self, t):
            if t.iteration == t.iters_per_epoch + 3:
                with torch.no_grad(): next(t.model.parameters()).fill_(float('inf'))
    run = ImpRun(tmp_path/'s', cli_config('--rounds', '1', '--controls', 'none', '--epochs', '3'), data_dir=fmnist_dir, device='cpu', progress=False)
    with pytest.raises(LotteryError, match=r'the training loss became nan in epoch 2: the training diverged .* epoch 1 is kept'): run.run(cbs=[Poison()])
    state = load_train_state(tmp_path/'s'/'level_00'/'dense'/'state.safetensors')
    assert state['epoch'] == 1 and not (tmp_path/'s'/'level_00'/'dense'/'metrics.json').exists()
    r = lnb('train', '--model', 'lenet300_100', '--n-train', '600', '--n-test', '200', '--epochs', '2', '--lr', '1e30', '--quiet',
            '--device', 'cpu', '--out', tmp_path/'t')
    fails(r, 'became nan in epoch 1: the training diverged', started=True)

def test_a_checkpoint_and_a_contradicting_model_are_refused(tmp_path):
    save_checkpoint(tmp_path/'lenet.pth.tar', get_model('lenet300_100', in_channels=1, img_size=28),
                    dict(name='lenet300_100', in_channels=1, img_size=28), dataset='fashion_mnist')
    fails(lnb('train', '--resume-from', tmp_path/'lenet.pth.tar', '--model', 'resnet20', '--quiet', '--device', 'cpu', '--out', tmp_path/'o'),
          'holds a lenet300_100, but --model resnet20 was given')
    assert not (tmp_path/'o').exists()

# ---------------------------------------------------------------------------------------------------------------------
# 4. Every failure is one line, and a failed start leaves nothing behind

@pytest.fixture
def tiny_disk(tmp_path):
    "A 2 MB file system, full after a file or two (needs root to mount a tmpfs; CI has it)."
    d = tmp_path/'disk'; d.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(d)], capture_output=True).returncode:
        pytest.skip('cannot mount a tmpfs here (not root)')
    yield d
    subprocess.run(['umount', str(d)], check=True)

def test_a_full_disk_is_one_line_and_leaves_only_whole_files(tiny_disk):
    fails(lnb('imp', *IMPF, '--out', tiny_disk/'study'), 'no space left on its disk')
    assert not list(tiny_disk.rglob('*.tmp')), 'no half-written file is left'
    assert open_run(tiny_disk/'study').verify() == [], 'what was written is whole'
    fails(lnb('train', '--model', 'lenet300_100', '--n-train', '600', '--n-test', '200', '--epochs', '1', '--quiet', '--device', 'cpu',
              '--out', tiny_disk/'run'), 'no space left on its disk', started=True)
    assert not list(tiny_disk.rglob('*.tmp'))

def test_paths_of_the_wrong_kind_are_named(tmp_path):
    (tmp_path/'afile').write_text('mine')
    fails(lnb('imp', *IMPF, '--out', tmp_path/'afile'), 'is a file')
    assert (tmp_path/'afile').read_text() == 'mine'
    (tmp_path/'adir').mkdir()
    fails(lnb('prune', '--checkpoint', tmp_path/'adir', '--sparsity', '0.5', '--out', tmp_path/'p'), 'adir is a directory, not a file')

def test_bad_data_fails_before_anything_is_written_so_the_corrected_run_starts(tmp_path):
    bad = tmp_path/'data'; bad.mkdir()
    for f in Path(FMNIST).glob('*.gz'): (bad/f.name).write_bytes(f.read_bytes()[:5000])   # cut short, as an interrupted copy
    small = ['--model', 'lenet300_100', '--n-train', '600', '--n-test', '200', '--epochs', '1', '--quiet', '--device', 'cpu']
    fails(lnb('train', *small, '--data-dir', bad, '--out', tmp_path/'run'), 'truncated')
    fails(lnb('imp', *IMPF, '--data-dir', bad, '--out', tmp_path/'study'), 'truncated')
    assert not (tmp_path/'run').exists() and not (tmp_path/'study').exists()
    assert lnb('train', *small, '--out', tmp_path/'run').returncode == 0, 'the corrected command is not told to --resume'

def test_python_api_mistakes_are_one_lottery_error():
    w = {'fc.weight': torch.randn(4, 3)}
    with pytest.raises(LotteryError, match=r'mask does not fit the model: fc.weight \(2, 2\) vs \(4, 3\)'):
        prune_global(w, {'fc.weight': torch.ones(2, 2, dtype=torch.bool)}, 0.5)
    with pytest.raises(LotteryError, match='rounds must be a whole number of at least 1, not 0'): fraction_for(0.5, rounds=0)
    with pytest.raises(LotteryError, match="rewind_iter takes an int, not 'xyz'"): ImpConfig(rewind_iter='xyz')
    assert ImpConfig(rewind_iter='500', rounds='3').rewind_iter == 500, 'strings that read as the type are taken, as the command line gives them'

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=8), st.lists(st.integers(0, 200), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
IMP_FIELDS = ['rounds', 'fraction', 'output_rate', 'method', 'rewind_iter', 'rewind_epochs', 'one_shot', 'controls', 'seed', 'preset', 'model_kwargs']
TRAIN_FIELDS = ['epochs', 'batch_size', 'lr', 'momentum', 'nesterov', 'weight_decay', 'schedule', 'milestones', 'warmup_epochs',
                'label_smoothing', 'augment', 'n_train', 'seed', 'bf16']

@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(IMP_FIELDS), VALUES, max_size=3), st.dictionaries(st.sampled_from(TRAIN_FIELDS), VALUES, max_size=3))
def test_any_config_is_valid_or_one_lottery_error(imp, train):
    import math
    try: cfg = ImpConfig(model='lenet300_100', train=train, **imp)
    except LotteryError as e: assert '\n' not in str(e); return
    tc = cfg.train_config()
    assert all(math.isfinite(getattr(tc, k)) for k in ('lr', 'momentum', 'weight_decay', 'gamma', 'warmup_epochs', 'label_smoothing'))
    assert 0 <= cfg.fraction < 1 and cfg.rounds >= 1 and isinstance(cfg.rewind_iter, int) and cfg.rewind_iter >= 0

# ---------------------------------------------------------------------------------------------------------------------
# One writer per study

RACE = ['--model', 'lenet300_100', '--rounds', '1', '--controls', 'reinit', '--n-train', '600', '--n-test', '200', '--epochs', '1',
        '--set', 'augment=false', '--device', 'cpu', '--quiet', '--threads', '1']

def test_two_writers_on_one_new_study_one_trains_and_the_other_names_it(tmp_path):
    "Two `imp` on one new --out, started 0 to 1 s apart, with the same or another fraction: one trains, the other writes nothing."
    import time
    for i in range(20):
        out, fr = tmp_path/f's{i}', ('0.2', '0.5' if i % 2 else '0.2')
        first = subprocess.Popen(['lottery-nb', 'imp', *RACE, '--fraction', fr[0], '--out', out], stderr=subprocess.PIPE, text=True)
        time.sleep(i / 19)
        second = subprocess.Popen(['lottery-nb', 'imp', *RACE, '--fraction', fr[1], '--out', out], stderr=subprocess.PIPE, text=True)
        e1, e2 = (p.communicate(timeout=300)[1] for p in (first, second))
        codes = (first.returncode, second.returncode)
        assert sorted(codes) == [0, 2], (i, codes, e1[-500:], e2[-500:])
        winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
        said = (e1, e2)[loser].strip().splitlines()
        assert len(said) == 1 and f'{out} is being written by process' in said[0] and 'since' in said[0], (i, said)
        assert open_run(out).verify() == [], i   # sound, as `lottery-nb check` would say
        assert json.loads((out/'run.json').read_text())['config']['fraction'] == float(fr[winner]), i
        assert not (out/'lock.json').exists(), 'the winner let go of its lock when it finished'

def test_a_writer_in_a_notebook_holds_the_study_against_the_command_line(tmp_path, fmnist_dir):
    "While `ImpRun.run` trains (here, stopped inside a callback), `lottery-nb imp --resume` refuses and says who writes it."
    cfg = cli_config()
    run = ImpRun(tmp_path/'s', cfg, data_dir=fmnist_dir, device='cpu', progress=False)
    seen = {}
    def meanwhile(e):
        if isinstance(e, EpochDone) and not seen:
            seen['r'] = lnb('imp', *IMPF, '--out', tmp_path/'s', '--resume')
            seen['summary'] = open_run(tmp_path/'s').summary()
    run.run(on_event=meanwhile)
    fails(seen['r'], 'is being written by process')
    assert f'being written now by process {os.getpid()}' in seen['summary']
    assert 'being written' not in open_run(tmp_path/'s').summary()

# ---------------------------------------------------------------------------------------------------------------------
# Every file checked, recorded or not

def unrecord(study:Path, *names):
    "Drop files' checksums from the manifest, as a kill between writing a file and recording it leaves them."
    m = json.loads((study/MANIFEST).read_text())
    for n in names: m['files'].pop(n)
    (study/MANIFEST).write_text(json.dumps(m))

def rewrite(path:Path, fn):
    "Change a safetensors file's tensors in place with `fn(dict) -> dict`."
    from lottery_nb.files import load_tensors, save_tensors
    save_tensors(fn(load_tensors(path)), path)

@pytest.mark.parametrize('name, edit, says', [
    ('level_02/mask.safetensors', lambda t: {**t, 'fc1.weight': torch.ones_like(t['fc1.weight'])}, 'keeps weights that level 1 had pruned'),
    ('level_01/ticket/final.safetensors', lambda t: {**t, 'fc2.bias': t['fc2.bias'] * float('nan')}, 'NaN or inf'),
    ('theta_0.safetensors', lambda t: {**t, 'fc1.weight': t['fc1.weight'] * float('inf')}, 'NaN or inf'),
    ('level_01/reinit/final.safetensors', lambda t: {k: v.double() for k, v in t.items()}, 'a type no study writes'),
])
def test_an_edited_file_is_found_recorded_or_not(study, name, edit, says):
    rewrite(study/name, edit)   # recorded: its checksum says so
    r = lnb('check', study)
    assert r.returncode == 1 and f'{name} is damaged (its checksum differs' in r.stdout, r.stdout[-800:]
    unrecord(study, name)       # unrecorded (a kill left it so): its content says so
    r = lnb('check', study)
    assert r.returncode == 1 and name in r.stdout and says in r.stdout, r.stdout[-800:]

def test_an_edited_run_json_is_said_and_not_mended_into_another_study(study):
    unrecord(study, 'run.json')
    meta = json.loads((study/'run.json').read_text()); meta['config']['fraction'] = 0.5
    (study/'run.json').write_text(json.dumps(meta))
    r = lnb('check', study)
    assert r.returncode == 1 and 'run.json' in r.stdout and 'does not make the study' in r.stdout, r.stdout
    fails(lnb('imp', '--out', study, '--resume'), 'restore it from a copy')

def test_files_a_kill_left_unrecorded_are_recorded_on_resume_after_their_content_is_checked(study, fmnist_dir):
    names = ['run.json', 'level_01/mask.safetensors', 'level_02/random/mask.safetensors', 'level_01/ticket/metrics.json']
    unrecord(study, *names)
    before = files_of(study)
    r = lnb('imp', *IMPF, '--out', study, '--resume')
    assert r.returncode == 0 and 'recorded the checksums of 4 files' in r.stderr, r.stderr[-800:]
    assert all(n in json.loads((study/MANIFEST).read_text())['files'] for n in names)
    same = lambda fs: {k: v for k, v in fs.items() if k not in (MANIFEST, 'history.jsonl')}
    assert same(files_of(study)) == same(before), 'nothing but the manifest (and the lock history) changed'

def test_a_finished_units_leftover_state_is_removed_and_said(study):
    (study/'level_01'/'reinit'/'state.safetensors').write_bytes(b'x' * 1000)   # a kill after its metrics.json
    r = lnb('imp', *IMPF, '--out', study, '--resume')
    assert r.returncode == 0 and 'removed 1 training state of finished units' in r.stderr, r.stderr[-600:]
    assert not (study/'level_01'/'reinit'/'state.safetensors').exists()

@pytest.mark.parametrize('args, says', [
    (['--layer-rates', 'fc9*=0.5'], "'fc9*' names no prunable layer"),
    (['--rounds', '1000000000'], 'rounds at most'),
    (['--fraction', '0'], 'fraction must be more than 0'),
    (['--n-train', '1000000000000'], 'more than the 60,000 images Fashion-MNIST has'),
    (['--epochs', '1000000000000'], 'epochs must be from 1 to 100,000'),
])
def test_inputs_that_cannot_make_a_study_fail_before_anything_is_written(tmp_path, args, says):
    fails(lnb('imp', *IMPF, *args, '--out', tmp_path/'s'), says)
    assert not (tmp_path/'s').exists()

def test_a_raw_pickle_given_as_a_checkpoint_is_one_line_naming_its_import(tmp_path):
    "Not a torch file at all (pickle.dumps of a payload, protocol 4): torch stops at an opcode; the line still names the import."
    marker = tmp_path/'ran'
    (tmp_path/'raw.pkl').write_bytes(pickle.dumps({'state_dict': Payload(marker)}, protocol=4))
    fails(lnb('prune', '--checkpoint', tmp_path/'raw.pkl', '--sparsity', '0.5', '--out', tmp_path/'p.pth.tar'), 'asks to import posix.system')
    assert not marker.exists() and not (tmp_path/'p.pth.tar').exists()
