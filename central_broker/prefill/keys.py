"""The prefill data key: 32 random bytes in `<data_dir>/web/prefill.key` (mode 0600), like the board secret."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from madoguchi.config.central import CentralConfig
from madoguchi.errors import ConfigError

__all__ = ["load_prefill_key", "prefill_key_file"]

_logger = logging.getLogger(__name__)

KEY_BYTES = 32


def prefill_key_file(config: CentralConfig) -> Path:
    """Where the key lives: `<data_dir>/web/prefill.key` (created at first use)."""
    return config.central.data_dir / "web" / "prefill.key"


def load_prefill_key(path: Path) -> bytes:
    """The AES-256 key in `path`, created (mode 0600) when missing.

    Raises:
        ConfigError: the file exists but does not hold 32 bytes.
    """
    if path.exists():
        data = path.read_bytes()
        if len(data) != KEY_BYTES:
            raise ConfigError(
                f"the prefill key {path} holds {len(data)} bytes, not {KEY_BYTES}",
                "delete it (prefilled data not yet shown is lost) and restart the central",
            )
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    _logger.info("new prefill data key in %s", path)
    return data
