"""Checking a model file's zip archive before anything in it is unpacked.

torch stores a model as a zip archive of uncompressed records. Reading only the archive's
directory and its (bounded) records, in plain Python, refuses a file that is not such an
archive, a zip bomb or a damaged record before torch is even imported, so the command line
answers a wrong model file at once.
"""

from __future__ import annotations

import io
import re
import zipfile

from labkit.errors import ModelFileError

#: PenguinNet's file has about ten records; more than this is not a PenguinNet.
MAX_RECORDS = 64
#: Terminal colour codes, which some libraries put into their error messages.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def check_archive(raw: bytes, shown: str) -> None:
    """Refuse a file that is not a small, undamaged zip archive of stored records,
    reading nothing but the archive's directory and the (bounded) records."""
    unreadable = f"{shown}: not a readable model file"
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except Exception as error:  # zipfile raises many types for damaged bytes
        raise ModelFileError(f"{unreadable} (not a zip archive: {one_line(error)})") from None
    with archive:
        records = archive.infolist()
        if len(records) > MAX_RECORDS:
            raise ModelFileError(f"{unreadable} ({len(records)} records; PenguinNet's "
                                 f"file has about ten)")
        for record in records:
            if record.compress_type != zipfile.ZIP_STORED:
                raise ModelFileError(
                    f"{unreadable} (record {record.filename!r} is compressed; torch "
                    f"stores records uncompressed, so it was refused unread)")
            if record.file_size > len(raw):
                raise ModelFileError(
                    f"{unreadable} (record {record.filename!r} claims "
                    f"{record.file_size} bytes, more than the whole file)")
        try:
            damaged = archive.testzip()
        except Exception as error:
            raise ModelFileError(f"{unreadable} ({one_line(error)})") from None
        if damaged is not None:
            raise ModelFileError(
                f"{unreadable} (record {damaged!r} is damaged: its CRC does not match)")


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, without terminal colour codes."""
    text = ANSI_ESCAPE.sub("", str(error)).strip()
    return (text.splitlines()[0][:200] if text else type(error).__name__)


