#!/usr/bin/env python3
"""What any assistant could reach on this corpus: bounds that do not depend on the shipped model.

The assistant must undo an unknown EQ applied to an unknown track, from the degraded audio alone.
This script measures, on the dataset from `npm run dataset`, how far that is possible at all:

  1. spread      the clean tracks' tonal balance between tracks, within a corpus package and within
                 a style label, against the size of the EQ degradations;
  2. floors      normalised MAE of predicting "no move" for every EQ parameter; and the best
                 *linear* estimator with the prior known exactly (fitted in-sample on all 60 tracks,
                 test tracks included, from the degraded third-octave balance), with its
                 1/3-octave error against the heuristic baseline's;
  3. optimistic  the same in-sample fit on all 172 features (features of 60 tracks x 64 variants can
                 partly identify the track, so this is flattering, not reachable on new music);
  4. learning    ridge regression on the 172 features, 10 folds by track, trained on 25/50/75/100 %
                 of the remaining tracks: does more music of this kind help?

Every number is computed here from the data; `models/training/README.md` quotes them.
Usage: /usr/bin/python3 models/training/bounds.py [DATASET.jsonl]
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20250501
# Scored bands 31.5 Hz - 16 kHz (indices 2..29 of the 31 third-octave bands), as in metrics.ts.
SCORED = slice(2, 30)
# Parameter ranges as in main/core/assistant/parameters.ts (normalised MAE divides by max - min).
RANGES = np.array([16.0] * 5 + [1 - math.log2(1 / 1.5), 15.0])
N_EQ = 5


def relative(bands):
    b = np.array([x if x is not None else np.nan for x in bands], dtype=np.float64)[SCORED]
    return b - np.nanmean(b)


def with_bias(x):
    return np.hstack([x, np.ones((len(x), 1))])


def lstsq_predict(x_fit, y_fit, x_eval):
    w = np.linalg.lstsq(with_bias(x_fit), y_fit, rcond=None)[0]
    return with_bias(x_eval) @ w


def tonal_error(corrected, clean):
    """Mean over rows of the RMS band difference, overall level removed (metrics.ts tonalErrorDb)."""
    e = corrected - clean
    e = e - e.mean(1, keepdims=True)
    return float(np.sqrt((e**2).mean(1)).mean())


def ridge_predict(x_fit, y_fit, x_eval, alpha):
    mu, sd = x_fit.mean(0), np.maximum(x_fit.std(0), 1e-2)
    z = with_bias(np.clip((x_fit - mu) / sd, -6, 6))
    reg = alpha * np.eye(z.shape[1])
    reg[-1, -1] = 0
    w = np.linalg.solve(z.T @ z + reg, z.T @ y_fit)
    return with_bias(np.clip((x_eval - mu) / sd, -6, 6)) @ w


def nmae(pred, truth, ranges):
    return np.abs(pred - truth).mean(0) / ranges


def group_spread(track_means, labels):
    """Pooled within-group standard deviation per band (groups with at least two tracks)."""
    groups = {}
    for m, g in zip(track_means, labels):
        groups.setdefault(g, []).append(m)
    used = [np.array(v) for v in groups.values() if len(v) > 1]
    resid = np.concatenate([v - v.mean(0) for v in used])
    dof = sum(len(v) for v in used) - len(used)
    return np.sqrt((resid**2).sum(0) / dof)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data", "dataset.jsonl")
    rows = [json.loads(line) for line in open(path) if line.strip()]
    clean = np.array([relative(r["cleanBandsDb"]) for r in rows])
    degraded = np.array([relative(r["degradedBandsDb"]) for r in rows])
    keep = ~np.isnan(clean).any(1) & ~np.isnan(degraded).any(1)
    rows = [r for r, k in zip(rows, keep) if k]
    clean, degraded = clean[keep], degraded[keep]
    x = np.array([r["features"] for r in rows])
    y = np.array([r["target"] for r in rows])
    gains = np.array([r["degradation"]["eqGainsDb"] for r in rows])
    track = np.array([r["track"] for r in rows])
    tracks = sorted(set(track))
    print(f"{len(rows)} examples from {len(tracks)} tracks")

    # 1. Spread of the clean balance (per track: mean over its excerpts) against the degradations.
    per_track = {}
    for r, c in zip(rows, clean):
        per_track.setdefault(r["track"], (r["package"], r["style"], []))[2].append(c)
    names = sorted(per_track)
    means = np.array([np.mean(per_track[t][2], 0) for t in names])
    print("\n1. tonal balance spread (dB, mean over the 28 scored bands)")
    print(f"   between tracks             {means.std(0, ddof=1).mean():5.2f}")
    print(f"   within a corpus package    {group_spread(means, [per_track[t][0] for t in names]).mean():5.2f}")
    print(f"   within a style label       {group_spread(means, [per_track[t][1] for t in names]).mean():5.2f}")
    print(f"   EQ degradation per move    {gains.std(0).mean():5.2f}")

    # The EQ moves' response per dB at the scored bands (level removed), fitted from the data itself:
    # degraded - clean = response . gains + what width and compression changed.
    response = np.linalg.lstsq(with_bias(gains), degraded - clean, rcond=None)[0][:N_EQ].T
    heuristic = np.linalg.lstsq(np.hstack([response, np.ones((response.shape[0], 1))]), (clean.mean(0) - degraded).T, rcond=None)[0][:N_EQ].T
    heuristic = np.clip(heuristic, -8, 8)
    err_degraded = tonal_error(degraded, clean)
    err_heuristic = tonal_error(degraded + heuristic @ response.T, clean)
    err_oracle = tonal_error(degraded - gains @ response.T, clean)

    # 2. Floors.
    zero = nmae(np.zeros_like(y[:, :N_EQ]), y[:, :N_EQ], RANGES[:N_EQ])
    lin = lstsq_predict(degraded, y[:, :N_EQ], degraded)
    lin_nmae = nmae(lin, y[:, :N_EQ], RANGES[:N_EQ])
    err_lin = tonal_error(degraded + lin @ response.T, clean)
    print("\n2. floors (all 60 tracks, in-sample)")
    print(f"   'no move' for every EQ parameter: normalised MAE {zero.mean():.3f}  per move {np.round(zero, 3).tolist()}")
    print(f"   best linear estimate from the degraded third-octave balance, prior known exactly:")
    print(f"     normalised MAE (EQ) {lin_nmae.mean():.3f}  per move {np.round(lin_nmae, 3).tolist()}")
    print(f"     1/3-octave error {err_lin:.2f} dB: degraded {err_degraded:.2f}, heuristic {err_heuristic:.2f}, true inverse {err_oracle:.2f}")
    print(f"     ratio to the heuristic {err_lin / err_heuristic:.3f} (goal <= 0.5)")

    # 3. Optimistic: in-sample on all features (can partly recognise the track).
    full = lstsq_predict(x, y, x)
    full_nmae = nmae(full, y, RANGES)
    err_full = tonal_error(degraded + full[:, :N_EQ] @ response.T, clean)
    print("\n3. optimistic: linear on all 172 features, in-sample on all 60 tracks (test tracks included)")
    print(f"   normalised MAE {full_nmae.mean():.3f} (goal < 0.05)  per parameter {np.round(full_nmae, 3).tolist()}")
    print(f"   level error {np.abs(full[:, 6] - y[:, 6]).mean():.2f} LU (goal < 0.5)   1/3-octave ratio to the heuristic {err_full / err_heuristic:.3f}")

    # 4. Learning curve, 10 folds by track.
    rng = np.random.default_rng(SEED)
    folds = np.array_split(rng.permutation(tracks), 10)
    print("\n4. learning curve: ridge on 172 features, 10 folds by track (held-out normalised MAE, best of two alphas)")
    for frac in (0.25, 0.5, 0.75, 1.0):
        best = None
        for alpha in (300.0, 3000.0):
            errs, level, n_train = [], [], []
            for fold in folds:
                held = np.isin(track, fold)
                pool = [t for t in tracks if t not in set(fold)]
                chosen = rng.choice(pool, max(5, int(round(len(pool) * frac))), replace=False)
                fit = np.isin(track, chosen)
                p = ridge_predict(x[fit], y[fit], x[held], alpha)
                errs.append(nmae(p, y[held], RANGES))
                level.append(np.abs(p[:, 6] - y[held][:, 6]).mean())
                n_train.append(len(chosen))
            score = float(np.mean(errs))
            if best is None or score < best[0]:
                best = (score, alpha, float(np.mean(level)), int(np.mean(n_train)))
        print(f"   {best[3]:3d} training tracks: normalised MAE {best[0]:.3f}, level error {best[2]:.2f} LU (alpha {best[1]:g})")


if __name__ == "__main__":
    main()
