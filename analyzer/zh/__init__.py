"""Chinese text basics every layer shares, each written once.

* :mod:`analyzer.zh.fold` — full-width → ASCII and traditional → simplified, one character for
  one (offsets into folded text are offsets into the original);
* :mod:`analyzer.zh.numbers` — numerals: the value of ``三千万`` / ``3.2亿`` / ``10w``, and the
  scanner that finds every number of a text with its kind (date part, percentage, rank …);
* :mod:`analyzer.zh.segments` — the punctuation that ends sentences and clauses, and list marks;
* :mod:`analyzer.zh.dates` — dates a text states, as (year, month), and ranges of them.

Nothing here imports the rest of the analyzer.
"""
