"""Basin maps of :class:`rmtfp.FixedPointResult` (the papers' Fig. 1/2)."""

from __future__ import annotations

import numpy as np

from ._common import pyplot

__all__ = ["plot_basins", "basin_categories"]

_UNRESOLVED_COLOR = "#d9d9d9"
_DIVERGENT_COLOR = "#404040"
_STABILITY_FACE = {"stable": "black", "unstable": "white", "neutral": "#808080"}


def basin_categories(result):
    """One integer category per start and what each category is.

    Categories 0..Q-1 are the basins of the fixed points, Q..Q+C-1 those of
    the C cycles, then ``unresolved`` and ``divergent``.

    Returns
    -------
    category : ndarray of int, shape (M,)
    names : list of str
        ``"fixed_point:k"``, ``"cycle:k"``, ``"unresolved"``, ``"divergent"``
        (the keys of ``result.fractions``).
    """
    q, c = result.Q, len(result.cycles)
    cat = np.empty(result.status.shape[0], dtype=int)
    fp = result.status == "fixed_point"
    cy = result.status == "cycle"
    cat[fp] = result.labels[fp]
    cat[cy] = q + result.labels[cy]
    cat[result.status == "unresolved"] = q + c
    cat[result.status == "divergent"] = q + c + 1
    names = [f"fixed_point:{k}" for k in range(q)] + [f"cycle:{k}" for k in range(c)] + ["unresolved", "divergent"]
    return cat, names


def _palette(q: int, c: int):
    plt = pyplot()
    base = plt.get_cmap("tab10").colors if q <= 10 else plt.get_cmap("tab20").colors
    fp_colors = [base[k % len(base)] for k in range(q)]
    pastel = plt.get_cmap("Pastel2").colors
    cy_colors = [pastel[k % len(pastel)] for k in range(c)]
    return fp_colors + cy_colors + [_UNRESOLVED_COLOR, _DIVERGENT_COLOR]


def _grid_axes(points: np.ndarray):
    """The axes of a full rectangular grid, or None when the points are not one."""
    xs, ix = np.unique(points[:, 0], return_inverse=True)
    ys, iy = np.unique(points[:, 1], return_inverse=True)
    if xs.size * ys.size != points.shape[0] or xs.size < 2 or ys.size < 2:
        return None
    seen = np.zeros((ys.size, xs.size), dtype=bool)
    seen[iy.ravel(), ix.ravel()] = True
    if not seen.all():
        return None
    return xs, ys, ix.ravel(), iy.ravel()


