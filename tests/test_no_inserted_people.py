"""Scenario and browser tests make people and their agreements only the way people do: legal
records an agreement (``people.actions.record_agreement`` or ``POST /api/v1/agreements``), HR
imports its CSV export, a freelancer signs through the mailed link, a direct hire names them. A
row written straight into the tables would make a story pass that no person could live through
(issue 8: the contract step dead-ended while the tests passed). Unit tests of one rule may keep
fixtures."""

from __future__ import annotations

import re
from pathlib import Path

STORIES = Path(__file__).parent
FOLDERS = ("scenarios", "e2e")
INSERT = re.compile(
    r"\b(Agreement|Person|SigningLink)(\.objects\.(create|get_or_create|update_or_create|"
    r"bulk_create)\b|\()"
)


def test_stories_insert_no_people_or_agreements():
    found = [
        f"{path.relative_to(STORIES.parent)}:{number}: {line.strip()}"
        for folder in FOLDERS
        for path in sorted((STORIES / folder).glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INSERT.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "make them through the product instead:\n" + "\n".join(found)


def test_the_check_sees_an_insert():
    assert INSERT.search("    Agreement.objects.create(person=p, name='NDA')")
    assert INSERT.search("kim = Person.objects.get_or_create(email=e)")
    assert INSERT.search("Agreement(person=p)")
    assert not INSERT.search("record_agreement(people['lena'], email=e, name='NDA')")
    assert not INSERT.search("Person.objects.get(email__iexact=e)")
