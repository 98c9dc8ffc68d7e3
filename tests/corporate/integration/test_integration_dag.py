"""Task dependency graph (dag.py): cycles, blockers, critical path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.corporate.integration import dag

# c depends on b, b on a; d on a.
DEPS = {"a": [], "b": ["a"], "c": ["b"], "d": ["a"]}


def test_a_new_edge_that_closes_a_cycle_is_reported_with_its_path() -> None:
    assert dag.cycle_if_added(DEPS, "a", "c") == ["a", "c", "b", "a"]
    assert dag.cycle_if_added(DEPS, "a", "a") == ["a", "a"]


def test_edges_that_keep_the_graph_acyclic_pass() -> None:
    assert dag.cycle_if_added(DEPS, "c", "d") is None
    assert dag.cycle_if_added(DEPS, "d", "b") is None


def test_topological_order_names_a_cycle() -> None:
    with pytest.raises(ValueError, match="dependency cycle"):
        dag.topological_order({"x": ["y"], "y": ["x"]})


def test_blockers_are_transitive_and_skip_done_tasks() -> None:
    assert dag.blockers(DEPS, "c", set()) == ["b", "a"]
    assert dag.blockers(DEPS, "c", {"b"}) == []
    assert dag.blockers(DEPS, "c", {"a"}) == ["b"]


def test_critical_path_is_the_longest_chain_by_duration() -> None:
    path = dag.critical_path(DEPS, {"a": 5, "b": 10, "c": 1, "d": 20})
    assert (path.tasks, path.length_days) == (["a", "d"], 25)
    path = dag.critical_path(DEPS, {"a": 5, "b": 10, "c": 11, "d": 20})
    assert (path.tasks, path.length_days) == (["a", "b", "c"], 26)
    assert dag.critical_path({}, {}).tasks == []


@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30))
def test_refusing_cycle_edges_always_leaves_a_dag(edges: list[tuple[int, int]]) -> None:
    deps: dict[str, list[str]] = {str(i): [] for i in range(8)}
    for task, dep in edges:
        if dag.cycle_if_added(deps, str(task), str(dep)) is None:
            deps[str(task)].append(str(dep))
        else:
            assert dag.path_between(deps, str(dep), str(task)) is not None
    order = dag.topological_order(deps)
    position = {k: i for i, k in enumerate(order)}
    assert all(position[d] < position[t] for t, ds in deps.items() for d in ds)
