"""Where 佐证材料 live: a directory or an S3-compatible bucket, files addressed by their
SHA-256 (docs/evidence.md#where-files-live).

An upload is first streamed into a temporary file, in chunks, hashed on the way and cut
off at ``EVIDENCE_MAX_BYTES`` (``receive``); only a whole, checked file is then put in
the store (``Store.put``): an atomic rename into ``ab/cdef…`` in a directory, one PUT in a
bucket, and nothing when the same content is already there. The app never changes or
deletes a stored file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from evaluation.core.writing import InvalidInput, ServiceError

#: Bytes read and hashed at a time: the upload is never whole in memory.
CHUNK = 256 * 1024
#: Temporary files older than this are left over from a killed process, and removed.
STALE_SECONDS = 3600
SHA256 = re.compile(r"[0-9a-f]{64}")


class TooLarge(ServiceError):
    """A file over ``EVIDENCE_MAX_BYTES``: 413, nothing kept."""

    status = 413


def human_size(size: int) -> str:
    """``20 MB``, ``512 KB``, ``12 B``: a file size as people read it."""
    for unit, step in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= step:
            figure = size / step
            return f"{figure:.1f} {unit}".replace(".0 ", " ")
    return f"{size} B"


@dataclass
class Received:
    """An upload streamed into a temporary file: where, its hash and its size."""

    path: Path
    sha256: str
    size: int
    #: Filled by the sniffer (``sniff.check``): the type its content shows.
    media_type: str = ""
    extras: dict = field(default_factory=dict)

    def discard(self) -> None:
        """Remove the temporary file (it may already be gone: renamed into the store)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


def receive(stream: BinaryIO, temp_dir: Path, max_bytes: int) -> Received:
    """Copy ``stream`` into a new file in ``temp_dir`` in chunks, hashing as it goes.

    Over ``max_bytes`` → ``TooLarge``; an empty stream → ``InvalidInput``; on these or any
    error while reading (a dropped connection) the temporary file is removed, so nothing
    half-written stays behind.
    """
    temp_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale(temp_dir)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"文件超过 {human_size(max_bytes)} 的上限，未保存")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidInput("文件是空的（0 字节），未保存")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(path, digest.hexdigest(), size)


def _clean_stale(temp_dir: Path) -> None:
    """Remove temporary files a killed process left behind (older than an hour)."""
    limit = time.time() - STALE_SECONDS
    try:
        entries = list(os.scandir(temp_dir))
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            if entry.name.startswith("upload-") and entry.stat().st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            pass


def key_of(sha256: str) -> str:
    """``ab/cdef…``: where a file lives under the store's root or prefix."""
    if not SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 in lower-case hex")
    return f"{sha256[:2]}/{sha256[2:]}"


class LocalStore:
    """Files in a directory: ``<root>/ab/cdef…``; temporary files in ``<root>/.incoming``
    (the same file system, so the final rename is atomic)."""

    kind = "local"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.temp_dir = self.root / ".incoming"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, sha256: str) -> Path:
        return self.root / key_of(sha256)

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, received: Received) -> bool:
        """Move the received file to its place unless the content is there already;
        return whether it was new. The temporary file is gone either way."""
        target = self.path(received.sha256)
        if target.is_file():
            received.discard()
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(received.path, 0o444)  # the app never changes a stored file
        os.replace(received.path, target)
        _fsync_dir(target.parent)
        return True

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored file for reading (FileNotFoundError when it is missing)."""
        return open(self.path(sha256), "rb")

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def hashes(self) -> Iterator[str]:
        """Every stored file's hash (from its place), sorted."""
        if not self.root.is_dir():
            return
        for top in sorted(self.root.iterdir()):
            if len(top.name) != 2 or not top.is_dir():
                continue
            for item in sorted(top.iterdir()):
                name = top.name + item.name
                if SHA256.fullmatch(name):
                    yield name


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class S3Store:
    """Files in an S3-compatible bucket under ``prefix`` (``prefix/ab/cdef…``), for several
    app servers. boto3 reads the endpoint and keys from the environment
    (``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3``, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``); temporary files go to a local
    directory (``EVIDENCE_TEMP_DIR``, default ``instance/evidence-incoming``)."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str, temp_dir: Path, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.temp_dir = Path(temp_dir)
        self._client = client

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Path-style addressing: what MinIO, SeaweedFS and moto answer without DNS.
            self._client = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        return self._client

    def key(self, sha256: str) -> str:
        return f"{self.prefix}/{key_of(sha256)}" if self.prefix else key_of(sha256)

    def _head(self, sha256: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def has(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def put(self, received: Received) -> bool:
        """Upload the received file unless the bucket has it already; return whether it
        was new. The temporary file is removed either way."""
        try:
            if self.has(received.sha256):
                return False
            self.client.upload_file(
                str(received.path),
                self.bucket,
                self.key(received.sha256),
                ExtraArgs={
                    "ContentType": received.media_type or "application/octet-stream",
                    "Metadata": {"sha256": received.sha256},
                },
            )
            return True
        finally:
            received.discard()

    def open(self, sha256: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(sha256) from error
            raise
        return answer["Body"]

    def size(self, sha256: str) -> int | None:
        head = self._head(sha256)
        return None if head is None else int(head["ContentLength"])

    def hashes(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start
        )
        found = []
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(start) :].replace("/", "")
                if SHA256.fullmatch(name):
                    found.append(name)
        yield from sorted(found)


Store = LocalStore | S3Store


def parse_location(location: str | None, instance_path: str, temp_dir: str | None = None) -> Store:
    """The store a setting names: ``s3://bucket/prefix`` or a directory (relative to the
    instance folder); None → ``instance/evidence``."""
    instance = Path(instance_path)
    if location and location.startswith("s3://"):
        bucket, _, prefix = location[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError("EVIDENCE_STORE=s3://… needs a bucket name")
        temp = Path(temp_dir) if temp_dir else instance / "evidence-incoming"
        return S3Store(bucket, prefix, temp)
    root = Path(location) if location else instance / "evidence"
    if not root.is_absolute():
        root = instance / root
    return LocalStore(root)


def current_store() -> Store:
    """The store of the current app (one per app and setting)."""
    app = current_app
    setting = (
        app.config.get("EVIDENCE_STORE"),
        app.instance_path,
        app.config.get("EVIDENCE_TEMP_DIR"),
    )
    kept = app.extensions.get("evidence_store")
    if kept is None or kept[0] != setting:
        kept = (setting, parse_location(*setting))
        app.extensions["evidence_store"] = kept
    return kept[1]


def copy_out(store: Store, sha256: str, out: BinaryIO) -> str:
    """Copy a stored file to ``out`` in chunks; return the SHA-256 of what was read."""
    digest = hashlib.sha256()
    with store.open(sha256) as source:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def rehash(store: Store, sha256: str) -> str | None:
    """The SHA-256 of a stored file as it is now; None when it is missing."""
    digest = hashlib.sha256()
    try:
        source = store.open(sha256)
    except FileNotFoundError:
        return None
    with source:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def chunks(store: Store, sha256: str) -> Iterator[bytes]:
    """A stored file in chunks, for a streamed download."""
    with store.open(sha256) as source:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                return
            yield chunk
