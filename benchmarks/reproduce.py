"""Reproduce the seed papers' findings with exact counts: python benchmarks/reproduce.py

Writes ``benchmarks/results/reproductions.md`` and its PNGs:

(a) Hanin & Rolnick (2019): exact activation regions in the 2-D plane through three digits
    images (scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]; the plane's affine
    coordinates put the images at (0, 0), (1, 0), (0, 1), and the window is [-0.5, 1.5]^2),
    against the total number of neurons for depths 1 to 6 at He initialisation, and through
    training (true and random labels);
(b) Pascanu, Montufar & Bengio (2013) and Montufar et al. (2014): deep against shallow at equal
    unit counts: the bounds, the constructions reaching them (counted exactly), and random
    networks of the same shapes;
(c) Hanin & Rolnick (2019), their other two measures, in the full 64-D input space: the mean
    distance from data points to the boundary of their activation region (``C / N``) and the
    number of regions along segments between two data points per unit length (``C N``), exactly,
    at initialisation and through training;
(d) an animation (GIF) of the regions of the plane through three digits over training epochs.

Needs scikit-learn and matplotlib (``pip install -e ".[bench]"``). About a minute.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import regionenum as re  # noqa: E402
from regionenum import bounds, constructions, estimators  # noqa: E402
from regionenum.plotting import plot_regions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WINDOW = re.Box([-0.5, -0.5], [1.5, 1.5])


def he_net(n_in, widths, n_out, rng, bias_std=0.01):
    """He-normal weights, small normal biases; ReLU hidden layers, linear outputs."""
    layers, fan_in = [], n_in
    for n in list(widths) + [n_out]:
        layers.append((rng.normal(0, np.sqrt(2 / fan_in), (n, fan_in)), rng.normal(0, bias_std, n)))
        fan_in = n
    return re.Network.from_layers(layers)


def plane_count(net, X, rng):
    """Exact regions of ``net`` in the window of the plane through three random rows of X."""
    a, b, c = X[rng.choice(len(X), 3, replace=False)]
    return re.count_regions(net.restricted(a, np.stack([b - a, c - a], axis=1)), WINDOW)


def hanin_rolnick_init(X, out, seeds=8):
    totals = [24, 48, 96, 192, 384]
    depths = [1, 2, 3, 4, 5, 6]
    table = {}
    for depth in depths:
        for total in totals:
            width = total // depth
            counts = [int(plane_count(he_net(64, [width] * depth, 10, np.random.default_rng(s)), X,
                                      np.random.default_rng(100 + s))) for s in range(seeds)]
            table[depth, total] = (width * depth, float(np.mean(counts)), float(np.std(counts)))
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for depth in depths:
        n = [table[depth, t][0] for t in totals]
        ax.errorbar(n, [table[depth, t][1] for t in totals], yerr=[table[depth, t][2] for t in totals],
                    marker="o", capsize=3, label=f"depth {depth}")
    ref = np.array(totals, float)
    ax.plot(ref, ref ** 2 / 2 * table[1, totals[0]][1] / (totals[0] ** 2 / 2), "k--", linewidth=0.8,
            label="N^2 (scaled)")
    ax.set(xscale="log", yscale="log", xlabel="neurons N", ylabel="regions in the plane",
           title="At initialisation: regions grow like N^2")
    ax.set_xticks(totals, labels=[str(t) for t in totals], minor=False)
    ax.minorticks_off()
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "hanin_rolnick_init.png", dpi=110)
    plt.close(fig)
    lines = ["| depth | " + " | ".join(f"N = {t}" for t in totals) + " |",
             "|---|" + "---|" * len(totals)]
    for depth in depths:
        cells = [f"{table[depth, t][1]:.0f} ± {table[depth, t][2]:.0f} (N={table[depth, t][0]})"
                 for t in totals]
        lines.append(f"| {depth} | " + " | ".join(cells) + " |")
    ratio = [table[d, totals[-1]][1] / table[d, totals[-2]][1] for d in depths]
    at_top = [table[d, totals[-1]][1] for d in depths]
    summary = (f"Doubling N from {totals[-2]} to {totals[-1]} multiplies the mean count by "
               + ", ".join(f"{r:.1f}" for r in ratio) + f" for depths {', '.join(map(str, depths))} "
               f"(N^2 growth would be 4); at N = {totals[-1]} the depths' means range from "
               f"{min(at_top):.0f} to {max(at_top):.0f}.")
    return lines, summary


def hanin_rolnick_training(X, y, out, epochs=(1, 2, 4, 8, 16, 32, 64)):
    planes = [np.random.default_rng(200 + s) for s in range(3)]
    triples = [X[p.choice(len(X), 3, replace=False)] for p in planes]
    runs = {}
    for label, targets in (("true labels", y), ("random labels", np.random.default_rng(7).permutation(y))):
        clf = MLPClassifier(hidden_layer_sizes=(32, 32, 32), learning_rate_init=3e-3, random_state=0)
        rows, done = [], 0
        for e in epochs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                while done < e:
                    clf.partial_fit(X, targets, classes=np.arange(10))
                    done += 1
            net = re.Network.from_sklearn(clf)
            counts = [int(re.count_regions(net.restricted(a, np.stack([b - a, c - a], axis=1)), WINDOW))
                      for a, b, c in triples]
            rows.append((e, float(np.mean(counts)), float(clf.score(X, targets))))
        runs[label] = rows
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for label, rows in runs.items():
        ax.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label=label)
    ax.set(xscale="log", xlabel="epoch", ylabel="regions in the plane (mean of 3)",
           title="Through training (MLP 64-32-32-32-10, 96 neurons)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "hanin_rolnick_training.png", dpi=110)
    plt.close(fig)
    lines = ["| epoch | regions, true labels | train accuracy | regions, random labels | train accuracy |",
             "|---|---|---|---|---|"]
    for (e, n1, a1), (_, n2, a2) in zip(runs["true labels"], runs["random labels"]):
        lines.append(f"| {e} | {n1:.0f} | {a1:.2f} | {n2:.0f} | {a2:.2f} |")
    return lines


def deep_vs_shallow(out):
    rows = []
    for total in (8, 12, 16, 20, 24):
        depth = total // 4
        widths = [4] * depth
        deep = constructions.montufar(2, widths[:-1], 4) if depth > 1 else None
        pas = constructions.pascanu(2, widths[:-1], 4) if depth > 1 else None
        rng = np.random.default_rng(total)
        random_counts = []
        for _ in range(5):
            net = he_net(2, widths, 1, rng, bias_std=0.1)
            random_counts.append(int(re.count_regions(net, re.Box([-1, -1], [1, 1]))))
        rows.append(dict(
            total=total, depth=depth, shallow=bounds.zaslavsky(total, 2),
            pascanu=bounds.pascanu(2, widths), montufar=bounds.montufar(2, widths),
            serra=bounds.serra(2, widths),
            montufar_exact=int(re.count_regions(deep.network, deep.domain)) if deep else bounds.zaslavsky(4, 2),
            pascanu_exact=int(re.count_regions(pas.network, pas.domain)) if pas else bounds.zaslavsky(4, 2),
            random=float(np.mean(random_counts))))
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    n = [r["total"] for r in rows]
    for key, label in (("shallow", "one layer of N units (Zaslavsky, reached)"),
                       ("pascanu_exact", "Pascanu et al. 2013 construction (exact)"),
                       ("montufar_exact", "Montufar et al. 2014 construction (exact)"),
                       ("serra", "Serra et al. 2018 upper bound"),
                       ("random", "random deep nets, He init (exact, mean of 5)")):
        ax.plot(n, [r[key] for r in rows], marker="o", label=label)
    ax.set(yscale="log", xlabel="hidden units N (layers of width 4)", ylabel="regions",
           title="Deep against shallow, input dimension 2")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "deep_vs_shallow.png", dpi=110)
    plt.close(fig)
    lines = ["| N | depth | shallow (Zaslavsky) | Pascanu bound | construction (exact) | Montufar bound | "
             "construction (exact) | Serra upper bound | random deep, mean |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['total']} | {r['depth']} | {r['shallow']} | {r['pascanu']} | {r['pascanu_exact']} | "
                     f"{r['montufar']} | {r['montufar_exact']} | {r['serra']} | {r['random']:.0f} |")
    return lines


def _distance_and_lines(net, data, segments):
    """Mean distance from ``data`` to region boundaries, and mean regions per unit length along
    ``segments`` (pairs of points), both exact."""
    dist = estimators.distance_to_boundary(net, data).value
    per_length = np.mean([estimators.line_regions(net, a, b).value / np.linalg.norm(b - a) for a, b in segments])
    return dist, per_length


def hanin_rolnick_distance_and_lines(X, y, out, seeds=4, epochs=(0, 1, 2, 4, 8, 16, 32, 64)):
    rng = np.random.default_rng(300)
    data = X[rng.choice(len(X), 400, replace=False)]
    segments = [X[rng.choice(len(X), 2, replace=False)] for _ in range(20)]
    totals, depths = [24, 48, 96, 192, 384], [1, 3]
    init = {}
    for depth in depths:
        for total in totals:
            width = total // depth
            runs = [_distance_and_lines(he_net(64, [width] * depth, 10, np.random.default_rng(s)), data, segments)
                    for s in range(seeds)]
            init[depth, total] = np.mean(runs, axis=0)
    trained = {}
    for label, targets in (("true labels", y), ("random labels", np.random.default_rng(7).permutation(y))):
        clf = MLPClassifier(hidden_layer_sizes=(32, 32, 32), learning_rate_init=3e-3, random_state=0)
        rows, done = [], 0
        for e in epochs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                if e == 0:  # the initialisation (sklearn sets weights in a first step: one digit)
                    clf.partial_fit(X[:1], targets[:1], classes=np.arange(10))
                while done < e:
                    clf.partial_fit(X, targets, classes=np.arange(10))
                    done += 1
            net = re.Network.from_sklearn(clf)
            rows.append((e, *_distance_and_lines(net, data, segments), float(clf.score(X, targets))))
        trained[label] = rows
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for depth in depths:
        n = [init[depth, t] for t in totals]
        axes[0].plot(totals, [v[0] for v in n], marker="o", label=f"depth {depth}")
        axes[1].plot(totals, [v[1] for v in n], marker="o", label=f"depth {depth}")
    ref = np.array(totals, float)
    axes[0].plot(ref, init[1, totals[0]][0] * totals[0] / ref, "k--", linewidth=0.8, label="C / N")
    axes[1].plot(ref, init[1, totals[0]][1] * ref / totals[0], "k--", linewidth=0.8, label="C N")
    axes[0].set(xscale="log", yscale="log", xlabel="neurons N", ylabel="mean distance to the boundary",
                title="Distance from data to region boundaries")
    axes[1].set(xscale="log", yscale="log", xlabel="neurons N", ylabel="regions per unit length",
                title="Regions along segments between data")
    for ax in axes:
        ax.set_xticks(totals, labels=[str(t) for t in totals])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    fig.suptitle("At initialisation (He), 64-D digits inputs, mean of 4 networks")
    fig.tight_layout()
    fig.savefig(out / "hanin_rolnick_distance_init.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for label, rows in trained.items():
        e = [max(r[0], 0.5) for r in rows]
        axes[0].plot(e, [r[1] for r in rows], marker="o", label=label)
        axes[1].plot(e, [r[2] for r in rows], marker="o", label=label)
    axes[0].set(xscale="log", xlabel="epoch (0 plotted at 0.5)", ylabel="mean distance to the boundary")
    axes[1].set(xscale="log", xlabel="epoch (0 plotted at 0.5)", ylabel="regions per unit length")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("Through training (MLP 64-32-32-32-10, 96 neurons)")
    fig.tight_layout()
    fig.savefig(out / "hanin_rolnick_distance_training.png", dpi=110)
    plt.close(fig)
    lines = ["| depth | " + " | ".join(f"N = {t}" for t in totals) + " |", "|---|" + "---|" * len(totals)]
    for depth in depths:
        lines.append(f"| {depth}, distance | " + " | ".join(f"{init[depth, t][0]:.4f}" for t in totals) + " |")
        lines.append(f"| {depth}, N x distance | " + " | ".join(f"{t * init[depth, t][0]:.2f}" for t in totals) + " |")
        lines.append(f"| {depth}, regions per length | " + " | ".join(f"{init[depth, t][1]:.1f}" for t in totals) + " |")
        lines.append(f"| {depth}, per length / N | " + " | ".join(f"{init[depth, t][1] / t:.3f}" for t in totals)
                     + " |")
    train_lines = ["| epoch | distance, true | per length, true | accuracy | distance, random | per length, random "
                   "| accuracy |", "|---|---|---|---|---|---|---|"]
    for (e, d1, l1, a1), (_, d2, l2, a2) in zip(trained["true labels"], trained["random labels"]):
        train_lines.append(f"| {e} | {d1:.4f} | {l1:.1f} | {a1:.2f} | {d2:.4f} | {l2:.1f} | {a2:.2f} |")
    return lines, train_lines


def training_animation(X, y, out, epochs=(0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24)):
    """A GIF of the regions of the plane through three digits, coloured by class, over training."""
    from PIL import Image
    a, b, c = X[np.random.default_rng(201).choice(len(X), 3, replace=False)]
    basis = np.stack([b - a, c - a], axis=1)
    clf = MLPClassifier(hidden_layer_sizes=(32, 32), learning_rate_init=3e-3, random_state=0)
    frames, counts, done = [], [], 0
    for e in epochs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if e == 0:  # the initialisation (sklearn sets weights in a first step: one digit)
                clf.partial_fit(X[:1], y[:1], classes=np.arange(10))
            while done < e:
                clf.partial_fit(X, y, classes=np.arange(10))
                done += 1
        regions = re.enumerate_regions(re.Network.from_sklearn(clf).restricted(a, basis), WINDOW)
        counts.append(len(regions))
        fig, ax = plt.subplots(figsize=(4.2, 4.0))
        plot_regions(regions, ax, color_by="class")
        ax.plot([0, 1, 0], [0, 0, 1], "w*", markersize=9, markeredgecolor="k")
        ax.set_title(f"epoch {e}: {len(regions)} regions, accuracy {clf.score(X, y):.2f}", fontsize=9)
        fig.tight_layout()
        fig.canvas.draw()
        frames.append(Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()))
        plt.close(fig)
    frames[0].save(out / "regions_training.gif", save_all=True, append_images=frames[1:], duration=600, loop=0)
    return epochs, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    start = time.perf_counter()
    init_lines, init_summary = hanin_rolnick_init(X, args.out)
    train_lines = hanin_rolnick_training(X, y, args.out)
    deep_lines = deep_vs_shallow(args.out)
    dist_lines, dist_train_lines = hanin_rolnick_distance_and_lines(X, y, args.out)
    gif_epochs, gif_counts = training_animation(X, y, args.out)
    doc = [
        "# Reproductions", "",
        f"Generated by `python benchmarks/reproduce.py` in {time.perf_counter() - start:.0f} s. "
        "Every count is an exact enumeration.", "",
        "## (a) Hanin & Rolnick (2019): regions in a plane through three digits", "",
        "At He initialisation (biases N(0, 0.01^2)), mean ± std over 8 networks and planes; N is "
        "the number of neurons actually used (widths N // depth):", "", *init_lines, "",
        init_summary, "", "![init](hanin_rolnick_init.png)", "",
        "Through training (scikit-learn MLPClassifier, Adam, three fixed planes), with the true "
        "labels and with randomly permuted labels:", "", *train_lines, "",
        "![training](hanin_rolnick_training.png)", "",
        "## (b) Pascanu et al. (2013), Montufar et al. (2014): deep against shallow", "",
        "Input dimension 2, N hidden units in layers of width 4. The constructions fold the unit "
        "square and reach their lower bounds exactly; one layer of N units reaches Zaslavsky's "
        "count; random deep nets of the same shape (He initialisation, on [-1, 1]^2) for "
        "comparison:", "",
        *deep_lines, "", "![deep vs shallow](deep_vs_shallow.png)", "",
        "## (c) Hanin & Rolnick (2019): distance to the boundary, regions along lines", "",
        "In the full 64-D input space: the mean exact distance from 400 digits to the boundary of "
        "their activation region (`estimators.distance_to_boundary`), and the exact number of regions "
        "along 20 segments between two digits per unit length (`estimators.line_regions`). At He "
        "initialisation (mean of 4 networks per shape):", "", *dist_lines, "",
        "![distance and lines at initialisation](hanin_rolnick_distance_init.png)", "",
        "Through training (MLPClassifier 64-32-32-32-10, Adam; epoch 0 is the initialisation):", "",
        *dist_train_lines, "", "![distance and lines through training](hanin_rolnick_distance_training.png)", "",
        "## (d) The regions of a plane through training", "",
        "The plane through three digits (white stars at (0, 0), (1, 0), (0, 1)), coloured by the class "
        "that wins, for an MLPClassifier 64-32-32-10 after epochs " + ", ".join(map(str, gif_epochs))
        + "; regions per frame: "
        + ", ".join(map(str, gif_counts)) + ".", "", "![regions through training](regions_training.gif)", ""]
    (args.out / "reproductions.md").write_text("\n".join(doc))
    print("\n".join(doc))


if __name__ == "__main__":
    main()
