"""The key that signs session cookies: NQ71_SECRET_KEY, or a random one made on first start and kept 0600."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "secret.key"
MIN_KEY_LENGTH = 32
# keys that once shipped in the code (or its docs): whoever reads the source could sign cookies with them
KNOWN_KEYS = frozenset({"dev-insecure-change-me", "change-me", "secret"})


class SecretKeyError(ValueError):
    """The configured secret key cannot be used; the message says what to fix."""


def check_key(key: str) -> str:
    """A configured key, refused when it is a published one or too short to resist guessing."""
    if key in KNOWN_KEYS:
        raise SecretKeyError("NQ71_SECRET_KEY là khóa mẫu công khai trong mã nguồn / is a published sample key: "
                        "unset it (a random key is generated) or set a long random value.")
    if len(key) < MIN_KEY_LENGTH:
        raise SecretKeyError(f"NQ71_SECRET_KEY quá ngắn / too short: use at least {MIN_KEY_LENGTH} random characters.")
    return key


def _write_new(path: Path) -> None:
    """Create the key file with mode 0600 in one step; a worker that loses the race keeps the winner's key."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails if another process made the file first
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def stored_key(data_dir: Path) -> str:
    """The key kept in data_dir/secret.key, made (random, 0600) on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    if not path.exists():
        _write_new(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # someone loosened it: a readable key is a forgeable session
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise SecretKeyError(f"{path}: khóa hỏng hoặc rỗng / key file is damaged: delete it to make a new one.")
    return key


def session_key(configured: str, data_dir: Path) -> str:
    """The configured key if set (checked), else the data directory's own key."""
    return check_key(configured) if configured else stored_key(data_dir)
