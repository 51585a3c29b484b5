"The `lottery-nb` command as a user runs it: real processes, real files, interrupted and resumed."
import json, signal, subprocess, time
from pathlib import Path
import pytest
import torch

def lnb(*args, cwd=None, **kw):
    return subprocess.run(['lottery-nb', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300, **kw)

SMALL = ['--model', 'lenet300_100', '--n-train', '2000', '--n-test', '500', '--epochs', '2', '--quiet', '--device', 'cpu']

def test_train_saves_untrained_and_trained_checkpoints(tmp_path):
    r = lnb('train', *SMALL, '--out', tmp_path/'run', '--save-untrained')
    assert r.returncode == 0, r.stderr
    files = {p.name for p in (tmp_path/'run').iterdir()}
    assert files == {'config.json', 'history.json', 'untrained.pth.tar', 'trained.pth.tar'}
    u = torch.load(tmp_path/'run'/'untrained.pth.tar', weights_only=True)
    t = torch.load(tmp_path/'run'/'trained.pth.tar', weights_only=True)
    from lottery_nb.models import get_model
    theta0 = get_model('lenet300_100', in_channels=1, img_size=28, seed=0).state_dict()
    assert all(torch.equal(u['state_dict'][k], v) for k, v in theta0.items()), 'untrained.pth.tar is theta_0'
    assert not torch.equal(u['state_dict']['fc.weight'], t['state_dict']['fc.weight'])
    hist = json.loads((tmp_path/'run'/'history.json').read_text())
    assert [h['epoch'] for h in hist] == [1, 2] and 'test acc' in r.stdout
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())
    assert cfg['dataset'] == 'fashion_mnist' and cfg['train']['epochs'] == 2 and cfg['arch']['name'] == 'lenet300_100'

@pytest.mark.parametrize('args,says', [
    (['--dataset', 'imagenet'], 'unknown dataset'),
    (['--model', 'resnet21'], '6n+2'),
    (['--set', 'colour=red'], 'unknown training setting'),
    (['--epochs', 'ten'], "epochs takes an int, not 'ten'"),
    (['--lr', '-0.1'], 'lr must be positive'),
    (['--data-dir', '/nonexistent'], 'Looked in: /nonexistent'),
    (['--device', 'cuda:7' if not torch.cuda.is_available() else 'quantum'], 'device'),
])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(tmp_path, args, says):
    r = lnb('train', '--quiet', '--out', tmp_path/'out', *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('lottery-nb: error:') and says in lines[0], r.stderr
    assert not (tmp_path/'out').exists()

def test_unwritable_output_directory_is_a_clear_error(tmp_path):
    (tmp_path/'file').write_text('not a directory')
    r = lnb('train', *SMALL, '--out', tmp_path/'file'/'run')
    assert r.returncode == 2 and r.stderr.startswith('lottery-nb: error: cannot create directory'), r.stderr

def test_an_existing_run_is_not_overwritten(tmp_path):
    assert lnb('train', *SMALL, '--out', tmp_path/'run').returncode == 0
    before = (tmp_path/'run'/'trained.pth.tar').read_bytes()
    r = lnb('train', *SMALL, '--out', tmp_path/'run')
    assert r.returncode == 2 and '--resume' in r.stderr
    assert (tmp_path/'run'/'trained.pth.tar').read_bytes() == before
    r = lnb('train', *SMALL, '--out', tmp_path/'run', '--resume', '--epochs', '5')
    assert r.returncode == 2 and 'train.epochs: 2 -> 5' in r.stderr, 'resuming with another config names the difference'

RESNET = ['--model', 'resnet20', '--n-train', '768', '--n-test', '256', '--epochs', '3', '--batch-size', '64', '--device', 'cpu', '--quiet']

def _interrupt_after_first_epoch(out:Path, sig):
    # Ctrl-C's default action in the child even when these tests run as a background job (whose shell ignores SIGINT)
    p = subprocess.Popen(['lottery-nb', 'train', *RESNET, '--out', str(out), '--save-untrained'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        try:
            if len(json.loads((out/'history.json').read_text())) >= 1: break
        except (FileNotFoundError, json.JSONDecodeError): pass
        time.sleep(0.05)
    assert p.poll() is None, 'the run finished before it could be interrupted'
    p.send_signal(sig)
    p.communicate(timeout=60)
    return p.returncode

@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGKILL], ids=['ctrl-c', 'killed'])
def test_an_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, sig):
    assert lnb('train', *RESNET, '--out', tmp_path/'straight').returncode == 0
    rc = _interrupt_after_first_epoch(tmp_path/'cut', sig)
    assert rc == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    assert not (tmp_path/'cut'/'trained.pth.tar').exists() and (tmp_path/'cut'/'state.safetensors').exists()
    r = lnb('train', *RESNET, '--out', tmp_path/'cut', '--save-untrained', '--resume')
    assert r.returncode == 0, r.stderr
    a = torch.load(tmp_path/'straight'/'trained.pth.tar', weights_only=True)
    b = torch.load(tmp_path/'cut'/'trained.pth.tar', weights_only=True)
    assert all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])
    strip = lambda hs: [{k: v for k, v in h.items() if k != 'seconds'} for h in hs]
    assert strip(a['history']) == strip(b['history'])

