"""Objects and classes: derivatives that were silently wrong (or crashed) in the bug hunt.

Each class of program either gets its derivative (checked against central finite
differences, both modes, second order) or is refused with a DiffcError naming the line.
"""
import functools

import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from gradcheck import check_both_modes

X = np.array([0.3, -0.7, 1.2])


def refused(fn, match, args=(X,)):
    """fn is refused in reverse and in forward mode, with a message matching `match`."""
    with pytest.raises(DiffcError, match=match):
        diffc.grad(fn)(*args)
    with pytest.raises(DiffcError, match=match):
        diffc.jvp(fn, tuple(args), tuple(np.ones_like(a) for a in args))


class Particle:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def drift(self, dt):
        self.pos += dt * self.vel

    def kinetic(self, m):
        return 0.5 * m * np.sum(self.vel ** 2)


# ------------------------------------------------ a method taken as a value (f = obj.method)

def drift_through_value(x):
    pos = np.sin(x)
    p = Particle(pos, x ** 2)
    move = p.drift                 # calling move(...) changes p
    move(0.2)
    return np.sum(p.pos * x)


def energy_value_then_retuned(x):
    p = Particle(np.sin(x), x ** 2)
    energy = p.kinetic             # holds p as it is now
    p.vel = x * 3.0                # Python's energy(...) sees the new vel
    return energy(2.0)


def energy_value_read_only(x):
    p = Particle(np.sin(x), x ** 2)
    energy = p.kinetic
    return energy(2.0) + np.sum(p.pos)


def drift_called_directly(x):
    p = Particle(np.sin(x), x ** 2)
    for _ in range(3):
        p.drift(0.1)
    return np.sum(p.pos ** 2)


def test_writing_method_taken_as_value_is_refused():
    refused(drift_through_value, r"takes p\.drift as a value")


def test_method_value_then_object_written_is_refused():
    refused(energy_value_then_retuned, r"p is an object whose attributes this function writes")


@pytest.mark.parametrize("fn", [energy_value_read_only, drift_called_directly], ids=lambda f: f.__name__)
def test_methods_as_values_and_calls_still_work(fn):
    check_both_modes(fn, [X])


# ------------------------------------------------ functools.cached_property

class Disk:
    def __init__(self, r):
        self.r = r

    @functools.cached_property
    def area(self):
        return np.pi * self.r ** 2


class Ring:
    def __init__(self, r):
        self.r = r

    @property
    def area(self):
        return np.pi * self.r ** 2


def cached_area_then_resized(x):
    d = Disk(x[0])
    before = d.area
    d.r = x[1]
    return d.area + before * x[2]     # Python: the first area, twice


def property_area_then_resized(x):
    d = Ring(x[0])
    before = d.area
    d.r = x[1]
    return d.area + before * x[2]


def cached_area_read(x):
    d = Disk(x[0] * x[1])
    return d.area * x[2] + d.area


def test_cached_property_with_later_writes_is_refused():
    refused(cached_area_then_resized, r"caches area")


@pytest.mark.parametrize("fn", [property_area_then_resized, cached_area_read], ids=lambda f: f.__name__)
def test_properties_still_work(fn):
    check_both_modes(fn, [X])


# ------------------------------------------------ objects built from arrays a list also holds

def swarm_step_reads_arrays(x):
    positions = [np.sin(x), np.cos(x)]
    swarm = [Particle(p, x) for p in positions]
    for particle in swarm:
        particle.drift(0.1)           # += into the arrays positions holds
    return np.sum(positions[0] * positions[1])


def swarm_step_reads_particles(x):
    positions = [np.sin(x), np.cos(x)]
    swarm = [Particle(p, x) for p in positions]
    for particle in swarm:
        particle.drift(0.1)
    return np.sum(swarm[0].pos * swarm[1].pos)


def test_list_seeing_in_place_steps_is_refused():
    refused(swarm_step_reads_arrays, r"another name also holds")


def test_swarm_read_through_its_particles_works():
    check_both_modes(swarm_step_reads_particles, [X])


# ------------------------------------------------ a constructor writing its argument in place

class UnitVector:
    def __init__(self, v):
        v /= np.sqrt(np.sum(v ** 2))
        self.v = v


class UnitVectorCopy:
    def __init__(self, v):
        v = v / np.sqrt(np.sum(v ** 2))
        self.v = v


def normalize_in_constructor(x):
    d = x * 2.0
    u = UnitVector(d)                 # d is divided in place
    return np.sum(d * x) + np.sum(u.v)


def normalize_copy_in_constructor(x):
    d = x * 2.0
    u = UnitVectorCopy(d)
    return np.sum(d * x) + np.sum(u.v * x)


def normalize_fresh_value(x):
    u = UnitVector(x * 2.0)
    return np.sum(u.v * x)


def test_constructor_writing_its_argument_is_refused():
    refused(normalize_in_constructor, r"UnitVector.__init__ modifies its argument 'v' in place")


@pytest.mark.parametrize("fn", [normalize_copy_in_constructor, normalize_fresh_value], ids=lambda f: f.__name__)
def test_constructors_not_writing_shared_arguments_work(fn):
    check_both_modes(fn, [X])


