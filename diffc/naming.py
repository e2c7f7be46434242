"""Fresh names for generated code that never clash with user names.

`Namer` is seeded with every identifier of the user's function (and the names
the generated module binds); it hands out ``_t1, _t2, ...`` temporaries,
``x_bar`` adjoints and ``x_dot`` tangents, adding a numeric suffix whenever the
plain form is already taken.
"""

import gast

from .ast_util import walk


def identifiers(node):
    names = set()
    for n in walk(node):
        if isinstance(n, gast.Name):
            names.add(n.id)
        elif isinstance(n, (gast.FunctionDef, gast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, gast.Attribute):
            names.add(n.attr)
    return names


class Namer:
    def __init__(self, taken=()):
        self.taken = set(taken)
        self.counter = 0
        self.derived = {}
        self.made = {}          # a name fresh() made -> how a message to the user names it (or None)

    def reserve(self, name):
        self.taken.add(name)

    def fresh(self, base="_t", shown=None):
        """A new temporary: _t1, _t2, ... (or base1, base2 for other bases); `shown`: the words
        naming it in a message to the user (the code it stands for), see `describe`."""
        while True:
            self.counter += 1
            name = f"{base}{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                self.made[name] = shown
                return name

    def describe(self, name):
        """How a message to the user names the variable `name`: the user's own name as it is;
        a temporary diffc made, by the code it stands for (never its internal name)."""
        if name not in self.made:
            return name
        return self.made[name] or "a value this line computes"

    def describe_attribute(self, name, attr):
        """name.attr as a message to the user names it (see `describe`)."""
        shown = self.describe(name)
        return f"{name}.{attr}" if shown == name else f"the attribute {attr!r} of {shown}"

    def unique(self, name):
        """`name` itself if free, else name_2, name_3, ..."""
        candidate, k = name, 1
        while candidate in self.taken:
            k += 1
            candidate = f"{name}_{k}"
        self.taken.add(candidate)
        return candidate

    def derive(self, name, suffix):
        """The stable derived name of `name` (e.g. x -> x_bar), unique per (name, suffix)."""
        key = (name, suffix)
        if key not in self.derived:
            self.derived[key] = self.unique(f"{name}_{suffix}")
        return self.derived[key]

    def bar(self, name):
        return self.derive(name, "bar")

    def dot(self, name):
        return self.derive(name, "dot")
