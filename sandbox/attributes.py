"""What policy code may read from a value: an allow-list of attribute names per type, checked at run time.

The validator rewrites every attribute read `value.name` in policy code into `_getattr_(value, "name")`
(except reads from a module stand-in bound by the program's own `import`, whose contents are an allow-list
already; see sandbox/validate.py). `_getattr_` looks the value's exact type up in `TABLE`: a name that is not
listed for that type is an AttributeError, whatever the object is. So a value nobody thought of (a Cython
function with `func_globals`, a bit generator with `ctypes`, a generator with `gi_frame`) exposes nothing,
instead of everything but a list of known tricks.

Types that are not in the table:
- module stand-ins (sandbox/namespace.py): what they hold, which is their allow-list;
- classes defined by the policy itself (`class` statements go through `build_class`, which admits only
  object, exceptions and a few containers as bases): every public name, since what they hold the policy put
  there and what they inherit is listed here;
- exception classes made elsewhere (API errors recreated in the sandbox, numpy's `LinAlgError`): the names
  listed for the exceptions they derive from (other types are looked up exactly: a subclass of a listed
  type, which could redefine a listed name, gets nothing);
- a class object: the names listed for its instances (`dict.fromkeys`, `np.ndarray.mean`);
- anything else: nothing.
"""

from __future__ import annotations

import builtins
import types
from typing import Any

# Public names of these built-in types are all plain data or methods returning plain data.
_PLAIN_TYPES: tuple[type, ...] = (
    int,
    float,
    complex,
    bool,
    str,
    bytes,
    bytearray,
    list,
    tuple,
    dict,
    set,
    frozenset,
    range,
    slice,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
    types.MappingProxyType,
)
# A template with `{0.attr}` fields walks attributes by name: policy code calls `format` only on a string
# literal whose fields the validator has read (sandbox/validate.py); never on a value.
_NEVER = frozenset({"format", "format_map", "mro"})

_NDARRAY = """
T all any argmax argmin argpartition argsort astype byteswap choose clip compress conj conjugate copy cumprod
cumsum diagonal dot dtype fill flags flat flatten imag item itemsize mT max mean min nbytes ndim nonzero
partition prod put ravel real repeat reshape resize round searchsorted setflags shape size sort squeeze std
strides sum swapaxes take tobytes tolist trace transpose var view
as_integer_ratio fromhex hex is_integer
"""
_DTYPE = """
alignment byteorder char descr fields hasobject isalignedstruct isbuiltin isnative itemsize kind name names
ndim newbyteorder num shape str subdtype type
"""
_UFUNC = "accumulate at identity nargs nin nout ntypes outer reduce reduceat signature types"
_GENERATOR = """
beta binomial bytes chisquare choice dirichlet exponential f gamma geometric gumbel hypergeometric integers
laplace logistic lognormal logseries multinomial multivariate_hypergeometric multivariate_normal
negative_binomial noncentral_chisquare noncentral_f normal pareto permutation permuted poisson power random
rayleigh shuffle standard_cauchy standard_exponential standard_gamma standard_normal standard_t triangular
uniform vonmises wald weibull zipf
"""
_FLAGS = (
    "aligned behaved c_contiguous carray contiguous f_contiguous farray fnc forc fortran owndata writeable"
)
_GEOMETRY = """
area boundary bounds buffer centroid contains contains_properly convex_hull coords covered_by covers crosses
difference disjoint distance dwithin envelope equals equals_exact exterior geom_type geoms has_m has_z
hausdorff_distance interiors interpolate intersection intersects is_closed is_empty is_ring is_simple is_valid
length line_interpolate_point line_locate_point minimum_clearance minimum_rotated_rectangle normalize
oriented_envelope overlaps point_on_surface project relate relate_pattern representative_point reverse
segmentize simplify svg symmetric_difference touches union within wkb wkb_hex wkt x xy y z offset_curve
parallel_offset
"""
_PYTHON_OTHER: dict[type, str] = {
    property: "fget fset fdel getter setter deleter",
    types.GeneratorType: "send throw close",
}


def _public(cls: type) -> frozenset[str]:
    return frozenset(n for n in dir(cls) if not n.startswith("_")) - _NEVER


def _listed(cls: type, names: str) -> frozenset[str]:
    """The listed names that `cls` has (a listed name it lacks stays an AttributeError, as outside)."""
    return frozenset(n for n in names.split() if hasattr(cls, n))


TABLE_OF_PLAIN_TYPES: dict[type, frozenset[str]] = {t: _public(t) for t in _PLAIN_TYPES}

BUILTIN_EXCEPTIONS: tuple[type[BaseException], ...] = tuple(
    v for v in vars(builtins).values() if isinstance(v, type) and issubclass(v, BaseException)
)


