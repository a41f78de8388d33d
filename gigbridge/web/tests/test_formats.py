"""One format for money and time in every page and mail: the builtin money, day, moment filters."""

import datetime as dt
from decimal import Decimal

from django.template import Context, Template

from gigbridge.web.templatetags.gb import day, moment, money


def render(text: str, **context) -> str:
    return Template(text).render(Context(context))  # builtins: no {% load %}


def test_money_has_two_decimals_thousands_separators_and_the_currency():
    assert money(Decimal("1234567.5"), "EUR") == "1,234,567.50 EUR"
    assert money("4000", "USD") == "4,000.00 USD"  # mail contexts hold strings
    assert money(Decimal("-1250"), "EUR") == "-1,250.00 EUR"
    assert money(Decimal("0"), "EUR") == "0.00 EUR"
    assert money(Decimal("999.999"), "") == "1,000.00"
    assert money(None, "EUR") == "" and money("", "EUR") == ""
    assert money("n/a", "EUR") == "n/a"


def test_day_and_moment_in_the_program_time_zone(settings):
    settings.TIME_ZONE = "America/Adak"  # UTC-10 in December
    utc = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)
    assert moment(utc) == "2026-12-02 20:30"
    assert day(utc) == "2026-12-02"
    assert day(dt.date(2026, 1, 5)) == "2026-01-05"
    assert moment(dt.date(2026, 1, 5)) == "2026-01-05"
    assert moment("2026-12-03T06:30:00+00:00") == "2026-12-02 20:30"
    assert day("2026-12-03") == "2026-12-03"
    assert day(None) == "" and moment("") == "" and moment("soon") == ""


def test_filters_are_builtins_in_every_template():
    out = render(
        "{{ a|money:c }} · {{ d|day }} · {{ m|moment }}",
        a=Decimal("12345"),
        c="EUR",
        d=dt.date(2026, 12, 3),
        m=dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC),
    )
    assert out == "12,345.00 EUR · 2026-12-03 · 2026-12-03 14:05"


def test_no_template_formats_dates_its_own_way():
    """Every page and mail template under gigbridge/ uses day/moment, not |date:"…" (the
    sandboxes' own viewers excepted: they show the simulated services, not the product)."""
    from pathlib import Path

    import gigbridge

    root = Path(gigbridge.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("templates/**/*.*")
        if "sandbox" not in p.parts and '|date:"Y' in p.read_text()
    ]
    assert offenders == []


def test_a_date_printed_without_a_filter_has_the_one_format_too():
    import datetime as dt

    from django.template import Context, Template

    out = Template("{{ d }} · {{ m }}").render(
        Context({"d": dt.date(2026, 12, 3), "m": dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)})
    )
    assert out == "2026-12-03 · 2026-12-03 14:05"
