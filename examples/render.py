"""Differentiable rendering: recover a scene of soft coloured circles from its image.

The rasterizer composites circles back to front over a grey background; each
circle's coverage of a pixel is a sigmoid of the signed distance to its edge,
so the image is a smooth function of every centre, radius and colour.  Starting
from a wrong scene, gradient descent on the pixel error (gradient from diffc,
through the per-circle Python loop and the NumPy image arithmetic) moves the
circles into place.  Saves the target, the start and the result side by side.

Run:  python examples/render.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/render.png.
"""
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"
SIZE = 32
SOFTNESS = 0.02
BACKGROUND = 0.5
PER_CIRCLE = 6            # cx, cy, radius, r, g, b


def pixel_grid(size):
    centres = (np.arange(size) + 0.5) / size
    px, py = np.meshgrid(centres, centres)
    return px.ravel(), py.ravel()


def render(scene, px, py):
    """Image (pixels x 3) of the circles in scene (a flat array, PER_CIRCLE numbers each)."""
    image = np.full((px.shape[0], 3), BACKGROUND)
    for k in range(scene.shape[0] // PER_CIRCLE):
        base = k * PER_CIRCLE
        dx = px - scene[base]
        dy = py - scene[base + 1]
        distance = np.sqrt(dx * dx + dy * dy + 1e-8)
        coverage = 1.0 / (1.0 + np.exp((distance - scene[base + 2]) / SOFTNESS))
        colour = scene[base + 3:base + 6]
        alpha = coverage[:, None]
        image = image * (1.0 - alpha) + alpha * colour
    return image


def loss(scene, target, px, py):
    difference = render(scene, px, py) - target
    return np.mean(difference * difference)


def main():
    px, py = pixel_grid(SIZE)
    truth = np.array([0.30, 0.35, 0.18, 0.9, 0.2, 0.1,
                      0.65, 0.60, 0.22, 0.1, 0.4, 0.9,
                      0.50, 0.75, 0.12, 0.2, 0.8, 0.2])
    target = render(truth, px, py)
    scene = np.array([0.40, 0.25, 0.12, 0.6, 0.6, 0.6,
                      0.55, 0.50, 0.15, 0.6, 0.6, 0.6,
                      0.42, 0.80, 0.10, 0.6, 0.6, 0.6])
    start = scene.copy()
    value_and_grad = diffc.value_and_grad(loss)
    m, s = np.zeros_like(scene), np.zeros_like(scene)
    rate, iterations = 0.01, (60 if QUICK else 500)
    for it in range(1, iterations + 1):
        value, g = value_and_grad(scene, target, px, py)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        scene -= rate * (m / (1 - 0.9 ** it)) / (np.sqrt(s / (1 - 0.999 ** it)) + 1e-8)
        if it % (10 if QUICK else 50) == 0 or it == 1:
            print(f"iteration {it:4d}  pixel error {value:.5f}", flush=True)
    print("recovered circles (cx, cy, radius, r, g, b):")
    for k in range(3):
        print("   ", np.round(scene[k * PER_CIRCLE:(k + 1) * PER_CIRCLE], 3))
    plot(target, render(start, px, py), render(scene, px, py))
    return value, scene


def plot(target, before, after):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    for ax, image, title in zip(axes, (target, before, after), ("target", "initial scene", "recovered")):
        ax.imshow(np.clip(image.reshape(SIZE, SIZE, 3), 0.0, 1.0), origin="lower")
        ax.set_title(title), ax.axis("off")
    fig.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "render.png")
    fig.savefig(path, dpi=90)
    print("saved", path)


if __name__ == "__main__":
    main()
