"""Exceptions crossing from API functions (host) into sandboxed code, by name, as classes the code can catch.

An exception raised by an API callable is described in the host as plain data (class name, message, and the
built-in exception classes among its bases) and recreated in the sandbox as a class of the same name that
derives from `ApiError` and from those built-ins. So a host `SafetyError(Exception)` is caught in a policy by
`except SafetyError`, `except ApiError` or `except Exception`; a host `KeyError` subclass also by
`except KeyError`. Names unknown to the sandboxed code are bound in its globals when first raised, so
`except SafetyError:` works without declaring anything; pass `errors=[SafetyError]` to `Sandbox` to bind a
name from the start (for `isinstance` checks before any raise).
"""

from __future__ import annotations

import builtins
import keyword
from typing import Any

# Built-in bases a recreated exception may keep: plain exceptions whose layout mixes with `ApiError`.
BUILTIN_BASES = (
    "KeyError",
    "IndexError",
    "LookupError",
    "ZeroDivisionError",
    "OverflowError",
    "ArithmeticError",
    "ValueError",
    "TypeError",
    "AttributeError",
    "NotImplementedError",
    "RuntimeError",
    "AssertionError",
    "TimeoutError",
)


def _usable_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and len(name) <= 100
    )


def describe(exc: BaseException) -> dict[str, Any]:
    """Plain data for one host exception: what the sandbox needs to recreate it, nothing else."""
    name = type(exc).__name__
    bases = [
        c.__name__
        for c in type(exc).__mro__
        if c.__name__ in BUILTIN_BASES and getattr(builtins, c.__name__) is c
    ]
    return {"type": name if _usable_name(name) else "ApiError", "bases": bases, "message": str(exc) or name}


class Registry:
    """The exception classes of one run, created once per name so `except` and `isinstance` agree."""

    def __init__(self, namespace: dict[str, Any], declared: list[str]):
        self.namespace = namespace
        self.api_error = type("ApiError", (Exception,), {"__module__": "sandbox", "__str__": _message})
        self.classes: dict[str, type[BaseException]] = {"ApiError": self.api_error}
        namespace.setdefault("ApiError", self.api_error)
        for name in declared:
            self.get(name, [])

    def get(self, name: Any, bases: Any) -> type[BaseException]:
        if not _usable_name(name):
            return self.api_error
        cls = self.classes.get(name)
        if cls is None:
            extra = [
                getattr(builtins, b)
                for b in (bases if isinstance(bases, list) else [])
                if b in BUILTIN_BASES and b != name
            ]
            if name in BUILTIN_BASES:
                extra.insert(0, getattr(builtins, name))
            cls = type(name, (self.api_error, *_most_derived(extra)), {"__module__": "sandbox"})
            self.classes[name] = cls
            if name not in self.namespace and not hasattr(builtins, name):
                self.namespace[name] = cls
        return cls

    def make(self, reply: dict[str, Any]) -> BaseException:
        return self.get(reply.get("type"), reply.get("bases"))(str(reply.get("message", "")))


def _most_derived(classes: list[type]) -> list[type]:
    """Drop bases that another listed base already derives from (a valid MRO needs that)."""
    return [c for c in dict.fromkeys(classes) if not any(o is not c and issubclass(o, c) for o in classes)]


def _message(self: BaseException) -> str:
    """str(exc) in the sandbox equals str(exc) in the host (KeyError would otherwise quote it again)."""
    return str(self.args[0]) if self.args else ""
