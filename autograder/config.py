"""course.yml: the typed schema and its loader.

Every key has a type, a default where one makes sense, and a help text (the
`description`). A bad file raises `ConfigError`, whose message names the file,
the key path (``exercises[0].points``) and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
# When Gradescope shows a result to students (its results.json `visibility`).
Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class ConfigError(Exception):
    """course.yml could not be read or does not match the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Instructor(_Strict):
    name: str = Field(description="Full name, as shown on the site and in reports.")
    email: Optional[str] = Field(default=None, description="Contact address.")

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value):
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"expected an e-mail address like name@host.org, got {value!r}")
        return value


class Limits(_Strict):
    time_s: float = Field(default=180, gt=0, description="Wall seconds for all checks of one exercise.")
    check_time_s: float = Field(default=30, gt=0, description="Wall seconds for a single check.")
    memory_mib: int = Field(default=4096, ge=64, description="Resident memory of the submission's process tree, MiB.")
    processes: int = Field(default=64, ge=1, description="Processes and threads the submission may run at once.")
    output_kib: int = Field(default=1024, ge=1, description="What of the submission's printed output (stdout and stderr together) is kept, KiB: its head and tail; the rest is dropped, never fatal.")
    files_mib: int = Field(default=256, ge=1, description="Bytes the submission's files may take in total (its folder, /tmp, /dev/shm), MiB; also the cap on any one file.")
    open_files: int = Field(default=256, ge=16, description="Files one process of the submission may hold open at once.")


class LimitOverrides(_Strict):
    """Per-exercise overrides of `Limits`; unset keys keep the course default."""

    time_s: Optional[float] = Field(default=None, gt=0, description=Limits.model_fields["time_s"].description)
    check_time_s: Optional[float] = Field(default=None, gt=0, description=Limits.model_fields["check_time_s"].description)
    memory_mib: Optional[int] = Field(default=None, ge=64, description=Limits.model_fields["memory_mib"].description)
    processes: Optional[int] = Field(default=None, ge=1, description=Limits.model_fields["processes"].description)
    output_kib: Optional[int] = Field(default=None, ge=1, description=Limits.model_fields["output_kib"].description)
    files_mib: Optional[int] = Field(default=None, ge=1, description=Limits.model_fields["files_mib"].description)
    open_files: Optional[int] = Field(default=None, ge=16, description=Limits.model_fields["open_files"].description)


class LatePolicy(_Strict):
    penalty_per_day: float = Field(default=0.0, ge=0, le=1, description="Fraction of the score lost per day late.")
    max_days_late: int = Field(default=0, ge=0, description="Days after the due date when submissions close.")


class Lecture(_Strict):
    id: str = Field(pattern=IDENTIFIER, description="Short identifier, lower case.")
    title: str = Field(min_length=1, description="Title shown on the site.")
    folder: str = Field(description="Folder of the lecture's sources, relative to course.yml.")


class Exercise(_Strict):
    id: str = Field(pattern=IDENTIFIER, description="Short identifier; names the hidden checks in autograder/checks/<id>.")
    title: str = Field(min_length=1, description="Title shown to students.")
    student_file: str = Field(pattern=r"^[a-z][a-z0-9_]*\.py$", description="The file students submit, e.g. gmm.py.")
    lecture: str = Field(description="Id of the lecture the exercise belongs to.")
    points: float = Field(gt=0, description="Points the exercise is worth; check points are scaled to this total.")
    due: dt.datetime = Field(description="Due date and time, ISO 8601 with a UTC offset.")
    late_policy: LatePolicy = Field(default_factory=LatePolicy, description="How late submissions are scored.")
    banned_imports: list[str] = Field(default_factory=list, description="Modules students may not import (and their submodules).")
    limits: LimitOverrides = Field(default_factory=LimitOverrides, description="Overrides of the course-wide limits.")
    visibility: Optional[Visibility] = Field(
        default=None, description="When students see this exercise's check results on Gradescope (hidden, "
        "after_due_date, after_published, visible); unset: each check's own setting (visible unless its check says).")
    check_visibility: dict[str, Visibility] = Field(
        default_factory=dict, description="Per-check visibility by check name (as in the results), overriding "
        "`visibility`; `course validate` checks that each name is a check of this exercise.")

    @field_validator("due")
    @classmethod
    def _has_timezone(cls, value):
        if value.tzinfo is None:
            raise ValueError("expected a date with a UTC offset, e.g. 2026-12-04T23:59:00+01:00")
        return value

    @property
    def module_name(self) -> str:
        return self.student_file[: -len(".py")]

    def visibility_of(self, check_name: str, default: str) -> str:
        """A check's visibility: its entry in `check_visibility`, else `visibility`, else `default`."""
        return self.check_visibility.get(check_name, self.visibility or default)


class Course(_Strict):
    title: str = Field(min_length=1, description="Course title.")
    code: Optional[str] = Field(default=None, description="Course code, e.g. GM-101.")
    term: str = Field(min_length=1, description="Term, e.g. Winter 2026/27.")
    timezone: str = Field(default="UTC", description="Time zone for due dates shown to students.")
    instructors: list[Instructor] = Field(min_length=1, description="Who teaches the course.")
    limits: Limits = Field(default_factory=Limits, description="Default limits for one submission.")
    lectures: list[Lecture] = Field(min_length=1, description="Lectures in teaching order.")
    exercises: list[Exercise] = Field(default_factory=list, description="Graded exercises.")

    @model_validator(mode="after")
    def _consistent(self):
        for kind, items in (("lectures", self.lectures), ("exercises", self.exercises)):
            seen = set()
            for index, item in enumerate(items):
                if item.id in seen:
                    raise ValueError(f"{kind}[{index}].id: duplicate id {item.id!r}")
                seen.add(item.id)
        lecture_ids = {lecture.id for lecture in self.lectures}
        for index, exercise in enumerate(self.exercises):
            if exercise.lecture not in lecture_ids:
                raise ValueError(
                    f"exercises[{index}].lecture: {exercise.lecture!r} is not a lecture id "
                    f"(expected one of {sorted(lecture_ids)})"
                )
        return self

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"unknown exercise {exercise_id!r} (course.yml has: {known})")

    def limits_for(self, exercise: Exercise) -> Limits:
        overrides = exercise.limits.model_dump(exclude_none=True)
        return self.limits.model_copy(update=overrides)


def _key_path(loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(error) -> str:
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see `course validate --help` for the schema)"
    message = error["msg"]
    if "input" in error and error["type"] not in ("value_error",):
        message += f" (got {error['input']!r})"
    return message.removeprefix("Value error, ")


def parse_course(data, source: str = "course.yml") -> Course:
    """Validate already-parsed YAML data; errors name `source` and the key path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}")
    try:
        return Course.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = _describe(error)
            if error["type"] == "value_error" and ": " in message and message.split(": ")[0].startswith(("lectures", "exercises")):
                lines.append(f"{source}: {message}")  # the validator already named the path
            else:
                lines.append(f"{source}: {_key_path(error['loc'])}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_course(path: Path | str) -> Course:
    """Read and validate course.yml."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from None
    return parse_course(data, str(path))
