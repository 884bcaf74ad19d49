"""The one YAML loader: line-aware values, hard limits, and declared fields.

Every YAML launchbook reads (run records, front matter, ``site.yml``) goes through
:func:`load_yaml`. It walks libyaml's event stream itself instead of composing and then
constructing a node tree, so pathological input is refused cheaply, before anything is
built, and always with the file and line:

* aliases, anchors and ``<<`` merge keys (an alias bomb is a few lines of YAML);
* nesting deeper than :attr:`Limits.depth`, integers longer than :attr:`Limits.digits`
  digits, documents larger than :attr:`Limits.size` bytes or with more than
  :attr:`Limits.nodes` values;
* duplicate keys (YAML would silently keep the last one) and mappings or lists as keys;
* tags other than the plain YAML types, and more than one document.

Mappings come back as :class:`YamlMap` and lists as :class:`YamlSeq`, which remember their
own line and the line of each key or item. Times and dates stay text.

:class:`Problems` reads a mapping against a :class:`Schema` of :class:`Field` declarations
and collects every problem of a document, so one run reports them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import LaunchbookError, SourceError

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one YAML document may hold."""

    size: int
    """Largest document in bytes (UTF-8)."""
    depth: int = 64
    """Deepest nesting of mappings and lists."""
    digits: int = 18
    """Longest integer, in digits (18 digits fit in 64 bits)."""
    nodes: int = 100_000
    """Most values (scalars, mappings, lists): each costs a few microseconds, so a flow list of
    millions of tiny items is refused at once instead of parsed for half a minute."""


RECORD_LIMITS = Limits(size=16 * MB, nodes=500_000)
"""Run records: a 200-item record is ~60 KB and ~5,000 values."""
SETTINGS_LIMITS = Limits(size=1 * MB)
"""Front matter and ``site.yml``."""


