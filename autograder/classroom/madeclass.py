"""A made class of `gmm` submissions, for `make demo`, the tests and the benchmark.

Students fill in the stub: each independent solution in autograder/samples/class/gmm/ has its
function bodies put into exercises/gmm/gmm.py, as a student would. The class holds the reference,
the untouched stub, correct and wrong independent solutions, the flawed sample, a notebook, a
corrupt zip, a submission whose error message is hostile HTML and ANSI, a late one with two files,
and a planted copy (renamed, reformatted and reordered).
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import keyword
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from autograder.stubgen import BEGIN, END

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
IMPLEMENTATIONS = SAMPLES / "class" / "gmm"
HOSTILE_MESSAGE = "<script>alert('owned')</script>\x1b[31m\x1b[1mRED ALERT\x1b[0m"


@dataclass(frozen=True)
class MadeStudent:
    key: str
    name: str
    files: dict = field(hash=False)  # relative path -> bytes
    hours_after_due: float = -24.0  # when it was submitted, relative to the gmm due date
    zipped: bool = False  # handed in as <key>.zip (plain layout) / a zip inside the submission folder
    about: str = ""

    @property
    def email(self) -> str:
        return f"{self.key}@students.example.edu"


def without_fences(source: str) -> str:
    return "".join(line for line in source.splitlines(keepends=True) if not (BEGIN.match(line) or END.match(line)))


def fill_stub(stub: str, implementation: str) -> str:
    """The stub with each `raise NotImplementedError` body replaced by the implementation's body of that
    function, and the implementation's imports added after the stub's."""
    tree = ast.parse(implementation)
    lines = implementation.splitlines(keepends=True)
    bodies = {}
    imports = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append("".join(lines[node.lineno - 1: node.end_lineno]))
        elif isinstance(node, ast.FunctionDef):
            body = node.body[1:] if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) else node.body
            bodies[node.name] = "".join(lines[body[0].lineno - 1: body[-1].end_lineno])
    out = stub.splitlines(keepends=True)
    stub_tree = ast.parse(stub)
    for node in sorted((n for n in stub_tree.body if isinstance(n, ast.FunctionDef)), key=lambda n: -n.lineno):
        if node.name in bodies:
            start = node.body[1].lineno - 1 if len(node.body) > 1 else node.body[0].lineno - 1
            while start > 0 and out[start - 1].strip() == "# YOUR CODE HERE":
                start -= 1
            out[start: node.end_lineno] = [bodies[node.name]]
    last_import = max(n.end_lineno for n in stub_tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    extra = [i for i in imports if i not in stub]
    out[last_import:last_import] = extra
    return "".join(out)


def renamed(source: str, mapping: dict) -> str:
    """`source` with the names in `mapping` renamed (tokens only: strings and comments untouched)."""
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in mapping and not keyword.iskeyword(tok.string):
            tok = tok._replace(string=mapping[tok.string])
        tokens.append(tok)
    return tokenize.untokenize(tokens)


def reformatted(source: str) -> str:
    """`source` re-printed from its syntax tree: other quotes, spacing and line breaks, comments gone."""
    return ast.unparse(ast.parse(source)) + "\n"


def reordered(source: str) -> str:
    """`source` with its functions in reverse order, each under a new comment."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    head = "".join(lines[: functions[0].lineno - 1])
    chunks = ["".join(lines[f.lineno - 1: f.end_lineno]) for f in functions]
    return head + "".join(f"# my version of {f.name}, see the lecture notes\n{chunk}\n\n"
                          for f, chunk in zip(reversed(functions), reversed(chunks)))


def notebook(source: str) -> bytes:
    from autograder.notebooks import import_nbformat

    nbformat = import_nbformat()

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# EM for a Gaussian mixture\nMy solution."),
                  nbformat.v4.new_code_cell("%matplotlib inline"),
                  nbformat.v4.new_code_cell(source)]
    return nbformat.writes(book).encode()


def implementation(name: str) -> str:
    return (IMPLEMENTATIONS / f"{name}.py").read_text(encoding="utf-8")