# ------------------------------------------------ a method handing back what the object holds

class Layer:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def bias(self):
        return self.b

    def row(self, i):
        return self.W[i]

    def forward(self, z):
        return np.tanh(self.W @ z + self.b)


def scale_bias_from_getter(x):
    layer = Layer(np.outer(x, x), x * 1.0)
    b = layer.bias()
    b *= 2.0                          # layer.b doubles too
    return np.sum(layer.forward(x))


def nudge_row_view(x):
    layer = Layer(np.outer(x, x) + np.eye(3), x * 1.0)
    r = layer.row(0)
    r += x                            # a view: layer.W[0] changes
    return np.sum(layer.forward(x))


def getter_copied_then_scaled(x):
    layer = Layer(np.outer(x, x), x * 1.0)
    b = layer.bias().copy()
    b *= 2.0
    return np.sum(layer.forward(x)) + np.sum(b * x)


def getter_read(x):
    layer = Layer(np.outer(x, x), x * 1.0)
    b = layer.bias()
    return np.sum(layer.forward(x)) + np.sum(b * x)


@pytest.mark.parametrize("fn", [scale_bias_from_getter, nudge_row_view], ids=lambda f: f.__name__)
def test_writing_what_a_method_handed_back_is_refused(fn):
    refused(fn, r"another name also holds")


@pytest.mark.parametrize("fn", [getter_copied_then_scaled, getter_read], ids=lambda f: f.__name__)
def test_getters_read_or_copied_work(fn):
    check_both_modes(fn, [X])


# ------------------------------------------------ two attributes holding one array

class Pair:
    def __init__(self, v):
        self.current = v
        self.initial = v              # the same array

    def shift(self):
        self.current += 1.0


class PairCopy:
    def __init__(self, v):
        self.current = v
        self.initial = v.copy()

    def shift(self):
        self.current += 1.0


def shift_shared_pair(x):
    p = Pair(x * 1.0)
    p.shift()
    return np.sum(p.initial * x)


def shift_copied_pair(x):
    p = PairCopy(x * 1.0)
    p.shift()
    return np.sum(p.initial * x) + np.sum(p.current ** 2)


def test_in_place_update_of_an_attribute_another_attribute_holds_is_refused():
    refused(shift_shared_pair, r"Pair\.current in place, and the attribute 'initial'")


def test_in_place_update_of_unshared_attribute_works():
    check_both_modes(shift_copied_pair, [X])


# ------------------------------------------------ a bound method held by an object or a partial

class Spring:
    def __init__(self, k):
        self.k = k

    def force(self, y):
        return -self.k * y


class Integrator:
    def __init__(self, spring, dt):
        self.spring = spring
        self.dt = dt
        self.rhs = spring.force           # a bound method kept as an attribute

    def run(self, y, steps):
        for _ in range(steps):
            y = y + self.dt * self.rhs(y)
        return y


def euler_with_stored_rhs(x):
    sim = Integrator(Spring(x[0] ** 2 + 1.0), 0.1)
    return np.sum(sim.run(x, 3) ** 2)


def apply_field(f, y):
    return f(y)


def force_through_partial(x):
    s = Spring(x[0] ** 2)
    g = functools.partial(apply_field, s.force)
    return np.sum(g(x) * x)


def stored_rhs_called_directly(x):
    sim = Integrator(Spring(x[1] * 2.0), 0.1)
    return np.sum(sim.rhs(x) * x)


@pytest.mark.parametrize("fn", [euler_with_stored_rhs, force_through_partial, stored_rhs_called_directly],
                         ids=lambda f: f.__name__)
def test_bound_method_held_carries_its_objects_derivative(fn):
    check_both_modes(fn, [X])


# ------------------------------------------------ defaults taken from local values (w=w)

def tanh_stack_with_default(x):
    w = x[0] * 2.0
    layer = lambda h, w=w: np.tanh(w * h)      # noqa: E731  (w as it is now)
    w = x[1]                                   # does not change the layer
    return layer(x[2]) + w


def tanh_stack_in_comprehension(x):
    layers = [lambda h, w=w: np.tanh(w * h) for w in (x[0], x[1])]
    h = x[2]
    for layer in layers:
        h = layer(h)
    return h


def nested_def_with_default(x):
    scale = x[1] ** 2

    def damped(v, s=scale, c=0.5):
        return np.sum(np.exp(-s * v ** 2)) * c
    return damped(x) + damped(x, c=2.0)


class Stack:
    def __init__(self, ws):
        self.ws = ws

    def layers(self):
        for w in self.ws:
            yield lambda h, w=w: np.tanh(w * h)


def stack_generator_method(x):
    stack = Stack([x[0], x[1]])
    h = x[2]
    for layer in stack.layers():
        h = layer(h)
    return h


def make_layer(w):
    return lambda h, w=w: np.tanh(w * h)


def layer_from_factory(x):
    return make_layer(x[0])(x[2])


def mapped_with_default(x):
    c = x[0] * 2.0
    return sum(map(lambda v, c=c: np.sin(c * v), [x[1], x[2]]))


