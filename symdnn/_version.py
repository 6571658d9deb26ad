"""The version of symdnn, in a module of its own so that any part of the package can name it
without importing the package's facade (``symdnn/__init__.py``)."""

__version__ = "0.1.0"
