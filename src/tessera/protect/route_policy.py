"""The IAM resources that let a caller reach exactly the routes it may call, and no other ARN.

In an IAM resource ``*`` matches any run of characters, ``/`` included, so a route's pattern
(``{id}`` → ``*``) matches more than the route: ``items/*`` also matches ``items/1/undeclared``,
and ``*/mine`` (from ``/{a}/mine``) also matches ``x/y/mine``. :func:`method_policy` decides,
for one HTTP method, the rules that apply to it (its own and ``ANY``, in the order
:meth:`RouteRules.match` tries them) and the ones the caller may call:

* Deny patterns that match no path the caller may call: each ``{param}`` of an allowed rule
  spanning two or more segments (``items/*/*``), and the pattern of each refused rule;
* an Allow pattern for each allowed rule whose pattern, minus those Denies, matches only paths
  the caller may call. The other allowed rules are *uncovered*: no pattern can say what they
  allow (``items/{id}`` beside ``items/{id}/parts`` would need "any second segment but
  ``parts``"), so the authorizer allows only the exact ARN it was called for.

Both tests are exact. Rules and patterns are automata over path segments (each literal segment
of the rules, and one symbol standing for every other segment); their product is explored state
by state. Paths with an empty segment belong to no rule: :data:`MALFORMED` denies them wherever
a wildcard is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .routes import Route

__all__ = ["HTTP_METHODS", "MALFORMED", "MethodPolicy", "RulesPolicy", "method_policy", "rules_policy"]

HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
"""The methods an ``ANY`` rule stands for: one resource each, never ``*``."""

MALFORMED = ("*//*", "*/*/")
"""Resources after ``{stage prefix}/`` matching every ARN whose path has an empty segment
(``GET//items``, ``GET/items//1``, ``GET/items/``) and no other: ``GET/`` is the root."""

MAX_STATES = 20_000
"""Beyond this many product states every wildcard rule is left uncovered (exact ARNs only)."""

_ONE = "{1}"  # any one segment; literal segments never contain braces
_MORE = "{*}"  # zero or more further segments


@dataclass(frozen=True, slots=True)
class MethodPolicy:
    """What one method's part of a policy holds, as resource paths after ``{prefix}/{METHOD}/``.

    ``covered`` holds the indexes (into the rules given) of the allowed rules whose every path
    the Allow patterns open; ``wildcards`` says whether :data:`MALFORMED` must be denied.
    """

    allow: tuple[str, ...]
    deny: tuple[str, ...]
    covered: frozenset[int]
    wildcards: bool


class _Automaton:
    """A segment pattern as a set of positions (a bit mask): literal, ``_ONE`` or ``_MORE`` tokens."""

    __slots__ = ("final", "start", "tokens")

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        self.final = 1 << len(tokens)
        self.start = self._closed(1)

    def _closed(self, positions: int) -> int:
        for index, token in enumerate(self.tokens):
            if token == _MORE and positions >> index & 1:
                positions |= 1 << (index + 1)
        return positions

    def literals(self, positions: int) -> set[str]:
        """The literal segments that would move this pattern on from ``positions``."""
        return {t for i, t in enumerate(self.tokens) if positions >> i & 1 and t not in (_ONE, _MORE)}

    def step(self, positions: int, segment: str | None) -> int:
        """The positions after reading ``segment`` (None: a segment no pattern names)."""
        if not positions:
            return 0
        after = 0
        for index, token in enumerate(self.tokens):
            if positions >> index & 1:
                if token == _MORE:
                    after |= 1 << index
                elif token in (_ONE, segment):
                    after |= 1 << (index + 1)
        return self._closed(after) if after else 0


class _TooComplex(Exception):
    pass


def _outcomes(automata: Sequence[_Automaton]) -> set[int]:
    """Every set (bit mask over ``automata``) of patterns that accept one same path."""
    start = tuple((k, a.start) for k, a in enumerate(automata))  # (index, positions) of live ones
    seen, pending, outcomes = {start}, [start], set()
    while pending:
        state = pending.pop()
        outcomes.add(sum(1 << k for k, p in state if p & automata[k].final))
        symbols: set[str | None] = {None}  # None: any segment no live pattern names
        for k, p in state:
            symbols |= automata[k].literals(p)
        for symbol in symbols:
            after = tuple((k, q) for k, p in state if (q := automata[k].step(p, symbol)))
            if after and after not in seen:
                if len(seen) >= MAX_STATES:
                    raise _TooComplex
                seen.add(after)
                pending.append(after)
    return outcomes


def _first_match(automata: Sequence[_Automaton], segments: Sequence[str]) -> int:
    """The index of the first automaton accepting ``segments`` (-1 when none does)."""
    for index, automaton in enumerate(automata):
        positions = automaton.start
        for segment in segments:
            positions = automaton.step(positions, segment)
        if positions & automaton.final:
            return index
    return -1


def _route_tokens(route: Route) -> tuple[str, ...]:
    """The segments ``route`` matches: ``{name}`` one, ``{name+}`` one or more."""
    tokens: list[str] = []
    for segment, rank in zip(route.segments, route.ranks, strict=True):
        tokens += [segment] if rank == 0 else [_ONE] if rank == 1 else [_ONE, _MORE]
    return tuple(tokens)


def _pattern(route: Route, wide: int = -1) -> tuple[tuple[str, ...], str]:
    """The resource pattern of ``route`` (each wildcard ``*``, one or more segments) as tokens and
    text; with ``wide``, the wildcard at that index spans two or more segments (``*/*``)."""
    tokens: list[str] = []
    text: list[str] = []
    for index, (segment, rank) in enumerate(zip(route.segments, route.ranks, strict=True)):
        if rank == 0:
            tokens.append(segment)
            text.append(segment)
        elif index == wide:
            tokens += [_ONE, _ONE, _MORE]
            text.append("*/*")
        else:
            tokens += [_ONE, _MORE]
            text.append("*")
    joined = "/".join(text)
    return tuple(tokens), "?*" if joined == "*" else joined  # a lone '*' would also match the root


def method_policy(routes: Sequence[Route], permitted: frozenset[int]) -> MethodPolicy:
    """The Allow and Deny resource paths for one method.

    ``routes`` are the rules applying to the method in match order, ``permitted`` the indexes
    of those the caller may call. Nothing the result allows is a path whose matching rule is
    refused or missing; every path of a ``covered`` rule is allowed.
    """
    automata = [_Automaton(_route_tokens(r)) for r in routes]
    literal = [
        i
        for i in sorted(permitted)
        if 1 not in routes[i].ranks
        and 2 not in routes[i].ranks
        and _first_match(automata, routes[i].segments) in permitted  # not shadowed by a refused rule
    ]
    exact_allow = tuple("/".join(routes[i].segments) for i in literal)
    wild = [i for i in sorted(permitted) if 1 in routes[i].ranks or 2 in routes[i].ranks]
    if not wild:
        return MethodPolicy(exact_allow, (), frozenset(literal), False)
    allows = [_pattern(routes[i]) for i in wild]
    denies = [
        _pattern(routes[i], wide) for i in wild for wide, rank in enumerate(routes[i].ranks) if rank == 1
    ]
    denies += [_pattern(route) for i, route in enumerate(routes) if i not in permitted]
    automata += [_Automaton(tokens) for tokens, _ in allows + denies]
    try:
        outcomes = _outcomes(automata)
    except _TooComplex:
        return MethodPolicy(exact_allow, (), frozenset(literal), False)
    n_routes, n_allows = len(routes), len(allows)
    route_bits, allow_shift, deny_shift = (1 << n_routes) - 1, n_routes, n_routes + n_allows
    harmful, opened = 0, []
    for outcome in outcomes:
        matched = outcome & route_bits
        rule = (matched & -matched).bit_length() - 1 if matched else -1
        fine = rule in permitted
        if fine:
            harmful |= outcome >> deny_shift
        opened.append((fine, outcome >> allow_shift & ((1 << n_allows) - 1), outcome >> deny_shift))
    kept_denies = ~harmful
    unsafe = 0
    for fine, allowed, denied in opened:
        if not fine and not denied & kept_denies:
            unsafe |= allowed
    kept = [k for k in range(n_allows) if not unsafe >> k & 1]
    kept_bits = sum(1 << k for k in kept)
    blocked = [denied & kept_denies for fine, allowed, denied in opened if not fine and allowed & kept_bits]
    useful = 0
    for bits in blocked:
        useful |= bits
    for k in reversed(range(len(denies))):  # drop each Deny the others make redundant
        if useful >> k & 1 and all(bits & useful & ~(1 << k) for bits in blocked):
            useful &= ~(1 << k)
    return MethodPolicy(
        exact_allow + tuple(allows[k][1] for k in kept),
        tuple(text for k, (_, text) in enumerate(denies) if useful >> k & 1),
        frozenset(literal + [wild[k] for k in kept]),
        bool(kept),
    )


@dataclass(frozen=True, slots=True)
class RulesPolicy:
    """A caller's policy for every method, as resources after ``{stage prefix}/``.

    ``covered`` holds ``(method, id(rule))`` for each rule whose every ARN under that method
    the Allow resources open; an ARN of any other allowed rule needs its own exact Allow.
    """

    allow: tuple[str, ...]
    deny: tuple[str, ...]
    covered: frozenset[tuple[str, int]]


def rules_policy(routes: Sequence[Route], permitted: Sequence[Route]) -> RulesPolicy:
    """The policy of a caller who may call ``permitted`` among ``routes`` (in match order)."""
    permitted_ids = {id(r) for r in permitted}
    allow: list[str] = []
    deny: list[str] = []
    covered: set[tuple[str, int]] = set()
    wildcards = False
    decided: dict[tuple[int, ...], MethodPolicy] = {}
    for method in HTTP_METHODS:
        applying = [r for r in routes if r.method in (method, "ANY")]
        key = tuple(map(id, applying))
        part = decided.get(key)
        if part is None:
            indexes = frozenset(i for i, r in enumerate(applying) if id(r) in permitted_ids)
            part = decided[key] = method_policy(applying, indexes)
        allow += [f"{method}/{path}" for path in part.allow]
        deny += [f"{method}/{path}" for path in part.deny]
        covered.update((method, id(applying[i])) for i in part.covered)
        wildcards = wildcards or part.wildcards
    if wildcards:
        deny += MALFORMED
    return RulesPolicy(tuple(allow), tuple(deny), frozenset(covered))
