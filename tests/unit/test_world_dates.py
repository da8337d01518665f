from datetime import date

import pytest

from events import world_period


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-05-17", (date(2023, 5, 17), date(2023, 5, 17), "day")),
        ("2023-05", (date(2023, 5, 1), date(2023, 5, 31), "month")),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29), "month")),
        ("2023-Q1", (date(2023, 1, 1), date(2023, 3, 31), "quarter")),
        ("2023-Q4", (date(2023, 10, 1), date(2023, 12, 31), "quarter")),
        ("2023", (date(2023, 1, 1), date(2023, 12, 31), "year")),
    ],
)
def test_a_world_date_gives_its_period_and_precision(text, expected):
    assert world_period(text) == expected


@pytest.mark.parametrize("text", ["2023-02-30", "2023-13", "2023-Q5", "May 2023", "17.05.2023", "", "0023"])
def test_impossible_or_foreign_dates_are_refused(text):
    with pytest.raises(ValueError):
        world_period(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-06-12/2023-06-14", (date(2023, 6, 12), date(2023, 6, 14), "range")),
        ("2023-06/2023-08", (date(2023, 6, 1), date(2023, 8, 31), "range")),
        ("../2024-03-01", (date(1800, 1, 1), date(2024, 3, 1), "before")),
        ("2024-03-01/..", (date(2024, 3, 1), date(2200, 12, 31), "after")),
        ("XXXX", (date(1800, 1, 1), date(2200, 12, 31), "unknown")),
        ("2024-XX", (date(2024, 1, 1), date(2024, 12, 31), "year")),
        ("2024-06-XX", (date(2024, 6, 1), date(2024, 6, 30), "month")),
        ("2023-06~", (date(2023, 6, 1), date(2023, 6, 30), "month, approximate")),
        ("2023-06?", (date(2023, 6, 1), date(2023, 6, 30), "month, uncertain")),
        ("2023%", (date(2023, 1, 1), date(2023, 12, 31), "year, uncertain, approximate")),
    ],
)
def test_an_uncertain_world_date_gives_the_period_it_may_fall_in(text, expected):
    assert world_period(text) == expected


@pytest.mark.parametrize("text", ["../..", "2024-06/2024-05", "2024-XX-05", "2023-06~~", "2023/2024/2025",
                                  "../", "2023-06-12/", "xxxx", "2023-06 ~"])
def test_a_malformed_uncertain_date_is_refused_naming_every_accepted_form(text):
    with pytest.raises(ValueError, match=r"YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO .* \(both\)"):
        world_period(text)
