"""What "implemented" means for each kind of commitment, each side's progress, and money:
recorded through 'tracker import' and 'tracker record', shown by status, history and meetings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.builders import SOURCE
from tracker.cli import app

runner = CliRunner()
KZ_CN = [{"country": "KZ", "institution": "Ministry of Culture and Sports"},
         {"country": "CN", "institution": "Ministry of Culture and Tourism"}]


@pytest.fixture
def db(store_url: str, tmp_path) -> list[str]:
    return ["--db", store_url, "--views", str(tmp_path / "views.db")]


def run(db: list[str], *args: str, input: str | None = None):
    return runner.invoke(app, [*db, *args], input=input)


def imported(db: list[str], *lines: dict) -> None:
    text = "\n".join(json.dumps({"source": SOURCE, **line}) for line in lines) + "\n"
    result = run(db, "import", "-", input=text)
    assert result.exit_code == 0, result.stderr


def registered(cid: str, kind: str, **fields) -> dict:
    return {"type": "CommitmentRegistered", "event_id": f"{cid}-registered", "commitment_id": cid,
            "occurred_on": "2023-05-17", "kind": kind, "title": f"The {cid}", "binding": False,
            "parties": KZ_CN, "meeting_id": "xian-2023", **fields}


def fact(type_: str, event_id: str, cid: str, occurred_on: str = "2023-05-17", **fields) -> dict:
    return {"type": type_, "event_id": event_id, "commitment_id": cid, "occurred_on": occurred_on, **fields}


def signed(cid: str, instrument: str = "memorandum") -> dict:
    return fact("DocumentSigned", f"{cid}-signed", cid, instrument=instrument, place="Xian")


def row(db: list[str], cid: str) -> dict:
    result = run(db, "status", "--json")
    assert result.exit_code == 0, result.stderr
    return {r["commitment_id"]: r for r in json.loads(result.stdout)}[cid]


def step(db: list[str], cid: str) -> tuple:
    r = row(db, cid)
    return r["implementation_status"], r["next_step"], r["next_step_due"]


MEETING = {"type": "MeetingHeld", "event_id": "xian", "meeting_id": "xian-2023", "occurred_on": "2023-05-17",
           "title": "State visit to Xian", "parties": [{"country": "KZ"}, {"country": "CN"}]}


def test_reciprocal_cultural_centres_show_each_side_and_complete_when_both_have_opened(db):
    imported(db, MEETING, registered("centres", "memorandum", lifecycle="reciprocal", target_on="2026"),
             signed("centres"))
    assert step(db, "centres") == ("committed", "opening: KZ, CN", "2026")
    opened = run(db, "record", "facility-opened", "--commitment-id", "centres", "--occurred-on", "2025-09",
                 "--facility", "Kazakh cultural centre", "--city", "Beijing", "--party", "KZ",
                 "--value-amount", "2000000", "--value-currency", "usd", "--source-title", "Kazinform")
    assert opened.exit_code == 0, opened.stderr
    board = row(db, "centres")
    assert board["progress"] == {"KZ": "opened 2025-09", "CN": "no evidence"}
    assert (board["implementation_status"], board["next_step"]) == ("in implementation", "opening: CN")
    csv = run(db, "status", "--csv").stdout
    assert "KZ: opened 2025-09; CN: no evidence" in csv
    history = run(db, "history", "centres", "--csv").stdout
    assert "KZ: Kazakh cultural centre opened in Beijing worth 2,000,000 USD" in history
    header = run(db, "history", "centres", "--as-of", "2025-12-31").stdout
    assert "KZ: opened 2025-09; CN: no evidence" in header
    imported(db, fact("FacilityOpened", "cn-centre", "centres", "2026-03", facility="Chinese cultural centre",
                      city="Astana", party="CN"))
    assert step(db, "centres") == ("completed", None, None)
    assert row(db, "centres")["progress"] == {"KZ": "opened 2025-09", "CN": "opened 2026-03"}


def test_a_side_must_be_a_party_and_a_reciprocal_opening_must_name_its_side(db):
    imported(db, MEETING, registered("centres", "memorandum", lifecycle="reciprocal"), signed("centres"))
    stranger = run(db, "record", "facility-opened", "--commitment-id", "centres", "--occurred-on", "2025-09",
                   "--facility", "centre", "--party", "UZ", "--source-title", "Kazinform")
    assert stranger.exit_code == 5
    assert "UZ is not a party (CN, KZ)" in stranger.stderr
    nobody = run(db, "record", "facility-opened", "--commitment-id", "centres", "--occurred-on", "2025-09",
                 "--facility", "centre", "--source-title", "Kazinform")
    assert nobody.exit_code == 5
    assert "each party opens its own here: say whose side opened (party)" in nobody.stderr
    assert "Traceback" not in nobody.stderr
    assert row(db, "centres")["progress"] == {"KZ": "no evidence", "CN": "no evidence"}


def test_an_opened_branch_campus_operates_and_welcomes_its_first_students(db):
    imported(db, MEETING, registered("branch", "university branch", target_on="2024-09"), signed("branch", "agreement"))
    assert step(db, "branch") == ("committed", "opening", "2024-09")
    imported(db, fact("UniversityBranchOpened", "opened", "branch", "2024-09-01",
                      university="Northwestern Polytechnical University", city="Almaty"),
             fact("MilestoneReached", "students", "branch", "2024-10", milestone="first 300 students enrolled"))
    board = row(db, "branch")
    assert (board["lifecycle"], board["implementation_status"], board["next_step"], board["overdue"]) == (
        "facility", "operating", None, False)
    assert "milestone: first 300 students enrolled" in run(db, "history", "branch", "--csv").stdout


def test_a_visa_regime_is_in_effect_while_in_force_and_never_waits_for_completion(db):
    imported(db, MEETING, registered("visa", "visa exemption", binding=True), signed("visa", "agreement"),
             fact("DomesticProcedureCompleted", "kz", "visa", "2023-10", party="KZ", procedure="ratification"),
             fact("DomesticProcedureCompleted", "cn", "visa", "2023-10", party="CN", procedure="notification"),
             fact("VisaExemptionEnteredIntoForce", "in-force", "visa", "2023-11-10", stay_days=30))
    assert row(db, "visa")["lifecycle"] == "regime"
    assert step(db, "visa") == ("in effect", None, None)
    imported(db, fact("Suspended", "paused", "visa", "2024-02", track="legal"))
    assert step(db, "visa") == ("not in effect", "resumption", None)
    imported(db, fact("Resumed", "back", "visa", "2024-03", track="legal"))
    assert step(db, "visa") == ("in effect", None, None)


def test_a_sister_city_tie_is_established_then_active_and_exchanges_go_on(db):
    imported(db, MEETING, registered("cities", "sister cities"), signed("cities", "agreement"),
             fact("SisterCityTieEstablished", "tie", "cities", "2023-05-17",
                  cities=[{"country": "KZ", "institution": "Shymkent"}, {"country": "CN", "institution": "Xian"}]),
             fact("MilestoneReached", "exchange", "cities", "2024-06", milestone="youth exchange", party="CN"))
    board = row(db, "cities")
    assert (board["implementation_status"], board["next_step"], board["progress"]) == (
        "active", None, {"CN": "in implementation 2024-06"})


def test_a_memorandum_completes_only_by_the_deliverables_it_names(db):
    imported(db, MEETING, registered("plain", "memorandum"), signed("plain"),
             registered("festival", "memorandum", deliverables=["joint film festival", "exhibition exchange"],
                        target_on="2025"), signed("festival"))
    assert step(db, "plain") == ("committed", None, None)
    assert step(db, "festival") == ("committed", "deliverable: joint film festival", "2025")
    wrong = run(db, "record", "milestone-reached", "--commitment-id", "festival", "--occurred-on", "2024-05",
                "--milestone", "festival held", "--meets", "film week", "--source-title", "Kazinform")
    assert wrong.exit_code == 5
    assert "'film week' is no deliverable (they are: joint film festival; exhibition exchange)" in wrong.stderr
    imported(db, fact("MilestoneReached", "film", "festival", "2024-05", milestone="festival held in Almaty",
                      meets="joint film festival"))
    assert step(db, "festival") == ("in implementation", "deliverable: exhibition exchange", "2025")
    imported(db, fact("MilestoneReached", "show", "festival", "2024-10", milestone="exhibitions shown",
                      meets="exhibition exchange"))
    assert step(db, "festival") == ("completed", None, None)


def test_a_plan_waits_for_its_earliest_unmet_target_and_is_overdue_when_it_passes(db):
    imported(db, MEETING, registered("industry", "plan"), signed("industry", "plan"),
             fact("TargetSet", "plants", "industry", due_on="2024-12", target="first joint plants running"),
             fact("TargetSet", "exports", "industry", due_on="2030", target="exports doubled"))
    board = row(db, "industry")
    assert (board["next_step"], board["next_step_due"], board["overdue"]) == (
        "target: first joint plants running", "2024-12", True)
    assert [r["commitment_id"] for r in json.loads(run(db, "status", "--overdue", "--json").stdout)] == ["industry"]
    imported(db, fact("MilestoneReached", "plant", "industry", "2024-11", milestone="Kostanay plant opened",
                      meets="first joint plants running"))
    assert step(db, "industry") == ("in implementation", "target: exports doubled", "2030")
    not_a_plan = run(db, "record", "target-set", "--commitment-id", "industry-memo", "--occurred-on", "2024",
                     "--target", "x", "--due-on", "2025", "--source-title", "Kazinform")
    assert not_a_plan.exit_code != 0
    imported(db, registered("memo", "memorandum"))
    refused = run(db, "record", "target-set", "--commitment-id", "memo", "--occurred-on", "2024",
                  "--target", "x", "--due-on", "2025", "--source-title", "Kazinform")
    assert refused.exit_code == 5
    assert "targets belong to plans, and this commitment is a declaration" in refused.stderr


def test_a_contract_is_completed_when_its_value_is_delivered(db):
    imported(db, MEETING, registered("exports", "commercial contracts", target_on="2025"),
             fact("CommercialContractsSigned", "deal", "exports", value="100000000", currency="USD"))
    assert step(db, "exports") == ("committed", "delivery", "2025")
    imported(db, fact("MilestoneReached", "first", "exports", "2024-03", milestone="first shipment",
                      value={"amount": "60000000", "currency": "USD"}))
    assert step(db, "exports") == ("in implementation", "delivery", "2025")
    imported(db, fact("MilestoneReached", "second", "exports", "2024-09", milestone="second shipment",
                      value={"amount": "40000000", "currency": "USD"}))
    assert step(db, "exports") == ("completed", None, None)
    assert row(db, "exports")["value"] == "100,000,000 USD"


def test_a_meeting_total_counts_each_deal_once_at_its_latest_value_and_keeps_the_reported_value_apart(db):
    imported(db, MEETING,
             {"type": "DocumentsReported", "event_id": "count", "meeting_id": "xian-2023", "occurred_on": "2023-05-18",
              "count": 22, "value": {"amount": "22400000000", "currency": "USD", "approximate": True}},
             registered("exports", "commercial contracts"),
             fact("CommercialContractsSigned", "deal", "exports", value="100000000", currency="USD"),
             fact("CommercialContractsSigned", "deal-more", "exports", "2023-08", value="120000000", currency="USD"),
             registered("gas", "commercial contracts"),
             fact("CommercialContractsSigned", "gas-deal", "gas", value="50000000", currency="USD"),
             registered("yuan", "commercial contracts"),
             fact("CommercialContractsSigned", "yuan-deal", "yuan", value="3000000", currency="CNY"))
    imported(db, {"type": "EventCorrected", "event_id": "gas-fix", "occurred_on": "2023-06", "corrects": "gas-deal",
                  "reason": "the ministry gave 55 million", "changes": {"value": "55000000"}})
    meeting = json.loads(run(db, "meetings", "--json").stdout)[0]
    assert meeting["contracts_worth"] == "3,000,000 CNY + 175,000,000 USD (3 commitments)"
    assert "22 reported worth about 22,400,000,000 USD" in meeting["reported"]
    timeline = run(db, "timeline", "--csv").stdout
    assert "22 documents reported signed worth about 22,400,000,000 USD" in timeline
    report = run(db, "report", "--html", "-")
    assert report.exit_code == 0, report.stderr
    assert "contracts worth 3,000,000 CNY + 175,000,000 USD (3 commitments)" in report.stdout
    assert "worth about 22,400,000,000 USD according to" in report.stdout


def test_a_lifecycle_is_corrected_like_any_registration_field(db):
    imported(db, MEETING, registered("centres", "memorandum"), signed("centres"))
    assert step(db, "centres") == ("committed", None, None)
    imported(db, {"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-06", "corrects": "centres-registered",
                  "reason": "each side opens a centre", "changes": {"lifecycle": "reciprocal"}})
    assert step(db, "centres") == ("committed", "opening: KZ, CN", None)


def test_the_schema_describes_the_new_vocabulary(db):
    schema = run(db, "schema", "FacilityOpened")
    assert schema.exit_code == 0, schema.stderr
    assert "whose side this is" in schema.stdout and "ISO 4217" in schema.stdout
    assert "What implemented means for it" in run(db, "schema", "CommitmentRegistered").stdout
    assert "When it is due" in run(db, "schema", "TargetSet").stdout
