"""Award Writer's core: case library, search, drafting and checks. Never imports Qt."""

__version__ = "0.1.0"
