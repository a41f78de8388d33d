"""The wizard's questions in a terminal: one at a time, defaults in brackets, a bad answer asked
again with the reason, then a summary to confirm. ``ask`` returns validated ``Answers``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TextIO

from pydantic import TypeAdapter, ValidationError

from .wizard import (
    LABELS,
    MAX_AGREEMENTS,
    MAX_COST_CENTERS,
    AgreementAnswer,
    Answers,
    AnswersError,
    CostCenterAnswer,
    standard_rules,
    validate_answers,
)

MAX_TRIES = 20  # a script piping wrong answers forever must end


class Aborted(Exception):
    """The person stopped (end of input, or too many wrong answers)."""


class Terminal:
    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin, self.stdout = stdin, stdout

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def line(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        text = self.stdin.readline()
        if not text:
            raise Aborted("the answers ended before the questions did")
        return text.rstrip("\n").strip()

    def ask(self, prompt: str, check: Callable[[str], Any], default: str | None = None) -> Any:
        """Ask until ``check`` accepts the answer (it raises ValueError with the reason)."""
        shown = f"{prompt} [{default}]: " if default not in (None, "") else f"{prompt}: "
        for _ in range(MAX_TRIES):
            text = self.line(shown)
            if not text and default is not None:
                text = default
            try:
                return check(text)
            except ValueError as error:
                self.say(f"  {error}; try again.")
        raise Aborted(f"{MAX_TRIES} answers to one question were refused")


def _field(model: type, name: str) -> Callable[[Any], Any]:
    """A check of one answer by the model's own rules (bounds, formats), errors for people."""
    info = model.model_fields[name]
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    adapter = TypeAdapter(annotation)

    def check(value: Any) -> Any:
        try:
            return adapter.validate_python(value)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
            message = first["msg"]
            raise ValueError(f"{where + ': ' if where else ''}{message}") from None

    return check


def _text(model: type, name: str, *, optional: bool = False) -> Callable[[str], Any]:
    check = _field(model, name)
    return lambda text: None if optional and not text else check(text)


def _listed(model: type, name: str) -> Callable[[str], list]:
    check = _field(model, name)
    return lambda text: check([part.strip() for part in text.split(",") if part.strip()])


def _number(model: type, name: str) -> Callable[[str], Any]:
    check = _field(model, name)

    def parse(text: str) -> Any:
        try:
            return check(int(text))
        except ValueError as error:
            if "invalid literal" in str(error):
                raise ValueError(f"{text!r} is not a whole number") from None
            raise

    return parse


def _money(optional: bool) -> Callable[[str], Decimal | None]:
    check = _field(CostCenterAnswer, "annual_budget")

    def parse(text: str) -> Decimal | None:
        if optional and text.lower() in ("", "no", "none", "never", "-"):
            return None
        try:
            amount = Decimal(text.replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"{text!r} is not an amount, such as 5000 or 1250.50") from None
        return check(amount)

    return parse


def yes_no(text: str) -> bool:
    if text.lower() in ("y", "yes"):
        return True
    if text.lower() in ("n", "no"):
        return False
    raise ValueError("answer y or n")


def _rates(text: str) -> dict:
    """USD=0.92, GBP=1.16"""
    rates: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, rate = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r}: write CODE=RATE, such as USD=0.92")
        rates[code.strip()] = rate.strip()
    return _field(Answers, "exchange_rates")(rates)


