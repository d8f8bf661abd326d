"""The house's rules, checked by machine: the layers (import-linter, with the contracts in
.importlinter), core in words of its own, and rooms small enough to find a thing in.

Each rule is also shown to fail: the contracts are run against a small tree that breaks them."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 600


def lint(config: Path, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath or cwd)}
    return subprocess.run([str(LINT), str(config), "--no-cache"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_layers_hold():
    done = lint(ROOT / ".importlinter", ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and "Contracts: 7 kept, 0 broken." in done.stdout


# A tiny tree with the product's package names, and the import that breaks each contract.
BREAKS = {
    "core knows no face": {"core/__init__.py": "import bot\n"},
    "core knows no face, even through another module": {"core/__init__.py": "import core.x\n",
                                                          "core/x.py": "import notifications\n"},
    "core knows no Telegram": {"core/__init__.py": "import aiogram\n"},
    "the faces never import each other": {"api/__init__.py": "import bot\n"},
    "the bot holds no SQL": {"bot/__init__.py": "import sqlalchemy\n"},
    "the bot holds no table classes": {"bot/__init__.py": "from core import models\n"},
    "the pages hold no SQL": {"web/__init__.py": "import sqlalchemy\n"},
    "notifications only delivers": {"notifications/__init__.py": "import bot\n"},
    "the product never imports the stand-in": {"ehcp/__init__.py": "import standin\n"},
    "ops imports no face": {"ops/__init__.py": "import bot\n"},
    "ops never imports the stand-in": {"ops/__init__.py": "import standin\n"},
    "core knows nothing of ops": {"core/__init__.py": "import ops\n"},
    "the sandbox is a face: it never imports the bot": {"sandbox/__init__.py": "import bot\n"},
    "the sandbox holds no SQL": {"sandbox/__init__.py": "import sqlalchemy\n"},
}
PACKAGES = ["core", "bot", "api", "web", "notifications", "ehcp", "ops", "sandbox", "standin",
            *(f"core/{area}" for area in ("accounts", "cases", "documents", "forms", "messages", "onboarding", "reminders"))]


def _tree(tmp: Path, extra: dict[str, str]) -> Path:
    src = tmp / "src"
    for package in PACKAGES:
        (src / package).mkdir(parents=True, exist_ok=True)
        (src / package / "__init__.py").write_text("")
        if package.startswith("core"):  # the table modules the contracts name
            (src / package / "models.py").write_text("")
    # The sandbox's composition, whose imports of the sandbox the rules name as allowed.
    base = {"sandbox/runtime.py": "", "sandbox/page.py": "",
            "sandbox/demo.py": "", "ehcp/sandbox.py": "import sandbox.demo\nimport sandbox.page\nimport sandbox.runtime\n"}
    for path, text in {**base, **extra}.items():
        (src / path).write_text(text)
    # The external packages the contracts name, as empty stand-ins.
    ext = tmp / "ext"
    for name in ("aiogram", "aiogram_dialog", "aiohttp", "sqlalchemy"):
        (ext / name).mkdir(parents=True, exist_ok=True)
        (ext / name / "__init__.py").write_text("")
    return src


@pytest.mark.parametrize("rule", BREAKS)
def test_each_rule_fails_when_it_is_broken(rule: str, tmp_path: Path):
    src = _tree(tmp_path, BREAKS[rule])
    config = ROOT / ".importlinter"
    ok = lint(config, src, pythonpath=Path(f"{src}:{tmp_path / 'ext'}"))
    assert ok.returncode != 0 and "BROKEN" in ok.stdout, (rule, ok.stdout[-2000:], ok.stderr[-2000:])


def test_the_same_tree_unbroken_keeps_every_rule(tmp_path: Path):
    src = _tree(tmp_path, {})
    ok = lint(ROOT / ".importlinter", src, pythonpath=Path(f"{src}:{tmp_path / 'ext'}"))
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]


# --- core in words of its own ----------------------------------------------------------------

CORE = [p for p in (ROOT / "core").rglob("*.py") if "migrations" not in p.parts]
FACE_WORDS = re.compile(r"notifications|aiogram|Telegram HTML|parse_mode|callback_data|<b>|<i>|html\.escape|from html import")
# The buttons' packed forms (bot/callbacks.py): dash:<child>, doc:<id>:get, msg:<id>:read|reply, form:<id>:open.
CALLBACK = re.compile(r"""["']dash:\{|doc:\{[^}]*\}:get|msg:\{[^}]*\}:(?:read|reply)|form:\{[^}]*\}:open""")


def test_core_mentions_no_face_no_delivery_and_no_telegram_markup():
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in CORE
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if FACE_WORDS.search(line) or CALLBACK.search(line)
    ]
    assert found == [], "\n".join(found)


def test_the_words_rule_catches_what_it_is_for():
    for line in ('from notifications.outbox import enqueue', 'text = f"<b>{escape(name)}</b>"',
                 '{"text": "Read", "data": f"msg:{m.id}:read"}', 'buttons=[[("Open", f"form:{a}:open")]]'):
        assert FACE_WORDS.search(line) or CALLBACK.search(line), line


# --- rooms ------------------------------------------------------------------------------------


def test_no_module_is_over_600_lines():
    modules = [
        p for top in ("core", "bot", "api", "web", "notifications", "ehcp", "ops", "standin", "bench")
        for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts
    ]
    big = {str(p.relative_to(ROOT)): n for p in modules if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big == {}, textwrap.indent("\n".join(f"{k}: {v} lines" for k, v in sorted(big.items())), "  ")
