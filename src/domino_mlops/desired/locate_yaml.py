"""YAML with the line of every value, as yaml.safe_load reads it, within desired/limits.py.

PyYAML composes a tree of nodes that carry marks (lines); we build plain values from it. Three
things a plain walk of that tree gets wrong, and what we do instead:

- Aliases. Composing shares an anchored node between its uses, but building values expands
  every use: nine nested aliases of ten make 10**9 values from 200 bytes ("billion laughs").
  While composing, each node's expanded size and depth are summed from its children (an alias
  costs what its anchor expands to), so the bomb stops at the node that crosses a limit.
- An alias inside its own anchor (``a: &a [*a]``) is a cycle: building it never ends. The
  composer knows which anchors are still open; an alias to one of them is refused there.
- Deep nesting: the composer recurses per level, so 100,000 ``[`` end in RecursionError.
  Depth is counted on the way down and refused past the limit, long before the stack ends.

Merge keys (``<<: *common``, ``<<: [*a, *b]``) are applied as SafeConstructor does. Values are
JSON's kinds only: a date (``2024-01-01`` unquoted), ``!!binary``, ``!!set`` or a custom tag is
refused with its line, since no field here takes one and a message about a date type helps nobody.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from domino_mlops.desired.limits import Limits
from domino_mlops.desired.located import Located, Path, SyntaxProblem, json_path, max_int_digits
from domino_mlops.errors import ValidationIssue

MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"  # the "=" key; safe_load reads it as the string "="
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_JSON_SCALARS = (str, int, float, bool, type(None))


class _Refused(Exception):
    """A limit or rule crossed at ``mark``: one issue, and the walk stops."""

    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


def parse(text: str, file: str, limits: Limits) -> Located:
    """Parse one YAML document; any problem is one SyntaxProblem with the line it is on."""
    loader = None
    try:
        loader = _BoundedLoader(text, limits)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return Located(file, None, {(): 1})
        builder = _Builder(file, loader)
        data = builder.value(node, ())
    except _Refused as refused:
        raise SyntaxProblem(ValidationIssue(file, refused.line, "$", refused.message)) from None
    except yaml.YAMLError as exc:
        raise SyntaxProblem(_syntax_issue(file, text, exc)) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return Located(file, data, builder.lines, tuple(builder.duplicates))


def _syntax_issue(file: str, text: str, exc: yaml.YAMLError) -> ValidationIssue:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow; it has an offset only
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"control character U+{code:04X} is not allowed"
    else:
        problem = getattr(exc, "problem", None) or str(exc)
    problem = " ".join(problem.split())  # PyYAML's texts may span lines; an issue is one line
    if "'\\t'" in problem:
        problem += "; YAML indents with spaces, not tabs"
    return ValidationIssue(file, line, "$", f"invalid YAML: {problem}")


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer counts depth and expanded size and refuses self-aliases."""

    def __init__(self, text: str, limits: Limits) -> None:
        super().__init__(text)
        self.limits = limits
        self._depth = 0
        self._composed = 0
        self._open_anchors: set[str] = set()
        self._size: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, expanded depth)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise _Refused(event.start_mark, f"alias *{event.anchor} is inside its own anchor "
                                                 f"&{event.anchor}, so it would repeat forever; "
                                                 "write the nested value out instead")
            return super().compose_node(parent, index)
        self._depth += 1
        self._composed += 1
        if self._depth > self.limits.max_depth:
            raise _Refused(event.start_mark, f"nested more than {self.limits.max_depth} levels deep; "
                                             "no valid file is")
        if self._composed > self.limits.max_values:
            raise _Refused(event.start_mark, f"more than {self.limits.max_values} values; no valid file "
                                             "has that many")
        anchor = getattr(event, "anchor", None)
        if anchor:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.discard(anchor)
        self._measure(node)
        return node

    def _measure(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        sizes = [self._size[id(child)] for child in children]
        size = 1 + sum(s for s, _ in sizes)
        depth = 1 + max((d for _, d in sizes), default=0)
        self._size[id(node)] = (size, depth)
        if size > self.limits.max_values:
            raise _Refused(node.start_mark, f"this value expands to more than {self.limits.max_values} values "
                                            "(each use of an alias counts in full); use fewer nested aliases")
        if depth > self.limits.max_depth:
            raise _Refused(node.start_mark, f"with its aliases expanded this value nests more than "
                                            f"{self.limits.max_depth} levels deep; use fewer nested aliases")


class _Builder:
    """Plain values from an acyclic node tree of bounded size, recording lines and duplicate keys."""

    def __init__(self, file: str, constructor: yaml.SafeLoader) -> None:
        self.file = file
        self.constructor = constructor
        self.lines: dict[Path, int] = {}
        self.duplicates: list[ValidationIssue] = []

    def value(self, node: yaml.Node, path: Path) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self._plain_tag(node, _MAP_TAG, "mapping")
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._plain_tag(node, _SEQ_TAG, "list")
            return [self.value(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        # Merged pairs come first and the mapping's own override them. Only its own keys can be
        # duplicates: overriding a merged key is what merging is for.
        chosen: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        seen: set[Any] = set()
        merges = 0
        for key_node, value_node in self._merged(node):
            chosen[self._key(key_node)] = (key_node, value_node)
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges += 1
                if merges > 1:
                    self._duplicate(key_node, path, "<<", "; merge several with `<<: [*a, *b]`")
                continue
            key = self._key(key_node)
            if key in seen:
                self._duplicate(key_node, path, key, "")
            seen.add(key)
            chosen.pop(key, None)  # re-insert: the key keeps its own place in the order
            chosen[key] = (key_node, value_node)
        out: dict[Any, Any] = {}
        for key, (key_node, value_node) in chosen.items():
            out[key] = self.value(value_node, path + (str(key),))
            # A block mapping or list starts on the line below its key; people look for the key.
            # A merged value is located where it is written: inside the anchor, not at `<<`.
            self.lines[path + (str(key),)] = key_node.start_mark.line + 1
        return out

    def _duplicate(self, key_node: yaml.Node, path: Path, key: Any, advice: str) -> None:
        self.duplicates.append(ValidationIssue(
            self.file, key_node.start_mark.line + 1, json_path(path + (str(key),)),
            f"key {key!r} appears more than once in this mapping; only one may stay{advice}"))

    def _merged(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """The pairs `<<` brings into ``node``, lowest precedence first (later pairs win).

        As the merge key spec (yaml.org/type/merge.html) and PyYAML up to 6.0.2 read it: in
        ``<<: [*a, *b]`` the earlier mapping wins; a mapping's own keys beat what it merges.
        (PyYAML 6.0.4 dedupes merged keys by object identity, so its answer can depend on
        whether Python interned the key's text; we do not copy that.)
        """
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                pairs += self._merge_source(value_node)
        return pairs

    def _merge_source(self, node: yaml.Node) -> list[tuple[yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.MappingNode):
            return self._merged(node) + [pair for pair in node.value if pair[0].tag != MERGE_TAG]
        if isinstance(node, yaml.SequenceNode):
            pairs = []
            for item in reversed(node.value):  # the first mapping listed wins, so it goes last
                if not isinstance(item, yaml.MappingNode):
                    raise _Refused(item.start_mark, "`<<` merges a mapping or a list of mappings; "
                                                    "this item is not a mapping")
                pairs += self._merge_source(item)
            return pairs
        raise _Refused(node.start_mark, "`<<` merges a mapping or a list of mappings (`<<: *name` or "
                                        "`<<: [*a, *b]`), not a single value")

    def _key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise _Refused(node.start_mark, "a key must be a single value, not a list or mapping")
        if node.tag == VALUE_TAG:
            return node.value
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.constructor.construct_object(node, deep=True)
        # PyYAML's scalar constructors fail on malformed tagged scalars with whatever the
        # conversion raised (`!!int ''` IndexError, `!!bool x` KeyError, `!!timestamp x`
        # AttributeError, 5,000 digits ValueError): each is the file's fault, so each is an issue.
        except Exception as exc:  # noqa: BLE001 - the boundary of PyYAML's constructors
            why = getattr(exc, "problem", None) or ""
            if "integer string conversion" in str(exc):
                why = f"it has more digits than Python reads ({max_int_digits()})"
            why = f": {' '.join(why.split())[:120]}" if why else ""
            raise _Refused(node.start_mark, f"cannot read {_short(node.value)} as {_tag_name(node.tag)}{why}") from exc
        if isinstance(value, datetime.date):
            raise _Refused(node.start_mark, f"YAML reads {_short(node.value)} as a date; quote it if it is text")
        if not isinstance(value, _JSON_SCALARS):
            raise _Refused(node.start_mark, f"{_tag_name(node.tag)} values are not used here; "
                                            "write plain text, numbers, true/false or null")
        return value

    def _plain_tag(self, node: yaml.Node, tag: str, kind: str) -> None:
        if node.tag != tag:
            raise _Refused(node.start_mark, f"a {kind} tagged {_tag_name(node.tag)} is not used here; "
                                            "remove the tag")


def _tag_name(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
