"""The analytics feed against the OData Version 4.0 specification (OASIS, 24 February 2014),
the conventions Power BI's "OData feed" connector relies on. Sections cited as
"Part 1" (Protocol), "Part 2" (URL Conventions), "CSDL" (Part 3, CSDL XML) and "JSON"
(OData JSON Format Version 4.0).

The dashboard tables are the small known ones of ``fakes``; the per-request facts are rows
written here, so every expected value is computed from what the test wrote."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client

from gigbridge.analytics.models import RequestFact
from gigbridge.analytics.tests import fakes
from gigbridge.analytics.tests.fakes import MONTHS, SPEND_ROWS

pytestmark = pytest.mark.django_db
fake_tables = fakes.fake_tables  # the fixture, for this module's tests

ROOT = "http://testserver/api/v1/analytics/"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
FACTS = 25
CATEGORIES = ("design", "software-development", "data-analysis")


@pytest.fixture
def token(people):
    from gigbridge.people.actions import create_api_token

    return create_api_token(people["ada"], "power bi")[1]


@pytest.fixture
def feed(token, fake_tables):
    return Client(headers={"authorization": f"Bearer {token}"})


@pytest.fixture
def facts(db):
    start = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    for n in range(1, FACTS + 1):
        RequestFact.objects.create(
            request_id=n * 3,  # keys with gaps: paging must not assume 1, 2, 3
            cost_center_id=1 + n % 2,
            task_category=CATEGORIES[n % 3],
            requester_id=100 + n % 4,
            created_at=start + dt.timedelta(days=n),
            submitted_at=start + dt.timedelta(days=n, hours=2) if n % 5 else None,
            contract_start=dt.date(2026, 2, 1) + dt.timedelta(days=n) if n % 2 else None,
            request_state="approved" if n % 2 else "submitted",
            budget_cents=n * 10_000,
            repeat_hire=n % 7 == 0,
        )
    return {f.request_id: f for f in RequestFact.objects.all()}


def get(client, url, **headers):
    return client.get(url, headers=headers)


def body(response) -> dict:
    # Decimals as Decimal: JSON numbers must carry the exact value (JSON 7.1).
    return json.loads(response.content, parse_float=Decimal)


def metadata_sets(client) -> dict[str, ET.Element]:
    """EntitySet name -> its EntityType element, resolved through the schema namespace."""
    root = ET.fromstring(get(client, ROOT + "$metadata").content)  # noqa: S314 - our own XML
    (schema,) = root.iter(f"{EDM}Schema")
    namespace = schema.get("Namespace")
    types = {f"{namespace}.{t.get('Name')}": t for t in schema.iter(f"{EDM}EntityType")}
    return {s.get("Name"): types[s.get("EntityType")] for s in schema.iter(f"{EDM}EntitySet")}


def edm_types(entity_type: ET.Element) -> dict[str, ET.Element]:
    return {p.get("Name"): p for p in entity_type.iter(f"{EDM}Property")}


def walk(client, url, **headers) -> list[dict]:
    """Every row of a collection, following @odata.nextLink (Part 1, 11.2.5.7)."""
    rows, seen = [], 0
    while url:
        response = get(client, url, **headers)
        assert response.status_code == 200, response.content
        data = body(response)
        rows.extend(data["value"])
        url = data.get("@odata.nextLink")
        seen += 1
        assert seen < 100, "nextLink never ends"
    return rows


# -- service document and metadata -----------------------------------------------------------


@pytest.mark.parametrize("url", [ROOT, ROOT.rstrip("/")])
def test_service_document_lists_every_entity_set_with_its_context(feed, url):
    response = get(feed, url)
    assert response.status_code == 200
    # JSON 3 and 3.1: the JSON format with minimal metadata; Part 1, 8.1.5: OData-Version.
    assert response["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert response["OData-Version"] == "4.0"
    data = body(response)
    # JSON 5: the service document's context URL is the metadata document's URL.
    assert data["@odata.context"] == ROOT + "$metadata"
    names = [entry["name"] for entry in data["value"]]
    for entry in data["value"]:
        assert entry["kind"] == "EntitySet" and entry["url"] == entry["name"]
    assert names[:3] == ["Summary", "SpendByCategory", "DemandByMonth"]
    assert {"RequestFacts", "MonthlyRollup"} <= set(names)
    assert set(names) == set(metadata_sets(feed))  # every listed set is declared


def test_metadata_is_csdl_with_a_typed_key_for_every_entity_set(feed):
    response = get(feed, ROOT + "$metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["OData-Version"] == "4.0"
    root = ET.fromstring(response.content)  # noqa: S314 - ours; well-formed, or this raises
    # CSDL 3.1: edmx:Edmx with Version="4.0"; 3.2: one edmx:DataServices.
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    (services,) = root.findall(f"{EDMX}DataServices")
    (schema,) = services.findall(f"{EDM}Schema")  # CSDL 5.1: one schema, one namespace
    assert re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", schema.get("Namespace"))
    (container,) = schema.findall(f"{EDM}EntityContainer")  # CSDL 13.1
    allowed = {
        "Edm.String",
        "Edm.Int64",
        "Edm.Decimal",
        "Edm.Date",
        "Edm.DateTimeOffset",
        "Edm.Boolean",
    }
    sets = metadata_sets(feed)
    assert len(sets) == len(container.findall(f"{EDM}EntitySet"))
    for name, entity_type in sets.items():
        props = edm_types(entity_type)
        # CSDL 8.2: an entity type has a key whose PropertyRefs name its non-nullable
        # primitive properties.
        (key,) = entity_type.findall(f"{EDM}Key")
        refs = [r.get("Name") for r in key.findall(f"{EDM}PropertyRef")]
        assert refs and all(ref in props for ref in refs), name
        assert all(props[ref].get("Nullable") == "false" for ref in refs), name
        for prop_name, prop in props.items():
            # CSDL 6.1 / 6.2: every property has a name and a primitive type.
            assert re.fullmatch(r"[A-Za-z_]\w*", prop_name)
            assert prop.get("Type") in allowed, (name, prop_name, prop.get("Type"))
            if prop.get("Type") == "Edm.Decimal":  # CSDL 6.2.3 and 6.2.4
                assert int(prop.get("Precision")) >= int(prop.get("Scale")) >= 0
    spend = edm_types(sets["SpendByCategory"])
    assert spend["spend"].get("Type") == "Edm.Decimal" and spend["spend"].get("Scale") == "2"
    assert spend["engagements"].get("Type") == "Edm.Int64"
    assert spend["currency"].get("Type") == "Edm.String"
    assert edm_types(sets["DemandByMonth"])["month"].get("Type") == "Edm.Date"
    facts = edm_types(sets["RequestFacts"])
    assert facts["created_at"].get("Type") == "Edm.DateTimeOffset"
    assert facts["budget_cents"].get("Type") == "Edm.Int64"


# -- JSON values -------------------------------------------------------------------------------


def _matches(value, edm: str) -> bool:
    """JSON 7.1: the JSON representation of each primitive type (IEEE754Compatible=false)."""
    if edm == "Edm.String":
        return isinstance(value, str)
    if edm == "Edm.Int64":
        return isinstance(value, int) and not isinstance(value, bool)
    if edm == "Edm.Decimal":
        return isinstance(value, int | Decimal) and not isinstance(value, bool)
    if edm == "Edm.Boolean":
        return isinstance(value, bool)
    if edm == "Edm.Date":
        return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
    if edm == "Edm.DateTimeOffset":
        return (
            isinstance(value, str)
            and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)", value)
            is not None
        )
    return False


def test_every_value_has_the_json_type_of_its_edm_type(feed, facts):
    sets = metadata_sets(feed)
    checked = 0
    for name, entity_type in sets.items():
        props = edm_types(entity_type)
        for row in walk(feed, ROOT + name):
            assert set(row) == set(props), name  # no undeclared property
            for prop_name, value in row.items():
                prop = props[prop_name]
                if value is None:
                    assert prop.get("Nullable") != "false", (name, prop_name)
                    continue
                assert _matches(value, prop.get("Type")), (name, prop_name, value)
                checked += 1
                if prop.get("Type") == "Edm.Decimal":  # no more decimals than the Scale
                    assert -value.as_tuple().exponent <= int(prop.get("Scale"))
    assert checked > 500


def test_decimals_are_exact_numbers_or_strings_when_ieee754_compatible(feed):
    rows = body(get(feed, ROOT + "SpendByCategory"))["value"]
    assert [r["spend"] for r in rows] == [
        Decimal("1234.50"),
        None,
        Decimal("-5.00"),
        Decimal("99999.99"),
    ]
    # JSON 3.2: IEEE754Compatible=true writes Int64 and Decimal as strings.
    response = get(
        feed,
        ROOT + "SpendByCategory",
        Accept="application/json;odata.metadata=minimal;IEEE754Compatible=true",
    )
    assert "IEEE754Compatible=true" in response["Content-Type"]
    first = body(response)["value"][0]
    assert first["spend"] == "1234.50" and first["engagements"] == "3"


# -- query options -----------------------------------------------------------------------------


def test_select_returns_only_the_selected_properties(feed, facts):
    # Part 2, 5.1.3: $select; JSON 10.1: the context URL names the selected properties.
    data = body(get(feed, ROOT + "SpendByCategory?$select=task_category,spend"))
    assert data["@odata.context"] == ROOT + "$metadata#SpendByCategory(task_category,spend)"
    for row in data["value"]:
        assert {k for k in row if not k.startswith("@odata.")} == {"task_category", "spend"}
        # Without the key, each entity names itself (JSON 4.5.8 odata.id).
        assert row["@odata.id"].startswith(ROOT + "SpendByCategory(")
    facts_rows = body(get(feed, ROOT + "RequestFacts?$select=request_id,budget_cents"))["value"]
    assert all(set(r) == {"request_id", "budget_cents"} for r in facts_rows)
    assert body(get(feed, ROOT + "RequestFacts?$select=*"))["value"][0].keys() >= {
        "request_id",
        "created_at",
    }
    error = get(feed, ROOT + "RequestFacts?$select=password")
    assert error.status_code == 400 and body(error)["error"]["target"] == "$select"


def _categories(client, url) -> list[str]:
    return [r["task_category"] for r in body(get(client, url))["value"]]


def test_filter_on_a_dashboard_table(feed):
    # Part 2, 5.1.1: eq, gt, lt, and, contains (5.1.1.4.1).
    base = ROOT + "SpendByCategory?$filter="
    assert _categories(feed, base + "task_category eq 'design'") == ["design"]
    assert _categories(feed, base + "engagements gt 2") == ["software-development", "data-analysis"]
    assert _categories(feed, base + "spend lt 0") == ['=HYPERLINK("http://evil.example")']
    assert _categories(feed, base + "engagements gt 1 and spend lt 10000") == [
        "software-development",
        '=HYPERLINK("http://evil.example")',
    ]
    assert _categories(feed, base + "contains(task_category,'develop')") == ["software-development"]
    assert _categories(feed, base + "spend eq null") == ["design"]
    assert _categories(feed, base + "3 le engagements") == ["software-development", "data-analysis"]
    months = body(
        get(feed, ROOT + "DemandByMonth?$filter=month ge 2025-06-01 and month lt 2025-09-01")
    )["value"]
    assert [r["month"] for r in months] == ["2025-06-01", "2025-07-01", "2025-08-01"]


def test_filter_on_the_facts_is_the_same_condition_in_sql(feed, facts):
    def keys(expression):
        rows = walk(feed, ROOT + f"RequestFacts?$filter={expression}")
        return sorted(r["request_id"] for r in rows)

    def expected(test):
        return sorted(k for k, f in facts.items() if test(f))

    assert keys("task_category eq 'design'") == expected(lambda f: f.task_category == "design")
    assert keys("budget_cents gt 100000 and budget_cents lt 200000") == expected(
        lambda f: 100000 < f.budget_cents < 200000
    )
    assert keys("contains(task_category,'analysis') or repeat_hire eq true") == expected(
        lambda f: "analysis" in f.task_category or f.repeat_hire
    )
    assert keys("submitted_at eq null") == expected(lambda f: f.submitted_at is None)
    assert keys("created_at ge 2026-01-20T00:00:00Z") == expected(
        lambda f: f.created_at >= dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    )
    assert keys("contract_start lt 2026-02-10") == expected(
        lambda f: f.contract_start is not None and f.contract_start < dt.date(2026, 2, 10)
    )
    assert keys("not (cost_center_id eq 1)") == expected(lambda f: f.cost_center_id != 1)


@pytest.mark.parametrize(
    "expression",
    [
        "budget_cents add 1 eq 2",  # arithmetic
        "length(task_category) eq 3",  # an unsupported function
        "nope eq 1",  # no such property
        "budget_cents eq 'a lot'",  # a literal of the wrong type
        "task_category eq",  # a syntax error
        "budget_cents eq request_id",  # property to property
    ],
)
def test_unsupported_filters_are_400_naming_the_option(feed, facts, expression):
    response = get(feed, ROOT + f"RequestFacts?$filter={expression}")
    assert response.status_code == 400
    error = body(response)["error"]
    assert error["target"] == "$filter" and error["message"].startswith("$filter")


def test_top_and_skip(feed, facts):
    # Part 2, 5.1.5 ($top) and 5.1.6 ($skip), applied after $filter and $orderby.
    keys = sorted(facts)
    rows = body(get(feed, ROOT + "RequestFacts?$top=4&$skip=3"))["value"]
    assert [r["request_id"] for r in rows] == keys[3:7]
    rows = body(get(feed, ROOT + "DemandByMonth?$orderby=requests desc&$top=2&$skip=1"))["value"]
    assert [r["requests"] for r in rows] == [MONTHS - 2, MONTHS - 3]
    assert body(get(feed, ROOT + "RequestFacts?$top=0"))["value"] == []
    for bad in ("$top=-1", "$skip=x", "$top=99999999999"):
        response = get(feed, ROOT + f"RequestFacts?{bad}")
        assert response.status_code == 400
        assert body(response)["error"]["target"] == bad.split("=")[0]


def test_orderby_sorts_with_the_key_as_tie_breaker(feed, facts):
    rows = walk(
        feed,
        ROOT + "RequestFacts?$orderby=task_category,budget_cents desc",
        Prefer="odata.maxpagesize=4",
    )
    got = [(r["task_category"], r["budget_cents"]) for r in rows]
    assert got == sorted(got, key=lambda t: (t[0], -t[1])) and len(got) == FACTS


def test_count_ignores_top_and_skip(feed, facts):
    # Part 2, 5.1.4: $count=true adds the number of matching rows, whatever $top and $skip.
    data = body(
        get(
            feed, ROOT + "RequestFacts?$count=true&$top=2&$skip=5&$filter=task_category eq 'design'"
        )
    )
    designs = sum(1 for f in facts.values() if f.task_category == "design")
    assert data["@odata.count"] == designs and len(data["value"]) == 2
    assert list(data)[:2] == ["@odata.context", "@odata.count"]  # before the value (JSON 4.5)
    assert body(get(feed, ROOT + "SpendByCategory?$count=true"))["@odata.count"] == len(SPEND_ROWS)
    assert "@odata.count" not in body(get(feed, ROOT + "RequestFacts?$count=false"))
    # Part 2, 4.8: /$count is the number alone, as text.
    response = get(feed, ROOT + "RequestFacts/$count?$filter=task_category eq 'design'")
    assert response.status_code == 200 and response.content.decode() == str(designs)
    assert get(feed, ROOT + "RequestFacts?$count=yes").status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "RequestFacts",  # keyset paging on the key
        "RequestFacts?$orderby=budget_cents desc",  # offset paging in a stable order
        "RequestFacts?$filter=request_state eq 'approved'&$select=request_id",
        "RequestFacts?$skip=2&$top=20",
        "DemandByMonth",
        "DemandByMonth?$filter=requests ge 3",
    ],
)
def test_next_links_walk_every_row_exactly_once(feed, facts, url):
    """Part 1, 11.2.5.7 (server-driven paging) and JSON 4.5.5 (odata.nextLink): each page
    at most the preferred size (Part 1, 8.2.8.5 odata.maxpagesize), each link the next page of
    the same request, together every row once."""
    first = get(feed, ROOT + url, Prefer="odata.maxpagesize=7")
    assert first["Preference-Applied"] == "odata.maxpagesize=7"
    everything = body(get(feed, ROOT + url, Prefer="odata.maxpagesize=1000"))
    assert "@odata.nextLink" not in everything
    paged = walk(feed, ROOT + url, Prefer="odata.maxpagesize=7")
    assert paged == everything["value"]
    key = "request_id" if url.startswith("RequestFacts") else "row_number"
    keys = [r[key] for r in paged]
    assert len(keys) == len(set(keys)) > 7
    link = body(first)["@odata.nextLink"]
    assert link.startswith(ROOT) and "$skiptoken=" in urlsplit(link).query
    assert len(body(first)["value"]) == 7


def test_pages_are_at_most_1000_rows_whatever_the_preference(feed, monkeypatch):
    from gigbridge.analytics import odata

    monkeypatch.setattr(odata, "MAX_PAGE_SIZE", 5)
    response = get(feed, ROOT + "DemandByMonth", Prefer="odata.maxpagesize=50")
    assert len(body(response)["value"]) == 5
    assert response["Preference-Applied"] == "odata.maxpagesize=5"


def test_a_forged_skiptoken_is_400(feed, facts):
    for token in ("zzz", "k1.", "o-1", "k" + "9" * 30 + ".1"):
        response = get(feed, ROOT + f"RequestFacts?$skiptoken={token}")
        assert response.status_code == 400 and body(response)["error"]["target"] == "$skiptoken"


def test_entity_by_key(feed, facts):
    # Part 2, 4.3.1: Set(key); JSON 10.5: the context URL ends with /$entity.
    key = sorted(facts)[3]
    data = body(get(feed, ROOT + f"RequestFacts({key})"))
    assert data["@odata.context"] == ROOT + "$metadata#RequestFacts/$entity"
    assert data["request_id"] == key
    response = get(feed, ROOT + "RequestFacts(1)")
    assert response.status_code == 404 and body(response)["error"]["code"] == "NotFound"
    assert body(get(feed, ROOT + "SpendByCategory(2)"))["task_category"] == "design"


def test_dashboard_filters_as_custom_query_options(feed):
    # Part 2, 5.2: custom query options (no $) are the service's: the dashboard's filters.
    rows = body(get(feed, ROOT + "SpendByCategory?task_category=design"))["value"]
    assert [r["task_category"] for r in rows] == ["design"]
    response = get(feed, ROOT + "SpendByCategory?start=2026-02-30")
    assert response.status_code == 400 and body(response)["error"]["target"] == "start"
    response = get(feed, ROOT + "RequestFacts?team=7")
    assert response.status_code == 400 and body(response)["error"]["target"] == "team"


# -- headers, errors, formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "target"),
    [
        ("RequestFacts?$expand=x", 400, "$expand"),
        ("RequestFacts?$search=x", 400, "$search"),
        ("RequestFacts?$nonsense=1", 400, "$nonsense"),
        ("RequestFacts?$top=1&$top=2", 400, "$top"),
        ("RequestFacts?$orderby=budget_cents sideways", 400, "$orderby"),
        ("NoSuchSet", 404, "NoSuchSet"),
        ("RequestFacts(3)/budget_cents", 404, "RequestFacts(3)/budget_cents"),
        ("RequestFacts?$format=xml", 406, "$format"),
        ("$metadata?$filter=x", 400, "$filter"),
        ("?$top=1", 400, "$top"),
    ],
)
def test_errors_are_odata_json_errors(feed, facts, url, status, target):
    """JSON 21: an error is {"error": {"code", "message", "target"}}; Part 1, 9.3: the status;
    Part 2, 5: a system query option the service does not support fails the request."""
    response = get(feed, ROOT + url)
    assert response.status_code == status
    assert response["OData-Version"] == "4.0"
    assert response["Content-Type"].startswith("application/json")
    error = body(response)["error"]
    assert set(error) == {"code", "message", "target"}
    assert error["target"] == target and error["code"] and error["message"]


def test_only_get(feed):
    response = feed.post(ROOT + "RequestFacts")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert body(response)["error"]["code"] == "MethodNotAllowed"


def test_json_format_option(feed):
    # Part 2, 5.1.7: $format=json (and the full media type) is JSON.
    for value in ("json", "application/json;odata.metadata=minimal"):
        response = get(feed, ROOT + f"SpendByCategory?$format={value}")
        assert response.status_code == 200 and body(response)["value"]


# -- authentication -----------------------------------------------------------------------------


def test_without_a_token_401_with_a_challenge(fake_tables, db):
    # Part 1, 9.3 / RFC 9110 11.6.1: 401 with WWW-Authenticate naming the schemes.
    for url in (ROOT, ROOT + "$metadata", ROOT + "SpendByCategory"):
        response = Client().get(url)
        assert response.status_code == 401
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith("Bearer ") and 'Basic realm="Gigbridge analytics"' in challenge
        assert body(response)["error"]["code"] == "Unauthorized"


def test_basic_auth_with_the_token_as_password(token, fake_tables):
    # What Power BI sends with "Basic" credentials: RFC 7617, user-id:password in base64.
    good = base64.b64encode(f"powerbi:{token}".encode()).decode()
    assert Client().get(ROOT, headers={"authorization": f"Basic {good}"}).status_code == 200
    bad = base64.b64encode(b"powerbi:gb_wrong").decode()
    assert Client().get(ROOT, headers={"authorization": f"Basic {bad}"}).status_code == 401
    assert Client().get(ROOT, headers={"authorization": "Basic !!!"}).status_code == 401


def test_web_api_key_parameter_and_next_links_without_it(token, fake_tables):
    # Power BI's "Web API" credential: OData.Feed(url, null, [ApiKeyName="api_key"]).
    response = Client().get(
        ROOT + f"DemandByMonth?api_key={token}", headers={"prefer": "odata.maxpagesize=5"}
    )
    assert response.status_code == 200
    assert token not in body(response)["@odata.nextLink"]  # the secret is not echoed back


def test_revoked_token_is_401_and_a_role_without_analytics_403(people, fake_tables):
    from gigbridge.people.actions import create_api_token, revoke_api_token

    row, secret = create_api_token(people["ada"], "old")
    revoke_api_token(row, by=people["ada"])
    assert Client(headers={"authorization": f"Bearer {secret}"}).get(ROOT).status_code == 401
    _, rita = create_api_token(people["rita"], "t")
    response = Client(headers={"authorization": f"Bearer {rita}"}).get(ROOT + "RequestFacts")
    assert response.status_code == 403 and body(response)["error"]["code"] == "Forbidden"


def test_wrong_tokens_count_against_the_address_then_429(token, fake_tables, settings):
    # The same budget as wrong passwords (docs/security.md): then 429 with Retry-After, and
    # even the right token waits.
    settings.SIGNIN_ADDRESS_LIMIT = 3
    statuses = [
        Client().get(ROOT, headers={"authorization": "Bearer gb_wrong"}).status_code
        for _ in range(3)
    ]
    # The failure that reaches the limit is answered by the lockout itself (signin's 429).
    assert statuses == [401, 401, 429]
    response = Client().get(ROOT, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert body(response)["error"]["code"] == "TooManyRequests"
