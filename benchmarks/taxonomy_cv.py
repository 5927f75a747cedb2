"""Repeated k-fold cross-validation of a classifier trained on a labels file, with and without
the shipped default stacked as a prior.

One split is a noisy figure when the rarest labels have ten positives, so this repeats the
5-fold CV of ``taxonomy eval`` under several seeds and prints each label's mean F1 and the
macro-F1's mean, spread and range. Every fold's model (thresholds included) is fitted on that
fold's training part only, its thresholds on the out-of-fold answers of that part's labelled
incidents (not the shipped examples); the default never saw the labels.

Usage::

    python benchmarks/taxonomy_cv.py --db sqlite:////tmp/cvb.sqlite \\
        --labels ../shared/labels/dev.jsonl [--seeds 5] [--folds 5] [--no-baseline] \\
        [--calibration-folds 5] [--embedding]

``--calibration-folds`` sets the trained models' inner folds (Platt scaling and thresholds;
the shipped default's 3 before, 5 now); ``--embedding`` adds word vectors fitted without labels
on every incident text of the store and the shipped examples (fitted once, test folds' texts
included: no label is read). Prints CPU seconds and the load average beside the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np

from incidentdb import SILENT, Store
from taxonomy._evaluate import (
    CALIBRATION_FOLDS,
    _cross_validated,
    _rows,
    labelled_texts,
    scores,
    store_embedding,
)
from taxonomy._rules import MODES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="a store holding the labelled incidents")
    parser.add_argument("--labels", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true", help="only the stacked model")
    parser.add_argument("--calibration-folds", type=int, default=CALIBRATION_FOLDS)
    parser.add_argument("--embedding", action="store_true", help="add store word vectors")
    args = parser.parse_args()
    # liblinear warns on slow convergence for some folds; the figures are what matter here.
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", module="sklearn")
    store = Store(args.db)
    texts, Y = labelled_texts(store, _rows(args.labels))
    embedding = store_embedding(store) if args.embedding else None
    print(f"load average {os.getloadavg()[0]:.1f}; calibration folds {args.calibration_folds}")
    print(
        f"{len(texts)} incidents; positives {dict(zip(MODES, Y.sum(axis=0).tolist(), strict=True))}"
    )
    variants = [True] if args.no_baseline else [False, True]
    for with_prior in variants:
        macro, per_label, started = [], [], time.process_time()
        for seed in range(args.seeds):
            P = _cross_validated(
                texts,
                Y,
                args.folds,
                seed,
                True,
                SILENT,
                with_prior,
                embedding=embedding,
                calibration_folds=args.calibration_folds,
            )
            s = scores(Y, P)
            macro.append(s["macro_f1"])
            per_label.append([s["labels"][m]["f1"] for m in MODES])
            print(f"  prior={with_prior} seed {seed}: macro-F1 {s['macro_f1']:.4f}", flush=True)
        means = np.mean(per_label, axis=0)
        spread = statistics.pstdev(macro) if len(macro) > 1 else 0.0
        print(
            f"prior={with_prior}: macro-F1 mean {statistics.mean(macro):.4f} sd {spread:.4f} "
            f"range [{min(macro):.4f}, {max(macro):.4f}] over {args.seeds} seeds; "
            + ", ".join(f"{m} {v:.3f}" for m, v in zip(MODES, means, strict=True))
            + f"; {time.process_time() - started:.0f} CPU-s, load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