def test_no_command_prints_help_and_fails():
    r = lnb()
    assert r.returncode == 2 and 'train' in r.stderr

def test_the_seeds_four_steps(tmp_path):
    r = tmp_path/'r'
    assert lnb('train', *SMALL, '--out', r, '--save-untrained').returncode == 0
    p = lnb('prune', '--checkpoint', r/'trained.pth.tar', '--sparsity', '0.8', '--method', 'global', '--out', r/'pruned.pth.tar')
    assert p.returncode == 0, p.stderr
    e = lnb('extract', '--untrained', r/'untrained.pth.tar', '--pruned', r/'pruned.pth.tar', '--out', r/'ticket.pth.tar')
    assert e.returncode == 0, e.stderr
    rows = {l.split()[0]: l.split() for l in e.stdout.splitlines() if l.strip()}
    assert set(rows) >= {'fc1.weight', 'fc2.weight', 'fc.weight', 'total'} and rows['total'][-1] == '80.00%'
    ticket = torch.load(r/'ticket.pth.tar', weights_only=True)
    theta0 = torch.load(r/'untrained.pth.tar', weights_only=True)['state_dict']
    for k, m in ticket['mask'].items():
        assert torch.equal(ticket['state_dict'][k][m], theta0[k][m]) and not ticket['state_dict'][k][~m].any()
    t = lnb('train', '--resume-from', r/'ticket.pth.tar', *SMALL, '--out', tmp_path/'t')
    assert t.returncode == 0, t.stderr
    final = torch.load(tmp_path/'t'/'trained.pth.tar', weights_only=True)['state_dict']
    assert all(torch.equal(final[k] != 0, m) for k, m in ticket['mask'].items()), 'the ticket trains with its mask enforced'

@pytest.mark.parametrize('method', ['magnitude', 'filters'])
def test_prune_methods_write_a_pruned_checkpoint(tmp_path, method):
    from lottery_nb.models import get_model
    from lottery_nb.train import save_checkpoint
    save_checkpoint(tmp_path/'r20.pth.tar', get_model('resnet20', in_channels=1), dict(name='resnet20', in_channels=1, img_size=28), dataset='fashion_mnist')
    r = lnb('prune', '--checkpoint', tmp_path/'r20.pth.tar', '--sparsity', '0.5', '--method', method, '--out', tmp_path/'p.pth.tar')
    assert r.returncode == 0, r.stderr
    ck = torch.load(tmp_path/'p.pth.tar', weights_only=True)
    w, m = ck['state_dict']['layer2.1.conv1.weight'], ck['mask']['layer2.1.conv1.weight']
    assert torch.equal(w != 0, m) and int(m.sum()) == m.numel() // 2
    if method == 'filters': assert (m.flatten(1).all(1) | ~m.flatten(1).any(1)).all()

def test_prune_agp_prunes_while_fine_tuning(tmp_path):
    assert lnb('train', *SMALL, '--out', tmp_path/'r').returncode == 0
    r = lnb('prune', '--checkpoint', tmp_path/'r'/'trained.pth.tar', '--sparsity', '0.6', '--method', 'agp', '--epochs', '3',
            '--n-train', '1000', '--n-test', '200', '--quiet', '--device', 'cpu', '--out', tmp_path/'agp.pth.tar')
    assert r.returncode == 0, r.stderr
    ck = torch.load(tmp_path/'agp.pth.tar', weights_only=True)
    from lottery_nb.masks import density
    assert density(ck['mask']) == pytest.approx(0.4, abs=0.002) and len(ck['history']) == 3

