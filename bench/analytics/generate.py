"""A deterministic enterprise-size program written straight into Gigbridge's source tables.

The shape (``scale`` 1.0; every count but the fixed dimensions scales with it):

- 10 years of program: requests created 2016-01-01 .. 2025-12-31, more each year (the day is
  drawn as ``span * sqrt(u)``: demand grows linearly); the bench pins the clock at 2026-01-01.
- 40 cost centers (the bench policy defines them, so they are real policy cost centers), 10 task
  categories, 300 teams (``program.Workspace``), each with a home cost center that 85 % of its
  requests are charged to, and two favourite task categories (60 % of its requests).
- 5,000 hiring managers (auth users with an employee ``Person``), each mostly in one team, and
  60 approvers (auth users) who decide the steps; 200,000 freelancers (``Person``, 60 countries,
  so repeat hires happen).
- 1,250,000 work requests, exactly 80 % approved (1,000,000 engagements), 9 % rejected, 6 %
  withdrawn, 5 % in approval. Budgets log-normal around 6,000 EUR (200 .. 200,000); 70 % hourly.
  10 % of the work is confidential, 10 % direct hires (no marketplace contract).
- Approval steps as the bench policy's rules ask: the manager always, procurement from 5,000,
  legal for confidential work, finance then the cost center owner from 25,000 (1-4 steps: at most
  four, legal is left out of the rare request that would need five). Each step waits hours to
  days (per role) before its decision; a rejected request stops at the rejecting step (later
  steps cancelled), a withdrawn one has its open step cancelled, one in approval has a pending
  step and later ones waiting.
- Engagements: created at the request's approval; 5 % cancelled before a contract (no
  freelancer, no contract dates, offer declined); the rest contracted 2-30 days after approval
  for 14-180 days: ``active`` when the contract runs past the pinned today, else ``closed``.
- Per contracted engagement: one ``Sourcing`` row (a marketplace contract id ``C%08d``; direct
  hires have none), one accepted ``MarketplaceOffer`` (marketplace only), two access grants
  (guest account, Team membership) applied 0-72 hours after the contract start, ~3 payments
  (0-6; 70 % in USD with ``amount_program`` at 0.92, the rest in EUR), and, for marketplace
  hourly contracts, hour entries on distinct days of the contract (``contract_id`` + ``date`` is
  unique), their number drawn so that the total is exactly 10,000,000 at scale 1.0.

Rows are written set by set: PostgreSQL ``COPY`` (psycopg 3) with foreign-key triggers off
during the load (``session_replication_role = replica``; the rows are consistent by construction),
SQLite ``executemany`` in one transaction per table with ``synchronous=OFF``. Never one ORM save
per row. Randomness is ``random.Random(seed)``: the same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

START = dt.date(2016, 1, 1)
END = dt.date(2025, 12, 31)  # the last day a request is created
TODAY = dt.date(2026, 1, 1)  # the clock the bench pins
SPAN_DAYS = (END - START).days + 1
USD_RATE = 0.92  # the bench policy's exchange rate (examples/program.yaml's)

N_COST_CENTERS = 40
N_TEAMS = 300
N_MANAGERS = 5_000
N_APPROVERS = 60
N_COUNTRIES = 60
TASK_CATEGORIES = [
    "design",
    "software-development",
    "content",
    "data-analysis",
    "translation",
    "video",
    "marketing",
    "research",
    "legal-review",
    "customer-support",
]
COUNTRIES = (
    "US GB DE FR ES IT NL PL PT IE SE DK FI NO BE AT CH CZ RO GR HU BG HR SK SI LT LV EE UA RS "
    "IN PK BD LK PH VN ID MY TH SG JP KR CN TW AU NZ CA MX BR AR CL CO PE ZA NG KE EG MA TR IL"
).split()
assert len(COUNTRIES) == N_COUNTRIES
DEPARTMENTS = [
    "Marketing", "Engineering", "Data", "Localization", "Operations", "Design", "Sales",
    "Support", "Legal", "Finance",
]  # fmt: skip
REGIONS = ["EMEA", "Americas", "APAC", "Global"]
RULE_OF = {  # the bench policy's (examples/program.yaml's) rule ids
    "manager": "manager",
    "procurement": "procurement-over-5k",
    "legal": "legal-confidential",
    "finance": "finance-over-25k",
    "cost_center_owner": "finance-over-25k",
}
ROLE_WAIT_HOURS = {  # (low, high) hours a step of this role waits for its decision
    "manager": (1, 72),
    "procurement": (4, 120),
    "legal": (8, 240),
    "finance": (4, 168),
    "cost_center_owner": (2, 96),
}


def cost_center_codes() -> list[tuple[str, str]]:
    """(code, name) of the bench's 40 cost centers: ten departments in four regions."""
    return [
        (f"CC-{d[:3].upper()}-{r[:2].upper()}", f"{d} {r}") for d in DEPARTMENTS for r in REGIONS
    ]


