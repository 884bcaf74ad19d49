"""`keys new --name`: a certificate name validators can compare, or a usage error before anything is made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asn1crypto import x509
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.report.keys import name_problem


def prepared(name: str) -> bool:
    """Whether certificate validators (asn1crypto, under pyHanko) can prepare the name for comparison."""
    try:
        x509.Name.build({"common_name": name}).chosen[0][0].prepped_value  # noqa: B018 - the check itself
    except ValueError:
        return False
    return True


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=64))
def test_every_name_we_accept_can_be_compared_by_a_validator(name: str) -> None:
    if name_problem(name) is None:
        assert prepared(name)


def test_an_emoji_name_is_a_usage_error_and_no_key_is_made(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    out = tmp_path / "keys"
    result = run_cli("keys", "new", "--name", "Ops 🔐", "--out", out, "--no-passphrase")
    assert result.exit_code == 2
    assert "CLOSED LOCK WITH KEY (U+1F510)" in result.output and not prepared("Ops 🔐")
    assert not out.exists()


def test_names_in_other_scripts_are_accepted(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("keys", "new", "--name", "Zoë Operações 運用チーム", "--out", tmp_path / "keys", "--no-passphrase")
    assert result.exit_code == 0, result.output
    assert "CN=Zoë Operações 運用チーム" in result.output
