"""django-cachalot's query key, computed only for queries it may cache.

cachalot builds a query's cache key, which compiles its SQL, before it looks at the tables and finds the query
uncachable; the ORM then compiles the same SQL again to run it. Queries on the tables the portal keeps out of
cachalot (CACHALOT_UNCACHABLE_TABLES: written on most requests, or shared with another process) are refused here
first, from the tables the ORM already knows, so they are compiled once. Anything else goes to cachalot's own key.
"""

from __future__ import annotations

from typing import Any

from cachalot.utils import UncachableQuery, are_all_cachable, get_query_cache_key


def query_cache_key(compiler: Any) -> str:
    query = compiler.query
    tables = set(query.table_map)
    meta = query.get_meta()
    if meta is not None:
        tables.add(meta.db_table)
    if not are_all_cachable(tables):
        raise UncachableQuery
    key: str = get_query_cache_key(compiler)
    return key
