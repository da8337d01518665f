import pytest
from pydantic import ValidationError

from events import EVENT_TYPES, UnknownEventType, parse_line
from events.validation import one_line
from tests.builders import line, registered


def test_a_registration_line_becomes_its_event_with_parties():
    event = parse_line(registered("visa"))
    assert event.type == "CommitmentRegistered"
    assert [p.country for p in event.parties] == ["KZ", "CN"]
    assert event.stream_key() == "commitment:visa"


def test_an_unknown_event_type_is_named_in_the_error():
    with pytest.raises(UnknownEventType, match="'TreatyBurnt'"):
        parse_line(line("TreatyBurnt", "x", commitment_id="visa", occurred_on="2023"))


def test_unknown_fields_are_refused_not_dropped():
    with pytest.raises(ValidationError) as error:
        parse_line({**registered("visa"), "colour": "red"})
    assert one_line(error.value) == "CommitmentRegistered: colour: unknown field"


def test_country_codes_must_be_iso_3166():
    with pytest.raises(ValidationError) as error:
        parse_line({**registered("visa"), "parties": [{"country": "XX"}]})
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in one_line(error.value)


def test_the_store_position_cannot_be_set_from_input():
    with pytest.raises(ValueError, match="set by the tracker"):
        parse_line({**registered("visa"), "originator_version": 7})


def test_every_demo_line_survives_its_own_json_form():
    import json
    from importlib.resources import files

    text = files("tracker.demo").joinpath("xian-2023-05-17.jsonl").read_text(encoding="utf-8")
    for raw in text.splitlines():
        data = json.loads(raw)
        assert parse_line(data).to_line() == parse_line(parse_line(data).to_line()).to_line()
        assert data["type"] in EVENT_TYPES