def basis_built_in_loop(x):
    basis = []
    for i in range(3):
        basis.append(lambda t, i=i: np.cos(t * x[i]))
    return sum(b(x[0]) for b in basis)


@pytest.mark.parametrize("fn", [tanh_stack_with_default, tanh_stack_in_comprehension, nested_def_with_default,
                                mapped_with_default, basis_built_in_loop], ids=lambda f: f.__name__)
def test_defaults_from_local_values_are_taken_where_defined(fn):
    check_both_modes(fn, [X])


@pytest.mark.parametrize("fn, match", [
    (stack_generator_method, r"cannot follow \(a closure, defaults|takes a default from a local value \(w\)"),
    (layer_from_factory, r"takes a default from a local value \(w\) and leaves the function"),
], ids=["generator_method", "factory"])
def test_functions_with_local_defaults_handed_out_are_refused(fn, match):
    refused(fn, match)


# ------------------------------------------------ operators and indexing defined by the class

class Field:
    def __init__(self, values):
        self.values = values

    def __add__(self, other):
        return Field(self.values + other.values)

    def __mul__(self, k):
        return Field(self.values * k)

    def __rmul__(self, k):
        return Field(k * self.values)

    def __neg__(self):
        return Field(-self.values)

    def __iadd__(self, other):
        self.values = self.values + other.values
        return self

    def __getitem__(self, i):
        return self.values[i]

    def energy(self):
        return 0.5 * np.sum(self.values ** 2)


class Params:
    def __init__(self, table):
        self.table = table

    def __getitem__(self, key):
        return self.table[key]


def field_arithmetic(x):
    u = Field(np.sin(x))
    v = 2.0 * u + (-u) * x[0]
    return v.energy() + v[1] * u[2]


def field_relaxation(x):
    u = Field(np.cos(x))
    for _ in range(3):
        u = u + u * (-0.3)
    return u.energy()


def field_accumulate(x):
    total = Field(x * 1.0)
    total += Field(x ** 2)
    total += Field(np.sin(x))
    return np.sum(total.values * x)


def field_accumulate_aliased(x):
    total = Field(x * 1.0)
    start = total
    total += Field(x ** 2)            # Python changes start too
    return np.sum(start.values * x)


def params_by_name(x):
    p = Params({"w": x[0], "v": x[1:]})
    return p["w"] * np.sum(p["v"] ** 2)


@pytest.mark.parametrize("fn", [field_arithmetic, field_relaxation, field_accumulate, params_by_name],
                         ids=lambda f: f.__name__)
def test_operators_of_user_classes_call_their_methods(fn):
    check_both_modes(fn, [X])


def test_in_place_operator_on_a_shared_object_is_refused():
    refused(field_accumulate_aliased, r"total is an object whose attributes this function writes")


# ------------------------------------------------ zero-argument super()

class Potential:
    def __init__(self, k):
        self.k = k

    def energy(self, y):
        return 0.5 * self.k * np.sum(y ** 2)


class Anharmonic(Potential):
    def __init__(self, k, c):
        super().__init__(k)
        self.c = c

    def energy(self, y):
        return super().energy(y) + self.c * np.sum(y ** 4)


class Damped(Anharmonic):
    def energy(self, y):
        return 0.9 * super().energy(y)


def anharmonic_energy(x):
    return Anharmonic(x[0] ** 2, x[1]).energy(x)


def damped_energy_named(x):
    pot = Damped(x[0] ** 2, x[1])
    return pot.energy(x * x[2])


@pytest.mark.parametrize("fn", [anharmonic_energy, damped_energy_named], ids=lambda f: f.__name__)
def test_zero_argument_super_in_methods(fn):
    check_both_modes(fn, [X])


def test_gradient_of_a_method_using_super():
    pot = Damped(1.5, 0.2)
    check_both_modes(pot.energy, [X])


# ------------------------------------------------ item assignment defined by the class

class Weights:
    def __init__(self, w, b):
        self.w = w
        self.b = b

    def __getitem__(self, name):
        return self.w if name == "w" else self.b

    def __setitem__(self, name, value):
        if name == "w":
            self.w = value
        else:
            self.b = value


class Grid:
    def __init__(self, n, scale):
        self.buf = np.zeros(n)
        self.scale = scale

    def __setitem__(self, i, v):
        self.buf[i] = self.scale * v      # Python runs this for g[i] = v


def retuned_weights(x):
    p = Weights(x[0], x[1:])
    p["w"] = p["w"] ** 2
    p["b"] += x[0]
    return p["w"] * np.sum(p["b"] ** 2)


def grid_filled_by_items(x):
    g = Grid(3, x[0])
    g[0] = x[1]
    g[1] = x[2] ** 2
    return np.sum(g.buf * x)


def test_item_assignment_calls_setitem():
    check_both_modes(retuned_weights, [X])


def test_setitem_writing_an_array_attribute_is_followed():
    """Refused until session 12 (attribute_writes now rewrites methods whose only changes
    are items of attributes, `self.buf[i] = v`)."""
    check_both_modes(grid_filled_by_items, [X])
