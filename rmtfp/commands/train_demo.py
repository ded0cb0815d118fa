"""``rmtfp train-demo``: train the papers' employee autoencoder and report its fixed points.

Build the employee data set (true photos x_k* as circle centres in [-1, 1]^2, photos inside the circles, fakes
outside), train Phi by Adam on the loss of eq. (2.6), then find the fixed points from the 41 x 41 grid and from
every photo: distance of each x_k* to its fixed point, training sets inside the basins, held-out accuracy,
fakes rejected, and the power-law tail of the hidden weight spectra before and after.

    rmtfp train-demo --seed 0
    rmtfp train-demo --seed 3 --employees 4 --plot employees.png --json
"""

from __future__ import annotations

import time

import numpy as np

from . import int_at_least, int_list
from ._options import add_command, resolve_seed, show_progress, write_output, wrote

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_command(subparsers, "train-demo", run, doc=__doc__,
                    help="train the employee-identification autoencoder (eq. (2.6)) and report its fixed points",
                    activation=True, seed=dict(what="seed of the data and the initialisation"),
                    output=dict(plot="train_demo.png", csv="employee,centre_x,centre_y,fixed_point,distance,"
                                "train_in_basin: one row per employee"))
    net = p.add_argument_group("data and network")
    net.add_argument("--employees", type=int_at_least("--employees"), default=5,
                     help="K, the number of employees (default: 5)")
    net.add_argument("--radius", type=float, default=0.2, help="radius of the circles (default: 0.2)")
    net.add_argument("--per-class", type=int_at_least("--per-class"), default=40,
                     help="training photos per employee (default: 40)")
    net.add_argument("--heldout", type=int_at_least("--heldout", 0), default=20,
                     help="held-out photos per employee (default: 20)")
    net.add_argument("--fakes", type=int_at_least("--fakes", 0), default=200, help="fake photos (default: 200)")
    net.add_argument("--widths", type=int_list("--widths"), default=[2, 100, 100, 2],
                     help="layer widths, n_0 = n_L = 2 (default: 2,100,100,2)")
    net.add_argument("--epochs", type=int_at_least("--epochs"), default=1500,
                     help="full-batch Adam epochs (default: 1500)")
    net.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default: 3e-3)")
    net.add_argument("--save-weights", metavar="FILE", help="write the trained network to this .npz file")


def _tails(result) -> dict:
    """Power-law fits of every weight matrix large enough (>= 10 non-zero eigenvalues)."""
    from ..training import weight_spectrum_tail

    out = {}
    for l, (w0, w1) in enumerate(zip(result.initial_network.weights, result.network.weights)):
        if min(w0.shape) < 10:
            continue
        out[f"W{l}"] = {"initial": weight_spectrum_tail(w0), "trained": weight_spectrum_tail(w1)}
    return out


def _figure(plotting, result, report, data, tails):
    """The identification map, the loss and the weight spectra of the first hidden layer, in one figure."""
    from ..plotting._common import pyplot

    fig = pyplot().figure(figsize=(15.0, 5.8))
    gs = fig.add_gridspec(2, 2, width_ratios=[1.8, 1.0], hspace=0.5, wspace=0.55)
    plotting.plot_identification(report, data, ax=fig.add_subplot(gs[:, 0]))
    plotting.plot_training(result, ax=fig.add_subplot(gs[0, 1]))
    ax = fig.add_subplot(gs[1, 1])
    if tails:
        name, fits = next(iter(tails.items()))
        plotting.plot_weight_spectra(fits, ax=ax, title=f"eigenvalues of $W^TW$, {name}")
    else:
        ax.set_axis_off()
    return fig


def run(args) -> int:
    from ..training import employee_dataset, identification_report, train_autoencoder

    resolve_seed(args)
    t0 = time.perf_counter()
    data = employee_dataset(K=args.employees, radius=args.radius, n_per_class=args.per_class,
                            n_heldout_per_class=args.heldout, n_fakes=args.fakes, dim=args.widths[0],
                            rng=args.seed)
    result = train_autoencoder(args.widths, args.activation, data, epochs=args.epochs, lr=args.lr, rng=args.seed,
                               progress=show_progress(args))
    report = identification_report(result.network, data)
    tails = _tails(result)
    elapsed = time.perf_counter() - t0
    if args.save_weights:
        result.network.save(args.save_weights)
        wrote(args, args.save_weights, "the trained network")
    if write_output(args, figure=lambda plotting: _figure(plotting, result, report, data, tails),
                    json={"dataset": data.params, "training": result.to_dict(), "identification": report.to_dict(),
                          "tails": {k: {s: f.to_dict() for s, f in v.items()} for k, v in tails.items()},
                          "seed": args.seed, "seconds": elapsed},
                    csv=(["employee", "centre_x", "centre_y", "fixed_point", "distance", "train_in_basin"],
                         ([k, *(float(v) for v in data.centres[k][:2]), int(report.matched[k]),
                           float(report.distances[k]), float(report.train_in_basin[k])] for k in range(data.K)))):
        return 0
    h = result.loss_history
    print(f"data: K = {data.K} employees, radius {data.radius:g}, {data.train.shape[0]} training, "
          f"{data.heldout.shape[0]} held-out, {data.fakes.shape[0]} fake photos (seed {args.seed})")
    print(f"network: widths {list(result.network.widths)}, {result.network.activation.name}; "
          f"Adam lr {args.lr:g}, {args.epochs} epochs")
    print(f"loss (2.6): {h[0]:.4g} -> {h[-1]:.4g}")
    print(f"fixed points: Q = {report.Q} ({', '.join(report.stability)})")
    for k in range(data.K):
        m = report.matched[k]
        where = f"fixed point {m}" if m >= 0 else "no fixed point within the circle"
        print(f"  x*_{k} = {np.array2string(data.centres[k], precision=3)}: {where}, distance "
              f"{report.distances[k]:.2e}, training photos in its basin {100 * report.train_in_basin[k]:.0f}%")
    if report.spurious.size:
        print(f"  spurious fixed points (no employee): {report.spurious.tolist()}")
    if np.isfinite(report.heldout_accuracy):
        print(f"held-out photos identified: {100 * report.heldout_accuracy:.1f}%")
    else:
        print("held-out photos identified: n/a (no held-out photos)")
    if np.isfinite(report.fakes_rejected):
        print(f"fakes rejected: {100 * report.fakes_rejected:.1f}% "
              f"({', '.join(f'{k} {100 * v:.0f}%' for k, v in report.fake_outcomes.items())})")
    else:
        print("fakes rejected: n/a (no fake photos)")
    for name, fits in tails.items():
        a, b = fits["initial"], fits["trained"]
        print(f"tail of eig(W^T W), {name}: alpha {a.alpha:.2f} ± {a.alpha_stderr:.2f} (initial) -> "
              f"{b.alpha:.2f} ± {b.alpha_stderr:.2f} (trained)")
    print(f"{elapsed:.1f} s")
    return 0
