"""Award Writer's PySide6 desktop app: a thin layer over ``analyzer``."""