def build_table() -> dict[type, frozenset[str]]:
    """The per-type allow-list, built once in the zygote after the allowed modules are imported."""
    table: dict[type, frozenset[str]] = dict(TABLE_OF_PLAIN_TYPES)
    table.update({t: _public(t) for t in BUILTIN_EXCEPTIONS})
    table.update({t: _listed(t, names) for t, names in _PYTHON_OTHER.items()})
    import sys

    np = sys.modules.get("numpy")
    if np is not None:
        table[np.ndarray] = _listed(np.ndarray, _NDARRAY)
        for scalar in _subclasses(np.generic):
            table[scalar] = _listed(scalar, _NDARRAY)
        for dtype in _subclasses(np.dtype):
            table[dtype] = _listed(dtype, _DTYPE)
        table[np.ufunc] = _listed(np.ufunc, _UFUNC)
        table[np.flatiter] = _listed(np.flatiter, "coords index copy")
        table[type(np.empty(0).flags)] = _listed(type(np.empty(0).flags), _FLAGS)
        table[np.random.Generator] = _listed(np.random.Generator, _GENERATOR)
        linalg = sys.modules.get("numpy.linalg")
        for result in ("EigResult", "EighResult", "QRResult", "SlogdetResult", "SVDResult"):
            cls = getattr(getattr(linalg, "_linalg", None), result, None)
            if isinstance(cls, type):
                table[cls] = frozenset(cls._fields) | {"count", "index"}
    geometry = sys.modules.get("shapely.geometry.base")
    if geometry is not None:
        for cls in _subclasses(geometry.BaseGeometry):
            table[cls] = _listed(cls, _GEOMETRY)
        coords = sys.modules.get("shapely.coords")
        if coords is not None:
            table[coords.CoordinateSequence] = frozenset({"xy"})
        table[geometry.GeometrySequence] = frozenset()
    import array

    table[array.array] = frozenset({"tolist", "typecode", "itemsize", "count", "index"})
    for t in (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, super):
        table.pop(t, None)  # decided per object, never per type (see `make_guard`)
    return table


def _subclasses(cls: type) -> list[type]:
    seen, todo = [], [cls]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.append(c)
            todo.extend(type.__subclasses__(c))
    return seen


class _AnyPublic(frozenset):
    """Every name but dunders (a policy class: all it has, it defined or inherited from a listed base; its
    own `_private` names too)."""

    def __contains__(self, name: object) -> bool:
        return (
            isinstance(name, str)
            and not name.startswith("__")
            and not (name.startswith("_") and name.endswith("_"))
            and name not in _NEVER
        )


ANY_PUBLIC = _AnyPublic()
_TYPE_ATTRIBUTES = frozenset(dir(type))  # `Cls.mro`: the metaclass's, not the class's
SAFE_BASES = frozenset({object, dict, list, set, tuple, int, float, *BUILTIN_EXCEPTIONS})


def make_guard(table: dict[type, frozenset[str]], stand_ins: frozenset[int]) -> tuple[Any, Any, set[type]]:
    """`_getattr_` and `__build_class__` for one run, and the set of classes that run defines."""
    policy_classes: set[type] = set()
    resolved: dict[type, frozenset[str]] = {}
    real_getattr = getattr

    def allowed_for(cls: type) -> frozenset[str]:
        names = resolved.get(cls)
        if names is None:
            if cls in policy_classes:
                names = ANY_PUBLIC
            elif issubclass(
                cls, BaseException
            ):  # e.g. an API error recreated here: what its listed bases allow
                names = frozenset().union(*(table.get(c, ()) for c in cls.__mro__))
            else:  # exact types only: a subclass of a listed type may override a listed name
                names = frozenset()
            resolved[cls] = names
        return names

    def refuse(obj: Any, name: str) -> AttributeError:
        return AttributeError(f"attribute {name!r} of {type(obj).__name__} is not available in the sandbox")

    def guarded_getattr(obj: Any, name: str) -> Any:
        names = table.get(type(obj))
        if names is not None:  # the common case: an instance of a listed type
            if name in names:
                return real_getattr(obj, name)
            raise refuse(obj, name)
        if name == "__name__":  # the one dunder policies read: always a string
            value = real_getattr(obj, name, None)
            if type(value) is str:
                return value
            raise refuse(obj, name)
        if isinstance(obj, types.ModuleType):
            if id(obj) in stand_ins and not name.startswith("_"):
                return real_getattr(obj, name)  # a stand-in holds only what it allows
            raise refuse(obj, name)
        if isinstance(obj, type):
            if obj in policy_classes:
                allowed = name not in _TYPE_ATTRIBUTES and name in ANY_PUBLIC
            else:
                allowed = name in table.get(obj, allowed_for(obj) if issubclass(obj, BaseException) else ())
            if allowed:
                return real_getattr(obj, name)
            raise refuse(obj, name)
        if isinstance(obj, super):
            this = real_getattr(obj, "__self_class__", None)
            if this in policy_classes and name in ANY_PUBLIC:
                return real_getattr(obj, name)
            raise refuse(obj, name)
        if name in allowed_for(type(obj)):
            return real_getattr(obj, name)
        raise refuse(obj, name)

    def build_class(func: Any, name: str, *bases: Any, **keywords: Any) -> type:
        if keywords:
            raise TypeError("class keywords (metaclass=...) are not available in the sandbox")
        for base in bases:
            if not (base in SAFE_BASES or base in policy_classes or _is_recreated_error(base)):
                raise TypeError(
                    f"class {name} may derive only from object, exceptions, dict, list, set, tuple, int, "
                    "float or classes the program defines"
                )
        cls = builtins.__build_class__(func, name, *bases)
        policy_classes.add(cls)
        return cls

    return guarded_getattr, build_class, policy_classes


def _is_recreated_error(cls: Any) -> bool:
    """An API exception class recreated in the sandbox (sandbox/api_errors.py): only built-in bases."""
    return (
        isinstance(cls, type)
        and issubclass(cls, Exception)
        and all(c in SAFE_BASES or c.__module__ == "sandbox" for c in cls.__mro__)
    )
