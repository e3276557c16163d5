#!/bin/bash
# First boot (kiosk-data.service): keep the root partition at a fixed size and turn the rest of the
# card into an ext4 partition labelled kdata, mounted on /data by data.mount. Idempotent.
set -euo pipefail

LABEL="kdata"
ROOT_SIZE_MIB="${KIOSK_ROOT_SIZE_MIB:-8192}"
BLKID="${BLKID:-blkid}"
FINDMNT="${FINDMNT:-findmnt}"
LSBLK="${LSBLK:-lsblk}"
SFDISK="${SFDISK:-sfdisk}"
PARTX="${PARTX:-partx}"
RESIZE2FS="${RESIZE2FS:-resize2fs}"
MKFS="${MKFS:-mkfs.ext4}"
UDEVADM="${UDEVADM:-udevadm}"

if "${BLKID}" -L "${LABEL}" >/dev/null 2>&1; then
	echo "kiosk-data: partition ${LABEL} exists"
	exit 0
fi
root_part=$("${FINDMNT}" -n -o SOURCE /)
disk="/dev/$("${LSBLK}" -n -o PKNAME "${root_part}")"
root_number="${root_part##*[!0-9]}"
if [[ "${root_number}" != "2" ]]; then
	echo "kiosk-data: expected the root on partition 2 of ${disk}, found ${root_part}" >&2
	exit 1
fi
# Grow (or keep) the root partition to ROOT_SIZE_MIB, then append one partition with the rest.
echo ",${ROOT_SIZE_MIB}MiB" | "${SFDISK}" --no-reread --no-tell-kernel -N 2 "${disk}"
echo "," | "${SFDISK}" --no-reread --no-tell-kernel --append "${disk}"
# partx uses BLKPG, which also works while the root partition is mounted (partprobe would fail).
"${PARTX}" --update "${disk}"
"${RESIZE2FS}" "${root_part}"
case "${disk}" in
*[0-9]) data_part="${disk}p3" ;;
*) data_part="${disk}3" ;;
esac
"${MKFS}" -q -F -L "${LABEL}" "${data_part}"
"${UDEVADM}" settle
echo "kiosk-data: created ${data_part} (${LABEL})"
