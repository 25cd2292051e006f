"""An audit pack read as untrusted input: only the members it should hold, each into memory
with a size cap, and nothing ever written to disk. A name such as ``../x`` is reported (a
careless ``unzip`` would write outside its folder) and never read; a member larger than the
cap (a zip bomb declares a small file and inflates a huge one) is refused at the cap."""

import struct
import zipfile
import zlib
from pathlib import PurePosixPath

# The files at the pack's root (the contract's "audit pack"), in the order the report names them.
MEMBERS = (
    "certificate.jwt",
    "certificate.pdf",
    "ledger.csv",
    "checkpoint.note",
    "log-key.txt",
    "did.json",
    "inclusion-proofs.json",
    "evidence.json",
    "README.txt",
)
# A pack for a batch of 10,000 upstream lots holds some 100,000 events: a CSV of ~35 MB and
# inclusion proofs of ~110 MB. The caps leave room for that and stop a zip bomb long before it
# fills memory.
MEMBER_LIMIT = 256 * 2**20
TOTAL_LIMIT = 512 * 2**20
# What zipfile raises on a damaged or crafted archive (a bad offset is a ValueError: "negative
# seek value"), besides OSError for a file that is not there.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


class Unreadable(ValueError):
    """A pack, or one of its members, that cannot be read as it should."""


def _megabytes(size: int) -> str:
    return f"{size / 2**20:g} MB"


def outside_root(name: str) -> bool:
    """Whether a member's name is anything but a plain file name at the zip's root."""
    path = PurePosixPath(name.replace("\\", "/"))
    return len(path.parts) != 1 or path.is_absolute() or name in ("", ".", "..") or ":" in name


class Pack:
    """The members of an audit pack, read on demand within the caps."""

    def __init__(self, source, label: str = "the pack"):
        self.label = label
        try:
            self.zip = zipfile.ZipFile(source)
            self.infos = self.zip.infolist()
        except (*_ZIP_ERRORS, OSError) as exc:
            raise Unreadable(f"{label} is not a readable zip file: {exc}") from None
        self.budget = TOTAL_LIMIT

    def problems(self) -> list[str]:
        """What is wrong with the pack's list of files: names outside its root, a member
        twice, a member missing."""
        names = [info.filename for info in self.infos]
        problems = [
            f"{self.label} holds a member named {name!r}, outside its root: not read"
            for name in names
            if outside_root(name)
        ]
        problems += [
            f"{self.label} holds {name} {names.count(name)} times: which one is meant?"
            for name in MEMBERS
            if names.count(name) > 1
        ]
        if missing := [name for name in MEMBERS if name not in names]:
            problems.append(f"{self.label} lacks {', '.join(missing)}")
        return problems

    def has(self, name: str) -> bool:
        return any(info.filename == name for info in self.infos)

    def read(self, name: str) -> bytes:
        """A member's bytes, at most ``MEMBER_LIMIT`` each and ``TOTAL_LIMIT`` in all."""
        found = [info for info in self.infos if info.filename == name]
        if len(found) != 1:
            raise Unreadable(f"{self.label} holds {len(found)} members named {name}, not one")
        limit = min(MEMBER_LIMIT, self.budget)
        if found[0].file_size > limit:
            raise Unreadable(self._too_large(name, limit))
        try:
            with self.zip.open(found[0]) as stream:
                data = stream.read(limit + 1)
        except _ZIP_ERRORS as exc:
            raise Unreadable(f"{name} in {self.label} does not decompress: {exc}") from None
        if len(data) > limit:
            raise Unreadable(self._too_large(name, limit))
        self.budget -= len(data)
        return data

    def text(self, name: str) -> str:
        try:
            return self.read(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unreadable(f"{name} in {self.label} is not UTF-8: {exc}") from None

    def _too_large(self, name: str, limit: int) -> str:
        return (
            f"{name} in {self.label} is larger than {_megabytes(limit)} (the verifier's cap: "
            f"{_megabytes(MEMBER_LIMIT)} a file, {_megabytes(TOTAL_LIMIT)} in all): not read"
        )
