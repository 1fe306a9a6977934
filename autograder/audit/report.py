"""Run an audit of one exercise and sum it up: kill rate, survivors, specificity, correct alternatives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.audit.mutants import mutants
from autograder.audit.runner import Auditor, correct_alternatives

TARGET_KILL_RATE = 0.95


@dataclass
class AuditReport:
    exercise: str
    graded: list = field(default_factory=list)  # (Mutant, Graded) pairs
    alternatives: dict = field(default_factory=dict)  # name -> Graded
    with_training: bool = False

    @property
    def equivalent(self) -> list:
        return [(m, g) for m, g in self.graded if g.equivalent]

    @property
    def considered(self) -> list:
        """The non-equivalent mutants: those that behave differently from the reference or lose points."""
        return [(m, g) for m, g in self.graded if not g.equivalent]

    @property
    def killed(self) -> list:
        return [(m, g) for m, g in self.considered if g.killed]

    @property
    def survivors(self) -> list:
        return [(m, g) for m, g in self.considered if not g.killed]

    @property
    def kill_rate(self) -> float:
        return len(self.killed) / len(self.considered) if self.considered else 1.0

    @property
    def specific_share(self) -> float:
        return sum(g.specific for _, g in self.killed) / len(self.killed) if self.killed else 1.0

    @property
    def alternatives_ok(self) -> bool:
        return all(not g.killed for g in self.alternatives.values())

    @property
    def passed(self) -> bool:
        return self.kill_rate >= TARGET_KILL_RATE and self.alternatives_ok

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise, "mutants": len(self.graded), "equivalent": len(self.equivalent),
            "killed": len(self.killed), "survivors": len(self.survivors), "kill_rate": round(self.kill_rate, 4),
            "specific_share": round(self.specific_share, 4), "with_training": self.with_training,
            "survivor_list": [m.describe() for m, _ in self.survivors],
            "generic_feedback": [m.describe() for m, g in self.killed if not g.specific],
            "alternatives": {name: {"full_marks": not g.killed, "lost": g.lost, "error": g.error}
                             for name, g in self.alternatives.items()},
        }

    def render(self) -> str:
        lines = [f"course audit {self.exercise}: {len(self.graded)} mutants of the reference's answer regions"
                 + ("" if self.with_training else " (training smoke tests left out; --with-training runs them)"),
                 f"  equivalent (behave like the reference on two sets of inputs): {len(self.equivalent)}",
                 f"  killed: {len(self.killed)} of {len(self.considered)} = {self.kill_rate:.1%} "
                 f"(target {TARGET_KILL_RATE:.0%})",
                 f"  feedback more specific than 'differs from the reference': {self.specific_share:.1%} of the killed"]
        if self.survivors:
            lines.append("  survivors (behave differently, lose no points) — look at these:")
            lines += [f"    {m.describe()}" for m, _ in self.survivors]
        generic = [m for m, g in self.killed if not g.specific]
        if generic:
            lines.append("  killed with generic feedback only:")
            lines += [f"    {m.describe()}" for m in generic]
        lines.append(f"  correct alternatives with full marks: {sum(not g.killed for g in self.alternatives.values())}"
                     f" of {len(self.alternatives)}")
        for name, g in self.alternatives.items():
            if g.killed:
                lines.append(f"    {name} LOSES POINTS: {g.error or '; '.join(f'{k}: {v}' for k, v in g.lost.items())}")
        return "\n".join(lines)


def run_audit(root: Path, exercise, limit=None, seed=0, with_training=False, timeout_s=120.0, progress=None):
    """Audit `exercise` (a course.yml Exercise): grade every mutant and every correct alternative."""
    import torch

    torch.set_num_threads(1)  # forked workers and a shared machine: one thread each
    auditor = Auditor(root, exercise.id, exercise.module_name, with_training=with_training, timeout_s=timeout_s)
    reference = (Path(root) / "solutions" / exercise.id / exercise.student_file).read_text(encoding="utf-8")
    report = AuditReport(exercise.id, with_training=with_training)
    chosen = mutants(reference, limit=limit, seed=seed)
    alternatives = correct_alternatives(root, exercise.id)
    for mutant in (progress(chosen, "mutants") if progress else chosen):
        report.graded.append((mutant, auditor.grade(mutant.id, mutant.source)))
    for name, source in alternatives.items():
        report.alternatives[name] = auditor.grade(name, source)
    return report


def write_json(report: AuditReport, path: Path) -> None:
    Path(path).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
