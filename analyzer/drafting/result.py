"""What drafting returns: each section as written and checked, and the entry they make up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from analyzer.drafting.guards.copyguard import CopyFlag
from analyzer.drafting.guards.factguard import Flag
from analyzer.markers import REVIEW_NOTES, TO_ADD

EXEMPLAR_FORMS = ("none", "outline", "passage")
# How exemplars reach the prompt: "none" (listed for the user only), "outline" (their shape) or
# "passage" (a fenced excerpt). Measured with the bundled 0.5B model on the four sample briefs
# (bench/exemplar_forms.py, relevance cut off so every section had two): without exemplars its
# sections stated 72 % of their brief figures and copied nothing; with outlines 52 % (and JSON
# once); with passages 48 %, and 12 % of the text was copied from the other cases. So by default
# the model sees none; a bigger model can be given outlines (--exemplar-form).
EXEMPLAR_FORM = "none"


@dataclass(frozen=True)
class DraftedSection:
    key: str
    title: str
    kind: str
    text: str
    status: str  # "generated" | "placeholder"
    flags: tuple[Flag, ...] = ()
    exemplars: tuple[str, ...] = ()  # "case title · section title" of each exemplar used
    finish_reason: str = ""  # eos | max_tokens | time | repetition ("" for a placeholder)
    seconds: float = 0.0
    copies: tuple[CopyFlag, ...] = ()  # sentences dropped as copied
    notes: tuple[str, ...] = ()  # other changes: a name put back, a section rewritten …
    exemplar_form: str = EXEMPLAR_FORM  # how the exemplars reached the prompt ("none": not at all)
    tries: int = 1  # drafts the model wrote of it (a try that failed a quality gate is redone)
    composed: bool = False  # written from the brief's facts because no try passed the gates
    failures: tuple[str, ...] = ()  # quality gates the kept text still fails, for the user

    def review_lines(self) -> list[str]:
        """Everything the guards changed in this section, for the user to check."""
        lines = [f"{self.title}：{failure}" for failure in self.failures]
        lines += [f.describe(self.title) for f in self.flags]
        lines += [c.describe(self.title) for c in self.copies]
        lines += [f"{self.title}：{note}" for note in self.notes]
        if self.status == "placeholder":
            lines.append(f"{self.title}：简报中没有相应信息，已留{TO_ADD}】")
        return lines


@dataclass(frozen=True)
class EntryDraft:
    """A drafted entry: header fields from the brief, then every section in the award's order."""

    award: str
    award_name: str
    title: str
    header: tuple[tuple[str, str], ...]  # (field title, value) in the award's order
    sections: tuple[DraftedSection, ...]
    notes: tuple[str, ...] = field(default=())  # problems that did not stop the draft
    missing: tuple[str, ...] = ()  # titles of sections not drafted (the run was stopped)

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(f for s in self.sections for f in s.flags)

    @property
    def copies(self) -> tuple[CopyFlag, ...]:
        return tuple(c for s in self.sections for c in s.copies)

    @property
    def placeholders(self) -> tuple[DraftedSection, ...]:
        return tuple(s for s in self.sections if s.status == "placeholder")

    def section(self, key: str) -> DraftedSection:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"draft has no section {key!r}")

    def with_section(self, new: DraftedSection) -> EntryDraft:
        self.section(new.key)
        return replace(self, sections=tuple(new if s.key == new.key else s for s in self.sections))

    def review_lines(self) -> list[str]:
        """Where the guards changed the text, which sections await facts, which cases were
        shown as exemplars."""
        lines = [line for s in self.sections for line in s.review_lines()]
        used = [
            f"{s.title}：参考了「{e}」的结构"
            if s.exemplar_form != "none"
            else f"{s.title}：可参考相似获奖案例「{e}」（未提供给模型，以免照抄）"
            for s in self.sections
            for e in s.exemplars
        ]
        if self.missing:
            lines.append(f"草稿未完成：{'、'.join(self.missing)} 尚未生成")
        return lines + used + list(self.notes)

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        if self.missing:
            out += ["> **未完成的草稿**：生成被中断，缺少 " + "、".join(self.missing), ""]
        out += [f"- **{name}**：{value}" for name, value in self.header]
        for s in self.sections:
            out += ["", f"## {s.title}", "", s.text.strip()]
        if review := self.review_lines():
            out += ["", "---", "", f"> {REVIEW_NOTES}", ">"]
            out += [f"> - {line}" for line in review]
        return "\n".join(out).rstrip() + "\n"
