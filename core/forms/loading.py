"""Reading form definitions from files: the bundled ones in core/data/forms and a council's own
folder (`EHCP_FORMS_DIR`), each checked when it is read. A bad one raises FormDefinitionError
naming the file and the problem as a reader finds it ("parental_preference.yaml:
steps[3].items[2] (school_2): show_if refers to 'wants_school', which is not an earlier
question")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.forms.form import FormDefinition
from core.forms.questions import FormDefinitionError, QuestionType

FORMS_DIR = Path(__file__).resolve().parent.parent / "data" / "forms"


def _describe(loc: tuple[Any, ...], raw: Any) -> tuple[str, str | None]:
    """A location as a reader finds it: ("steps[1].items[0] (school_1)", "options[0].value"):
    the place up to the item (named by its id), and the field within it (None: the item)."""
    clean: list[Any] = []
    for n, p in enumerate(loc):
        if p in ("question", "guidance") and n > 0 and isinstance(loc[n - 1], int):
            continue  # the union's tag after an item's index
        clean.append({"in_": "in", "list_name": "list"}.get(p, p) if isinstance(p, str) else p)
    node = raw
    where = ""
    cut = len(clean) - 1 if clean and isinstance(clean[-1], str) else len(clean)
    for n, p in enumerate(clean):
        if isinstance(p, int):
            node = node[p] if isinstance(node, list) and 0 <= p < len(node) else None
            where += f"[{p}]"
            if n and clean[n - 1] == "items":
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    where += f" ({node['id']})"
                cut = n + 1
                break
        else:
            if n >= cut:
                break
            where += ("." if where else "") + p
            node = node.get(p) if isinstance(node, dict) else None
    rest = ""
    for p in clean[cut:]:
        rest += f"[{p}]" if isinstance(p, int) else ("." if rest else "") + p
    return where, rest or None


_TYPES = ", ".join(t.value for t in QuestionType)


def _problem(err: dict[str, Any], raw: Any) -> str:
    where, field = _describe(tuple(err["loc"]), raw)
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        text = f"unknown field '{field}'"
    elif kind == "missing":
        text = f"missing field '{field}'"
    elif kind == "value_error":
        text = msg.removeprefix("Value error, ")
    elif kind == "enum" and field == "type":
        text = f"unknown type '{err.get('input')}' (the types are {_TYPES})"
    elif kind == "string_pattern_mismatch" and field in ("id",):
        text = (
            f"id '{err.get('input')}' must be lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    elif kind == "string_type" and isinstance(err.get("input"), bool):
        text = (
            f"{field}: YAML reads yes, no, on and off as true or false: put the text in quotes "
            f"('{'yes' if err.get('input') else 'no'}')"
        )
    elif kind == "union_tag_invalid" or kind == "model_type" or kind == "model_attributes_type":
        text = f"{field + ': ' if field else ''}should be a mapping (field: value), not {type(err.get('input')).__name__}"
    else:
        text = f"{field}: {msg}" if field else msg
    lines = text.split("\n")
    return "\n".join(f"{where}: {line}" if where else line for line in lines)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FormDefinitionError(f"{path.name}: the file is not UTF-8 text") from None
    except OSError as e:
        raise FormDefinitionError(f"{path.name}: cannot be read ({e.strerror})") from None
    if not text.strip():
        raise FormDefinitionError(f"{path.name}: the file is empty")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise FormDefinitionError(
                f"{path.name}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}"
            ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise FormDefinitionError(
            f"{path.name}: the YAML cannot be read{at}: {problem}. Check the indentation, "
            "colons and quotes there."
        ) from None
    if data is None:
        raise FormDefinitionError(f"{path.name}: the file is empty")
    return data


def load_form(path: Path) -> FormDefinition:
    """Read and validate one definition (.yaml, .yml or .json). Raises FormDefinitionError naming
    the file and the problem: bad YAML, a missing or unknown field, a duplicate id, options
    missing on a choice question or given to another type, a show_if naming a question that is
    not earlier or a value that question cannot have, an unknown list, limits that contradict
    each other."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict):
        raise FormDefinitionError(
            f"{path.name}: the file must hold one form (id, version, title, steps), "
            f"not a {type(data).__name__}"
        )
    try:
        return FormDefinition.model_validate(data)
    except ValidationError as e:
        raw = FormDefinition._name_guidance(data)
        lines: list[str] = []
        for err in e.errors(include_url=False):
            for line in _problem(dict(err), raw).split("\n"):
                if line not in lines:
                    lines.append(line)
        raise FormDefinitionError("\n".join(f"{path.name}: {line}" for line in lines)) from None


def _folder(directory: Path) -> dict[str, FormDefinition]:
    forms: dict[str, FormDefinition] = {}
    files: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml", ".json"):
            continue
        form = load_form(path)
        if form.id in forms:
            raise FormDefinitionError(
                f"{path.name}: the form id '{form.id}' is also used by {files[form.id]}"
            )
        forms[form.id] = form
        files[form.id] = path.name
    return forms


def load_forms(directory: Path | None = None) -> dict[str, FormDefinition]:
    """Every definition in the bundled folder (and `directory`, whose files replace bundled
    ones with the same id), by id. Raises FormDefinitionError on the first bad one."""
    forms = _folder(FORMS_DIR)
    if directory is not None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FormDefinitionError(f"{directory}: the forms folder does not exist")
        forms.update(_folder(directory))
    return forms