def ask(term: Terminal) -> Answers:
    """Ask every question; -> the answers, validated as a whole (re-asked until they are)."""
    term.say("Define the freelance program. Press Enter to take the answer in [brackets].")
    term.say("")
    data: dict[str, Any] = {}
    data["program_name"] = term.ask(LABELS["program_name"], _text(Answers, "program_name"))
    currency = term.ask(LABELS["currency"], _text(Answers, "currency"), "EUR")
    data["currency"] = currency
    data["fiscal_year_start_month"] = term.ask(
        LABELS["fiscal_year_start_month"], _number(Answers, "fiscal_year_start_month"), "1"
    )
    default_rates = "" if currency == "USD" else "USD=0.92"
    data["exchange_rates"] = term.ask(
        LABELS["exchange_rates"] + ", CODE=RATE, comma-separated; - for none",
        lambda t: {} if t in ("", "-") else _rates(t),
        default_rates,
    )
    data["task_categories"] = term.ask(
        LABELS["task_categories"] + ", comma-separated",
        _listed(Answers, "task_categories"),
        "design, software-development, content, data-analysis, translation",
    )
    data["worker_categories"] = term.ask(
        LABELS["worker_categories"] + ", comma-separated",
        _listed(Answers, "worker_categories"),
        "employee, vendor, contingent, freelancer",
    )
    term.say("")
    term.say("Cost centers: each has a code, a name, an annual budget and an owner who approves.")
    centers: list[dict] = []
    while len(centers) < MAX_COST_CENTERS:
        number = len(centers) + 1
        done = "; Enter when done" if centers else ""
        code = term.ask(
            f"Cost center {number} code (such as CC-MKT{done})",
            lambda t: "" if (not t and centers) else _text(CostCenterAnswer, "code")(t),
        )
        if not code:
            break
        if any(center["code"] == code for center in centers):
            term.say(f"  {code} is given already; give another code.")
            continue
        centers.append(
            {
                "code": code,
                "name": term.ask(f"  {code} name", _text(CostCenterAnswer, "name")),
                "annual_budget": term.ask(
                    f"  {code} annual budget ({currency})", _money(optional=False)
                ),
                "owner": term.ask(f"  {code} owner's email", _text(CostCenterAnswer, "owner")),
            }
        )
    data["cost_centers"] = centers
    term.say("")
    term.say("Approvals: who approves which work requests (docs/policy.md explains the rules).")
    manager = term.ask(
        "Does the requester's line manager approve every request? (y/n)", yes_no, "y"
    )
    procurement = term.ask(
        f"Procurement approves from which amount ({currency}; 'never' for no)",
        _money(optional=True),
        "5000",
    )
    legal = term.ask("Does legal review work on confidential data? (y/n)", yes_no, "y")
    hr = "contingent" in data["worker_categories"] and term.ask(
        "Does HR confirm contingent staff? (y/n)", yes_no, "y"
    )
    finance = term.ask(
        f"Finance and then the cost center owner approve from which amount ({currency}; 'never')",
        _money(optional=True),
        "25000",
    )
    data["approval_rules"] = standard_rules(
        manager=manager,
        procurement_from=procurement,
        legal_confidential=legal,
        hr_contingent=bool(hr),
        finance_from=finance,
        currency=currency,
    )
    term.say("")
    term.say("Agreements every freelancer signs before work starts.")
    agreement_name = _text(AgreementAnswer, "name")

    def agreement_names(text: str) -> list[str]:
        names = [] if text == "-" else [agreement_name(n) for n in text.split(",") if n.strip()]
        if len(names) > MAX_AGREEMENTS:
            raise ValueError(f"at most {MAX_AGREEMENTS} agreements")
        if len(set(names)) < len(names):
            raise ValueError("an agreement is listed twice")
        return names

    names = term.ask(
        "Required agreements, comma-separated; - for none", agreement_names, "NDA, MSA"
    )
    agreements = []
    for name in names:
        document = term.ask(
            f"  {name}: document (https:// address or file in the data folder; Enter for none)",
            _text(AgreementAnswer, "document", optional=True),
            "",
        )
        valid_days = term.ask(
            f"  {name}: days a signature holds (Enter: it does not expire)",
            lambda t: None if not t else _number(AgreementAnswer, "valid_days")(t),
            "",
        )
        agreements.append({"name": name, "document": document, "valid_days": valid_days})
    data["agreements"] = agreements
    term.say("")
    data["max_engagement_days"] = term.ask(
        LABELS["max_engagement_days"], _number(Answers, "max_engagement_days"), "180"
    )
    data["cooling_off_days"] = term.ask(
        LABELS["cooling_off_days"], _number(Answers, "cooling_off_days"), "90"
    )
    data["blocked_countries"] = term.ask(
        LABELS["blocked_countries"] + ", comma-separated; - for none",
        lambda t: [] if t == "-" else _listed(Answers, "blocked_countries")(t),
        "CU, IR, KP, SY",
    )
    data["access_grace_days"] = term.ask(
        LABELS["access_grace_days"], _number(Answers, "access_grace_days"), "3"
    )
    data["file_share_role"] = term.ask(
        LABELS["file_share_role"], _text(Answers, "file_share_role"), "write"
    )
    data["notifications_channel"] = term.ask(
        LABELS["notifications_channel"], _text(Answers, "notifications_channel"), "outlook"
    )
    data["security_contacts"] = term.ask(
        LABELS["security_contacts"] + ", comma-separated; - for none",
        lambda t: [] if t == "-" else _listed(Answers, "security_contacts")(t),
        "-",
    )
    try:
        return validate_answers(data)
    except AnswersError as error:
        # Each answer passed its own check; what is left involves several (a duplicate).
        raise Aborted(f"the answers do not fit together:\n{error}") from None


def summary(answers: Answers) -> list[str]:
    """What the person is asked to confirm, in a few lines."""
    a = answers
    centers = ", ".join(
        f"{c.code} {c.name} ({c.annual_budget} {a.currency}, {c.owner})" for c in a.cost_centers
    )
    rules = "; ".join(f"{r.id}: {', '.join(r.approvers)}" for r in a.approval_rules)
    return [
        f"Program:        {a.program_name} ({a.currency}, fiscal year from month "
        f"{a.fiscal_year_start_month})",
        f"Cost centers:   {centers}",
        f"Approval rules: {rules or 'none'}",
        f"Agreements:     {', '.join(g.name for g in a.agreements) or 'none'}",
        f"Limits:         engagements up to {a.max_engagement_days} days, "
        f"{a.cooling_off_days} days before a rehire, access ends "
        f"{a.access_grace_days} days after a contract",
        f"Blocked:        {', '.join(a.blocked_countries) or 'no country'}",
    ]
