#!/usr/bin/env python3
"""Trains the assistant's three candidate models on the dataset from `npm run dataset` and exports
each to ONNX (models/training/out/<name>.onnx, opset 17). `npm run train` runs this, then
models/training/evaluate.mjs, which scores every candidate on the held-out tracks with the app's own
inference path (onnxruntime-node) and ships the champion.

Candidates (same inputs, same targets, same loss):
  ridge  closed-form ridge regression for the means (one alpha per parameter, chosen on validation), plus a linear
         log-variance head fitted by Gaussian NLL with the means frozen;
  mlp    two hidden layers of 256 (GELU, dropout 0.1), mean and log-variance heads, Gaussian NLL;
  cnn    1-D convolutions over the third-octave band vector (level and side-to-mid as channels) and
         over the 96-point fine tonal curve, joined with the scalar loudness features, then an MLP
         head; Gaussian NLL.
Every candidate's log-variances are then rescaled per parameter on the validation tracks (one
scalar each, the mean squared z-score), and the style classifier (a multinomial logistic
regression on the same features) is attached as a third output.

Run with /usr/bin/python3 (Debian's python3-torch 1.13 and python3-onnx). Seeded; deterministic on CPU.
"""
import argparse
import json
import math
import os
import random
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20250501
N_BANDS = 31
N_CURVE = 96
PARAM_IDS = ["lowShelf100", "peak250", "peak1k", "peak3k", "highShelf8k", "width", "level"]
# Ranges as in main/core/assistant/parameters.ts (normalised MAE divides by max - min).
RANGES = [(-8, 8)] * 5 + [(math.log2(1 / 1.5), 1.0), (-2.0, 13.0)]
STYLES = ["classical", "electronic", "film-ambient", "metal", "pop"]
Z_CLIP = 6.0
# Training-time input noise (in standard deviations) and the networks' regularisation: the corpus
# has only ~40 training tracks, and the tracks' own tonal balances vary more than the degradations
# (models/training/README.md), so the networks overfit track identity within a few epochs otherwise.
INPUT_NOISE = 0.3
DROPOUT = 0.3
WEIGHT_DECAY = 1e-2


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def load(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    data = {}
    for split in ("train", "val", "test"):
        rs = [r for r in rows if r["split"] == split]
        data[split] = (
            np.array([r["features"] for r in rs], dtype=np.float32),
            np.array([r["target"] for r in rs], dtype=np.float32),
            np.array([STYLES.index(r["style"]) for r in rs], dtype=np.int64),
        )
    return data


class Standardise(nn.Module):
    """Feature standardisation baked into the graph, so the app feeds raw features."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        # Clipped, so a feature far outside the training range cannot swing the prediction.
        return torch.clamp((x - self.mean) / self.std, -Z_CLIP, Z_CLIP)


class Ridge(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.mean = nn.Linear(n_in, n_out)
        self.logvar = nn.Linear(n_in, n_out)

    def forward(self, z):
        return self.mean(z), self.logvar(z)


class MLP(nn.Module):
    def __init__(self, n_in, n_out, hidden=256):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.GELU(), nn.Dropout(DROPOUT), nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(DROPOUT))
        self.mean = nn.Linear(hidden, n_out)
        self.logvar = nn.Linear(hidden, n_out)

    def forward(self, z):
        h = self.body(z)
        return self.mean(h), self.logvar(h)


class CNN(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.n_scalar = n_in - 2 * N_BANDS - N_CURVE
        self.bands = nn.Sequential(nn.Conv1d(2, 32, 3, padding=1), nn.GELU(), nn.Conv1d(32, 32, 3, padding=1), nn.GELU())
        self.curve = nn.Sequential(nn.Conv1d(1, 16, 5, padding=2), nn.GELU(), nn.Conv1d(16, 16, 5, padding=2, stride=2), nn.GELU())
        flat = 32 * N_BANDS + 16 * (N_CURVE // 2)
        self.head = nn.Sequential(nn.Linear(flat + self.n_scalar, 256), nn.GELU(), nn.Dropout(DROPOUT))
        self.mean = nn.Linear(256, n_out)
        self.logvar = nn.Linear(256, n_out)

    def forward(self, z):
        b = torch.stack([z[:, :N_BANDS], z[:, N_BANDS : 2 * N_BANDS]], dim=1)
        c = z[:, 2 * N_BANDS : 2 * N_BANDS + N_CURVE].unsqueeze(1)
        s = z[:, 2 * N_BANDS + N_CURVE :]
        h = torch.cat([self.bands(b).flatten(1), self.curve(c).flatten(1), s], dim=1)
        h = self.head(h)
        return self.mean(h), self.logvar(h)


class Exported(nn.Module):
    """features [N, F] (raw) -> mean [N, P] and logVariance [N, P] in model units, styleLogits [N, S]."""

    def __init__(self, std_in, core, y_centre, y_scale, logvar_shift, style):
        super().__init__()
        self.std_in = std_in
        self.core = core
        self.style = style
        self.register_buffer("y_centre", torch.tensor(y_centre, dtype=torch.float32))
        self.register_buffer("y_scale", torch.tensor(y_scale, dtype=torch.float32))
        self.register_buffer("logvar_shift", torch.tensor(logvar_shift, dtype=torch.float32))

    def forward(self, features):
        z = self.std_in(features)
        m, lv = self.core(z)
        lv = torch.clamp(lv, -12.0, 6.0)
        mean = m * self.y_scale + self.y_centre
        logvar = lv + 2.0 * torch.log(self.y_scale) + self.logvar_shift
        return mean, logvar, self.style(z)


def nll(m, lv, y):
    lv = torch.clamp(lv, -12.0, 6.0)
    return 0.5 * (lv + (y - m) ** 2 * torch.exp(-lv)).mean()


def norm_mae(m, y, y_scale):
    """Mean over parameters of MAE / range, from normalised-unit predictions (range = 4 y_scale)."""
    return ((m - y).abs().mean(0) / 4.0).mean().item()


def as_inputs(x):
    """A model's inputs as a tuple (one tensor, or several for a model with several inputs)."""
    return x if isinstance(x, tuple) else (x,)


def train_nn(model, ztr, ytr, zva, yva, epochs, lr, wd, warmup, log, noise=0.0, batch=128):
    """Trains `model` (inputs `ztr`: a tensor, or a tuple for several inputs) with the Gaussian NLL
    after `warmup` mean-only epochs; keeps the epoch with the best validation normalised MAE."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    g = torch.Generator().manual_seed(SEED)
    ztr, zva = as_inputs(ztr), as_inputs(zva)
    best, best_state = (float("inf"), float("inf")), None
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(ztr[0]), generator=g)
        for i in range(0, len(ztr[0]), batch):
            idx = perm[i : i + batch]
            xs = tuple(t[idx] for t in ztr)
            if noise > 0:
                xs = tuple(x + noise * torch.randn(x.shape, generator=g) for x in xs)
            m, lv = model(*xs)
            # A short mean-only warm-up keeps the variance head from explaining everything away early.
            loss = ((m - ytr[idx]) ** 2).mean() if ep < warmup else nll(m, lv, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            m, lv = model(*zva)
            v = nll(m, lv, yva).item() if ep >= warmup else ((m - yva) ** 2).mean().item()
            # The kept epoch is the one with the best validation normalised MAE (the shipped
            # metric); the variances are recalibrated on validation afterwards anyway.
            score = norm_mae(m, yva, None)
        # Ties (frozen means: the ridge's variance head) go to the lower validation NLL.
        if ep >= warmup and (score < best[0] - 1e-6 or (abs(score - best[0]) <= 1e-6 and v < best[1])):
            best, best_state = (score, v), {k: t.clone() for k, t in model.state_dict().items()}
        if ep % 10 == 0 or ep == epochs - 1:
            log(f"    epoch {ep:3d} val {'nll' if ep >= warmup else 'mse'} {v:.4f}, normalised MAE {score:.4f}")
    model.load_state_dict(best_state)
    model.eval()
    return model


def fit_ridge(ztr, ytr, zva, yva, log):
    """Closed-form ridge per parameter: each output column gets its own alpha, chosen on validation
    (the level is well determined by the loudness features and wants little shrinkage; the EQ moves
    are mostly hidden by the tracks' own balance and want a lot)."""
    xtr = np.hstack([ztr, np.ones((len(ztr), 1), np.float32)]).astype(np.float64)
    xva = np.hstack([zva, np.ones((len(zva), 1), np.float32)]).astype(np.float64)
    alphas = [1, 10, 100, 300, 1000, 3000, 10000, 30000, 100000]
    n_out = ytr.shape[1]
    best_err = np.full(n_out, np.inf)
    best_alpha = np.zeros(n_out)
    w_best = np.zeros((xtr.shape[1], n_out))
    for alpha in alphas:
        reg = alpha * np.eye(xtr.shape[1])
        reg[-1, -1] = 0
        w = np.linalg.solve(xtr.T @ xtr + reg, xtr.T @ ytr)
        err = np.abs(xva @ w - yva).mean(0) / 4.0
        log(f"    ridge alpha {alpha:>6}: val normalised MAE per parameter {np.round(err, 4).tolist()}")
        better = err < best_err
        best_err[better] = err[better]
        best_alpha[better] = alpha
        w_best[:, better] = w[:, better]
    log(f"    chosen alphas {best_alpha.tolist()}: val normalised MAE {best_err.mean():.4f}")
    model = Ridge(ztr.shape[1], ytr.shape[1])
    with torch.no_grad():
        model.mean.weight.copy_(torch.tensor(w_best[:-1].T, dtype=torch.float32))
        model.mean.bias.copy_(torch.tensor(w_best[-1], dtype=torch.float32))
    for p in model.mean.parameters():
        p.requires_grad_(False)
    return model, best_alpha.tolist()


def fit_style(ztr, str_, zva, sva, log):
    best = None
    for wd in [1e-4, 1e-3, 1e-2, 1e-1]:
        torch.manual_seed(SEED)
        clf = nn.Linear(ztr.shape[1], len(STYLES))
        opt = torch.optim.LBFGS(clf.parameters(), max_iter=300, line_search_fn="strong_wolfe")
        xt, yt = torch.tensor(ztr), torch.tensor(str_)

        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(clf(xt), yt) + wd * (clf.weight**2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            acc = (clf(torch.tensor(zva)).argmax(1).numpy() == sva).mean()
        log(f"    style classifier weight decay {wd}: val accuracy {acc:.3f}")
        if best is None or acc > best[0]:
            best = (acc, wd, clf)
    return best[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "data", "dataset.jsonl"))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    seed_all(SEED)
    torch.set_num_threads(2)
    log = lambda s: print(s, flush=True)
    data = load(args.data)
    xtr, ytr, str_ = data["train"]
    xva, yva, sva = data["val"]
    log(f"train {len(xtr)} / val {len(xva)} / test {len(data['test'][0])} examples, {xtr.shape[1]} features, {ytr.shape[1]} parameters")
    f_mean = xtr.mean(0)
    f_std = np.maximum(xtr.std(0), 1e-2)
    std_in = Standardise(f_mean, f_std)
    ztr = np.clip((xtr - f_mean) / f_std, -Z_CLIP, Z_CLIP).astype(np.float32)
    zva = np.clip((xva - f_mean) / f_std, -Z_CLIP, Z_CLIP).astype(np.float32)
    y_centre = np.array([(a + b) / 2 for a, b in RANGES], np.float32)
    y_scale = np.array([(b - a) / 4 for a, b in RANGES], np.float32)
    ntr = (ytr - y_centre) / y_scale
    nva = (yva - y_centre) / y_scale
    Ztr, Zva, Ntr, Nva = map(torch.tensor, (ztr, zva, ntr, nva))

    log("style classifier (multinomial logistic regression)")
    style = fit_style(ztr, str_, zva, sva, log)
    os.makedirs(args.out, exist_ok=True)
    summary = {"seed": SEED, "features": int(xtr.shape[1]), "styles": STYLES, "params": PARAM_IDS, "candidates": {}}

    for name in ("ridge", "mlp", "cnn"):
        seed_all(SEED)
        log(f"{name}")
        if name == "ridge":
            core, alpha = fit_ridge(ztr, ntr, zva, nva, log)
            core = train_nn(core, Ztr, Ntr, Zva, Nva, epochs=40, lr=3e-3, wd=1e-4, warmup=0, log=log)
            extra = {"alpha": alpha}
        elif name == "mlp":
            core = train_nn(MLP(ztr.shape[1], ntr.shape[1], hidden=128), Ztr, Ntr, Zva, Nva, epochs=args.epochs, lr=1e-3, wd=WEIGHT_DECAY, warmup=3, log=log, noise=INPUT_NOISE)
            extra = {"hidden": [128, 128], "dropout": DROPOUT, "inputNoise": INPUT_NOISE, "weightDecay": WEIGHT_DECAY}
        else:
            core = train_nn(CNN(ztr.shape[1], ntr.shape[1]), Ztr, Ntr, Zva, Nva, epochs=args.epochs, lr=1e-3, wd=WEIGHT_DECAY, warmup=3, log=log, noise=INPUT_NOISE)
            extra = {"dropout": DROPOUT, "inputNoise": INPUT_NOISE, "weightDecay": WEIGHT_DECAY}
        with torch.no_grad():
            m, lv = core(Zva)
            lv = torch.clamp(lv, -12.0, 6.0)
            z2 = ((m - Nva) ** 2 * torch.exp(-lv)).mean(0).numpy()
        shift = np.log(np.maximum(z2, 1e-3)).astype(np.float32)
        log(f"    variance recalibration on validation (mean z^2 per parameter): {np.round(z2, 3).tolist()}")
        exported = Exported(std_in, core, y_centre, y_scale, shift, style).eval()
        path = os.path.join(args.out, f"{name}.onnx")
        dummy = torch.tensor(xtr[:2])
        torch.onnx.export(
            exported,
            dummy,
            path,
            input_names=["features"],
            output_names=["mean", "logVariance", "styleLogits"],
            dynamic_axes={"features": {0: "batch"}, "mean": {0: "batch"}, "logVariance": {0: "batch"}, "styleLogits": {0: "batch"}},
            opset_version=17,
            do_constant_folding=True,
        )
        n_params = sum(p.numel() for p in core.parameters())
        summary["candidates"][name] = {"file": f"{name}.onnx", "parameters": int(n_params), "bytes": os.path.getsize(path), "varianceScale": z2.tolist(), **extra}
        log(f"    exported {path} ({os.path.getsize(path)} bytes, {n_params} weights)")
    summary["styleClassifier"] = {"kind": "multinomial logistic regression on the standardised features"}
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("done; now: node models/training/evaluate.mjs")


if __name__ == "__main__":
    sys.exit(main())