def _edges(v: np.ndarray) -> np.ndarray:
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_basins(result, ax=None, *, dims=(0, 1), show_fixed_points: bool = True, show_cycles: bool = True,
                legend: bool = True, hatch_cycles: bool = True, title=None, figsize=(6.4, 5.2),
                fixed_point_names=None):
    """Basin map: one colour per basin, fixed points and cycles marked.

    Parameters
    ----------
    result : FixedPointResult
        From :func:`rmtfp.find_fixed_points` (or :func:`find_all_fixed_points`,
        whose basins are Newton basins).
    ax : matplotlib Axes, optional
        Draw into it; a new figure otherwise.
    dims : (int, int), default (0, 1)
        The two coordinates shown (a projection when n > 2).
    show_fixed_points, show_cycles, legend : bool
    hatch_cycles : bool, default True
        Hatch the basins of cycles (grid starts only).
    title : str, optional
    figsize : tuple
    fixed_point_names : sequence of str, optional
        Legend name of each fixed point's basin (default ``"fixed point k"``,
        k the index in ``result.fixed_points``).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Fixed-point basins take the ``tab10``/``tab20`` colours, cycle basins
    pastel colours (hatched), unresolved starts light grey and divergent
    ones dark grey.  Fixed points are circles: filled black when stable,
    white when unstable, grey when neutral.  Cycle points are diamonds in
    their basin's colour joined in the order Phi visits them.  Starts on a
    full rectangular grid are drawn as cells centred on the grid points;
    other starts as dots.
    """
    plt = pyplot()
    n = result.starts.shape[1]
    d0, d1 = (0, 0) if n == 1 else tuple(int(d) for d in dims)
    if n > 1 and (len(dims) != 2 or d0 == d1 or not (0 <= d0 < n and 0 <= d1 < n)):
        raise ValueError(f"dims must be two different coordinates in 0..{n - 1}, got {dims!r}")
    if fixed_point_names is None:
        fp_names = [f"fixed point {k}" for k in range(result.Q)]
    else:
        fp_names = [str(v) for v in fixed_point_names]
        if len(fp_names) != result.Q:
            raise ValueError(f"fixed_point_names must hold one name per fixed point ({result.Q}), "
                             f"got {len(fp_names)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    cat, names = basin_categories(result)
    colors = _palette(result.Q, len(result.cycles))
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(colors)
    pts = result.starts[:, [d0, d1]] if n > 1 else np.column_stack([result.starts[:, 0], np.zeros(len(cat))])
    axes = _grid_axes(pts) if n == 2 else None
    if axes is not None:
        xs, ys, ix, iy = axes
        img = np.empty((ys.size, xs.size), dtype=int)
        img[iy, ix] = cat
        xe, ye = _edges(xs), _edges(ys)
        ax.pcolormesh(xe, ye, img, cmap=cmap, vmin=-0.5, vmax=len(colors) - 0.5, shading="flat",
                      rasterized=True)
        if hatch_cycles and result.cycles:
            cyc = (img >= result.Q) & (img < result.Q + len(result.cycles))
            if cyc.any():
                ax.contourf(xs, ys, cyc.astype(float), levels=[0.5, 1.5], colors="none", hatches=["//"])
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
    else:
        size = max(2.0, min(20.0, 4000.0 / max(1, len(cat))))
        ax.scatter(pts[:, 0], pts[:, 1], c=[colors[k] for k in cat], s=size, marker="s", linewidths=0,
                   rasterized=True)
    if show_cycles:
        for k, cycle in enumerate(result.cycles):
            o = cycle.points[:, [d0, d1]] if n > 1 else np.column_stack([cycle.points[:, 0], np.zeros(cycle.period)])
            loop = np.vstack([o, o[:1]])
            ax.plot(loop[:, 0], loop[:, 1], ls="--", lw=0.8, color="black", zorder=3)
            ax.scatter(o[:, 0], o[:, 1], marker="D", s=36, facecolors=[colors[result.Q + k]], edgecolors="black",
                       linewidths=1.0, zorder=4, clip_on=False)
    if show_fixed_points and result.Q:
        fp = result.fixed_points[:, [d0, d1]] if n > 1 else np.column_stack([result.fixed_points[:, 0],
                                                                            np.zeros(result.Q)])
        faces = [_STABILITY_FACE.get(s.kind, "black") for s in result.stability]
        ax.scatter(fp[:, 0], fp[:, 1], marker="o", s=50, facecolors=faces, edgecolors="black", linewidths=1.2,
                   zorder=5, clip_on=False)
    if legend:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = []
        for k, name in enumerate(names):
            frac = result.fractions.get(name, 0.0)
            if frac == 0 and not name.startswith("fixed_point"):
                continue
            if name.startswith("fixed_point"):
                label = f"{fp_names[k]} ({result.stability[k].kind}): {100 * frac:.1f}%"
            elif name.startswith("cycle"):
                j = k - result.Q
                label = f"cycle {j} (p = {result.cycles[j].period}, {result.cycles[j].stability.kind}): " \
                        f"{100 * frac:.1f}%"
            else:
                label = f"{name}: {100 * frac:.1f}%"
            hatch = "//" if name.startswith("cycle") and hatch_cycles and axes is not None else None
            handles.append(Patch(facecolor=colors[k], edgecolor="black", linewidth=0.5, hatch=hatch, label=label))
        if show_fixed_points and result.Q:
            for kind, face in _STABILITY_FACE.items():
                if any(s.kind == kind for s in result.stability):
                    handles.append(Line2D([], [], ls="", marker="o", mfc=face, mec="black",
                                          label=f"fixed point ({kind})"))
        if show_cycles and result.cycles:
            handles.append(Line2D([], [], ls="--", color="black", marker="D", mfc="white", mec="black",
                                  label="cycle points"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    ax.set_xlabel(f"$x_{{{d0 + 1}}}$")
    if n > 1:
        ax.set_ylabel(f"$x_{{{d1 + 1}}}$")
        ax.set_aspect("equal", adjustable="box")
    else:
        ax.set_yticks([])
    if title is None:
        title = f"Q = {result.Q}" + (f", {len(result.cycles)} cycle(s)" if result.cycles else "")
        if result.params.get("method") == "newton":
            title += " (Newton basins)"
    if title:
        ax.set_title(title)
    return fig