def test_extract_accepts_distiller_checkpoints(tmp_path):
    from lottery_nb.models import get_model
    u, t = get_model('resnet20', seed=0).state_dict(), get_model('resnet20', seed=1).state_dict()
    pruned = {k: (v * (v.abs() > 0.05) if v.dim() == 4 else v) for k, v in t.items()}
    torch.save({'arch': 'resnet20_cifar', 'epoch': 0, 'state_dict': {f'module.{k}': v for k, v in u.items()}}, tmp_path/'u.pth.tar')
    torch.save({'arch': 'resnet20_cifar', 'epoch': 180, 'state_dict': {f'module.{k}': v for k, v in pruned.items()}}, tmp_path/'p.pth.tar')
    r = lnb('extract', '--untrained', tmp_path/'u.pth.tar', '--pruned', tmp_path/'p.pth.tar', '--out', tmp_path/'ticket.pth.tar')
    assert r.returncode == 0, r.stderr
    ticket = torch.load(tmp_path/'ticket.pth.tar', weights_only=True)
    assert torch.equal(ticket['state_dict']['layer1.0.conv1.weight'], u['layer1.0.conv1.weight'] * (pruned['layer1.0.conv1.weight'] != 0))
    assert torch.equal(ticket['state_dict']['fc.weight'], u['fc.weight'])

def test_bad_checkpoints_give_one_line_and_write_nothing(tmp_path):
    from lottery_nb.models import get_model
    from lottery_nb.train import save_checkpoint
    save_checkpoint(tmp_path/'r20.pth.tar', get_model('resnet20'), dict(name='resnet20'))
    save_checkpoint(tmp_path/'r32.pth.tar', get_model('resnet32'), dict(name='resnet32'))
    (tmp_path/'cut.pth.tar').write_bytes((tmp_path/'r20.pth.tar').read_bytes()[:5000])
    bad_mask = torch.load(tmp_path/'r20.pth.tar', weights_only=True); bad_mask['mask'] = {'fc.weight': torch.ones(3, 3, dtype=torch.bool)}
    torch.save(bad_mask, tmp_path/'badmask.pth.tar')
    cases = [
        (['extract', '--untrained', tmp_path/'r20.pth.tar', '--pruned', tmp_path/'r32.pth.tar'], 'different architectures'),
        (['extract', '--untrained', tmp_path/'cut.pth.tar', '--pruned', tmp_path/'r20.pth.tar'], 'truncated or corrupt'),
        (['prune', '--checkpoint', tmp_path/'r20.pth.tar', '--sparsity', '1.0'], 'sparsity must be in [0, 1)'),
        (['prune', '--checkpoint', tmp_path/'r20.pth.tar', '--sparsity', '-0.2'], 'sparsity must be in [0, 1)'),
        (['prune', '--checkpoint', tmp_path/'badmask.pth.tar', '--sparsity', '0.5'], 'mask does not fit'),
        (['train', '--resume-from', tmp_path/'badmask.pth.tar', '--dataset', 'fashion_mnist'], 'mask does not fit'),
        (['prune', '--checkpoint', tmp_path/'missing.pth.tar', '--sparsity', '0.5'], 'does not exist'),
    ]
    for args, says in cases:
        r = lnb(*args, '--out', tmp_path/'out')
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and says in lines[0], (args, r.stderr)
        assert not (tmp_path/'out').exists(), args

def test_export_html_writes_one_page_or_says_why_not(tmp_path):
    shipped = Path(__file__).parent.parent/'data'/'lenet300-fmnist-imp'
    r = lnb("export-html", shipped, tmp_path/"s.html", "--level", "3")
    assert r.returncode == 0 and 'open it in any browser' in r.stdout and (tmp_path/'s.html').stat().st_size > 1_000_000
    for args, says in [((str(tmp_path/'nothing'), str(tmp_path/'a.html')), 'no IMP run'),
                       ((str(shipped), str(tmp_path/'b.html'), '--layer', 'conv1.weight'), 'choose one of'),
                       ((str(shipped), str(tmp_path/'c.html'), '--level', '9'), 'no level 9')]:
        r = lnb("export-html", *args)
        assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['s.html']

def test_every_config_flag_has_the_help_fastcore_docments_would_give():
    "field_docs reads a field's comment as fastcore's docments does, so --help says the same without fastcore."
    from fastcore.docments import docments
    from lottery_nb.core import field_docs
    from lottery_nb.train import TrainConfig
    from lottery_nb.config import ImpConfig
    for cls in (TrainConfig, ImpConfig):
        assert field_docs(cls) == {k: v for k, v in docments(cls).items() if v and k != 'return'}
