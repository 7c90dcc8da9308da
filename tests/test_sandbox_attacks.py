"""Escape attempts and resource bombs against both profiles: each asserts the exact status and that nothing
happened outside (no file written or read, no connection made, no process started, the host unharmed)."""

import os
import socket

import pytest

from sandbox import Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")


@pytest.fixture(scope="module")
def policy_sb():
    with Sandbox(api={"say": lambda msg: None}, timeout=3.0, memory_mb=256) as sb:
        yield sb


@pytest.fixture(scope="module")
def program_sb():
    with Sandbox(profile="program", timeout=3.0, memory_mb=256) as sb:
        yield sb


POLICY_VIOLATIONS = {
    "import": "import os",
    "import_from": "from os import system",
    "import_submodule_backdoor": "import numpy.ctypeslib",
    "import_disguised_builtin": "m = __import__('os')",
    "dunder_class_walk": "x = ().__class__.__bases__[0].__subclasses__()",
    "dunder_globals": "def f(): pass\ng = f.__globals__",
    "private_attr": "import numpy as np\nf = np.linspace._implementation",
    "getattr_dunder": "getattr((), '__class__')",
    "format_attr_walk": "s = '{0.__class__}'.format(1)",
    "format_item_walk": "s = '{0[0]}'.format([1])",
    "format_on_variable": "t = '{0.real}'\ns = t.format(1)",
    "format_map": "s = '{x}'.format_map({'x': 1})",
    "generator_frame": "g = (i for i in [1])\nf = g.gi_frame.f_back.f_globals",
    "traceback_frame": "try:\n    1/0\nexcept Exception as e:\n    f = e.__traceback__.tb_frame",
    "eval": "eval('1+1')",
    "exec": "exec('x=1')",
    "compile": "compile('1', 'x', 'eval')",
    "open": "open('/etc/passwd').read()",
    "globals": "g = globals()",
    "vars": "v = vars()",
    "breakpoint": "breakpoint()",
    "numpy_ctypeslib": "import numpy as np\nnp.ctypeslib.load_library('libc', '/lib')",
    "numpy_f2py": "import numpy as np\nnp.f2py",
    "numpy_lib_os": "import numpy as np\nnp.lib.os.system('true')",
    "numpy_testing": "import numpy as np\nnp.testing",
    "numpy_load_pickle": "import numpy as np\nnp.load('x.npy', allow_pickle=True)",
    "array_tofile": "import numpy as np\nnp.zeros(3).tofile('/tmp/x')",
    "array_ctypes": "import numpy as np\np = np.zeros(3).ctypes.data",
    "array_dump": "import numpy as np\nnp.zeros(3).dump('/tmp/x')",
    "mro_walk": "import math\nm = math.mro",
    "async": "async def f():\n    pass",
    "from_import_backdoor": "from numpy import ctypeslib",
    "rng_ctypes": "import numpy as np\np = np.random.default_rng(0).bit_generator.ctypes",
    "api_stub_globals": "g = say.__globals__",
    "builtins_by_name": "b = __builtins__",
    "frame_via_coroutine_attr": "def f():\n    yield 1\nc = f().gi_code.co_consts",
    "numpy_os_alias": "import numpy\nnumpy.os.system('true')",
    "shapely_lib": "import shapely\nshapely.lib",
    "exception_frame_walk": "try:\n    1/0\nexcept Exception as e:\n    t = e.with_traceback(None).__traceback__",
}


@pytest.mark.parametrize("code", POLICY_VIOLATIONS.values(), ids=POLICY_VIOLATIONS.keys())
def test_policy_escape_is_a_violation(policy_sb, code):
    out = policy_sb.run(code)
    assert out.status == "violation", out
    assert out.line is not None and "violation:" in out.error


RUNTIME_BLOCKED = {
    # Passes the static check, stopped at run time by the restricted namespace.
    "module_attr_not_allowed": ("import numpy as np\nx = np.show_config", "error", "AttributeError"),
    "shapely_backdoor": ("import shapely\nx = shapely.wkb", "error", "AttributeError"),
    "math_is_fine": ("import math\nret_val = math.sqrt(16)", "ok", ""),
    "unknown_api": ("launch_missiles()", "error", "NameError"),
    "input_missing": ("x = input", "violation", "Violation"),
    "hasattr_sees_nothing": ("import numpy as np\nret_val = hasattr(np, 'ctypeslib')", "ok", ""),
    "submodule_ok": ("from numpy import linalg\nret_val = float(linalg.norm([3, 4]))", "ok", ""),
    "builtins_missing": ("x = memoryview(b'x')", "violation", "Violation"),
    "no_import_via_builtins_dict": ("x = dict(a=1)['a']\nimport json", "violation", "Violation"),
}


@pytest.mark.parametrize("code,status,etype", RUNTIME_BLOCKED.values(), ids=RUNTIME_BLOCKED.keys())
def test_policy_runtime_restrictions(policy_sb, code, status, etype):
    out = policy_sb.run(code, return_name="ret_val")
    assert out.status == status, out
    assert out.error_type == etype


