"""report.html: how the class did, with matplotlib figures written next to it (report/*.png).

Score histogram per exercise, pass rate per check (hardest first), the most frequent feedback
messages per exercise, grading time per submission, the problems found, and the similarity table
with every flagged pair side by side. Figures never carry student text (a `$` would start
mathtext); the tables beside them do, escaped.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import re
import statistics
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

from autograder.classroom import store
from autograder.classroom.pages import render
from autograder.classroom.similarity import highlighted, rank_pairs
from autograder.classroom.staging import STATUSES

FIGURES = "report"
TOP_MESSAGES = 8
TOP_PAIRS = 10
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.IGNORECASE)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(figure, target: Path, name: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    store.atomic_write(Path(target) / FIGURES / f"{name}.png", buffer.getvalue())
    return f"{FIGURES}/{name}.png"


def _label(text: str, width: int = 60) -> str:
    text = text.replace("$", r"\$")
    return text if len(text) <= width else text[: width - 1] + "…"


def score_histograms(course, records, ids, target) -> str:
    columns = min(len(ids), 3)
    rows = (len(ids) + columns - 1) // columns
    figure = _figure(4.2 * columns, 2.8 * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, exercise_id in zip(axes, ids):
        points = course.exercise(exercise_id).points
        scores = [e["score"] for r in records for e in r["exercises"] if e["id"] == exercise_id]
        ax.hist(scores, bins=min(20, max(5, len(scores) // 2)), range=(0, points), color="#3b6ea8", edgecolor="white")
        ax.set_title(f"{exercise_id} (median {statistics.median(scores):.1f} / {points:g})", fontsize=10)
        ax.set_xlabel("score (after late penalty)")
        ax.set_ylabel("submissions")
        ax.yaxis.get_major_locator().set_params(integer=True)
    for ax in axes[len(ids):]:
        ax.set_visible(False)
    return _save(figure, target, "score_histograms")


def pass_rates(records, exercise_id) -> list[tuple[str, float]]:
    """(check name, share of submissions passing it), hardest first."""
    passed, seen = Counter(), Counter()
    for record in records:
        for exercise in record["exercises"]:
            if exercise["id"] == exercise_id:
                for check in exercise["checks"]:
                    seen[check["name"]] += 1
                    passed[check["name"]] += check["passed"]
    return sorted(((name, passed[name] / seen[name]) for name in seen), key=lambda item: (item[1], item[0]))


def pass_rate_figure(exercise_id, rates, target) -> str:
    figure = _figure(9, 0.8 + 0.28 * len(rates))
    ax = figure.subplots()
    names = [_label(name, 70) for name, _ in rates][::-1]
    values = [100 * rate for _, rate in rates][::-1]
    colours = ["#b42318" if v < 50 else "#d08a1a" if v < 80 else "#1a7f37" for v in values]
    ax.barh(range(len(values)), values, color=colours)
    ax.set_yticks(range(len(values)), names, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions passing (%)")
    ax.set_title(f"{exercise_id}: pass rate per check, hardest at the top", fontsize=10)
    for y, v in enumerate(values):
        ax.text(min(v + 1, 92), y, f"{v:.0f}%", va="center", fontsize=7)
    return _save(figure, target, f"pass_rates_{exercise_id}")


def frequent_messages(records, exercise_id) -> list[dict]:
    """Feedback messages of failed checks, grouped by text with numbers masked, most students first.

    Each entry: the students' count, the checks that gave the message, and one example of it.
    """
    students, checks, examples = defaultdict(set), defaultdict(set), {}
    for record in records:
        for exercise in record["exercises"]:
            if exercise["id"] != exercise_id:
                continue
            for check in exercise["checks"]:
                if check["passed"] or not check["feedback"]:
                    continue
                group = _NUMBER.sub("#", check["feedback"].strip().splitlines()[0])[:300]
                students[group].add(record["key"])
                checks[group].add(check["name"])
                examples.setdefault(group, check["feedback"])
    ranked = sorted(students, key=lambda g: (-len(students[g]), g))
    return [{"checks": sorted(checks[g]), "message": examples[g], "count": len(students[g])} for g in ranked[:TOP_MESSAGES]]


def messages_figure(exercise_id, messages, target) -> str:
    figure = _figure(9, 0.8 + 0.3 * len(messages))
    ax = figure.subplots()
    counts = [m["count"] for m in messages][::-1]
    ax.barh(range(len(counts)), counts, color="#6d4aa8")
    labels = [f"#{i}  {_label(m['checks'][0], 50)}" + (f" (+{len(m['checks']) - 1})" if len(m["checks"]) > 1 else "")
              for i, m in enumerate(messages, 1)]
    ax.set_yticks(range(len(counts)), labels[::-1], fontsize=8)
    ax.set_xlabel("students who got this feedback")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{exercise_id}: most frequent feedback (messages in the table below)", fontsize=10)
    return _save(figure, target, f"messages_{exercise_id}")


def timing_figure(records, target) -> str:
    times = sorted((r["grading_time_s"], r["key"]) for r in records)
    figure = _figure(9, 2.8)
    ax = figure.subplots()
    ax.bar(range(len(times)), [t for t, _ in times], color="#3b6ea8")
    ax.set_xlabel(f"submissions, fastest to slowest (median {statistics.median(t for t, _ in times):.1f} s)")
    ax.set_ylabel("grading time (s)")
    ax.set_title("grading time per submission", fontsize=10)
    if len(times) <= 40:
        ax.set_xticks(range(len(times)), [_label(k, 14) for _, k in times], rotation=60, fontsize=7, ha="right")
    return _save(figure, target, "grading_time")


def similarity_inputs(root: Path, course, records, exercise_id) -> tuple[dict, str | None]:
    """(key -> the exercise's graded source, the stub's text or None) for `rank_pairs`."""
    sources = {}
    for record in records:
        path = Path(record["folder"]) / "sources" / f"{exercise_id}.py"
        if path.is_file():
            sources[record["key"]] = path.read_text(encoding="utf-8")
    stub_path = Path(root) / "exercises" / exercise_id / course.exercise(exercise_id).student_file
    return sources, stub_path.read_text(encoding="utf-8") if stub_path.is_file() else None


def similarity_section(sources: dict, pairs) -> dict:
    shown = [p for p in pairs if p.flagged]
    return {
        "pairs": pairs,
        "compared": len(sources),
        "side_by_side": [{"pair": p, "first": highlighted(sources[p.first], p.slices[0]),
                          "second": highlighted(sources[p.second], p.slices[1])} for p in shown],
    }


@contextmanager
def _similarity_pool(jobs: int, exercises: int, workers=None):
    """Where each exercise's similarity is ranked while this process draws the figures (ranking compares every
    pair of students: the report's largest part for a big class). `workers`, grade-all's grading processes, when
    given; else up to `jobs` spawned processes when there are several exercises; else here (None: a fresh
    process costs about 0.7 CPU-s to import copydetect, and one exercise's ranking overlaps only its figures)."""
    if workers is not None or jobs <= 1 or exercises <= 1:
        yield workers
        return
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(min(jobs, exercises),
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _ranked_elsewhere(pool, exercise_id: str, sources: dict, stub) -> concurrent.futures.Future | None:
    try:
        return pool.submit(rank_pairs, exercise_id, sources, stub, TOP_PAIRS) if pool else None
    except concurrent.futures.BrokenExecutor:  # a grading worker died: this process ranks it
        return None


def _ranking(future, exercise_id: str, sources: dict, stub) -> list:
    if future is not None:
        try:
            return future.result()
        except concurrent.futures.BrokenExecutor:
            pass
    return rank_pairs(exercise_id, sources, stub, TOP_PAIRS)


def write_report(root: Path, course, records, target: Path, jobs: int = 1, workers=None) -> Path:
    """Write target/report.html and its figures; returns the page's path. The similarity of the exercises is
    ranked in other processes while the figures are drawn: `workers` (an executor) or, with `jobs` > 1 and several
    exercises, up to `jobs` processes started for it."""
    from autograder.classroom.gradebook import exercise_ids

    ids = exercise_ids(course, records)
    with _similarity_pool(jobs, len(ids), workers) as pool:
        inputs = {i: similarity_inputs(root, course, records, i) for i in ids}
        ranked = {i: _ranked_elsewhere(pool, i, *inputs[i]) for i in ids}
        sections = []
        for exercise_id in ids:
            rates = pass_rates(records, exercise_id)
            messages = frequent_messages(records, exercise_id)
            scores = [e["score"] for r in records for e in r["exercises"] if e["id"] == exercise_id]
            sections.append({
                "exercise": course.exercise(exercise_id), "rates": rates,
                "rates_figure": pass_rate_figure(exercise_id, rates, target) if rates else None,
                "messages": messages,
                "messages_figure": messages_figure(exercise_id, messages, target) if messages else None,
                "median": statistics.median(scores), "mean": statistics.fmean(scores),
                "full": sum(s >= course.exercise(exercise_id).points - 1e-9 for s in scores),
            })
        histograms, timing = score_histograms(course, records, ids, target), timing_figure(records, target)
        for section, exercise_id in zip(sections, ids):
            sources, stub = inputs[exercise_id]
            section["similarity"] = similarity_section(sources, _ranking(ranked[exercise_id], exercise_id, sources, stub))
    statuses = Counter(code for r in records for code in {c for c, _ in r["problems"]})
    students = [{"record": r, "feedback": os.path.relpath(Path(r["folder"]) / "feedback.html", target)} for r in records]
    page = render("report.html", course=course, records=records, sections=sections, students=students,
                  histograms=histograms, timing=timing,
                  statuses=[(code, STATUSES[code], statuses[code]) for code in STATUSES if statuses[code]],
                  total_students=sum(len(r["students"]) for r in records))
    path = Path(target) / "report.html"
    store.atomic_write(path, page)
    return path
