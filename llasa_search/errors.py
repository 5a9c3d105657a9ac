"""Errors a user can act on. Each message says what was wrong and what to do."""


class LlasaSearchError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ModelNotAvailableError(LlasaSearchError):
    pass


class InputTextError(LlasaSearchError, ValueError):
    pass


class AudioInputError(LlasaSearchError, ValueError):
    pass


class ConfigError(LlasaSearchError, ValueError):
    pass


class VerifierError(LlasaSearchError, RuntimeError):
    """A verifier broke its contract (e.g. returned the wrong number of results)."""


class DatasetError(LlasaSearchError, ValueError):
    """A dataset, manifest or item is malformed (the message names the file and line)."""


class MissingFileError(LlasaSearchError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class ResultsError(LlasaSearchError, ValueError):
    """A results folder cannot be used as asked (empty, locked, made with other settings)."""


class TraceError(LlasaSearchError, ValueError):
    """A file given as a search trace is not one (not JSON, or not written by `synthesize --trace`)."""
