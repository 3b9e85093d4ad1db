"""Before the run: can the target be certified at all, and which inputs are missing?

`check_target` refuses early and clearly (an unreachable target, credentials it
rejects, a URL without the API base). `missing_inputs` names every input a
full certification needs that the settings lack, with the requirements each
leaves unexercised. Those requirements are derived from the suite itself: its
modules are read (not imported) and every test is traced, through its fixtures
(parameters and `getfixturevalue`) and the module-level helpers it calls, to
the fixtures and settings it uses. A test that needs the `api_b` fixture needs
tenant B; one that reads `settings.member_token` needs a member token.
"""

from __future__ import annotations

import ast
import functools
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from apollospace_conformance.http import TargetUnreachable
from apollospace_conformance.liveness import Target, probe
from apollospace_conformance.locate import suite_root
from apollospace_conformance.settings import ConfigError, KitSettings

# --- the target -------------------------------------------------------------------------


def check_target(settings: KitSettings) -> None:
    """Raise TargetUnreachable (no probe answered) or ConfigError (the answer says the settings are wrong)."""
    headers = {"Authorization": f"Bearer {settings.token_a}", "X-Organization-Id": settings.org_a}
    answer, why = probe(Target(settings.url.rstrip("/"), headers, settings.timeout))
    if answer is None:
        raise TargetUnreachable(f"cannot reach {settings.url}: {why}")
    path = answer.request.url.path
    if answer.status_code == 401:
        raise ConfigError(f"{settings.url} answers 401 to tenant A's token: check --token-a (a run would be meaningless)")
    if answer.status_code == 403:
        raise ConfigError(f"{settings.url} answers 403 to tenant A: is --org-a an organization of the token's user?")
    if answer.status_code == 404:
        raise ConfigError(f"{path} is 404: --url must be the API base including /v1")


def preflight(settings: KitSettings, claimed: Iterable[str], warn: Callable[[str], None]) -> None:
    """What both the CLI and the pytest plugin do before the first test: refuse a target that cannot be certified
    (TargetUnreachable, ConfigError), then `warn` one line per missing input."""
    check_target(settings)
    for missing in missing_inputs(settings, claimed):
        warn(missing.line())


# --- the inputs of a full certification ----------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One input a full certification needs: how to give it, and how the suite's tests use it."""

    name: str
    how: str
    missing: Callable[[KitSettings], str | None]  # None when given; otherwise why it is missing ("" when simply not given)
    fixtures: frozenset[str] = frozenset()  # suite fixtures that need it
    settings: frozenset[str] = frozenset()  # settings (or KitSession attributes) the tests read for it


def _absent(attribute: str) -> Callable[[KitSettings], str | None]:
    return lambda settings: None if getattr(settings, attribute) else ""


def receiver_unreachable(settings: KitSettings) -> str | None:
    """Why the target probably cannot call the kit's webhook receiver, or None.

    Only the target can prove it reaches the receiver; what the kit can see is
    a receiver announced on loopback or a private network to a target that is
    elsewhere.
    """
    target = urlsplit(settings.url).hostname or ""
    bind_host = settings.webhook_bind.rpartition(":")[0].strip("[]")
    announced = urlsplit(settings.webhook_public_url).hostname if settings.webhook_public_url else bind_host
    target_address, receiver_address = _address(target), _address(announced or "")
    if target_address is None or target_address.is_loopback:
        return None  # the same machine (or a name we cannot resolve: the run will tell)
    if receiver_address is None:
        return None
    if receiver_address.is_loopback or receiver_address.is_unspecified:
        return f"the receiver would be announced on {announced}, which {target} cannot reach"
    if receiver_address.is_private and target_address.is_global:
        return f"the receiver would be announced on the private address {announced}, which {target} (public) probably cannot reach"
    return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if host == "localhost":
        return ipaddress.ip_address("127.0.0.1")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.getaddrinfo(host, None)[0][4][0])
    except (OSError, ValueError, IndexError):
        return None