def students(root: Path) -> list[MadeStudent]:
    """The twelve students of the made class (`root`: the course folder)."""
    stub = (root / "exercises" / "gmm" / "gmm.py").read_text(encoding="utf-8")
    stub = "".join(line for line in stub.splitlines(keepends=True) if not line.startswith("# Generated from"))
    solved = {name: fill_stub(stub, implementation(name))
              for name in ("cholesky", "loops", "wrong_axis", "no_reg", "scipy_stats", "late_vectorised")}
    reference = without_fences((root / "solutions" / "gmm" / "gmm.py").read_text(encoding="utf-8"))
    flawed = (SAMPLES / "flawed" / "gmm.py").read_text(encoding="utf-8")
    hostile = fill_stub(stub, f"def m_step(X, resp, reg_covar=1e-6):\n    raise ValueError({HOSTILE_MESSAGE!r})\n")
    copy = reordered(reformatted(renamed(solved["cholesky"], {
        "scores": "log_terms", "peak": "row_max", "log_norm": "log_evidence", "counts": "n_k", "centres": "mu",
        "spreads": "sigma_list", "offset": "dx", "centre": "mu_k", "history": "lls", "value": "ll", "step": "it"})))

    def gmm(text: str) -> dict:
        return {"gmm.py": text.encode()}

    return [
        MadeStudent("alice", "Alice Archer", gmm(reference), about="the reference solution"),
        MadeStudent("bob", "Bob Baker", gmm(stub), about="the stub, untouched"),
        MadeStudent("carol", "Carol Chen", gmm(solved["cholesky"]), -30, about="correct (Cholesky)"),
        MadeStudent("dave", "Dave Diaz", gmm(solved["loops"]), about="correct (loops)"),
        MadeStudent("erin", "Erin Evans", gmm(flawed), about="wrong: no log-sum-exp, covariances over N"),
        MadeStudent("frank", "Frank Fox", gmm(solved["wrong_axis"]), about="wrong: normalised over the wrong axis"),
        MadeStudent("grace", "Grace Green", gmm(solved["no_reg"]), about="wrong: no reg_covar"),
        MadeStudent("heidi", "Heidi Hill", {"gmm.ipynb": notebook(solved["scipy_stats"])}, zipped=True,
                    about="a notebook, zipped"),
        MadeStudent("ivan", "Ivan Ivanov", {"submission.zip": b"PK\x03\x04 this is not really a zip"},
                    about="a corrupt zip"),
        MadeStudent("judy", "Judy Jones", gmm(copy), -2, about="a planted copy of carol (renamed, reformatted, reordered)"),
        MadeStudent("mallory", "Mallory <b>Mal</b>", gmm(hostile),
                    about="an error message of HTML and ANSI escapes"),
        MadeStudent("oscar", "Oscar Ortiz", {"gmm.py": solved["late_vectorised"].encode(),
                                             "drafts/gmm.ipynb": notebook(stub)}, 30,
                    about="late by 30 hours, and a second gmm file in a sub-folder"),
    ]


def _zip_bytes(files: dict) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _files_of(student: MadeStudent) -> dict:
    """What lands in the student's folder: the files, or one zip holding them."""
    return {f"{student.key}.zip": _zip_bytes(student.files)} if student.zipped else student.files


def write_class(root: Path, course, target: Path, layout: str = "plain", copies: int = 1, keys=None) -> Path:
    """Write the made class into the empty folder `target` as `layout` ("plain" or "gradescope").

    `copies` > 1 repeats the class under new names (alice2, ...) for a benchmark of more submissions;
    `keys` keeps only those students.
    """
    target.mkdir(parents=True, exist_ok=True)
    due = course.exercise("gmm").due
    metadata = {}
    for copy in range(copies):
        for number, student in enumerate(students(root)):
            if keys is not None and student.key not in keys:
                continue
            key = student.key + (str(copy + 1) if copy else "")
            if layout == "plain":
                files = _files_of(student)
                if student.zipped:
                    (target / f"{key}.zip").write_bytes(files[f"{student.key}.zip"])
                    continue
                base = target / key
            else:
                folder = f"submission_{100000 + 100 * copy + number}"
                base = target / folder
                files = _files_of(student)
                metadata[folder] = {
                    ":submitters": [{":name": student.name, ":sid": f"{900000 + 100 * copy + number}",
                                     ":email": student.email.replace(student.key, key)}],
                    ":created_at": due + dt.timedelta(hours=student.hours_after_due),
                    ":score": 0.0, ":status": "processed",
                }
            for name, data in files.items():
                (base / name).parent.mkdir(parents=True, exist_ok=True)
                (base / name).write_bytes(data)
    if layout == "gradescope":
        (target / "submission_metadata.yml").write_text(yaml.safe_dump(metadata, sort_keys=True), encoding="utf-8")
    return target
