#!/bin/bash
# Bind the data partition's journal folder over /var/log/journal and move the RAM journal there
# (journald Storage=auto writes to disk once the folder exists and a flush is asked for).
set -euo pipefail

DATA_DIR="${KIOSK_DATA_DIR:-/data}"
JOURNAL_DIR="${KIOSK_JOURNAL_DIR:-/var/log/journal}"

install -d -m 2755 -g systemd-journal "${DATA_DIR}/journal"
install -d -m 2755 -g systemd-journal "${JOURNAL_DIR}"
if ! mountpoint -q "${JOURNAL_DIR}"; then
	mount --bind "${DATA_DIR}/journal" "${JOURNAL_DIR}"
fi
journalctl --flush
echo "kiosk-journal: journal kept in ${DATA_DIR}/journal (capped, see journald.conf.d/10-kiosk-journal.conf)"
