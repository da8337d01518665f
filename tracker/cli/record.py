"""``tracker record <event>``: one subcommand per event type, built from the event's model.

Options are read as text and validated by the model itself, so the command line and
an imported line accept exactly the same facts.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from typing import Annotated, Any, Optional

import typer

from events import EVENT_TYPES, Fact, Money, Party, Source, parse_line
from events.commitments import COMPLETING_STEPS, EntryIntoForceRule
from events.errors import InvalidInput

record_app = typer.Typer(
    name="record",
    help="Record one fact as an event. One subcommand per event type; see"
    " 'tracker schema TYPE' for every field.\n\nExample: tracker record milestone-reached"
    " --commitment-id xian-2023-trans-caspian-route --occurred-on 2024-06"
    " --milestone 'first container train through Aktau' --source-title 'Akorda press service'"
    "\n\nA side's step, with its value: tracker record facility-opened --commitment-id"
    " xian-2023-cultural-centres --occurred-on 2024-11 --facility 'Kazakh cultural centre' --party KZ"
    " --value-amount 2000000 --value-currency USD --source-title 'Ministry of Culture and Sports'"
    "\n\nAnother source for a recorded fact: tracker record source-cited --cites xian-2023-visa-exemption-signed --occurred-on 2023-05-17"
    " --source-title 'Kazinform: visa agreement signed in Xian' --source-kind 'news agency'",
    no_args_is_help=True,
    add_completion=False,  # 'tracker --install-completion' completes record's subcommands too
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)

SKIP = {"originator_id", "originator_version", "recorded_at", "seal"}
LIST_OPTION = {"parties": "party", "signatories": "signatory", "cities": "city"}
TEXT_LIST_OPTION = {"deliverables": "deliverable"}  # lists of text: one option, repeated
SAMPLES: dict[str, str] = {
    "commitment_id": "xian-2023-visa-exemption",
    "meeting_id": "xian-2023-state-visit",
    "occurred_on": "2023-05-17",
    "kind": "agreement",
    "title": "Agreement on mutual exemption from visa requirements",
    "instrument": "agreement",
    "procedure": "ratification",
    "party": "KZ",
    "parties": "KZ",
    "cities": "KZ:Shymkent",
    "stay_days": "30",
    "superseded_by": "xian-2023-visa-exemption",
    "university": "Al-Farabi Kazakh National University",
    "city": "Almaty",
    "milestone": "first students enrolled",
    "status": "in implementation",
    "track": "legal",
    "value": "100000000",
    "score": "1",
    "note": "Signed as announced",
    "corrects": "xian-2023-visa-exemption-signed",
    "retracts": "xian-2023-visa-exemption-signed",
    "reason": "The report gave the wrong day",
    "changes": "occurred_on=2023-05-18",
    "count": "22",
    "cites": "xian-2023-visa-exemption-signed",
    "conflicts_with": "xian-2023-visa-exemption-signed",
    "claims": "occurred_on=2023-05-18",
    "settles": "xian-2023-visa-exemption-signed-date-claim",
    "outcome": "recorded fact stands",
    "reporter": "KZ",
    "partner": "CN",
    "flow": "exports",
    "period": "2023-Q1",
    "step": "upper chamber approved",
}


# Help for the fields whose model gives none (the models describe what a field is, not how to type it).
FIELD_HELP = {
    "note": "Free text kept with the fact (shown in 'tracker history')",
    "meeting_id": "Stable id of the meeting",
    "title": "Title, as the source gives it",
    "place": "Where it took place",
    "count": "How many documents the source says were signed",
    "kind": "What kind of commitment (agreement, memorandum, contracts...)",
    "sector": "Sector it belongs to (mobility, trade, culture...)",
    "instrument": "Kind of document signed",
    "procedure": "Which domestic procedure",
    "max_days_per_period": "Most days of stay in each period",
    "period_days": "Length of that period in days",
    "university": "The university that opened the branch",
    "city": "The city where it opened",
    "milestone": "The step reached, in a few words",
    "status": "The new implementation status",
    "track": "Which track",
    "superseded_by": "Id of the commitment that replaces it",
    "value": "Amount of money",
    "currency": "Currency of the amount",
    "approximate": "The amount is approximate",
    "flow": "Which trade flow",
    "score": "-1 (worse than promised), 0 (as promised) or 1 (better)",
    "assessor": "Who made the judgement",
    "corrects": "Event id of the fact to correct (see 'tracker history')",
    "retracts": "Event id of the fact to withdraw (see 'tracker history')",
    "reason": "Why, in a sentence",
    "relation": "How it relates to the other",
}
# Options that take FIELD=VALUE pairs, for the fields holding such a dict.
PAIRS_OPTION = {"changes": "change", "claims": "claim"}


def _metavar(name: str, annotation: Any) -> str:
    """What to type, as a user reads it (every option is read as text, then validated)."""
    import decimal

    if annotation is int:
        return "INTEGER"
    if annotation is decimal.Decimal:
        return "NUMBER"
    if name == "occurred_on" or name.endswith("_on") or name == "period":
        return "DATE"
    return "TEXT"


def command_name(type_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type_name).lower()


def _is_list_of_parties(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list and typing.get_args(annotation) == (Party,)


def _base(annotation: Any) -> Any:
    """The annotation without ``| None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _parties(values: list[str], option: str) -> list[dict[str, str]]:
    out = []
    for value in values:
        country, _, institution = value.partition(":")
        item = {"country": country.strip()}
        if institution.strip():
            item["institution"] = institution.strip()
        out.append(item)
    return out


