"Every tutorial runs top to bottom: each is executed at the tiny 'ci' scale in a folder written by `lottery-nb tutorials` (shipped studies by name)."
from pathlib import Path
import nbformat, pytest
ROOT = Path(__file__).parent.parent
from tools.run_tutorials import scratch_copy, execute   # the same runner that makes the kept outputs and the timings
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('[0-9]*.ipynb'))

def test_there_are_six_tutorials_and_a_guide():
    names = [p.name for p in sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))]
    assert names[0] == '00_facilitators_guide.ipynb' and len(TUTORIALS) == 7

@pytest.mark.slow
@pytest.mark.parametrize('name', [p.name for p in TUTORIALS])
def test_tutorial_runs_top_to_bottom_at_ci_scale(name, tmp_path):
    nb, _ = execute(scratch_copy(tmp_path)/name, 'ci')   # a cell that raises fails here, naming the cell
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert all(c.get('execution_count') for c in code), 'every code cell ran'
    text = ''.join(o.get('text', '') + str(o.get('data', {}).get('text/plain', '')) for c in code for o in c.outputs)
    if 'SCALE' in ''.join(c.source for c in code): assert "Scale('ci'" in text, 'the tutorial picked up the ci scale'

def test_tutorials_open_with_a_scale_and_teach_before_code():
    for p in TUTORIALS:
        nb = nbformat.read(p, as_version=4)
        assert nb.cells[0].cell_type == 'markdown' and nb.cells[0].source.startswith('# '), f'{p.name} opens with a title and text'
        if p.name.startswith('00'): continue
        first_code = next(c for c in nb.cells if c.cell_type == 'code')
        assert first_code.source.startswith("SCALE = 'workshop'"), f"{p.name}: the first code cell is SCALE = 'workshop'"
        assert '<details><summary>Solution</summary>' in ''.join(c.source for c in nb.cells), f'{p.name} has exercises with hidden solutions'

def test_tutorials_keep_their_workshop_outputs():
    for p in TUTORIALS:
        nb = nbformat.read(p, as_version=4)
        code = [c for c in nb.cells if c.cell_type == 'code']
        if not code: continue
        assert all(c.outputs for c in code if 'print(' in c.source or 'plt.show()' in c.source), f'{p.name}: outputs are kept'
        text = ''.join(o.get('text', '') + str(o.get('data', {}).get('text/plain', '')) for c in code for o in c.outputs)
        assert "Scale('workshop'" in text, f'{p.name}: the kept outputs are from the workshop scale'

def test_bundled_rewinding_studies_are_complete_and_differ_only_in_the_rewind_point():
    from dataclasses import asdict
    from lottery_nb.core import diff_configs
    from lottery_nb.runs import open_run
    r0, rk = open_run(ROOT/'data'/'resnet20-fmnist-rewind0'), open_run(ROOT/'data'/'resnet20-fmnist-rewind1ep')
    assert [d.split(':')[0] for d in diff_configs(asdict(r0.cfg), asdict(rk.cfg))] == ['controls', 'rewind_epochs']
    for run in (r0, rk): assert all(run.is_done(l, v) for l, v in run.units()), f'{run.out} is complete'
    theta_k = rk.tensors(rk.layout.theta_rewind())
    assert set(rk.mask(1)) <= set(theta_k) and not (rk.out/'final.safetensors').exists()
    assert rk.metrics(5, 'ticket')['density'] < 0.1   # five levels of 40%

def test_the_bundled_rewound_study_continues_from_k():
    from lottery_nb.runs import open_run
    rk = open_run(ROOT/'data'/'resnet20-fmnist-rewind1ep')
    assert rk.rewinding == 'continue'
    T = rk.metrics(0, 'dense')['iterations']
    for l in rk.cfg.levels()[1:]:
        m = rk.metrics(l, 'ticket')
        assert (m['began_at'], m['iterations'], m['history'][0]['iteration']) == (78, T, 156)   # T-78 iterations, from 78
    assert rk.verify() == []

def test_the_bundled_stability_material_is_sound_and_agrees_with_its_studies():
    from lottery_nb.runs import open_run
    from lottery_nb.stability import study_sweep, StabilityConfig, sweep_results
    by_k = {int(p.name[1:]): open_run(p) for p in sorted((ROOT/'data'/'resnet20w05-fmnist-rewind-k').glob('k*'))}
    assert list(by_k) == [0, 20, 78, 156] and all(r.verify() == [] and r.cfg.rewind_iter == k for k, r in by_k.items())
    sweep = study_sweep(by_k[0], StabilityConfig(ks=(0, 20, 78, 156, 312)))   # its sweep.json: this study's network and training
    res = sweep.results()
    assert [r['k'] for r in res] == [0, 20, 78, 156, 312] and res[0]['barrier'] > 0.05 > res[-1]['barrier']
    sparse = sweep_results(by_k[0].layout.stability(3))   # level 3's subnetwork, IMP's own mask at each k, as the 2020 paper
    assert [r['k'] for r in sparse] == [0, 20, 78, 156] and all(r['pairs'] >= 3 and len(r['barriers']) == r['pairs'] for r in sparse)

def test_the_bundled_lth_group_is_three_sound_seeds_of_the_papers_protocol():
    from lottery_nb.seeds import SeedGroup
    g = SeedGroup(ROOT/'data'/'lenet300-fmnist-lth')
    assert g.seeds == [0, 1, 2] and all(r.verify() == [] for r in g.runs.values())
    assert (g.cfg.preset, g.cfg.method, g.cfg.output_rate, g.cfg.model_kwargs) == ('lth_lenet', 'layerwise', 0.1, {'init': 'glorot_normal'})
    for r in g.runs.values():
        assert all(r.is_done(l, v) for l, v in r.units()), f'{r.out} is complete to its last level'
        assert all('early_stop' in r.metrics(l, v) for l, v in r.units())
