"""Test data the suite creates on the server under test: tagged, and deleted at the end."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession

FIRST_NAMES = ("Mariana", "Tomás", "Aiko", "Kwame", "Ingrid", "Rahul", "Lucía", "Omar", "Chloé", "Dmitri")
COMPANIES = ("Vela Logística", "Northwind Freight", "Kestrel Analytics", "Quinta Foods", "Bluefin Health")


def expect_status(exchange: Exchange, status: int, requirement: str, what: str) -> Any:
    """The body of `exchange` if it has `status`, else a violation of `requirement`."""
    if exchange.status != status:
        raise violation(requirement, f"{status} for {what}", exchange.describe(), exchange)
    return exchange.response_body


def first_pipeline_id(client: KitClient) -> str:
    """The organization's first pipeline, where the suite's leads go."""
    page = client.get("/pipelines", params={"limit": 1})
    items = page.response_body.get("items") if page.status == 200 and isinstance(page.response_body, dict) else None
    if not items:
        pytest.skip(f"the organization has no pipeline to put test leads in ({page.describe()[:200]})")
    return str(items[0]["id"])


def _ascii(text: str) -> str:
    """`Tomás` -> `Tomas`: JSON Schema's `email` format is an ASCII mailbox (`idn-email` is the Unicode one)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def lead_body(kit: KitSession, pipeline_id: str, **overrides: Any) -> dict[str, Any]:
    """A realistic, valid LeadCreate body carrying the run's tag."""
    rng = kit.random
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(('Souza', 'Okafor', 'Tanaka', 'Larsen', 'Iyer'))}"
    body: dict[str, Any] = {
        "contact_name": name,
        "company_name": rng.choice(COMPANIES),
        "email": f"{_ascii(name.split()[0]).lower()}.{rng.randrange(10**6)}@example.com",
        "phone": f"+55119{rng.randrange(10**7, 10**8)}",
        "pipeline_id": pipeline_id,
        "tags": [kit.tag],
        "value_cents": rng.randrange(1, 10**7),
    }
    body.update(overrides)
    return body


def create_lead(kit: KitSession, client: KitClient, pipeline_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Create a tagged lead (deleted at the end of the run) and return it."""
    body = lead_body(kit, pipeline_id or first_pipeline_id(client), **overrides)
    created = client.post("/leads", body)
    lead = expect_status(created, 201, "/req/status-codes/created-201", "createLead with a valid body")
    kit.remember_created(client, created)
    return dict(lead)


def walk(client: KitClient, path: str, params: dict[str, Any] | None = None, *, limit: int = 2, max_pages: int = 500) -> tuple[list[dict[str, Any]], list[Exchange]]:
    """Every item of a list, page by page; the pages' exchanges for the checks."""
    items: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    cursor = None
    for _ in range(max_pages):
        query = {**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query)
        pages.append(page)
        body = expect_status(page, 200, "/req/pagination/cursor-based", f"GET {path} page")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise violation("/req/pagination/cursor-based", "a page {items, next_cursor}", page.describe(), page)
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if cursor is None:
            return items, pages
    raise violation("/req/pagination/next-cursor-null-at-end", f"the end of {path} within {max_pages} pages", "next_cursor never null", pages[-1])


def was_created(exchange: Exchange) -> bool:
    """Whether a creating call created something: any 2xx with the resource and its id.

    Tests that create as a step accept any 2xx, so a server answering 200
    fails /req/status-codes/created-201 once, not every test that creates.
    """
    return 200 <= exchange.status < 300 and isinstance(exchange.response_body, dict) and bool(exchange.response_body.get("id"))
