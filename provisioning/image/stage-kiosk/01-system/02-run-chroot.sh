#!/bin/bash -e
# In the image (chroot): what a read-only-root kiosk must not run, the host firewall, CUPS privacy.
# pi-gen feeds this file to bash inside ${ROOTFS_DIR}.

# Updates come as new images and signed app releases; under the RAM overlay apt's daily runs would only
# fill memory and call the archives. No mDNS (avahi) and no Bluetooth on a kiosk.
systemctl mask apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
	avahi-daemon.service avahi-daemon.socket bluetooth.service

# Raspberry Pi Connect (pi-gen's stage2 installs rpi-connect-lite): a remote shell through Raspberry Pi's
# servers once someone signs in. Not a maintenance path of ours: removed. dpkg refuses (and the build
# stops) if another package depends on it.
if [[ "$(dpkg-query -W -f='${Status}' rpi-connect-lite 2>/dev/null || true)" == "install ok installed" ]]; then
	dpkg --purge rpi-connect-lite
fi

# /etc/nftables.conf is written by 00-run.sh (KIOSK_SSH_FROM); loaded before the network.
systemctl enable nftables.service

# Printed certificates do not stay in the CUPS spool (cups is in 00-packages).
if [[ -f /etc/cups/cupsd.conf ]]; then
	/usr/lib/madoguchi/kiosk-cups-privacy.sh /etc/cups/cupsd.conf
fi
