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
