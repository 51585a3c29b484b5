"""A network and data brought from outside: trained into a study from a module on PYTHONPATH or from this process,
then opened (summary, check, explore, the exported page) in a process where that code cannot be imported."""
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest

NETS = '''
import torch.nn as nn
def tiny(num_classes, in_channels, img_size, width=8):
    "One convolution, a pool, one linear layer."
    return nn.Sequential(nn.Conv2d(in_channels, width, 5, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                         nn.Linear(width * 16, num_classes))
def flat(num_classes, in_channels):
    "No linear layer: which is its output layer cannot be told."
    return nn.Sequential(nn.Conv2d(in_channels, num_classes, 28), nn.Flatten())
def broken(num_classes):
    raise ValueError("this factory is broken")
'''
SMALL = ['--dataset', 'fashion_mnist', '--rounds', '2', '--epochs', '1', '--n-train', '1000', '--n-test', '300',
         '--device', 'cpu', '--quiet', '--threads', '1']

@pytest.fixture
def mypkg(tmp_path):
    "A folder holding the package mypkg (its nets module), to put on PYTHONPATH."
    (tmp_path/'ext'/'mypkg').mkdir(parents=True)
    (tmp_path/'ext'/'mypkg'/'__init__.py').write_text('')
    (tmp_path/'ext'/'mypkg'/'nets.py').write_text(NETS)
    return tmp_path/'ext'

