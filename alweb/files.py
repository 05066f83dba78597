"""Removal of stored files and folders once the transaction that made them
obsolete commits (nothing is removed if it rolls back)."""

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction

logger = logging.getLogger(__name__)


def files_delete_on_commit(*, storage, names: Iterable[str]) -> None:
    """Delete the named files of `storage` after commit; a file already gone is
    fine, any other failure is logged (the rows are gone either way)."""
    names = [n for n in names if n]
    if not names:
        return

    def remove() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("could not delete stored file %s", name)

    transaction.on_commit(remove)


def folders_delete_on_commit(*, paths: Iterable[Path]) -> None:
    """Remove the folders (and everything in them) after commit."""
    paths = list(paths)
    if not paths:
        return

    def remove() -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)

    transaction.on_commit(remove)
