#!/usr/bin/env python3
"""The spectro-temporal experiment: does a network that sees *how the spectrum moves in time* undo
the degradations better than the shipped models, which see only long-term features?

The issue suggests a small CNN on a log-mel spectrogram. EQ is time-invariant, so the long-term
spectrum carries all of its fingerprint; what a spectrogram adds is context that an EQ does not
change (which instruments play, how each band moves), which could narrow the prior on the clean
track's balance. This script tests that on the same tracks, split and targets as train.py:

  spectro-cnn  2-D convolutions over the native analyser's log-frequency spectrogram of each
               degraded excerpt (48 rows, 20 Hz - 20 kHz, 54 columns of 0.37 s; dB relative to
               the excerpt's mean), pooled over time (mean and standard deviation per channel and
               row), joined with the 172 standardised features, Gaussian NLL, early stopping on
               validation normalised MAE, variances recalibrated on validation, as train.py does.
  ridge        train.py's ridge (one alpha per parameter, chosen on validation), refitted here so
               both are scored by the same code.

Scores on the validation and test tracks: normalised MAE per parameter, level error, 68 %
coverage, and the 1/3-octave error left after the EQ moves, using the EQ's response per dB
fitted from the data itself (as bounds.py does; metrics.ts uses the native eqCurve, so the
absolute values differ slightly from the card's, the comparison between models does not).

Needs the spectrograms: `node models/training/dataset.mjs --spectrogram --out models/training/data/dataset-spec.jsonl`.
Usage: /usr/bin/python3 models/training/spectro.py [--data FILE.jsonl] [--epochs N] [--lr LR] [--channels C]
(defaults: 12 epochs, 3e-4, 8; about 2.5 min on 2 cores)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import RANGES, SEED, Z_CLIP, INPUT_NOISE, DROPOUT, WEIGHT_DECAY, fit_ridge, seed_all, train_nn  # noqa: E402

N_EQ = 5
SCORED = slice(2, 30)


def relative(bands):
    b = np.array([x if x is not None else np.nan for x in bands], dtype=np.float64)[SCORED]
    return b - np.nanmean(b)


class SpectroCNN(nn.Module):
    def __init__(self, rows, n_features, n_out, channels=8):
        super().__init__()
        c = channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.GELU(),
        )
        pooled_rows = rows // 4
        self.head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(2 * 2 * c * pooled_rows + n_features, 256), nn.GELU(), nn.Dropout(DROPOUT))
        self.mean = nn.Linear(256, n_out)
        self.logvar = nn.Linear(256, n_out)

    def forward(self, spec, z):
        # spec [N, 1, rows, columns]: frequency on the rows, time on the columns.
        h = self.conv(spec)
        h = torch.cat([h.mean(3).flatten(1), h.std(3).flatten(1), z], dim=1)
        h = self.head(h)
        return self.mean(h), self.logvar(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "data", "dataset-spec.jsonl"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--channels", type=int, default=8)
    args = ap.parse_args()
    seed_all(SEED)
    torch.set_num_threads(2)
    log = lambda s: print(s, flush=True)

    rows = [json.loads(line) for line in open(args.data) if line.strip()]
    layout = json.load(open(f"{args.data}.spectrogram.json"))
    spec = np.fromfile(f"{args.data}.spectrogram.f32", dtype=np.float32).reshape(layout["count"], layout["columns"], layout["rows"])
    assert len(rows) == layout["count"], "spectrograms and examples differ in number"
    # [N, rows (frequency), columns (time)], dB relative to each excerpt's mean over its active cells.
    spec = np.maximum(spec.transpose(0, 2, 1), -120.0)
    spec = spec - np.array([s[s > -119].mean() if (s > -119).any() else 0.0 for s in spec])[:, None, None]

    split = np.array([r["split"] for r in rows])
    x = np.array([r["features"] for r in rows], dtype=np.float32)
    y = np.array([r["target"] for r in rows], dtype=np.float32)
    tr, va, te = split == "train", split == "val", split == "test"
    log(f"{tr.sum()} train / {va.sum()} validation / {te.sum()} test examples; spectrogram {layout['rows']} x {layout['columns']}")

    f_mean, f_std = x[tr].mean(0), np.maximum(x[tr].std(0), 1e-2)
    z = np.clip((x - f_mean) / f_std, -Z_CLIP, Z_CLIP).astype(np.float32)
    s_mean, s_std = spec[tr].mean((0, 2), keepdims=True), np.maximum(spec[tr].std((0, 2), keepdims=True), 1e-2)
    s = np.clip((spec - s_mean) / s_std, -Z_CLIP, Z_CLIP).astype(np.float32)[:, None]
    y_centre = np.array([(a + b) / 2 for a, b in RANGES], np.float32)
    y_scale = np.array([(b - a) / 4 for a, b in RANGES], np.float32)
    n = (y - y_centre) / y_scale
    T = lambda a: torch.tensor(a)

    preds = {}
    log("ridge")
    ridge, _ = fit_ridge(z[tr], n[tr], z[va], n[va], lambda _: None)
    with torch.no_grad():
        preds["ridge"] = {k: ridge(T(z[m]))[0].numpy() for k, m in (("val", va), ("test", te))}
    log("spectro-cnn")
    seed_all(SEED)
    # One epoch of mean-only warm-up; every later epoch may be kept (the networks overfit early).
    model = SpectroCNN(layout["rows"], z.shape[1], n.shape[1], args.channels)
    model = train_nn(model, (T(s[tr]), T(z[tr])), T(n[tr]), (T(s[va]), T(z[va])), T(n[va]), args.epochs, args.lr, WEIGHT_DECAY, 1, log, noise=INPUT_NOISE, batch=64)
    with torch.no_grad():
        out = {k: model(T(s[m]), T(z[m])) for k, m in (("val", va), ("test", te))}
    preds["spectro-cnn"] = {k: v[0].numpy() for k, v in out.items()}
    lv_c = {k: torch.clamp(v[1], -12, 6).numpy() for k, v in out.items()}
    # Variances recalibrated on validation (one scalar per parameter), as train.py does.
    shift = np.log(np.maximum((((preds["spectro-cnn"]["val"] - n[va]) ** 2) * np.exp(-lv_c["val"])).mean(0), 1e-3))

    # Tonal error with the EQ's response per dB fitted from the data (bounds.py).
    clean = np.array([relative(r["cleanBandsDb"]) for r in rows])
    degraded = np.array([relative(r["degradedBandsDb"]) for r in rows])
    gains = np.array([r["degradation"]["eqGainsDb"] for r in rows])
    ok = ~np.isnan(clean).any(1) & ~np.isnan(degraded).any(1)
    a = np.hstack([gains[ok], np.ones((ok.sum(), 1))])
    response = np.linalg.lstsq(a, (degraded - clean)[ok], rcond=None)[0][:N_EQ].T

    def tonal(moves, mask):
        keep = ok[mask]
        e = degraded[mask][keep] + moves[keep] @ response.T - clean[mask][keep]
        e = e - e.mean(1, keepdims=True)
        return float(np.sqrt((e**2).mean(1)).mean())

    ranges = np.array([b - a for a, b in RANGES])
    print("\n| split | model | normalised MAE | EQ moves | width | level error (LU) | 1/3-octave error (dB) | 68 % coverage |")
    print("|---|---|---|---|---|---|---|---|")
    for split_name, mask in (("validation", va), ("test", te)):
        key = "val" if split_name == "validation" else "test"
        print(f"| {split_name} | degraded, no correction | | | | | {tonal(np.zeros((mask.sum(), N_EQ)), mask):.2f} | |")
        for name, p in preds.items():
            pred = p[key] * y_scale + y_centre
            err = np.abs(pred - y[mask]) / ranges
            cov = "" if name == "ridge" else f"{(np.abs(pred - y[mask]) <= np.exp((lv_c[key] + shift) / 2) * y_scale).mean():.2f}"
            level = np.abs(pred[:, 6] - y[mask][:, 6]).mean()
            print(f"| {split_name} | {name} | {err.mean():.3f} | {err[:, :N_EQ].mean():.3f} | {err[:, 5].mean():.3f} | {level:.2f} | {tonal(pred[:, :N_EQ], mask):.2f} | {cov} |")


if __name__ == "__main__":
    sys.exit(main())
