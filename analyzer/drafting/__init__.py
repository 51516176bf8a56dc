"""Writing an entry from a brief with a local model (see ARCHITECTURE.md for the whole path).

The public surface, for the CLI and the app::

    draft_entry(brief, generator, DraftOptions(...))   every section of the award, in order
    draft_section(brief, generator, key, options)       one section (regenerate)
    partial_entry(brief, sections)                      what a stopped run finished
    library_exemplars(library), exemplar_source(draft, library)   where examples come from

The path of one section: :mod:`.prompt` builds the request, the model writes, and
:data:`.pipeline.PIPELINE` cleans, repairs and guards the text; :mod:`.result` holds what comes
back.
"""

from analyzer.drafting.exemplars import ExemplarFn, exemplar_source, library_exemplars
from analyzer.drafting.options import DEFAULT_MAX_TOKENS, TRIES, DraftOptions
from analyzer.drafting.prompt import build_messages, header_fields
from analyzer.drafting.result import EXEMPLAR_FORM, EXEMPLAR_FORMS, DraftedSection, EntryDraft
from analyzer.drafting.run import draft_entry, draft_section, partial_entry

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "EXEMPLAR_FORM",
    "EXEMPLAR_FORMS",
    "TRIES",
    "DraftOptions",
    "DraftedSection",
    "EntryDraft",
    "ExemplarFn",
    "build_messages",
    "draft_entry",
    "draft_section",
    "exemplar_source",
    "header_fields",
    "library_exemplars",
    "partial_entry",
]
