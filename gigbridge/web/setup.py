"""The set-up wizard in the web, for the first admin of a new installation (docs/setup.md).

While no program policy is active, every page leads here (``program.wizard_middleware``);
the questions are ``program.wizard`` and ``program.wizard_forms``:

1. no account exists yet: the first admin makes theirs, with the one-time set-up code that
   `gigbridge init` / `gigbridge up` printed (so whoever reaches the server first cannot take it
   over); they become program_admin and are signed in;
2. the program's questions (the terminal's, ``wizard``), errors beside each answer;
3. the generated policy to review; "Start the program" writes and activates it.

With accounts but no policy, only a program admin may answer (SET_UP_PROGRAM); others are told
whom to ask. Once a policy is active, these pages answer 404: the wizard never runs again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from gigbridge.audit.actions import record
from gigbridge.people.actions import grant_role, users_with_role
from gigbridge.people.capabilities import Capability, can, deny
from gigbridge.people.models import Person, Role
from gigbridge.program import wizard, wizard_code
from gigbridge.program.actions import activate_policy
from gigbridge.program.models import PolicyVersion
from gigbridge.program.policy import PolicyError
from gigbridge.program.wizard_forms import (
    ROWS,
    AdminForm,
    ProgramForm,
    answers_data,
    initial_from_answers,
)

from . import signin

log = logging.getLogger(__name__)
SESSION_KEY = "gigbridge_setup_answers"


def _closed() -> bool:
    return PolicyVersion.objects.exists()


def _gate(request):
    """None if ``request`` may answer the program questions now, else the answer to give."""
    if _closed():
        raise Http404("the program is set up already")
    if not get_user_model().objects.exists():
        return redirect("web:setup")  # the first admin's account comes first
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Capability.SET_UP_PROGRAM):
        deny(request.user, "set up the program", reason="only a program admin can set it up")
        admins = [
            user.get_full_name() or user.get_username()
            for user in users_with_role(Role.PROGRAM_ADMIN)[:5]
        ]
        return render(request, "web/setup/not_yet.html", {"admins": admins}, status=403)
    return None


@require_http_methods(["GET", "POST"])
def setup(request):
    if _closed():
        raise Http404("the program is set up already")
    if not get_user_model().objects.exists():
        return _first_admin(request)
    refused = _gate(request)
    if refused is not None:
        return refused
    return _questions(request)


# ---------------------------------------------------------------------------------------------
# Step 1: the first admin
# ---------------------------------------------------------------------------------------------


def _first_admin(request):
    if request.method == "POST":
        if signin.is_locked(request):
            return signin.lockout_response(request)
        form = AdminForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["setup_code"]
            if not wizard_code.matches(settings.DATA_DIR, code):
                # Counts against the address like a wrong password (rate limited, logged).
                signin.failed(request, "setup-code")
                form.add_error("setup_code", "This is not the set-up code of this installation.")
            else:
                user = _create_first_admin(request, form.cleaned_data)
                if user is None:
                    form.add_error("setup_code", "This set-up code has been used already.")
                else:
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                    messages.success(
                        request,
                        f"Welcome, {user.get_full_name()}: you are this program's admin. "
                        "Now define the program.",
                    )
                    return redirect("web:setup")
    else:
        form = AdminForm()
    return render(request, "web/setup/admin.html", {"form": form})


def _create_first_admin(request, data):
    claimed = wizard_code.claim(settings.DATA_DIR)  # used once: one racing request wins
    if claimed is None:
        return None
    try:
        with transaction.atomic():
            user_model = get_user_model()
            if user_model.objects.select_for_update().exists():
                raise _Taken()
            user = user_model.objects.create_user(
                username=data["username"],
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
            person, _ = Person.objects.get_or_create(
                email=data["email"],
                defaults={
                    "kind": Person.Kind.EMPLOYEE,
                    "display_name": f"{data['first_name']} {data['last_name']}",
                },
            )
            if person.user_id is None:
                person.user = user
                person.save(update_fields=["user"])
            grant_role(user, Role.PROGRAM_ADMIN, by=user)
            record(
                user=user,
                action="setup.first_admin",
                obj=user,
                object_type="user",
                after={"user": user.get_username(), "address": signin.client_address(request)},
            )
    except _Taken:
        return None
    except Exception:
        wizard_code.restore(settings.DATA_DIR, claimed)  # nothing was made: the code holds
        raise
    return user


class _Taken(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Step 2: the program's questions
# ---------------------------------------------------------------------------------------------


def _row_count(post, prefix: str, most: int) -> int:
    try:
        count = int(post.get(f"{prefix}-count", "0"))
    except ValueError:
        count = 0
    return max(0, min(count, most))


def _bound_rows(post) -> dict[str, list]:
    """Each repeatable section's rows as posted (with a row added or removed), re-numbered."""
    rows: dict[str, list] = {}
    add, remove = post.get("add", ""), post.get("remove", "")
    for key, (row_form, prefix, most) in ROWS.items():
        values = [
            _values(row_form(post, prefix=f"{prefix}-{i}"))
            for i in range(_row_count(post, prefix, most))
        ]
        if remove.startswith(f"{prefix}-"):
            index = remove.removeprefix(f"{prefix}-")
            if index.isdigit() and int(index) < len(values):
                values.pop(int(index))
        if add == prefix and len(values) < most:
            values.append({})
        rows[key] = [row_form(prefix=f"{prefix}-{i}", initial=row) for i, row in enumerate(values)]
    return rows


def _values(form) -> dict:
    return {name: form[name].value() for name in form.fields}


def _initial_values(form) -> dict:
    return {name: form.initial.get(name, "") for name in form.fields}


