"""reasoning as a `TrialBenchmark`: every generated question answered in each style (direct, cot, code)."""

from __future__ import annotations

from typing import Any

from cap.evals.common.llm import WatchedClient
from cap.evals.common.scene import ScenePerception, perception_api
from cap.evals.reasoning import generate as ans
from cap.evals.reasoning.questions import Answer, Question, generate
from cap.evals.reasoning.score import correct
from cap.policy_stack import IMPORTS

# The paper's saved results for object selection (its own scenes and questions, not these).
PAPER = {"direct": "0.39 (obj)", "cot": "0.68 (obj)", "code": "0.96 (obj)"}
PAPER_NOTE = (
    "paper: object selection answered directly 0.39, with chain-of-thought 0.68, with code 0.96 "
    "(its own scenes and questions; compare with this table's object column)."
)


class Reasoning:
    name = "reasoning"
    conditions = ans.STYLES
    paper = PAPER

    def __init__(
        self, client: Any, api: str = "chat", questions: int = 60, seed: int = 0, timeout: float = 10.0
    ):
        self.client = WatchedClient(client)
        self.api = api
        self.timeout = timeout
        pairs = generate(questions, seed)
        self._questions = [q for q, _ in pairs]
        self._answers: dict[str, Answer] = {q.id: a for q, a in pairs}  # read by the scorer only
        self._perception = ScenePerception(self._questions[0].scene) if pairs else None
        self._sandbox: Any = None
        from lmp import LMP

        self.code_lmp = LMP(ans.code_config(api), self.client)
        self.fgen_lmp = ans.fgen_lmp(self.client, api)

    def items(self) -> list[Question]:
        return list(self._questions)

    def __enter__(self) -> Reasoning:
        from sandbox import Sandbox

        api = perception_api(self._perception) if self._perception is not None else {}
        self._sandbox = Sandbox(api=api, profile="policy", timeout=self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            self._sandbox.close()

    def _reply(self, style: str, question: Question) -> tuple[Any, dict[str, Any]]:
        """(the parsed answer, what to record); raises LLMError when the model cannot be reached."""
        if style in ("direct", "cot"):
            completions = self.client.complete(ans.language_request(question, style, self.api))
            text = completions[0].text if completions else ""
            return ans.parse_reply(text, question, style), {"response": text}
        from lmp import LMPError, Program

        program = Program(
            self.code_lmp, ans.function_generator(self.fgen_lmp)
        )  # helpers by fgen, fresh library
        try:
            run = program.prepare(question.text.rstrip("?"), context=f"objects = {question.scene.names()}")
        except (LMPError, SyntaxError) as exc:
            self.client.reraise_unreachable()
            return None, {"code": "", "functions": [], "error": str(exc), "status": "no_code"}
        assert self._perception is not None
        self._perception.scene = question.scene
        outcome = self._sandbox.run(f"{IMPORTS}\n{run.program}", return_name="ret_val")
        record: dict[str, Any] = {"code": run.generation.code, "functions": [f.name for f in run.functions]}
        if outcome.status != "ok":
            return None, {**record, "status": "error", "error": f"{outcome.status}: {outcome.error}"}
        return ans.code_value(outcome.value, question), record

    def attempt(self, condition: str, question: Question) -> dict[str, Any]:
        given, record = self._reply(condition, question)
        answer = self._answers[question.id]
        right = correct(answer, given)
        shown = given.tolist() if hasattr(given, "tolist") else given
        return {
            "status": "ok" if right else "wrong",
            "error": "",
            **record,
            "question": question.text,
            "given": shown if isinstance(shown, str | list | tuple | type(None)) else repr(shown)[:100],
            "expected": answer.value,
            "correct": right,
        }
