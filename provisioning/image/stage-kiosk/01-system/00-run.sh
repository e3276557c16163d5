#!/bin/bash -e
# Host side: install units, drop-ins, scripts and rules into ${ROOTFS_DIR}; kernel command line;
# NTP servers; udev names; host firewall and sshd drop-in; a build-time clock seed so a Pi without RTC
# never boots before this date.
# shellcheck disable=SC2154  # ROOTFS_DIR and KIOSK_* come from pi-gen and ../../config

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
files="${here}/files"
root="${ROOTFS_DIR:?ROOTFS_DIR is not set (run from pi-gen or the dry run)}"

for unit in "${files}"/units/*; do
	install -D -m 0644 "${unit}" "${root}/etc/systemd/system/${unit##*/}"
done
for script in "${files}"/bin/*.sh; do
	install -D -m 0755 "${script}" "${root}/usr/lib/madoguchi/${script##*/}"
done
install -D -m 0644 "${files}/conf/10-kiosk-watchdog.conf" "${root}/etc/systemd/system.conf.d/10-kiosk-watchdog.conf"
install -D -m 0644 "${files}/conf/10-kiosk-journal.conf" "${root}/etc/systemd/journald.conf.d/10-kiosk-journal.conf"
install -D -m 0644 "${files}/conf/10-kiosk-time-wait.conf" \
	"${root}/etc/systemd/system/systemd-time-wait-sync.service.d/10-kiosk-time-wait.conf"
install -D -m 0644 "${files}/conf/kiosk-blacklist-usblp.conf" "${root}/etc/modprobe.d/kiosk-blacklist-usblp.conf"
install -D -m 0644 "${files}/conf/60-kiosk-pcscd.rules" "${root}/etc/polkit-1/rules.d/60-kiosk-pcscd.rules"
install -D -m 0644 "${files}/conf/61-kiosk-reboot.rules" "${root}/etc/polkit-1/rules.d/61-kiosk-reboot.rules"
install -D -m 0644 "${files}/conf/62-kiosk-update.rules" "${root}/etc/polkit-1/rules.d/62-kiosk-update.rules"

# Where a kiosk without enrol.json pairs (kiosk-pair.service reads KIOSK_ENROL_URL from here).
install -d -m 0755 "${root}/etc/madoguchi"
printf 'KIOSK_ENROL_URL=%s\n' "${KIOSK_ENROL_URL:-}" >"${root}/etc/madoguchi/kiosk.env"
chmod 0644 "${root}/etc/madoguchi/kiosk.env"

# Stable device names: /dev/kiosk/{payment,printer,scanner}.
install -d -m 0755 "${root}/etc/udev/rules.d"
"${here}/../../scripts/kiosk-udev-rules.sh" >"${root}/etc/udev/rules.d/70-kiosk-devices.rules"
chmod 0644 "${root}/etc/udev/rules.d/70-kiosk-devices.rules"

# Host firewall (nftables.service, enabled in 02-run-chroot.sh) and the sshd drop-in: SSH for the
# maintenance account only, with keys only, from KIOSK_SSH_FROM. A malformed KIOSK_SSH_FROM stops the build.
"${here}/../../scripts/kiosk-ssh-access.sh" nftables >"${root}/etc/nftables.conf"
chmod 0755 "${root}/etc/nftables.conf"
install -d -m 0755 "${root}/etc/ssh/sshd_config.d"
"${here}/../../scripts/kiosk-ssh-access.sh" sshd >"${root}/etc/ssh/sshd_config.d/10-kiosk.conf"
chmod 0644 "${root}/etc/ssh/sshd_config.d/10-kiosk.conf"

# Time before TLS: municipal NTP servers; time-sync.target waits for the first sync (enabled in chroot).
install -d -m 0755 "${root}/etc/systemd/timesyncd.conf.d"
cat >"${root}/etc/systemd/timesyncd.conf.d/10-kiosk-ntp.conf" <<CONF
# Written by the Madoguchi image build (KIOSK_NTP_SERVERS).
[Time]
NTP=${KIOSK_NTP_SERVERS:-ntp.nict.jp}
FallbackNTP=${KIOSK_FALLBACK_NTP:-}
CONF
chmod 0644 "${root}/etc/systemd/timesyncd.conf.d/10-kiosk-ntp.conf"
install -d -m 0755 "${root}/var/lib/systemd/timesync"
touch -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" "${root}/var/lib/systemd/timesync/clock"
# The clock file survives reboots on /data once the root is a RAM overlay.
install -D -m 0644 "${files}/conf/10-kiosk-clock.conf" "${root}/etc/systemd/system/systemd-timesyncd.service.d/10-kiosk-clock.conf"
install -D -m 0644 "${files}/conf/kiosk-timesync.tmpfiles" "${root}/etc/tmpfiles.d/kiosk-timesync.conf"

# Console blanking off; no first-boot growth of root (kiosk-data.service sizes root and /data).
cmdline="${root}/boot/firmware/cmdline.txt"
if [[ -f "${cmdline}" ]]; then
	line="$(head -n 1 "${cmdline}")"
	line="$(sed -E 's/(^| )resize( |$)/\1/; s/(^| )consoleblank=[0-9]+//' <<<"${line}")"
	printf '%s consoleblank=0\n' "${line% }" >"${cmdline}"
fi
