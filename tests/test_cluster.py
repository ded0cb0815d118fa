"""The ensembles and ``rmtfp validate`` on a dask.distributed cluster: bit for bit the local pool's numbers.

A ``LocalCluster`` with two worker processes (one thread each) stands in for
a real cluster: the tasks are pickled, sent to other processes and run there,
as on remote machines.  A scheduler plugin counts the tasks the cluster
finished, so a route that silently ran locally fails the tests.  The tests
need the ``[cluster]`` extra and are skipped, saying so, without it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed (the [cluster] extra: pip install 'rmtfp[cluster]') is not installed")

from rmtfp import grid  # noqa: E402
from rmtfp.cli import main  # noqa: E402
from rmtfp.ensembles import contraction_scan, dask_executor, q_statistics, use_executor  # noqa: E402


class _Finished(distributed.diagnostics.plugin.SchedulerPlugin):
    """Counts the tasks of the ensembles (chunks of networks) that the cluster computed."""

    name = "rmtfp-finished-chunks"

    def __init__(self):
        self.count = 0

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "memory" and "run_chunk" in str(key):
            self.count += 1


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, scheduler_port=0,
                                  dashboard_address=None, silence_logs=40) as c:
        plugin = _Finished()
        c.scheduler.add_plugin(plugin)
        c.finished = plugin
        yield c


@pytest.fixture(scope="module")
def executor(cluster):
    with dask_executor(cluster.scheduler_address) as ex:
        yield ex


def _ran_on_cluster(cluster, before: int) -> int:
    return cluster.finished.count - before


Q_ARGS = dict(depths=[1, 3], width=20, n_networks=12, rng=5, starts=grid(step=0.25), n_bootstrap=200)


def test_q_statistics_on_the_cluster_is_bit_identical(cluster, executor):
    local = q_statistics(**Q_ARGS, workers=2)
    before = cluster.finished.count
    remote = q_statistics(**Q_ARGS, executor=executor)
    assert _ran_on_cluster(cluster, before) > 0
    for name in ("Q", "n_cycles", "n_stable", "status_fractions", "max_period", "distribution", "mode",
                 "mode_interval", "mean", "mean_stderr"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)
    assert remote.params == local.params
    # the seed alone fixes the networks: the cluster's run rebuilds the same network
    assert remote.network(3, 7).weights[0].tobytes() == local.network(3, 7).weights[0].tobytes()


def test_contraction_scan_on_the_cluster_is_bit_identical(cluster, executor):
    kw = dict(betas=np.linspace(0.2, 0.8, 5), width=20, depth=2, n_networks=8, rng=3, points=grid(step=0.25))
    local = contraction_scan(**kw, workers=2)
    before = cluster.finished.count
    with use_executor(executor):  # the route of code that passes no executor
        remote = contraction_scan(**kw)
    assert _ran_on_cluster(cluster, before) > 0
    assert remote.g.tobytes() == local.g.tobytes()
    assert remote.lipschitz.tobytes() == local.lipschitz.tobytes()
    np.testing.assert_array_equal(remote.quantiles, local.quantiles)


def test_use_executor_is_scoped_and_an_explicit_executor_wins(cluster, executor):
    before = cluster.finished.count
    with use_executor(executor):
        pass
    q_statistics(**Q_ARGS, workers=1)  # outside the block: this process
    assert _ran_on_cluster(cluster, before) == 0
    with pytest.raises(ValueError, match="executor must be a concurrent.futures.Executor"):
        with use_executor("tcp://somewhere:8786"):
            pass


def _claims(path) -> dict:
    data = json.loads((path / "results.json").read_text())
    return {c["number"]: (c["status"], c["result"], c["numbers"]) for c in data["claims"]}


# claim 6 runs contraction_scan and critical_beta in quick mode in a few seconds
VALIDATE = ["validate", "--quick", "--only", "6", "--no-progress", "--workers", "2"]


def test_validate_on_the_cluster_is_bit_identical(cluster, tmp_path, capsys):
    assert main([*VALIDATE, "--out", str(tmp_path / "local")]) == 0
    before = cluster.finished.count
    assert main([*VALIDATE, "--out", str(tmp_path / "remote"), "--scheduler", cluster.scheduler_address]) == 0
    assert _ran_on_cluster(cluster, before) > 0
    capsys.readouterr()
    local, remote = _claims(tmp_path / "local"), _claims(tmp_path / "remote")
    assert remote == local and local[6][1] is not None


def test_qstats_on_the_cluster_is_bit_identical(cluster, capsys):
    args = ["qstats", "--depths", "1,2", "--networks", "6", "--width", "15", "--step", "0.25", "--bootstrap", "50",
            "--quiet", "--json", "--seed", "4"]
    assert main([*args, "--workers", "2"]) == 0
    local = json.loads(capsys.readouterr().out)
    before = cluster.finished.count
    assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert _ran_on_cluster(cluster, before) > 0
    local.pop("seconds"), remote.pop("seconds")
    assert remote == local


def test_unreachable_scheduler_is_one_line(capsys):
    # nothing listens on port 9 (discard) of this machine: the connection is refused
    code = main(["qstats", "--depths", "1", "--networks", "2", "--quiet", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--scheduler tcp://127.0.0.1:9" in err and "Traceback" not in err


def test_bad_arguments():
    with pytest.raises(ValueError, match="scheduler must be the address"):
        with dask_executor(""):
            pass
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        with dask_executor(n_workers=0):
            pass
    with pytest.raises(ValueError, match="timeout must be"):
        with dask_executor("tcp://127.0.0.1:9", timeout=0):
            pass
