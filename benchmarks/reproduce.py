"""Reproduce the seed papers' findings with exact counts: python benchmarks/reproduce.py

Writes ``benchmarks/results/reproductions.md`` and its PNGs:

(a) Hanin & Rolnick (2019): exact activation regions in the 2-D plane through three digits
    images (scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]; the plane's affine
    coordinates put the images at (0, 0), (1, 0), (0, 1), and the window is [-0.5, 1.5]^2),
    against the total number of neurons for depths 1 to 6 at He initialisation, and through
    training (true and random labels);
(b) Pascanu, Montufar & Bengio (2013) and Montufar et al. (2014): deep against shallow at equal
    unit counts: the bounds, the constructions reaching them (counted exactly), and random
    networks of the same shapes.

Needs scikit-learn and matplotlib (``pip install -e ".[bench]"``). About two minutes.
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
from regionenum import bounds, constructions  # noqa: E402

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
        *deep_lines, "", "![deep vs shallow](deep_vs_shallow.png)", ""]
    (args.out / "reproductions.md").write_text("\n".join(doc))
    print("\n".join(doc))


if __name__ == "__main__":
    main()
