"The GPU check runs: its every part, on this CPU at a tiny scale, from a plain checkout, writing its figures and its table."
import json, os, subprocess, sys
from pathlib import Path
ROOT = Path(__file__).parent.parent

def test_the_gpu_check_runs_every_part_here_and_records_each(tmp_path, fmnist_dir):
    (tmp_path/'data').mkdir(); (tmp_path/'data'/'fashion-mnist').symlink_to(fmnist_dir)   # as the GPU box gets it: in data/
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'gpu_check.py'), '--smoke', '--device', 'cpu', '--out', str(tmp_path/'out')],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads((tmp_path/'out'/'gpu_check-cpu-smoke.json').read_text())
    parts = {'plan', 'equality', 'speed', 'together', 'adam', 'resume', 'memory', 'churn', 'masks', 'second_gpu', 'nb_03_train',
             'nb_03a_together', 'study', 'compile'}
    assert set(res['parts']) == parts and not [k for k, v in res['parts'].items() if 'error' in v]
    held = {c['check']: c['holds'] for c in res['checks']}
    # what a CPU can show holds here too: graphed = eager, resumes, memory, layouts, the cuDNN flag left alone
    for what in ('resumed on this device = straight through, bitwise', 'a dropped trainer is freed at once (no cyclic GC)',
                 'mask strides match channels-last weights', 'a trainer leaves cudnn.benchmark as it found it',
                 'this device -> CPU and CPU -> this device continue'):
        assert held[what], what
    assert 'checks' in r.stdout and 'part' in r.stdout   # the table
