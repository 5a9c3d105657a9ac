"""Test sentences (a module, not conftest, so test files can import it: tests/ has no __init__.py)."""
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "She sells sea shells by the sea shore every summer morning.",
]
