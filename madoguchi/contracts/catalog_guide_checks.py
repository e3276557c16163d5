"""Checks of the procedure guide (kiosk-requirements.md §6, R-27–R-28); each issue names its field path.

Besides references to departments, counters, life events and questions, a guide is refused when a resident
could be led astray by it: a show_when rule that loops, names a later or unknown question, or a question not
asked for the same life event (the question would never be shown); a procedure condition on a question that
is not asked for its life event, or that is asked only after an answer the procedure does not require (the
procedure would always show as "ask at the counter"); a question whose answer changes nothing; more than 10
questions on one path through a life event; a life event listing no procedure; and a listed procedure whose
department no ticket category leads to (the guide could not queue the visit there).
"""

from __future__ import annotations

from collections.abc import Sequence

from madoguchi.contracts.catalog_base import CatalogIssue
from madoguchi.contracts.catalog_check_helpers import duplicates, reference
from madoguchi.contracts.catalog_guide import (
    MAX_QUESTIONS_PER_EVENT,
    Condition,
    Procedure,
    ProcedureGuide,
    Question,
    Route,
)
from madoguchi.contracts.catalog_rules import QueueCategory

__all__ = ["check_guide", "longest_path"]

# Paths explored when looking for the longest run of questions; beyond it every question of the event counts.
_PATH_BUDGET = 20_000


def _conditions_text(conditions: Sequence[Condition]) -> str:
    return " and ".join(f"{c.question}={c.answer}" for c in conditions)


def _loop_through(guide: ProcedureGuide, start: str, back_to: str) -> list[str] | None:
    """The show_when chain `start → … → back_to`, if there is one (breadth first, so the shortest)."""
    needs = {q.id: [c.question for c in q.show_when] for q in guide.questions}
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in needs.get(node, []):
                if nxt in parents:
                    continue
                parents[nxt] = node
                if nxt == back_to:
                    chain = [nxt]
                    while (parent := parents[chain[-1]]) is not None:
                        chain.append(parent)
                    return chain[::-1]
                following.append(nxt)
        frontier = following
    return None


def _show_when(guide: ProcedureGuide, events: Sequence[str], issues: list[CatalogIssue]) -> None:
    index: dict[str, int] = {}
    for i, question in enumerate(guide.questions):
        index.setdefault(question.id, i)
    for i, question in enumerate(guide.questions):
        path = f"procedures.questions[{i}]"
        for j, event in enumerate(question.life_events):
            reference(f"{path}.life_events[{j}]", event, events, "life event", issues)
        wanted: dict[str, str] = {}
        for j, condition in enumerate(question.show_when):
            cpath = f"{path}.show_when[{j}].question"
            k = index.get(condition.question)
            if k is None:
                earlier = ", ".join(q.id for q in guide.questions[:i]) or "(none: this is the first question)"
                issues.append(CatalogIssue(cpath, f"unknown question {condition.question!r}",
                                           f"use one of the questions before it: {earlier}"))  # fmt: skip
            elif k == i:
                issues.append(CatalogIssue(cpath, f"show_when rules loop: {question.id!r} waits for its own answer, "
                                           "so it is never shown", "remove this condition"))  # fmt: skip
            elif k > i:
                loop = _loop_through(guide, condition.question, question.id)
                if loop is not None:
                    message = f"show_when rules loop: {' → '.join([question.id, *loop])}"
                else:
                    message = f"question {condition.question!r} is asked later (procedures.questions[{k}])"
                issues.append(CatalogIssue(cpath, f"{message}; show_when may only name an earlier question",
                                           f"move {condition.question!r} before {question.id!r} or remove this condition"))  # fmt: skip
            else:
                needed = guide.questions[k]
                missing = [e for e in question.life_events if e in events and e not in needed.life_events]
                if missing:
                    issues.append(CatalogIssue(
                        cpath, f"question {question.id!r} is never shown for {', '.join(missing)}: "
                        f"{needed.id!r} is not asked there",
                        f"add {', '.join(missing)} to the life_events of {needed.id!r}, or remove them here"))  # fmt: skip
            if wanted.setdefault(condition.question, condition.answer) != condition.answer:
                issues.append(CatalogIssue(cpath, f"show_when needs {condition.question!r} to be both yes and no, "
                                           f"so {question.id!r} is never shown", "keep one of the two conditions"))  # fmt: skip


def _procedure_conditions(guide: ProcedureGuide, i: int, procedure: Procedure, events: Sequence[str],
                          issues: list[CatalogIssue]) -> None:  # fmt: skip
    by_id = {q.id: q for q in reversed(guide.questions)}  # the first of duplicate ids wins, as in `index`
    required = {(c.question, c.answer) for c in procedure.conditions}
    wanted: dict[str, str] = {}
    for j, condition in enumerate(procedure.conditions):
        cpath = f"procedures.procedures[{i}].conditions[{j}].question"
        question = by_id.get(condition.question)
        if question is None:
            reference(cpath, condition.question, list(by_id), "question", issues)
            continue
        if wanted.setdefault(condition.question, condition.answer) != condition.answer:
            issues.append(CatalogIssue(cpath, f"the conditions need {condition.question!r} to be both yes and no, "
                                       f"so {procedure.id!r} is never listed", "keep one of the two conditions"))  # fmt: skip
        if procedure.route == Route.NOT_COVERED:
            continue  # never listed: its conditions only document the service sheet
        never = [e for e in procedure.life_events if e in events and e not in question.life_events]
        if never:
            issues.append(CatalogIssue(
                cpath, f"question {question.id!r} is not asked for {', '.join(never)}, so there "
                f"{procedure.id!r} always shows as 'ask at the counter'",
                f"add {', '.join(never)} to the life_events of {question.id!r}, or drop them from this procedure"))  # fmt: skip
        missing = [c for c in question.show_when if (c.question, c.answer) not in required]
        if missing:
            issues.append(CatalogIssue(
                cpath, f"question {question.id!r} is asked only when {_conditions_text(missing)}; otherwise "
                f"{procedure.id!r} shows as 'ask at the counter' although it does not apply",
                f"add the condition(s) {_conditions_text(missing)} to this procedure"))  # fmt: skip


