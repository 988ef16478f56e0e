#!/usr/bin/env python3
"""How much the corpus's own tonal balance varies, against the size of the degradations the
assistant learns to undo (models/training/README.md, "What the data allows").

Reads the dataset from `npm run dataset` and prints, per third-octave band (31.5 Hz - 16 kHz), the
standard deviation of the clean excerpts' relative levels between tracks and within tracks, and the
standard deviation of the EQ degradations.
Usage: /usr/bin/python3 models/training/spread.py [DATASET.jsonl]
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BANDS = [31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data", "dataset.jsonl")
    rows = [json.loads(line) for line in open(path) if line.strip()]
    excerpts = {}
    for r in rows:
        key = (r["track"], r["excerpt"])
        if key in excerpts:
            continue
        b = np.array([x if x is not None else -120.0 for x in r["cleanBandsDb"]])[2:30]
        excerpts[key] = b - b.mean()
    tracks = {}
    for (track, _), b in excerpts.items():
        tracks.setdefault(track, []).append(b)
    between = np.array([np.mean(v, 0) for v in tracks.values()]).std(0)
    within = np.array([np.std(v, 0) for v in tracks.values()]).mean(0)
    eq = np.array([r["degradation"]["eqGainsDb"] for r in rows])
    print(f"{len(tracks)} tracks, {len(excerpts)} clean excerpts")
    print("band (Hz)   between tracks (dB)   within a track (dB)")
    for hz, b, w in zip(BANDS, between, within):
        print(f"{hz:>9}   {b:8.1f}              {w:8.1f}")
    print(f"EQ degradations: standard deviation per move {np.round(eq.std(0), 2).tolist()} dB")


if __name__ == "__main__":
    main()