def _filled(values: dict) -> bool:
    return any(value not in ("", None, []) for value in values.values())


def _unbound_rows(stored: dict[str, list[dict]]) -> dict[str, list]:
    return {
        key: [
            row_form(prefix=f"{prefix}-{i}", initial=row)
            for i, row in enumerate(stored.get(key, []))
        ]
        for key, (row_form, prefix, _most) in ROWS.items()
    }


def _fresh_rows() -> dict[str, list[dict]]:
    rules = wizard.standard_rules()
    stored = initial_from_answers({"approval_rules": rules})[1]
    stored["cost_centers"] = [{}]
    stored["agreements"] = [{"name": "NDA"}, {"name": "MSA"}]
    return stored


def _questions(request):
    if request.method == "POST":
        program = ProgramForm(request.POST)
        rows = _bound_rows(request.POST)
        if request.POST.get("add") or request.POST.get("remove"):
            return _render_questions(request, program, rows)  # a row added or removed
        program.is_valid()
        program_values = {name: program[name].value() for name in program.fields}
        kept: dict[str, list[dict]] = {}
        displayed: dict[str, list[int]] = {}
        for key, forms in rows.items():
            kept[key], displayed[key] = [], []
            for index, form in enumerate(forms):
                values = _initial_values(form)
                if _filled(values):
                    kept[key].append(values)
                    displayed[key].append(index)
        data = answers_data(program_values, kept)
        try:
            answers = wizard.validate_answers(data)
        except wizard.AnswersError as error:
            section_errors = _place_errors(error, program, rows, displayed)
            return _render_questions(request, program, rows, section_errors, status=422)
        request.session[SESSION_KEY] = answers.model_dump(mode="json")
        return redirect("web:setup-review")
    stored = request.session.get(SESSION_KEY)
    if stored:
        initial, stored_rows = initial_from_answers(stored)
        program = ProgramForm(initial=initial)
    else:
        program, stored_rows = ProgramForm(), _fresh_rows()
    return _render_questions(request, program, _unbound_rows(stored_rows))


def _place_errors(error, program, rows, displayed) -> dict[str, list[str]]:
    """Each problem beside its field; -> problems about a whole section (or the answers)."""
    sections: dict[str, list[str]] = {}
    for path, message in error.problems:
        parts = path.split(".") if path else []
        head = parts[0] if parts else ""
        if head in ROWS:
            if len(parts) >= 3 and parts[1].isdigit():
                index = int(parts[1])
                positions = displayed.get(head, [])
                if index < len(positions):
                    form = rows[head][positions[index]]
                    field = parts[3] if parts[2] == "when" and len(parts) > 3 else parts[2]
                    if field in form.fields:
                        _add(form, field, message)
                        continue
            sections.setdefault(head, []).append(message)
        elif head in program.fields:
            _add(program, head, message if len(parts) == 1 else f"{'.'.join(parts[1:])}: {message}")
        else:
            sections.setdefault("", []).append(f"{path}: {message}" if path else message)
    return sections


def _add(form, field: str, message: str) -> None:
    form.errors  # noqa: B018 - an unbound row's errors start empty here
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    form.add_error(
        field, message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    )


def _render_questions(request, program, rows, section_errors=None, status=200):
    sections = [
        (
            "cost_centers",
            "Cost centers",
            "cc",
            "Add a cost center",
            "Each has a code (such as CC-MKT), a name, an annual budget in the program currency "
            "and an owner, who approves when a rule asks the cost center owner.",
        ),
        (
            "approval_rules",
            "Approval rules",
            "rule",
            "Add a rule",
            "Read top to bottom: every rule that matches a request adds its approvers.",
        ),
        (
            "agreements",
            "Required agreements",
            "agr",
            "Add an agreement",
            "What every freelancer signs before work starts.",
        ),
    ]
    context = {
        "form": program,
        "sections": [
            {
                "key": key,
                "title": title,
                "prefix": prefix,
                "add_label": add,
                "help": help_text,
                "rows": rows[key],
                "count": len(rows[key]),
                "errors": (section_errors or {}).get(key, []),
            }
            for key, title, prefix, add, help_text in sections
        ],
        "errors": (section_errors or {}).get("", []),
    }
    return render(request, "web/setup/program.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Step 3: review and start
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def review(request):
    refused = _gate(request)
    if refused is not None:
        return refused
    stored = request.session.get(SESSION_KEY)
    if not stored:
        return redirect("web:setup")
    try:
        answers = wizard.validate_answers(stored)
        text, _policy = wizard.policy_from_answers(answers)
    except (wizard.AnswersError, PolicyError):
        messages.error(request, "The answers need another look.")
        return redirect("web:setup")
    if request.method == "POST":
        return _start(request, answers, text)
    return render(
        request,
        "web/setup/review.html",
        {"answers": answers, "policy_text": text, "policy_file": settings.POLICY_FILE},
    )


def _start(request, answers, text):
    policy_file = settings.POLICY_FILE
    try:
        # The file first: workers waiting for the program start once the version is committed,
        # and then read this file.
        wizard.write_policy_file(policy_file, text)
    except FileExistsError:
        messages.error(request, f"A policy appeared at {policy_file} meanwhile; it was kept.")
        return redirect("web:home")
    except OSError as error:
        log.error("cannot write the policy file %s: %s", policy_file, error.strerror)
        messages.error(
            request,
            f"The policy could not be written to {policy_file}: "
            f"{error.strerror}. Ask the server's operator.",
        )
        return redirect("web:setup-review")
    try:
        version, _ = activate_policy(text, str(policy_file), user=request.user)
    except Exception:
        policy_file.unlink(missing_ok=True)
        raise
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"{answers.program_name} has started with policy v{version.number}.")
    return redirect("web:home")
