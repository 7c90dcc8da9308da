"""The names a policy can see: a short list of builtins and allow-listed views of numpy, shapely and math.

numpy and shapely hand out `os`, `ctypes` and file I/O through attributes, so their proxies name what a
policy may use (public numerical API) instead of naming what it may not.
"""

from __future__ import annotations

import builtins
import importlib
import math
import types
from typing import Any

_NUMPY = """
abs absolute add all allclose amax amin angle any append arange arccos arccosh arcsin arcsinh arctan arctan2
arctanh argmax argmin argsort around array array_equal asarray atleast_1d atleast_2d average bool_ broadcast_to
ceil clip column_stack concatenate copy cos cosh count_nonzero cross cumprod cumsum deg2rad degrees delete diag
diff digitize divide dot dstack e empty empty_like equal exp expand_dims eye flatnonzero flip fliplr flipud float32
float64 floor fmod full full_like greater greater_equal hstack hypot identity inf int32 int64 interp intersect1d
isclose isfinite isin isnan linspace log log10 log2 logical_and logical_not logical_or logical_xor matmul max
maximum mean median meshgrid min minimum mod multiply nan nanmax nanmean nanmin newaxis nonzero norm not_equal
ones ones_like outer pi polyfit polyval power prod rad2deg radians ravel repeat reshape roll rot90 round sign sin
sinh sort split sqrt square squeeze stack std subtract sum swapaxes take tan tanh tile trace transpose tril triu
unique unravel_index var vstack where zeros zeros_like uint8 int8 int16 uint16 float16 ndim shape size
"""
_NUMPY_LINALG = "det eig eigh inv lstsq matrix_rank norm pinv qr solve svd"
_NUMPY_RANDOM = "choice default_rng normal permutation rand randint randn random seed shuffle uniform"
_SHAPELY_GEOMETRY = (
    "GeometryCollection LineString LinearRing MultiLineString MultiPoint MultiPolygon Point Polygon box"
)
_SHAPELY_AFFINITY = "affine_transform rotate scale skew translate"
_SHAPELY_OPS = "nearest_points split substring unary_union"
_SHAPELY = (
    _SHAPELY_GEOMETRY + " area buffer centroid contains distance intersection intersects length union within"
)

ALLOW: dict[str, frozenset[str]] = {
    "numpy": frozenset(_NUMPY.split()) | {"linalg", "random"},
    "numpy.linalg": frozenset(_NUMPY_LINALG.split()),
    "numpy.random": frozenset(_NUMPY_RANDOM.split()),
    "shapely": frozenset(_SHAPELY.split()) | {"geometry", "affinity", "ops"},
    "shapely.geometry": frozenset(_SHAPELY_GEOMETRY.split()),
    "shapely.affinity": frozenset(_SHAPELY_AFFINITY.split()),
    "shapely.ops": frozenset(_SHAPELY_OPS.split()),
    "math": frozenset(n for n in dir(math) if not n.startswith("_")),
}
ALLOW["numpy"] = ALLOW["numpy"] - {"norm"}

SAFE_BUILTINS = """
abs all any ascii bin bool bytes callable chr dict divmod enumerate filter float format frozenset hasattr hash hex
int isinstance issubclass iter len list map max min next oct ord pow print range repr reversed round set slice
sorted str sum tuple zip ArithmeticError AssertionError AttributeError Exception IndexError KeyError LookupError
NameError NotImplementedError OverflowError RuntimeError StopIteration TypeError ValueError ZeroDivisionError
True False None
""".split()


def _make_proxy(name: str, module: Any) -> types.ModuleType:
    """A stand-in module holding only the allow-listed attributes of the real one, submodules wrapped in turn.

    A plain module object (not a subclass, no filtering `__getattr__` on the hot path), so a policy's
    `math.sqrt` in a loop is as fast as with the real module: CPython specializes attribute loads only on
    exact module objects. A missing name is reported by a PEP 562 module `__getattr__`, which runs only when
    the name is absent. Policies may assign attributes on it; that changes only their own copy, in their own
    short-lived process.
    """
    stand_in = types.ModuleType(name, f"sandboxed view of {name}")
    for attr in ALLOW.get(name, frozenset()):
        sub = f"{name}.{attr}"
        if sub in ALLOW:
            setattr(stand_in, attr, proxy(sub))
        elif hasattr(module, attr):
            setattr(stand_in, attr, getattr(module, attr))

    def missing(attr: str) -> Any:
        raise AttributeError(f"{name}.{attr} is not available in the sandbox")

    stand_in.__getattr__ = missing  # type: ignore[method-assign]
    return stand_in


_PROXIES: dict[str, types.ModuleType] = {}


def proxy(name: str) -> types.ModuleType:
    if name not in _PROXIES:
        _PROXIES[name] = _make_proxy(name, importlib.import_module(name))
    return _PROXIES[name]


def make_importer(modules: tuple[str, ...]):
    allowed = {m for m in modules} | {sub for sub in ALLOW if sub.split(".")[0] in modules}

    def restricted_import(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ):
        if level or name not in allowed:
            raise ImportError(f"import of {name!r} is not allowed in the sandbox")
        return proxy(name) if fromlist else proxy(name.split(".")[0])

    return restricted_import


def policy_builtins(modules: tuple[str, ...], print_fn: Any) -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    table["print"] = print_fn
    table["__import__"] = make_importer(modules)
    return table


def preload(modules: tuple[str, ...]) -> None:
    """Import what policies may use before isolation starts (the child cannot open new files)."""
    for name in ALLOW:
        if name.split(".")[0] in modules or name == "math":
            importlib.import_module(name)
            proxy(name)  # built once here, shared copy-on-write by every child