INPUTS = (
    Input("tenant B", "--token-b and --org-b, or tenant_b in --credentials-file",
          lambda settings: None if settings.has_tenant_b else "", fixtures=frozenset({"api_b"}), settings=frozenset({"tenant_b"})),
    Input("expired token", "--expired-token, or expired_token in --credentials-file", _absent("expired_token"), settings=frozenset({"expired_token"})),
    Input("member token", "--member-token, or a member of tenant A in --credentials-file", _absent("member_token"), settings=frozenset({"member_token"})),
    Input("viewer token", "--viewer-token, or a viewer of tenant A in --credentials-file", _absent("viewer_token"), settings=frozenset({"viewer_token"})),
    Input("rate-limit probe", "--rate-limit-probe", lambda settings: None if settings.rate_limit_probe else "",
          settings=frozenset({"rate_limit_probe"})),
    Input("webhook receiver reachable from the target", "--webhook-bind HOST:PORT and --webhook-public-url URL (where the target reaches that port)",
          receiver_unreachable, fixtures=frozenset({"receiver"})),
)


@dataclass(frozen=True)
class Missing:
    input: Input
    why: str
    requirements: tuple[str, ...]  # claimed requirements whose tests need it

    @property
    def classes(self) -> list[str]:
        return sorted({rid.split("/")[2] for rid in self.requirements})

    def line(self) -> str:
        """One line: what is missing, how to give it, what it leaves unexercised."""
        shown = ", ".join(self.requirements[:8]) + (f" and {len(self.requirements) - 8} more" if len(self.requirements) > 8 else "")
        why = f"{self.why}; " if self.why else ""
        return (f"missing {self.input.name} ({why}give {self.input.how}): {len(self.requirements)} requirement(s) of "
                f"{', '.join(self.classes)} left unexercised: {shown}")


def missing_inputs(settings: KitSettings, claimed: Iterable[str], suite: Path | None = None) -> list[Missing]:
    """Every input the settings lack that a claimed class's tests need, in INPUTS order."""
    needs = suite_needs(suite or suite_root())
    classes = set(claimed)
    found = []
    for item in INPUTS:
        why = item.missing(settings)
        if why is None:
            continue
        requirements = tuple(sorted(rid for rid in needs.get(item.name, set()) if rid.split("/")[2] in classes))
        if requirements:
            found.append(Missing(item, why, requirements))
    return found


# --- reading the suite ----------------------------------------------------------------------


@dataclass
class _Function:
    module: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    fixture_name: str | None = None

    @property
    def name(self) -> str:
        return self.node.name


@dataclass
class _Module:
    name: str
    constants: dict[str, ast.expr] = field(default_factory=dict)  # module-level NAME = value
    functions: dict[str, _Function] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (sibling module, name there)
    marks: list[ast.expr] = field(default_factory=list)  # pytestmark's value


def suite_needs(suite: Path) -> dict[str, set[str]]:
    """For each input of INPUTS, the requirements cited by the suite's tests that use it."""
    return {name: set(ids) for name, ids in _suite_needs(suite.resolve()).items()}


@functools.cache
def _suite_needs(suite: Path) -> dict[str, frozenset[str]]:
    modules = {path.stem: _read_module(path) for path in sorted(suite.glob("*.py"))}
    uses = _Uses(modules)
    needs: dict[str, set[str]] = {item.name: set() for item in INPUTS}
    for module in modules.values():
        for function in module.functions.values():
            if not function.name.startswith("test") or function.fixture_name:
                continue
            used_fixtures, read = uses.of(function)
            cited = _requirements_of(function.node.decorator_list, module, modules) or _requirements_of(module.marks, module, modules)
            for item in INPUTS:
                if used_fixtures & item.fixtures or read & item.settings:
                    needs[item.name].update(cited)
    return {name: frozenset(ids) for name, ids in needs.items()}


