"""python -m benchmarks.rca.training [--seed 20000] [--scenarios 400]: fit the ranker's weights.

Extracts every candidate's feature vector (engine.rank.scoring + engine.rank.features) from the
incident holding most of each injected fault's members, labelled by whether it is the fault's
root, on TRAINING seeds (default 20000..20399, disjoint from the evaluation seeds 1000..1239 and
the held-out 5000..5119). Fits two linear rankers, picks the better by grouped cross-validation
on the training seeds only, and prints the weights to paste into engine/rank/weights.py:

* ``pairwise``: scikit-learn logistic regression on (root - other) feature differences;
* ``softmax``: conditional logit (softmax over each incident's candidates), L2, scipy L-BFGS.

Weights are printed scaled by the ranker's softmax temperature (0.1), so the ranker's scores
are the model's probabilities.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression

from benchmarks.rca.evaluate import incident_of_fault, run_vigil
from benchmarks.rca.faults import generate
from engine.correlate.grouping import Correlator
from engine.rank.features import EXTRA_FEATURES
from engine.rank.scoring import score_candidates
from engine.rank.signals import build_view
from engine.rank.weights import HAND_WEIGHTS

FEATURES = (*HAND_WEIGHTS, *EXTRA_FEATURES)
TEMPERATURE = 0.1
FOLDS = 5


def extract(first_seed: int, n: int) -> list[tuple[np.ndarray, int, int]]:
    """Per fault: (candidate features matrix, index of the root or -1, seed)."""
    groups, op = [], Correlator()
    for seed in range(first_seed, first_seed + n):
        scn = generate(seed)
        grouping, latest = run_vigil(scn, op)
        roots = {f.root for f in scn.faults}
        for i, fault in enumerate(scn.faults):
            inc = incident_of_fault(f"fault:{i}", scn, grouping)
            if inc is None:
                continue
            snap = latest[inc]
            cands = score_candidates(build_view(snap), snap.changes, HAND_WEIGHTS)
            # another fault's root in the same incident is neither positive nor negative
            cands = [c for c in cands if c.node == fault.root or c.node not in roots]
            x = np.array([[c.features.get(k, 0.0) for k in FEATURES] for c in cands])
            nodes = [c.node for c in cands]
            root = nodes.index(fault.root) if fault.root in nodes else -1
            groups.append((x, root, seed))
    return groups


def fit_pairwise(groups, c: float) -> np.ndarray:
    diffs, weights = [], []
    for x, root, _ in groups:
        if root < 0 or len(x) < 2:
            continue
        d = x[root] - np.delete(x, root, axis=0)
        diffs.append(d)
        weights.append(np.full(len(d), 1.0 / len(d)))
    d, w = np.vstack(diffs), np.concatenate(weights)
    xs, ys = np.vstack([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))])
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
    model.fit(xs, ys, sample_weight=np.concatenate([w, w]))
    return model.coef_[0]


def fit_softmax(groups, c: float) -> np.ndarray:
    usable = [(x, r) for x, r, _ in groups if r >= 0 and len(x) > 1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * w @ w / c, w / c
        for x, r in usable:
            s = x @ w
            p = np.exp(s - logsumexp(s))
            total -= s[r] - logsumexp(s)
            grad = grad - (x[r] - p @ x)
        return total, grad

    res = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B")
    return res.x


def accuracy(groups, w: np.ndarray) -> tuple[float, float]:
    """AC@1 and AC@3 of ``w`` over the groups (ties broken against the root)."""
    hits1 = hits3 = 0
    for x, root, _ in groups:
        if root < 0:
            continue
        s = x @ w
        position = int(np.sum(s >= s[root]))  # the root itself counts once
        hits1 += position <= 1
        hits3 += position <= 3
    return hits1 / len(groups), hits3 / len(groups)


def cross_validate(groups, fit, c: float) -> tuple[float, float]:
    seeds = sorted({g[2] for g in groups})
    fold_of = {s: i % FOLDS for i, s in enumerate(seeds)}
    scores = []
    for k in range(FOLDS):
        train = [g for g in groups if fold_of[g[2]] != k]
        test = [g for g in groups if fold_of[g[2]] == k]
        scores.append(accuracy(test, fit(train, c)))
    return tuple(np.mean(scores, axis=0))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rca.training")
    parser.add_argument("--seed", type=int, default=20000)
    parser.add_argument("--scenarios", type=int, default=400)
    args = parser.parse_args()
    groups = extract(args.seed, args.scenarios)
    hand = np.array([HAND_WEIGHTS.get(k, 0.0) for k in FEATURES])
    print(
        f"training seeds {args.seed}..{args.seed + args.scenarios - 1}: {len(groups)} faults, "
        f"root among candidates in {sum(g[1] >= 0 for g in groups)}"
    )
    print(f"hand weights (train, in-sample): AC@1/AC@3 {accuracy(groups, hand)}")
    best = (-1.0, "", 0.0)
    for name, fit in (("pairwise", fit_pairwise), ("softmax", fit_softmax)):
        for c in (0.3, 1.0, 3.0, 10.0, 30.0):
            ac1, ac3 = cross_validate(groups, fit, c)
            print(f"{name:<9} C={c:<5} {FOLDS}-fold CV AC@1 {ac1:.3f} AC@3 {ac3:.3f}")
            best = max(best, (ac1 + 0.5 * ac3, name, c))
    _, name, c = best
    w = (fit_pairwise if name == "pairwise" else fit_softmax)(groups, c)
    print(f"chosen {name} C={c}; in-sample AC@1/AC@3 {accuracy(groups, w)}")
    print("LEARNED_WEIGHTS: dict[str, float] = {")
    for k, v in zip(FEATURES, w * TEMPERATURE, strict=True):
        print(f'    "{k}": {v:.4f},')
    print("}")


if __name__ == "__main__":
    main()