def _changes(values: list[str], option: str = "change") -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for value in values:
        field, sep, raw = value.partition("=")
        if not sep or not field.strip():
            raise InvalidInput(f"--{option} {value!r}: use FIELD=VALUE")
        try:
            changes[field.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            changes[field.strip()] = raw
    return changes


def _parameters(model: type[Fact]) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    params: list[inspect.Parameter] = []
    for name, info in model.model_fields.items():
        if name in SKIP:
            continue
        annotation = _base(info.annotation)
        required = info.is_required()
        helptext = (info.description or FIELD_HELP.get(name, "")).rstrip(".")
        if name == "event_id":
            helptext = "Unique id of this event (default: made from its content, so the same fact recorded again changes nothing)"
            required = False
        if name == "source":
            for part, about in Source.model_fields.items():
                base = _base(about.annotation)
                kinds = typing.get_args(base) if typing.get_origin(base) is typing.Literal else ()
                helptext = f"Source {part.replace('_', ' ')}" + (": " + ", ".join(kinds) if kinds else "")
                params.append(_option(f"source_{part}", str, helptext
                                      + (" (required unless --no-source)" if part == "title" else ""), False,
                                      metavar="DATE" if part.endswith("_on") else "CHOICE" if kinds else "TEXT"))
            params.append(inspect.Parameter(
                "no_source", inspect.Parameter.KEYWORD_ONLY, default=False,
                annotation=Annotated[bool, typer.Option(
                    "--no-source", help="Record it without a source (it shows '(no source)')")]))
            continue
        if annotation is Money:
            params.append(_option("value_amount", str, "Its value: the amount (with --value-currency)", False,
                                  metavar="NUMBER"))
            params.append(_option("value_currency", str, "Currency of the value (ISO 4217: USD, CNY, KZT...)",
                                  False, metavar="CODE"))
            params.append(inspect.Parameter(
                "value_approximate", inspect.Parameter.KEYWORD_ONLY, default=False,
                annotation=Annotated[bool, typer.Option(
                    "--value-approximate", help="The source gives the value as approximate")]))
            continue
        if name in TEXT_LIST_OPTION:
            params.append(_option(TEXT_LIST_OPTION[name], list[str], helptext + "; repeat for each", required))
            continue
        if annotation is EntryIntoForceRule:
            params.append(_option("entry_into_force_days", int,
                                  "Days after the last notification that it enters into force", False,
                                  metavar="INTEGER"))
            steps = typing.get_args(typing.get_args(_base(EntryIntoForceRule.model_fields["completed_by"].annotation))[0])
            params.append(_option("completed_by", list[str],
                                  "A domestic procedure step that completes a party's procedure; repeat for each"
                                  f" (default: {', '.join(COMPLETING_STEPS)}). One of: {', '.join(steps)}", False,
                                  metavar="STEP"))
            continue
        if _is_list_of_parties(annotation):
            params.append(_option(LIST_OPTION[name], list[str],
                                  "COUNTRY or COUNTRY:Institution; repeat for each", required,
                                  metavar="COUNTRY[:INSTITUTION]"))
            continue
        if name in PAIRS_OPTION:
            params.append(_option(PAIRS_OPTION[name], list[str], "FIELD=VALUE (JSON value or text); repeat",
                                  required, metavar="FIELD=VALUE"))
            continue
        if annotation is bool:
            default = info.default if not required else None
            shown = "" if not required and default is None else \
                " [required]" if required else f" [default: {'yes' if default else 'no'}]"
            params.append(inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[Optional[bool], typer.Option(
                    f"--{name.replace('_', '-')}/--not-{name.replace('_', '-')}",
                    help=helptext + shown,
                    show_default=False)],
                default=None))
            continue
        choices = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
        if choices:
            helptext += (": " if helptext else "One of: ") + ", ".join(str(c) for c in choices)
        kind = int if choices and all(isinstance(c, int) for c in choices) else str
        metavar = "INTEGER" if kind is int else "CHOICE" if choices else _metavar(name, annotation)
        params.append(_option(name, kind, helptext, required, metavar=metavar))
    return params, {p.name: p.annotation for p in params}


