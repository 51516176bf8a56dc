"""The one place that imports Qt: every other module of ``desktop`` imports Qt from here.

Swapping the binding (PySide6 → PyQt6) or raising a helpful error when it is missing happens
here, once.
"""

from __future__ import annotations

try:
    from PySide6 import QtCore, QtGui, QtWidgets
    from PySide6.QtCore import Qt, Signal, Slot
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the desktop app needs PySide6: pip install 'award-writer[gui]' "
        "(or pip install pyside6-essentials)"
    ) from exc

__all__ = ["Qt", "QtCore", "QtGui", "QtWidgets", "Signal", "Slot"]