class _Uses:
    """The fixtures and attributes a function reaches through fixtures and module-level helpers (memoised)."""

    def __init__(self, modules: dict[str, _Module]) -> None:
        self.modules = modules
        self.done: dict[tuple[str, str], tuple[set[str], set[str]]] = {}

    def of(self, function: _Function) -> tuple[set[str], set[str]]:
        key = (function.module, function.name)
        if key in self.done:
            return self.done[key]
        used: set[str] = set()
        read: set[str] = set()
        self.done[key] = (used, read)  # a cycle ends here
        module = self.modules[function.module]
        requests_fixtures = function.fixture_name is not None or function.name.startswith("test")
        wanted = {arg.arg for arg in function.node.args.args + function.node.args.kwonlyargs} if requests_fixtures else set()
        for node in ast.walk(function.node):
            if isinstance(node, ast.Attribute):
                read.add(node.attr)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "getfixturevalue":
                wanted.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
            elif isinstance(node, ast.Name) and node is not function.node:
                helper = self._helper(module, node.id)
                if helper is not None and helper is not function:
                    more_used, more_read = self.of(helper)
                    used |= more_used
                    read |= more_read
        for name in wanted:
            used.add(name)
            fixture = self._fixture(module, name)
            if fixture is not None and fixture is not function:
                more_used, more_read = self.of(fixture)
                used |= more_used
                read |= more_read
        return used, read

    def _fixture(self, module: _Module, name: str) -> _Function | None:
        """The fixture a test of `module` gets for `name`: the module's own, else conftest's (else the plugin's: a leaf)."""
        for scope in (module, self.modules.get("conftest")):
            found = scope.functions.get(name) if scope is not None else None
            if found is not None and found.fixture_name == name:
                return found
        return None

    def _helper(self, module: _Module, name: str) -> _Function | None:
        if name in module.functions and not module.functions[name].fixture_name:
            return module.functions[name]
        if name in module.imported:
            source, original = module.imported[name]
            other = self.modules.get(source)
            found = other.functions.get(original) if other is not None else None
            return found if found is not None and not found.fixture_name else None
        return None


def _read_module(path: Path) -> _Module:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    module = _Module(path.stem)
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    module.constants[target.id] = node.value
                    if target.id == "pytestmark":
                        module.marks = [node.value]
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                module.imported[alias.asname or alias.name] = (node.module, alias.name)
    for node in tree.body:
        # Tests may sit under a module-level `if` (the stateful fuzz test runs only in some profiles).
        for inner in ast.walk(node) if isinstance(node, ast.If) else [node]:
            if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions[inner.name] = _Function(module.name, inner, _fixture_name(inner))
    return module


def _strings(node: ast.AST, module: _Module, modules: dict[str, _Module], depth: int = 0) -> list[str]:
    """The string values an expression spells out: a literal, a tuple or list of them, or a constant's (here or imported)."""
    if depth > 5:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [value for item in node.elts for value in _strings(item, module, modules, depth + 1)]
    if isinstance(node, ast.Starred):
        return _strings(node.value, module, modules, depth + 1)
    if isinstance(node, ast.Name) and node.id in module.constants:
        return _strings(module.constants[node.id], module, modules, depth + 1)
    if isinstance(node, ast.Name) and node.id in module.imported:
        source, original = module.imported[node.id]
        other = modules.get(source)
        if other is not None and original in other.constants:
            return _strings(other.constants[original], other, modules, depth + 1)
    return []


def _requirements_of(decorators: list[ast.expr], module: _Module, modules: dict[str, _Module]) -> list[str]:
    """The IDs of every `pytest.mark.requirement(...)` among decorators (or a pytestmark value)."""
    found = []
    for decorator in decorators:
        for node in ast.walk(decorator):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requirement":
                found += [value for arg in node.args for value in _strings(arg, module, modules) if value.startswith("/req/")]
    return found


def _fixture_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            named = [kw.value.value for kw in (call.keywords if call else []) if kw.arg == "name" and isinstance(kw.value, ast.Constant)]
            return str(named[0]) if named else node.name
    return None