@dataclass
class Shape:
    scale: float = 1.0
    seed: int = 12

    @property
    def requests(self) -> int:
        return max(40, round(1_250_000 * self.scale))

    @property
    def hour_entries(self) -> int:
        return max(10, round(10_000_000 * self.scale))

    @property
    def freelancers(self) -> int:
        return max(20, round(200_000 * self.scale))

    @property
    def managers(self) -> int:
        return max(10, min(N_MANAGERS, round(N_MANAGERS * self.scale)))


@dataclass
class Report:
    """What was written: rows and seconds per table."""

    tables: dict[str, dict] = field(default_factory=dict)

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.tables[table] = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        }


# -- formatting (values are str/int/None so both drivers take them as they are) ------------------

_DAYS: list[str] = []
_HM = [f"{h:02d}:{m:02d}:00" for h in range(24) for m in range(60)]


def _day(index: int) -> str:
    """The date ``index`` days after START, as 'YYYY-MM-DD' (cached: a few thousand strings)."""
    while index >= len(_DAYS):
        _DAYS.append((START + dt.timedelta(days=len(_DAYS))).isoformat())
    return _DAYS[index]


def _ts(minute: int) -> str:
    """The UTC moment ``minute`` minutes after START's midnight, Django's text form."""
    return f"{_day(minute // 1440)} {_HM[minute % 1440]}"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


TODAY_INDEX = (TODAY - START).days


# -- writers -------------------------------------------------------------------------------------


class Writer:
    """Writes rows of one table set-based, in the connection Django opened."""

    def __init__(self, progress: Callable[[str], None] | None = None):
        from django.db import connection

        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection
        self.progress = progress or (lambda line: None)
        self.written: list[str] = []
        if self.vendor == "sqlite":
            cur = self.raw.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            # Rows are consistent by construction; checking each one's parents would halve the
            # rate. Switched back on in finish() (a PRAGMA outside any transaction).
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA cache_size=-400000")  # 400 MB of page cache during the load
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

    def next_id(self, table: str) -> int:
        return self.next_id_of(table, "id")

    def next_id_of(self, table: str, column: str) -> int:
        cur = self.raw.cursor()
        # table names here are the generator's own constants, never input
        cur.execute(f"SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}")  # noqa: S608
        value = cur.fetchone()[0]
        cur.close()
        return value

    def write(self, table: str, columns: list[str], rows: Iterable[tuple]) -> int:
        from django.db import transaction

        started = time.monotonic()
        count = 0
        last = started
        if columns[0] == "id":
            self.written.append(table)  # its sequence moves past the ids written
        with transaction.atomic():
            cur = self.raw.cursor()
            if self.vendor == "postgresql":
                cur.execute("SET LOCAL session_replication_role = replica")
                cur.execute("SET LOCAL TIME ZONE 'UTC'")
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                        if not count % 500_000:
                            last = self._tick(table, count, started, last)
            else:
                sql = (
                    f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (ours)
                    f"VALUES ({', '.join('?' * len(columns))})"
                )
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 100_000:
                        cur.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                        if not count % 500_000:
                            last = self._tick(table, count, started, last)
                if batch:
                    cur.executemany(sql, batch)
                    count += len(batch)
            cur.close()
        return count

    def _tick(self, table: str, count: int, started: float, last: float) -> float:
        now = time.monotonic()
        self.progress(f"  {table}: {count:,} rows, {count / (now - started):,.0f} rows/s")
        return now

    def finish(self) -> None:
        """Statistics for the planner; PostgreSQL's sequences moved past the ids written."""
        cur = self.raw.cursor()
        if self.vendor == "postgresql":
            for table in self.written:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("ANALYZE")
        cur.close()


