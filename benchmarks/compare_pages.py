"""Compare two PDFs page by page as pictures: how much of each page differs.

    python benchmarks/compare_pages.py A.pdf B.pdf [--dpi 50] [--blur 1.5] [--threshold 48]
        [--save DIR]

Each page is drawn by poppler's ``pdftoppm`` at the same resolution, in grey, blurred a
little (so a glyph drawn a fraction of a pixel aside by another rasteriser or font hinting
does not count) and compared pixel by pixel.  Printed per page: the share of pixels whose
grey level differs by more than ``threshold`` (of 255) and the mean absolute difference.
A page count that differs is reported and the common pages compared.  ``--save`` keeps
each pair side by side (A left, B right) as PNG, to look at.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter


def page_images(pdf: Path, dpi: int, folder: Path) -> list[Image.Image]:
    """Every page of ``pdf`` in grey at ``dpi``, drawn by pdftoppm."""
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(prefix)],
                   check=True)
    return [Image.open(p).convert("L") for p in sorted(folder.glob(f"{pdf.stem}-*.png"))]


def difference(a: Image.Image, b: Image.Image, blur: float, threshold: int) -> tuple[float, float]:
    """(share of pixels differing by more than ``threshold``, mean absolute difference / 255)
    of two pages after a Gaussian blur; a page of another size is scaled to ``a``'s."""
    if b.size != a.size:
        b = b.resize(a.size)
    x = np.asarray(a.filter(ImageFilter.GaussianBlur(blur)), dtype=np.int16)
    y = np.asarray(b.filter(ImageFilter.GaussianBlur(blur)), dtype=np.int16)
    delta = np.abs(x - y)
    return float((delta > threshold).mean()), float(delta.mean() / 255)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--dpi", type=int, default=50)
    parser.add_argument("--blur", type=float, default=1.5, help="Gaussian blur radius, pixels")
    parser.add_argument("--threshold", type=int, default=48, help="grey levels (of 255)")
    parser.add_argument("--save", type=Path, help="write the pairs side by side here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folders = Path(scratch) / "a", Path(scratch) / "b"
        for folder in folders:
            folder.mkdir()
        first = page_images(args.first, args.dpi, folders[0])
        second = page_images(args.second, args.dpi, folders[1])
        if len(first) != len(second):
            print(f"page counts differ: {len(first)} against {len(second)}")
        print("page  differing pixels  mean abs. difference")
        shares = []
        for number, (a, b) in enumerate(zip(first, second, strict=False), start=1):
            share, mean = difference(a, b, args.blur, args.threshold)
            shares.append(share)
            print(f"{number:4d}  {share:15.2%}  {mean:20.2%}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                pair = Image.new("L", (a.width + b.width + 8, max(a.height, b.height)), 0)
                pair.paste(a, (0, 0))
                pair.paste(b, (a.width + 8, 0))
                pair.save(args.save / f"page-{number:02d}.png")
        if shares:
            print(f"all   {float(np.median(shares)):15.2%}  (median)   "
                  f"worst page {int(np.argmax(shares)) + 1}: {max(shares):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
