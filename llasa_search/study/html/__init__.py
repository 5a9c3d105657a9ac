"""HTML listening report (site.py) and the one-run page of `llasa-search inspect` (inspect.py)."""
from .site import write_site

__all__ = ["write_site"]
