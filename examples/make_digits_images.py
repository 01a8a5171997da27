"""Write scikit-learn's bundled digits (1,797 images of 8×8 pixels) as PNG files.

    python3 examples/make_digits_images.py examples/digits        # all 1,797
    python3 examples/make_digits_images.py examples/digits -n 300 # the first 300

Each image is scaled up to 64×64 pixels (dark digit on white) and named
``digit-NNNN.png``; the true digit is *not* in the name, so the folder can be
labelled from scratch with ``activelab init PROJECT --data examples/digits
--labels 0,1,2,3,4,5,6,7,8,9``. Needs Pillow (in the ``[app]`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the PNG files into")
    parser.add_argument("-n", type=int, default=None, help="only the first N images")
    parser.add_argument("--scale", type=int, default=8, help="pixel scale factor (default 8)")
    args = parser.parse_args()
    images = load_digits().images
    if args.n is not None:
        images = images[: args.n]
    args.out.mkdir(parents=True, exist_ok=True)
    grey = (255 - images / 16.0 * 255).round().astype(np.uint8)  # ink is dark
    for i, img in enumerate(grey):
        pic = Image.fromarray(img, mode="L").resize((8 * args.scale, 8 * args.scale), Image.NEAREST)
        pic.save(args.out / f"digit-{i:04d}.png")
    print(f"Wrote {len(grey)} PNG images to {args.out}")


if __name__ == "__main__":
    main()
