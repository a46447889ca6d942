"""Time ``LiveObjective`` (what every live trial runs) per epoch and per genotype on one device.

    python bench/darts_live_gpu_timing.py ARCHS_JSON DATA_DIR [OUT_JSON]

ARCHS_JSON maps arch ids to genotype strings (e.g. the picks of the toy runs in docs/darts.md,
written from a pool with ``DartsPool.from_cache(CACHE).arch(i)``); DATA_DIR holds
``images/cifar10.npz``. Needs no Ray (the device machine had none). Two settings: RoBoT's DARTS
training network (C=16, 5 cells, batch 96) on the npz subset, and the CPU toy runs' (C=8, 5 cells,
1,000 images, 2 epochs). ``DEV=cpu`` runs it on the CPU. Results: docs/results/darts_live_baselines/.
"""

import json
import os
import sys
import time

import torch

from robot_ray.train import LiveObjective

SETTINGS = {
    "robot_c16_l5": dict(epochs=4, batch_size=96, size={"channels": 16, "layers": 5}),
    "toy_c8_l5": dict(epochs=2, batch_size=64, train_subset=1000, size={"channels": 8, "layers": 5}),
}


def main(archs_json: str, data_dir: str, out_json: str = "gpu_live_timing.json") -> None:
    archs = json.load(open(archs_json))
    ids, strings = list(archs), list(archs.values())
    device = os.environ.get("DEV", "cuda")
    out = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
           "runs": []}
    for name, settings in SETTINGS.items():
        obj = LiveObjective("darts", strings, "cifar10", data_dir=data_dir, device=device, **settings)
        for arch_id, arch in zip(ids, strings):
            t0 = time.perf_counter()
            r = obj.train(arch)
            if device == "cuda":
                torch.cuda.synchronize()
            row = {"setting": name, "arch_id": arch_id, "wall_s": time.perf_counter() - t0, "val_acc": r["val_acc"],
                   "test_acc": r["test_acc"], "epoch_s": [h["seconds"] for h in r["history"]],
                   "eval_s": r["eval_seconds"], "train_images": len(obj._load()[0].x)}
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
    json.dump(out, open(out_json, "w"), indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
