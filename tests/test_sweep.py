"Sweeps through submitit: studies finish, resume bitwise after SIGKILL and time-outs, never have two writers, and report what the files say."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.runs import open_run
from lottery_nb.runs import stats
from lottery_nb.sweep import Sweep, StudyLock, Locked, read_lock, read_history

ROOT = Path(__file__).parent.parent
TINY = dict(model='lenet300_100', rounds=1, controls=['reinit'], train=dict(epochs=1, n_train=600, n_test=300, augment=False))
FOUR = dict(base=TINY, grid={'seed': [0, 1], 'fraction': [0.2, 0.5]})   # 2 seeds x 2 fractions
# units long enough (3 epochs of 6,000 images) to be caught between two epochs
TWO = dict(base={**TINY, 'train': dict(epochs=3, n_train=6000, n_test=300, batch_size=100, augment=False)}, grid={'seed': [0, 1]})

def quiet(*a): pass
def finish(sw, jobs): return sw.wait(jobs, every=0.1, say=quiet)

def same_results(a:Sweep, b:Sweep):
    "Every study of `a` and `b` has the same metrics (but the seconds) and bitwise the same final weights."
    strip = lambda ms: [{**m, 'seconds': 0, 'history': [{**h, 'seconds': 0} for h in m['history']]} for m in ms]
    for n in a.names:
        ra, rb = open_run(a.layout.study(n)), open_run(b.layout.study(n))
        assert strip(ra.results()) == strip(rb.results()), n
        for l, v in ra.units():
            wa, wb = ra.final_weights(l, v), rb.final_weights(l, v)
            assert all(torch.equal(wa[k], wb[k]) for k in wa), (n, l, v)

def wait_for(path:Path, jobs, timeout:float=300):
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline and not all(j.done() for j in jobs), f'{path} never appeared'
        time.sleep(0.01)

@pytest.fixture(scope='module')
def straight(tmp_path_factory, fmnist_dir):
    "TWO trained without interruption by one local job (a real process, as the interrupted ones are)."
    sw = Sweep(tmp_path_factory.mktemp('straight')/'sweep', TWO)
    assert [r['state'] for r in finish(sw, sw.submit('local', data_dir=fmnist_dir))] == ['done', 'done']
    return sw

def test_a_sweep_of_four_studies_finishes_and_its_status_and_summary_are_the_files(tmp_path, fmnist_dir):
    sw = Sweep(tmp_path/'sweep', FOUR)
    assert [r['state'] for r in sw.status()] == ['not started'] * 4
    assert [r['state'] for r in finish(sw, sw.submit('debug', data_dir=fmnist_dir))] == ['done'] * 4
    assert json.loads((tmp_path/'sweep'/'sweep.json').read_text()) == json.loads(json.dumps(FOUR))
    for row in sw.status():
        L = sw.layout.study(row['study'])
        assert row['state'] == 'done' and row['done'] == len(list(L.glob('level_*/*/metrics.json'))) == 3 and row['level'] == 1
    text = sw.summary()
    for frac in (0.2, 0.5):
        runs = [open_run(sw.layout.study(n)) for n in sw.names if sw.config(n).fraction == frac]
        assert sorted(r.cfg.seed for r in runs) == [0, 1]
        s = stats(runs, 1, 'ticket')
        assert f"{100 * s['mean']:.2f} ± {100 * s['sd']:.2f}" in text.split(f'fraction={frac:g}]')[1].split('\n\n')[0]
        assert sw.group(fraction=frac).table()['ticket'][1] == s
    assert Sweep(tmp_path/'sweep', FOUR).submit('debug') == [], 'submitted again: nothing left to run'
    with pytest.raises(LotteryError, match='holds another sweep'): Sweep(tmp_path/'sweep', TWO)

def test_a_study_killed_mid_unit_finishes_bitwise_when_the_sweep_is_submitted_again(tmp_path, fmnist_dir, straight, capfd):
    sw = Sweep(tmp_path/'sweep', TWO)
    jobs = sw.submit('local', data_dir=fmnist_dir)
    first = sw.names[0]
    wait_for(sw.layout.study(first)/'level_01'/'ticket'/'state.safetensors', jobs)   # in the middle of level 1's ticket
    held = read_lock(sw.layout.lock(first))
    os.kill(held['pid'], signal.SIGKILL)
    out = finish(sw, jobs)
    assert out[0]['state'] == 'failed' and sw.study_status(first)['state'] == 'stale', 'its lock is left, its process gone'
    second = sw.study_status(sw.names[1])   # the same job was to train it next: not 'submitted' to a job that is gone
    assert second['state'] == 'not started' and 'ended before it began' in second['error'], second
    assert not (sw.layout.study(first)/'level_01'/'ticket'/'metrics.json').exists()
    again = Sweep(tmp_path/'sweep')
    jobs = again.submit('local', data_dir=fmnist_dir)
    assert [r['state'] for r in finish(again, jobs)] == ['done', 'done']
    log = (Path(str(jobs[0].paths.stderr))).read_text()   # a note, as every 'lottery_nb: ...' line is
    assert f"took over the lock of {first} from job {held['job']} (process {held['pid']})" in log
    assert f"its process {held['pid']} on this host is gone" in log
    same_results(again, straight)

