"""compliance.agreements: each required agreement's document and validity."""

import datetime as dt

import pytest

from gigbridge import clock
from gigbridge.program.policy import PolicyError, parse_policy
from gigbridge.program.tests.test_policy import EXAMPLE


def example_text() -> str:
    return EXAMPLE.read_text()


def with_terms(terms: str, required: str = "[NDA, MSA]") -> str:
    text = example_text()
    assert "  required_agreements: [NDA, MSA]\n" in text
    return text.replace(
        "  required_agreements: [NDA, MSA]\n",
        f"  required_agreements: {required}\n{terms}",
    )


def test_the_plain_list_still_parses_and_has_no_terms():
    policy = parse_policy(example_text())
    assert policy.compliance.required_agreements == ("NDA", "MSA")
    assert policy.compliance.terms_of("MSA").valid_days is None
    assert policy.compliance.signing_link_valid_days == 7


def test_documents_and_validity_per_agreement():
    policy = parse_policy(
        with_terms(
            "  agreements:\n"
            "    NDA: {document: agreements/nda-v3.md}\n"
            "    MSA: {document: 'https://legal.example/msa-v2.pdf', valid_days: 730}\n"
            "  signing_link_valid_days: 14\n"
        )
    )
    assert policy.compliance.terms_of("NDA").document == "agreements/nda-v3.md"
    assert policy.compliance.terms_of("MSA").valid_days == 730
    assert policy.compliance.signing_link_valid_days == 14


@pytest.mark.parametrize(
    "terms, expected",
    [
        ("    DPA: {valid_days: 30}\n", "'DPA' is not one of compliance.required_agreements"),
        ("    NDA: {valid_days: 0}\n", "valid_days: must be at least 1"),
        ("    NDA: {valid_days: 3651}\n", "valid_days: must be at most 3650"),
        ("    NDA: {document: ../secret_key}\n", "document: must be an https:// address"),
        ("    NDA: {document: /etc/passwd}\n", "document: must be an https:// address"),
        ("    NDA: {document: 'https://x.example/" + "a" * 500 + "'}\n", "at most 500"),
        ("    NDA: {pages: 3}\n", "NDA.pages"),
    ],
)
def test_terms_are_bounded_and_refer_to_required_agreements(terms, expected):
    with pytest.raises(PolicyError) as exc:
        parse_policy(with_terms("  agreements:\n" + terms))
    assert expected in str(exc.value)


def test_link_days_are_bounded():
    with pytest.raises(PolicyError) as exc:
        parse_policy(with_terms("  signing_link_valid_days: 31\n"))
    assert "signing_link_valid_days: must be at most 30" in str(exc.value)


@pytest.mark.parametrize(
    "days, expected",
    [
        ("0", "agreement_expiry_alert_days: must be at least 1"),
        ("366", "agreement_expiry_alert_days: must be at most 365"),
        ("'30'", "agreement_expiry_alert_days"),
    ],
)
def test_expiry_alert_days_are_bounded(days, expected):
    assert parse_policy(example_text()).compliance.agreement_expiry_alert_days == 30
    with pytest.raises(PolicyError) as exc:
        parse_policy(
            example_text().replace(
                "agreement_expiry_alert_days: 30", f"agreement_expiry_alert_days: {days}"
            )
        )
    assert expected in str(exc.value)


@pytest.mark.django_db
def test_validity_sets_the_expiry_when_recorded(people, tmp_path):
    from gigbridge.people.actions import record_agreement
    from gigbridge.program.actions import activate_policy

    text = with_terms("  agreements:\n    MSA: {valid_days: 730}\n")
    activate_policy(text, "program.yaml", actor="tests")
    signed = clock.today() - dt.timedelta(days=10)
    msa = record_agreement(people["lena"], email="v@free.example", name="MSA", signed_on=signed)
    assert msa.expires_on == signed + dt.timedelta(days=730)
    nda = record_agreement(people["lena"], email="v@free.example", name="NDA", signed_on=signed)
    assert nda.expires_on is None
    given = record_agreement(
        people["lena"],
        email="w@free.example",
        name="MSA",
        signed_on=signed,
        expires_on=signed + dt.timedelta(days=30),
    )
    assert given.expires_on == signed + dt.timedelta(days=30)  # what was signed wins
