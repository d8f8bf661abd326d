"""A council's own form definitions are checked before anything runs: `ehcp-bot forms check`
lists the forms, and a bad definition stops both it and `ehcp-bot run` with a message that names
the file and the problem."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli_and_settings import cli_env, run_cli

HEAD = """\
id: school_transport
version: 1
title: School Transport Request
steps:
  - name: About the journey
    items:
"""

GOOD = HEAD + """\
      - guidance: Tell us about your child's journey to school.
      - id: distance
        type: number
        text: How many miles is it from home to school?
        minimum: 0
        maximum: 100
"""

# A condition on a question that comes later: it could never be answered in time.
BAD = HEAD + """\
      - id: escort
        type: yes_no
        text: Does your child need an escort?
        show_if: {question: distance, equals: 3}
      - id: distance
        type: number
        text: How many miles is it?
"""


def test_forms_check_lists_the_bundled_forms_and_the_councils_own(tmp_path: Path):
    own = tmp_path / "forms"
    own.mkdir()
    (own / "school_transport.yaml").write_text(GOOD)
    done = run_cli("forms", "check", env=cli_env(tmp_path / "var", EHCP_FORMS_DIR=str(own)))
    assert done.returncode == 0, done.stderr
    ids = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert {"parental_preference", "annual_review_views", "ehc_needs_assessment_request",
            "school_transport"} <= set(ids)
    assert "School Transport Request" in done.stdout


def test_a_bad_definition_is_refused_with_its_file_and_problem(tmp_path: Path):
    own = tmp_path / "forms"
    own.mkdir()
    (own / "school_transport.yaml").write_text(BAD)
    env = cli_env(tmp_path / "var", EHCP_FORMS_DIR=str(own))
    checked = run_cli("forms", "check", env=env)
    assert checked.returncode == 1
    assert "school_transport.yaml" in checked.stderr and "distance" in checked.stderr, checked.stderr
    # `run` refuses to start on it, before opening any port or the database.
    ran = run_cli("run", env=env)
    assert ran.returncode == 2
    assert "school_transport.yaml" in ran.stderr and "distance" in ran.stderr, ran.stderr
    assert not (tmp_path / "var" / "ehcp.sqlite3").exists()
