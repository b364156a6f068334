"""What a benchmark checked: the counts and kinds of what it timed, and its stated goals.

A benchmark records each check and goal here and ends with `sys.exit(verdict.exit_code())`:
1 when a check failed or a goal was missed, so a run that timed the wrong thing (no letters read,
answers of the wrong kind) or missed its goal never reads as a pass.
"""

from __future__ import annotations


class Verdict:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        """A fact about what was timed (a count, an answer's kind)."""
        if not ok:
            self.failed.append(f"check failed: {what}")
            print(f"CHECK FAILED: {what}")
        return ok

    def goal(self, ok: bool, what: str) -> bool:
        """A stated goal (a latency, a ratio)."""
        if not ok:
            self.failed.append(f"goal missed: {what}")
            print(f"GOAL MISSED: {what}")
        return ok

    def exit_code(self) -> int:
        if self.failed:
            print(f"{len(self.failed)} failed, the first: " + "; ".join(self.failed[:3]))
        else:
            print("all checks and goals met")
        return 1 if self.failed else 0
