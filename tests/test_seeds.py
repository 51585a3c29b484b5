"Several seeds of one study: trained in turn and resumable, summarised as mean ± sd, drawn with bands, from Python and the command line."
import json, statistics, sys
import pytest
from lottery_nb.core import LotteryError
from lottery_nb.config import ImpConfig
from lottery_nb.runs import open_run
from lottery_nb.seeds import SeedGroup, open_study, is_group
from lottery_nb.cli import main

TRAIN = dict(epochs=1, n_train=1200, n_test=500, batch_size=100, augment=False)
CFG = ImpConfig(model='lenet300_100', rounds=1, fraction=0.3, controls=('reinit',), train=TRAIN)

@pytest.fixture(scope='module')
def group(tmp_path_factory, fmnist_dir):
    return SeedGroup(tmp_path_factory.mktemp('g')/'group', CFG, seeds=(0, 1, 2), data_dir=fmnist_dir, device='cpu',
                     progress=False).run()

def test_the_summary_is_the_mean_and_sd_of_the_seeds_own_studies(group):
    accs = [open_run(group.root/f'seed_{s}').metrics(1, 'ticket')['test_acc'] for s in (0, 1, 2)]
    t = group.table()['ticket'][1]
    assert t['n'] == 3 and t['mean'] == pytest.approx(statistics.mean(accs)) and t['sd'] == pytest.approx(statistics.stdev(accs))
    assert f"{100 * t['mean']:.2f} ± {100 * t['sd']:.2f}" in group.summary()
    assert len(set(accs)) > 1, 'the seeds are different trainings'

def test_each_seed_is_a_whole_study_with_its_own_seed(group):
    for s in (0, 1, 2):
        meta = json.loads((group.root/f'seed_{s}'/'run.json').read_text())
        assert meta['config']['seed'] == s and meta['config']['fraction'] == 0.3
    assert is_group(group.root) and not is_group(group.root/'seed_0')

def test_another_config_cannot_join_and_a_study_is_not_a_group(group):
    with pytest.raises(LotteryError, match='not the same study'):
        SeedGroup(group.root, ImpConfig(**{**CFG.__dict__, 'fraction': 0.5}), seeds=(3,))
    with pytest.raises(LotteryError, match='is one study'): SeedGroup(group.root/'seed_0')

def test_the_explorer_and_plots_draw_bands(group):
    from lottery_nb.view import study_summary
    from lottery_nb.plots import plot_accuracy
    s = study_summary(group)   # a group is read as one study is
    lo, hi = s['band']['ticket'][1]
    assert lo < s['acc']['ticket'][1] < hi and s['seeds'] == [0, 1, 2]
    assert s['curves']['1']['ticket']['band'][0] is not None and 'mean of 3 seeds' in s['notes']['1']['acc']
    ax = plot_accuracy(group)
    assert len(ax.collections) >= 2   # a filled band per variant

def test_a_control_trained_from_a_groups_explorer_is_trained_in_every_seed(group, tmp_path):
    import shutil
    from lottery_nb.widgets import explore
    g = SeedGroup(shutil.copytree(group.root, tmp_path/'group'), data_dir=group.first.data_dir, device='cpu', progress=False)
    app = explore(g)
    secs = app.summary['unit_seconds']
    assert {o['variant']: o['seconds'] for o in app.offer['1']} == {'random': 3 * secs, 'shuffled': 3 * secs}, 'one per seed'
    app._on_msg(None, {'do': 'train_control', 'level': 1, 'variant': 'shuffled'}, []); app.wait(300)
    assert app.status['text'] == 'shuffled at level 1: finished', app.status
    assert [r.is_done(1, 'shuffled') for r in SeedGroup(tmp_path/'group').runs.values()] == [True] * 3
    assert [o['variant'] for o in app.offer['1']] == ['random'], 'offered while a seed lacks it, and no longer'
    lo, hi = app.summary['band']['shuffled'][1]
    assert lo < app.summary['acc']['shuffled'][1] < hi, 'the control drawn as the mean of the three seeds'

def test_the_command_line_makes_summarises_and_resumes_a_group(tmp_path, fmnist_dir, capsys):
    args = ['imp', '--model', 'lenet300_100', '--rounds', '1', '--controls', 'reinit', '--epochs', '1', '--n-train', '1200',
            '--n-test', '500', '--no-augment', '--data-dir', str(fmnist_dir), '--device', 'cpu', '--quiet', '--out', str(tmp_path/'g')]
    assert main([*args, '--seeds', '0,1']) == 0
    assert main(['summary', str(tmp_path/'g')]) == 0
    out = capsys.readouterr().out
    assert '2 seeds (0, 1)' in out and '±' in out
    assert main([*args, '--seeds', '0,1']) == 2   # made: --resume continues it
    assert main([*args, '--seeds', '0,1', '--resume']) == 0
    assert main(['imp', '--out', str(tmp_path/'g'), '--seeds', '0,0']) == 2
    assert main(['check', str(tmp_path/'g')]) == 0