def test_a_timed_out_job_is_requeued_and_resumes_bitwise(tmp_path, fmnist_dir, straight):
    sw = Sweep(tmp_path/'sweep', TWO)
    jobs = sw.submit('local', data_dir=fmnist_dir)
    first = sw.names[0]
    wait_for(sw.layout.study(first)/'level_01'/'ticket'/'state.safetensors', jobs)
    os.kill(read_lock(sw.layout.lock(first))['pid'], signal.SIGUSR2)   # what Slurm and submitit's local controller send at a time limit
    assert [r['state'] for r in finish(sw, jobs)] == ['done', 'done']
    events = [(h['event'], h['job']) for h in read_history(sw.layout.history(first))]
    job = str(jobs[0].job_id)
    assert events == [('acquired', job), ('requeued', job), ('acquired', job), ('finished', job)], events
    same_results(sw, straight)

def test_two_submissions_at_once_never_write_one_study_together(tmp_path, fmnist_dir, straight):
    a, b = Sweep(tmp_path/'sweep', TWO), Sweep(tmp_path/'sweep', TWO)
    ja = a.submit('local', data_dir=fmnist_dir)
    jb = b.submit('local', data_dir=fmnist_dir)
    out = finish(a, ja) + finish(b, jb)
    assert sorted(r['state'] for r in out if r['state'] != 'locked').count('done') >= 2
    assert all(r['state'] == 'done' for r in a.status())
    for n in a.names:   # each study's lock was held by one job at a time: no two holds overlap
        spans, open_ = [], {}
        for h in read_history(a.layout.history(n)):
            if h['event'] == 'acquired': open_[h['job']] = h['t']
            else: spans.append((open_.pop(h['job']), h['t']))
        assert not open_, 'every hold ended'
        spans.sort()
        assert all(e <= s for (_, e), (s, _) in zip(spans, spans[1:])), (n, spans)
    same_results(a, straight)

def test_a_live_lock_is_respected_and_a_dead_ones_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        lock = tmp_path/'s.lock'
        lock.write_text(json.dumps(dict(job='77', host=os.uname().nodename, pid=holder.pid, token='t')))
        with pytest.raises(Locked, match='being written by job 77'): StudyLock(lock, '88').acquire()
    finally: holder.kill(); holder.wait()
    mine = StudyLock(lock, '88', history=tmp_path/'s.history').acquire()   # its process is gone now
    assert read_lock(lock)['job'] == '88'
    mine.release('stopped')
    assert read_lock(lock) is None and [h['event'] for h in read_history(tmp_path/'s.history')] == ['acquired', 'stopped']

FAKE_SLURM = {'sbatch': '#!/bin/bash\ncp "${@: -1}" "$FAKE_SBATCH_DIR/job.sh"\necho "Submitted batch job 4242"\n',
              'srun': '#!/bin/bash\nexit 1\n'}

def test_the_command_line_submits_a_slurm_job_array_with_submitits_options(tmp_path, monkeypatch, capsys):
    from lottery_nb.cli import main
    for name, text in FAKE_SLURM.items():   # stand-ins for Slurm's commands: sbatch keeps the script it is given
        (tmp_path/name).write_text(text); (tmp_path/name).chmod(0o755)
    monkeypatch.setenv('PATH', f"{tmp_path}:{os.environ['PATH']}"); monkeypatch.setenv('FAKE_SBATCH_DIR', str(tmp_path))
    (tmp_path/'four.json').write_text(json.dumps(FOUR))
    assert main(['sweep', 'submit', str(tmp_path/'four.json'), '--cluster', 'slurm', '--slurm-partition', 'gpu',
                 '--gpus-per-node', '1', '--timeout-min', '90']) == 0
    script = (tmp_path/'job.sh').read_text()
    for line in ('#SBATCH --array=0-3', '#SBATCH --partition=gpu', '#SBATCH --gpus-per-node=1', '#SBATCH --time=90',
                 '#SBATCH --signal=USR2@'):
        assert line in script, line
    sw = Sweep(tmp_path/'four')
    assert sw.submitted() == {n: f'4242_{i}' for i, n in enumerate(sw.names)}
    capsys.readouterr()
    assert main(['sweep', 'status', str(tmp_path/'four')]) == 1   # not all done
    assert capsys.readouterr().out.count('submitted') == 4 + 1
    (tmp_path/'bad.json').write_text(json.dumps({'grid': {'seed': [0], 'fraktion': [0.2]}}))
    assert main(['sweep', 'submit', str(tmp_path/'bad.json'), '--cluster', 'debug']) == 2
    assert 'fraktion' in capsys.readouterr().err and not (tmp_path/'bad').exists()

def test_a_local_sweep_on_a_cpu_shares_the_cores_out_between_its_jobs(tmp_path, monkeypatch):
    "Two jobs at once on this CPU: each trains on its half of the physical cores, not all of them each (which thrashes)."
    import lottery_nb.sweep as sweep_mod
    from lottery_nb.train import physical_cores
    class Recorder:   # an executor that keeps what it is given
        tasks = []
        def update_parameters(self, **kw): pass
        def submit(self, task): self.tasks.append(task); return type('Job', (), {'job_id': str(len(self.tasks))})()
    monkeypatch.setattr(sweep_mod, 'executor', lambda *a, **kw: Recorder())
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 0)
    Sweep(tmp_path/'sw', FOUR).submit('local', slots=2)
    assert [t.threads for t in Recorder.tasks] == [max(1, physical_cores() // 2)] * 2
