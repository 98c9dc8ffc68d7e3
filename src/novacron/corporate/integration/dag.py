"""Task dependencies as a DAG: cycle detection, order, blockers and the critical path.

``deps`` maps a task to the tasks it depends on (must finish first). Pure functions over
plain mappings so the rules are unit-tested without a database; the service loads the
edges of one programme and asks these functions before it writes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

Deps = Mapping[str, Iterable[str]]


def path_between(deps: Deps, start: str, goal: str) -> list[str] | None:
    """A dependency chain ``start → … → goal`` (each depends on the next), or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        for nxt in deps.get(node, ()):
            if nxt not in seen:
                stack.append((nxt, [*path, nxt]))
    return None


def cycle_if_added(deps: Deps, task: str, depends_on: str) -> list[str] | None:
    """The cycle that ``task`` depending on ``depends_on`` would close, as the chain
    ``task → depends_on → … → task``; None when the edge keeps the graph acyclic."""
    if task == depends_on:
        return [task, task]
    back = path_between(deps, depends_on, task)
    return None if back is None else [task, *back]


def topological_order(deps: Deps) -> list[str]:
    """Every task after all of its dependencies; ``ValueError`` naming a cycle if any."""
    try:
        return list(TopologicalSorter({k: tuple(v) for k, v in deps.items()}).static_order())
    except CycleError as exc:
        raise ValueError(f"dependency cycle: {' → '.join(exc.args[1])}") from None


def blockers(deps: Deps, task: str, done: set[str]) -> list[str]:
    """Every unfinished task that ``task`` waits for, directly or through other tasks
    (nearest first), so a user sees the whole chain that holds it up."""
    order: list[str] = []
    frontier = [d for d in deps.get(task, ()) if d not in done]
    seen: set[str] = set()
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            nxt.extend(d for d in deps.get(node, ()) if d not in done)
        frontier = nxt
    return order


@dataclass(frozen=True, slots=True)
class CriticalPath:
    tasks: list[str]
    """From the first task to the last, each depending on the one before."""
    length_days: int


def critical_path(deps: Deps, durations: Mapping[str, int]) -> CriticalPath:
    """The longest chain of dependent work by planned duration (days), as in the critical
    path method: a slip on any of its tasks slips the programme. Ties pick the task that
    sorts first so the answer is stable."""
    graph = {task: tuple(deps.get(task, ())) for task in durations}
    finish: dict[str, int] = {}
    via: dict[str, str | None] = {}
    for task in topological_order(graph):
        if task not in durations:
            continue
        before = sorted((d for d in graph[task] if d in finish), key=lambda d: (-finish[d], d))
        via[task] = before[0] if before else None
        finish[task] = (finish[before[0]] if before else 0) + max(durations[task], 0)
    if not finish:
        return CriticalPath([], 0)
    last = min(finish, key=lambda t: (-finish[t], t))
    chain: list[str] = []
    node: str | None = last
    while node is not None:
        chain.append(node)
        node = via[node]
    return CriticalPath(list(reversed(chain)), finish[last])