# -- the data ------------------------------------------------------------------------------------


def make_put(w: Writer, report: Report, say: Callable[[str], None]):
    """Write one table's rows, record and print its rate."""

    def put(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
        started = time.monotonic()
        count = w.write(table, columns, rows)
        seconds = time.monotonic() - started
        report.add(table, count, seconds)
        rate = count / max(seconds, 1e-9)
        say(f"{table}: {count:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)")

    return put


def generate(
    shape: Shape, progress: Callable[[str], None] | None = None, write_policy: bool = True
) -> Report:
    """Fill the source tables; the policy (``bench_policy``) must be active already."""
    say = progress or (lambda line: None)
    w = Writer(say)
    report = Report()
    rng = random.Random(shape.seed)

    put = make_put(w, report, say)

    from gigbridge.program.models import CostCenter, PolicyVersion

    ccs = dict(CostCenter.objects.filter(code__in=[c for c, _ in cost_center_codes()])
               .values_list("code", "id"))  # fmt: skip
    if len(ccs) != N_COST_CENTERS:
        raise RuntimeError(
            f"the bench policy's {N_COST_CENTERS} cost centers are not in the database "
            f"({len(ccs)} found): activate bench_policy() first"
        )
    cc_ids = [ccs[c] for c, _ in cost_center_codes()]
    policy_id = PolicyVersion.objects.order_by("-number").values_list("id", flat=True).first()

    # -- people: approvers, hiring managers (users + employees), freelancers ----------------
    n_managers = shape.managers
    user0 = w.next_id("auth_user")
    joined = "2015-12-01 09:00:00"

    def users() -> Iterator[tuple]:
        for i in range(N_APPROVERS + n_managers):
            name = f"approver{i:03d}" if i < N_APPROVERS else f"manager{i - N_APPROVERS:05d}"
            yield (user0 + i, "!", 0, name, "", name.capitalize(), f"{name}@bench.example",
                   0, 1, joined)  # fmt: skip

    put("auth_user", ["id", "password", "is_superuser", "username", "first_name", "last_name",
                      "email", "is_staff", "is_active", "date_joined"], users())  # fmt: skip
    approver_ids = [user0 + i for i in range(N_APPROVERS)]
    manager_ids = [user0 + N_APPROVERS + i for i in range(n_managers)]

    freelancer_country = [
        COUNTRIES[min(int(rng.expovariate(1 / 12)), N_COUNTRIES - 1)]
        for _ in range(shape.freelancers)
    ]
    person0 = w.next_id("people_person")

    def people() -> Iterator[tuple]:
        pid = person0
        for i in range(n_managers):
            name = f"manager{i:05d}"
            yield (pid, "employee", f"{name}@bench.example", f"Manager {i:05d}", "", None,
                   manager_ids[i], joined)  # fmt: skip
            pid += 1
        for i in range(shape.freelancers):
            yield (pid, "freelancer", f"freelancer{i:06d}@bench.example", f"Freelancer {i:06d}",
                   freelancer_country[i], None, None, joined)  # fmt: skip
            pid += 1

    put("people_person", ["id", "kind", "email", "display_name", "country", "manager_id",
                          "user_id", "created_at"], people())  # fmt: skip
    freelancer0 = person0 + n_managers
    # -- teams ----------------------------------------------------------------------------------
    ws0 = w.next_id("program_workspace")
    team_cc = [cc_ids[(t * 7) % N_COST_CENTERS] for t in range(N_TEAMS)]
    team_cats = [(t % 10, (t * 3 + 1) % 10) for t in range(N_TEAMS)]

    def teams() -> Iterator[tuple]:
        for t in range(N_TEAMS):
            yield (ws0 + t, f"Team {t + 1:03d}", f"team-{t + 1:03d}", f"Team {t + 1:03d}", "",
                   "", "", "", "", 0, 1, "", joined)  # fmt: skip

    put("program_workspace", ["id", "name", "team_id", "team_name", "drive_id", "folder_id",
                              "folder_path", "plan_id", "bucket_id", "new_team", "ready",
                              "last_error", "created_at"], teams())  # fmt: skip
    manager_team = [rng.randrange(N_TEAMS) for _ in range(n_managers)]

    # -- requests, steps, engagements: drawn together, written table by table ------------------
    n_req = shape.requests
    n_approved = round(n_req * 0.80)
    n_rejected = round(n_req * 0.09)
    n_withdrawn = round(n_req * 0.06)
    states = (
        ["approved"] * n_approved
        + ["rejected"] * n_rejected
        + ["withdrawn"] * n_withdrawn
        + ["in_approval"] * (n_req - n_approved - n_rejected - n_withdrawn)
    )
    rng.shuffle(states)
    created_days = sorted(int(SPAN_DAYS * math.sqrt(rng.random())) for _ in range(n_req))
    say(f"drawing {n_req:,} requests ...")

    req0 = w.next_id("engagements_workrequest")
    eng0 = w.next_id("engagements_engagement")
    # Per request: the columns every later table needs (kept as parallel lists: 1.25 M rows).
    R: list[tuple] = []  # request rows
    steps: list[tuple] = []
    E: list[tuple] = []  # (eng id, req id, state, freelancer, start idx, end idx, created min,
    #                       pricing, budget cents, sourcing, rate cents, cc, team, category)
    for i in range(n_req):
        rid = req0 + i
        state = states[i]
        m = rng.randrange(n_managers)
        team = manager_team[m] if rng.random() < 0.9 else rng.randrange(N_TEAMS)
        cc = team_cc[team] if rng.random() < 0.85 else cc_ids[rng.randrange(N_COST_CENTERS)]
        fav = team_cats[team]
        cat = fav[0] if rng.random() < 0.4 else fav[1] if rng.random() < 0.33 else rng.randrange(10)
        hourly = rng.random() < 0.7
        budget = min(20_000_000, max(20_000, int(rng.lognormvariate(math.log(600_000), 0.9))))
        confidential = rng.random() < 0.1
        marketplace = rng.random() < 0.9
        freelancer = rng.randrange(shape.freelancers)
        created = created_days[i] * 1440 + rng.randrange(7 * 60, 19 * 60)
        submitted = created + rng.randrange(5, 600)
        duration = rng.randrange(14, 181)
        start_day = created_days[i] + 7 + rng.randrange(30)
        # the chain the bench policy's rules ask for
        roles = ["manager"]
        if budget >= 500_000:
            roles.append("procurement")
        if confidential and budget < 2_500_000:
            roles.append("legal")
        if budget >= 2_500_000:
            roles += ["finance", "cost_center_owner"]
        if state == "rejected" or state in ("withdrawn", "in_approval"):
            stop = rng.randrange(len(roles))  # the step that rejected, or the open one
        else:
            stop = len(roles)
        t = submitted
        decided = None
        for k, role in enumerate(roles):
            low, high = ROLE_WAIT_HOURS[role]
            head = (rid, k + 1, role, RULE_OF[role])
            if k < stop or (k == stop and state == "rejected"):
                wait = rng.randrange(low * 60, high * 60)
                steps.append((*head, "approved" if k < stop else "rejected", _ts(t),
                              approver_ids[rng.randrange(N_APPROVERS)], _ts(t + wait)))  # fmt: skip
                t += wait
                decided = t
            elif k == stop:
                steps.append((*head, "pending" if state == "in_approval" else "cancelled",
                              _ts(t), None, None))  # fmt: skip
            else:
                steps.append((*head, "waiting" if state == "in_approval" else "cancelled",
                              None, None, None))  # fmt: skip
        if state == "approved":
            start_day = max(start_day, decided // 1440 + 2)
        end_day = start_day + duration
        last_change = decided if decided and state in ("approved", "rejected") else submitted
        R.append((rid, manager_ids[m], f"{TASK_CATEGORIES[cat]} work {i}", "", "[]", "[]",
                  TASK_CATEGORIES[cat], "freelancer", cc, "hourly" if hourly else "fixed",
                  _money(budget), "EUR", _day(start_day), _day(end_day),
                  "confidential" if confidential else "internal",
                  "marketplace" if marketplace else "direct",
                  f"freelancer{freelancer:06d}@bench.example", freelancer_country[freelancer],
                  ws0 + team, state, policy_id, _ts(submitted),
                  _ts(decided) if state in ("approved", "rejected") else None, _ts(created),
                  _ts(last_change)))  # fmt: skip
        if state == "approved":
            E.append((eng0 + len(E), rid, freelancer, start_day, end_day, decided, hourly,
                      budget, marketplace))  # fmt: skip

    put("engagements_workrequest", [
        "id", "requester_id", "title", "description", "deliverables", "skills", "task_category",
        "worker_category", "cost_center_id", "pricing", "budget", "currency", "start_date",
        "end_date", "data_classification", "sourcing", "freelancer_email", "freelancer_country",
        "workspace_id", "state", "policy_version_id", "submitted_at", "decided_at", "created_at",
        "updated_at"], R)  # fmt: skip
    del R
    step0 = w.next_id("engagements_approvalstep")
    put("engagements_approvalstep", [
        "id", "request_id", "round", "stage", "role", "rule_id", "policy_version_id", "state",
        "activated_at", "decided_by_id", "decided_at", "comment"],
        ((step0 + k, s[0], 1, s[1], s[2], s[3], policy_id, s[4], s[5], s[6], s[7], "")
         for k, s in enumerate(steps)))  # fmt: skip
    del steps

    # -- engagements and what hangs off them --------------------------------------------------
    # cancelled before contract: 5 %; hour entries for marketplace hourly contracts
    n_eng = len(E)
    cancelled = [rng.random() < 0.05 for _ in range(n_eng)]
    hourly_idx = [k for k, e in enumerate(E) if e[6] and e[8] and not cancelled[k]]
    counts = _hour_counts(rng, len(hourly_idx), shape.hour_entries, [
        min(E[k][4] - E[k][3], TODAY_INDEX - E[k][3]) for k in hourly_idx])  # fmt: skip
    hours_of = dict(zip(hourly_idx, counts, strict=True))

    def engagements() -> Iterator[tuple]:
        for k, (eid, rid, freelancer, sday, eday, decided, *_rest) in enumerate(E):
            if cancelled[k]:
                yield (eid, rid, "cancelled", None, None, None, _ts(decided),
                       _ts(decided + rng.randrange(1440, 20 * 1440)))  # fmt: skip
            else:
                state = (
                    "closed" if eday < TODAY_INDEX
                    else "active" if sday <= TODAY_INDEX
                    else "contracted"
                )  # fmt: skip
                yield (eid, rid, state, freelancer0 + freelancer, _day(sday), _day(eday),
                       _ts(decided), _ts(min(eday, TODAY_INDEX - 1) * 1440 + 600))  # fmt: skip

    put("engagements_engagement", ["id", "request_id", "state", "freelancer_id",
                                   "contract_start", "contract_end", "created_at", "updated_at"],
        engagements())  # fmt: skip

    src0 = w.next_id("engagements_sourcing")
    put("engagements_sourcing", ["id", "engagement_id", "organization_id", "job_posting_id",
                                 "posting_state", "contract_id", "contract_status", "last_error",
                                 "updated_at"],
        ((src0 + k, e[0], "bench-org" if e[8] else "", f"J{e[0]:08d}" if e[8] else "",
          ("closed" if e[8] else "none"), f"C{e[0]:08d}" if e[8] and not cancelled[k] else "",
          ("" if not e[8] or cancelled[k] else "ACTIVE" if e[4] >= TODAY_INDEX else "CLOSED"),
          "", _ts(e[5])) for k, e in enumerate(E)))  # fmt: skip

    off0 = w.next_id("engagements_marketplaceoffer")
    put("engagements_marketplaceoffer", ["id", "engagement_id", "upwork_id", "state",
                                         "contract_type", "amount", "currency", "terms", "error",
                                         "created_at", "sent_at", "answered_at"],
        ((off0 + k, e[0], f"O{e[0]:08d}", "declined" if cancelled[k] else "accepted",
          "HOURLY" if e[6] else "FIXED_PRICE", _money(round(e[7] / USD_RATE)), "USD", "{}", "",
          _ts(e[5] + 60), _ts(e[5] + 90), _ts(e[5] + 1440 + (k % 5000)))
         for k, e in enumerate(E) if e[8]))  # fmt: skip

    grant0 = w.next_id("access_grant")

    def grants() -> Iterator[tuple]:
        gid = grant0
        for k, e in enumerate(E):
            if cancelled[k]:
                continue
            start = e[3] * 1440 + 8 * 60
            guest = start + rng.randrange(0, 24 * 60)
            team = guest + rng.randrange(5, 48 * 60)
            ended = e[4] < TODAY_INDEX
            removed = _ts((e[4] + 3) * 1440) if ended else None
            principal = f"freelancer{e[2]:06d}@bench.example"
            for kind, target, applied in (
                ("guest", "tenant", guest),
                ("team_member", f"team-{e[0] % N_TEAMS:03d}", team),
            ):
                yield (gid, e[0], kind, target, "removed" if ended else "applied", "", principal,
                       "bench", None, _ts(applied), removed)  # fmt: skip
                gid += 1

    put("access_grant", ["id", "engagement_id", "kind", "target", "state", "external_id",
                         "principal", "reason", "expires_at", "applied_at", "removed_at"],
        grants())  # fmt: skip

    pay0 = w.next_id("engagements_payment")

    def payments() -> Iterator[tuple]:
        pid = pay0
        for k, e in enumerate(E):
            if cancelled[k]:
                continue
            n = (
                rng.choice((0, 1, 2, 3, 3, 3, 4, 4, 5, 6))
                if e[4] < TODAY_INDEX
                else rng.randrange(3)
            )
            if not n:
                continue
            total = int(e[7] * rng.uniform(0.6, 1.0))
            span = max(1, min(e[4], TODAY_INDEX - 1) - e[3])
            contract = f"C{e[0]:08d}" if e[8] else f"D{e[0]:08d}"
            for j in range(n):
                cents = total // n
                day = e[3] + (span * (j + 1)) // n
                usd = e[8] and rng.random() < 0.78
                amount = round(cents / USD_RATE) if usd else cents
                yield (pid, e[0], f"T{e[0]:08d}-{j}", contract, "Hourly" if e[6] else "Milestone",
                       "", _money(amount), "USD" if usd else "EUR", _money(cents),
                       _ts(day * 1440 + 720))  # fmt: skip
                pid += 1

    put("engagements_payment", ["id", "engagement_id", "transaction_id", "contract_id", "kind",
                                "description", "amount", "currency", "amount_program", "paid_at"],
        payments())  # fmt: skip

    te0 = w.next_id("engagements_timeentry")

    def hour_entries() -> Iterator[tuple]:
        tid = te0
        for k, n in hours_of.items():
            e = E[k]
            contract = f"C{e[0]:08d}"
            days = max(1, min(e[4], TODAY_INDEX) - e[3])
            step = max(1, days // n)
            rate = 2000 + (e[0] * 7919) % 13000  # 20 .. 150 EUR an hour
            synced = _ts(min(e[4], TODAY_INDEX - 1) * 1440 + 1200)
            for j in range(n):
                quarter_hours = 4 + (e[0] + j * 31) % 29  # 1 .. 8 hours
                yield (tid, e[0], contract, _day(e[3] + j * step),
                       f"{quarter_hours // 4}.{(quarter_hours % 4) * 25:02d}",
                       _money(rate * quarter_hours // 4), "", synced)  # fmt: skip
                tid += 1

    put("engagements_timeentry", ["id", "engagement_id", "contract_id", "date", "hours",
                                  "amount", "memo", "synced_at"], hour_entries())  # fmt: skip

    audit_events(w, put)

    started = time.monotonic()
    w.finish()
    report.add("analyze", 0, time.monotonic() - started)
    say(f"analyze: {time.monotonic() - started:.1f} s")
    return report


REFUSAL_RULES = ["blocked_countries", "max_engagement_days", "rehire_cooling_off_days",
                 "required_agreements"]  # fmt: skip


def audit_events(w: Writer, put: Callable[[str, list[str], Iterable[tuple]], None]) -> None:
    """The audit events the analytics read, derived from the rows already written (so this runs
    after them, and again on its own on a database generated before it existed):
    ``engagement.contracted`` the working day before each contract starts (never before the
    approval), ``engagement.cancelled`` when a cancelled engagement last changed, and
    ``compliance.refused`` on every 50th request (a refusal, then the fixed request went on).

    The rows carry placeholder hashes, not the product's HMAC chain: the bench database is for
    the analytics, never for ``gigbridge audit verify``."""
    cur = w.raw.cursor()
    cur.execute(
        "SELECT id, state, contract_start, created_at, updated_at FROM engagements_engagement "
        "WHERE state <> 'sourcing' ORDER BY id"
    )
    engagements = cur.fetchall()
    cur.execute("SELECT id, created_at FROM engagements_workrequest WHERE id % 50 = 7 ORDER BY id")
    refused = cur.fetchall()
    cur.close()
    seq0 = w.next_id_of("audit_auditevent", "seq")

    def rows() -> Iterator[tuple]:
        seq = seq0
        prev = "0" * 64
        for eid, state, start, created, updated in engagements:
            if state == "cancelled":
                at, action = _minute(updated), "engagement.cancelled"
            else:
                at = (_day_index(start) - 1) * 1440 + 540 + eid % 600
                # signed before it starts, after the approval, never after the pinned now
                at = max(_minute(created) + 60, min(at, TODAY_INDEX * 1440 - 60))
                action = "engagement.contracted"
            digest = f"{seq:064x}"
            yield (seq, _ts(at), "bench", action, "engagement", str(eid), "", prev, digest, 2)
            prev = digest
            seq += 1
        for rid, created in refused:
            digest = f"{seq:064x}"
            yield (seq, _ts(_minute(created) + 1), "bench", "compliance.refused", "workrequest",
                   str(rid), REFUSAL_RULES[rid % 4], prev, digest, 2)  # fmt: skip
            prev = digest
            seq += 1

    put("audit_auditevent", ["seq", "created_at", "actor", "action", "object_type", "object_id",
                             "rule", "prev_hash", "hash", "hash_version"], rows())  # fmt: skip


def _minute(value) -> int:
    """Minutes since START of a datetime as either driver returns it (text on SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value[:19])
    value = value.replace(tzinfo=None)
    return int((value - dt.datetime(START.year, START.month, START.day)).total_seconds() // 60)


def _day_index(value) -> int:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return (value - START).days


def _hour_counts(rng: random.Random, n: int, total: int, room: list[int]) -> list[int]:
    """``n`` hour-entry counts summing to exactly ``total``, each at most its contract's days
    (``room``): uniform around the mean, then nudged one by one until the sum is right."""
    if not n:
        return []
    room = [max(1, r) for r in room]
    mean = total / n
    counts = [min(room[k], max(1, round(rng.uniform(0.3, 1.7) * mean))) for k in range(n)]
    diff = total - sum(counts)
    k = 0
    guard = 0
    while diff and guard < 50 * n:
        j = k % n
        if diff > 0 and counts[j] < room[j]:
            counts[j] += 1
            diff -= 1
        elif diff < 0 and counts[j] > 1:
            counts[j] -= 1
            diff += 1
        k += 7919
        guard += 1
    return counts


def bench_policy_text() -> str:
    """The example policy with the bench's 40 cost centers and 10 task categories."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent.parent
    data = yaml.safe_load((root / "examples" / "program.yaml").read_text())
    data["task_categories"] = TASK_CATEGORIES
    data["cost_centers"] = [
        {"code": code, "name": name, "annual_budget": 25_000_000,
         "owner": f"owner.{code.lower()}@bench.example"}
        for code, name in cost_center_codes()
    ]  # fmt: skip
    return yaml.safe_dump(data, sort_keys=False)
