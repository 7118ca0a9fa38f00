"""A stand-in PyFlink entry point for the template tests (never run): StreamProcessor checks that the code holds
its main file and py_files."""

from logic import count  # type: ignore[import-not-found]

print(count([]))
