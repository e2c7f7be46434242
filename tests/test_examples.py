"""Every example runs (at reduced size with DIFFC_EXAMPLE_QUICK=1), makes progress and saves its plot."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
NAMES = ["quickstart", "ode_fit", "projectile", "robot_arm", "mlp", "render", "hmc"]
PLOTS = {"ode_fit", "projectile", "robot_arm", "mlp", "render", "hmc"}


def run_example(name, quick, tmp_path):
    """Run examples/<name>.py in a subprocess (a copy in tmp_path, so plots land there)."""
    source = os.path.join(EXAMPLES, f"{name}.py")
    if not os.path.exists(source):
        pytest.skip(f"examples/{name}.py does not exist")
    script = tmp_path / f"{name}.py"
    script.write_text(open(source).read())
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT)
    if quick:
        env["DIFFC_EXAMPLE_QUICK"] = "1"
    else:
        env.pop("DIFFC_EXAMPLE_QUICK", None)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    if name in PLOTS:
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    return done.stdout


@pytest.mark.parametrize("name", NAMES)
def test_example_quick(name, tmp_path):
    out = run_example(name, True, tmp_path)
    assert out.strip()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_full(name, tmp_path):
    out = run_example(name, False, tmp_path)
    assert out.strip()


def _import(name):
    sys.path.insert(0, EXAMPLES)
    try:
        return __import__(name)
    finally:
        sys.path.remove(EXAMPLES)


def test_example_gradients_match_finite_differences():
    """The gradients the examples train with agree with central differences."""
    import numpy as np
    import diffc
    ode, projectile, arm = _import("ode_fit"), _import("projectile"), _import("robot_arm")
    mlp, render = _import("mlp"), _import("render")
    observed = np.linspace(1.0, -0.5, ode.STEPS // ode.OBSERVE_EVERY)
    assert diffc.check_grad(ode.loss, 3.0, 0.7, 0.8, observed, wrt=(0, 1, 2)) < 1e-6
    assert diffc.check_grad(projectile.loss, 12.0, 9.0, wrt=(0, 1)) < 1e-4
    torques = np.random.default_rng(1).normal(size=(arm.STEPS, 3)) * 0.5
    assert diffc.check_grad(arm.loss, torques) < 1e-6
    rng = np.random.default_rng(2)
    x, y = mlp.spirals(5, rng)
    params = mlp.init(rng, (2, 4, 3, 1))
    for k in range(6):
        assert diffc.check_grad(mlp.loss, *params, x, y, wrt=k) < 1e-6
    px, py = render.pixel_grid(6)
    target = rng.uniform(size=(36, 3))
    scene = rng.uniform(0.2, 0.8, size=12)
    assert diffc.check_grad(render.loss, scene, target, px, py) < 1e-6
    hmc = _import("hmc")
    xs = np.concatenate([rng.standard_normal((20, 2)), np.ones((20, 1))], axis=1)
    ys = (rng.uniform(size=20) < 0.5).astype(float)
    assert diffc.check_grad(hmc.potential, np.array([0.3, -0.2, 0.1]), xs, ys) < 1e-6
