"""The built-in rules, one module per family. Importing this package registers them all.

A new family is a new module here, added to the import below.
"""

from analyzer.check.rules import (  # noqa: F401
    alignment,
    award_rules,
    claims,
    fields,
    library_compare,
    results,
    structure,
)