def _option(name: str, kind: Any, helptext: str, required: bool, metavar: str = "TEXT") -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    annotation = Annotated[Optional[kind], typer.Option(flag, help=helptext + (" [required]" if required else ""),
                                                        show_default=False, metavar=metavar)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)


def line_from_options(model: type[Fact], options: dict[str, Any]) -> dict[str, Any]:
    """The JSON Lines object that these command-line options describe."""
    line: dict[str, Any] = {"type": model.__name__}
    source = {k.removeprefix("source_"): v for k, v in options.items() if k.startswith("source_") and v is not None}
    list_fields = {LIST_OPTION[f]: f for f in model.model_fields if f in LIST_OPTION}
    text_lists = {TEXT_LIST_OPTION[f]: f for f in model.model_fields if f in TEXT_LIST_OPTION}
    money = _money(model, options)
    if money is not None:
        line["value"] = money
    for name, value in options.items():
        if value is None or name.startswith(("source_", "value_")) or name == "no_source" or value == []:
            continue
        if name in text_lists:
            line[text_lists[name]] = value
        elif name in list_fields:
            line[list_fields[name]] = _parties(value, name)
        elif name in PAIRS_OPTION.values():
            line[next(f for f, option in PAIRS_OPTION.items() if option == name)] = _changes(value, name)
        elif name == "entry_into_force_days":
            line.setdefault("entry_into_force", {})["days_after_last_notification"] = value
        elif name == "completed_by":
            line.setdefault("entry_into_force", {})["completed_by"] = value
        else:
            line[name] = value
    if source:
        line["source"] = source
    if "event_id" not in line:
        line["event_id"] = content_id(model, line)
    return line


def _money(model: type[Fact], options: dict[str, Any]) -> dict[str, Any] | None:
    """The value the --value-* options give, when the model's value is a Money."""
    field = model.model_fields.get("value")
    if field is None or _base(field.annotation) is not Money:
        return None
    amount, currency = options.get("value_amount"), options.get("value_currency")
    if amount is None and currency is None:
        if options.get("value_approximate"):
            raise InvalidInput("--value-approximate needs --value-amount and --value-currency")
        return None
    if amount is None or currency is None:
        raise InvalidInput("give a value as --value-amount with --value-currency (such as 1000000 USD)")
    money: dict[str, Any] = {"amount": amount, "currency": currency.strip().upper()}
    if options.get("value_approximate"):
        money["approximate"] = True
    return money


def content_id(model: type[Fact], line: dict[str, Any]) -> str:
    """An event id made from what the fact says (never from when it is recorded): running
    the same command again, say after an error, finds it recorded and changes nothing."""
    from events.aggregates import digest

    try:
        fact = parse_line({**line, "event_id": "unnamed"})
    except ValueError:
        return "unnamed"  # the command refuses the line, naming what is wrong with it
    return f"{command_name(model.__name__)}-{digest(fact)[:12]}"


