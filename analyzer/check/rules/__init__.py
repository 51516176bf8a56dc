"""The built-in rules, one module per family. Importing this package registers them all.

A new family is a new module here: every module of the package is imported, none is listed.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
