"""The architecture, as rules over the import graph of every app of this repository (docs/architecture.md).

`make lint` checks the same rules for orders/ with import-linter ([tool.importlinter] in pyproject.toml); here they
hold for every app's views too, and each rule is shown to fail when one bad import is added to the real graph.
The modules allowed to speak OData and the infrastructure a view may not import are read from those contracts,
so there is one list of each.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
ODATA = "orders.odata"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def _gateways() -> list[str]:
    """The modules allowed to import orders.odata: `orders.x` or, with `.**`, a package and everything in it."""
    contract = next(c for c in _contracts() if c["type"] == "forbidden" and c["source_modules"] == ["orders.views"]
                    and c["forbidden_modules"] == [ODATA])
    return [line.split("->")[0].strip() for line in contract["ignore_imports"]]


def _infrastructure() -> list[str]:
    contract = next(c for c in _contracts() if c["type"] == "forbidden" and c["source_modules"] == ["orders.views"]
                    and c.get("allow_indirect_imports"))
    return list(contract["forbidden_modules"])


def _apps() -> list[str]:
    """This repository's Django apps (orders, and whatever apps have been added beside it)."""
    return sorted({name for config in apps.get_app_configs()
                   if (ROOT / (name := config.name.split(".")[0])).is_dir()})


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*_apps(), include_external_packages=True, exclude_type_checking_imports=True,
                             cache_dir=None)


def _is_in(module: str, pattern: str) -> bool:
    if pattern.endswith(".**"):
        return module.startswith(pattern[:-2])
    return module == pattern or module.startswith(pattern + ".")


def _view_modules(graph: grimp.ImportGraph) -> list[str]:
    """Every module named `views` or inside a `views` package, in every app; a package's own __init__ only when it
    has no modules of its own."""
    return sorted(m for m in graph.modules if "views" in m.split(".") and not graph.find_children(m)
                  and m.split(".")[0] in _apps())


# The rules: each returns what breaks it, empty when it holds. ------------------------------------------------------


def odata_violations(graph: grimp.ImportGraph) -> list[str]:
    """orders/odata/ knows no Django and imports nothing else of the portal."""
    portal = _apps()
    return sorted(
        f"{module} -> {imported}"
        for module in graph.modules if _is_in(module, ODATA)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] == "django" or (imported.split(".")[0] in portal and not _is_in(imported, ODATA))
    )


def view_to_odata_violations(graph: grimp.ImportGraph) -> list[str]:
    """Every import chain from a view to orders.odata passes through a module allowed to speak OData."""
    gateways = _gateways()
    allowed = [
        (importer, imported)
        for imported in graph.modules if _is_in(imported, ODATA)
        for importer in graph.find_modules_that_directly_import(imported)
        if any(_is_in(importer, g) for g in gateways)
    ]
    for importer, imported in allowed:
        graph.remove_import(importer=importer, imported=imported)
    try:
        return [
            " -> ".join(chain)
            for view in _view_modules(graph)
            for chain in sorted(graph.find_shortest_chains(importer=view, imported=ODATA, as_packages=True))
        ]
    finally:
        for importer, imported in allowed:
            graph.add_import(importer=importer, imported=imported)


def view_to_view_violations(graph: grimp.ImportGraph) -> list[str]:
    """No view module imports another, directly or through anything else: each audience stands alone, and what
    two of them share lives outside the views (presenters, pages, forms)."""
    views = _view_modules(graph)
    return [
        " -> ".join(chain)
        for view in views for other in views
        if view != other and (chain := graph.find_shortest_chain(importer=view, imported=other)) is not None
    ]


def view_to_infrastructure_violations(graph: grimp.ImportGraph) -> list[str]:
    """Views import selectors, services, presenters, forms and exceptions; never the OData client, the seam that
    builds it, the raw reads or the resilience internals."""
    infrastructure = _infrastructure()
    return sorted(
        f"{view} -> {imported}"
        for view in _view_modules(graph)
        for imported in graph.find_modules_directly_imported_by(view)
        if any(_is_in(imported, module) for module in infrastructure)
    )


# The tests ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def graph() -> grimp.ImportGraph:
    return _graph()


def test_the_rules_see_every_apps_views_and_every_gateway(graph: grimp.ImportGraph) -> None:
    views = _view_modules(graph)
    assert {"orders.views.web", "orders.views.api", "orders.views.staff", "orders.views.health"} <= set(views)
    for gateway in _gateways():
        assert any(_is_in(m, gateway) for m in graph.modules), f"{gateway} names no module"


def test_the_odata_client_knows_no_django_and_nothing_of_the_portal(graph: grimp.ImportGraph) -> None:
    assert odata_violations(graph) == []
    graph.add_import(importer="orders.odata.query", imported="django.conf")
    graph.add_import(importer="orders.odata.errors", imported="orders.exceptions")
    assert odata_violations(graph) == ["orders.odata.errors -> orders.exceptions", "orders.odata.query -> django.conf"]


def test_no_view_imports_orders_odata_directly(graph: grimp.ImportGraph) -> None:
    assert view_to_odata_violations(graph) == []
    graph.add_import(importer="orders.views.web", imported="orders.odata.query")
    assert view_to_odata_violations(graph) == ["orders.views.web -> orders.odata.query"]


def test_no_view_reaches_orders_odata_through_a_module_that_may_not_speak_it(graph: grimp.ImportGraph) -> None:
    # orders.pages may not import the client; a view that imports pages would then reach it past the domain.
    graph.add_import(importer="orders.pages", imported="orders.odata.errors")
    broken = view_to_odata_violations(graph)
    assert "orders.views.web -> orders.pages -> orders.odata.errors" in broken
    assert "orders.views.staff -> orders.pages -> orders.odata.errors" in broken
    # Through a module allowed to speak OData, the same chain is the domain's business.
    graph.remove_import(importer="orders.pages", imported="orders.odata.errors")
    graph.add_import(importer="orders.pages", imported="orders.selectors")
    assert view_to_odata_violations(graph) == []


def test_no_view_imports_another_audiences_views(graph: grimp.ImportGraph) -> None:
    assert view_to_view_violations(graph) == []
    graph.add_import(importer="orders.views.staff", imported="orders.views.web")
    assert view_to_view_violations(graph) == ["orders.views.staff -> orders.views.web"]


def test_no_view_reaches_another_audiences_views_through_a_shared_module(graph: grimp.ImportGraph) -> None:
    graph.add_import(importer="orders.presenters", imported="orders.views.web")
    broken = view_to_view_violations(graph)
    assert "orders.views.staff -> orders.presenters -> orders.views.web" in broken
    assert "orders.views.api -> orders.presenters -> orders.views.web" in broken


def test_no_view_imports_the_infrastructure(graph: grimp.ImportGraph) -> None:
    assert view_to_infrastructure_violations(graph) == []
    graph.add_import(importer="orders.views.staff", imported="orders.d365")
    graph.add_import(importer="orders.views.health", imported="orders.resilience.breaker")
    assert view_to_infrastructure_violations(graph) == [
        "orders.views.health -> orders.resilience.breaker", "orders.views.staff -> orders.d365",
    ]
