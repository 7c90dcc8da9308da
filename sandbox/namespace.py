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

from sandbox import attributes

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
ndarray generic number integer floating complexfloating complex128 complex64 uint32 uint64 r_ c_ percentile
quantile errstate argwhere nansum nanstd nanmedian nanargmax nanargmin bincount histogram convolve cbrt exp2
expm1 log1p floor_divide true_divide negative positive reciprocal remainder sinc isinf isscalar array_split
trapezoid cov corrcoef gradient ediff1d full_like ptp inner kron einsum tensordot triu_indices tril_indices
diag_indices ix_ indices apply_along_axis nan_to_num isreal iscomplex real imag conj conjugate fabs signbit
copysign float_power logaddexp heaviside lexsort partition argpartition searchsorted unwrap setdiff1d union1d
"""
_NUMPY_LINALG = (
    "det eig eigh eigvals eigvalsh inv lstsq matrix_rank matrix_power norm pinv qr solve svd cond slogdet"
)
_NUMPY_RANDOM = (
    "choice default_rng normal permutation rand randint randn random seed shuffle uniform random_sample"
    " standard_normal Generator"
)
_SHAPELY_GEOMETRY = (
    "GeometryCollection LineString LinearRing MultiLineString MultiPoint MultiPolygon Point Polygon box mapping"
    " shape CAP_STYLE JOIN_STYLE"
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
True False None ImportError OSError TimeoutError BaseException complex id bytearray NotImplemented object
property classmethod staticmethod super UnboundLocalError RecursionError FloatingPointError FileNotFoundError
PermissionError EOFError GeneratorExit Warning UserWarning RuntimeWarning DeprecationWarning Ellipsis
ModuleNotFoundError UnicodeError ConnectionError BufferError IndentationError SyntaxError StopAsyncIteration
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


def stand_ins() -> list[types.ModuleType]:
    """The module stand-ins built so far (every child of a zygote shares them)."""
    return list(_PROXIES.values())


def make_importer(modules: tuple[str, ...]):
    allowed = {m for m in modules} | {sub for sub in ALLOW if sub.split(".")[0] in modules}

    def restricted_import(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ):
        if level or name not in allowed:
            if not level and not fromlist and name in _INTERNAL:
                # numpy's C code imports its helpers (`numpy._core._methods` for `arr.mean()`, `arrayprint`
                # for `repr(arr)`) through the builtins of the calling frame, which is the policy's; it then
                # reads the module from sys.modules itself and ignores what this returns. The validator
                # refuses such an import statement in policy code, and what it gets here is None anyway.
                return None
            raise ImportError(f"import of {name!r} is not allowed in the sandbox")
        return proxy(name) if fromlist else proxy(name.split(".")[0])

    return restricted_import


# Modules numpy imports lazily from C; imported in the zygote so that no run has to find them on disk.
_INTERNAL = frozenset(
    {
        "numpy._core._methods",
        "numpy._core._dtype",
        "numpy._core.arrayprint",
        "numpy._core._internal",
        "numpy._core._exceptions",
        "numpy._core._ufunc_config",
        "numpy._core.numeric",
        "numpy._core.multiarray",
        "numpy._core.umath",
        "numpy._core.fromnumeric",
        "numpy._core.printoptions",
        "numpy._core._string_helpers",
        "numpy._core._dtype_ctypes",
        "numpy.linalg._linalg",
        "numpy.lib._format_impl",
    }
)

_TABLE: dict[type, frozenset[str]] | None = None


def _policy_type(obj: Any, *rest: Any) -> type:
    """`type(x)` with one argument; a class of one's own is a `class` statement (checked, unlike type())."""
    if rest:
        raise TypeError("type() takes exactly one argument in the sandbox (use a class statement)")
    cls = type(obj)
    if issubclass(cls, type):
        raise TypeError("type() of a class is not available in the sandbox")
    return cls


def policy_builtins(modules: tuple[str, ...], print_fn: Any) -> dict[str, Any]:
    """The builtins of one policy run: the safe names, the checked import and class statement, and the
    attribute guard the validator compiles every attribute read to (see sandbox/attributes.py)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = attributes.build_table()
    table = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    table["print"] = print_fn
    table["type"] = _policy_type
    table["__import__"] = make_importer(modules)
    stand_ins = frozenset(id(p) for p in _PROXIES.values())
    table["_getattr_"], table["__build_class__"], _ = attributes.make_guard(_TABLE, stand_ins)
    return table


def preload(modules: tuple[str, ...]) -> None:
    """Import what policies may use before isolation starts (the child cannot open new files)."""
    global _TABLE
    for name in ALLOW:
        if name.split(".")[0] in modules or name == "math":
            importlib.import_module(name)
            proxy(name)  # built once here, shared copy-on-write by every child
    if "numpy" in modules:
        import numpy as np

        for name in _INTERNAL:
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # another numpy version: whatever it lazily imports, it will not find
        # Printing an array once configures numpy's printing machinery here rather than in every run.
        repr(np.array([1.0])), str(np.dtype("float64")), np.array([1.0]).mean()
    _TABLE = attributes.build_table()
