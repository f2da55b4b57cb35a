"""The parts of F&O's `$metadata` (EDMX 4.0) the check needs: entity sets, their types' properties and
navigations, and the enum types."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from io import BytesIO

from orders.odata.errors import MalformedResponse


@dataclass
class EntityTypeModel:
    properties: dict[str, str] = field(default_factory=dict)
    navigations: dict[str, str] = field(default_factory=dict)  # name -> target entity type, qualified


@dataclass(frozen=True)
class ServiceModel:
    sets: dict[str, str]  # entity set -> its entity type, qualified
    types: dict[str, EntityTypeModel]
    enums: frozenset[str]

    def entity_type(self, entity_set: str) -> EntityTypeModel | None:
        type_name = self.sets.get(entity_set)
        return self.types.get(type_name) if type_name else None


def service_model_parse(body: bytes) -> ServiceModel:
    """The parts of an EDMX 4.0 document the check needs, read as a stream: F&O's is several MB."""
    sets: dict[str, str] = {}
    types: dict[str, EntityTypeModel] = {}
    enums: set[str] = set()
    namespace = ""
    current: EntityTypeModel | None = None
    # EDMX never declares a DTD; refusing one rules out entity-expansion bombs, and expat fetches no external
    # entities, so the standard library parser is safe here without defusedxml.
    if b"<!doctype" in body.lower():
        raise MalformedResponse("$metadata declares a DTD")
    try:
        for event, element in ET.iterparse(BytesIO(body), events=("start", "end")):  # noqa: S314
            local = element.tag.rsplit("}", 1)[-1]
            if event == "end":
                if local in ("EntityType", "ComplexType", "EnumType"):
                    current = None
                    element.clear()
                continue
            name = element.get("Name", "")
            if local == "Schema":
                namespace = element.get("Namespace", "")
            elif local == "EntityType":
                current = types.setdefault(f"{namespace}.{name}", EntityTypeModel())
            elif local == "ComplexType":
                current = None
            elif local == "EnumType":
                enums.add(f"{namespace}.{name}")
            elif local == "Property" and current is not None:
                current.properties[name] = element.get("Type", "")
            elif local == "NavigationProperty" and current is not None:
                target = element.get("Type", "")
                if target.startswith("Collection(") and target.endswith(")"):
                    target = target[len("Collection("):-1]
                current.navigations[name] = target
            elif local == "EntitySet":
                sets[name] = element.get("EntityType", "")
    except ET.ParseError as exc:
        raise MalformedResponse(f"$metadata is not XML: {exc}") from exc
    if not sets:
        raise MalformedResponse("$metadata names no entity set")
    return ServiceModel(sets=sets, types=types, enums=frozenset(enums))
