"""The BPMN engine: SpiffWorkflow behind a small interface that knows nothing of Django models.

Rules:
- A definition is parsed once per checksum (`parse`), with its DMN tables, by SpiffWorkflow's
  `SpiffBpmnParser`; an invalid file raises `DefinitionInvalid` with the parser's message.
- A running workflow is always handed back to the caller as JSON (`dump`) and restored from it
  (`load`): the caller stores it after every step, so nothing lives only in memory. The
  serialisation carries the process spec, so a restored workflow keeps the version it started on
  even after a newer version is loaded.
- Conventions of our process files (docs/services.md):
  - a lane's id is `lane_<role>` (`lane_handler`, `lane_manager`); user tasks in it are done by
    staff of that role in the application's unit; `lane_system` holds automatic steps;
  - a user task's form is a JSON Schema in `<spiffworkflow:formSchema>`; its answers are stored in
    the task data under the task's id (so gateways read `review['decision']`);
  - the process ends in an end event whose id starts with `approved` or `rejected`;
  - timers use `timeDate` with the expression `legal_deadline` (ISO datetime put in the data at
    the start: the legal limit on the working-day calendar);
  - service tasks name an operator of `integrations.OPERATORS`.
- Expressions (gateway conditions, DMN entries) run in SpiffWorkflow's Python environment with
  a few helpers (`months_between`, `years_between`). Process files are uploaded by administrators
  only (like code), never by citizens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from . import integrations

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Entities are not expanded and nothing is fetched: a process file cannot read local files (XXE).
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True)
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


class DefinitionInvalid(Exception):
    pass


class EngineError(Exception):
    """A step failed inside the process (an expression or a service task)."""


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def months_between(start: Any, end: Any) -> int:
    """Whole months from `start` to `end` (dates or ISO strings); negative if end is earlier."""
    a, b = _date(start), _date(end)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if b.day < a.day:
        months -= 1
    return months


def years_between(start: Any, end: Any) -> int:
    return months_between(start, end) // 12


class ServiceEnvironment(TaskDataEnvironment):
    """Task-data environment whose service tasks call `integrations.OPERATORS`."""

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        return json.dumps(integrations.call(operation_name, params, context))


SCRIPT_ENGINE = PythonScriptEngine(environment=ServiceEnvironment({
    "months_between": months_between, "years_between": years_between,
}))


@dataclass(frozen=True)
class UserTaskInfo:
    id: str
    name: str
    role: str
    form_schema: dict | None


@dataclass
class Parsed:
    key: str
    spec: Any
    subprocess_specs: dict
    user_tasks: dict[str, UserTaskInfo] = field(default_factory=dict)
    element_names: dict[str, str] = field(default_factory=dict)


_cache: dict[str, Parsed] = {}
_cache_lock = threading.Lock()


def checksum(bpmn_xml: str, dmn_xml: str) -> str:
    return hashlib.sha256(bpmn_xml.encode() + b"\0" + dmn_xml.encode()).hexdigest()


def process_ids(bpmn_xml: str) -> list[str]:
    try:
        root = etree.fromstring(bpmn_xml.encode(), SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(str(exc)) from exc
    return [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable") != "false"]


def _task_metadata(bpmn_xml: str, key: str) -> tuple[dict[str, UserTaskInfo], dict[str, str]]:
    root = etree.fromstring(bpmn_xml.encode(), SAFE_XML)
    process = next(p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == key)
    lane_of: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        role = (lane.get("id") or "").removeprefix("lane_")
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = role
    tasks = {}
    names = {}
    for element in process.iter():
        if not isinstance(element.tag, str) or element.get("id") is None:
            continue
        names[element.get("id")] = element.get("name") or element.get("id")
        if element.tag != f"{{{BPMN_NS}}}userTask":
            continue
        tid = element.get("id")
        schema_node = element.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}formSchema")
        try:
            schema = json.loads(schema_node.text) if schema_node is not None and schema_node.text else None
        except ValueError as exc:
            raise DefinitionInvalid(f"{tid}: the form schema is not JSON: {exc}") from exc
        role = lane_of.get(tid)
        if role not in {"handler", "manager"}:
            raise DefinitionInvalid(f"{tid}: a user task must be in lane_handler or lane_manager")
        tasks[tid] = UserTaskInfo(id=tid, name=element.get("name") or tid, role=role, form_schema=schema)
    return tasks, names


def parse(key: str, bpmn_xml: str, dmn_xml: str = "") -> Parsed:
    """The parsed process `key` (cached by checksum); DefinitionInvalid if it does not parse."""
    digest = checksum(bpmn_xml, dmn_xml) + key
    with _cache_lock:
        if digest in _cache:
            return _cache[digest]
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_str(bpmn_xml.encode(), filename=f"{key}.bpmn")
        if dmn_xml.strip():
            parser.add_dmn_str(dmn_xml.encode(), filename=f"{key}.dmn")
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
        user_tasks, names = _task_metadata(bpmn_xml, key)
    except DefinitionInvalid:
        raise
    except Exception as exc:  # the parser raises many kinds (ValidationException, KeyError, lxml errors)
        raise DefinitionInvalid(str(exc)) from exc
    parsed = Parsed(key=key, spec=spec, subprocess_specs=subprocess_specs, user_tasks=user_tasks,
                    element_names=names)
    with _cache_lock:
        _cache[digest] = parsed
    return parsed


@dataclass(frozen=True)
class WaitingTask:
    task_id: str
    spec_id: str
    name: str


@dataclass(frozen=True)
class State:
    """What the caller needs after a step: where the process waits and whether it ended."""

    completed: bool
    outcome: str | None  # "approved" | "rejected" | None
    waiting: list[WaitingTask]
    timers: list[str]  # BPMN ids of waiting timer events
    data: dict


def start(parsed: Parsed, data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=SCRIPT_ENGINE)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    _run(workflow)
    return workflow


def _run(workflow: BpmnWorkflow) -> None:
    try:
        workflow.refresh_timers()
        workflow.do_engine_steps()
    except EngineError:
        raise
    except Exception as exc:  # a failing expression or service task: the caller rolls back the step
        raise EngineError(str(exc)) from exc


def complete(workflow: BpmnWorkflow, task_id: str, answers: dict[str, Any]) -> None:
    """Complete the READY user task `task_id` with the form answers and run to the next wait."""
    task = next((t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                 if str(t.id) == task_id), None)
    if task is None:
        raise EngineError(f"task {task_id} is not waiting")
    task.data[task.task_spec.bpmn_id] = answers
    task.run()
    _run(workflow)


def refresh(workflow: BpmnWorkflow) -> None:
    """Let timers whose time has come fire, then run to the next wait."""
    _run(workflow)


def state(workflow: BpmnWorkflow) -> State:
    waiting = [WaitingTask(task_id=str(t.id), spec_id=t.task_spec.bpmn_id, name=t.task_spec.bpmn_name or "")
               for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
    timers = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.WAITING)
              if t.task_spec.bpmn_id and t.task_spec.bpmn_id.startswith("timer_")]
    outcome = None
    data: dict = {}
    for t in workflow.get_tasks(state=TaskState.COMPLETED):
        bpmn_id = t.task_spec.bpmn_id or ""
        if t.task_spec.__class__.__name__ == "EndEvent":
            if bpmn_id.startswith("approved"):
                outcome = "approved"
            elif bpmn_id.startswith("rejected"):
                outcome = "rejected"
            if outcome:
                data = dict(t.data)
    if not data:
        last = workflow.get_tasks(state=TaskState.READY | TaskState.COMPLETED)
        data = dict(last[-1].data) if last else {}
    return State(completed=workflow.completed, outcome=outcome, waiting=waiting, timers=timers, data=data)


def completed_steps(workflow: BpmnWorkflow) -> list[str]:
    """BPMN ids of the completed tasks, in the order they completed."""
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id]
    done.sort(key=lambda t: t.last_state_change)
    return [t.task_spec.bpmn_id for t in done]


def spec_class(workflow: BpmnWorkflow, spec_id: str) -> str:
    spec = workflow.spec.task_specs.get(spec_id)
    return spec.__class__.__name__ if spec is not None else ""


def step_result(workflow: BpmnWorkflow, spec_id: str) -> dict:
    """What an automatic step put into the data: a service task's result, a DMN table's outputs."""
    task = next((t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == spec_id), None)
    if task is None:
        return {}
    spec = task.task_spec
    variable = getattr(spec, "result_variable", None)
    if variable:
        return {variable: task.data.get(variable)}
    if spec.__class__.__name__ == "BusinessRuleTask":
        keys = {"eligible", "monthly_amount", "rule_reason"}
        return {k: v for k, v in task.data.items() if k in keys}
    return {}


def dump(workflow: BpmnWorkflow) -> str:
    """The workflow as JSON text. Store it as text: restoring depends on the order of its keys."""
    return SERIALIZER.serialize_json(workflow)


def load(serialized: str) -> BpmnWorkflow:
    workflow = SERIALIZER.deserialize_json(serialized)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