def lnb(*args, cwd, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    if pythonpath: env['PYTHONPATH'] = str(pythonpath)
    return subprocess.run(['lottery-nb', *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)

def python(code:str, cwd, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    if pythonpath: env['PYTHONPATH'] = str(pythonpath)
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)

def test_a_network_from_a_module_trains_a_study_that_opens_without_the_module(tmp_path, mypkg, fmnist_dir):
    r = lnb('imp', '--model', 'mypkg.nets:tiny', *SMALL, '--out', 'study', cwd=tmp_path, pythonpath=mypkg)
    assert r.returncode == 0, r.stderr
    net = json.loads((tmp_path/'study'/'run.json').read_text())['network']
    assert net['factory'] == 'mypkg.nets:tiny' and net['output_layer'] == '4.weight' and net['conv'] is True
    assert net['prunable'] == ['0.weight', '4.weight']
    elsewhere = tmp_path/'elsewhere'; elsewhere.mkdir()   # no PYTHONPATH: mypkg cannot be imported from here
    assert python('import mypkg', elsewhere).returncode != 0
    r = lnb('summary', tmp_path/'study', cwd=elsewhere)
    assert r.returncode == 0 and '78.72%' in r.stdout, r.stdout + r.stderr   # conv 20%, the output layer 10% a level
    assert lnb('check', tmp_path/'study', cwd=elsewhere).returncode == 0
    r = lnb('export-html', tmp_path/'study', elsewhere/'study.html', cwd=elsewhere)
    assert r.returncode == 0 and (elsewhere/'study.html').stat().st_size > 100_000, r.stderr
    r = python(f'''
        import sys
        from lottery_nb.widgets import explore
        from lottery_nb.seeds import open_study
        app = explore({str(tmp_path/'study')!r})
        s = open_study({str(tmp_path/'study')!r})
        assert s.verify() == [] and list(s.mask(0)) == ['0.weight', '4.weight'] and s.mask(2)['0.weight'].float().mean() < 0.65
        assert 'mypkg' not in sys.modules, 'opening a study imported the code it names'
        print(app)''', elsewhere)
    assert r.returncode == 0 and "Explorer(" in r.stdout, r.stderr
    (tmp_path/'study'/'level_02'/'ticket'/'final.safetensors').unlink()   # to be trained again: only now is mypkg needed
    r = lnb('imp', '--model', 'mypkg.nets:tiny', *SMALL, '--out', tmp_path/'study', '--resume', cwd=elsewhere)
    assert r.returncode == 2 and "this study's network is built by mypkg.nets:tiny" in r.stderr
    assert "cannot import mypkg.nets for model mypkg.nets:tiny: no module named 'mypkg'" in r.stderr.splitlines()[-1]
    r = lnb('imp', '--model', 'mypkg.nets:tiny', *SMALL, '--out', tmp_path/'study', '--resume', cwd=elsewhere, pythonpath=mypkg)
    assert r.returncode == 0 and lnb('check', tmp_path/'study', cwd=elsewhere).returncode == 0, r.stderr

@pytest.mark.parametrize('model,says', [
    ('mypkg.nets:flat', 'has no linear layer to be its output layer'),
    ('mypkg.nets:broken', 'model mypkg.nets:broken failed to build: ValueError: this factory is broken'),
    ('mypkg.nets:nothing', 'mypkg.nets has no nothing to build model mypkg.nets:nothing'),
    ('nopkg.nets:tiny', "cannot import nopkg.nets for model nopkg.nets:tiny: no module named 'nopkg'"),
    ('mypkg/nets.py', "unknown model 'mypkg/nets.py'"),
])
def test_a_network_that_cannot_be_built_is_one_line_and_nothing_written(tmp_path, mypkg, model, says):
    r = lnb('imp', '--model', model, *SMALL, '--out', 'study', cwd=tmp_path, pythonpath=mypkg)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('lottery-nb: error:') and says in lines[0], r.stderr
    assert not (tmp_path/'study').exists()

def test_a_network_and_data_of_a_notebook_make_a_study_that_opens_in_a_fresh_process(tmp_path, fmnist_dir):
    r = python(f'''
        import torch, torch.nn as nn
        from lottery_nb.models import register_model
        from lottery_nb.data import register_dataset, load_split
        from lottery_nb.config import ImpConfig
        from lottery_nb.runs import ImpRun
        from lottery_nb.train import set_threads
        set_threads(1)
        class Net(nn.Module):   # defined here, as in a notebook
            def __init__(self, num_classes, in_channels):
                super().__init__(); self.body, self.head = nn.Linear(in_channels * 14 * 14, 64), nn.Linear(64, num_classes)
            def forward(self, x): return self.head(torch.relu(self.body(nn.functional.avg_pool2d(x, 2).flatten(1))))
        register_model('net', Net)
        (x, y), (xt, yt) = load_split('fashion_mnist', 'train'), load_split('fashion_mnist', 'test')
        register_dataset('shirts', (x[:2000], (y[:2000] >= 5).long()), (xt[:500], (yt[:500] >= 5).long()), classes=('top', 'other'))
        cfg = ImpConfig(dataset='shirts', model='net', rounds=2, train=dict(epochs=1, n_train=2000, n_test=500), controls=('reinit',))
        run = ImpRun('study', cfg, device='cpu', progress=False).run()
        assert run.verify() == []
        print(run.summary())''', tmp_path)
    assert r.returncode == 0, r.stderr
    saved = json.loads((tmp_path/'study'/'run.json').read_text())
    assert saved['network']['factory'] == '__main__:Net' and saved['dataset']['classes'] == ['top', 'other']
    r = python('''
        from lottery_nb.seeds import open_study
        from lottery_nb.runs import ImpRun
        from lottery_nb.widgets import explore
        from lottery_nb.core import LotteryError
        s = open_study('study')
        assert s.verify() == [] and s.cfg.dataset == 'shirts'
        print(s.summary()); print(explore('study'))
        (s.layout.final(2, 'ticket')).unlink()
        try: ImpRun('study', device='cpu', progress=False).run(); raise SystemExit('trained without its network or data')
        except LotteryError as e: print('refused:', e)''', tmp_path)
    assert r.returncode == 0 and 'Explorer(' in r.stdout, r.stderr
    refused = r.stdout.split('refused: ')[-1]
    assert "unknown model 'net'" in refused or "images of dataset 'shirts' are not in this process" in refused, refused