@pytest.fixture()
def listener():
    """A loopback listener: a sandboxed connect() must never reach it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.settimeout(0.2)
    yield sock
    with pytest.raises(TimeoutError):
        sock.accept()
    sock.close()


# A path outside what the sandbox may read: with the mount namespace it does not exist in the run's
# filesystem at all; without, Landlock refuses it.
ABSENT = "absent"
PROGRAM_ESCAPES = {
    # name: (code, expected status, expected error_type); {target} is a path the test checks stays absent.
    "write_file": ("open({target!r}, 'w').write('x')", "error", ABSENT),
    "mkdir": ("import os\nos.mkdir({target!r})", "error", ABSENT),
    "read_outside_python": ("open('/etc/passwd').read()", "error", ABSENT),
    "read_project_tree": ("open({project!r} + '/pyproject.toml').read()", "error", ABSENT),
    "read_home": ("import os\nos.listdir({home!r})", "error", "PermissionError"),  # leads to the Python
    "read_proc_environ": ("open('/proc/1/environ').read()", "error", ABSENT),
    "list_root": ("import os\nos.listdir('/')", "error", "PermissionError"),
    "connect": ("import socket\nsocket.create_connection(('127.0.0.1', {port}))", "error", "PermissionError"),
    "unix_socket": ("import socket\nsocket.socket(socket.AF_UNIX)", "error", "PermissionError"),
    "subprocess": ("import subprocess\nsubprocess.run(['touch', {target!r}])", "error", "PermissionError"),
    "os_system": (
        "import os\nassert os.system('touch {target}') == 0, 'no shell'",
        "error",
        "AssertionError",
    ),
    "fork": ("import os\nos.fork()", "error", "PermissionError"),
    "multiprocessing": (
        "import multiprocessing\nmultiprocessing.Process(target=print).start()",
        "error",
        "PermissionError",
    ),
    "kill_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", "error", "PermissionError"),
    "kill_everything": ("import os, signal\nos.kill(-1, signal.SIGKILL)", "error", "PermissionError"),
    "ctypes_exec": (
        "import ctypes\nassert ctypes.CDLL(None).execv(b'/bin/sh', None) != -1, 'exec refused'",
        "error",
        "AssertionError",
    ),
    "ctypes_ptrace": (
        "import ctypes\nassert ctypes.CDLL(None).ptrace(16, 1, 0, 0) != -1, 'ptrace refused'",
        "error",
        "AssertionError",
    ),
}


@pytest.mark.parametrize("code,status,etype", PROGRAM_ESCAPES.values(), ids=PROGRAM_ESCAPES.keys())
def test_os_layer_blocks_escapes_in_program_profile(program_sb, tmp_path, listener, code, status, etype):
    target = tmp_path / "written"
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = program_sb.run(
        code.format(
            target=str(target), port=listener.getsockname()[1], project=project, home=os.path.expanduser("~")
        )
    )
    if etype == ABSENT:
        etype = "FileNotFoundError" if program_sb.layers["mount_namespace"] else "PermissionError"
    assert (out.status, out.error_type) == (status, etype), out
    assert not target.exists()
    assert program_sb.run("x = 1").status == "ok"  # the worker survived


def test_only_the_channel_is_inherited(program_sb):
    code = (
        "import os\nret_val = []\nfor fd in range(1024):\n    try:\n        os.fstat(fd)\n"
        "        ret_val.append(fd)\n    except OSError:\n        pass"
    )
    out = program_sb.run(code, return_name="ret_val")
    assert out.status == "ok" and len(out.value) == 4, out  # stdin, stdout, stderr (all /dev/null), channel


def test_environment_is_empty(program_sb):
    out = program_sb.run(
        "import os\nret_val = sorted(k for k in os.environ if not k.startswith(('CAP_', 'OPENBLAS', 'OMP', 'MKL', 'PYTHONHASHSEED', 'LC_CTYPE')))",
        return_name="ret_val",
    )
    assert out.status == "ok" and out.value == [], out


RESOURCE_BOMBS = {
    "memory": ("x = bytearray(2**30)", "resource"),
    "memory_list": ("x = [0] * (10**9)", "resource"),
    "deep_recursion": ("def f(n):\n    return f(n + 1)\nf(0)", "resource"),
    "output_flood": ("while True:\n    print('x' * 1000)", "resource"),
    "cpu_loop": ("while True:\n    pass", "timeout"),
    "swallowing_loop": (
        "while True:\n    try:\n        pass\n    except BaseException:\n        pass",
        "timeout",
    ),
}


@pytest.mark.parametrize("code,status", RESOURCE_BOMBS.values(), ids=RESOURCE_BOMBS.keys())
def test_policy_resource_bombs(policy_sb, code, status):
    # a bomb that should hit a resource limit gets a wall-clock limit far away, so a busy machine cannot turn
    # it into a timeout; a loop (CPU time never exceeds wall time) always meets the 1.5 s wall limit first
    out = policy_sb.run(
        code.replace("bytearray(2**30)", "[0] * (2**28)"), timeout=1.5 if status == "timeout" else 60
    )
    assert out.status == status, out
    assert policy_sb.run("x = 1").status == "ok"  # the sandbox keeps working after the bomb


def test_program_fork_bomb_and_sleep(program_sb):
    assert program_sb.run("import os\nwhile True:\n    os.fork()").status == "error"
    assert program_sb.run("import time\ntime.sleep(30)", timeout=0.5).status == "timeout"
    assert program_sb.run("x = 1").status == "ok"
