"""What reads wrong in an entry's text, as a judge would see it: one set of detectors for the
drafter's quality gates and the checker's rules.

* :mod:`.text` — on the text alone: prompt and meta-talk leaking into the entry, Markdown or
  JSON debris, repeated sentences, a section cut off mid-sentence, superlative claims, and the
  【待核实】/【待补充】 marks still in it;
* :mod:`.against_brief` — against the brief it was written from: claims the brief does not make,
  and a brief figure or date stated for another fact than the brief states it for.

Each detector returns :class:`~.issues.Issue` values with their span in the text.
"""
