"""The metadata step: every entity set, field and navigation the portal reads (orders.fno_reads) checked
against the site's `$metadata`, with the setting to change for each one that does not fit."""

from __future__ import annotations

import time

from orders.fno_check.edmx import service_model_parse
from orders.fno_check.report import Outcome
from orders.fno_check.state import CheckRun, ms
from orders.fno_reads import FIELD_KINDS, EntityRead, Kind, portal_reads
from orders.odata.errors import ODataError

_NUMBER_TYPES = frozenset({"Edm.Decimal", "Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte", "Edm.Double",
                           "Edm.Single"})


def _type_fits(kind: Kind, edm_type: str, enums: frozenset[str]) -> bool:
    if kind is Kind.TEXT:
        return edm_type == "Edm.String"
    if kind is Kind.NUMBER:
        return edm_type in _NUMBER_TYPES
    if kind is Kind.ID:
        return edm_type in ("Edm.Int64", "Edm.Int32")
    if kind is Kind.DATE:
        return edm_type in ("Edm.DateTimeOffset", "Edm.Date")
    if kind is Kind.DATETIME:
        return edm_type == "Edm.DateTimeOffset"
    enum_name = str(kind).removeprefix("enum ")
    return edm_type in enums and edm_type.rsplit(".", 1)[-1] == enum_name


def metadata_step(run: CheckRun) -> None:
    assert run.client is not None
    started = time.monotonic()
    try:
        body = run.client.get_metadata(deadline=run.deadline(), request_id=run.request_id)
        run.model = service_model_parse(body)
    except ODataError as exc:
        why = "timed out waiting for $metadata" if getattr(exc, "timed_out", False) else str(exc)
        run.add("metadata", "$metadata", Outcome.FAIL, f"F&O did not give its $metadata: {why}",
                latency_ms=ms(started))
        return
    run.add("metadata", "$metadata", Outcome.OK,
            f"{len(run.model.sets)} entity sets, {len(body) // 1024} KiB", latency_ms=ms(started))
    for read in portal_reads():
        entity_step(run, read)


def entity_step(run: CheckRun, read: EntityRead) -> None:
    assert run.model is not None
    entity_set = read.entity_set
    entity = run.model.entity_type(entity_set)
    if entity is None:
        run.add("metadata", entity_set, Outcome.FAIL,
                f"F&O has no entity set {entity_set} (set by {read.setting})", setting=read.setting)
        return
    failures = 0
    for name in read.fields:
        edm_type = entity.properties.get(name)
        kind = FIELD_KINDS.get(name)
        if edm_type is None:
            failures += 1
            run.add("metadata", f"{entity_set}.{name}", Outcome.FAIL,
                    f"{entity_set} has no field {name} (set by {read.setting})", setting=read.setting)
        elif kind is not None and not _type_fits(kind, edm_type, run.model.enums):
            failures += 1
            run.add("metadata", f"{entity_set}.{name}", Outcome.FAIL,
                    f"{entity_set}.{name} is {edm_type}, but the portal reads it as {kind} "
                    f"(set by {read.setting})", setting=read.setting)
    nav = read.navigation
    nav_note = ""
    if nav is not None:
        target = run.model.sets.get(nav.target_set)
        found = entity.navigations.get(nav.name)
        if found is None:
            failures += 1
            run.add("metadata", f"{entity_set}/{nav.name}", Outcome.FAIL,
                    f"{entity_set} has no navigation {nav.name} (set by {nav.setting})", setting=nav.setting)
        elif target is not None and found != target:
            failures += 1
            run.add("metadata", f"{entity_set}/{nav.name}", Outcome.FAIL,
                    f"{entity_set}/{nav.name} leads to {found}, not to {nav.target_set} ({target}) "
                    f"(set by {nav.setting} or {nav.target_setting})", setting=nav.setting)
        else:
            nav_note = f"; navigation {nav.name} to {nav.target_set}"
    if not failures:
        run.add("metadata", entity_set, Outcome.OK,
                f"{read.purpose}: {len(read.fields)} fields as expected{nav_note}", setting=read.setting)