# Each example's values where the shared SAMPLES would not fit the demo history: the
# commitment whose state the fact can follow, a new id where the demo has one already.
EXAMPLE_VALUES: dict[str, dict[str, str]] = {
    "MeetingHeld": {"meeting_id": "astana-2024-state-visit", "occurred_on": "2024-09-02",
                    "title": "State visit of President Xi Jinping to Kazakhstan"},
    "CommitmentRegistered": {"commitment_id": "astana-2024-transit-protocol",
                             "occurred_on": "2024-07-03", "kind": "agreement",
                             "title": "Protocol on transit of goods"},
    "DocumentSigned": {"commitment_id": "astana-2024-transit-protocol", "occurred_on": "2024-07-03",
                       "instrument": "protocol"},
    "DomesticProcedureCompleted": {"occurred_on": "2023-10-25"},
    "ProvisionallyApplied": {"commitment_id": "xian-2023-international-road-transport", "occurred_on": "2023-09-01"},
    "EnteredIntoForce": {"commitment_id": "xian-2023-technical-economic-cooperation", "occurred_on": "2023-12-01"},
    "VisaExemptionEnteredIntoForce": {"occurred_on": "2023-11-10"},
    "SisterCityTieEstablished": {"commitment_id": "xian-2023-shymkent-xian-sister-cities"},
    "UniversityBranchOpened": {"commitment_id": "xian-2023-university-branch-almaty", "occurred_on": "2024-09-01"},
    "MilestoneReached": {"commitment_id": "xian-2023-trans-caspian-route", "occurred_on": "2024-06",
                         "milestone": "first container train through Aktau"},
    "ImplementationStatusChanged": {"commitment_id": "xian-2023-industrialization-investment-plan",
                                    "occurred_on": "2024"},
    "Suspended": {"commitment_id": "xian-2023-cultural-centres", "occurred_on": "2024-03", "track": "implementation"},
    "Resumed": {"commitment_id": "xian-2023-cultural-centres", "occurred_on": "2024-09", "track": "implementation"},
    "Terminated": {"commitment_id": "xian-2023-joint-statement", "occurred_on": "2025"},
    "Withdrawn": {"commitment_id": "xian-2023-joint-statement", "occurred_on": "2025"},
    "Expired": {"commitment_id": "xian-2023-joint-statement", "occurred_on": "2025"},
    "Superseded": {"commitment_id": "xian-2023-joint-statement", "occurred_on": "2025"},
    "Lapsed": {"commitment_id": "xian-2023-international-road-transport", "occurred_on": "2025"},
    "CommercialContractsSigned": {"commitment_id": "xian-2023-export-agreements", "occurred_on": "2023-05"},
    "DomesticProcedureStepTaken": {"occurred_on": "2023-09-20"},
    "InstrumentsRelated": {"commitment_id": "xian-2023-cultural-centres", "occurred_on": "2024-05-20",
                           "instrument_id": "astana-2024-cultural-centres-agreement", "relation": "follows up",
                           "other_instrument_id": "xian-2023-cultural-centres"},
    "CommitmentsRelated": {"commitment_id": "xian-2023-cultural-centres", "relation": "implements",
                           "other_commitment_id": "xian-2023-joint-statement"},
    "Assessed": {"occurred_on": "2024-01-15"},
    "FacilityOpened": {"commitment_id": "xian-2023-cultural-centres", "occurred_on": "2024-11",
                       "facility": "Kazakh cultural centre", "party": "KZ"},
    "TargetSet": {"commitment_id": "xian-2023-industrialization-investment-plan", "occurred_on": "2023-05-17",
                  "target": "first joint plants running", "due_on": "2025"},
    "StepExpected": {"commitment_id": "xian-2023-international-road-transport", "occurred_on": "2024-05",
                     "step": "entry into force", "expected_on": "2024-07"},
    "SourceCited": {"occurred_on": "2023-05-17"},
    "ClaimConflicted": {"occurred_on": "2023-05-17", "event_id": "xian-2023-visa-exemption-signed-date-claim"},
    "ClaimSettled": {"occurred_on": "2023-06"},
}
# Facts that follow another one the demo does not have: their example records it first.
EXAMPLE_AFTER = {"DocumentSigned": "CommitmentRegistered", "Resumed": "Suspended", "ClaimSettled": "ClaimConflicted"}
# Facts whose example needs a fact that no other example records: the command recording it.
EXAMPLE_BEFORE = {
    # A memorandum (the demo's, signed in Xian and named by its commitment's id) carried
    # forward by a binding agreement signed later in Astana.
    "InstrumentsRelated": "tracker record document-signed --commitment-id xian-2023-cultural-centres"
    " --occurred-on 2024-05-20 --instrument agreement --instrument-id astana-2024-cultural-centres-agreement"
    " --place Astana --source-title 'Akorda press service'",
}


