"""Rule files: the shipped ones load, bad ones fail naming the file and field path, and the
condition language evaluates (and refuses) what it should."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from novacron.core.errors import Invalid
from novacron.security.threats import RuleError, SecurityEvent, load_rules, parse_rules
from novacron.security.threats._validate import Checker
from novacron.security.threats.conditions import OPERATORS, compile_condition
from novacron.security.threats.rules import (
    BaselineParams,
    NewValueParams,
    SequenceParams,
    ThresholdParams,
)

Ev = Callable[..., SecurityEvent]

GOOD = """
rules:
  - id: {id}
    title: A rule
    description: Something worth knowing.
    priority: high
    tags: [test]
    mitre: {{technique: T1110, tactic: credential-access}}
    {body}
"""


def rule_yaml(body: str, rule_id: str = "r1") -> str:
    return GOOD.format(id=rule_id, body=textwrap.indent(textwrap.dedent(body), "    ").strip())


def test_shipped_rules_load_with_every_kind_and_family() -> None:
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules) >= 16
    assert {r.family for r in rules} == {
        "brute_force",
        "token_misuse",
        "privilege_escalation",
        "mass_deletion",
        "api_volume",
        "vm_escape",
    }
    assert {r.kind for r in rules} == {"match", "threshold", "new_value", "sequence", "baseline"}
    by_id = {r.id: r for r in rules}
    bf = by_id["brute-force-actor"]
    assert isinstance(bf.params, ThresholdParams)
    assert (bf.params.window, bf.params.threshold, bf.group_by) == (300.0, 10, ("actor",))
    assert bf.cooldown == 300.0  # defaults to the window
    assert bf.mitre.technique == "T1110.001" and bf.mitre.tactic == "credential-access"
    assert bf.actions == frozenset({"auth.login"})
    spray = by_id["password-spraying"].params
    assert isinstance(spray, ThresholdParams) and spray.distinct == "actor"
    token = by_id["token-new-source-ip"].params
    assert isinstance(token, NewValueParams)
    assert (token.learning, token.ipv4_prefix, token.ipv6_prefix) == (86400.0, 24, 64)
    seq = by_id["denied-then-granted-privilege"]
    assert isinstance(seq.params, SequenceParams) and len(seq.params.steps) == 2
    assert seq.actions == frozenset({"role.grant"})
    vol = by_id["api-volume-spike"]
    assert isinstance(vol.params, BaselineParams) and vol.params.floor == 100
    assert vol.actions is None  # every audited action counts
    mass = by_id["mass-deletion"]
    assert isinstance(mass.params, ThresholdParams) and mass.params.unless is not None
    assert "vm.create" in (mass.actions or ()) and "vm.delete" in (mass.actions or ())
    assert sum(r.family == "vm_escape" for r in rules) >= 6


def test_a_good_rule_parses_with_its_fields() -> None:
    text = rule_yaml(
        """
        kind: threshold
        condition: {field: action, equals: auth.login}
        group_by: [source_ip]
        window: 90s
        threshold: 3
        cooldown: 2h
        summary: "{count} from {group}"
        """
    )
    (rule,) = parse_rules(text, source="x.yaml", family="fam")
    assert (rule.id, rule.family, rule.priority, rule.tags) == ("r1", "fam", "high", ("test",))
    assert rule.cooldown == 7200.0 and rule.source == "x.yaml"
    assert isinstance(rule.params, ThresholdParams) and rule.params.window == 90.0


def test_disabled_rules_are_left_out_but_still_validated(tmp_path: Path) -> None:
    text = rule_yaml("enabled: false\ncondition: {field: action, equals: a}")
    assert parse_rules(text, source="x.yaml", family="f") == []
    broken = rule_yaml("enabled: false\ncondition: {field: action, equals: a}\nwindow: 5m")
    with pytest.raises(RuleError, match=r"rules\[0\]\.window: unknown field"):
        parse_rules(broken, source="x.yaml", family="f")
    with pytest.raises(RuleError, match=r"missing\.yaml: cannot read"):
        load_rules(tmp_path / "missing.yaml")


BAD: list[tuple[str, str]] = [
    (
        "condition: {all: [{field: action, equals: a}, {field: actor, startswith: b}]}",
        "x.yaml: rules[0].condition.all[1].startswith: unknown operator",
    ),
    (
        "condition: {field: actor, equals: a, prefix: b}",
        "x.yaml: rules[0].condition: a test needs exactly one operator, got 2",
    ),
    ("condition: {field: usr, equals: a}", "x.yaml: rules[0].condition.field: unknown field 'usr'"),
    (
        "condition: {field: message, regex: '(unclosed'}",
        "x.yaml: rules[0].condition.regex: bad regular expression",
    ),
    (
        "condition: {field: source_ip, cidr: [10.0.0.0/8, 300.1.1.0/24]}",
        "x.yaml: rules[0].condition.cidr[1]:",
    ),
    ("condition: {field: action, in: vm.delete}", "rules[0].condition.in: expected a list"),
    (
        "condition: {all: [{field: action, equals: a}], field: actor}",
        "rules[0].condition: 'all' must be the only key",
    ),
    ("condition: {any: []}", "rules[0].condition.any: needs at least 1 item"),
    ("condition: {nope: 1}", "rules[0].condition: expected 'field' with an operator"),
    (
        "kind: threshold\ncondition: {field: action, equals: a}\nwindow: 5 minutes\nthreshold: 3",
        "x.yaml: rules[0].window: '5 minutes' is not a duration",
    ),
    (
        "kind: threshold\ncondition: {field: action, equals: a}\nwindow: 5m\ntreshold: 3",
        "x.yaml: rules[0].treshold: unknown field",
    ),
    (
        "kind: threshold\ncondition: {field: action, equals: a}\nwindow: 5m\nthreshold: 0",
        "rules[0].threshold: must be at least 1",
    ),
    ("kind: magic\ncondition: {field: action, equals: a}", "rules[0].kind: 'magic' is not one of"),
    (
        "kind: sequence\nsteps: [{field: action, equals: a}]\nwindow: 5m",
        "rules[0].steps: needs at least 2 item(s)",
    ),
    (
        "kind: sequence\nsteps: [{field: action, equals: a}, {field: action, oops: b}]\nwindow: 5m",
        "rules[0].steps[1].oops: unknown operator",
    ),
    (
        "kind: baseline\ncondition: {field: source, equals: audit}\nalpha: 1.5",
        "rules[0].alpha: must be less than 1",
    ),
    (
        "kind: new_value\ncondition: {field: action, equals: a}\nvalue: source_ip\nlearning: 1d\n"
        "ipv4_prefix: 40",
        "rules[0].ipv4_prefix: must be at most 32",
    ),
    (
        "kind: threshold\ncondition: {field: action, equals: a}\nwindow: 5m\nthreshold: 2\n"
        "unless: {condition: {field: action, equals: b}, same: [actor]}",
        "rules[0].unless.within: required",
    ),
    (
        "condition: {field: action, equals: a}\nsummary: '{count.__class__}'",
        "rules[0].summary: unknown placeholder",
    ),
    ("condition: {field: action, equals: a}\ngroup_by: [who]", "rules[0].group_by[0]: unknown"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m.split(": ")[-1][:40] for _, m in BAD])
def test_bad_rules_name_the_file_and_field_path(body: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules(rule_yaml(body), source="x.yaml", family="f")
    assert message in info.value.detail
    assert isinstance(info.value, Invalid)  # the API renders it as a 422 with errors[*].loc
    assert info.value.errors[0]["loc"][:2] == ["rules", 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  - id: a\n    title: [unclosed\n", "x.yaml: not valid YAML: line"),
        ("- just a list\n", "x.yaml: expected a mapping, got a list"),
        ("rules: []\n", "x.yaml: rules: needs at least 1 item"),
        ("rule: []\n", "x.yaml: rule: unknown field"),
    ],
)
def test_bad_documents(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=r"^" + message.replace("[", r"\[")):
        parse_rules(text, source="x.yaml", family="f")


def test_missing_and_invalid_common_fields() -> None:
    text = GOOD.format(id="r1", body="condition: {field: action, equals: a}").replace(
        "    title: A rule\n", ""
    )
    with pytest.raises(RuleError, match=r"rules\[0\]\.title: required"):
        parse_rules(text, source="x.yaml", family="f")
    for old, new, where in [
        ("priority: high", "priority: urgent", "rules[0].priority"),
        ("technique: T1110", "technique: T11", "rules[0].mitre.technique"),
        ("tactic: credential-access", "tactic: hacking", "rules[0].mitre.tactic"),
        ("id: r1", "id: Bad_Id", "rules[0].id"),
    ]:
        bad = rule_yaml("condition: {field: action, equals: a}").replace(old, new)
        with pytest.raises(RuleError) as info:
            parse_rules(bad, source="x.yaml", family="f")
        assert info.value.detail.startswith(f"x.yaml: {where}: ")


def test_duplicate_ids_are_refused_within_and_across_files(tmp_path: Path) -> None:
    one = rule_yaml("condition: {field: action, equals: a}")
    two = one + one.split("rules:\n", 1)[1]
    with pytest.raises(RuleError, match=r"rules\[1\]\.id: duplicate id 'r1'"):
        parse_rules(two, source="x.yaml", family="f")
    (tmp_path / "a.yaml").write_text(one)
    (tmp_path / "b.yaml").write_text(one)
    with pytest.raises(RuleError, match=r"b\.yaml: rules\[0\]\.id: 'r1' is already in a\.yaml"):
        load_rules(tmp_path)
    (tmp_path / "b.yaml").write_text(rule_yaml("condition: {field: action, equals: b}", "r2"))
    rules = load_rules(tmp_path)
    assert [(r.id, r.family) for r in rules] == [("r1", "a"), ("r2", "b")]


# ---------------------------------------------------------------- the evaluator

CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"field": "actor", "equals": "bob"}, {"actor": "bob"}, True),
    ({"field": "actor", "equals": "bob"}, {"actor": "bobby"}, False),
    ({"field": "actor", "equals": "bob"}, {}, False),
    ({"field": "outcome", "in": ["failure", "denied"]}, {"outcome": "denied"}, True),
    ({"field": "outcome", "in": ["failure", "denied"]}, {"outcome": "success"}, False),
    ({"field": "target", "prefix": ["vm-", "img-"]}, {"target": "img-7"}, True),
    ({"field": "target", "prefix": "vm-"}, {"target": "xvm-1"}, False),
    ({"field": "target", "suffix": ".iso"}, {"target": "a.iso"}, True),
    ({"field": "message", "contains": ["segfault", "oops"]}, {"message": "x segfault y"}, True),
    ({"field": "message", "regex": r"^qemu.*\d+$"}, {"message": "qemu says 42"}, True),
    ({"field": "message", "regex": r"^qemu"}, {"message": "not qemu"}, False),
    ({"field": "source_ip", "cidr": "10.0.0.0/8"}, {"source_ip": "10.1.2.3"}, True),
    ({"field": "source_ip", "cidr": "10.0.0.0/8"}, {"source_ip": "11.1.2.3"}, False),
    (
        {"field": "source_ip", "cidr": ["10.0.0.0/8", "2001:db8::/32"]},
        {"source_ip": "2001:db8::1"},
        True,
    ),
    ({"field": "source_ip", "cidr": "10.0.0.0/8"}, {"source_ip": "not-an-ip"}, False),
    ({"field": "source_ip", "cidr": "10.0.0.0/8"}, {}, False),
    ({"field": "project", "exists": True}, {"project": "p"}, True),
    ({"field": "project", "exists": False}, {}, True),
    ({"field": "target", "same_as": "actor"}, {"actor": "bob", "target": "bob"}, True),
    ({"field": "target", "same_as": "actor"}, {"actor": "bob", "target": "eve"}, False),
    ({"field": "target", "same_as": "actor"}, {}, False),  # two missing fields are not equal
    ({"field": "detail.role", "equals": "admin"}, {"detail": {"role": "admin"}}, True),
    ({"field": "detail.a.b", "equals": 3}, {"detail": {"a": {"b": 3}}}, True),
    ({"field": "detail.a.b", "equals": 3}, {"detail": {"a": 7}}, False),
    ({"field": "detail.tags", "in": ["x"]}, {"detail": {"tags": ["x"]}}, False),  # no crash
    ({"not": {"field": "actor", "equals": "bob"}}, {"actor": "eve"}, True),
    ({"not": {"field": "actor", "equals": "bob"}}, {"actor": "bob"}, False),
    (
        {"all": [{"field": "action", "equals": "a"}, {"field": "actor", "equals": "bob"}]},
        {"action": "a", "actor": "eve"},
        False,
    ),
    (
        {"any": [{"field": "action", "equals": "zz"}, {"field": "actor", "equals": "bob"}]},
        {"action": "a", "actor": "bob"},
        True,
    ),
    # Strings are data, never code.
    ({"field": "actor", "equals": "__import__('os').getcwd()"}, {"actor": "bob"}, False),
]


@pytest.mark.parametrize(("spec", "fields", "expected"), CASES)
def test_condition_operators(
    ev: Ev, spec: dict[str, Any], fields: dict[str, Any], expected: bool
) -> None:
    condition = compile_condition(spec, Checker("t"), ("condition",))
    fields.setdefault("action", "x")
    action = fields.pop("action")
    assert condition(ev(0, action, **fields)) is expected


def test_action_index_of_conditions() -> None:
    def actions(spec: dict[str, Any]) -> frozenset[str] | None:
        return compile_condition(spec, Checker("t"), ()).actions

    assert actions({"field": "action", "in": ["a", "b"]}) == {"a", "b"}
    assert actions(
        {"all": [{"field": "action", "in": ["a", "b"]}, {"field": "action", "equals": "b"}]}
    ) == {"b"}
    assert actions(
        {"any": [{"field": "action", "equals": "a"}, {"field": "action", "equals": "c"}]}
    ) == {"a", "c"}
    assert (
        actions({"any": [{"field": "action", "equals": "a"}, {"field": "actor", "equals": "c"}]})
        is None
    )
    assert actions({"not": {"field": "action", "equals": "a"}}) is None


def test_the_evaluator_refuses_unknown_operators_and_knows_its_own() -> None:
    for op in ("eval", "exec", "lambda", "startswith", "__class__"):
        with pytest.raises(RuleError, match=f"condition.{op}: unknown operator"):
            compile_condition({"field": "actor", op: "x"}, Checker("t"), ("condition",))
    assert set(OPERATORS) == {
        "equals", "in", "prefix", "suffix", "contains", "regex", "cidr", "exists", "same_as",
    }  # fmt: skip
