"""Read a rendered page back with the standard HTML parser: tags, headings, text, sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "link", "br", "img", "input", "hr", "source", "wbr"}


@dataclass
class Tag:
    name: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Parsed:
    tags: list[Tag] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    text: str = ""
    sections: dict[str, list[str]] = field(default_factory=dict)

    def all(self, name: str) -> list[Tag]:
        return [t for t in self.tags if t.name == name]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.result = Parsed()
        self._open: list[Tag] = []
        self._chunks: list[str] = []
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Tag(tag, {k: v or "" for k, v in attrs})
        self.result.tags.append(node)
        if tag == "section":
            self._section = node.attrs.get("aria-labelledby", "")
            self.result.sections[self._section] = []
        if tag == "article" and self._section is not None:
            self.result.sections[self._section].append(node.attrs.get("id", ""))
        if tag not in VOID:
            self._open.append(node)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            node = self._open.pop()
            if node.name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                self.result.headings.append((int(node.name[1]), " ".join(node.text.split())))
            if node.name == tag:
                break
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        for node in self._open:
            node.text += data

    def close(self) -> None:
        super().close()
        self.result.text = " ".join("".join(self._chunks).split())


def parse(html: str) -> Parsed:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.result