class YamlMap(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers its line and the line of each key and value."""

    __slots__ = ("key_lines", "line", "value_lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.value_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """Line of ``key`` (of the mapping itself when the key is absent)."""
        return self.key_lines.get(key, self.line)


class YamlSeq(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers its line and the line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


_TAG = "tag:yaml.org,2002:"
_NOTHING: Any = object()
_DIGIT = re.compile(r"[0-9a-fA-F]")
_CHECKED = {"null": ("null",), "bool": ("bool",), "int": ("int",), "float": ("float", "int")}
"""Explicit scalar tags, and the types plain text must resolve to for each."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when available (about 10x faster); only its parser and resolver are used."""


class _Frame:
    __slots__ = ("container", "key", "key_line")

    def __init__(self, container: YamlMap | YamlSeq) -> None:
        self.container = container
        self.key: Any = _NOTHING
        self.key_line = 0


def load_yaml(text: str, path: str, limits: Limits, *, error: type[LaunchbookError] = SourceError,
              first_line: int = 1, what: str = "YAML") -> Any:
    """Parse one YAML document; ``first_line`` is the file line the text starts on.

    ``what`` names the text in syntax errors ("invalid YAML front matter: …").
    Raises ``error(message, path, line)`` for invalid YAML and anything the limits refuse.
    An empty document is ``None``.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.size:
        raise error(f"YAML document too large ({size:,} bytes; the limit is {limits.size:,})", path, first_line)
    loader = _Loader(text)
    try:
        return _compose(loader, path, limits, error, first_line - 1)
    except yaml.MarkedYAMLError as exc:
        # The context ("while parsing a flow sequence" at its '[') is where to look; the problem
        # mark is often only where the parser gave up (the end of the text).
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + first_line if mark is not None else first_line
        raise error(f"invalid {what}: {exc.problem or exc.context or exc}", path, line) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses (NUL, other control characters): libyaml gives its byte position.
        before = text.encode("utf-8", "surrogatepass")[:exc.position]
        line = first_line + before.count(b"\n") + before.replace(b"\r\n", b"").count(b"\r")
        raise error(f"invalid {what}: character U+{exc.character:04X} is not allowed ({exc.reason})", path,
                    line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid {what}: {exc}", path, first_line) from None
    finally:
        loader.dispose()


def _compose(loader: _Loader, path: str, limits: Limits, error: type[LaunchbookError], offset: int) -> Any:
    stack: list[_Frame] = []
    root: Any = _NOTHING
    documents = 0
    nodes = 0
    while True:
        event = loader.get_event()
        kind = type(event)
        line = event.start_mark.line + 1 + offset
        if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            nodes += 1
            if nodes > limits.nodes:
                raise error(f"YAML document has more than {limits.nodes:,} values", path, line)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None:
                raise error(f"YAML anchors (&{event.anchor}) are not allowed", path, line)
            value = _scalar(loader, event, path, limits, error, line)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None:
                raise error(f"YAML anchors (&{event.anchor}) are not allowed", path, line)
            is_map = kind is yaml.MappingStartEvent
            expected = _TAG + ("map" if is_map else "seq")
            if event.tag not in (None, "!", expected):
                raise error(f"YAML tag {_shown(event.tag)} is not allowed", path, line)
            if len(stack) >= limits.depth:
                raise error(f"YAML nested deeper than {limits.depth} levels", path, line)
            value = YamlMap(line) if is_map else YamlSeq(line)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            continue
        elif kind is yaml.AliasEvent:
            raise error(f"YAML aliases (*{event.anchor}) are not allowed", path, line)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise error("more than one YAML document (a second '---')", path, line)
            continue
        elif kind is yaml.StreamEndEvent:
            return None if root is _NOTHING else root
        else:
            continue
        if not stack:
            root = value
        else:
            frame = stack[-1]
            container = frame.container
            if isinstance(container, YamlSeq):
                container.append(value)
                container.item_lines.append(line)
            elif frame.key is _NOTHING:
                if type(value) is YamlMap or type(value) is YamlSeq:
                    raise error("a mapping or list cannot be a key", path, line)
                if value in container:
                    first = container.key_lines[value]
                    raise error(f"duplicate key {value!r} (first on line {first})", path, line)
                frame.key = value
                frame.key_line = line
            else:
                key = frame.key
                container[key] = value
                container.key_lines[key] = frame.key_line
                container.value_lines[key] = line
                frame.key = _NOTHING
        if type(value) is YamlMap or type(value) is YamlSeq:
            stack.append(_Frame(value))


def _scalar(loader: _Loader, event: yaml.ScalarEvent, path: str, limits: Limits, error: type[LaunchbookError],
            line: int) -> Any:
    tag = event.tag
    explicit = True
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return event.value  # quoted: always text
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        explicit = False
    if not tag.startswith(_TAG):
        raise error(f"YAML tag {_shown(tag)} is not allowed", path, line)
    name = tag[len(_TAG):]
    value = event.value
    if name in ("str", "timestamp"):  # times and dates stay text: formats define them as ISO 8601 strings
        return value
    if explicit and name in _CHECKED:
        # An explicit tag on text that is not of its type ("!!int abc") is refused, not a crash or a lost value.
        resolved = loader.resolve(yaml.ScalarNode, value, (True, False))
        if resolved[len(_TAG):] not in _CHECKED[name]:
            raise error(f"{value[:40]!r} is not a valid {_shown(tag)}", path, line)
    if name == "null":
        return None
    if name == "bool":
        return SafeConstructor.bool_values[value.lower()]
    if name == "int":
        if len(_DIGIT.findall(value)) > limits.digits:
            raise error(f"integer longer than {limits.digits} digits", path, line)
        return loader.construct_yaml_int(yaml.ScalarNode(tag, value))
    if name == "float":
        return loader.construct_yaml_float(yaml.ScalarNode(tag, value))
    if name == "merge":
        raise error("YAML merge keys ('<<') are not allowed", path, line)
    raise error(f"YAML tag {_shown(tag)} is not allowed", path, line)


def _shown(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


class Kind(Enum):
    """What a declared field holds."""

    TEXT = "text"
    """Text; numbers are taken as their text. Missing or empty is the default."""
    STRING = "string"
    """Text only (a number is a problem). Missing or empty is the default."""
    INT = "int"
    BOOL = "bool"
    LIST = "list"
    MAP = "map"
    TEXT_LIST = "text list"
    """A list of text items (with ``Field.single``, a lone text value is a one-item list)."""
    ANY = "any"
    """Free-form content, kept as loaded."""


_MUST = {Kind.TEXT: "text", Kind.STRING: "text", Kind.INT: "a whole number", Kind.BOOL: "true or false",
         Kind.LIST: "a list", Kind.MAP: "a mapping", Kind.TEXT_LIST: "a list of text"}


@dataclass(frozen=True, slots=True)
class Field:
    """One declared key of a mapping."""

    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    default: Any = None
    """Value when absent or invalid (``None``: the kind's empty value)."""
    minimum: int | None = None
    """Smallest allowed value of an ``INT`` field."""
    check: Callable[[Any], str] | None = None
    """Further check of a well-typed, present value: returns a problem ("" when fine)."""
    message: str = ""
    """Problem shown when the value has the wrong type (default: "'name' must be …")."""
    single: bool = False
    """A ``TEXT_LIST`` field also takes one text value."""

    def empty(self) -> Any:
        if self.default is not None:
            return self.default
        return {Kind.TEXT: "", Kind.STRING: "", Kind.INT: None, Kind.BOOL: False, Kind.LIST: YamlSeq(),
                Kind.MAP: YamlMap(),
                Kind.TEXT_LIST: (), Kind.ANY: None}[self.kind]


class Unknown(Enum):
    """What an undeclared key is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Schema:
    """The declared keys of one kind of mapping."""

    what: str
    """What the mapping is, for messages ("a sign-off")."""
    fields: tuple[Field, ...]
    unknown: Unknown = Unknown.ERROR
    unknown_message: str = "unknown field {key!r} in {what}"
    unknown_code: str = ""
    """Rule code of the unknown-key diagnostic."""
    prefix: str = ""
    """Put before default type messages ("front matter ")."""


class Problems:
    """Every problem found in one document: errors stop the caller, warnings do not."""

    def __init__(self, path: str, error: type[LaunchbookError] = SourceError) -> None:
        self.path = path
        self.error_type = error
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def error(self, message: str, line: int | None, code: str = "") -> None:
        self.errors.append(Diagnostic(self.path, line, message, code, Severity.ERROR))

    def warn(self, message: str, line: int | None, code: str = "") -> None:
        self.warnings.append(Diagnostic(self.path, line, message, code))

    def mapping(self, value: Any, what: str, line: int) -> YamlMap | None:
        """``value`` if it is a mapping; otherwise note the problem and return ``None``."""
        if isinstance(value, YamlMap):
            return value
        self.error(f"{what} must be a mapping", getattr(value, "line", line))
        return None

    def read(self, data: YamlMap, schema: Schema) -> dict[str, Any]:
        """Each declared field's value (its default when absent or invalid); unknown keys noted."""
        declared = {f.name for f in schema.fields}
        for key in data:
            if key not in declared:
                message = schema.unknown_message.format(key=str(key), what=schema.what)
                if schema.unknown is Unknown.ERROR:
                    self.error(message, data.line_of(key), schema.unknown_code)
                else:
                    self.warn(message, data.line_of(key), schema.unknown_code)
        return {f.name: self._field(data, f, schema) for f in schema.fields}

    def _field(self, data: YamlMap, spec: Field, schema: Schema) -> Any:
        value = data.get(spec.name)
        line = data.line_of(spec.name)
        if value is None or (value == "" and spec.kind in (Kind.TEXT, Kind.STRING)):
            if spec.required:
                self.error(f"missing {spec.name!r} in {schema.what}", data.line)
            return spec.empty()
        converted = _convert(value, spec)
        if converted is _NOTHING:
            self.error(spec.message or f"{schema.prefix}{spec.name!r} must be {_must(spec)}", line)
            return spec.empty()
        problem = spec.check(converted) if spec.check is not None else ""
        if problem:
            self.error(problem, line)
            return spec.empty()
        return converted

    def raise_errors(self) -> None:
        """Raise one error naming every problem (each ``path:line: message``), if there are any."""
        if not self.errors:
            return
        first, *rest = sorted(self.errors, key=lambda d: d.line or 0)
        message = first.message + "".join(f"\n{problem}" for problem in rest)
        raise self.error_type(message, self.path, first.line, code=first.code)


def _must(spec: Field) -> str:
    if spec.kind is Kind.INT and spec.minimum is not None:
        return f"a whole number from {spec.minimum}"
    return _MUST[spec.kind]


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _convert(value: Any, spec: Field) -> Any:
    kind = spec.kind
    if kind is Kind.TEXT:
        return str(value) if _is_text(value) else _NOTHING
    if kind is Kind.STRING:
        return value if isinstance(value, str) else _NOTHING
    if kind is Kind.INT:
        if not isinstance(value, int) or isinstance(value, bool):
            return _NOTHING
        return value if spec.minimum is None or value >= spec.minimum else _NOTHING
    if kind is Kind.BOOL:
        return value if isinstance(value, bool) else _NOTHING
    if kind is Kind.LIST:
        return value if isinstance(value, YamlSeq) else _NOTHING
    if kind is Kind.MAP:
        return value if isinstance(value, YamlMap) else _NOTHING
    if kind is Kind.TEXT_LIST:
        if isinstance(value, str) and spec.single:
            return (value,)
        if not isinstance(value, YamlSeq) or not all(_is_text(v) for v in value):
            return _NOTHING
        return tuple(str(v) for v in value)
    return value


def plain(value: Any) -> Any:
    """Loaded YAML as plain dicts and lists (no line marks)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
