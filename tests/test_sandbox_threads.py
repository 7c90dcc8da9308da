"""Many threads at once: one Sandbox per thread (the evaluators' pattern) and one Sandbox shared by threads."""

import threading

import pytest

from sandbox import Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")


def test_one_sandbox_per_thread_in_parallel():
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            with Sandbox(api={"tag": lambda: k}, timeout=5.0) as sb:
                got = []
                for i in range(10):
                    out = sb.run(f"ret_val = (tag(), {i}, n * 2)", inputs={"n": i}, return_name="ret_val")
                    got.append((out.status, out.value))
                got.append((sb.run("while True:\n    pass", timeout=0.3).status, None))
                results[k] = got
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):  # each thread saw only its own API and its own values
        assert results[k][:10] == [("ok", (k, i, i * 2)) for i in range(10)]
        assert results[k][10] == ("timeout", None)


def test_one_sandbox_shared_by_threads():
    with Sandbox(timeout=5.0) as sb:
        outcomes: list = [None] * 12

        def go(i: int) -> None:
            outcomes[i] = sb.run("ret_val = x ** 2", inputs={"x": i}, return_name="ret_val")

        threads = [threading.Thread(target=go, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [(o.status, o.value) for o in outcomes] == [("ok", i * i) for i in range(12)]
