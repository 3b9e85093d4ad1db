"""Seed data: two organizations with different members, pipelines, agents and wallets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from apollospace_refserver.db import dumps
from apollospace_refserver.ids import stable_id
from apollospace_refserver.services import Services
from apollospace_refserver.stars_ledger import record_seed_grants
from apollospace_refserver.timeutil import now_iso

DEFAULT_STAGES = ("New lead", "Qualified", "In conversation", "Proposal sent", "Negotiation", "Closed-Won", "Closed-Lost")
MONTHLY_GRANT = 50_000
PACKAGE_BALANCE = 20_000


@dataclass(frozen=True)
class SeedUser:
    key: str
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class SeedOrganization:
    key: str
    id: str
    name: str
    members: tuple[tuple[str, str], ...]  # (user key, role)


USERS = (
    SeedUser("olivia", "3711df79-5691-4e8b-ae9a-09f9835ed875", "Olivia Owner", "olivia@acme-prospecting.example"),
    SeedUser("arthur", "1267bcb5-0755-473c-9094-a267e049be5d", "Arthur Admin", "arthur@acme-prospecting.example"),
    SeedUser("mia", "d3f41ca3-5a9b-4ab7-a898-7e6c542dbf81", "Mia Member", "mia@acme-prospecting.example"),
    SeedUser("victor", "fb4a0412-3e06-407a-9ae4-a584b310aa37", "Victor Viewer", "victor@acme-prospecting.example"),
    SeedUser("bruno", "3a8f48cc-dcc4-499e-867c-9d331fe2813a", "Bruno Owner", "bruno@globex-sales.example"),
    SeedUser("bea", "65ae6841-dc0b-4675-ac7d-93e2e6b1eaa1", "Bea Member", "bea@globex-sales.example"),
)
ORGANIZATIONS = (
    SeedOrganization("acme", "2f1f89d7-5c15-419b-bfe6-c4a1ef167827", "Acme Prospecting",
                     (("olivia", "owner"), ("arthur", "admin"), ("mia", "member"), ("victor", "viewer"))),
    SeedOrganization("globex", "85ec86c7-cc61-4292-b257-1ef09b02936c", "Globex Sales",
                     (("bruno", "owner"), ("bea", "member"))),
)
AGENTS = (
    ("Athena", "chief_of_staff", "Chief of staff: plans the day, delegates to the other agents and reports back.",
     ["lead_lookup", "task_planner", "agent_delegate"]),
    ("Scout", "research", "Researches companies and contacts and enriches leads with what it finds.",
     ["web_search", "company_enrichment", "lead_lookup", "lead_update"]),
    ("Marcus", "outbound", "Drafts outbound messages that wait for human approval before they are sent.",
     ["lead_lookup", "message_draft", "template_library"]),
)


def user_by_key(key: str) -> SeedUser:
    return next(user for user in USERS if user.key == key)


def seed_if_empty(services: Services) -> None:
    with services.db.transaction() as conn:
        if conn.execute("SELECT 1 FROM organizations LIMIT 1").fetchone():
            return
        stamp = now_iso()
        for user in USERS:
            conn.execute("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", (user.id, user.name, user.email))
        for org in ORGANIZATIONS:
            conn.execute("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)", (org.id, org.name, stamp))
            for user_key, role in org.members:
                conn.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", (org.id, user_by_key(user_key).id, role))
            pipeline_id = stable_id(f"{org.key}/pipeline/sales")
            conn.execute(
                "INSERT INTO pipelines (id, org_id, name, is_default, created_at, updated_at) VALUES (?, ?, 'Sales', 1, ?, ?)",
                (pipeline_id, org.id, stamp, stamp),
            )
            for position, name in enumerate(DEFAULT_STAGES):
                conn.execute(
                    "INSERT INTO stages (id, pipeline_id, org_id, name, position, archived_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    (stable_id(f"{org.key}/pipeline/sales/{name}"), pipeline_id, org.id, name, position, stamp),
                )
            for name, persona, description, tools in AGENTS:
                doc = {"name": name, "persona": persona, "description": description, "tools": tools}
                conn.execute(
                    "INSERT INTO agents (id, org_id, doc, created_at) VALUES (?, ?, ?, ?)",
                    (stable_id(f"{org.key}/agent/{name}"), org.id, dumps(doc), stamp),
                )
            today = datetime.now(UTC).date()
            period_start = today.replace(day=1)
            period_end = (period_start.replace(year=period_start.year + 1, month=1) if period_start.month == 12
                          else period_start.replace(month=period_start.month + 1))
            conn.execute(
                "INSERT INTO wallets (org_id, monthly, package, period_start, period_end, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (org.id, MONTHLY_GRANT, PACKAGE_BALANCE, period_start.isoformat(), period_end.isoformat(), stamp),
            )
            owner = next(user_by_key(key).id for key, role in org.members if role == "owner")
            record_seed_grants(conn, org.id, owner, MONTHLY_GRANT, PACKAGE_BALANCE, stamp)
            caps = {"organization_monthly": None, "agent_daily_default": 5_000, "agents": [], "user_agent_monthly": []}
            conn.execute("INSERT INTO stars_caps (org_id, doc, updated_at) VALUES (?, ?, ?)", (org.id, dumps(caps), stamp))