def longest_path(questions: Sequence[Question], event: str) -> list[str]:
    """The most questions a resident can be asked for `event` in one session (ids in order).

    Only answers that a later show_when looks at are branched on; a guide with too many such branches to
    explore gets every question of the event (an upper bound).
    """
    asked = [q for q in questions if event in q.life_events]
    looked_at = {c.question for q in asked for c in q.show_when}
    budget = [_PATH_BUDGET]

    def walk(i: int, answers: dict[str, str]) -> list[str]:
        while i < len(asked) and not all(answers.get(c.question) == c.answer for c in asked[i].show_when):
            i += 1
        if i == len(asked):
            return []
        question = asked[i]
        if question.id not in looked_at:
            return [question.id, *walk(i + 1, answers)]
        best: list[str] = []
        for answer in ("yes", "no", "unknown"):
            budget[0] -= 1
            if budget[0] < 0:
                raise OverflowError
            found = walk(i + 1, {**answers, question.id: answer})
            best = found if len(found) > len(best) else best
        return [question.id, *best]

    try:
        return walk(0, {})
    except OverflowError:
        return [q.id for q in asked]


def _life_events(guide: ProcedureGuide, issues: list[CatalogIssue]) -> None:
    for i, event in enumerate(guide.life_events):
        path = f"procedures.life_events[{i}]"
        listed = [p for p in guide.procedures if event.id in p.life_events and p.route != Route.NOT_COVERED]
        if not listed:
            issues.append(CatalogIssue(path, f"life event {event.id!r} lists no procedure (route 5 is never listed)",
                                       f"add a procedure with {event.id!r} in its life_events, or remove the life event"))  # fmt: skip
        path_ids = longest_path(guide.questions, event.id)
        if len(path_ids) > MAX_QUESTIONS_PER_EVENT:
            issues.append(CatalogIssue(
                path, f"life event {event.id!r} can ask {len(path_ids)} questions in one session "
                f"({', '.join(path_ids)}); at most {MAX_QUESTIONS_PER_EVENT} (R-28)",
                "merge or drop questions for it, or ask some only after an earlier answer (show_when)"))  # fmt: skip
        asked = [q for q in guide.questions if event.id in q.life_events]
        used = {c.question for p in listed for c in p.conditions}
        used |= {c.question for q in asked for c in q.show_when}
        for k, question in enumerate(guide.questions):
            if event.id in question.life_events and question.id not in used:
                j = question.life_events.index(event.id)
                issues.append(CatalogIssue(
                    f"procedures.questions[{k}].life_events[{j}]",
                    f"question {question.id!r} is asked for {event.id!r} but nothing there depends on its answer",
                    f"remove {event.id!r} from its life_events, or add a condition on it to a procedure of {event.id!r}"))  # fmt: skip


def _ticket_routes(
    guide: ProcedureGuide, categories: Sequence[QueueCategory], issues: list[CatalogIssue]
) -> None:
    counters = {c.id: c for c in guide.counters}
    reachable = {counters[c.counter].department for c in categories if c.counter in counters}
    reported: set[str] = set()
    for i, procedure in enumerate(guide.procedures):
        counter = counters.get(procedure.counter)
        if procedure.route == Route.NOT_COVERED or counter is None or counter.department in reachable:
            continue
        if counter.department not in reported:
            reported.add(counter.department)
            issues.append(CatalogIssue(
                f"procedures.procedures[{i}].counter",
                f"no ticket category (queue.categories) leads to department {counter.department!r} of counter "
                f"{counter.id!r}, so a visit from the guide cannot be queued there",
                f"add a queue category for counter {counter.id!r} (its own prefix letter)"))  # fmt: skip


def check_guide(
    guide: ProcedureGuide, categories: Sequence[QueueCategory], issues: list[CatalogIssue]
) -> None:
    """Append every problem of the guide (`catalog.procedures`) to `issues`."""
    departments = [d.id for d in guide.departments]
    counters = [c.id for c in guide.counters]
    events = [e.id for e in guide.life_events]
    for name, ids in (
        ("departments", departments),
        ("counters", counters),
        ("life_events", events),
        ("questions", [q.id for q in guide.questions]),
        ("procedures", [p.id for p in guide.procedures]),
    ):
        duplicates(f"procedures.{name}", ids, issues)
    for i, counter in enumerate(guide.counters):
        reference(
            f"procedures.counters[{i}].department", counter.department, departments, "department", issues
        )
    _show_when(guide, events, issues)
    for i, procedure in enumerate(guide.procedures):
        path = f"procedures.procedures[{i}]"
        reference(f"{path}.department", procedure.department, departments, "department", issues)
        reference(f"{path}.counter", procedure.counter, counters, "counter", issues)
        for j, event in enumerate(procedure.life_events):
            reference(f"{path}.life_events[{j}]", event, events, "life event", issues)
        _procedure_conditions(guide, i, procedure, events, issues)
    _life_events(guide, issues)
    _ticket_routes(guide, categories, issues)
