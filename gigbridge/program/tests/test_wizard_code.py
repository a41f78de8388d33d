"""The one-time set-up code: private, typed loosely, compared exactly, used once."""

from __future__ import annotations

from gigbridge.program import wizard_code


def test_the_code_is_private_stable_and_typed_loosely(tmp_path):
    code, created = wizard_code.ensure_code(tmp_path)
    assert created and len(code) == 19 and code.count("-") == 3
    assert wizard_code.code_file(tmp_path).stat().st_mode & 0o777 == 0o600
    assert wizard_code.ensure_code(tmp_path) == (code, False)
    assert wizard_code.matches(tmp_path, code)
    assert wizard_code.matches(tmp_path, f"  {code.upper().replace('-', ' ')} ")
    assert not wizard_code.matches(tmp_path, code[:-1])
    assert not wizard_code.matches(tmp_path, "")
    assert not wizard_code.matches(tmp_path, code + "x" * 100)


def test_two_installations_get_different_codes(tmp_path):
    first, _ = wizard_code.ensure_code(tmp_path / "a")
    second, _ = wizard_code.ensure_code(tmp_path / "b")
    assert first != second


def test_the_code_is_claimed_once_and_can_be_put_back(tmp_path):
    code, _ = wizard_code.ensure_code(tmp_path)
    assert wizard_code.claim(tmp_path) == code
    assert wizard_code.claim(tmp_path) is None  # the second of two racing requests
    assert not wizard_code.matches(tmp_path, code)
    wizard_code.restore(tmp_path, code)
    assert wizard_code.matches(tmp_path, code)
    assert wizard_code.code_file(tmp_path).stat().st_mode & 0o777 == 0o600


def test_no_code_matches_nothing(tmp_path):
    assert not wizard_code.matches(tmp_path, "anything")
