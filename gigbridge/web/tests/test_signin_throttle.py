"""Sign-in throttling: per account and address, per address, for passwords, tokens and OIDC."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from conftest import PASSWORD
from gigbridge.audit.actions import verify as verify_audit
from gigbridge.audit.models import AuditEvent
from gigbridge.people.actions import create_api_token
from gigbridge.web import signin

WRONG = "not-the-password-31337"


@pytest.fixture(autouse=True)
def _fresh_security_log():
    signin.reset_log()
    yield
    signin.reset_log()


def sign_in(client, username, password, address):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def security_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]


def test_thirty_wrong_passwords_are_throttled_audited_and_logged(client, people, caplog):
    answers = [sign_in(client, "rita", WRONG, "10.0.0.1") for _ in range(30)]

    limit = settings.SIGNIN_ACCOUNT_LIMIT
    assert [a.status_code for a in answers[: limit - 1]] == [200] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1 :]} == {429}
    locked = answers[-1]
    assert b"Too many sign-in attempts" in locked.content and b"Try again after" in locked.content
    assert 0 < int(locked["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    # While locked even the right password is refused from there, and nothing more is counted.
    assert sign_in(client, "rita", PASSWORD, "10.0.0.1").status_code == 429
    assert AccessAttempt.objects.get().failures_since_start == limit
    # Rita elsewhere, and someone else at the same address, still sign in.
    assert sign_in(client.__class__(), "rita", PASSWORD, "10.0.0.2").status_code == 302
    assert sign_in(client.__class__(), "lena", PASSWORD, "10.0.0.1").status_code == 302

    lockout = AuditEvent.objects.get(action="auth.locked_out")  # one event, not one per try
    assert (lockout.object_type, lockout.object_id) == ("account", "rita")
    assert lockout.after["address"] == "10.0.0.1" and lockout.after["locked_until"]
    assert verify_audit().ok
    lines = security_lines(caplog)
    failed = "sign-in failed kind=password account=rita address=10.0.0.1"
    assert sum(failed in line for line in lines) == limit
    assert any("sign-in refused (locked out) account=rita" in x for x in lines)
    assert any("sign-in locked out scope=account_at_address account=rita" in x for x in lines)
    assert WRONG not in caplog.text and PASSWORD not in caplog.text


def test_many_accounts_from_one_address_lock_the_address(client, people):
    names = ["rita", "lena", "max", "paula", "hank", "fiona", "dan"]
    tries = [(names[i % len(names)], i) for i in range(settings.SIGNIN_ADDRESS_LIMIT)]
    answers = [sign_in(client, name, WRONG, "10.0.0.3").status_code for name, _ in tries]

    assert answers[:-1] == [200] * (len(answers) - 1) and answers[-1] == 429
    assert sign_in(client, "dan", PASSWORD, "10.0.0.3").status_code == 429
    assert sign_in(client.__class__(), "dan", PASSWORD, "10.0.0.4").status_code == 302
    assert AuditEvent.objects.filter(action="auth.locked_out", object_type="address").exists()


def test_a_right_password_forgives_that_persons_typos(client, people):
    limit = settings.SIGNIN_ACCOUNT_LIMIT
    for _ in range(limit - 1):
        assert sign_in(client, "rita", WRONG, "10.0.0.5").status_code == 200
    assert sign_in(client, "rita", PASSWORD, "10.0.0.5").status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert sign_in(client, "rita", WRONG, "10.0.0.5").status_code == 200


def test_the_lock_ends_after_the_cool_off(client, people):
    for _ in range(settings.SIGNIN_ACCOUNT_LIMIT):
        sign_in(client, "rita", WRONG, "10.0.0.6")
    assert sign_in(client, "rita", PASSWORD, "10.0.0.6").status_code == 429
    # No sleeping: the counted failures are moved back past the cool-off.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - dt.timedelta(seconds=1)
    )
    assert sign_in(client, "rita", PASSWORD, "10.0.0.6").status_code == 302


def test_a_flood_of_wrong_tokens_is_throttled_per_address(client, people, caplog):
    _, secret = create_api_token(people["rita"], "script")
    limit = settings.SIGNIN_ADDRESS_LIMIT

    def call(token, address):
        return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)

    answers = [call(f"gbt_wrong{i}", "10.0.0.7") for i in range(limit + 5)]

    assert [a.status_code for a in answers[: limit - 1]] == [401] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1 :]} == {429}
    throttled = answers[-1]
    assert throttled["Content-Type"] == "application/problem+json"
    assert throttled.json()["status"] == 429 and int(throttled["Retry-After"]) > 0
    assert call(secret, "10.0.0.7").status_code == 429  # a valid token from there waits too
    assert call(secret, "10.0.0.8").status_code == 200
    lockout = AuditEvent.objects.get(action="auth.locked_out")
    assert (lockout.object_type, lockout.object_id) == ("address", "10.0.0.7")
    assert "gbt_wrong" not in caplog.text and secret not in caplog.text


def test_forged_oidc_callbacks_lock_the_address_out_of_oidc_sign_in(client, people, settings):
    settings.OIDC = {
        "authority": "https://login.invalid/contoso",
        "client_id": "gigbridge",
        "client_secret": "s3cret",
    }
    for i in range(settings.SIGNIN_ADDRESS_LIMIT):
        forged = client.get(f"/auth/oidc/callback?code=x&state=forged{i}", REMOTE_ADDR="10.0.0.9")
        assert forged.status_code in (400, 429)

    assert client.get("/auth/oidc/login/", REMOTE_ADDR="10.0.0.9").status_code == 429
    assert client.get("/auth/oidc/callback?state=y", REMOTE_ADDR="10.0.0.9").status_code == 429


def test_the_client_address_comes_from_the_proxy_only_when_told(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.7")
    settings.GIGBRIDGE_BEHIND_PROXY = False
    assert signin.client_address(request) == "10.1.1.1"
    settings.GIGBRIDGE_BEHIND_PROXY = True
    assert signin.client_address(request) == "192.0.2.7"  # the hop the proxy appended
    forged = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert signin.client_address(forged) == "0.0.0.0"  # noqa: S104 - counted, never bound