def example(model: type[Fact]) -> str:
    """A command that records a valid event of this type on the demo history (the tests run
    each one); where it needs a fact the demo lacks, it records that one first."""
    first = EXAMPLE_AFTER.get(model.__name__)
    before = f"{example(EVENT_TYPES[first])} && " if first else ""
    if model.__name__ in EXAMPLE_BEFORE:
        before = f"{EXAMPLE_BEFORE[model.__name__]} && "
    values = {**SAMPLES, **EXAMPLE_VALUES.get(model.__name__, {})}
    parts = [f"{before}tracker record {command_name(model.__name__)}"]
    for name, info in model.model_fields.items():
        if name in SKIP or name == "event_id" or name == "source" or (
                not info.is_required() and name not in EXAMPLE_VALUES.get(model.__name__, {})):
            continue
        flag = LIST_OPTION.get(name, PAIRS_OPTION.get(name, name)).replace("_", "-")
        sample = values.get(name, "2023-05-17" if "on" in name.split("_") else "example")
        if name == "parties":
            parts.append("--party KZ --party CN")
            continue
        if name == "cities":
            parts.append("--city KZ:Shymkent --city CN:Xian")
            continue
        if _base(info.annotation) is bool:
            parts.append(f"--{flag}")
            continue
        parts.append(f"--{flag} {_quote(sample)}")
    if "event_id" in EXAMPLE_VALUES.get(model.__name__, {}):
        parts.append(f"--event-id {values['event_id']}")  # a later example names it
    if "source" in model.model_fields:
        parts.append("--source-title 'Akorda press service'")
    if model.__name__ in ("SourceCited", "ClaimConflicted"):
        parts.append("--source-kind government" if model.__name__ == "SourceCited" else "--source-kind 'news agency'")
    return " ".join(parts)


def _quote(text: str) -> str:
    return f"'{text}'" if " " in text else text


def summary_of(model: type) -> str:
    """The first paragraph of an event type's docstring, as help text: its ``field`` markup
    shown as 'field'."""
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "").split("\n\n")[0]
    return " ".join(doc.split()).replace("``", "'")


def _make_command(model: type[Fact]) -> None:
    params, annotations = _parameters(model)
    first_line = summary_of(model) or f"Record that {command_name(model.__name__).replace('-', ' ')}."

    def command(ctx: typer.Context, **options: Any) -> None:
        from events.validation import one_line
        from tracker.cli.common import catch_up_after_recording, open_tracker, say

        has_source = any(v is not None for k, v in options.items() if k.startswith("source_"))
        if not has_source and not options.get("no_source"):
            raise InvalidInput("say where the fact comes from: --source-title (with --source-publisher,"
                               " --source-published-on, --source-address), or --no-source to record it without one")
        line = line_from_options(model, options)
        try:
            fact = parse_line(line)
        except ValueError as error:
            raise InvalidInput(one_line(error)) from None
        app = open_tracker(ctx)
        result = app.record(fact)
        catch_up_after_recording(ctx, app, result)
        print(fact.event_id)
        say("already recorded, nothing changed" if not result.added else f"recorded {fact.type} {fact.event_id}")

    ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    command.__signature__ = inspect.Signature([ctx_param, *params])  # type: ignore[attr-defined]
    command.__annotations__ = {"ctx": typer.Context, **annotations, "return": None}
    command.__doc__ = first_line
    command.__name__ = command_name(model.__name__).replace("-", "_")
    record_app.command(command_name(model.__name__), help=first_line, short_help=first_line,
                       epilog=f"Example:\n\n  {example(model)}")(command)


for _model in EVENT_TYPES.values():
    _make_command(_model)

