"""Audio files for the report pages: copied into the report (default: the report folder is self-contained and can
be moved or served alone) or linked where they are (mode "link": relative links to the results folder, no copy;
the report then works only beside the results folder)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

AUDIO_MODES = ("copy", "link")


class AudioFiles:
    def __init__(self, out_dir: Path, mode: str = "copy"):
        if mode not in AUDIO_MODES:
            raise ValueError(f"unknown audio mode {mode!r}; choose one of {list(AUDIO_MODES)}")
        self.out, self.mode = Path(out_dir), mode

    def src(self, path, dest_rel: str, page_dir: Path) -> tuple[str | None, str | None]:
        """(src relative to page_dir, None) for an existing file, else (None, a note saying what is missing)."""
        if not path:
            return None, None
        path = Path(path)
        if not path.is_file():
            return None, f"audio file missing: {path}"
        if _frames(path) == 0:
            return None, "empty audio (0 samples): nothing to play"
        if self.mode == "copy":
            dest = self.out / "audio" / dest_rel
            if not dest.is_file() or dest.stat().st_size != path.stat().st_size:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
            path = dest
        return Path(os.path.relpath(path.resolve(), Path(page_dir).resolve())).as_posix(), None


def _frames(path: Path) -> int | None:
    try:
        import soundfile

        return soundfile.info(str(path)).frames
    except Exception:       # not a format soundfile reads: let the browser try
        return None
