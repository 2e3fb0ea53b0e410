"""The running platform: a migrated database plus the in-memory geography every service shares.

How a process opens it (migrate, derive, load the embedded dataset) is fabcity.startup's business,
so this module, which every service imports, depends on nothing above geography and storage.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine, select

from fabcity.geo.districts import DistrictIndex
from fabcity.geo.stations import StationIndex
from fabcity.storage.schema import district, station


class Platform:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @cached_property
    def districts(self) -> DistrictIndex:
        with self.engine.connect() as conn:
            return DistrictIndex([dict(row) for row in conn.execute(select(district)).mappings()])

    @cached_property
    def stations(self) -> StationIndex:
        with self.engine.connect() as conn:
            return StationIndex([dict(row) for row in conn.execute(select(station)).mappings()])
