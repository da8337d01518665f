"""Indicators of the relationship over time, such as trade figures."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from events.base import CountryCode, Fact, WorldDate


class TradeFigureReported(Fact):
    """A trade flow for a period, as one reporter states it."""

    stream_kind: ClassVar[str] = "indicator"
    reporter: CountryCode
    partner: CountryCode
    flow: Literal["exports", "imports", "turnover"]
    period: WorldDate
    value: Decimal = Field(ge=0, max_digits=20, decimal_places=2)
    currency: Literal["USD", "CNY", "KZT", "EUR", "RUB"] = "USD"
    change_pct: Decimal | None = Field(
        default=None, ge=-100, le=100000, max_digits=12, decimal_places=2,
        description="Change against the same period a year before, in percent",
    )

    def stream_key(self) -> str:
        return f"indicator:trade:{self.reporter}-{self.partner}"

    def summary(self) -> str:
        change = f" ({self.change_pct:+}%)" if self.change_pct is not None else ""
        return f"{self.reporter} {self.flow} to/from {self.partner} {self.period}: {self.value:,.0f} {self.currency}{change}"
